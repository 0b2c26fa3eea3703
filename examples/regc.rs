//! `regc`: a small command-line client built on registry-client.
//!
//! ```text
//! regc [--registry URL] [--username U] [--password-stdin] [--insecure] [--ca-cert FILE]
//!      [--json] [--page-size N] [--retries N] [--retry-delay-ms N] [--timeout SECS] COMMAND
//! commands: ping | catalog | tags REPO | manifest REPO REF | digest REPO REF
//!           | inspect REPO REF [--platform os/arch[/variant]]
//! ```
//! Environment: `REGC_REGISTRY`, `REGC_USERNAME`, `REGC_PASSWORD`.
//! Exit status: 0 success, 1 error (`error: <kind>: …` on stderr), 2 bad usage.
//!
//! Everything shown to a human goes through `escape_controls`: names, tags,
//! image fields and registry error messages come from the network, and a raw
//! ESC or newline in them could drive the terminal or forge an `error:` line.
//! `manifest` writes the registry's bytes unchanged (it is for pipes), and
//! `--json` output is JSON with every control character escaped.

use std::borrow::Cow;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use registry_client::{Client, Error, ImageInfo, Platform};

const USAGE: &str = "usage: regc [--registry URL] [--username U] [--password-stdin] [--insecure] \
[--ca-cert FILE] [--json] [--page-size N] [--retries N] [--retry-delay-ms N] [--timeout SECS] COMMAND
commands:
  ping                      check the registry speaks API v2
  catalog                   list repositories
  tags REPO                 list a repository's tags
  manifest REPO REF         write the manifest's exact bytes to stdout
  digest REPO REF           print the digest REF resolves to
  inspect REPO REF [--platform os/arch[/variant]]
                            describe an image
number options: --timeout above 0 and at most 86400 (fractions allowed), \
--retries 0..=100, --retry-delay-ms 0..=3600000, --page-size 1..=10000
environment: REGC_REGISTRY, REGC_USERNAME, REGC_PASSWORD";

/// Largest `--timeout`, in seconds: a day.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Largest `--retries`.
const MAX_RETRIES: u64 = 100;
/// Largest `--retry-delay-ms`: an hour (the delay doubles on each retry,
/// and a larger one would look like a hang).
const MAX_RETRY_DELAY_MS: u64 = 3_600_000;
/// Largest `--page-size`.
const MAX_PAGE_SIZE: u64 = 10_000;

#[derive(Default)]
struct Options {
    registry: Option<String>,
    username: Option<String>,
    password_stdin: bool,
    insecure: bool,
    ca_cert: Option<String>,
    json: bool,
    page_size: Option<usize>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    timeout: Option<Duration>,
    platform: Option<String>,
    args: Vec<String>,
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

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options::default();
    while let Some(arg) = it.next() {
        // Accept `--flag=value` as well as `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let val = |it: &mut dyn Iterator<Item = String>| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--registry" => o.registry = Some(val(&mut it)?),
            "--username" => o.username = Some(val(&mut it)?),
            "--ca-cert" => o.ca_cert = Some(val(&mut it)?),
            "--platform" => o.platform = Some(val(&mut it)?),
            "--page-size" => o.page_size = Some(integer(&val(&mut it)?, &flag, 1, MAX_PAGE_SIZE)?),
            "--retries" => o.retries = Some(integer(&val(&mut it)?, &flag, 0, MAX_RETRIES)?),
            "--retry-delay-ms" => {
                let ms: u64 = integer(&val(&mut it)?, &flag, 0, MAX_RETRY_DELAY_MS)?;
                o.retry_delay = Some(Duration::from_millis(ms));
            }
            "--timeout" => o.timeout = Some(seconds(&val(&mut it)?, &flag, MAX_TIMEOUT_SECS)?),
            "--password-stdin" => o.password_stdin = true,
            "--insecure" => o.insecure = true,
            "--json" => o.json = true,
            "-h" | "--help" => return Err(String::new()),
            f if f.starts_with("--") => return Err(format!("unknown option {f}")),
            _ => o.args.push(arg),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(msg) => return usage(&msg),
    };
    let args: Vec<&str> = opts.args.iter().map(String::as_str).collect();
    let arity_ok = match args.first() {
        Some(&"ping") | Some(&"catalog") => args.len() == 1,
        Some(&"tags") => args.len() == 2,
        Some(&"manifest") | Some(&"digest") | Some(&"inspect") => args.len() == 3,
        Some(other) => return usage(&format!("unknown command {other}")),
        None => return usage("no command given"),
    };
    if !arity_ok {
        return usage(&format!("wrong number of arguments for {}", args[0]));
    }
    if opts.platform.is_some() && args[0] != "inspect" {
        return usage("--platform goes with inspect");
    }
    let client = match build_client(&opts) {
        Ok(c) => c,
        Err(Fail::Usage(m)) => return usage(&m),
        Err(Fail::Lib(e)) => return report(&e),
    };
    match run(&client, &opts, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(m)) => usage(&m),
        Err(Fail::Lib(e)) => report(&e),
    }
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

fn usage(msg: &str) -> ExitCode {
    // `msg` can quote what was typed: escaped like everything else.
    if !msg.is_empty() {
        err_line(&format!("regc: {msg}"));
    }
    // Line by line: the text's own newlines are not a value's.
    USAGE.lines().for_each(err_line);
    ExitCode::from(2)
}

fn report(e: &Error) -> ExitCode {
    err_line(&format!("error: {}: {e}", e.kind()));
    ExitCode::from(1)
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

fn build_client(o: &Options) -> Result<Client, Fail> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let registry = o
        .registry
        .clone()
        .or_else(|| env("REGC_REGISTRY"))
        .ok_or_else(|| Fail::Usage("no registry: use --registry or REGC_REGISTRY".into()))?;
    let mut b = Client::builder(&registry);
    let username = o.username.clone().or_else(|| env("REGC_USERNAME"));
    let password = if o.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Fail::Usage(format!("cannot read password from stdin: {e}")))?;
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        env("REGC_PASSWORD")
    };
    match (username, password) {
        (Some(u), Some(p)) => b = b.basic_auth(&u, &p),
        (Some(_), None) => {
            return Err(Fail::Usage(
                "a username needs a password (--password-stdin or REGC_PASSWORD)".into(),
            ))
        }
        (None, Some(_)) => return Err(Fail::Usage("a password needs a username".into())),
        (None, None) => {}
    }
    if o.insecure {
        b = b.verify_tls(false);
    }
    if let Some(ca) = &o.ca_cert {
        b = b.ca_certificate_file(ca);
    }
    if let Some(n) = o.page_size {
        b = b.page_size(n);
    }
    if let Some(n) = o.retries {
        b = b.max_retries(n);
    }
    if let Some(d) = o.retry_delay {
        b = b.retry_delay(d);
    }
    if let Some(t) = o.timeout {
        b = b.timeout(t);
    }
    Ok(b.build()?)
}

/// A failure to write the result (a closed pipe, a full disk).
fn output_error(e: std::io::Error) -> Fail {
    Fail::Lib(Error::from(std::io::Error::new(
        e.kind(),
        format!("cannot write to stdout: {e}"),
    )))
}

fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    writeln!(
        std::io::stdout().lock(),
        "{}",
        escape_controls(&json, Escape::Json)
    )
}

fn print_list(items: &[String], json: bool) -> std::io::Result<()> {
    if json {
        return print_json(&serde_json::json!(items));
    }
    items.iter().try_for_each(|i| out_line(i))
}

fn run(client: &Client, o: &Options, args: &[&str]) -> Result<(), Fail> {
    match args {
        ["ping"] => {
            let p = client.ping()?;
            if o.json {
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
        ["catalog"] => print_list(&client.list_repositories()?, o.json).map_err(output_error)?,
        ["tags", repo] => print_list(&client.list_tags(repo)?, o.json).map_err(output_error)?,
        ["manifest", repo, reference] => {
            // Exact bytes, for pipes (`| sha256sum`, `| jq`): not escaped.
            let m = client.get_manifest(repo, reference)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&m.body)
                .and_then(|_| out.flush())
                .map_err(output_error)?;
        }
        ["digest", repo, reference] => {
            let d = client.manifest_digest(repo, reference)?;
            if o.json {
                print_json(&serde_json::json!({ "digest": d.to_string() }))
            } else {
                out_line(d.as_ref())
            }
            .map_err(output_error)?;
        }
        ["inspect", repo, reference] => {
            let platform = match &o.platform {
                Some(p) => Some(Platform::parse(p)?),
                None => None,
            };
            let info = client.image_info(repo, reference, platform.as_ref())?;
            if o.json {
                print_json(&inspect_json(&info))
            } else {
                print_inspect(&info)
            }
            .map_err(output_error)?;
        }
        _ => return Err(Fail::Usage("bad command".into())),
    }
    Ok(())
}

fn inspect_json(i: &ImageInfo) -> serde_json::Value {
    serde_json::json!({
        "digest": i.digest,
        "media_type": i.media_type,
        "architecture": i.architecture,
        "os": i.os,
        "variant": i.variant,
        "created": i.created,
        "author": i.author,
        "size": i.size,
        "layers": i.layers,
        "labels": i.labels,
        "config": {
            "digest": i.config_digest,
            "entrypoint": i.entrypoint,
            "cmd": i.cmd,
            "env": i.env,
            "working_dir": i.working_dir,
            "user": i.user,
        },
    })
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
