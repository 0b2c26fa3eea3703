"""Python ctypes test (standard library only): loads the shared library,
lists tags, fetches a manifest and checks its digest with hashlib.

Environment: REGC_TEST_LIB (path of libregistry_client.so), REGC_TEST_OPEN_URL.

Checks raise through `expect`, never a bare `assert`: those vanish under
PYTHONOPTIMIZE / python -O, and the test would pass without checking.
"""
import ctypes
import hashlib
import os
import sys

REGC_OK = 0
REGC_ERR_INVALID_ARGUMENT = 1
REGC_ERR_NOT_FOUND = 3


class CheckFailed(Exception):
    """A check of this test failed."""


def expect(condition: bool, what: str, detail: object = "") -> None:
    """Raises CheckFailed unless `condition` holds (whatever -O says)."""
    if not condition:
        raise CheckFailed(f"{what} {detail!r}" if detail != "" else what)


def main() -> int:
    lib = ctypes.CDLL(os.environ["REGC_TEST_LIB"])
    url = os.environ["REGC_TEST_OPEN_URL"].encode()

    c_p = ctypes.c_void_p
    lib.regc_version.restype = ctypes.c_char_p
    lib.regc_version.argtypes = []
    lib.regc_status_name.restype = ctypes.c_char_p
    lib.regc_status_name.argtypes = [ctypes.c_uint32]
    lib.regc_last_error_message.restype = ctypes.c_char_p
    lib.regc_last_error_message.argtypes = []
    lib.regc_last_error_http_status.restype = ctypes.c_uint16
    lib.regc_last_error_http_status.argtypes = []
    lib.regc_config_new.restype = c_p
    lib.regc_config_new.argtypes = [ctypes.c_char_p]
    lib.regc_config_free.restype = None
    lib.regc_config_free.argtypes = [c_p]
    lib.regc_client_new.restype = ctypes.c_int
    lib.regc_client_new.argtypes = [c_p, ctypes.POINTER(c_p)]
    lib.regc_client_free.restype = None
    lib.regc_client_free.argtypes = [c_p]
    lib.regc_list_tags.restype = ctypes.c_int
    lib.regc_list_tags.argtypes = [c_p, ctypes.c_char_p, ctypes.POINTER(c_p)]
    lib.regc_string_list_len.restype = ctypes.c_size_t
    lib.regc_string_list_len.argtypes = [c_p]
    lib.regc_string_list_get.restype = ctypes.c_char_p
    lib.regc_string_list_get.argtypes = [c_p, ctypes.c_size_t]
    lib.regc_string_list_free.restype = None
    lib.regc_string_list_free.argtypes = [c_p]
    lib.regc_get_manifest.restype = ctypes.c_int
    lib.regc_get_manifest.argtypes = [c_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(c_p)]
    lib.regc_manifest_digest.restype = ctypes.c_char_p
    lib.regc_manifest_digest.argtypes = [c_p]
    lib.regc_manifest_media_type.restype = ctypes.c_char_p
    lib.regc_manifest_media_type.argtypes = [c_p]
    lib.regc_manifest_body.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.regc_manifest_body.argtypes = [c_p, ctypes.POINTER(ctypes.c_size_t)]
    lib.regc_manifest_free.restype = None
    lib.regc_manifest_free.argtypes = [c_p]

    def check(status: int) -> None:
        if status != REGC_OK:
            raise RuntimeError(f"status {status}: {lib.regc_last_error_message().decode()}")

    print("library version", lib.regc_version().decode())
    # Any number names a status or "unknown status" (no crash).
    expect(lib.regc_status_name(REGC_ERR_NOT_FOUND) == b"REGC_ERR_NOT_FOUND", "status name")
    expect(lib.regc_status_name(15) == b"REGC_ERR_CANCELLED", "status name", 15)
    for n in (16, 999, 2**32 - 1):
        expect(lib.regc_status_name(n) == b"unknown status", "unknown status name", n)
    config = lib.regc_config_new(url)
    expect(bool(config), "regc_config_new", lib.regc_last_error_message())
    client = c_p()
    check(lib.regc_client_new(config, ctypes.byref(client)))
    lib.regc_config_free(config)
    try:
        tags = c_p()
        check(lib.regc_list_tags(client, b"many/tags", ctypes.byref(tags)))
        names = [lib.regc_string_list_get(tags, i).decode()
                 for i in range(lib.regc_string_list_len(tags))]
        expect(lib.regc_string_list_get(tags, len(names)) is None, "NULL past the end")
        lib.regc_string_list_free(tags)
        expect(sorted(names) == [f"t{i:02d}" for i in range(25)], "tags", names)

        manifest = c_p()
        check(lib.regc_get_manifest(client, b"oci/app", b"v1", ctypes.byref(manifest)))
        size = ctypes.c_size_t()
        body_ptr = lib.regc_manifest_body(manifest, ctypes.byref(size))
        body = ctypes.string_at(body_ptr, size.value)
        digest = lib.regc_manifest_digest(manifest).decode()
        media_type = lib.regc_manifest_media_type(manifest).decode()
        lib.regc_manifest_free(manifest)
        expect(digest == "sha256:" + hashlib.sha256(body).hexdigest(), "digest", digest)
        expect(media_type == "application/vnd.oci.image.manifest.v1+json", "media type",
               media_type)

        missing = c_p(1234)
        status = lib.regc_list_tags(client, b"no/such-repo", ctypes.byref(missing))
        expect(status == REGC_ERR_NOT_FOUND, "status of a missing repository", status)
        expect(missing.value == 1234, "output untouched on failure", missing.value)
        expect(lib.regc_last_error_http_status() == 404, "HTTP status",
               lib.regc_last_error_http_status())
        expect(b"not found" in lib.regc_last_error_message(), "message",
               lib.regc_last_error_message())
        # Bytes that are not UTF-8 are an invalid argument, not a crash.
        status = lib.regc_list_tags(client, b"\xff", ctypes.byref(missing))
        expect(status == REGC_ERR_INVALID_ARGUMENT, "non-UTF-8 repository", status)
    finally:
        lib.regc_client_free(client)
    print(f"test_ctypes: all checks passed ({len(names)} tags, {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
