"""Tests python/registry_client.py against the real registries of the suite
(open, Basic, token, TLS), driven by tests/ffi.rs.

Environment: REGISTRY_CLIENT_LIB (the shared library), PYTHONPATH with
python/, and the REGC_TEST_* variables of tests/ffi.rs.

Checks raise through `expect`, never a bare `assert` (gone under -O).
"""
import gc
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
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


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FailingReader:
    """Gives `good` bytes, then raises."""

    def __init__(self, good: int) -> None:
        self.left = good

    def read(self, n: int) -> bytes:
        if self.left == 0:
            raise OSError("the disk went away")
        n = min(n, self.left)
        self.left -= n
        return b"x" * n


class GreedyReader:
    """Gives more than it is asked for."""

    def read(self, n: int) -> bytes:
        return b"y" * (n + 1)


def check_writes(env) -> None:
    """The write path through the module: pushes, manifests, tags, deletes,
    referrers, copies and pulls with progress and cancel, on a fresh token
    registry (names carry REGC_TEST_RUN: the test runs twice on it)."""
    run = env["REGC_TEST_RUN"]
    repo = f"py/{run}"
    user, password = env["REGC_TEST_USER"], env["REGC_TEST_PASSWORD"]
    source = rc.Client(env["REGC_TEST_OPEN_URL"], max_retries=0)
    alice = rc.Client(env["REGC_TEST_WRITE_URL"], username=user, password=password,
                      max_retries=0)
    bob = rc.Client(env["REGC_TEST_WRITE_URL"], username=env["REGC_TEST_USER2"],
                    password=env["REGC_TEST_PASSWORD2"], max_retries=0)
    with source, alice, bob:
        # Blobs: from bytes, from a file (more than one 8 MiB chunk).
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        expect(alice.push_blob(repo, config) == sha256(config), "push_blob bytes")
        expect(alice.get_blob(repo, sha256(config)) == config, "read back")
        big = bytes((i * 31 + 7) % 251 for i in range((8 << 20) + 3))
        got = alice.push_blob(repo, io.BytesIO(big))
        expect(got == sha256(big), "push_blob stream", got)
        expect(alice.get_blob(repo, got) == big, "stream read back")
        expect(alice.push_blob(repo, io.BytesIO(big), digest=got) == got, "with digest")
        # A failing reader: its own exception; a greedy one: ValueError.
        e = raises(OSError, alice.push_blob, repo, FailingReader(5000))
        expect("the disk went away" in str(e), "reader's exception", e)
        raises(ValueError, alice.push_blob, repo, GreedyReader())
        raises(TypeError, alice.push_blob, repo, 42)
        # Bob may not push here.
        e = raises(rc.AuthError, bob.push_blob, repo, b"bob's")
        expect(e.status == 2, "bob refused", e)

        # A manifest, tagged, found by referrers, deleted.
        layer = b"layer " + run.encode()
        alice.push_blob(repo, layer)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha256(layer), "size": len(layer)}],
        }).encode()
        mt = "application/vnd.oci.image.manifest.v1+json"
        digest = alice.put_manifest(repo, "v1", mt, manifest)
        expect(digest == sha256(manifest), "put_manifest digest", digest)
        expect(alice.get_manifest(repo, "v1").body == manifest, "manifest read back")
        expect(alice.tag(repo, "v1", "stable") == digest, "tag")
        expect(sorted(alice.list_tags(repo)) == ["stable", "v1"], "tags")
        raises(rc.DecodeError, alice.put_manifest, repo, "v2", mt, b"not json")
        raises(rc.InvalidArgument, alice.put_manifest, repo, "v2", "not a type", manifest)
        empty = alice.push_blob(repo, b"{}")
        artifact = json.dumps({
            "schemaVersion": 2, "mediaType": mt, "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty,
                       "size": 2},
            "layers": [{"mediaType": "application/spdx+json", "digest": sha256(layer),
                        "size": len(layer)}],
            "subject": {"mediaType": mt, "digest": digest, "size": len(manifest)},
        }).encode()
        artifact_digest = alice.put_manifest(repo, "sbom", mt, artifact)
        found = alice.referrers(repo, digest)
        expect(found["from_tag_schema"] is True, "tag schema", found)
        expect([m["digest"] for m in found["manifests"]] == [artifact_digest], "referrers",
               found)
        expect(found["manifests"][0]["artifactType"] == "application/spdx+json", "type", found)
        expect(alice.referrers(repo, digest, "application/vnd.other")["manifests"] == [],
               "filtered")
        raises(rc.InvalidArgument, alice.referrers, repo, "v1")
        e = raises(rc.Unsupported, alice.delete_tag, repo, "stable")
        expect(e.http_status == 400, "no tag deletion on distribution 2.8", e)
        raises(rc.AuthError, bob.delete_manifest, repo, "v1")
        expect(alice.delete_manifest(repo, "stable") == digest, "delete_manifest")
        raises(rc.NotFound, alice.get_manifest, repo, "v1")
        alice.delete_blob(repo, sha256(layer))
        raises(rc.NotFound, alice.get_blob, repo, sha256(layer))

        # Copy from the seed, with progress from the worker threads.
        src_digest = source.resolve_digest("oci/app", "v1")
        seen = []
        lock = threading.Lock()

        def progress(p: rc.Progress) -> None:
            with lock:
                seen.append(p)

        mirror = f"mirror/{run}"
        got = source.copy("oci/app", "v1", alice, mirror, jobs=2, progress=progress)
        expect(got == src_digest, "copy digest", got)
        expect(alice.resolve_digest(mirror, "v1") == src_digest, "copied")
        expect(seen and all(p.done <= p.total for p in seen), "copy progress", seen)
        expect(max(p.done for p in seen) == seen[-1].total, "copy complete", seen[-1])
        got = source.copy("multi/oci", "latest", alice, mirror, tag="all", all_platforms=True)
        expect(got == source.resolve_digest("multi/oci", "latest"), "index copied")
        # Cancelled by answering True, or by raising (the exception comes back).
        e = raises(rc.Cancelled, source.copy, "oci/app", "v1", alice, f"cancel/{run}",
                   progress=lambda p: True)
        expect(e.status == 15 and e.status_name == "REGC_ERR_CANCELLED", "cancelled", e)

        def explode(p: rc.Progress) -> None:
            raise KeyError("from the callback")

        raises(KeyError, source.copy, "oci/app", "v1", alice, f"cancel2/{run}",
               progress=explode)
        raises(rc.AuthError, source.copy, "oci/app", "v1", bob, mirror)
        raises(rc.InvalidArgument, source.copy, "oci/app", "v1", alice, mirror, jobs=65)
        raises(rc.InvalidArgument, source.copy, "oci/app", "v1", alice, mirror,
               platform="linux/arm64", all_platforms=True)

        # Pull, with progress; cancelled; resumed.
        tmp = tempfile.mkdtemp(prefix="regc-py-pull-")
        try:
            layout = os.path.join(tmp, "layout")
            e = raises(rc.Cancelled, alice.pull, mirror, "v1", layout, progress=lambda p: True)
            calls = []
            alice.pull(mirror, "v1", layout, jobs=2, progress=calls.append)
            with open(os.path.join(layout, "index.json")) as f:
                index = json.load(f)
            expect(index["manifests"][0]["digest"] == src_digest, "pulled", index)
            expect(calls and calls[-1].total > 0, "pull progress", calls)
            raises(rc.NotFound, alice.pull, mirror, "no-such-tag", layout)
        finally:
            shutil.rmtree(tmp)


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

    check_writes(env)

    # Handles left to the garbage collector are freed without a crash.
    leaked = rc.Client(env["REGC_TEST_OPEN_URL"])
    blob = leaked.open_blob("oci/app", leaked.get_manifest("oci/app", "v1").json()["config"]["digest"])
    del leaked, blob
    gc.collect()

    print("test_python_module: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
