"""registry_client: Python bindings (ctypes, standard library only) over the
C library ``libregistry_client``, a blocking, thread-safe client for the
Docker Registry HTTP API v2 / OCI Distribution.

    >>> import registry_client as rc
    >>> with rc.Client("http://127.0.0.1:5000", username="alice",
    ...                password="secret") as client:          # doctest: +SKIP
    ...     print(client.list_tags("team/app"))
    ...     m = client.get_manifest("team/app", "v1")
    ...     print(m.digest, m.media_type, len(m.body))
    ...     with client.open_blob("team/app", m.json()["config"]["digest"]) as blob:
    ...         config = blob.read()      # verified against its digest
    ...     client.pull("team/app", "v1", "/tmp/app")     # an OCI image layout
    ...     with open("layer.tar.gz", "rb") as f:
    ...         layer = client.push_blob("team/app", f)   # streamed, "sha256:…"
    ...     client.tag("team/app", "v1", "stable")
    ...     client.delete_manifest("team/app", "old")

Every C function's ``argtypes``/``restype`` is declared once, in
``_DECLARATIONS``; a failing call raises a ``RegistryError`` subclass that
carries the status, its name, the HTTP status (when a server answered) and
the message; handles are freed by context managers (``with``) or ``close()``.

The library is found, in this order: the ``path`` given to ``load()``, the
``REGISTRY_CLIENT_LIB`` environment variable, then the system's search
(``libregistry_client.so.0`` as installed by ``scripts/install-c``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import threading
from typing import Any, Dict, List, Optional, Union

__all__ = [
    "load", "version", "Client", "Manifest", "Blob",
    "RegistryError", "InvalidArgument", "AuthError", "NotFound",
    "RegistryConnectionError", "RegistryTimeout", "RateLimited",
    "RegistryServerError", "CircuitOpen", "DigestMismatch", "DecodeError",
    "TooLarge", "Unsupported", "LibraryPanic", "RegistryIOError", "Cancelled",
    "Progress",
]

# --- errors -----------------------------------------------------------------


class RegistryError(Exception):
    """A call into the library failed.

    Attributes: ``status`` (the ``regc_status`` number), ``status_name``
    (``"REGC_ERR_NOT_FOUND"`` …), ``http_status`` (the HTTP status the
    server answered, or ``None``) and ``message`` (what went wrong).
    """

    def __init__(self, status: int, status_name: str, http_status: Optional[int],
                 message: str) -> None:
        self.status = status
        self.status_name = status_name
        self.http_status = http_status
        self.message = message
        http = f" (HTTP {http_status})" if http_status else ""
        super().__init__(f"{status_name}{http}: {message}")


class InvalidArgument(RegistryError, ValueError):
    """REGC_ERR_INVALID_ARGUMENT: a bad argument (also a bad URL or setting)."""


class AuthError(RegistryError):
    """REGC_ERR_AUTH: credentials missing, refused, or not enough."""


class NotFound(RegistryError, LookupError):
    """REGC_ERR_NOT_FOUND: no such repository, tag, manifest or blob."""


class RegistryConnectionError(RegistryError, ConnectionError):
    """REGC_ERR_CONNECTION: DNS, connect, TLS or transfer failure."""


class RegistryTimeout(RegistryError, TimeoutError):
    """REGC_ERR_TIMEOUT."""


class RateLimited(RegistryError):
    """REGC_ERR_RATE_LIMITED: the registry answered 429."""


class RegistryServerError(RegistryError):
    """REGC_ERR_REGISTRY: any other error answer of the registry."""


class CircuitOpen(RegistryError):
    """REGC_ERR_CIRCUIT_OPEN: too many failures in a row on this host."""


class DigestMismatch(RegistryError):
    """REGC_ERR_DIGEST_MISMATCH: content does not match its digest."""


class DecodeError(RegistryError):
    """REGC_ERR_DECODE: an answer that cannot be decoded."""


class TooLarge(RegistryError):
    """REGC_ERR_TOO_LARGE: an answer over the library's size limits."""


class Unsupported(RegistryError):
    """REGC_ERR_UNSUPPORTED."""


class LibraryPanic(RegistryError):
    """REGC_ERR_PANIC: a bug in the library (the call had no effect)."""


class RegistryIOError(RegistryError, OSError):
    """REGC_ERR_IO: writing received content locally failed."""


class Cancelled(RegistryError):
    """REGC_ERR_CANCELLED: the progress callback stopped a pull or copy
    (what was complete stays; doing it again resumes)."""


_ERRORS = {
    1: InvalidArgument, 2: AuthError, 3: NotFound, 4: RegistryConnectionError,
    5: RegistryTimeout, 6: RateLimited, 7: RegistryServerError, 8: CircuitOpen,
    9: DigestMismatch, 10: DecodeError, 11: TooLarge, 12: Unsupported,
    13: LibraryPanic, 14: RegistryIOError, 15: Cancelled,
}

# --- declarations -------------------------------------------------------------

_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_s = ctypes.c_char_p
_status = ctypes.c_uint32
_size = ctypes.c_size_t

_u8p = ctypes.POINTER(ctypes.c_uint8)
# regc_progress_fn and regc_read_fn. Passed as void pointers (NULL: None).
_PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                                ctypes.c_uint64)
_READ_FN = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, _u8p, _size)

# name: (restype, argtypes), once for every function used here.
_DECLARATIONS: Dict[str, tuple] = {
    "regc_version": (_s, []),
    "regc_status_name": (_s, [ctypes.c_uint32]),
    "regc_last_error_message": (_s, []),
    "regc_last_error_http_status": (ctypes.c_uint16, []),
    "regc_string_free": (None, [_p]),
    "regc_config_new": (_p, [_s]),
    "regc_config_free": (None, [_p]),
    "regc_config_set_basic_auth": (_status, [_p, _s, _s]),
    "regc_config_set_bearer_token": (_status, [_p, _s]),
    "regc_config_set_timeout_ms": (_status, [_p, ctypes.c_uint64]),
    "regc_config_set_max_retries": (_status, [_p, ctypes.c_uint32]),
    "regc_config_set_retry_delay_ms": (_status, [_p, ctypes.c_uint64]),
    "regc_config_set_max_retry_delay_ms": (_status, [_p, ctypes.c_uint64]),
    "regc_config_set_verify_tls": (_status, [_p, ctypes.c_bool]),
    "regc_config_set_ca_cert_file": (_status, [_p, _s]),
    "regc_config_set_ca_cert_pem": (_status, [_p, ctypes.c_char_p, _size]),
    "regc_config_set_user_agent": (_status, [_p, _s]),
    "regc_config_set_cache": (_status, [_p, _size, ctypes.c_uint64]),
    "regc_config_set_cache_max_bytes": (_status, [_p, _size]),
    "regc_config_set_page_size": (_status, [_p, _size]),
    "regc_config_set_circuit_breaker": (_status, [_p, ctypes.c_uint32, ctypes.c_uint64]),
    "regc_client_new": (_status, [_p, _pp]),
    "regc_client_free": (None, [_p]),
    "regc_ping": (_status, [_p, ctypes.POINTER(ctypes.c_bool)]),
    "regc_list_repositories": (_status, [_p, _pp]),
    "regc_list_tags": (_status, [_p, _s, _pp]),
    "regc_string_list_len": (_size, [_p]),
    "regc_string_list_get": (_s, [_p, _size]),
    "regc_string_list_free": (None, [_p]),
    "regc_get_manifest": (_status, [_p, _s, _s, _pp]),
    "regc_manifest_digest": (_s, [_p]),
    "regc_manifest_media_type": (_s, [_p]),
    "regc_manifest_body": (ctypes.POINTER(ctypes.c_uint8), [_p, ctypes.POINTER(_size)]),
    "regc_manifest_free": (None, [_p]),
    "regc_resolve_digest": (_status, [_p, _s, _s, _pp]),
    "regc_image_info_json": (_status, [_p, _s, _s, _s, _pp]),
    "regc_blob_open": (_status, [_p, _s, _s, _pp]),
    "regc_blob_read": (_status, [_p, ctypes.c_void_p, _size, ctypes.POINTER(_size)]),
    "regc_blob_size": (ctypes.c_int64, [_p]),
    "regc_blob_free": (None, [_p]),
    "regc_pull": (_status, [_p, _s, _s, _s, _s, ctypes.c_bool, ctypes.c_uint32, _p, _p]),
    "regc_blob_upload_buffer": (_status, [_p, _s, ctypes.c_char_p, _size, _pp]),
    "regc_blob_upload_callback": (_status, [_p, _s, _p, _p, _s, _pp]),
    "regc_manifest_put": (_status, [_p, _s, _s, _s, ctypes.c_char_p, _size, _pp]),
    "regc_tag": (_status, [_p, _s, _s, _s, _pp]),
    "regc_manifest_delete": (_status, [_p, _s, _s, _pp]),
    "regc_tag_delete": (_status, [_p, _s, _s]),
    "regc_blob_delete": (_status, [_p, _s, _s]),
    "regc_copy": (_status, [_p, _s, _s, _p, _s, _s, _s, ctypes.c_bool, ctypes.c_uint32,
                            _p, _p, _pp]),
    "regc_referrers": (_status, [_p, _s, _s, _s, _pp]),
}

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads the C library (once per process) and declares its functions.

    ``path`` (or ``$REGISTRY_CLIENT_LIB``) names the shared library; without
    either, the system's library search finds ``libregistry_client.so.0``.
    Raises ``OSError`` when the library cannot be found or lacks a function.
    """
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        path = path or os.environ.get("REGISTRY_CLIENT_LIB")
        if not path:
            path = ctypes.util.find_library("registry_client") or "libregistry_client.so.0"
        lib = ctypes.CDLL(path)
        missing = [name for name in _DECLARATIONS if not hasattr(lib, name)]
        if missing:
            raise OSError(f"{path} lacks {', '.join(missing)} (an older library?)")
        for name, (restype, argtypes) in _DECLARATIONS.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = lib
        return lib


def _c() -> ctypes.CDLL:
    return _lib if _lib is not None else load()


def version() -> str:
    """The C library's version, e.g. ``"0.1.0"``."""
    return _c().regc_version().decode()


def _text(value: Union[str, bytes], what: str) -> bytes:
    """A string argument as C wants it (UTF-8, no NUL inside)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in value:
        raise InvalidArgument(1, "REGC_ERR_INVALID_ARGUMENT", None,
                              f"{what} contains a NUL byte")
    return bytes(value)


def _error(status: int) -> RegistryError:
    """The exception for a failed call, from this thread's last error."""
    lib = _c()
    name = lib.regc_status_name(status).decode()
    message = (lib.regc_last_error_message() or b"").decode("utf-8", "replace")
    http = lib.regc_last_error_http_status() or None
    return _ERRORS.get(status, RegistryError)(status, name, http, message)


def _check(status: int) -> None:
    if status != 0:
        raise _error(status)


def _take_string(ptr: ctypes.c_void_p) -> str:
    """A string the library allocated, copied and freed."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        _c().regc_string_free(ptr)


def _opt_text(value: Optional[Union[str, bytes]], what: str) -> Optional[bytes]:
    return None if value is None else _text(value, what)


def _jobs(jobs: int) -> int:
    if not 0 <= jobs <= 64:
        raise InvalidArgument(1, "REGC_ERR_INVALID_ARGUMENT", None,
                              f"jobs must be between 1 and 64 (0: the default), not {jobs}")
    return jobs


# --- values -------------------------------------------------------------------


class Progress:
    """What a pull or copy progress callback is told: ``digest`` (the blob
    this call is about), ``blob_done`` of its ``blob_total`` bytes, and
    ``done`` of the whole operation's ``total`` bytes."""

    __slots__ = ("digest", "blob_done", "blob_total", "done", "total")

    def __init__(self, digest: str, blob_done: int, blob_total: int, done: int,
                 total: int) -> None:
        self.digest = digest
        self.blob_done = blob_done
        self.blob_total = blob_total
        self.done = done
        self.total = total

    def __repr__(self) -> str:
        return (f"Progress({self.digest[:19]}, {self.blob_done}/{self.blob_total}, "
                f"{self.done}/{self.total})")


class _ProgressCallback:
    """A Python progress callable as a ``regc_progress_fn``. Called from the
    library's worker threads (ctypes takes the GIL): answering ``True``
    cancels, and so does raising (the exception is kept, to be raised by
    the call once it returns)."""

    def __init__(self, progress: Optional[Any]) -> None:
        self.errors: List[BaseException] = []
        self._progress = progress
        self.fn = None if progress is None else _PROGRESS_FN(self._call)

    def _call(self, _user: Any, digest: bytes, blob_done: int, blob_total: int,
              done: int, total: int) -> int:
        try:
            answer = self._progress(Progress(digest.decode(), blob_done, blob_total,
                                             done, total))
            return 1 if answer is True else 0
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            self.errors.append(exc)
            return 1

    @property
    def pointer(self) -> Optional[ctypes.c_void_p]:
        return None if self.fn is None else ctypes.cast(self.fn, ctypes.c_void_p)

    def check(self, status: int) -> None:
        """Raises what the callback raised, else the call's error."""
        if status != 0 and self.errors:
            raise self.errors[0]
        _check(status)


class _ReadCallback:
    """A readable Python object (anything with ``read(n)``) as a
    ``regc_read_fn``, called on the calling thread. An exception from
    ``read`` stops the upload and is raised by the call."""

    def __init__(self, source: Any) -> None:
        self.errors: List[BaseException] = []
        self._source = source
        self.fn = _READ_FN(self._call)

    def _call(self, _user: Any, buf: Any, length: int) -> int:
        try:
            data = self._source.read(length)
            if data is None:
                raise BlockingIOError("the source has no data now (non-blocking?)")
            n = len(data)
            if n > length:
                raise ValueError(f"read({length}) gave {n} bytes")
            if n:
                ctypes.memmove(buf, bytes(data), n)
            return n
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            self.errors.append(exc)
            return -1

    def check(self, status: int) -> None:
        if status != 0 and self.errors:
            raise self.errors[0]
        _check(status)



class Manifest:
    """A manifest as the registry served it: ``digest`` (verified when
    fetched by digest), ``media_type`` and the exact ``body`` bytes."""

    __slots__ = ("digest", "media_type", "body")

    def __init__(self, digest: str, media_type: str, body: bytes) -> None:
        self.digest = digest
        self.media_type = media_type
        self.body = body

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Manifest({self.digest!r}, {self.media_type!r}, {len(self.body)} bytes)"


class _Handle:
    """An owned C handle, freed once by ``close()`` or leaving ``with``."""

    _free_name = ""

    def __init__(self, ptr: ctypes.c_void_p) -> None:
        self._ptr: Optional[ctypes.c_void_p] = ptr

    def _live(self) -> ctypes.c_void_p:
        if self._ptr is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def close(self) -> None:
        """Frees the handle; closing twice does nothing."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None and _lib is not None:
            getattr(_lib, self._free_name)(ptr)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._ptr is None

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net only: use `with` or close().
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from __del__
            pass


class Blob(_Handle):
    """A blob being read (``Client.open_blob``): ``read()`` returns bytes,
    ``b""`` only at the end, reached once the content matched its digest."""

    _free_name = "regc_blob_free"

    @property
    def size(self) -> Optional[int]:
        """The length the registry announced, or ``None``."""
        n = _c().regc_blob_size(self._live())
        return None if n < 0 else n

    def readinto(self, buffer: Any) -> int:
        """Reads into a writable buffer; returns the count (0: the end)."""
        view = memoryview(buffer).cast("B")
        if view.readonly:
            raise TypeError("readinto needs a writable buffer")
        if len(view) == 0:
            return 0
        c_buf = (ctypes.c_uint8 * len(view)).from_buffer(view)
        n = _size()
        _check(_c().regc_blob_read(self._live(), c_buf, len(view), ctypes.byref(n)))
        return n.value

    def read(self, size: int = -1) -> bytes:
        """At most ``size`` bytes (all the rest when negative)."""
        if size is not None and size >= 0:
            buf = bytearray(size)
            n = self.readinto(buf)
            return bytes(buf[:n])
        chunks = []
        buf = bytearray(1 << 16)
        while True:
            n = self.readinto(buf)
            if n == 0:
                return b"".join(chunks)
            chunks.append(bytes(buf[:n]))

    def __iter__(self):
        buf = bytearray(1 << 16)
        while True:
            n = self.readinto(buf)
            if n == 0:
                return
            yield bytes(buf[:n])


class Client(_Handle):
    """A client for one registry; thread-safe, so one may be shared.

    ``url``: ``https://host[:port]`` (``host:port`` means https; plain http
    must be spelled out). Options: ``username``/``password`` (Basic, and
    for token exchanges), ``bearer_token``, ``timeout`` (seconds),
    ``max_retries``, ``retry_delay``/``max_retry_delay`` (seconds),
    ``verify_tls``, ``ca_file`` (a PEM file), ``ca_pem`` (PEM bytes),
    ``user_agent``, ``page_size``, ``cache`` (``(entries, ttl_seconds)``),
    ``cache_max_bytes``, ``circuit_breaker`` (``(failures, cooldown_s)``).
    """

    _free_name = "regc_client_free"

    def __init__(self, url: Union[str, bytes], *,
                 username: Optional[str] = None, password: Optional[str] = None,
                 bearer_token: Optional[str] = None,
                 timeout: Optional[float] = None, max_retries: Optional[int] = None,
                 retry_delay: Optional[float] = None,
                 max_retry_delay: Optional[float] = None,
                 verify_tls: Optional[bool] = None, ca_file: Optional[str] = None,
                 ca_pem: Optional[bytes] = None, user_agent: Optional[str] = None,
                 page_size: Optional[int] = None, cache: Optional[tuple] = None,
                 cache_max_bytes: Optional[int] = None,
                 circuit_breaker: Optional[tuple] = None) -> None:
        super().__init__(None)
        lib = _c()
        config = lib.regc_config_new(_text(url, "url"))
        if not config:
            raise _error(1)
        try:
            if username is not None or password is not None:
                if username is None or password is None:
                    raise InvalidArgument(1, "REGC_ERR_INVALID_ARGUMENT", None,
                                          "username and password go together")
                _check(lib.regc_config_set_basic_auth(
                    config, _text(username, "username"), _text(password, "password")))
            if bearer_token is not None:
                _check(lib.regc_config_set_bearer_token(
                    config, _text(bearer_token, "bearer_token")))
            if timeout is not None:
                _check(lib.regc_config_set_timeout_ms(config, _ms(timeout, "timeout")))
            if max_retries is not None:
                _check(lib.regc_config_set_max_retries(config, max_retries))
            if retry_delay is not None:
                _check(lib.regc_config_set_retry_delay_ms(
                    config, _ms(retry_delay, "retry_delay")))
            if max_retry_delay is not None:
                _check(lib.regc_config_set_max_retry_delay_ms(
                    config, _ms(max_retry_delay, "max_retry_delay")))
            if verify_tls is not None:
                _check(lib.regc_config_set_verify_tls(config, bool(verify_tls)))
            if ca_file is not None:
                _check(lib.regc_config_set_ca_cert_file(
                    config, _text(os.fspath(ca_file), "ca_file")))
            if ca_pem is not None:
                _check(lib.regc_config_set_ca_cert_pem(config, bytes(ca_pem), len(ca_pem)))
            if user_agent is not None:
                _check(lib.regc_config_set_user_agent(config, _text(user_agent, "user_agent")))
            if page_size is not None:
                _check(lib.regc_config_set_page_size(config, page_size))
            if cache is not None:
                entries, ttl = cache
                _check(lib.regc_config_set_cache(config, entries, _ms(ttl, "cache ttl")))
            if cache_max_bytes is not None:
                _check(lib.regc_config_set_cache_max_bytes(config, cache_max_bytes))
            if circuit_breaker is not None:
                failures, cooldown = circuit_breaker
                _check(lib.regc_config_set_circuit_breaker(
                    config, failures, _ms(cooldown, "cooldown")))
            client = _p()
            _check(lib.regc_client_new(config, ctypes.byref(client)))
            self._ptr = client
        finally:
            lib.regc_config_free(config)

    def ping(self) -> bool:
        """Checks the registry speaks API v2; tells whether it asked for
        credentials."""
        asked = ctypes.c_bool()
        _check(_c().regc_ping(self._live(), ctypes.byref(asked)))
        return asked.value

    def _strings(self, fn: str, *args: bytes) -> List[str]:
        out = _p()
        _check(getattr(_c(), fn)(self._live(), *args, ctypes.byref(out)))
        lib = _c()
        try:
            n = lib.regc_string_list_len(out)
            return [lib.regc_string_list_get(out, i).decode("utf-8") for i in range(n)]
        finally:
            lib.regc_string_list_free(out)

    def list_repositories(self) -> List[str]:
        """Every repository of the catalog (all pages)."""
        return self._strings("regc_list_repositories")

    def list_tags(self, repository: Union[str, bytes]) -> List[str]:
        """Every tag of a repository (all pages)."""
        return self._strings("regc_list_tags", _text(repository, "repository"))

    def get_manifest(self, repository: Union[str, bytes],
                     reference: Union[str, bytes]) -> Manifest:
        """A manifest by tag or digest."""
        lib = _c()
        out = _p()
        _check(lib.regc_get_manifest(self._live(), _text(repository, "repository"),
                                     _text(reference, "reference"), ctypes.byref(out)))
        try:
            n = _size()
            body_ptr = lib.regc_manifest_body(out, ctypes.byref(n))
            body = ctypes.string_at(body_ptr, n.value) if n.value else b""
            return Manifest(lib.regc_manifest_digest(out).decode(),
                            lib.regc_manifest_media_type(out).decode(), body)
        finally:
            lib.regc_manifest_free(out)

    def resolve_digest(self, repository: Union[str, bytes],
                       reference: Union[str, bytes]) -> str:
        """The digest a tag (or digest) names, e.g. ``"sha256:…"``."""
        out = _p()
        _check(_c().regc_resolve_digest(self._live(), _text(repository, "repository"),
                                        _text(reference, "reference"), ctypes.byref(out)))
        return _take_string(out)

    def image_info(self, repository: Union[str, bytes], reference: Union[str, bytes],
                   platform: Optional[str] = None) -> Any:
        """What ``regc_image_info_json`` says of an image, parsed; ``platform``
        (``"linux/arm64"``) picks an index entry (default: linux and the
        host's architecture)."""
        out = _p()
        plat = None if platform is None else _text(platform, "platform")
        _check(_c().regc_image_info_json(self._live(), _text(repository, "repository"),
                                         _text(reference, "reference"), plat,
                                         ctypes.byref(out)))
        return json.loads(_take_string(out))

    def open_blob(self, repository: Union[str, bytes], digest: Union[str, bytes]) -> Blob:
        """A blob to read (use it in ``with``)."""
        out = _p()
        _check(_c().regc_blob_open(self._live(), _text(repository, "repository"),
                                   _text(digest, "digest"), ctypes.byref(out)))
        return Blob(out)

    def get_blob(self, repository: Union[str, bytes], digest: Union[str, bytes]) -> bytes:
        """A whole blob, verified against its digest."""
        with self.open_blob(repository, digest) as blob:
            return blob.read()

    def pull(self, repository: Union[str, bytes], reference: Union[str, bytes],
             directory: Union[str, bytes, "os.PathLike[str]"], *,
             platform: Optional[str] = None, all_platforms: bool = False, jobs: int = 0,
             progress: Optional[Any] = None) -> None:
        """Pulls an image into the OCI image layout ``directory`` (made when
        missing; pulling again fetches only what is missing). ``platform``
        (``"linux/arm64"``) picks an index entry (default: the host's), or
        ``all_platforms`` takes the whole index; ``jobs`` blobs at once (0:
        the default). ``progress(p: Progress)`` is called **from worker
        threads**; answering ``True`` cancels (``Cancelled``), and an
        exception it raises cancels and is raised here."""
        callback = _ProgressCallback(progress)
        status = _c().regc_pull(
            self._live(), _text(repository, "repository"), _text(reference, "reference"),
            _text(os.fspath(directory), "directory"), _opt_text(platform, "platform"),
            bool(all_platforms), _jobs(jobs), callback.pointer, None)
        callback.check(status)

    def _digest_out(self, fn: str, *args: Any) -> str:
        out = _p()
        _check(getattr(_c(), fn)(self._live(), *args, ctypes.byref(out)))
        return _take_string(out)

    def push_blob(self, repository: Union[str, bytes], source: Any,
                  digest: Optional[str] = None) -> str:
        """Uploads a blob and returns its digest (``"sha256:…"``). ``source``
        is bytes-like (its digest is computed first, so a blob already there
        is not sent) or a readable object such as an open file (streamed in
        constant memory; ``digest``, when given, lets a blob already there be
        skipped and is checked by the registry)."""
        repo = _text(repository, "repository")
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            return self._digest_out("regc_blob_upload_buffer", repo, data, len(data))
        if not hasattr(source, "read"):
            raise TypeError("source must be bytes-like or have read()")
        callback = _ReadCallback(source)
        out = _p()
        status = _c().regc_blob_upload_callback(
            self._live(), repo, ctypes.cast(callback.fn, ctypes.c_void_p), None,
            _opt_text(digest, "digest"), ctypes.byref(out))
        callback.check(status)
        return _take_string(out)

    def put_manifest(self, repository: Union[str, bytes], reference: Union[str, bytes],
                     media_type: str, body: bytes) -> str:
        """Puts ``body`` (sent as it is) as the manifest at ``reference`` (a
        tag, or its digest) with ``media_type``; returns its digest, which
        the registry confirmed."""
        body = bytes(body)
        return self._digest_out("regc_manifest_put", _text(repository, "repository"),
                                _text(reference, "reference"),
                                _text(media_type, "media_type"), body, len(body))

    def tag(self, repository: Union[str, bytes], reference: Union[str, bytes],
            new_tag: Union[str, bytes]) -> str:
        """Tags the manifest at ``reference`` as ``new_tag`` too (same bytes,
        same digest); returns the digest."""
        return self._digest_out("regc_tag", _text(repository, "repository"),
                                _text(reference, "reference"), _text(new_tag, "new_tag"))

    def delete_manifest(self, repository: Union[str, bytes],
                        reference: Union[str, bytes]) -> str:
        """Deletes the manifest at ``reference`` (a tag is resolved first, so
        every tag on it goes); returns the digest deleted. ``Unsupported``
        where the registry has deletion off."""
        return self._digest_out("regc_manifest_delete", _text(repository, "repository"),
                                _text(reference, "reference"))

    def delete_tag(self, repository: Union[str, bytes], tag: Union[str, bytes]) -> None:
        """Deletes a tag alone (where the registry supports it: an error
        otherwise, never a silent success)."""
        _check(_c().regc_tag_delete(self._live(), _text(repository, "repository"),
                                    _text(tag, "tag")))

    def delete_blob(self, repository: Union[str, bytes], digest: Union[str, bytes]) -> None:
        """Deletes a blob."""
        _check(_c().regc_blob_delete(self._live(), _text(repository, "repository"),
                                     _text(digest, "digest")))

    def copy(self, repository: Union[str, bytes], reference: Union[str, bytes],
             destination: "Client", destination_repository: Union[str, bytes], *,
             tag: Optional[str] = None, platform: Optional[str] = None,
             all_platforms: bool = False, jobs: int = 0,
             progress: Optional[Any] = None) -> str:
        """Copies an image to ``destination_repository`` of ``destination``
        (this client or another one), tagged ``tag`` (default: the source's
        tag); returns its digest, the same as the source's. ``platform``,
        ``all_platforms``, ``jobs`` and ``progress`` as for ``pull``."""
        if not isinstance(destination, Client):
            raise TypeError("destination must be a Client")
        callback = _ProgressCallback(progress)
        out = _p()
        status = _c().regc_copy(
            self._live(), _text(repository, "repository"), _text(reference, "reference"),
            destination._live(), _text(destination_repository, "destination_repository"),
            _opt_text(tag, "tag"), _opt_text(platform, "platform"), bool(all_platforms),
            _jobs(jobs), callback.pointer, None, ctypes.byref(out))
        callback.check(status)
        return _take_string(out)

    def referrers(self, repository: Union[str, bytes], digest: Union[str, bytes],
                  artifact_type: Optional[str] = None) -> Any:
        """The referrers of a manifest: ``{"manifests": [descriptors],
        "from_tag_schema": bool}`` (only those of ``artifact_type`` when
        given)."""
        out = _p()
        _check(_c().regc_referrers(self._live(), _text(repository, "repository"),
                                   _text(digest, "digest"),
                                   _opt_text(artifact_type, "artifact_type"),
                                   ctypes.byref(out)))
        return json.loads(_take_string(out))


def _ms(seconds: float, what: str) -> int:
    if seconds < 0:
        raise InvalidArgument(1, "REGC_ERR_INVALID_ARGUMENT", None, f"{what} is negative")
    return int(round(seconds * 1000))
