//! What the operations accept for a manifest reference or a blob digest:
//! text as typed (`"v1"`, `"sha256:…"`) or the already parsed types, so a
//! digest taken from one answer goes into the next call as it is.

use crate::digest::Digest;
use crate::reference::Reference;
use crate::Result;

mod sealed {
    use crate::digest::Digest;
    use crate::reference::{ImageReference, Reference};
    use crate::Result;

    /// Only this crate's argument types: the conversions may grow without
    /// breaking anyone.
    pub trait Sealed {}

    impl<T: ?Sized> Sealed for &T {}

    /// What a reference can be made from.
    pub trait ReferenceSource {
        fn reference(&self) -> Result<Reference>;
    }

    /// What a digest can be made from.
    pub trait DigestSource {
        fn digest(&self) -> Result<Digest>;
    }

    impl ReferenceSource for str {
        fn reference(&self) -> Result<Reference> {
            Reference::parse(self)
        }
    }

    impl ReferenceSource for String {
        fn reference(&self) -> Result<Reference> {
            Reference::parse(self)
        }
    }

    impl ReferenceSource for Digest {
        fn reference(&self) -> Result<Reference> {
            Ok(Reference::Digest(self.clone()))
        }
    }

    impl ReferenceSource for Reference {
        fn reference(&self) -> Result<Reference> {
            Ok(self.clone())
        }
    }

    /// An image reference's tag or digest (`latest` when it has neither).
    impl ReferenceSource for ImageReference {
        fn reference(&self) -> Result<Reference> {
            Ok(ImageReference::reference(self))
        }
    }

    /// `&&str` too, as slice patterns hand them out.
    impl<T: ReferenceSource + ?Sized> ReferenceSource for &T {
        fn reference(&self) -> Result<Reference> {
            (**self).reference()
        }
    }

    impl DigestSource for str {
        fn digest(&self) -> Result<Digest> {
            Digest::parse(self)
        }
    }

    impl DigestSource for String {
        fn digest(&self) -> Result<Digest> {
            Digest::parse(self)
        }
    }

    impl DigestSource for Digest {
        fn digest(&self) -> Result<Digest> {
            Ok(self.clone())
        }
    }

    impl<T: DigestSource + ?Sized> DigestSource for &T {
        fn digest(&self) -> Result<Digest> {
            (**self).digest()
        }
    }
}

/// A tag or digest naming a manifest: `&str` or `&String` (parsed, so bad
/// text is an [`InvalidInput`](crate::ErrorKind::InvalidInput) error before
/// any request), `&Reference`, `&Digest`, or `&ImageReference` (its digest,
/// else its tag, else `latest`), so that a parsed image reference goes to
/// an operation as `client.get_manifest(r.repository(), &r)`.
///
/// ```
/// use registry_client::{Digest, ImageReference, Reference, ToReference};
/// let d = Digest::sha256(b"x");
/// assert_eq!("v1".to_reference()?.as_str(), "v1");
/// assert_eq!((&d).to_reference()?, Reference::Digest(d.clone()));
/// assert!("bad tag".to_reference().is_err());
/// let r: ImageReference = "localhost:5000/app:v2".parse()?;
/// assert_eq!((&r).to_reference()?.as_str(), "v2");
/// # Ok::<(), registry_client::Error>(())
/// ```
pub trait ToReference: sealed::Sealed {
    /// The reference, parsed or copied.
    fn to_reference(&self) -> Result<Reference>;
}

/// A blob digest: `&str` or `&String` (parsed) or `&Digest`.
///
/// ```
/// use registry_client::{Digest, ToDigest};
/// let d = Digest::sha256(b"x");
/// assert_eq!(d.as_str().to_digest()?, d);
/// assert!("sha256:zz".to_digest().is_err());
/// # Ok::<(), registry_client::Error>(())
/// ```
pub trait ToDigest: sealed::Sealed {
    /// The digest, parsed or copied.
    fn to_digest(&self) -> Result<Digest>;
}

// Borrowed forms only: the caller keeps its value, and one way to pass each
// type keeps call sites uniform (no by-value twin for lints to suggest).
impl<T: sealed::ReferenceSource + ?Sized> ToReference for &T {
    fn to_reference(&self) -> Result<Reference> {
        (**self).reference()
    }
}

impl<T: sealed::DigestSource + ?Sized> ToDigest for &T {
    fn to_digest(&self) -> Result<Digest> {
        (**self).digest()
    }
}
