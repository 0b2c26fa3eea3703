//! [`Registries`]: one [`Client`] per registry, made on first use from
//! shared settings, for programs that work on images from several
//! registries (inspect, copy, mirror).

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;

use crate::client::{ClientBuilder, ImageInfo, ManifestResponse};
use crate::digest::Digest;
use crate::platform::Platform;
use crate::reference::ImageReference;
use crate::{Client, Error, Result};

/// Default bound on the clients a [`Registries`] set keeps.
pub const DEFAULT_MAX_CLIENTS: usize = 32;

/// The clients for many registries, made from one template: each
/// registry gets its own [`Client`] (its own connections, tokens, response
/// cache and circuit breaker), built on first use with the template's
/// settings (timeouts, retries, TLS, cache, credentials lookup) and kept
/// for the next reference to the same registry.
///
/// `Send + Sync`: share one set (behind an `Arc` or a `&`) between threads.
///
/// The set keeps at most [`max_clients`](Self::max_clients) clients (32 by
/// default), dropping the least recently used: each client holds a
/// connection pool, tokens and a response cache of up to its
/// `cache_max_bytes`, and a program that takes references from its input
/// could otherwise be made to hold one per registry name it is ever shown.
/// A dropped client keeps working for whoever still holds it; the next use
/// of its registry makes a new one (new connections, new tokens).
///
/// Credentials are looked up per registry: the template may use
/// [`credentials_from_system`](ClientBuilder::credentials_from_system) or a
/// [`CredentialProvider`](crate::CredentialProvider) (asked with each
/// registry's name), but not `basic_auth` or `bearer_token`, whose one
/// secret would be offered to every registry.
///
/// ```no_run
/// use std::time::Duration;
/// use registry_client::{ClientBuilder, ImageReference, Registries};
///
/// let registries = Registries::new(
///     ClientBuilder::default()
///         .timeout(Duration::from_secs(10))
///         .credentials_from_system(),
/// )?;
/// for r in ["alpine:3.19", "ghcr.io/org/app:v1", "localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"] {
///     let r: ImageReference = r.parse()?;
///     let m = registries.get_manifest(&r)?;
///     println!("{r}: {} {}", m.digest, m.media_type);
/// }
/// // Or the client itself, for any operation:
/// let r: ImageReference = "ghcr.io/org/app:v1".parse()?;
/// let tags = registries.client(&r)?.list_tags(r.repository())?;
/// # Ok::<(), registry_client::Error>(())
/// ```
pub struct Registries {
    template: ClientBuilder,
    clients: Mutex<LruCache<String, Client>>,
}

impl fmt::Debug for Registries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clients = self.clients.lock();
        f.debug_struct("Registries")
            .field("template", &self.template)
            .field(
                "registries",
                &clients.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("max_clients", &clients.cap())
            .finish()
    }
}

impl Registries {
    /// A set whose clients are made from `template` (its registry, if it
    /// was made for one, is not used). [`InvalidInput`](crate::ErrorKind::InvalidInput)
    /// when the template carries `basic_auth` or `bearer_token`, or a
    /// setting `build` would refuse.
    ///
    /// ```
    /// use registry_client::{Client, ClientBuilder, ErrorKind, Registries};
    /// let r = Registries::new(ClientBuilder::default().max_retries(1))?;
    /// let e = Registries::new(Client::builder("x").basic_auth("u", "p")).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidInput);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn new(template: ClientBuilder) -> Result<Registries> {
        if template.has_fixed_credentials() {
            return Err(Error::invalid(
                "a Registries template must not carry basic_auth or bearer_token \
                 (one secret for every registry): use credentials_from_system() \
                 or credentials(provider), which answer per registry",
            ));
        }
        // Bad settings show now rather than at the first reference.
        template.for_registry("localhost").into_config()?;
        Ok(Registries {
            template,
            clients: Mutex::new(LruCache::new(
                NonZeroUsize::new(DEFAULT_MAX_CLIENTS).expect("a positive bound"),
            )),
        })
    }

    /// Keeps at most `n` clients (at least 1; default
    /// [`DEFAULT_MAX_CLIENTS`]).
    ///
    /// ```
    /// use registry_client::{ClientBuilder, Registries};
    /// let r = Registries::new(ClientBuilder::default())?.max_clients(4);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn max_clients(self, n: usize) -> Registries {
        self.clients
            .lock()
            .resize(NonZeroUsize::new(n.max(1)).expect("at least 1"));
        self
    }

    /// The client for `reference`'s registry (for Docker Hub, the API host
    /// `registry-1.docker.io`), made now if the set has none.
    ///
    /// ```
    /// use registry_client::{ClientBuilder, ImageReference, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let r: ImageReference = "localhost:5000/app:v1".parse()?;
    /// assert_eq!(set.client(&r)?.registry_url().as_str(), "https://localhost:5000/");
    /// let hub: ImageReference = "alpine".parse()?;
    /// assert_eq!(set.client(&hub)?.registry_url().host_str(), Some("registry-1.docker.io"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn client(&self, reference: &ImageReference) -> Result<Client> {
        self.client_for(reference.registry())
    }

    /// The client for `registry` as named in references (`host[:port]`).
    ///
    /// ```
    /// use registry_client::{ClientBuilder, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let a = set.client_for("ghcr.io")?;
    /// let b = set.client_for("GHCR.io")?;
    /// assert_eq!(set.len(), 1);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn client_for(&self, registry: &str) -> Result<Client> {
        let key = registry.trim().to_ascii_lowercase();
        let mut clients = self.clients.lock();
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        // Building reads no network (and CA files only if the template
        // names them): cheap enough to hold the lock, so that two threads
        // asking at once share one client.
        let client = self.template.for_registry(&key).build()?;
        clients.put(key, client.clone());
        Ok(client)
    }

    /// How many clients the set holds now.
    ///
    /// ```
    /// use registry_client::{ClientBuilder, Registries};
    /// assert_eq!(Registries::new(ClientBuilder::default())?.len(), 0);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    /// Whether the set holds no client.
    ///
    /// ```
    /// use registry_client::{ClientBuilder, Registries};
    /// assert!(Registries::new(ClientBuilder::default())?.is_empty());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The manifest `reference` names (its digest, else its tag, else
    /// `latest`), from its registry: [`Client::get_manifest`].
    ///
    /// ```no_run
    /// use registry_client::{ClientBuilder, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let m = set.get_manifest(&"localhost:5000/app:v1".parse()?)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn get_manifest(&self, reference: &ImageReference) -> Result<Arc<ManifestResponse>> {
        self.client(reference)?
            .get_manifest(reference.repository(), reference)
    }

    /// The digest of the manifest `reference` names:
    /// [`Client::manifest_digest`].
    ///
    /// ```no_run
    /// use registry_client::{ClientBuilder, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let d = set.manifest_digest(&"localhost:5000/app:v1".parse()?)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn manifest_digest(&self, reference: &ImageReference) -> Result<Digest> {
        self.client(reference)?
            .manifest_digest(reference.repository(), reference)
    }

    /// The tags of `reference`'s repository: [`Client::list_tags`].
    ///
    /// ```no_run
    /// use registry_client::{ClientBuilder, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let tags = set.list_tags(&"localhost:5000/app".parse()?)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn list_tags(&self, reference: &ImageReference) -> Result<Vec<String>> {
        self.client(reference)?.list_tags(reference.repository())
    }

    /// What the image `reference` names is: [`Client::image_info`].
    ///
    /// ```no_run
    /// use registry_client::{ClientBuilder, Registries};
    /// let set = Registries::new(ClientBuilder::default())?;
    /// let info = set.image_info(&"localhost:5000/app:v1".parse()?, None)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn image_info(
        &self,
        reference: &ImageReference,
        platform: Option<&Platform>,
    ) -> Result<ImageInfo> {
        self.client(reference)?
            .image_info(reference.repository(), reference, platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn one_client_per_registry_within_the_bound() {
        let set = Registries::new(ClientBuilder::default())
            .unwrap()
            .max_clients(2);
        let a: ImageReference = "localhost:5000/app".parse().unwrap();
        let b: ImageReference = "ghcr.io/org/app".parse().unwrap();
        let c: ImageReference = "alpine".parse().unwrap();
        let ca = set.client(&a).unwrap();
        assert_eq!(ca.registry_url().as_str(), "https://localhost:5000/");
        // The same registry, the same client (clones share one Arc).
        let again = set
            .client(&"LOCALHOST:5000/other".parse().unwrap())
            .unwrap();
        assert!(format!("{again:?}").contains("localhost:5000"));
        assert_eq!(set.len(), 1);
        set.client(&b).unwrap();
        set.client(&c).unwrap();
        assert_eq!(set.len(), 2, "{set:?}");
        // The least recently used one went; the evicted client still works.
        assert!(!format!("{set:?}").contains("localhost:5000"), "{set:?}");
        assert_eq!(ca.registry_url().port(), Some(5000));
        assert_eq!(
            set.client(&c).unwrap().registry_url().as_str(),
            "https://registry-1.docker.io/"
        );
    }

    #[test]
    fn template_settings_apply_and_fixed_secrets_are_refused() {
        let set = Registries::new(ClientBuilder::default().plain_http(true)).unwrap();
        let c = set.client_for("registry.internal:5000").unwrap();
        assert_eq!(c.registry_url().as_str(), "http://registry.internal:5000/");
        for t in [
            ClientBuilder::default().basic_auth("u", "p"),
            ClientBuilder::default().bearer_token("t"),
            ClientBuilder::default().page_size(0),
        ] {
            let e = Registries::new(t).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(!e.to_string().contains("\"p\""), "{e}");
        }
        assert!(set.client_for("bad host/").is_err());
    }

    #[test]
    fn shared_across_threads() {
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<Registries>();
        let set = Registries::new(ClientBuilder::default()).unwrap();
        std::thread::scope(|s| {
            for i in 0..8 {
                let set = &set;
                s.spawn(move || {
                    for j in 0..50 {
                        set.client_for(&format!("r{}.example", (i + j) % 3))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(set.len(), 3);
    }
}
