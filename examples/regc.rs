//! `regc`: a small command-line client built on registry-client.
//!
//! ```text
//! regc [OPTIONS] COMMAND       (regc --help, regc COMMAND --help)
//! commands: ping | catalog | tags TARGET | manifest TARGET [REF] | digest TARGET [REF]
//!           | inspect TARGET [REF] [--platform P] | blob TARGET DIGEST [-o FILE]
//!           | pull TARGET DIR [--platform P | --all-platforms] [--jobs N]
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

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use registry_client::{
    Client, Error, ImageInfo, ImageReference, Platform, PullOptions, PullProgress, PullReport,
    DEFAULT_PULL_JOBS, MAX_PULL_JOBS,
};

/// The short text shown after a usage error (the full one is `--help`).
const USAGE: &str = "usage: regc [OPTIONS] COMMAND   (regc --help, regc COMMAND --help)
commands:
  ping                      check the registry speaks API v2
  catalog                   list repositories
  tags TARGET               list a repository's tags
  manifest TARGET [REF]     write the manifest's exact bytes to stdout
  digest TARGET [REF]       print the digest a reference resolves to
  inspect TARGET [REF] [--platform os/arch[/variant]]
                            describe an image
  blob TARGET DIGEST [-o FILE]
                            write a blob's exact bytes (verified)
  pull TARGET DIR [--platform P | --all-platforms] [--jobs N]
                            pull an image into an OCI image layout
TARGET: an image reference (127.0.0.1:5000/team/app:v1), or with --registry a repository
options: --registry URL --username U --password-stdin --insecure --plain-http --ca-cert FILE
  --json --page-size N --retries N --retry-delay-ms N --timeout SECS
number options: --timeout above 0 and at most 86400 (fractions allowed), \
--retries 0..=100, --retry-delay-ms 0..=3600000, --page-size 1..=10000, --jobs 1..=64
environment: REGC_REGISTRY, REGC_USERNAME, REGC_PASSWORD";

const AFTER_HELP: &str = "\
A TARGET is an image reference (127.0.0.1:5000/library/hello:v1, ghcr.io/org/app@sha256:…,
alpine), whose registry is used; with --registry or REGC_REGISTRY, a name whose first
component has no '.' or ':' and is not 'localhost' is a repository of that registry
(team/app, team/app:v1), and `REPO REF` works as two arguments.

Credentials: --username with --password-stdin, else REGC_USERNAME and REGC_PASSWORD, else
the logins made with docker, podman or skopeo (config.json, auth.json, credential helpers).

Exit status: 0 success, 1 error (`error: KIND: …` on stderr, a JSON object with --json),
2 bad usage.";

/// Largest `--timeout`, in seconds: a day.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Largest `--retries`.
const MAX_RETRIES: u64 = 100;
/// Largest `--retry-delay-ms`: an hour (the delay doubles on each retry,
/// and a larger one would look like a hang).
const MAX_RETRY_DELAY_MS: u64 = 3_600_000;
/// Largest `--page-size`.
const MAX_PAGE_SIZE: u64 = 10_000;

/// A client for the Docker Registry HTTP API v2 / OCI Distribution.
#[derive(Parser)]
#[command(name = "regc", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes, before or after its name. Numbers are
/// taken as text and checked by [`integer`] and [`seconds`], so that the
/// message names the option and its limits.
#[derive(Args)]
struct Global {
    /// The registry (host[:port] or URL) for repository names and the old REPO REF form [env: REGC_REGISTRY]
    #[arg(long, global = true, value_name = "URL")]
    registry: Option<String>,
    /// User name (the password comes from --password-stdin or REGC_PASSWORD)
    #[arg(long, global = true, value_name = "U")]
    username: Option<String>,
    /// Read the password from the first line of stdin
    #[arg(long, global = true)]
    password_stdin: bool,
    /// Do not verify TLS certificates
    #[arg(long, global = true)]
    insecure: bool,
    /// Use http, not https, for any registry (loopback registries need no option)
    #[arg(long, global = true)]
    plain_http: bool,
    /// Trust this CA certificate (PEM) as well
    #[arg(long, global = true, value_name = "FILE")]
    ca_cert: Option<String>,
    /// Print JSON (errors too, on stderr)
    #[arg(long, global = true)]
    json: bool,
    /// Items per page for catalog and tags: 1..=10000
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    page_size: Option<String>,
    /// Retries of a failed request: 0..=100
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    retries: Option<String>,
    /// First delay between retries, in milliseconds: 0..=3600000
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    retry_delay_ms: Option<String>,
    /// Timeout of one request, in seconds: above 0, at most 86400
    #[arg(long, global = true, value_name = "SECS", allow_hyphen_values = true)]
    timeout: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Check the registry speaks API v2
    Ping,
    /// List the registry's repositories
    Catalog,
    /// List a repository's tags
    Tags {
        /// A reference (its tag is ignored), or with --registry a repository
        target: String,
    },
    /// Write a manifest's exact bytes to stdout
    Manifest {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// A tag or digest, when TARGET is a repository (the old REPO REF form)
        reference: Option<String>,
    },
    /// Print the digest a reference resolves to
    Digest {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// A tag or digest, when TARGET is a repository (the old REPO REF form)
        reference: Option<String>,
    },
    /// Describe an image (for an index: one platform's image)
    Inspect {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// A tag or digest, when TARGET is a repository (the old REPO REF form)
        reference: Option<String>,
        /// The platform to pick from an index (default: linux and this machine's architecture)
        #[arg(long, value_name = "os/arch[/variant]")]
        platform: Option<String>,
    },
    /// Write a blob's exact bytes, verified against its digest
    Blob {
        /// The repository, as a reference (its tag is ignored) or with --registry a name
        target: String,
        /// The blob's digest (sha256:…)
        digest: String,
        /// Write to FILE (made only once the digest is right) instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Pull an image into an OCI image layout directory
    Pull {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// The layout directory (made when missing; other images in it are kept)
        dir: PathBuf,
        /// The platform to pull from an index (default: this machine's)
        #[arg(
            long,
            value_name = "os/arch[/variant]",
            conflicts_with = "all_platforms"
        )]
        platform: Option<String>,
        /// Pull every platform of an index, and the index
        #[arg(long)]
        all_platforms: bool,
        /// Blobs fetched at once: 1..=64 (default 4)
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        jobs: Option<String>,
    },
}

/// A whole number in `min..=max` for `flag`. Read as `u64` (so `-1`, `1e3`,
/// `0x10` and anything past `u64::MAX` are refused), range-checked, then
/// converted to the option's type with a checked conversion.
fn integer<T: TryFrom<u64>>(v: &str, flag: &str, min: u64, max: u64) -> Result<T, String> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("{flag}: {v:?} is not a whole number from {min} to {max}"))
}

/// A duration in seconds for `flag`, above 0 and at most `max`. The checked
/// conversion refuses negatives, NaN and infinities (and anything too big for
/// a `Duration`), which `Duration::from_secs_f64` would panic on.
fn seconds(v: &str, flag: &str, max: f64) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s <= max)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!("{flag}: {v:?} is not a number of seconds above 0 and at most {max}")
        })
}

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
            let (repository, reference) = match reference {
                Some(r) => (target, r),
                None => split_reference(target),
            };
            return Ok(Target {
                client: self.client(None)?,
                repository: repository.to_string(),
                reference: reference.to_string(),
            });
        }
        let image = ImageReference::parse(target)?;
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

/// How [`escape_controls`] writes a control character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// For text lines: `\n`, `\r`, `\t`, else `\u{1b}` (`char::escape_default`).
    Text,
    /// For serialized JSON, where serde_json has escaped C0 inside strings
    /// but left DEL and C1 raw; `\n` stays, as only pretty-printing puts a
    /// raw newline there. Others become `\u00XX`, so the JSON means the same.
    Json,
}

/// The one place where what regc prints for a human is made safe for a
/// terminal: every control character (C0 with newline and tab, DEL, C1) is
/// replaced with a visible escape, so a value from a registry (or the
/// command line) cannot move the cursor, set the title or start a new line
/// that looks like one of regc's own. Other text is left as it is.
fn escape_controls(s: &str, how: Escape) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c.is_control() && !(how == Escape::Json && c == '\n'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match (how, c) {
            (_, c) if !c.is_control() => out.push(c),
            (Escape::Json, '\n') => out.push('\n'),
            (Escape::Json, c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            (Escape::Text, c) => out.extend(c.escape_default()),
        }
    }
    Cow::Owned(out)
}

/// Writes one line of text for a human to stdout, escaped.
fn out_line(text: &str) -> std::io::Result<()> {
    writeln!(
        std::io::stdout().lock(),
        "{}",
        escape_controls(text, Escape::Text)
    )
}

/// Writes one line of text for a human to stderr, escaped. A failure to
/// write there cannot be reported anywhere, so it is ignored.
fn err_line(text: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        escape_controls(text, Escape::Text)
    );
}

/// A failure to write the result (a closed pipe, a full disk).
fn output_error(e: std::io::Error) -> Fail {
    Fail::Lib(local_io("cannot write to stdout", e))
}

fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    writeln!(
        std::io::stdout().lock(),
        "{}",
        escape_controls(&json, Escape::Json)
    )
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

fn print_pull(r: &PullReport, dir: &Path, json: bool) -> std::io::Result<()> {
    if json {
        return print_json(&serde_json::json!({
            "layout": dir.display().to_string(),
            "digest": r.digest.to_string(),
            "media_type": r.media_type,
            "size": r.size,
            "ref_name": r.ref_name,
            "manifests": r.manifests.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "blobs_fetched": r.blobs_fetched,
            "blobs_present": r.blobs_present,
            "bytes_downloaded": r.bytes_downloaded,
            "resumes": r.resumes,
        }));
    }
    out_line(&format!(
        "{}:{} {} ({} blobs fetched, {} already there, {} bytes downloaded)",
        dir.display(),
        r.ref_name,
        r.digest,
        r.blobs_fetched,
        r.blobs_present,
        r.bytes_downloaded
    ))
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
struct Bar {
    last: Mutex<Option<Instant>>,
}

impl Bar {
    const WIDTH: u64 = 30;

    fn new() -> Bar {
        Bar {
            last: Mutex::new(None),
        }
    }

    fn update(&self, p: &PullProgress<'_>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let finished = p.done >= p.total;
        if !finished && last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        // u128: `done * WIDTH` cannot overflow; done <= total is documented,
        // and min() keeps a bar full even if it were not.
        let filled = if p.total == 0 {
            Bar::WIDTH
        } else {
            (u128::from(p.done) * u128::from(Bar::WIDTH) / u128::from(p.total))
                .min(u128::from(Bar::WIDTH)) as u64
        };
        let percent = if p.total == 0 {
            100
        } else {
            (u128::from(p.done) * 100 / u128::from(p.total)).min(100)
        };
        let bar: String = (0..Bar::WIDTH)
            .map(|i| if i < filled { '#' } else { ' ' })
            .collect();
        let _ = write!(
            std::io::stderr().lock(),
            "\r[{bar}] {percent:>3}% {} / {}",
            mib(p.done),
            mib(p.total)
        );
    }

    fn finish(&self) {
        if self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn print_list(items: &[String], json: bool) -> std::io::Result<()> {
    if json {
        return print_json(&serde_json::json!(items));
    }
    items.iter().try_for_each(|i| out_line(i))
}

fn print_inspect(i: &ImageInfo) -> std::io::Result<()> {
    let platform = match &i.variant {
        Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
        None => format!("{}/{}", i.os, i.architecture),
    };
    let mut lines = vec![
        format!("digest:       {}", i.digest),
        format!("media type:   {}", i.media_type),
        format!("platform:     {platform}"),
        format!("created:      {}", i.created.as_deref().unwrap_or("-")),
        format!("author:       {}", i.author.as_deref().unwrap_or("-")),
        format!("size:         {} bytes", i.size),
        format!("entrypoint:   {:?}", i.entrypoint),
        format!("cmd:          {:?}", i.cmd),
        format!("working dir:  {}", i.working_dir.as_deref().unwrap_or("-")),
        format!("user:         {}", i.user.as_deref().unwrap_or("-")),
    ];
    lines.extend(i.env.iter().map(|e| format!("env:          {e}")));
    lines.extend(
        i.labels
            .iter()
            .map(|(k, v)| format!("label:        {k}={v}")),
    );
    lines.extend(
        i.layers
            .iter()
            .map(|l| format!("layer:        {} {} {}", l.digest, l.size, l.media_type)),
    );
    lines.iter().try_for_each(|l| out_line(l))
}
