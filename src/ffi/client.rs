//! `regc_client` and the registry operations.

use std::ffi::c_char;

use super::config::regc_config;
use super::values::{regc_manifest, regc_string_list};
use super::{arg, arg_opt_str, arg_str, free_handle, into_handle, query, regc_status};
use super::{status, Out};
use crate::{Client, Error, Platform};

/// A registry client. Thread-safe: one `regc_client` may be used from many
/// threads at once (it shares one connection pool, token cache and response
/// cache); only `regc_client_free()` must not race with other uses. Made by
/// `regc_client_new()`, freed by `regc_client_free()`.
pub struct regc_client {
    client: Client,
}

impl regc_client {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

/// Builds a client from `config` and writes it to `*out` (owned by the
/// caller; free it with `regc_client_free()`). The config is only read: it
/// can be freed, changed or used again afterwards. No request is sent.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or a setting
/// is invalid (zero timeout or page size, bad username or token, unreadable
/// CA file); `*out` is written only on success. Thread-safe.
///
/// # Safety
///
/// `config`: NULL or a live config not being changed; `out`: NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn regc_client_new(
    config: *const regc_config,
    out: *mut *mut regc_client,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let config = unsafe { arg(config, "config") }?;
        let out = Out::new(out, "out")?;
        let client = config.builder.clone().build()?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write(into_handle(regc_client { client })) };
        Ok(())
    })
}

/// Frees a client (its connections and caches). NULL does nothing.
///
/// # Safety
///
/// `client` must be NULL or a client from `regc_client_new()`, not freed
/// yet, and no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn regc_client_free(client: *mut regc_client) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(client) })
}

/// Checks that the registry speaks API v2 (`GET /v2/`), authenticating when
/// it asks and credentials are configured. On success writes to
/// `*auth_required` whether the registry asked for credentials.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL, or the
/// failure (`REGC_ERR_CONNECTION`, `REGC_ERR_AUTH`, …). Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `auth_required`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_ping(
    client: *const regc_client,
    auth_required: *mut bool,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let client = unsafe { arg(client, "client") }?;
        let out = Out::new(auth_required, "auth_required")?;
        let info = client.client.ping()?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write(info.auth_required) };
        Ok(())
    })
}

/// Writes a list to `*out` (owned by the caller).
///
/// # Safety
///
/// `out` must be writable.
unsafe fn write_list(
    out: Out<*mut regc_string_list>,
    items: Vec<String>,
    what: &str,
) -> Result<(), Error> {
    let list = regc_string_list::new(items, what)?;
    // SAFETY: forwarded from the caller.
    unsafe { out.write(into_handle(list)) };
    Ok(())
}

/// Lists every repository of the registry (`GET /v2/_catalog`, following
/// pagination) and writes the list to `*out` (owned by the caller; free it
/// with `regc_string_list_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL, or the
/// failure; `*out` is written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `out`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_list_repositories(
    client: *const regc_client,
    out: *mut *mut regc_string_list,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let client = unsafe { arg(client, "client") }?;
        let out = Out::new(out, "out")?;
        let repositories = client.client.list_repositories()?;
        // SAFETY: forwarded from the caller.
        unsafe { write_list(out, repositories, "repository name") }
    })
}

/// Lists every tag of `repository` (such as "library/alpine";
/// `GET /v2/<name>/tags/list`, following pagination), in the registry's
/// order, and writes the list to `*out` (owned by the caller; free it with
/// `regc_string_list_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not UTF-8
/// or the name is invalid, `REGC_ERR_NOT_FOUND` for an unknown repository,
/// or another failure; `*out` is written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`: NULL or NUL-terminated;
/// `out`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_list_tags(
    client: *const regc_client,
    repository: *const c_char,
    out: *mut *mut regc_string_list,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository) =
            unsafe { (arg(client, "client")?, arg_str(repository, "repository")?) };
        let out = Out::new(out, "out")?;
        let tags = client.client.list_tags(repository)?;
        // SAFETY: forwarded from the caller.
        unsafe { write_list(out, tags, "tag") }
    })
}

/// Fetches the manifest of `repository` at `reference` (a tag such as "v1"
/// or a digest such as "sha256:…"), in any supported media type (Docker v2
/// schema 2, Docker manifest list, OCI image manifest, OCI image index),
/// verifies its digest, and writes it to `*out` (owned by the caller; free it
/// with `regc_manifest_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument, `REGC_ERR_NOT_FOUND`, `REGC_ERR_DIGEST_MISMATCH`, or another
/// failure; `*out` is written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `reference`: NULL or
/// NUL-terminated; `out`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_get_manifest(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    out: *mut *mut regc_manifest,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
            )
        };
        let out = Out::new(out, "out")?;
        let manifest = regc_manifest::new(client.client.get_manifest(repository, reference)?)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write(into_handle(manifest)) };
        Ok(())
    })
}

/// Resolves `reference` (tag or digest) of `repository` to the manifest's
/// digest with a `HEAD` request (falling back to `GET` when the registry
/// sends no `Docker-Content-Digest`), and writes it, such as "sha256:…", to
/// `*out` (owned by the caller; free it with `regc_string_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument, `REGC_ERR_NOT_FOUND`, or another failure; `*out` is written
/// only on success. Thread-safe.
///
/// # Safety
///
/// As for `regc_get_manifest()`.
#[no_mangle]
pub unsafe extern "C" fn regc_resolve_digest(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    out: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
            )
        };
        let out = Out::new(out, "out")?;
        let digest = client.client.manifest_digest(repository, reference)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(digest.to_string(), "digest") }
    })
}

/// Describes an image from its manifest and config blob, as a JSON object
/// written to `*out_json` (owned by the caller; free it with
/// `regc_string_free()`). The keys: "digest", "media_type", "config_digest",
/// "architecture", "os", "variant", "created", "author" (string or null),
/// "size" (config plus layers, in bytes), "layers" (array of {"digest",
/// "size", "media_type"}, base first), "labels" (object), "entrypoint",
/// "cmd", "env" (arrays of strings), "working_dir", "user" (string or null).
///
/// For an index or manifest list, `platform` ("os/arch[/variant]", such as
/// "linux/arm64/v8") picks the entry; NULL means linux and the host's
/// architecture. For a single image, a given `platform` must match it.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `platform`),
/// non-UTF-8 or invalid argument, `REGC_ERR_NOT_FOUND` (also for a platform
/// the image does not have), or another failure; `*out_json` is written
/// only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `reference`, `platform`:
/// NULL or NUL-terminated; `out_json`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_image_info_json(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    platform: *const c_char,
    out_json: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference, platform) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
                arg_opt_str(platform, "platform")?,
            )
        };
        let out = Out::new(out_json, "out_json")?;
        let platform = platform.map(Platform::parse).transpose()?;
        let info = client
            .client
            .image_info(repository, reference, platform.as_ref())?;
        let json = serde_json::to_string(&info)
            .map_err(|e| Error::decode_caused("image info as JSON", e))?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(json, "image info JSON") }
    })
}
