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
environment: REGC_REGISTRY, REGC_USERNAME, REGC_PASSWORD";

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
    retry_delay_ms: Option<u64>,
    timeout_secs: Option<f64>,
    platform: Option<String>,
    args: Vec<String>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options::default();
    fn number<T: std::str::FromStr>(v: String, flag: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{flag}: {v:?} is not a valid number"))
    }
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
            "--page-size" => o.page_size = Some(number(val(&mut it)?, "--page-size")?),
            "--retries" => o.retries = Some(number(val(&mut it)?, "--retries")?),
            "--retry-delay-ms" => {
                o.retry_delay_ms = Some(number(val(&mut it)?, "--retry-delay-ms")?)
            }
            "--timeout" => {
                let t: f64 = number(val(&mut it)?, "--timeout")?;
                if !(t.is_finite() && t > 0.0) {
                    return Err("--timeout must be a positive number of seconds".into());
                }
                o.timeout_secs = Some(t);
            }
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
    if !msg.is_empty() {
        eprintln!("regc: {msg}");
    }
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

fn report(e: &Error) -> ExitCode {
    eprintln!("error: {}: {e}", e.kind());
    ExitCode::from(1)
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
    if let Some(ms) = o.retry_delay_ms {
        b = b.retry_delay(Duration::from_millis(ms));
    }
    if let Some(s) = o.timeout_secs {
        b = b.timeout(Duration::from_secs_f64(s));
    }
    Ok(b.build()?)
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn print_list(items: &[String], json: bool) {
    if json {
        print_json(&serde_json::json!(items));
    } else {
        let mut out = std::io::stdout().lock();
        for i in items {
            let _ = writeln!(out, "{i}");
        }
    }
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
                }));
            } else {
                println!(
                    "{} OK ({}, auth required: {})",
                    client.registry_url(),
                    p.api_version.as_deref().unwrap_or("no version header"),
                    if p.auth_required { "yes" } else { "no" }
                );
            }
        }
        ["catalog"] => print_list(&client.list_repositories()?, o.json),
        ["tags", repo] => print_list(&client.list_tags(repo)?, o.json),
        ["manifest", repo, reference] => {
            let m = client.get_manifest(repo, reference)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&m.body)
                .and_then(|_| out.flush())
                .map_err(|e| Fail::Usage(format!("cannot write to stdout: {e}")))?;
        }
        ["digest", repo, reference] => {
            let d = client.manifest_digest(repo, reference)?;
            if o.json {
                print_json(&serde_json::json!({ "digest": d.to_string() }));
            } else {
                println!("{d}");
            }
        }
        ["inspect", repo, reference] => {
            let platform = match &o.platform {
                Some(p) => Some(Platform::parse(p)?),
                None => None,
            };
            let info = client.image_info(repo, reference, platform.as_ref())?;
            if o.json {
                print_json(&inspect_json(&info));
            } else {
                print_inspect(&info);
            }
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

fn print_inspect(i: &ImageInfo) {
    let platform = match &i.variant {
        Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
        None => format!("{}/{}", i.os, i.architecture),
    };
    println!("digest:       {}", i.digest);
    println!("media type:   {}", i.media_type);
    println!("platform:     {platform}");
    println!("created:      {}", i.created.as_deref().unwrap_or("-"));
    println!("author:       {}", i.author.as_deref().unwrap_or("-"));
    println!("size:         {} bytes", i.size);
    println!("entrypoint:   {:?}", i.entrypoint);
    println!("cmd:          {:?}", i.cmd);
    println!("working dir:  {}", i.working_dir.as_deref().unwrap_or("-"));
    println!("user:         {}", i.user.as_deref().unwrap_or("-"));
    for e in &i.env {
        println!("env:          {e}");
    }
    for (k, v) in &i.labels {
        println!("label:        {k}={v}");
    }
    for l in &i.layers {
        println!("layer:        {} {} {}", l.digest, l.size, l.media_type);
    }
}
