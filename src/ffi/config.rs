//! `regc_config`: the settings a `regc_client` is built from (the Rust
//! `ClientBuilder`).

use std::ffi::c_char;
use std::time::Duration;

use super::reference::regc_reference;
use super::{
    arg, arg_bytes, arg_mut, arg_str, create, free_handle, into_handle, query, regc_status, status,
};
use crate::text::check_header_value;
use crate::Credential;
use crate::{Client, ClientBuilder, Error};

/// Settings for a client: the registry URL, credentials, timeouts, retries,
/// TLS, cache. Made by `regc_config_new()`, changed by the
/// `regc_config_set_*()` functions, read by `regc_client_new()` (which may
/// be called several times), freed by `regc_config_free()`.
///
/// Not thread-safe for changes: a config being changed must not be used by
/// another thread at the same time. Reading it (`regc_client_new()`) from
/// many threads at once is fine.
pub struct regc_config {
    pub(crate) builder: ClientBuilder,
}

/// Applies one builder setting.
///
/// # Safety
///
/// `config` must be NULL or a live `regc_config` not used by another thread.
unsafe fn update(
    config: *mut regc_config,
    f: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<(), Error> {
    // SAFETY: forwarded from the caller.
    let config = unsafe { arg_mut(config, "config") }?;
    config.builder = f(config.builder.clone());
    Ok(())
}

/// Refuses, at the setter, a string that will be sent as an HTTP header
/// value: the C caller learns which call was wrong, and a value with CR/LF
/// never reaches the HTTP layer.
fn header_value(what: &str, value: &str) -> Result<(), Error> {
    check_header_value(what, value).map_err(Error::invalid)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Creates a config for the registry at `registry_url`: `host[:port]` or a
/// URL (`https://` is assumed unless `http://` is given; a path prefix is
/// kept). Defaults: anonymous, 30 s timeout, 3 retries from 1 s, TLS
/// verified against the bundled Mozilla roots, a 256-entry 5-minute cache.
///
/// Returns a new config owned by the caller (free it with
/// `regc_config_free()`), or NULL when `registry_url` is NULL, not UTF-8 or
/// not a valid registry URL; the reason is in `regc_last_error_message()`.
/// Thread-safe.
///
/// # Safety
///
/// `registry_url` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn regc_config_new(registry_url: *const c_char) -> *mut regc_config {
    create(|| {
        // SAFETY: forwarded from the caller.
        let url = unsafe { arg_str(registry_url, "registry_url") }?;
        // Building a client validates the URL (and builds no connection).
        Client::builder(url).build()?;
        Ok(into_handle(regc_config {
            builder: Client::builder(url),
        }))
    })
}

/// Frees a config made by `regc_config_new()`. NULL does nothing. Clients
/// already made from it are not affected.
///
/// # Safety
///
/// `config` must be NULL or a config from `regc_config_new()` that is not
/// freed yet nor in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_free(config: *mut regc_config) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(config) })
}

/// Username and password (or an access token as the password) for Basic
/// challenges and to obtain Bearer tokens. Replaces any earlier credentials.
/// The strings are copied.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not UTF-8,
/// when the username is empty or contains ':', or when either contains a
/// control character (such as CR or LF); the config is then unchanged.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread; the strings:
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_basic_auth(
    config: *mut regc_config,
    username: *const c_char,
    password: *const c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (username, password) = unsafe {
            (
                arg_str(username, "username")?,
                arg_str(password, "password")?,
            )
        };
        Credential::basic(username, password).validate()?;
        // SAFETY: forwarded from the caller.
        unsafe { update(config, |b| b.basic_auth(username, password)) }
    })
}

/// A ready bearer token sent with every request (no token exchange).
/// Replaces any earlier credentials. The string is copied.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not UTF-8,
/// or when the token is empty or contains a space, a control character (such
/// as CR or LF) or non-ASCII text; the config is then unchanged.
///
/// # Safety
///
/// As for `regc_config_set_basic_auth()`.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_bearer_token(
    config: *mut regc_config,
    token: *const c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let token = unsafe { arg_str(token, "token") }?;
        Credential::bearer(token).validate()?;
        // SAFETY: forwarded from the caller.
        unsafe { update(config, |b| b.bearer_token(token)) }
    })
}

/// Deadline for one HTTP exchange, body included, in milliseconds
/// (default 30000). 0 is refused by `regc_client_new()`.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_timeout_ms(
    config: *mut regc_config,
    ms: u64,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.timeout(millis(ms))) })
}

/// Retries after the first attempt, for connection errors, timeouts, 5xx
/// and 429 (default 3; 0 turns retrying off).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_max_retries(
    config: *mut regc_config,
    retries: u32,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.max_retries(retries)) })
}

/// Base delay of the exponential backoff between retries, in milliseconds
/// (default 1000): retry n waits about delay × 2ⁿ, with jitter.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_retry_delay_ms(
    config: *mut regc_config,
    ms: u64,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.retry_delay(millis(ms))) })
}

/// Cap on one backoff delay and on an honoured `Retry-After`, in
/// milliseconds (default 30000).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_max_retry_delay_ms(
    config: *mut regc_config,
    ms: u64,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.max_retry_delay(millis(ms))) })
}

/// Whether to verify the server's TLS certificate (default true). Turning it
/// off is for tests only.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_verify_tls(
    config: *mut regc_config,
    verify: bool,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.verify_tls(verify)) })
}

/// Trusts the CA certificates in the PEM file at `pem_path`, besides the
/// bundled Mozilla roots. Can be called several times. The file is read by
/// `regc_client_new()`, which fails with `REGC_ERR_INVALID_ARGUMENT` when it
/// cannot be read or holds no certificate.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not UTF-8.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread; `pem_path`:
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_ca_cert_file(
    config: *mut regc_config,
    pem_path: *const c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let path = unsafe { arg_str(pem_path, "pem_path") }?;
        // SAFETY: forwarded from the caller.
        unsafe { update(config, |b| b.ca_certificate_file(path)) }
    })
}

/// Trusts the CA certificates in `len` bytes of PEM data at `pem` (copied),
/// besides the bundled Mozilla roots. Can be called several times. Data
/// without a certificate is refused by `regc_client_new()`.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` or `pem` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread; `pem`: NULL
/// or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_ca_cert_pem(
    config: *mut regc_config,
    pem: *const u8,
    len: usize,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let pem = unsafe { arg_bytes(pem, len, "pem") }?;
        // SAFETY: forwarded from the caller.
        unsafe { update(config, |b| b.ca_certificate_pem(pem)) }
    })
}

/// The `User-Agent` header (default `registry-client/<version>`). The string
/// is copied.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not UTF-8,
/// or when the string cannot be a header value (empty, control characters
/// such as CR or LF, non-ASCII text); the config is then unchanged.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread;
/// `user_agent`: NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_user_agent(
    config: *mut regc_config,
    user_agent: *const c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let user_agent = unsafe { arg_str(user_agent, "user_agent") }?;
        header_value("user agent", user_agent)?;
        // SAFETY: forwarded from the caller.
        unsafe { update(config, |b| b.user_agent(user_agent)) }
    })
}

/// The response cache: at most `capacity` responses (default 256; 0 turns
/// the cache off), tags, listings and manifests by tag staying fresh for
/// `ttl_ms` milliseconds (default 300000). Content fetched by digest never
/// goes stale.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_cache(
    config: *mut regc_config,
    capacity: usize,
    ttl_ms: u64,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe {
        update(config, |b| {
            b.cache_capacity(capacity).cache_ttl(millis(ttl_ms))
        })
    })
}

/// Bound on the bytes the response cache holds (default 64 MiB).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_cache_max_bytes(
    config: *mut regc_config,
    bytes: usize,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.cache_max_bytes(bytes)) })
}

/// Items asked for per page when listing repositories or tags (`n`); by
/// default the registry's own page size. Listings still return every item,
/// page after page. 0 is refused by `regc_client_new()`.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_page_size(
    config: *mut regc_config,
    page_size: usize,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.page_size(page_size)) })
}

/// The circuit breaker: after `failure_threshold` consecutive failed
/// attempts (connection errors, timeouts, 5xx) on one host, calls fail at
/// once with `REGC_ERR_CIRCUIT_OPEN` for `cooldown_ms` milliseconds, then one
/// probe is let through. A threshold of 0 turns the breaker off. Default: 5
/// failures, 60000 ms.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_set_circuit_breaker(
    config: *mut regc_config,
    failure_threshold: u32,
    cooldown_ms: u64,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe {
        update(config, |b| {
            b.circuit_breaker(failure_threshold, millis(cooldown_ms))
        })
    })
}

/// Creates a config for the registry of `reference` (as
/// `regc_reference_registry()` names it; Docker Hub's is reached at
/// `registry-1.docker.io`) that uses the logins already made with podman,
/// skopeo, buildah or docker, as `regc_config_use_system_credentials()`
/// describes. Other settings are `regc_config_new()`'s defaults; a registry
/// on `localhost`, `127.0.0.0/8` or `[::1]` that does not speak TLS is
/// reached over plain http.
///
/// Returns a new config owned by the caller (free it with
/// `regc_config_free()`), or NULL when `reference` is NULL; the reason is in
/// `regc_last_error_message()`. Thread-safe.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_config_new_for_reference(
    reference: *const regc_reference,
) -> *mut regc_config {
    create(|| {
        // SAFETY: forwarded from the caller.
        let reference = unsafe { arg(reference, "reference") }?;
        let builder = Client::builder(reference.reference.registry()).credentials_from_system();
        builder.clone().build()?;
        Ok(into_handle(regc_config { builder }))
    })
}

/// When the config has no credentials of its own (`regc_config_set_basic_auth()`,
/// `regc_config_set_bearer_token()`, set before or after this call), uses
/// the logins already made with podman, skopeo, buildah or docker:
/// `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `~/.config/containers/auth.json`, then Docker's `config.json`
/// (`$DOCKER_CONFIG` or `~/.docker`) with its credential helpers; anonymous
/// when they have nothing for the registry. The files are read, and helpers
/// run (bounded by the config's timeout), when the registry asks for
/// credentials, with the environment of that moment.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when `config` is NULL.
///
/// # Safety
///
/// `config`: NULL or a live config not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_config_use_system_credentials(
    config: *mut regc_config,
) -> regc_status {
    // SAFETY: forwarded from the caller.
    status(|| unsafe { update(config, |b| b.credentials_from_system()) })
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, CString};

    use super::*;
    use crate::ffi::errors::regc_last_error_message;

    fn last_message() -> String {
        // SAFETY: regc_last_error_message never returns NULL.
        unsafe { CStr::from_ptr(regc_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    /// Runs `f` on a fresh config; returns its status, the last error and
    /// the config's debug text afterwards (to see what it holds).
    fn set(f: impl FnOnce(*mut regc_config) -> regc_status) -> (regc_status, String, String) {
        // SAFETY: a valid C string; the config is freed below.
        let config = unsafe { regc_config_new(c"localhost:5000".as_ptr()) };
        assert!(!config.is_null());
        let status = f(config);
        let message = last_message();
        // SAFETY: live until freed here.
        let builder = format!("{:?}", unsafe { &(*config).builder });
        // SAFETY: from regc_config_new, freed once.
        unsafe { regc_config_free(config) };
        (status, message, builder)
    }

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    #[test]
    fn header_strings_are_checked_when_set() {
        use regc_status::*;
        // SAFETY (each closure): a live config and valid C strings.
        let ua = |v: &str| set(|cfg| unsafe { regc_config_set_user_agent(cfg, c(v).as_ptr()) });
        let (s, msg, builder) = ua("x\r\nX-Evil: 1");
        assert_eq!(s, REGC_ERR_INVALID_ARGUMENT);
        assert!(msg.contains("user agent contains \\r"), "{msg}");
        assert!(
            !builder.contains("X-Evil"),
            "the config was changed: {builder}"
        );
        for bad in ["", "a\nb", "caf\u{e9}"] {
            assert_eq!(ua(bad).0, REGC_ERR_INVALID_ARGUMENT, "{bad:?}");
        }
        assert_eq!(ua("tool/1.0 (x)").0, REGC_OK);

        let token =
            |v: &str| set(|cfg| unsafe { regc_config_set_bearer_token(cfg, c(v).as_ptr()) });
        for bad in ["", "a b", "t\r\nX-Evil: 1", "t\u{7f}"] {
            let (s, msg, _) = token(bad);
            assert_eq!(s, REGC_ERR_INVALID_ARGUMENT, "{bad:?}");
            assert!(msg.contains("bearer token"), "{msg}");
        }
        assert_eq!(token("a.b-c_d~e+f/g=").0, REGC_OK);

        let basic = |u: &str, p: &str| {
            set(|cfg| unsafe { regc_config_set_basic_auth(cfg, c(u).as_ptr(), c(p).as_ptr()) })
        };
        for (u, p, want) in [
            ("", "s3cr3t", "username is empty"),
            ("a:b", "s3cr3t", "contains ':'"),
            ("a\r\nb", "s3cr3t", "control character \\r"),
            (
                "alice",
                "s3cr3t\nX",
                "password contains the control character \\n",
            ),
        ] {
            let (s, msg, _) = basic(u, p);
            assert_eq!(s, REGC_ERR_INVALID_ARGUMENT, "{u:?} {p:?}");
            assert!(msg.contains(want), "{msg}");
            assert!(!msg.contains("s3cr3t"), "the password shows: {msg}");
        }
        // UTF-8, spaces and ':' in the password are fine (base64 on the wire).
        assert_eq!(basic("jos\u{e9}", "p a:s\u{e9}").0, REGC_OK);
        assert_eq!(basic("alice", "").0, REGC_OK);
    }
}
