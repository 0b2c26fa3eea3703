//! `regc`: a small command-line client built on registry-client.
//!
//! ```text
//! regc [OPTIONS] COMMAND       (regc --help, regc COMMAND --help)
//! commands: ping | catalog | tags TARGET | manifest TARGET [REF] | digest TARGET [REF]
//!           | inspect TARGET [REF] [--platform P] | blob TARGET DIGEST [-o FILE]
//!           | pull TARGET DIR [--platform P | --all-platforms] [--jobs N]
//!           | push DIR TARGET [--ref-name NAME] [--jobs N]
//!           | copy SRC DST [--platform P | --all-platforms] [--jobs N]
//!           | tag TARGET NEWTAG | delete TARGET [--tag-only]
//!           | referrers TARGET [--artifact-type T] | blob-upload TARGET FILE
//! ```
//! A TARGET is an image reference (`127.0.0.1:5000/library/hello:v1`,
//! `ghcr.io/org/app@sha256:…`, `alpine`), whose registry is used; or, with
//! `--registry` / `REGC_REGISTRY`, a repository of that registry
//! (`team/app`, `team/app:v1`, or the old `REPO REF` form). A first
//! component with `.` or `:`, or `localhost`, names a registry, as in Docker.
//!
//! Credentials: `--username` with `--password-stdin`, else `REGC_USERNAME` /
//! `REGC_PASSWORD`, else the logins of docker, podman and skopeo (their
//! `config.json` / `auth.json` files and credential helpers).
//! Exit status: 0 success, 1 error (`error: <kind>: …` on stderr, or a JSON
//! object under `--json`), 2 bad usage.
//!
//! Everything shown to a human goes through `escape_controls`: names, tags,
//! image fields and registry error messages come from the network, and a raw
//! ESC or newline in them could drive the terminal or forge an `error:` line.
//! `manifest` and `blob` write the registry's bytes unchanged (they are for
//! pipes), and `--json` output is JSON with every control character escaped.

mod cli;
mod output;
mod write;

use std::io::{BufRead, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use registry_client::{
    Client, Error, ImageReference, Platform, PullOptions, DEFAULT_PULL_JOBS, MAX_PULL_JOBS,
};

use cli::{
    integer, seconds, Cli, Command, Global, MAX_PAGE_SIZE, MAX_RETRIES, MAX_RETRY_DELAY_MS,
    MAX_TIMEOUT_SECS, USAGE,
};
use output::{
    err_line, escape_controls, out_line, print_inspect, print_json, print_list, print_pull, Bar,
    Escape,
};

/// `f` of an option's text, when it was given; its error is a usage error.
fn opt<T>(v: &Option<String>, f: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, Fail> {
    v.as_deref().map(f).transpose().map_err(Fail::Usage)
}

/// A local I/O failure (a closed pipe, a full disk), as the crate's `Io` error.
fn local_io(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::from(std::io::Error::new(e.kind(), format!("{what}: {e}")))
}

/// The settings every client of this run is made with, checked.
struct Settings {
    registry: Option<String>,
    credentials: Option<(String, String)>,
    insecure: bool,
    plain_http: bool,
    ca_cert: Option<String>,
    page_size: Option<usize>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    timeout: Option<Duration>,
}

impl Settings {
    fn new(g: &Global) -> Result<Settings, Fail> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let page_size = opt(&g.page_size, |v| {
            integer(v, "--page-size", 1, MAX_PAGE_SIZE)
        })?;
        let retries = opt(&g.retries, |v| integer(v, "--retries", 0, MAX_RETRIES))?;
        let retry_delay = opt(&g.retry_delay_ms, |v| {
            integer(v, "--retry-delay-ms", 0, MAX_RETRY_DELAY_MS).map(Duration::from_millis)
        })?;
        let timeout = opt(&g.timeout, |v| seconds(v, "--timeout", MAX_TIMEOUT_SECS))?;
        let username = g.username.clone().or_else(|| env("REGC_USERNAME"));
        let password = if g.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Fail::Usage(format!("cannot read password from stdin: {e}")))?;
            Some(line.trim_end_matches(['\r', '\n']).to_string())
        } else {
            env("REGC_PASSWORD")
        };
        let credentials = match (username, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (Some(_), None) => {
                return Err(Fail::Usage(
                    "a username needs a password (--password-stdin or REGC_PASSWORD)".into(),
                ))
            }
            (None, Some(_)) => return Err(Fail::Usage("a password needs a username".into())),
            (None, None) => None,
        };
        Ok(Settings {
            registry: g
                .registry
                .clone()
                .or_else(|| env("REGC_REGISTRY"))
                .filter(|r| !r.is_empty()),
            credentials,
            insecure: g.insecure,
            plain_http: g.plain_http,
            ca_cert: g.ca_cert.clone(),
            page_size,
            retries,
            retry_delay,
            timeout,
        })
    }

    /// A client for `registry` (as named in references, or a URL), or for
    /// `--registry` when `None`. Credentials given to regc are used for it;
    /// without them, the logins of docker, podman and skopeo.
    fn client(&self, registry: Option<&str>) -> Result<Client, Fail> {
        let registry = registry.or(self.registry.as_deref()).ok_or_else(|| {
            Fail::Usage(
                "no registry: give a reference with one, or use --registry or REGC_REGISTRY".into(),
            )
        })?;
        let mut b = Client::builder(registry);
        b = match &self.credentials {
            Some((u, p)) => b.basic_auth(u, p),
            None => b.credentials_from_system(),
        };
        if self.insecure {
            b = b.verify_tls(false);
        }
        if self.plain_http {
            b = b.plain_http(true);
        }
        if let Some(ca) = &self.ca_cert {
            b = b.ca_certificate_file(ca);
        }
        if let Some(n) = self.page_size {
            b = b.page_size(n);
        }
        if let Some(n) = self.retries {
            b = b.max_retries(n);
        }
        if let Some(d) = self.retry_delay {
            b = b.retry_delay(d);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        Ok(b.build()?)
    }

    /// What a TARGET (and the old form's REF) names: a client, a
    /// repository and a tag or digest (`latest` when none is given).
    fn target(&self, target: &str, reference: Option<&str>) -> Result<Target, Fail> {
        let names_registry = target
            .split_once('/')
            .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost");
        if self.registry.is_some() && !names_registry {
            // A repository of --registry: `REPO REF`, `REPO:TAG`, `REPO@DIGEST`, `REPO`.
            let (repository, reference, explicit) = match reference {
                Some(r) => (target, r, true),
                None => {
                    let (repository, r) = split_reference(target);
                    (repository, r, repository.len() != target.len())
                }
            };
            return Ok(Target {
                client: self.client(None)?,
                repository: repository.to_string(),
                reference: reference.to_string(),
                explicit,
            });
        }
        let image = ImageReference::parse(target)?;
        let explicit = reference.is_some() || image.tag().is_some() || image.digest().is_some();
        let reference = match reference {
            Some(r) if image.tag().is_some() || image.digest().is_some() => {
                return Err(Fail::Usage(format!(
                    "{target} already has a tag or digest: give it alone, or a REF after a repository ({r})"
                )))
            }
            Some(r) => r.to_string(),
            None => image.reference().as_str().to_string(),
        };
        Ok(Target {
            client: self.client(Some(image.registry()))?,
            repository: image.repository().to_string(),
            reference,
            explicit,
        })
    }
}

/// `REPO@DIGEST`, `REPO:TAG` (a `:` after the last `/`) or `REPO` (tag
/// `latest`), as parts; the client checks each.
fn split_reference(s: &str) -> (&str, &str) {
    if let Some((repo, digest)) = s.split_once('@') {
        return (repo, digest);
    }
    match s.rfind(':') {
        Some(i) if s[i..].find('/').is_none() => (&s[..i], &s[i + 1..]),
        _ => (s, "latest"),
    }
}

struct Target {
    client: Client,
    repository: String,
    reference: String,
    /// Whether the tag or digest was given (else `reference` is `latest`).
    explicit: bool,
}

enum Fail {
    Usage(String),
    Lib(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Lib(e)
    }
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Known before parsing, so that a usage error is JSON as well.
    let json_hint = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => return clap_error(&e, json_hint),
    };
    let json = cli.global.json;
    let result = Settings::new(&cli.global).and_then(|s| run(&s, &cli.command, json));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(m)) => usage(&m, json),
        Err(Fail::Lib(e)) => report(&e, json),
    }
}

/// Help and version go to stdout (exit 0); anything else clap refuses is a
/// usage error, reported as the rest of regc's are.
fn clap_error(e: &clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // A closed pipe (`regc --help | head -1`) is not an error here.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        _ => {
            let msg = text.strip_prefix("error: ").unwrap_or(&text);
            // The first paragraph: clap adds its own usage and tips after it.
            let msg = msg.split("\n\n").next().unwrap_or(msg).trim_end();
            usage(msg, json)
        }
    }
}

fn usage(msg: &str, json: bool) -> ExitCode {
    if json {
        json_error("usage", msg);
        return ExitCode::from(2);
    }
    // `msg` can quote what was typed: escaped like everything else.
    if !msg.is_empty() {
        err_line(&format!("regc: {msg}"));
    }
    // Line by line: the text's own newlines are not a value's.
    USAGE.lines().for_each(err_line);
    ExitCode::from(2)
}

fn report(e: &Error, json: bool) -> ExitCode {
    if json {
        json_error(&e.kind().to_string(), &e.to_string());
    } else {
        err_line(&format!("error: {}: {e}", e.kind()));
    }
    ExitCode::from(1)
}

/// `{"error":{"kind":…,"message":…}}` on one line of stderr.
fn json_error(kind: &str, message: &str) {
    let v = serde_json::json!({ "error": { "kind": kind, "message": message } });
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        escape_controls(&v.to_string(), Escape::Json)
    );
}

/// A failure to write the result (a closed pipe, a full disk).
fn output_error(e: std::io::Error) -> Fail {
    Fail::Lib(local_io("cannot write to stdout", e))
}

fn run(s: &Settings, command: &Command, json: bool) -> Result<(), Fail> {
    match command {
        Command::Ping => {
            let client = s.client(None)?;
            let p = client.ping()?;
            if json {
                print_json(&serde_json::json!({
                    "registry": client.registry_url().as_str(),
                    "api_version": p.api_version,
                    "auth_required": p.auth_required,
                }))
            } else {
                out_line(&format!(
                    "{} OK ({}, auth required: {})",
                    client.registry_url(),
                    p.api_version.as_deref().unwrap_or("no version header"),
                    if p.auth_required { "yes" } else { "no" }
                ))
            }
            .map_err(output_error)?;
        }
        Command::Catalog => {
            let repos = s.client(None)?.list_repositories()?;
            print_list(&repos, json).map_err(output_error)?;
        }
        Command::Tags { target } => {
            let t = s.target(target, None)?;
            print_list(&t.client.list_tags(&t.repository)?, json).map_err(output_error)?;
        }
        Command::Manifest { target, reference } => {
            let t = s.target(target, reference.as_deref())?;
            // Exact bytes, for pipes (`| sha256sum`, `| jq`): not escaped.
            let m = t.client.get_manifest(&t.repository, t.reference.as_str())?;
            let mut out = std::io::stdout().lock();
            out.write_all(&m.body)
                .and_then(|_| out.flush())
                .map_err(output_error)?;
        }
        Command::Digest { target, reference } => {
            let t = s.target(target, reference.as_deref())?;
            let d = t
                .client
                .manifest_digest(&t.repository, t.reference.as_str())?;
            if json {
                print_json(&serde_json::json!({ "digest": d.to_string() }))
            } else {
                out_line(d.as_ref())
            }
            .map_err(output_error)?;
        }
        Command::Inspect {
            target,
            reference,
            platform,
        } => {
            let platform = platform.as_deref().map(Platform::parse).transpose()?;
            let t = s.target(target, reference.as_deref())?;
            let info =
                t.client
                    .image_info(&t.repository, t.reference.as_str(), platform.as_ref())?;
            if json {
                // The same shape as the C API's regc_image_info_json: the
                // library's own serialization of ImageInfo.
                let v = serde_json::to_value(&info).map_err(|e| {
                    local_io("cannot show image info as JSON", std::io::Error::other(e))
                })?;
                print_json(&v)
            } else {
                print_inspect(&info)
            }
            .map_err(output_error)?;
        }
        Command::Blob {
            target,
            digest,
            output,
        } => {
            let t = s.target(target, None)?;
            let reader = t.client.blob(&t.repository, digest.as_str())?;
            match output {
                None => {
                    // Streamed: a blob that turns out wrong has been written
                    // in part, and the exit status (1) says so.
                    let mut out = std::io::stdout().lock();
                    reader.copy_to(&mut out)?;
                    out.flush().map_err(output_error)?;
                }
                Some(path) => write_verified(reader, path)?,
            }
        }
        Command::Pull {
            target,
            dir,
            platform,
            all_platforms,
            jobs,
        } => {
            let jobs = match jobs {
                Some(j) => integer(j, "--jobs", 1, MAX_PULL_JOBS as u64).map_err(Fail::Usage)?,
                None => DEFAULT_PULL_JOBS,
            };
            let mut options = PullOptions::new().jobs(jobs);
            if let Some(p) = platform {
                options = options.platform(Platform::parse(p)?);
            }
            if *all_platforms {
                options = options.all_platforms();
            }
            let t = s.target(target, None)?;
            let bar = std::io::stderr()
                .is_terminal()
                .then(|| std::sync::Arc::new(Bar::new()));
            if let Some(bar) = &bar {
                let bar = bar.clone();
                options = options.progress(move |p| {
                    bar.update(p);
                    ControlFlow::Continue(())
                });
            }
            let result = t
                .client
                .pull(&t.repository, t.reference.as_str(), dir, &options);
            if let Some(bar) = &bar {
                bar.finish();
            }
            let report = result?;
            print_pull(&report, dir, json).map_err(output_error)?;
        }
        Command::Push {
            dir,
            target,
            ref_name,
            jobs,
        } => write::push(s, dir, target, ref_name.as_deref(), jobs, json)?,
        Command::Copy {
            source,
            destination,
            platform,
            all_platforms,
            jobs,
        } => write::copy(
            s,
            source,
            destination,
            platform.as_deref(),
            *all_platforms,
            jobs,
            json,
        )?,
        Command::Tag { target, new_tag } => write::tag(s, target, new_tag, json)?,
        Command::Delete { target, tag_only } => write::delete(s, target, *tag_only, json)?,
        Command::Referrers {
            target,
            artifact_type,
        } => write::referrers(s, target, artifact_type.as_deref(), json)?,
        Command::BlobUpload { target, file } => write::blob_upload(s, target, file, json)?,
    }
    Ok(())
}

/// Streams a blob into a temporary file next to `path` and gives it that
/// name only once the digest is right: a wrong blob leaves no file.
fn write_verified(reader: registry_client::BlobReader, path: &Path) -> Result<(), Fail> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let shown = path.display();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| local_io(format!("cannot create a file in {}", dir.display()), e))?;
    reader.copy_to(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| local_io(format!("cannot write {shown}"), e))?;
    tmp.persist(path)
        .map_err(|e| local_io(format!("cannot write {shown}"), e.error))?;
    Ok(())
}
