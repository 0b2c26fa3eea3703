//! Writing one blob: to a temporary file, hashed as it is written, renamed
//! under its digest only when size and digest are right.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;

use crate::digest::{Digest, Hasher};
use crate::{Error, Result};

use super::show;

/// A blob being written into a [`Layout`](super::Layout): see
/// [`Layout::blob_writer`](super::Layout::blob_writer).
///
/// ```no_run
/// let layout = registry_client::layout::Layout::create("/tmp/l")?;
/// let d = registry_client::Digest::sha256(b"abc");
/// let mut w = layout.blob_writer(&d, 3)?;
/// w.write(b"a")?;
/// w.restart()?; // the source started over
/// w.write(b"abc")?;
/// assert_eq!(w.written(), 3);
/// w.commit()?;
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug)]
pub struct BlobWriter {
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
    digest: Digest,
    size: u64,
    hasher: Hasher,
    written: u64,
}

impl BlobWriter {
    pub(super) fn create(
        tmp: PathBuf,
        dest: PathBuf,
        digest: &Digest,
        size: u64,
    ) -> Result<BlobWriter> {
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", show(&tmp)), e))?;
        Ok(BlobWriter {
            file: Some(BufWriter::with_capacity(64 << 10, file)),
            tmp,
            dest,
            digest: digest.clone(),
            size,
            hasher: digest.hasher(),
            written: 0,
        })
    }

    /// Bytes kept so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The size the blob must have.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `bytes`; more than the blob's size is a
    /// [`DigestMismatch`](Error::DigestMismatch) at once.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let after = self
            .written
            .checked_add(bytes.len() as u64)
            .filter(|&n| n <= self.size)
            .ok_or_else(|| {
                Error::digest_mismatch(
                    format!("{} ({} bytes)", self.digest, self.size),
                    format!("more than {} bytes", self.size),
                )
            })?;
        self.file()?
            .write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write {}", show(&self.tmp)), e))?;
        self.hasher.update(bytes);
        self.written = after;
        Ok(())
    }

    /// Drops what was written, to start again from the first byte.
    pub fn restart(&mut self) -> Result<()> {
        let tmp = show(&self.tmp);
        let file = self.file()?;
        let mut truncate = || -> std::io::Result<()> {
            file.flush()?;
            file.get_mut().set_len(0)?;
            file.get_mut().seek(SeekFrom::Start(0))?;
            Ok(())
        };
        truncate().map_err(|e| Error::io(format!("cannot truncate {tmp}"), e))?;
        self.hasher = self.digest.hasher();
        self.written = 0;
        Ok(())
    }

    /// Checks size and digest, makes the bytes durable and gives the file
    /// its name in `blobs/`; on a mismatch the temporary file is removed
    /// and nothing is renamed.
    pub fn commit(mut self) -> Result<()> {
        let hasher = std::mem::replace(&mut self.hasher, self.digest.hasher());
        let actual = hasher.finish();
        if actual != self.digest || self.written != self.size {
            return Err(Error::digest_mismatch(
                format!("{} ({} bytes)", self.digest, self.size),
                format!("{actual} ({} bytes)", self.written),
            ));
        }
        let Some(file) = self.file.take() else {
            return Err(Error::invalid("blob writer already closed"));
        };
        let tmp = show(&self.tmp);
        let file = file
            .into_inner()
            .map_err(|e| Error::io(format!("cannot write {tmp}"), e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot sync {tmp}"), e))?;
        drop(file);
        fs::rename(&self.tmp, &self.dest)
            .map_err(|e| Error::io(format!("cannot rename {tmp} to {}", show(&self.dest)), e))
    }

    fn file(&mut self) -> Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::invalid("blob writer already closed"))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a commit the file has its name, and this finds nothing.
        drop(self.file.take());
        let _ = fs::remove_file(&self.tmp);
    }
}
