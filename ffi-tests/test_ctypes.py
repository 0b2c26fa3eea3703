"""Python ctypes test (standard library only): loads the shared library,
lists tags, fetches a manifest and checks its digest with hashlib.

Then the write path by raw ctypes: a blob from a buffer and from a read
callback (one that fails, and none at all), a manifest put and deleted.

Environment: REGC_TEST_LIB (path of libregistry_client.so), REGC_TEST_OPEN_URL,
REGC_TEST_WRITE_URL (an empty registry without auth).

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
REGC_ERR_IO = 14


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
    write_checks(lib, check)
    print(f"test_ctypes: all checks passed ({len(names)} tags, {digest})")
    return 0


READ_FN = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p,
                           ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)


def write_checks(lib, check) -> None:
    c_p = ctypes.c_void_p
    c_s = ctypes.c_char_p
    pp = ctypes.POINTER(c_p)
    lib.regc_string_free.restype = None
    lib.regc_string_free.argtypes = [c_p]
    lib.regc_blob_upload_buffer.restype = ctypes.c_int
    lib.regc_blob_upload_buffer.argtypes = [c_p, c_s, c_s, ctypes.c_size_t, pp]
    lib.regc_blob_upload_callback.restype = ctypes.c_int
    lib.regc_blob_upload_callback.argtypes = [c_p, c_s, READ_FN, c_p, c_s, pp]
    lib.regc_manifest_put.restype = ctypes.c_int
    lib.regc_manifest_put.argtypes = [c_p, c_s, c_s, c_s, c_s, ctypes.c_size_t, pp]
    lib.regc_manifest_delete.restype = ctypes.c_int
    lib.regc_manifest_delete.argtypes = [c_p, c_s, c_s, pp]
    lib.regc_referrers.restype = ctypes.c_int
    lib.regc_referrers.argtypes = [c_p, c_s, c_s, c_s, pp]

    def take(ptr: c_p) -> str:
        try:
            return ctypes.string_at(ptr).decode()
        finally:
            lib.regc_string_free(ptr)

    def sha256(data: bytes) -> str:
        return "sha256:" + hashlib.sha256(data).hexdigest()

    config = lib.regc_config_new(os.environ["REGC_TEST_WRITE_URL"].encode())
    expect(bool(config), "regc_config_new (write)", lib.regc_last_error_message())
    client = c_p()
    check(lib.regc_client_new(config, ctypes.byref(client)))
    lib.regc_config_free(config)
    try:
        out = c_p()
        check(lib.regc_blob_upload_buffer(client, b"ctypes/app", b"hello", 5, ctypes.byref(out)))
        expect(take(out) == sha256(b"hello"), "buffer upload digest")

        data = bytes(range(256)) * 4000
        pos = [0]

        def give(_user, buf, length):
            n = min(length, len(data) - pos[0], 7777)
            ctypes.memmove(buf, data[pos[0]:pos[0] + n], n)
            pos[0] += n
            return n

        reader = READ_FN(give)
        out = c_p()
        check(lib.regc_blob_upload_callback(client, b"ctypes/app", reader, None, None,
                                            ctypes.byref(out)))
        expect(take(out) == sha256(data), "callback upload digest")
        expect(pos[0] == len(data), "all of it read", pos[0])

        calls = [0]

        def fail(_user, _buf, _length):
            calls[0] += 1
            return -1

        failing = READ_FN(fail)
        untouched = c_p(4321)
        status = lib.regc_blob_upload_callback(client, b"ctypes/app", failing, None, None,
                                               ctypes.byref(untouched))
        expect(status == REGC_ERR_IO, "a failing callback", status)
        expect(b"read callback reported an error (-1)" in lib.regc_last_error_message(),
               "its message", lib.regc_last_error_message())
        expect(calls[0] == 1, "called once", calls[0])
        status = lib.regc_blob_upload_callback(client, b"ctypes/app", READ_FN(), None, None,
                                               ctypes.byref(untouched))
        expect(status == REGC_ERR_INVALID_ARGUMENT, "a NULL callback", status)
        expect(b"`read_cb` is NULL" in lib.regc_last_error_message(), "its message",
               lib.regc_last_error_message())
        expect(untouched.value == 4321, "output untouched on failure", untouched.value)

        layer = b"ctypes layer"
        check(lib.regc_blob_upload_buffer(client, b"ctypes/app", layer, len(layer),
                                          ctypes.byref(out)))
        lib.regc_string_free(out)
        mt = b"application/vnd.oci.image.manifest.v1+json"
        manifest = (b'{"schemaVersion":2,"mediaType":"' + mt + b'","config":{"mediaType":'
                    b'"application/vnd.oci.image.config.v1+json","digest":"'
                    + sha256(b"hello").encode() + b'","size":5},"layers":[{"mediaType":'
                    b'"application/vnd.oci.image.layer.v1.tar","digest":"'
                    + sha256(layer).encode() + b'","size":' + str(len(layer)).encode() + b'}]}')
        check(lib.regc_manifest_put(client, b"ctypes/app", b"v1", mt, manifest, len(manifest),
                                    ctypes.byref(out)))
        expect(take(out) == sha256(manifest), "manifest digest")
        check(lib.regc_referrers(client, b"ctypes/app", sha256(manifest).encode(), None,
                                 ctypes.byref(out)))
        expect(take(out) == '{"manifests":[],"from_tag_schema":true}', "no referrers")
        check(lib.regc_manifest_delete(client, b"ctypes/app", b"v1", ctypes.byref(out)))
        expect(take(out) == sha256(manifest), "deleted digest")
        status = lib.regc_manifest_delete(client, b"ctypes/app", b"v1", None)
        expect(status == REGC_ERR_NOT_FOUND, "deleted twice", status)
    finally:
        lib.regc_client_free(client)


if __name__ == "__main__":
    sys.exit(main())
