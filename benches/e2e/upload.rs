//! The upload row: a blob pushed by `Client::push_blob` (its size known,
//! its digest computed while sending; and, shown beside it, given as curl's
//! URL has it) beside `curl -T` of the same file to an upload URL the same
//! registry handed out (one `PUT ?digest=`), in turn, a new file per run
//! (the registry keeps every blob it got).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use registry_client::{Client, UploadOptions};
use serde_json::json;

use crate::support::{noise, sha256_digest, Registry};
use crate::{Row, Samples, Sizes};

pub(crate) fn upload_vs_curl(sizes: &Sizes, reg: &Registry, work: &Path) -> Row {
    let client = Client::builder(&reg.url()).build().expect("client");
    let mib = sizes.blob_bytes as f64 / f64::from(1 << 20);
    let (mut ours, mut given, mut curl) =
        (Samples::default(), Samples::default(), Samples::default());
    for run in 0..sizes.runs {
        let data = noise(sizes.blob_bytes, run as u64 + 0xAB);
        let digest = sha256_digest(&data);
        let path = work.join(format!("upload-{run}"));
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(&data))
            .expect("write the blob file");
        drop(data);

        let repo = format!("bench/curl{run}");
        let url = reg.pusher(&[&repo]).upload_url(&repo, &digest);
        let t = Instant::now();
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--fail", "--max-time", "300"])
            .args([
                "-o",
                "/dev/null",
                "-H",
                "Content-Type: application/octet-stream",
                "-T",
            ])
            .arg(&path)
            .arg(&url)
            .output()
            .expect("curl");
        curl.push(mib / t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "curl -T: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let file = fs::File::open(&path).expect("open the blob file");
        let options = UploadOptions::new().size(sizes.blob_bytes as u64);
        let t = Instant::now();
        let pushed = client
            .push_blob(&format!("bench/ours{run}"), file, &options)
            .expect("push_blob");
        ours.push(mib / t.elapsed().as_secs_f64());
        assert_eq!(pushed.digest.as_str(), digest);

        let file = fs::File::open(&path).expect("open the blob file");
        let options = options.digest(digest.as_str()).expect("a digest");
        let t = Instant::now();
        let pushed = client
            .push_blob(&format!("bench/given{run}"), file, &options)
            .expect("push_blob");
        given.push(mib / t.elapsed().as_secs_f64());
        assert_eq!(pushed.digest.as_str(), digest);
        fs::remove_file(&path).expect("remove the blob file");
    }
    Row::at_least(
        &format!("{} MiB blob upload (throughput)", sizes.blob_bytes >> 20),
        format!(
            "push_blob, digest computed while sending: {}; digest given: {}",
            ours.show("MiB/s"),
            given.show("MiB/s")
        ),
        format!(
            "curl -T to an upload URL, digest given: {}",
            curl.show("MiB/s")
        ),
        ours.median() / curl.median(),
        0.9,
        json!({"ours_mib_s": ours.json(), "given_mib_s": given.json(), "curl_mib_s": curl.json()}),
    )
}
