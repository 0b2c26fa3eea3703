//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`,
//! as in the OCI image-spec's image-layout): written by
//! [`Client::pull`](crate::Client::pull), and readable by whoever pushes or
//! copies a layout later.
//!
//! Model code: files only, no network. Every blob is written to a
//! temporary file in the layout and renamed into `blobs/` only after its
//! size and digest were checked ([`BlobWriter`]), so a blob under its name
//! is whole; `index.json` is replaced the same way.
//!
//! ```no_run
//! use registry_client::layout::Layout;
//! use registry_client::Digest;
//! let layout = Layout::create("/tmp/app-layout")?;
//! let config = br#"{"architecture":"amd64","os":"linux"}"#;
//! let digest = Digest::sha256(config);
//! layout.write_blob(&digest, config)?;
//! assert!(layout.has_blob(&digest, config.len() as u64)?);
//! # Ok::<(), registry_client::Error>(())
//! ```

mod blob;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::digest::{Digest, VerifyingReader};
use crate::manifest::media_type;
use crate::manifest::{Descriptor, ImageIndex};
use crate::text::quote;
use crate::{Error, Result};

pub use blob::BlobWriter;

/// The annotation naming a reference ("tag") in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The `imageLayoutVersion` this crate writes.
pub const LAYOUT_VERSION: &str = "1.0.0";

/// Bound on the size of `oci-layout` and `index.json` read back.
pub const MAX_INDEX_BYTES: u64 = 16 << 20;

/// Prefix of the temporary files a layout holds while blobs are written.
const PARTIAL_PREFIX: &str = ".partial-";

/// An OCI image layout directory.
///
/// ```no_run
/// use registry_client::layout::Layout;
/// let layout = Layout::open("/tmp/app-layout")?;
/// if let Some(d) = layout.resolve("v1")? {
///     println!("v1 is {} ({})", d.digest, d.media_type);
/// }
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Opens the layout at `dir`, making it (and `dir`) when missing: a
    /// directory that is there but not a layout gets `oci-layout`,
    /// `index.json` and `blobs/`; one whose `oci-layout` names another
    /// version, or is not JSON, is refused.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/new-layout")?;
    /// assert!(layout.root().join("oci-layout").is_file());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn create(dir: impl AsRef<Path>) -> Result<Layout> {
        let root = dir.as_ref().to_path_buf();
        fs::create_dir_all(root.join("blobs"))
            .map_err(|e| Error::io(format!("cannot create {}", show(&root)), e))?;
        let layout = Layout { root };
        let marker = layout.root.join("oci-layout");
        if marker.exists() {
            layout.check_marker()?;
        } else {
            let text = format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}");
            layout.replace_file(&marker, text.as_bytes())?;
        }
        let index = layout.root.join("index.json");
        if !index.exists() {
            let empty = json!({
                "schemaVersion": 2,
                "mediaType": media_type::OCI_INDEX,
                "manifests": [],
            });
            layout.replace_file(&index, empty.to_string().as_bytes())?;
        }
        Ok(layout)
    }

    /// Opens an existing layout: `oci-layout` must name version 1.x and
    /// `index.json` must be there.
    ///
    /// ```no_run
    /// let e = registry_client::layout::Layout::open("/nonexistent").unwrap_err();
    /// assert_eq!(e.kind(), registry_client::ErrorKind::Io);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Layout> {
        let layout = Layout {
            root: dir.as_ref().to_path_buf(),
        };
        layout.check_marker()?;
        layout.index()?;
        Ok(layout)
    }

    /// The layout's directory.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/l")?;
    /// assert_eq!(layout.root(), std::path::Path::new("/tmp/l"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives: `blobs/<alg>/<hex>`.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/l")?;
    /// let d = registry_client::Digest::sha256(b"");
    /// assert!(layout.blob_path(&d).ends_with(format!("blobs/sha256/{}", d.hex())));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// Whether the blob is present, `size` bytes long and hashes to
    /// `digest` (it is read through to check; memory use does not depend
    /// on its size). A blob that is there but wrong counts as absent: the
    /// next write replaces it.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/l")?;
    /// assert!(!layout.has_blob(&registry_client::Digest::sha256(b"x"), 1)?);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool> {
        let path = self.blob_path(digest);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(format!("cannot open {}", show(&path)), e)),
        };
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", show(&path)), e))?
            .len();
        if len != size {
            return Ok(false);
        }
        let mut reader = VerifyingReader::new(file, digest.clone(), Some(size));
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(false),
                Err(e) => return Err(Error::io(format!("cannot read {}", show(&path)), e)),
            }
        }
    }

    /// Opens a blob for reading, verified against `digest` as it is read
    /// (a mismatch is an `InvalidData` error at the end, as for
    /// [`VerifyingReader`]).
    ///
    /// ```no_run
    /// use std::io::Read;
    /// let layout = registry_client::layout::Layout::open("/tmp/l")?;
    /// let d = registry_client::Digest::sha256(b"");
    /// let mut bytes = Vec::new();
    /// layout.open_blob(&d)?.read_to_end(&mut bytes)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn open_blob(&self, digest: &Digest) -> Result<VerifyingReader<File>> {
        let path = self.blob_path(digest);
        let file = File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::not_found(format!("blob {digest} in {}", show(&self.root)))
            } else {
                Error::io(format!("cannot open {}", show(&path)), e)
            }
        })?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", show(&path)), e))?
            .len();
        Ok(VerifyingReader::new(file, digest.clone(), Some(len)))
    }

    /// A small blob read whole (at most `limit` bytes) and verified.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::open("/tmp/l")?;
    /// let d = layout.resolve("v1")?.unwrap().digest;
    /// let manifest = layout.read_blob(&d, 4 << 20)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let mut out = Vec::new();
        let mut reader = self.open_blob(digest)?.take(limit.saturating_add(1));
        reader.read_to_end(&mut out).map_err(|e| {
            match e.get_ref().is_some_and(|i| i.is::<Error>()) {
                true => Error::from_io(e),
                false => Error::io(format!("cannot read {}", show(&path)), e),
            }
        })?;
        if out.len() as u64 > limit {
            return Err(Error::too_large(format!("blob {}", show(&path)), limit));
        }
        digest.verify(&out)?;
        Ok(out)
    }

    /// Writes a blob held in memory, after checking it against `digest`
    /// (nothing is written on a mismatch). A valid blob already there is
    /// kept as it is.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/l")?;
    /// let d = registry_client::Digest::sha256(b"hello");
    /// layout.write_blob(&d, b"hello")?;
    /// assert!(layout.write_blob(&d, b"hullo").is_err());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        digest.verify(bytes)?;
        if self.has_blob(digest, bytes.len() as u64)? {
            return Ok(());
        }
        let mut w = self.blob_writer(digest, bytes.len() as u64)?;
        w.write(bytes)?;
        w.commit()
    }

    /// A writer for the blob `digest` of `size` bytes: the bytes go to a
    /// temporary file in the layout, renamed into `blobs/` by
    /// [`BlobWriter::commit`] once size and digest are right; dropped
    /// without a commit, the temporary file is removed.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::create("/tmp/l")?;
    /// let d = registry_client::Digest::sha256(b"abc");
    /// let mut w = layout.blob_writer(&d, 3)?;
    /// w.write(b"ab")?;
    /// w.write(b"c")?;
    /// w.commit()?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob_writer(&self, digest: &Digest, size: u64) -> Result<BlobWriter> {
        let dir = self.blob_path(digest);
        let dir = dir.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", show(dir)), e))?;
        BlobWriter::create(
            self.partial_path(digest),
            self.blob_path(digest),
            digest,
            size,
        )
    }

    /// `index.json`, parsed.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::open("/tmp/l")?;
    /// for d in layout.index()?.manifests {
    ///     println!("{} {:?}", d.digest, d.annotations.get(registry_client::layout::REF_NAME));
    /// }
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn index(&self) -> Result<ImageIndex> {
        let path = self.root.join("index.json");
        let bytes = read_bounded(&path)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(show(&path), e))
    }

    /// The descriptor `index.json` names `ref_name` (its
    /// [`REF_NAME`] annotation), if any; the last one when several do.
    ///
    /// ```no_run
    /// let layout = registry_client::layout::Layout::open("/tmp/l")?;
    /// assert!(layout.resolve("no-such-tag")?.is_none());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn resolve(&self, ref_name: &str) -> Result<Option<Descriptor>> {
        Ok(self
            .index()?
            .manifests
            .into_iter()
            .rev()
            .find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(ref_name)))
    }

    /// Points `ref_name` at `descriptor` in `index.json`: entries with the
    /// same name are replaced, everything else (other entries, unknown
    /// fields) is kept. The blob the descriptor names should be in the
    /// layout first.
    ///
    /// ```no_run
    /// use registry_client::{layout::Layout, manifest::Descriptor};
    /// let layout = Layout::open("/tmp/l")?;
    /// let d: Descriptor = serde_json::from_str(r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json",
    ///   "digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}"#).unwrap();
    /// layout.set_ref("v1", &d)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn set_ref(&self, ref_name: &str, descriptor: &Descriptor) -> Result<()> {
        if ref_name.is_empty() || ref_name.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "invalid reference name {} for an image layout",
                quote(ref_name)
            )));
        }
        let path = self.root.join("index.json");
        let bytes = read_bounded(&path)?;
        let mut index: Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::decode(show(&path), e))?;
        let Some(object) = index.as_object_mut() else {
            return Err(Error::decode(show(&path), "not a JSON object"));
        };
        let manifests = object
            .entry("manifests")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(list) = manifests.as_array_mut() else {
            return Err(Error::decode(show(&path), "`manifests` is not an array"));
        };
        list.retain(|d| d["annotations"][REF_NAME].as_str() != Some(ref_name));
        let mut entry = descriptor.clone();
        entry
            .annotations
            .insert(REF_NAME.to_string(), ref_name.to_string());
        let entry = serde_json::to_value(&entry)
            .map_err(|e| Error::decode("descriptor for index.json", e))?;
        list.push(entry);
        let text = serde_json::to_vec(&index).map_err(|e| Error::decode(show(&path), e))?;
        self.replace_file(&path, &text)
    }

    fn check_marker(&self) -> Result<()> {
        let path = self.root.join("oci-layout");
        let bytes = read_bounded(&path)?;
        let marker: Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::decode(show(&path), e))?;
        match marker.get("imageLayoutVersion").and_then(Value::as_str) {
            Some(v) if v.split('.').next() == Some("1") => Ok(()),
            Some(v) => Err(Error::unsupported(format!(
                "image layout version {} in {} (only 1.x)",
                quote(v),
                show(&path)
            ))),
            None => Err(Error::decode(show(&path), "no imageLayoutVersion")),
        }
    }

    /// A temporary file for the blob `digest`.
    fn partial_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.unique(&format!(
            "{}-{}",
            digest.algorithm(),
            &hex[..hex.len().min(16)]
        ))
    }

    /// A temporary file name in the layout's root, unique in this process
    /// and among processes.
    fn unique(&self, label: &str) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.root.join(format!(
            "{PARTIAL_PREFIX}{label}-{}-{n}",
            std::process::id()
        ))
    }

    /// Replaces `path` with `bytes` atomically (temporary file, sync, rename).
    fn replace_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.unique(&name);
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(format!("cannot write {}", show(path)), e)
        })
    }
}

/// A file of at most [`MAX_INDEX_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(format!("cannot open {}", show(path)), e))?;
    let mut out = Vec::new();
    file.take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(format!("cannot read {}", show(path)), e))?;
    if out.len() as u64 > MAX_INDEX_BYTES {
        return Err(Error::too_large(show(path), MAX_INDEX_BYTES));
    }
    Ok(out)
}

/// A path for messages.
fn show(path: &Path) -> String {
    quote(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type::OCI_MANIFEST.into(),
            digest: Digest::sha256(bytes),
            size: bytes.len() as u64,
            urls: Vec::new(),
            annotations: Default::default(),
            platform: None,
            artifact_type: None,
        }
    }

    #[test]
    fn a_new_layout_has_its_marker_an_empty_index_and_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("l")).unwrap();
        let marker: Value =
            serde_json::from_slice(&fs::read(layout.root().join("oci-layout")).unwrap()).unwrap();
        assert_eq!(marker["imageLayoutVersion"], LAYOUT_VERSION);
        assert!(layout.root().join("blobs").is_dir());
        assert!(layout.index().unwrap().manifests.is_empty());
        Layout::open(layout.root()).unwrap();
        // Creating again keeps what is there.
        layout.set_ref("v1", &descriptor(b"m")).unwrap();
        let again = Layout::create(layout.root()).unwrap();
        assert_eq!(again.index().unwrap().manifests.len(), 1);
    }

    #[test]
    fn blobs_are_verified_before_they_get_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        let d = Digest::sha256(b"hello");
        let e = layout.write_blob(&d, b"hullo").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::DigestMismatch);
        assert!(!layout.blob_path(&d).exists());
        // A writer: too many bytes fail at once, a wrong digest at commit.
        let mut w = layout.blob_writer(&d, 5).unwrap();
        w.write(b"hel").unwrap();
        assert_eq!(
            w.write(b"lo!").unwrap_err().kind(),
            crate::ErrorKind::DigestMismatch
        );
        drop(w);
        let mut w = layout.blob_writer(&d, 5).unwrap();
        w.write(b"jello").unwrap();
        assert_eq!(
            w.commit().unwrap_err().kind(),
            crate::ErrorKind::DigestMismatch
        );
        let mut w = layout.blob_writer(&d, 5).unwrap();
        w.write(b"xx").unwrap();
        w.restart().unwrap();
        w.write(b"hello").unwrap();
        w.commit().unwrap();
        assert!(layout.has_blob(&d, 5).unwrap());
        assert!(!layout.has_blob(&d, 6).unwrap());
        assert_eq!(layout.read_blob(&d, 5).unwrap(), b"hello");
        assert_eq!(
            layout.read_blob(&d, 4).unwrap_err().kind(),
            crate::ErrorKind::TooLarge
        );
        // No temporary file is left behind, on success or failure.
        let names: Vec<String> = fs::read_dir(layout.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(PARTIAL_PREFIX)),
            "{names:?}"
        );
        // A corrupted blob is not "present", and a write replaces it.
        fs::write(layout.blob_path(&d), b"HELLO").unwrap();
        assert!(!layout.has_blob(&d, 5).unwrap());
        layout.write_blob(&d, b"hello").unwrap();
        assert_eq!(fs::read(layout.blob_path(&d)).unwrap(), b"hello");
    }

    #[test]
    fn refs_are_replaced_and_other_entries_and_fields_kept() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/xml", "size": 1,
                "digest": Digest::sha256(b"x").to_string()}],
            "annotations": {"com.example": "kept"},
        });
        fs::write(layout.root().join("index.json"), index.to_string()).unwrap();
        layout.set_ref("v1", &descriptor(b"one")).unwrap();
        layout.set_ref("v2", &descriptor(b"two")).unwrap();
        layout.set_ref("v1", &descriptor(b"three")).unwrap();
        let got = layout.index().unwrap();
        assert_eq!(got.manifests.len(), 3);
        assert_eq!(got.annotations["com.example"], "kept");
        assert_eq!(
            layout.resolve("v1").unwrap().unwrap().digest,
            Digest::sha256(b"three")
        );
        assert_eq!(
            layout.resolve("v2").unwrap().unwrap().digest,
            Digest::sha256(b"two")
        );
        assert!(layout.resolve("v3").unwrap().is_none());
        assert_eq!(
            layout.set_ref("", &descriptor(b"x")).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn what_is_not_a_layout_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let e = Layout::open(dir.path()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("oci-layout"), "{e}");
        fs::write(
            dir.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"2.0.0"}"#,
        )
        .unwrap();
        let e = Layout::create(dir.path()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Unsupported, "{e}");
        fs::write(dir.path().join("oci-layout"), "not json").unwrap();
        assert_eq!(
            Layout::create(dir.path()).unwrap_err().kind(),
            crate::ErrorKind::Decode
        );
        fs::write(
            dir.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        fs::write(dir.path().join("index.json"), "[]").unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        assert_eq!(
            layout.set_ref("v1", &descriptor(b"x")).unwrap_err().kind(),
            crate::ErrorKind::Decode
        );
    }
}
