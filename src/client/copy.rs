//! Copy: an image from one repository to another, on the same registry or
//! another one, or from an OCI image layout to a registry (`push_layout`;
//! the other way is [`Client::pull`]).
//!
//! The source's manifests come first (they say what else to send); then
//! worker threads take the blobs, largest first: each is skipped when the
//! destination has it, mounted when source and destination share a
//! registry, else streamed from the source into an upload. The manifests go
//! last, children before the index that lists them, each as the exact bytes
//! the source had, so every digest stays the same. A copy stopped half-way
//! and started again sends only what is missing.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::digest::Digest;
use crate::layout::Layout;
use crate::manifest::{Descriptor, Manifest};
use crate::platform::Platform;
use crate::reference::{validate_repository, validate_tag, Reference};
use crate::text::quote;
use crate::{Error, Result};

use super::manifests::name_of;
use super::pull::{Plan, Platforms};
use super::transfer::{in_parallel, lock, ProgressFn, Tracker};
use super::upload::{BlobSource, UploadOptions};
use super::{Client, PullProgress, ToReference, DEFAULT_PULL_JOBS, MAX_PULL_JOBS};

/// Depth of indexes within indexes read from a layout.
const MAX_NESTING: usize = 4;

/// How to copy: which platforms, how many blobs at once, the tag at the
/// destination, and a progress callback (the same [`PullProgress`] as a
/// pull's, counting bytes sent).
///
/// ```
/// use std::ops::ControlFlow;
/// use registry_client::CopyOptions;
/// let options = CopyOptions::new()
///     .all_platforms()
///     .jobs(8)
///     .tag("v1-mirror")?
///     .progress(|p| {
///         eprintln!("{} of {} bytes", p.done, p.total);
///         ControlFlow::Continue(())
///     });
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Clone)]
pub struct CopyOptions {
    platforms: Platforms,
    jobs: usize,
    tag: Option<String>,
    progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("platforms", &self.platforms)
            .field("jobs", &self.jobs)
            .field("tag", &self.tag)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions::new()
    }
}

impl CopyOptions {
    /// The host's platform ([`Platform::host`]), [`DEFAULT_PULL_JOBS`]
    /// blobs at once, the source's tag, no progress.
    ///
    /// ```
    /// let o = registry_client::CopyOptions::new();
    /// ```
    pub fn new() -> CopyOptions {
        CopyOptions {
            platforms: Platforms::Host,
            jobs: DEFAULT_PULL_JOBS,
            tag: None,
            progress: None,
        }
    }

    /// From an index, copy only the entry for `platform`: the destination
    /// gets that image manifest.
    ///
    /// ```
    /// use registry_client::{platform::Platform, CopyOptions};
    /// let o = CopyOptions::new().platform(Platform::parse("linux/arm64").unwrap());
    /// ```
    pub fn platform(mut self, platform: Platform) -> CopyOptions {
        self.platforms = Platforms::One(platform);
        self
    }

    /// Copy an index whole, with every manifest it lists.
    ///
    /// ```
    /// let o = registry_client::CopyOptions::new().all_platforms();
    /// ```
    pub fn all_platforms(mut self) -> CopyOptions {
        self.platforms = Platforms::All;
        self
    }

    /// Blobs sent at once, 1 to [`MAX_PULL_JOBS`].
    ///
    /// ```
    /// let o = registry_client::CopyOptions::new().jobs(2);
    /// ```
    pub fn jobs(mut self, jobs: usize) -> CopyOptions {
        self.jobs = jobs;
        self
    }

    /// The tag the image gets at the destination (by default the source's
    /// tag; a source named by digest is copied by digest).
    ///
    /// ```
    /// let o = registry_client::CopyOptions::new().tag("stable")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn tag(mut self, tag: &str) -> Result<CopyOptions> {
        validate_tag(tag)?;
        self.tag = Some(tag.to_string());
        Ok(self)
    }

    /// Called as bytes are sent (and for blobs found at the destination);
    /// returning `ControlFlow::Break` stops the copy with an
    /// [`Error::Io`] of kind `Interrupted`.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let o = registry_client::CopyOptions::new().progress(|_| ControlFlow::Continue(()));
    /// ```
    pub fn progress(
        mut self,
        f: impl Fn(&PullProgress<'_>) -> std::ops::ControlFlow<()> + Send + Sync + 'static,
    ) -> CopyOptions {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// What a copy did.
///
/// ```no_run
/// use registry_client::{Client, CopyOptions};
/// let src = Client::new("localhost:5000")?;
/// let dst = Client::new("localhost:5001")?;
/// let r = src.copy("app", "v1", &dst, "mirror/app", &CopyOptions::new())?;
/// println!("{}: {} blobs sent, {} there already", r.digest, r.blobs_uploaded, r.blobs_existing);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CopyReport {
    /// The manifest (or index) now at the destination; the same digest as
    /// at the source.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// What it is called at the destination: the tag, or its digest.
    pub reference: Reference,
    /// The image manifests copied (one per platform).
    pub manifests: Vec<Digest>,
    /// Blobs uploaded.
    pub blobs_uploaded: usize,
    /// Blobs mounted from the source repository.
    pub blobs_mounted: usize,
    /// Blobs the destination had already.
    pub blobs_existing: usize,
    /// Bytes of blobs uploaded.
    pub bytes_uploaded: u64,
}

/// Where the blobs of a copy come from.
trait BlobSourceFn: Fn(&Descriptor) -> Result<Box<dyn Read + Send>> + Sync {}
impl<F: Fn(&Descriptor) -> Result<Box<dyn Read + Send>> + Sync> BlobSourceFn for F {}

impl Client {
    /// Copies `repository` at a tag or digest to `destination_repository`
    /// on `destination` (this client, or one for another registry). Blobs
    /// the destination has are not sent; on the same registry they are
    /// mounted. The destination's digests equal the source's.
    ///
    /// ```no_run
    /// use registry_client::{Client, CopyOptions};
    /// let src = Client::new("ghcr.io")?;
    /// let dst = Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let r = src.copy("org/app", "v1", &dst, "app", &CopyOptions::new().all_platforms())?;
    /// assert_eq!(r.digest, src.manifest_digest("org/app", "v1")?);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn copy(
        &self,
        repository: &str,
        reference: impl ToReference,
        destination: &Client,
        destination_repository: &str,
        options: &CopyOptions,
    ) -> Result<CopyReport> {
        // Errors from either side: scrubbed of both clients' secrets.
        destination.scrub(self.scrub((|| {
            validate_repository(repository)?;
            validate_repository(destination_repository)?;
            let reference = reference.to_reference()?;
            check_jobs(options.jobs)?;
            let plan = self.plan(repository, &reference, &options.platforms)?;
            let same_registry = self.same_registry(destination);
            let mount_from =
                (same_registry && repository != destination_repository).then_some(repository);
            let target = match (&options.tag, &reference) {
                (Some(t), _) => Reference::Tag(t.clone()),
                (None, Reference::Tag(t)) => Reference::Tag(t.clone()),
                (None, Reference::Digest(_)) => Reference::Digest(plan.entry.digest.clone()),
            };
            let name = name_of(repository, &reference);
            let open = |d: &Descriptor| {
                let blob = self.blob(repository, &d.digest)?;
                Ok(Box::new(blob) as Box<dyn Read + Send>)
            };
            destination.send_image(
                &name,
                &plan,
                &open,
                destination_repository,
                &target,
                mount_from,
                options,
            )
        })()))
    }

    /// Whether `other` talks to the same registry: the same host and port.
    /// Not the same base URL: a loopback registry named without a scheme
    /// counts as https until a client finds it speaks plain http, which
    /// one client may have found and the other not yet.
    fn same_registry(&self, other: &Client) -> bool {
        let (a, b) = (&self.inner.config.base, &other.inner.config.base);
        a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
    }

    /// Pushes the image an OCI image layout names `ref_name` in its
    /// `index.json` (or its only image, when `ref_name` is `None`) to
    /// `repository` at `reference` (a tag, or the image's digest): every
    /// manifest and blob the layout holds for it, each checked against its
    /// digest as it is read. Reads layouts as [`pull`](Client::pull) and
    /// `umoci` write them.
    ///
    /// ```no_run
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let r = c.push_layout("/tmp/app", Some("v1"), "app", "v1", &registry_client::CopyOptions::new())?;
    /// println!("{}", r.digest);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn push_layout(
        &self,
        dir: impl AsRef<Path>,
        ref_name: Option<&str>,
        repository: &str,
        reference: impl ToReference,
        options: &CopyOptions,
    ) -> Result<CopyReport> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            check_jobs(options.jobs)?;
            let layout = Layout::open(dir.as_ref())?;
            let entry = layout_entry(&layout, ref_name)?;
            let plan = layout_plan(&layout, entry)?;
            if let Reference::Digest(d) = &reference {
                if d != &plan.entry.digest {
                    return Err(Error::digest_mismatch(d, &plan.entry.digest));
                }
            }
            let name = format!("{}", dir.as_ref().display());
            let open = |d: &Descriptor| {
                let blob = layout.open_blob(&d.digest)?;
                Ok(Box::new(blob) as Box<dyn Read + Send>)
            };
            self.send_image(&name, &plan, &open, repository, &reference, None, options)
        })())
    }

    /// Sends what `plan` lists to `repository`: blobs `jobs` at a time,
    /// then the manifests, children first, the entry last under `target`.
    #[allow(clippy::too_many_arguments)]
    fn send_image(
        &self,
        name: &str,
        plan: &Plan,
        open: &dyn BlobSourceFn,
        repository: &str,
        target: &Reference,
        mount_from: Option<&str>,
        options: &CopyOptions,
    ) -> Result<CopyReport> {
        let tracker = Tracker {
            action: "copy",
            name,
            total: plan.total()?,
            done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            callback: options.progress.as_deref(),
        };
        let mut report = CopyReport {
            digest: plan.entry.digest.clone(),
            media_type: plan.entry.media_type.clone(),
            reference: target.clone(),
            manifests: plan.images.clone(),
            blobs_uploaded: 0,
            blobs_mounted: 0,
            blobs_existing: 0,
            bytes_uploaded: 0,
        };
        self.send_blobs(
            plan,
            open,
            repository,
            mount_from,
            options.jobs,
            &tracker,
            &mut report,
        )?;
        for (digest, body) in plan.manifests.iter().rev() {
            let media_type = Manifest::parse(None, body)?.media_type();
            let size = body.len() as u64;
            let reference = if digest == &plan.entry.digest {
                target.clone()
            } else {
                Reference::Digest(digest.clone())
            };
            let put = self.put_manifest(repository, &reference, media_type, body)?;
            if &put.digest != digest {
                return Err(Error::digest_mismatch(digest, put.digest));
            }
            tracker.advance(digest, size, size, size)?;
        }
        Ok(report)
    }

    /// The blobs of a copy, `jobs` at a time, largest first; the first
    /// failure stops the others.
    #[allow(clippy::too_many_arguments)]
    fn send_blobs(
        &self,
        plan: &Plan,
        open: &dyn BlobSourceFn,
        repository: &str,
        mount_from: Option<&str>,
        jobs: usize,
        tracker: &Tracker<'_>,
        report: &mut CopyReport,
    ) -> Result<()> {
        let totals = Mutex::new(report);
        in_parallel(&plan.blobs, jobs, tracker, |d| {
            let source = self.send_blob(d, open, repository, mount_from, tracker)?;
            let mut r = lock(&totals);
            match source {
                BlobSource::Uploaded => {
                    r.blobs_uploaded += 1;
                    r.bytes_uploaded = r.bytes_uploaded.saturating_add(d.size);
                }
                BlobSource::Mounted => r.blobs_mounted += 1,
                BlobSource::Existed => r.blobs_existing += 1,
            }
            Ok(())
        })
    }

    fn send_blob(
        &self,
        d: &Descriptor,
        open: &dyn BlobSourceFn,
        repository: &str,
        mount_from: Option<&str>,
        tracker: &Tracker<'_>,
    ) -> Result<BlobSource> {
        let mut options = UploadOptions::new().size(d.size);
        options = options.digest(&d.digest)?;
        if let Some(from) = mount_from {
            options = options.mount_from(from);
        }
        let reported = AtomicU64::new(0);
        let progress = |sent: u64| {
            let before = reported.swap(sent, Ordering::SeqCst);
            tracker.advance(&d.digest, sent, d.size, sent.saturating_sub(before))
        };
        let pushed = self.push_blob_with(repository, &options, Some(&progress), &mut || {
            open(d).map(|r| r as Box<dyn Read>)
        })?;
        if pushed.source != BlobSource::Uploaded {
            tracker.advance(&d.digest, d.size, d.size, d.size)?;
        }
        Ok(pushed.source)
    }
}

fn check_jobs(jobs: usize) -> Result<()> {
    if (1..=MAX_PULL_JOBS).contains(&jobs) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "copy jobs must be between 1 and {MAX_PULL_JOBS}, not {jobs}"
        )))
    }
}

/// The `index.json` entry to push: the one named `ref_name`, or the only
/// one.
fn layout_entry(layout: &Layout, ref_name: Option<&str>) -> Result<Descriptor> {
    match ref_name {
        Some(name) => layout.resolve(name)?.ok_or_else(|| {
            Error::not_found(format!(
                "{} in the layout {}",
                quote(name),
                layout.root().display()
            ))
        }),
        None => {
            let index = layout.index()?;
            match index.manifests.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(Error::not_found(format!(
                    "an image in the layout {}",
                    layout.root().display()
                ))),
                _ => Err(Error::invalid(format!(
                    "the layout {} holds {} images: name one",
                    layout.root().display(),
                    index.manifests.len()
                ))),
            }
        }
    }
}

/// Everything under `entry` in the layout: manifests (read and checked
/// here) and the blobs they name.
fn layout_plan(layout: &Layout, entry: Descriptor) -> Result<Plan> {
    let mut plan = Plan {
        entry: entry.clone(),
        manifests: Vec::new(),
        blobs: Vec::new(),
        images: Vec::new(),
        seen: Default::default(),
    };
    add_from_layout(layout, &entry, &mut plan, 0)?;
    Ok(plan)
}

fn add_from_layout(layout: &Layout, d: &Descriptor, plan: &mut Plan, depth: usize) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(Error::unsupported(format!(
            "{}: indexes nested more than {MAX_NESTING} deep",
            d.digest
        )));
    }
    if plan.seen.contains(&d.digest) {
        return Ok(());
    }
    let body = layout.read_blob(&d.digest, crate::http::limits::MANIFEST)?;
    if body.len() as u64 != d.size {
        return Err(Error::digest_mismatch(
            format!("{} ({} bytes)", d.digest, d.size),
            format!("{} bytes in the layout", body.len()),
        ));
    }
    let manifest = Manifest::parse(
        Some(&d.media_type)
            .filter(|m| !m.is_empty())
            .map(|m| m.as_str()),
        &body,
    )?;
    if let Some(index) = manifest.as_index() {
        plan.add_manifest(&d.digest, &body);
        for child in &index.manifests {
            add_from_layout(layout, child, plan, depth + 1)?;
        }
    } else if let Some(image) = manifest.as_image() {
        plan.add_image(&d.digest, &body, image);
    } else {
        plan.add_manifest(&d.digest, &body);
    }
    Ok(())
}
