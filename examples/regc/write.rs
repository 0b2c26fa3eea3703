//! regc's commands that write to a registry: `push`, `copy`, `tag`,
//! `delete` and `blob-upload`, and `referrers` (which lists what pushes of
//! referrers wrote). What they print for a human goes through `out_line`
//! (escaped), and `--json` gives one flat object, as the other commands.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use registry_client::{
    BlobSource, Client, CopyOptions, CopyReport, Digest, Platform, Reference, UploadOptions,
    DEFAULT_PULL_JOBS, MAX_PULL_JOBS,
};

use crate::cli::integer;
use crate::output::{out_line, print_json, Bar};
use crate::{local_io, output_error, Fail, Settings, Target};

/// `--jobs`, checked, or the default.
fn jobs(jobs: &Option<String>) -> Result<usize, Fail> {
    match jobs {
        Some(j) => integer(j, "--jobs", 1, MAX_PULL_JOBS as u64).map_err(Fail::Usage),
        None => Ok(DEFAULT_PULL_JOBS),
    }
}

/// A progress bar on stderr when it is a terminal, as for pull.
fn terminal_bar() -> Option<Arc<Bar>> {
    std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(Bar::new()))
}

/// `options` drawing on `bar`, when there is one.
fn with_bar(options: CopyOptions, bar: &Option<Arc<Bar>>) -> CopyOptions {
    match bar {
        Some(bar) => {
            let bar = bar.clone();
            options.progress(move |p| {
                bar.update(p);
                ControlFlow::Continue(())
            })
        }
        None => options,
    }
}

fn finish(bar: &Option<Arc<Bar>>) {
    if let Some(bar) = bar {
        bar.finish();
    }
}

/// `host[:port]/repository:tag` (or `@digest`): where an image is.
fn image_name(client: &Client, repository: &str, reference: &str) -> String {
    let url = client.registry_url();
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => url.as_str().to_string(),
    };
    let sep = if reference.contains(':') { '@' } else { ':' };
    format!("{host}/{repository}{sep}{reference}")
}

fn print_copy(
    r: &CopyReport,
    source: Option<&str>,
    to: &Target,
    json: bool,
) -> std::io::Result<()> {
    let reference = r.reference.to_string();
    let destination = image_name(&to.client, &to.repository, &reference);
    if json {
        return print_json(&serde_json::json!({
            "source": source,
            "destination": destination,
            "registry": to.client.registry_url().as_str(),
            "repository": to.repository,
            "reference": reference,
            "digest": r.digest.to_string(),
            "media_type": r.media_type,
            "manifests": r.manifests.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "blobs_uploaded": r.blobs_uploaded,
            "blobs_mounted": r.blobs_mounted,
            "blobs_existing": r.blobs_existing,
            "bytes_uploaded": r.bytes_uploaded,
        }));
    }
    out_line(&format!(
        "{destination} {} ({} blobs uploaded, {} mounted, {} already there, {} bytes uploaded)",
        r.digest, r.blobs_uploaded, r.blobs_mounted, r.blobs_existing, r.bytes_uploaded
    ))
}

/// `regc push DIR TARGET`: the layout's image (the one named `ref_name`,
/// or its only one) to TARGET; without a tag in TARGET, under `ref_name`,
/// else `latest`.
pub(crate) fn push(
    s: &Settings,
    dir: &Path,
    target: &str,
    ref_name: Option<&str>,
    jobs_arg: &Option<String>,
    json: bool,
) -> Result<(), Fail> {
    let jobs = jobs(jobs_arg)?;
    let mut t = s.target(target, None)?;
    if let (false, Some(name)) = (t.explicit, ref_name) {
        t.reference = name.to_string();
    }
    let bar = terminal_bar();
    let options = with_bar(CopyOptions::new().jobs(jobs), &bar);
    let result = t
        .client
        .push_layout(dir, ref_name, &t.repository, t.reference.as_str(), &options);
    finish(&bar);
    let report = result?;
    print_copy(&report, Some(&dir.display().to_string()), &t, json).map_err(output_error)
}

/// `regc copy SRC DST`: DST's tag, or the source's when DST has none.
pub(crate) fn copy(
    s: &Settings,
    source: &str,
    destination: &str,
    platform: Option<&str>,
    all_platforms: bool,
    jobs_arg: &Option<String>,
    json: bool,
) -> Result<(), Fail> {
    let jobs = jobs(jobs_arg)?;
    let mut options = CopyOptions::new().jobs(jobs);
    if let Some(p) = platform {
        options = options.platform(Platform::parse(p)?);
    }
    if all_platforms {
        options = options.all_platforms();
    }
    let from = s.target(source, None)?;
    let to = s.target(destination, None)?;
    if to.explicit {
        match Reference::parse(&to.reference)? {
            Reference::Tag(tag) => options = options.tag(&tag)?,
            Reference::Digest(_) => {
                return Err(Fail::Usage(format!(
                    "copy: the destination {destination} names a digest: give a repository, \
                     with a tag or without (then the source's tag)"
                )))
            }
        }
    }
    // One registry: one client for both sides (one login, one token
    // cache), so that the library sees one registry and mounts the blobs
    // across repositories. Compared before either is used: a loopback
    // registry named without a scheme is https until a request finds out.
    let same = from.client.registry_url() == to.client.registry_url();
    let destination_client = if same { &from.client } else { &to.client };
    let bar = terminal_bar();
    let options = with_bar(options, &bar);
    let result = from.client.copy(
        &from.repository,
        from.reference.as_str(),
        destination_client,
        &to.repository,
        &options,
    );
    finish(&bar);
    let report = result?;
    let source = image_name(&from.client, &from.repository, &from.reference);
    print_copy(&report, Some(&source), &to, json).map_err(output_error)
}

/// `regc tag TARGET NEWTAG`.
pub(crate) fn tag(s: &Settings, target: &str, new_tag: &str, json: bool) -> Result<(), Fail> {
    let t = s.target(target, None)?;
    let digest = t.client.tag(&t.repository, t.reference.as_str(), new_tag)?;
    if json {
        print_json(&serde_json::json!({
            "repository": t.repository,
            "tag": new_tag,
            "digest": digest.to_string(),
        }))
    } else {
        out_line(&format!(
            "{} {digest}",
            image_name(&t.client, &t.repository, new_tag)
        ))
    }
    .map_err(output_error)
}

/// `regc delete TARGET [--tag-only]`.
pub(crate) fn delete(s: &Settings, target: &str, tag_only: bool, json: bool) -> Result<(), Fail> {
    let t = s.target(target, None)?;
    if tag_only {
        if !t.explicit || Reference::parse(&t.reference)?.is_digest() {
            return Err(Fail::Usage(format!(
                "delete --tag-only: {target} names no tag"
            )));
        }
        t.client.delete_tag(&t.repository, &t.reference)?;
        return if json {
            print_json(&serde_json::json!({
                "repository": t.repository,
                "tag": t.reference,
            }))
        } else {
            out_line(&format!(
                "deleted tag {}",
                image_name(&t.client, &t.repository, &t.reference)
            ))
        }
        .map_err(output_error);
    }
    if !t.explicit {
        // `latest` by default would be a surprise for a delete.
        return Err(Fail::Usage(format!(
            "delete: {target} names no tag or digest"
        )));
    }
    let digest = t
        .client
        .delete_manifest(&t.repository, t.reference.as_str())?;
    if json {
        print_json(&serde_json::json!({
            "repository": t.repository,
            "digest": digest.to_string(),
        }))
    } else {
        out_line(&format!(
            "deleted {}",
            image_name(&t.client, &t.repository, digest.as_ref())
        ))
    }
    .map_err(output_error)
}

/// `regc referrers TARGET [--artifact-type T]`: one line per referrer,
/// `DIGEST ARTIFACT_TYPE SIZE`.
pub(crate) fn referrers(
    s: &Settings,
    target: &str,
    artifact_type: Option<&str>,
    json: bool,
) -> Result<(), Fail> {
    let t = s.target(target, None)?;
    let subject = match Reference::parse(&t.reference)? {
        Reference::Digest(d) => d,
        tag => t.client.manifest_digest(&t.repository, &tag)?,
    };
    let found = t.client.referrers(&t.repository, &subject, artifact_type)?;
    if json {
        let referrers: Vec<_> = found
            .descriptors
            .iter()
            .map(|d| {
                serde_json::json!({
                    "digest": d.digest.to_string(),
                    "media_type": d.media_type,
                    "artifact_type": d.artifact_type,
                    "size": d.size,
                    "annotations": d.annotations,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "subject": subject.to_string(),
            "from_tag_schema": found.from_tag_schema,
            "referrers": referrers,
        }))
        .map_err(output_error);
    }
    found
        .descriptors
        .iter()
        .try_for_each(|d| {
            let kind = d.artifact_type.as_deref().unwrap_or(&d.media_type);
            let kind = if kind.is_empty() { "-" } else { kind };
            out_line(&format!("{} {kind} {}", d.digest, d.size))
        })
        .map_err(output_error)
}

/// `regc blob-upload TARGET FILE`: the file streamed into an upload (its
/// digest computed on the way), or stdin for `-`.
pub(crate) fn blob_upload(s: &Settings, target: &str, file: &Path, json: bool) -> Result<(), Fail> {
    let t = s.target(target, None)?;
    let shown = file.display();
    let (source, size): (Box<dyn Read>, Option<u64>) = if file == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = File::open(file).map_err(|e| local_io(format!("cannot open {shown}"), e))?;
        let meta = f
            .metadata()
            .map_err(|e| local_io(format!("cannot read {shown}"), e))?;
        if meta.is_dir() {
            return Err(Fail::Usage(format!("blob-upload: {shown} is a directory")));
        }
        // A regular file's size is checked against what is read: a file
        // that changes while it is sent is an error, not a wrong blob.
        let size = meta.is_file().then_some(meta.len());
        (Box::new(f), size)
    };
    let mut options = UploadOptions::new();
    if let Some(n) = size {
        options = options.size(n);
    }
    // Without a size there is no whole to show a part of.
    let bar = size.and(terminal_bar());
    if let (Some(bar), Some(total)) = (&bar, size) {
        let bar = bar.clone();
        options = options.progress(move |sent| bar.draw(sent, total));
    }
    let result = t.client.push_blob(&t.repository, source, &options);
    finish(&bar);
    let pushed = result?;
    print_blob(&pushed.digest, pushed.size, pushed.source, json).map_err(output_error)
}

fn print_blob(digest: &Digest, size: u64, source: BlobSource, json: bool) -> std::io::Result<()> {
    if json {
        // `uploaded`, `existed` or `mounted`.
        let source = format!("{source:?}").to_lowercase();
        return print_json(&serde_json::json!({
            "digest": digest.to_string(),
            "size": size,
            "source": source,
        }));
    }
    out_line(digest.as_ref())
}
