//! The upload row: a blob pushed by `Client::push_blob` (its size known,
//! its digest computed while sending) beside `curl -T` of the same file to
//! an upload URL the same registry handed out (one `PUT ?digest=`), in
//! turn, a new file per run (the registry keeps every blob it got).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use registry_client::{Client, UploadOptions};
use serde_json::json;

use crate::support::{sha256_digest, Registry};
use crate::{noise, Row, Samples, Sizes};

pub(crate) fn upload_vs_curl(sizes: &Sizes, reg: &Registry, work: &Path) -> Row {
    let client = Client::builder(&reg.url()).build().expect("client");
    let mib = sizes.blob_bytes as f64 / f64::from(1 << 20);
    let (mut ours, mut curl) = (Samples::default(), Samples::default());
    for run in 0..sizes.runs {
        let data = noise(sizes.blob_bytes, 0x0_u64.wrapping_add(run as u64 + 0xAB));
        let digest = sha256_digest(&data);
        let path = work.join(format!("upload-{run}"));
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(&data))
            .expect("write the blob file");
        drop(data);

        let repo = format!("bench/curl{run}");
        let resp = crate::support::http::send(
            reg.agent(),
            "POST",
            &format!("{}/v2/{repo}/blobs/uploads/", reg.url()),
            &[],
            b"",
        );
        let location = resp.header("location").expect("Location").to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", reg.url())
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
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
            .arg(format!("{location}{sep}digest={digest}"))
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
        fs::remove_file(&path).expect("remove the blob file");
    }
    Row::at_least(
        &format!("{} MiB blob upload (throughput)", sizes.blob_bytes >> 20),
        format!(
            "push_blob, digest computed while sending: {}",
            ours.show("MiB/s")
        ),
        format!(
            "curl -T to an upload URL, digest given: {}",
            curl.show("MiB/s")
        ),
        ours.median() / curl.median(),
        0.9,
        json!({"ours_mib_s": ours.json(), "curl_mib_s": curl.json()}),
    )
}
