"""Tests python/registry_client.py against the real registries of the suite
(open, Basic, token, TLS), driven by tests/ffi.rs.

Environment: REGISTRY_CLIENT_LIB (the shared library), PYTHONPATH with
python/, and the REGC_TEST_* variables of tests/ffi.rs.

Checks raise through `expect`, never a bare `assert` (gone under -O).
"""
import gc
import hashlib
import os
import sys
import threading

import registry_client as rc


class CheckFailed(Exception):
    """A check of this test failed."""


def expect(condition: bool, what: str, detail: object = "") -> None:
    if not condition:
        raise CheckFailed(f"{what} {detail!r}" if detail != "" else what)


def raises(exc_type, fn, *args, **kwargs):
    """Calls fn; returns the exception of type exc_type it raised."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:  # noqa: BLE001 - the type is the point
        return e
    raise CheckFailed(f"{fn.__name__}{args} did not raise {exc_type.__name__}")


def check_registry(client: rc.Client, what: str) -> None:
    """Tags, a manifest with its digest, its config blob read and verified."""
    tags = client.list_tags("many/tags")
    expect(sorted(tags) == [f"t{i:02d}" for i in range(25)], f"{what}: tags", tags)
    m = client.get_manifest("oci/app", "v1")
    expect(m.digest == "sha256:" + hashlib.sha256(m.body).hexdigest(), f"{what}: digest",
           m.digest)
    expect(m.media_type == "application/vnd.oci.image.manifest.v1+json",
           f"{what}: media type", m.media_type)
    expect(client.resolve_digest("oci/app", "v1") == m.digest, f"{what}: resolve_digest")
    config = m.json()["config"]
    with client.open_blob("oci/app", config["digest"]) as blob:
        expect(blob.size == config["size"], f"{what}: blob size", blob.size)
        first = blob.read(10)
        rest = b"".join(blob)
        expect(blob.read() == b"", f"{what}: read after the end")
    data = first + rest
    expect(len(data) == config["size"], f"{what}: blob length", len(data))
    expect("sha256:" + hashlib.sha256(data).hexdigest() == config["digest"],
           f"{what}: blob digest")
    expect(blob.closed, f"{what}: the blob is closed after with")
    expect(client.get_blob("oci/app", config["digest"]) == data, f"{what}: get_blob")
    info = client.image_info("oci/app", "v1")
    expect(isinstance(info, dict) and info, f"{what}: image_info", info)


def main() -> int:
    env = os.environ
    rc.load()
    print("library version", rc.version())
    expect(rc.version().count(".") == 2, "version", rc.version())

    # Open registry: everything, and the errors.
    with rc.Client(env["REGC_TEST_OPEN_URL"], timeout=10, max_retries=0) as client:
        expect(client.ping() is False, "open registry asks no credentials")
        check_registry(client, "open")
        expect("many/tags" in client.list_repositories(), "catalog")
        e = raises(rc.NotFound, client.list_tags, "no/such-repo")
        expect(e.status == 3 and e.status_name == "REGC_ERR_NOT_FOUND", "not found", e)
        expect(e.http_status == 404, "HTTP status", e.http_status)
        expect("not found" in e.message, "message", e.message)
        expect(isinstance(e, LookupError), "NotFound is a LookupError")
        e = raises(rc.InvalidArgument, client.list_tags, b"\xff")
        expect(e.status == 1 and e.http_status is None, "non-UTF-8", e)
        raises(rc.InvalidArgument, client.list_tags, "a\0b")
        raises(rc.NotFound, client.get_manifest, "oci/app", "no-such-tag")
        digest = "sha256:" + "0" * 64
        raises(rc.NotFound, client.get_blob, "oci/app", digest)
        # One client from several threads.
        errors = []

        def worker() -> None:
            try:
                for _ in range(3):
                    expect(len(client.list_tags("many/tags")) == 25, "threaded tags")
                raises(rc.NotFound, client.list_tags, "no/such-repo")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        expect(not errors, "threads", errors)
    expect(client.closed, "closed after with")
    raises(ValueError, client.list_tags, "many/tags")
    client.close()  # twice: nothing

    # Bad settings are InvalidArgument, at construction.
    raises(rc.InvalidArgument, rc.Client, "ftp://x")
    raises(rc.InvalidArgument, rc.Client, env["REGC_TEST_OPEN_URL"], timeout=-1)
    raises(rc.InvalidArgument, rc.Client, env["REGC_TEST_OPEN_URL"], username="only")
    raises(rc.InvalidArgument, rc.Client, env["REGC_TEST_OPEN_URL"], page_size=0)

    # Basic: credentials work, wrong ones are an AuthError with the 401.
    user, password = env["REGC_TEST_USER"], env["REGC_TEST_PASSWORD"]
    with rc.Client(env["REGC_TEST_BASIC_URL"], username=user, password=password,
                   max_retries=0) as client:
        check_registry(client, "basic")
    with rc.Client(env["REGC_TEST_BASIC_URL"], username=user, password="wrong",
                   max_retries=0) as client:
        e = raises(rc.AuthError, client.list_tags, "many/tags")
        expect(e.status == 2 and e.http_status == 401, "basic auth failure", e)
        expect("wrong" not in str(e), "no password in the error", str(e))

    # Token auth.
    with rc.Client(env["REGC_TEST_TOKEN_URL"], username=user, password=password,
                   max_retries=0) as client:
        check_registry(client, "token")

    # TLS with the test CA; without it the handshake fails.
    with rc.Client(env["REGC_TEST_TLS_URL"], ca_file=env["REGC_TEST_TLS_CA_FILE"],
                   max_retries=0) as client:
        check_registry(client, "tls")
    with open(env["REGC_TEST_TLS_CA_FILE"], "rb") as f:
        pem = f.read()
    with rc.Client(env["REGC_TEST_TLS_URL"], ca_pem=pem, max_retries=0) as client:
        expect(client.ping() is False, "tls with ca_pem")
    with rc.Client(env["REGC_TEST_TLS_URL"], max_retries=0) as client:
        e = raises(rc.RegistryConnectionError, client.ping)
        expect("TLS" in e.message or "certificate" in e.message.lower(), "TLS error", e)

    # A refused connection is a ConnectionError too.
    with rc.Client(env["REGC_TEST_REFUSED_URL"], max_retries=0) as client:
        e = raises(ConnectionError, client.ping)
        expect(e.status == 4, "refused", e)

    # Handles left to the garbage collector are freed without a crash.
    leaked = rc.Client(env["REGC_TEST_OPEN_URL"])
    blob = leaked.open_blob("oci/app", leaked.get_manifest("oci/app", "v1").json()["config"]["digest"])
    del leaked, blob
    gc.collect()

    print("test_python_module: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
