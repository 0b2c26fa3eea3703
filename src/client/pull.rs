//! Pull: an image (one platform, or every platform of an index) into an OCI
//! image layout directory, its blobs fetched several at once, each resumed
//! where a dropped connection left it.
//!
//! The manifests come first (they are small, and say what else to fetch);
//! then worker threads (`PullOptions::jobs`, over this one shared client)
//! take blobs from a common list, largest first. A blob already in the
//! layout and valid is not fetched again; one that is fetched streams into
//! a temporary file and gets its name only once its size and digest are
//! right (`layout::BlobWriter`). `index.json` is written last, so a layout
//! names an image only when all of it is there.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use crate::digest::Digest;
use crate::http::failure::is_transient;
use crate::layout::Layout;
use crate::manifest::{Descriptor, ImageManifest};
use crate::platform::Platform;
use crate::reference::{validate_repository, Reference};
use crate::{Error, Result};

use super::manifests::name_of;
use super::transfer::{in_parallel, lock, ProgressFn, Tracker};
use super::{Client, ToReference};

/// Default number of blobs fetched at once.
pub const DEFAULT_PULL_JOBS: usize = 4;
/// Most blobs fetched at once.
pub const MAX_PULL_JOBS: usize = 64;
/// Times one blob's download is resumed after its connection dropped.
const MAX_RESUMES: u32 = 8;
/// Depth of indexes within indexes followed.
const MAX_NESTING: usize = 4;
/// Bytes read from the network at a time by one worker.
const CHUNK: usize = 64 << 10;

/// Which platforms of an index to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Platforms {
    Host,
    One(Platform),
    All,
}

/// How to pull: which platforms, how many blobs at once, the name in
/// `index.json`, and a progress callback.
///
/// ```
/// use std::ops::ControlFlow;
/// use registry_client::{platform::Platform, PullOptions};
/// let options = PullOptions::new()
///     .platform(Platform::parse("linux/arm64").unwrap())
///     .jobs(8)
///     .progress(|p| {
///         eprintln!("{}: {}/{} ({} of {} in all)", p.digest, p.blob_done, p.blob_total, p.done, p.total);
///         ControlFlow::Continue(())
///     });
/// ```
#[derive(Clone)]
pub struct PullOptions {
    platforms: Platforms,
    jobs: usize,
    ref_name: Option<String>,
    progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PullOptions")
            .field("platforms", &self.platforms)
            .field("jobs", &self.jobs)
            .field("ref_name", &self.ref_name)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions::new()
    }
}

impl PullOptions {
    /// The host's platform ([`Platform::host`]), [`DEFAULT_PULL_JOBS`]
    /// blobs at once, the tag or digest as the name, no progress.
    ///
    /// ```
    /// let o = registry_client::PullOptions::new();
    /// ```
    pub fn new() -> PullOptions {
        PullOptions {
            platforms: Platforms::Host,
            jobs: DEFAULT_PULL_JOBS,
            ref_name: None,
            progress: None,
        }
    }

    /// From an index, pull the entry for `platform` (chosen as
    /// [`ImageIndex::select`](crate::manifest::ImageIndex::select) does).
    ///
    /// ```
    /// let o = registry_client::PullOptions::new()
    ///     .platform(registry_client::Platform::parse("linux/arm/v7").unwrap());
    /// ```
    pub fn platform(mut self, platform: Platform) -> PullOptions {
        self.platforms = Platforms::One(platform);
        self
    }

    /// From an index, pull every entry, and the index itself, which
    /// `index.json` then names.
    ///
    /// ```
    /// let o = registry_client::PullOptions::new().all_platforms();
    /// ```
    pub fn all_platforms(mut self) -> PullOptions {
        self.platforms = Platforms::All;
        self
    }

    /// Blobs fetched at once: 1 to [`MAX_PULL_JOBS`] (others are refused
    /// by [`Client::pull`]).
    ///
    /// ```
    /// let o = registry_client::PullOptions::new().jobs(1);
    /// ```
    pub fn jobs(mut self, jobs: usize) -> PullOptions {
        self.jobs = jobs;
        self
    }

    /// The `org.opencontainers.image.ref.name` to give the image in
    /// `index.json` (default: the tag, or the digest pulled by).
    ///
    /// ```
    /// let o = registry_client::PullOptions::new().ref_name("stable");
    /// ```
    pub fn ref_name(mut self, name: impl Into<String>) -> PullOptions {
        self.ref_name = Some(name.into());
        self
    }

    /// Calls `f` as bytes arrive (from the worker threads, so it must be
    /// `Send + Sync`); `ControlFlow::Break(())` stops the pull, which
    /// then fails with an [`Error::Io`] whose source is an `io::Error` of
    /// kind `Interrupted`.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let o = registry_client::PullOptions::new().progress(|p| {
    ///     if p.done > 1 << 30 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// });
    /// ```
    pub fn progress(
        mut self,
        f: impl Fn(&PullProgress<'_>) -> ControlFlow<()> + Send + Sync + 'static,
    ) -> PullOptions {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// Where a pull stands, as its progress callback sees it.
///
/// `total` is the size of every blob the image has in the layout
/// (manifests, configs, layers, each once); `done` the bytes of those that
/// are in the layout or kept of a download so far. A blob found in the
/// layout counts as done at once. When a registry answers a resumed
/// request with the whole blob, what was kept of it is dropped, and
/// `blob_done` and `done` go back.
///
/// ```
/// use std::ops::ControlFlow;
/// let o = registry_client::PullOptions::new().progress(|p| {
///     assert!(p.blob_done <= p.blob_total && p.done <= p.total);
///     ControlFlow::Continue(())
/// });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct PullProgress<'a> {
    /// The blob this call is about.
    pub digest: &'a Digest,
    /// Bytes of it in hand.
    pub blob_done: u64,
    /// Its size.
    pub blob_total: u64,
    /// Bytes of the whole pull in hand.
    pub done: u64,
    /// Bytes of the whole pull.
    pub total: u64,
}

/// What a pull did.
///
/// ```no_run
/// let c = registry_client::Client::new("localhost:5000")?;
/// let r = c.pull("app", "v1", "/tmp/app", &registry_client::PullOptions::new())?;
/// println!("{} as {}: {} blobs fetched, {} already there", r.digest, r.ref_name,
///          r.blobs_fetched, r.blobs_present);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PullReport {
    /// What `index.json` names: the manifest pulled, or the index when
    /// every platform was.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: u64,
    /// The name it has in `index.json`.
    pub ref_name: String,
    /// The image manifests pulled (one per platform).
    pub manifests: Vec<Digest>,
    /// Blobs (manifests included) written by this pull.
    pub blobs_fetched: usize,
    /// Blobs found in the layout, valid, and left as they were.
    pub blobs_present: usize,
    /// Bytes downloaded for blobs other than manifests, counting again
    /// what a registry sent twice (a resumed download answered whole).
    pub bytes_downloaded: u64,
    /// Downloads resumed after a dropped connection.
    pub resumes: u32,
}

impl Client {
    /// Pulls `repository` at a tag or digest into the OCI image layout at
    /// `dir` (made when missing; other images in it are kept).
    ///
    /// From an index, one platform is pulled (the host's unless
    /// [`PullOptions::platform`] says otherwise) and `index.json` names
    /// that manifest; with [`PullOptions::all_platforms`] every entry is
    /// pulled and `index.json` names the index. Manifests are stored as
    /// the registry served them, so their digests are the registry's.
    ///
    /// Blobs are fetched [`PullOptions::jobs`] at once and verified (size
    /// and digest) before they get their name; a blob already in the
    /// layout and valid is not fetched again, so pulling again after an
    /// interruption fetches only what is missing. A connection that drops
    /// in the middle of a blob is resumed with `Range` (a registry that
    /// answers with the whole blob instead is read from the start again).
    /// Memory use does not depend on blob sizes.
    ///
    /// ```no_run
    /// use registry_client::{Client, PullOptions};
    /// let c = Client::new("localhost:5000")?;
    /// let r = c.pull("library/alpine", "3.20", "/tmp/alpine", &PullOptions::new().jobs(8))?;
    /// // `umoci unpack --image /tmp/alpine:3.20 bundle` or
    /// // `skopeo copy oci:/tmp/alpine:3.20 …` take it from here.
    /// println!("{} bytes fetched", r.bytes_downloaded);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn pull(
        &self,
        repository: &str,
        reference: impl ToReference,
        dir: impl AsRef<Path>,
        options: &PullOptions,
    ) -> Result<PullReport> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            if !(1..=MAX_PULL_JOBS).contains(&options.jobs) {
                return Err(Error::invalid(format!(
                    "pull jobs must be between 1 and {MAX_PULL_JOBS}, not {}",
                    options.jobs
                )));
            }
            let name = name_of(repository, &reference);
            let ref_name = options
                .ref_name
                .clone()
                .unwrap_or_else(|| reference.as_str().to_string());
            let layout = Layout::create(dir)?;
            let plan = self.plan(repository, &reference, &options.platforms)?;
            let total = plan.total()?;
            let tracker = Tracker {
                action: "pull",
                name: &name,
                total,
                done: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                cancelled: AtomicBool::new(false),
                callback: options.progress.as_deref(),
            };
            let mut report = PullReport {
                digest: plan.entry.digest.clone(),
                media_type: plan.entry.media_type.clone(),
                size: plan.entry.size,
                ref_name: ref_name.clone(),
                manifests: plan.images.clone(),
                blobs_fetched: 0,
                blobs_present: 0,
                bytes_downloaded: 0,
                resumes: 0,
            };
            for (digest, body) in &plan.manifests {
                let size = body.len() as u64;
                if layout.has_blob(digest, size)? {
                    report.blobs_present += 1;
                } else {
                    layout.write_blob(digest, body)?;
                    report.blobs_fetched += 1;
                }
                tracker.advance(digest, size, size, size)?;
            }
            let outcome =
                self.fetch_all(repository, &layout, &plan.blobs, options.jobs, &tracker)?;
            report.blobs_fetched += outcome.fetched;
            report.blobs_present += outcome.present;
            report.bytes_downloaded = outcome.bytes;
            report.resumes = outcome.resumes;
            layout.set_ref(&ref_name, &plan.entry)?;
            Ok(report)
        })())
    }

    /// What to write: the manifests (fetched here), the blobs they name,
    /// and the entry for `index.json`.
    pub(super) fn plan(
        &self,
        repository: &str,
        reference: &Reference,
        platforms: &Platforms,
    ) -> Result<Plan> {
        let top = self.uncached().get_manifest(repository, reference)?;
        let entry = Descriptor {
            media_type: top.media_type.clone(),
            digest: top.digest.clone(),
            size: top.size,
            urls: Vec::new(),
            annotations: Default::default(),
            platform: None,
            artifact_type: None,
        };
        let mut plan = Plan {
            entry,
            manifests: Vec::new(),
            blobs: Vec::new(),
            images: Vec::new(),
            seen: HashSet::new(),
        };
        let host = Platform::host();
        let want = match platforms {
            Platforms::Host => Some(&host),
            Platforms::One(p) => Some(p),
            Platforms::All => None,
        };
        let mut current = top;
        for _ in 0..MAX_NESTING {
            let Some(index) = current.manifest.as_index() else {
                return self
                    .plan_image(repository, &current, &mut plan)
                    .map(|()| plan);
            };
            let Some(want) = want else {
                self.plan_all(repository, &current, &mut plan, 0)?;
                return Ok(plan);
            };
            let Some(chosen) = index.select(want) else {
                let available: Vec<String> =
                    index.platforms().iter().map(|p| p.to_string()).collect();
                return Err(Error::not_found(format!(
                    "platform {want} in {} (it has {})",
                    name_of(repository, reference),
                    if available.is_empty() {
                        "no platforms".to_string()
                    } else {
                        available.join(", ")
                    }
                )));
            };
            let mut chosen = chosen.clone();
            current = self.child_manifest(repository, &chosen)?;
            if chosen.media_type.is_empty() {
                chosen.media_type = current.media_type.clone();
            }
            plan.entry = chosen;
        }
        Err(nesting_error(repository, reference))
    }

    /// An image manifest and the blobs it names.
    fn plan_image(
        &self,
        repository: &str,
        m: &super::ManifestResponse,
        plan: &mut Plan,
    ) -> Result<()> {
        let Some(image) = m.manifest.as_image() else {
            return Err(Error::unsupported(format!(
                "{} in {repository} is neither an image nor an index",
                m.digest
            )));
        };
        plan.add_image(&m.digest, &m.body, image);
        Ok(())
    }

    /// An index, every manifest it lists, and their blobs.
    fn plan_all(
        &self,
        repository: &str,
        m: &super::ManifestResponse,
        plan: &mut Plan,
        depth: usize,
    ) -> Result<()> {
        let Some(index) = m.manifest.as_index() else {
            return self.plan_image(repository, m, plan);
        };
        if depth >= MAX_NESTING {
            return Err(nesting_error(
                repository,
                &Reference::Digest(m.digest.clone()),
            ));
        }
        plan.add_manifest(&m.digest, &m.body);
        for child in &index.manifests {
            if plan.seen.contains(&child.digest) {
                continue;
            }
            let child = self.child_manifest(repository, child)?;
            self.plan_all(repository, &child, plan, depth + 1)?;
        }
        Ok(())
    }

    /// The manifest an index entry names, checked against the entry's size.
    fn child_manifest(
        &self,
        repository: &str,
        entry: &Descriptor,
    ) -> Result<Arc<super::ManifestResponse>> {
        let m = self.get_manifest(repository, &entry.digest)?;
        if m.size != entry.size {
            return Err(Error::digest_mismatch(
                format!("{} ({} bytes)", entry.digest, entry.size),
                format!("{} ({} bytes)", m.digest, m.size),
            ));
        }
        Ok(m)
    }

    /// Fetches `blobs` into `layout`, `jobs` at a time, largest first; the
    /// first failure stops the others.
    fn fetch_all(
        &self,
        repository: &str,
        layout: &Layout,
        blobs: &[Descriptor],
        jobs: usize,
        tracker: &Tracker<'_>,
    ) -> Result<Outcome> {
        let outcome = Mutex::new(Outcome::default());
        in_parallel(blobs, jobs, tracker, |d| {
            let got = self.fetch_blob(repository, layout, d, tracker)?;
            lock(&outcome).add(&got);
            Ok(())
        })?;
        Ok(outcome.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// One blob into the layout: skipped when there and valid, else
    /// streamed into a temporary file, resumed when the connection drops.
    fn fetch_blob(
        &self,
        repository: &str,
        layout: &Layout,
        d: &Descriptor,
        tracker: &Tracker<'_>,
    ) -> Result<Fetched> {
        if layout.has_blob(&d.digest, d.size)? {
            tracker.advance(&d.digest, d.size, d.size, d.size)?;
            return Ok(Fetched {
                present: true,
                ..Fetched::default()
            });
        }
        tracker.advance(&d.digest, 0, d.size, 0)?;
        let mut got = Fetched::default();
        let mut w = layout.blob_writer(&d.digest, d.size)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let kept = w.written();
            if kept == d.size {
                break;
            }
            let mut part = self.blob_range(repository, &d.digest, kept)?;
            if part.start() != kept {
                // The whole blob again: what was kept goes.
                w.restart()?;
                tracker.back(kept);
                tracker.advance(&d.digest, 0, d.size, 0)?;
            }
            if let Some(total) = part.total().filter(|&t| t != d.size) {
                return Err(Error::digest_mismatch(
                    format!("{} ({} bytes)", d.digest, d.size),
                    format!("a blob of {total} bytes"),
                ));
            }
            let dropped = loop {
                let n = match part.read(&mut buf) {
                    Ok(0) => break None,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => break Some(Error::from_io(e)),
                };
                w.write(&buf[..n])?;
                got.bytes = got.bytes.saturating_add(n as u64);
                tracker.advance(&d.digest, w.written(), d.size, n as u64)?;
            };
            match dropped {
                // The body ended: whole, or cut short (a chunked body can
                // end early without an error).
                None if w.written() == d.size => break,
                None => {}
                Some(e) if is_transient(&e) => {}
                Some(e) => return Err(e),
            }
            if got.resumes >= MAX_RESUMES {
                return Err(Error::connection(format!(
                    "blob {repository}@{}: the connection dropped {} times; {} of {} bytes kept",
                    d.digest,
                    got.resumes + 1,
                    w.written(),
                    d.size
                )));
            }
            got.resumes += 1;
        }
        w.commit()?;
        Ok(got)
    }
}

fn nesting_error(repository: &str, reference: &Reference) -> Error {
    Error::unsupported(format!(
        "{}: indexes nested more than {MAX_NESTING} deep",
        name_of(repository, reference)
    ))
}

/// Everything a pull writes.
pub(super) struct Plan {
    /// What `index.json` names.
    pub entry: Descriptor,
    /// Manifests and indexes, with the bytes served, parents before their
    /// children.
    pub manifests: Vec<(Digest, Vec<u8>)>,
    /// Configs and layers, each once.
    pub blobs: Vec<Descriptor>,
    /// The image manifests among `manifests`.
    pub images: Vec<Digest>,
    /// Digests already in `manifests` or `blobs`.
    pub seen: HashSet<Digest>,
}

impl Plan {
    pub(super) fn add_manifest(&mut self, digest: &Digest, body: &[u8]) {
        if self.seen.insert(digest.clone()) {
            self.manifests.push((digest.clone(), body.to_vec()));
        }
    }

    /// An image manifest, and the config and layers it names (each once).
    pub(super) fn add_image(&mut self, digest: &Digest, body: &[u8], image: &ImageManifest) {
        self.add_manifest(digest, body);
        self.images.push(digest.clone());
        for d in std::iter::once(&image.config).chain(&image.layers) {
            if self.seen.insert(d.digest.clone()) {
                self.blobs.push(d.clone());
            }
        }
    }

    /// The bytes of the whole pull (checked: sizes come from the network).
    pub(super) fn total(&self) -> Result<u64> {
        self.manifests
            .iter()
            .map(|(_, b)| b.len() as u64)
            .chain(self.blobs.iter().map(|d| d.size))
            .try_fold(0u64, u64::checked_add)
            .ok_or_else(|| Error::decode("manifest", "the sizes of the blobs add up past 2^64"))
    }
}

/// What fetching one blob did.
#[derive(Debug, Default)]
struct Fetched {
    present: bool,
    bytes: u64,
    resumes: u32,
}

/// What fetching all blobs did.
#[derive(Debug, Default)]
struct Outcome {
    fetched: usize,
    present: usize,
    bytes: u64,
    resumes: u32,
}

impl Outcome {
    fn add(&mut self, f: &Fetched) {
        if f.present {
            self.present += 1;
        } else {
            self.fetched += 1;
        }
        self.bytes = self.bytes.saturating_add(f.bytes);
        self.resumes = self.resumes.saturating_add(f.resumes);
    }
}
