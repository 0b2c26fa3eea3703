//! regc's command line: clap's definitions (every command has `--help`)
//! and the checked parsing of number options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The short text shown after a usage error (the full one is `--help`).
pub(crate) const USAGE: &str = "usage: regc [OPTIONS] COMMAND   (regc --help, regc COMMAND --help)
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
  push DIR TARGET [--ref-name NAME] [--jobs N]
                            push an image from an OCI image layout
  copy SRC DST [--platform P | --all-platforms] [--jobs N]
                            copy an image, on one registry or between two
  tag TARGET NEWTAG         give an image another tag (same digest)
  delete TARGET [--tag-only]
                            delete a manifest (or only a tag)
  referrers TARGET [--artifact-type T]
                            list the manifests whose subject is an image
  blob-upload TARGET FILE   upload a file (or - for stdin) as a blob, print its digest
TARGET: an image reference (127.0.0.1:5000/team/app:v1), or with --registry a repository
options: --registry URL --username U --password-stdin --insecure --plain-http --ca-cert FILE
  --json --page-size N --retries N --retry-delay-ms N --timeout SECS
number options: --timeout above 0 and at most 86400 (fractions allowed), \
--retries 0..=100, --retry-delay-ms 0..=3600000, --page-size 1..=10000, --jobs 1..=64
environment: REGC_REGISTRY, REGC_USERNAME, REGC_PASSWORD";

pub(crate) const AFTER_HELP: &str = "\
A TARGET is an image reference (127.0.0.1:5000/library/hello:v1, ghcr.io/org/app@sha256:…,
alpine), whose registry is used; with --registry or REGC_REGISTRY, a name whose first
component has no '.' or ':' and is not 'localhost' is a repository of that registry
(team/app, team/app:v1), and `REPO REF` works as two arguments.

Credentials: --username with --password-stdin, else REGC_USERNAME and REGC_PASSWORD, else
the logins made with docker, podman or skopeo (config.json, auth.json, credential helpers).
`copy` between two registries looks up each one's login on its own (given credentials are
used for both).

Exit status: 0 success, 1 error (`error: KIND: …` on stderr, a JSON object with --json),
2 bad usage.";

/// Largest `--timeout`, in seconds: a day.
pub(crate) const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Largest `--retries`.
pub(crate) const MAX_RETRIES: u64 = 100;
/// Largest `--retry-delay-ms`: an hour (the delay doubles on each retry,
/// and a larger one would look like a hang).
pub(crate) const MAX_RETRY_DELAY_MS: u64 = 3_600_000;
/// Largest `--page-size`.
pub(crate) const MAX_PAGE_SIZE: u64 = 10_000;

/// A client for the Docker Registry HTTP API v2 / OCI Distribution.
#[derive(Parser)]
#[command(name = "regc", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes, before or after its name. Numbers are
/// taken as text and checked by [`integer`] and [`seconds`], so that the
/// message names the option and its limits.
#[derive(Args)]
pub(crate) struct Global {
    /// The registry (host[:port] or URL) for repository names and the old REPO REF form [env: REGC_REGISTRY]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) registry: Option<String>,
    /// User name (the password comes from --password-stdin or REGC_PASSWORD)
    #[arg(long, global = true, value_name = "U")]
    pub(crate) username: Option<String>,
    /// Read the password from the first line of stdin
    #[arg(long, global = true)]
    pub(crate) password_stdin: bool,
    /// Do not verify TLS certificates
    #[arg(long, global = true)]
    pub(crate) insecure: bool,
    /// Use http, not https, for any registry (loopback registries need no option)
    #[arg(long, global = true)]
    pub(crate) plain_http: bool,
    /// Trust this CA certificate (PEM) as well
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<String>,
    /// Print JSON (errors too, on stderr)
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Items per page for catalog and tags: 1..=10000
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    pub(crate) page_size: Option<String>,
    /// Retries of a failed request: 0..=100
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    pub(crate) retries: Option<String>,
    /// First delay between retries, in milliseconds: 0..=3600000
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    pub(crate) retry_delay_ms: Option<String>,
    /// Timeout of one request, in seconds: above 0, at most 86400
    #[arg(long, global = true, value_name = "SECS", allow_hyphen_values = true)]
    pub(crate) timeout: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Push an image from an OCI image layout directory (as `pull` or umoci write it)
    Push {
        /// The layout directory
        dir: PathBuf,
        /// Where to: a reference, or with --registry a repository[:tag|@digest]
        /// (without a tag: --ref-name, else latest)
        target: String,
        /// The image's name in the layout's index.json (needed when it holds several)
        #[arg(long, value_name = "NAME")]
        ref_name: Option<String>,
        /// Blobs sent at once: 1..=64 (default 4)
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        jobs: Option<String>,
    },
    /// Copy an image to another repository, on the same registry or another one
    Copy {
        /// The source: a reference, or with --registry a repository[:tag|@digest]
        source: String,
        /// The destination: a reference with a tag or none (then the source's tag)
        destination: String,
        /// The platform to copy from an index (default: this machine's)
        #[arg(
            long,
            value_name = "os/arch[/variant]",
            conflicts_with = "all_platforms"
        )]
        platform: Option<String>,
        /// Copy every platform of an index, and the index
        #[arg(long)]
        all_platforms: bool,
        /// Blobs sent at once: 1..=64 (default 4)
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        jobs: Option<String>,
    },
    /// Put an image's exact manifest under another tag (its digest stays)
    Tag {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// The new tag
        new_tag: String,
    },
    /// Delete a manifest (a tag is resolved to its digest: every tag on it goes)
    Delete {
        /// A reference with a tag or digest (none is refused, not taken as latest),
        /// or with --registry a repository:tag or repository@digest
        target: String,
        /// Delete only the tag, leaving the manifest (not every registry can)
        #[arg(long)]
        tag_only: bool,
    },
    /// List the referrers of an image (the manifests whose subject it is)
    Referrers {
        /// A reference, or with --registry a repository[:tag|@digest]
        target: String,
        /// Only referrers of this artifact type
        #[arg(long, value_name = "T")]
        artifact_type: Option<String>,
    },
    /// Upload a file as a blob (streamed) and print its digest
    BlobUpload {
        /// The repository, as a reference (its tag is ignored) or with --registry a name
        target: String,
        /// The file, or - for stdin
        file: PathBuf,
    },
}

/// A whole number in `min..=max` for `flag`. Read as `u64` (so `-1`, `1e3`,
/// `0x10` and anything past `u64::MAX` are refused), range-checked, then
/// converted to the option's type with a checked conversion.
pub(crate) fn integer<T: TryFrom<u64>>(
    v: &str,
    flag: &str,
    min: u64,
    max: u64,
) -> Result<T, String> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("{flag}: {v:?} is not a whole number from {min} to {max}"))
}

/// A duration in seconds for `flag`, above 0 and at most `max`. The checked
/// conversion refuses negatives, NaN and infinities (and anything too big for
/// a `Duration`), which `Duration::from_secs_f64` would panic on.
pub(crate) fn seconds(v: &str, flag: &str, max: f64) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s <= max)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!("{flag}: {v:?} is not a number of seconds above 0 and at most {max}")
        })
}
