/* C11 test of the write path of the C API (blob uploads from a buffer and
 * from a read callback, manifest put, tag, deletes, copy between two
 * clients, referrers), against real registries.
 *
 * Environment (set by tests/ffi.rs, fresh registries for every run):
 *   REGC_TEST_SUITES        comma-separated: offline,write (default: both)
 *   REGC_TEST_OPEN_URL      the seeded registry, read-only, no auth (copy source)
 *   REGC_TEST_WRITE_URL     an empty registry with token auth, deletion on
 *   REGC_TEST_USER, REGC_TEST_PASSWORD       may do anything there (alice)
 *   REGC_TEST_USER2, REGC_TEST_PASSWORD2     may pull anything, push only
 *                                            under bob/ (bob)
 *   REGC_TEST_WRITE2_URL    another empty registry, no auth (copy target)
 *   REGC_TEST_NODELETE_URL  an empty registry, no auth, deletion turned off
 *
 * On success it prints, for tests/ffi.rs to check with skopeo and raw HTTP:
 *   pushed <repository> <tag> <manifest digest>
 *   blob <repository> <digest> <size>          (bytes from pattern_byte())
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

static int marker;
#define SENTINEL_STRING ((char *)(void *)&marker)

static const char *NON_UTF8 = "\xff\xfe";
static const char *OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/* sha256 of "hello" and of "{}" (sha256sum). */
static const char *HELLO_DIGEST =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char *EMPTY_JSON_DIGEST =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
static const char *ZERO_DIGEST =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";


static bool str_eq(const char *a, const char *b) {
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool has(const char *haystack, const char *needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void check_last_error_cleared(void) {
  CHECK(strcmp(regc_last_error_message(), "") == 0);
  CHECK(regc_last_error_http_status() == 0);
}

/* A client with no retries; NULL user: anonymous. */
static regc_client *make_client(const char *url, const char *user, const char *password) {
  regc_config *cfg = regc_config_new(url);
  CHECK(cfg != NULL);
  if (cfg == NULL) return NULL;
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  CHECK_STATUS(regc_config_set_timeout_ms(cfg, 60000), REGC_OK);
  if (user != NULL) CHECK_STATUS(regc_config_set_basic_auth(cfg, user, password), REGC_OK);
  regc_client *client = NULL;
  CHECK_STATUS(regc_client_new(cfg, &client), REGC_OK);
  regc_config_free(cfg);
  CHECK(client != NULL);
  return client;
}

/* ------------------------------------------------------------------------ */
/* Read callbacks. */

/* The byte at `i` of every generated blob: not constant, not periodic in
 * powers of two (tests/ffi.rs makes the same bytes). */
static uint8_t pattern_byte(uint64_t i) { return (uint8_t)((i * 31u + 7u) % 251u); }

struct source {
  uint64_t size;    /* bytes to give */
  uint64_t given;   /* bytes given so far */
  size_t piece;     /* at most this many per call (0: as many as asked) */
  uint64_t fail_at; /* once `given` reaches this, answer `failure` */
  ptrdiff_t failure;
  bool overflow;    /* answer one byte more than asked */
  unsigned calls, calls_after_end, bad_args;
  bool ended;
};

static void source_init(struct source *s, uint64_t size, size_t piece) {
  memset(s, 0, sizeof *s);
  s->size = size;
  s->piece = piece;
  s->fail_at = UINT64_MAX;
}

static ptrdiff_t read_source(void *user_data, uint8_t *buf, size_t len) {
  struct source *s = user_data;
  s->calls++;
  if (s->ended) s->calls_after_end++;
  if (buf == NULL || len == 0) s->bad_args++;
  if (s->overflow) return (ptrdiff_t)len + 1;
  if (s->given >= s->fail_at) {
    s->ended = true;
    return s->failure;
  }
  uint64_t left = s->size - s->given;
  size_t n = len;
  if (s->piece != 0 && n > s->piece) n = s->piece;
  if ((uint64_t)n > left) n = (size_t)left;
  for (size_t i = 0; i < n; i++) buf[i] = pattern_byte(s->given + i);
  s->given += n;
  if (n == 0) s->ended = true;
  return (ptrdiff_t)n;
}

/* A whole blob read back (at most `cap` bytes; freed by the caller), or
 * NULL; its length in *len. */
static uint8_t *read_blob(regc_client *c, const char *repo, const char *digest, size_t cap,
                          size_t *len) {
  regc_blob *blob = NULL;
  CHECK_STATUS(regc_blob_open(c, repo, digest, &blob), REGC_OK);
  if (blob == NULL) return NULL;
  uint8_t *data = malloc(cap + 1);
  size_t n = 0;
  for (;;) {
    size_t got = 0;
    regc_status s = regc_blob_read(blob, data + n, cap + 1 - n, &got);
    CHECK_STATUS(s, REGC_OK);
    if (s != REGC_OK || got == 0) break;
    n += got;
    if (n > cap) break;
  }
  regc_blob_free(blob);
  *len = n;
  return data;
}

/* Whether `repo` has the blob (opening it finds it). */
static regc_status blob_status(regc_client *c, const char *repo, const char *digest) {
  regc_blob *blob = NULL;
  regc_status s = regc_blob_open(c, repo, digest, &blob);
  regc_blob_free(blob);
  return s;
}

/* ------------------------------------------------------------------------ */
/* Images made here. */

struct image {
  char *config;   /* digests (owned) */
  char *layer;
  char *manifest; /* the digest put */
  size_t config_size, layer_size;
  char body[2048];
  size_t body_len;
};

/* An OCI manifest over a config and one layer uploaded from buffers (with
 * `extra` JSON members appended), put as `repo:tag`. */
static bool push_image(regc_client *c, const char *repo, const char *tag, const char *label,
                       const char *extra, struct image *img) {
  memset(img, 0, sizeof *img);
  char config[256];
  int n = snprintf(config, sizeof config,
                   "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":"
                   "{\"label\":\"%s\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                   label);
  img->config_size = (size_t)n;
  char layer[128];
  img->layer_size = (size_t)snprintf(layer, sizeof layer, "layer of %s", label);
  CHECK_STATUS(regc_blob_upload_buffer(c, repo, (const uint8_t *)config, img->config_size,
                                       &img->config),
               REGC_OK);
  CHECK_STATUS(regc_blob_upload_buffer(c, repo, (const uint8_t *)layer, img->layer_size,
                                       &img->layer),
               REGC_OK);
  if (img->config == NULL || img->layer == NULL) return false;
  img->body_len = (size_t)snprintf(
      img->body, sizeof img->body,
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
      "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
      "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":"
      "\"%s\",\"size\":%zu}]%s}",
      OCI_MANIFEST, img->config, img->config_size, img->layer, img->layer_size,
      extra ? extra : "");
  CHECK_STATUS(regc_manifest_put(c, repo, tag, OCI_MANIFEST, (const uint8_t *)img->body,
                                 img->body_len, &img->manifest),
               REGC_OK);
  return img->manifest != NULL;
}

static void image_free(struct image *img) {
  regc_string_free(img->config);
  regc_string_free(img->layer);
  regc_string_free(img->manifest);
  img->config = img->layer = img->manifest = NULL;
}

/* The manifest of repo:ref is exactly `body` and has `digest`. */
static void check_manifest_is(regc_client *c, const char *repo, const char *ref,
                              const char *body, size_t body_len, const char *digest) {
  regc_manifest *m = NULL;
  CHECK_STATUS(regc_get_manifest(c, repo, ref, &m), REGC_OK);
  if (m == NULL) return;
  size_t len = 0;
  const uint8_t *got = regc_manifest_body(m, &len);
  CHECK(len == body_len && memcmp(got, body, len) == 0);
  CHECK(str_eq(regc_manifest_digest(m), digest));
  CHECK(str_eq(regc_manifest_media_type(m), OCI_MANIFEST));
  regc_manifest_free(m);
}

/* ------------------------------------------------------------------------ */
/* Argument errors: no request is sent (the client's registry does not
 * even exist), nothing is written, callbacks are never called. */

static void test_argument_errors(void) {
  regc_client *c = make_client("http://127.0.0.1:9", NULL, NULL);
  const uint8_t data[] = "x";
  char *out = SENTINEL_STRING;
  struct source src;
  source_init(&src, 10, 0);
  struct progress p;
  progress_init(&p, 0);

#define BAD(expr, text)                                                          \
  do {                                                                           \
    CHECK_STATUS(expr, REGC_ERR_INVALID_ARGUMENT);                               \
    if (!has(regc_last_error_message(), text)) {                                 \
      fprintf(stderr, "%s:%d: last error lacks \"%s\"\n", __FILE__, __LINE__, text); \
      check_failures++;                                                          \
    }                                                                            \
    CHECK(regc_last_error_http_status() == 0);                                   \
  } while (0)

  /* regc_blob_upload_buffer */
  BAD(regc_blob_upload_buffer(NULL, "a/b", data, 1, &out), "`client` is NULL");
  BAD(regc_blob_upload_buffer(c, NULL, data, 1, &out), "`repository` is NULL");
  BAD(regc_blob_upload_buffer(c, "a/b", NULL, 1, &out), "`data` is NULL");
  BAD(regc_blob_upload_buffer(c, "a/b", NULL, 0, &out), "`data` is NULL");
  BAD(regc_blob_upload_buffer(c, "a/b", data, 1, NULL), "`out_digest` is NULL");
  BAD(regc_blob_upload_buffer(c, NON_UTF8, data, 1, &out), "not valid UTF-8");
  BAD(regc_blob_upload_buffer(c, "Not/Valid", data, 1, &out), "invalid");

  /* regc_blob_upload_callback */
  BAD(regc_blob_upload_callback(NULL, "a/b", read_source, &src, NULL, &out), "`client` is NULL");
  BAD(regc_blob_upload_callback(c, NULL, read_source, &src, NULL, &out), "`repository` is NULL");
  BAD(regc_blob_upload_callback(c, "a/b", NULL, &src, NULL, &out), "`read_cb` is NULL");
  BAD(regc_blob_upload_callback(c, "a/b", read_source, &src, NULL, NULL), "`out_digest` is NULL");
  BAD(regc_blob_upload_callback(c, "a/b", read_source, &src, NON_UTF8, &out), "not valid UTF-8");
  BAD(regc_blob_upload_callback(c, "a/b", read_source, &src, "sha256:zz", &out), "digest");
  CHECK_STATUS(regc_blob_upload_callback(c, "a/b", read_source, &src, "md5:abc", &out),
               REGC_ERR_UNSUPPORTED);
  CHECK(has(regc_last_error_message(), "digest algorithm \"md5\""));
  BAD(regc_blob_upload_callback(c, "a//b", read_source, &src, NULL, &out), "invalid");
  CHECK(src.calls == 0);

  /* regc_manifest_put */
  const uint8_t body[] = "{}";
  BAD(regc_manifest_put(NULL, "a/b", "v1", OCI_MANIFEST, body, 2, &out), "`client` is NULL");
  BAD(regc_manifest_put(c, NULL, "v1", OCI_MANIFEST, body, 2, &out), "`repository` is NULL");
  BAD(regc_manifest_put(c, "a/b", NULL, OCI_MANIFEST, body, 2, &out), "`reference` is NULL");
  BAD(regc_manifest_put(c, "a/b", "v1", NULL, body, 2, &out), "`media_type` is NULL");
  BAD(regc_manifest_put(c, "a/b", "v1", OCI_MANIFEST, NULL, 2, &out), "`body` is NULL");
  BAD(regc_manifest_put(c, "a/b", "v1", OCI_MANIFEST, body, 2, NULL), "`out_digest` is NULL");
  BAD(regc_manifest_put(c, "a/b", "bad tag!", OCI_MANIFEST, body, 2, &out), "invalid");
  BAD(regc_manifest_put(c, "a/b", "v1", "not a media type", body, 2, &out), "not a media type");
  BAD(regc_manifest_put(c, "a/b", "v1", NON_UTF8, body, 2, &out), "not valid UTF-8");
  /* Not JSON: a decode error, still before any request. */
  CHECK_STATUS(regc_manifest_put(c, "a/b", "v1", OCI_MANIFEST, (const uint8_t *)"nope", 4, &out),
               REGC_ERR_DECODE);
  /* A digest reference the body does not have. */
  CHECK_STATUS(regc_manifest_put(c, "a/b", ZERO_DIGEST, OCI_MANIFEST, body, 2, &out),
               REGC_ERR_DIGEST_MISMATCH);

  /* regc_tag */
  BAD(regc_tag(NULL, "a/b", "v1", "v2", &out), "`client` is NULL");
  BAD(regc_tag(c, NULL, "v1", "v2", &out), "`repository` is NULL");
  BAD(regc_tag(c, "a/b", NULL, "v2", &out), "`reference` is NULL");
  BAD(regc_tag(c, "a/b", "v1", NULL, &out), "`new_tag` is NULL");
  BAD(regc_tag(c, "a/b", "v1", "bad tag!", NULL), "invalid");
  BAD(regc_tag(c, "a/b", "v1", ZERO_DIGEST, NULL), "invalid");

  /* regc_manifest_delete, regc_tag_delete, regc_blob_delete */
  BAD(regc_manifest_delete(NULL, "a/b", "v1", &out), "`client` is NULL");
  BAD(regc_manifest_delete(c, NULL, "v1", NULL), "`repository` is NULL");
  BAD(regc_manifest_delete(c, "a/b", NULL, NULL), "`reference` is NULL");
  BAD(regc_manifest_delete(c, "a/b", "bad tag!", &out), "invalid");
  BAD(regc_tag_delete(NULL, "a/b", "v1"), "`client` is NULL");
  BAD(regc_tag_delete(c, NULL, "v1"), "`repository` is NULL");
  BAD(regc_tag_delete(c, "a/b", NULL), "`tag` is NULL");
  BAD(regc_tag_delete(c, "a/b", ZERO_DIGEST), "invalid");
  BAD(regc_tag_delete(c, "a/b", NON_UTF8), "not valid UTF-8");
  BAD(regc_blob_delete(NULL, "a/b", HELLO_DIGEST), "`client` is NULL");
  BAD(regc_blob_delete(c, NULL, HELLO_DIGEST), "`repository` is NULL");
  BAD(regc_blob_delete(c, "a/b", NULL), "`digest` is NULL");
  BAD(regc_blob_delete(c, "a/b", "v1"), "digest");

  /* regc_copy */
#define COPY_BAD(text, ...) BAD(regc_copy(__VA_ARGS__), text)
  COPY_BAD("`src_client` is NULL", NULL, "a/b", "v1", c, "c/d", NULL, NULL, false, 1, on_progress,
           &p, &out);
  COPY_BAD("`src_repository` is NULL", c, NULL, "v1", c, "c/d", NULL, NULL, false, 1, on_progress,
           &p, &out);
  COPY_BAD("`src_reference` is NULL", c, "a/b", NULL, c, "c/d", NULL, NULL, false, 1, on_progress,
           &p, &out);
  COPY_BAD("`dst_client` is NULL", c, "a/b", "v1", NULL, "c/d", NULL, NULL, false, 1, on_progress,
           &p, &out);
  COPY_BAD("`dst_repository` is NULL", c, "a/b", "v1", c, NULL, NULL, NULL, false, 1, on_progress,
           &p, &out);
  COPY_BAD("`out_digest` is NULL", c, "a/b", "v1", c, "c/d", NULL, NULL, false, 1, on_progress, &p,
           NULL);
  COPY_BAD("not valid UTF-8", c, "a/b", "v1", c, "c/d", NON_UTF8, NULL, false, 1, on_progress, &p,
           &out);
  COPY_BAD("not valid UTF-8", c, "a/b", "v1", c, "c/d", NULL, NON_UTF8, false, 1, on_progress, &p,
           &out);
  COPY_BAD("invalid", c, "a/b", "v1", c, "c/d", "bad tag!", NULL, false, 1, on_progress, &p, &out);
  COPY_BAD("platform", c, "a/b", "v1", c, "c/d", NULL, "bogus", false, 1, on_progress, &p, &out);
  COPY_BAD("not both", c, "a/b", "v1", c, "c/d", NULL, "linux/arm64", true, 1, on_progress, &p,
           &out);
  COPY_BAD("between 1 and 64", c, "a/b", "v1", c, "c/d", NULL, NULL, false, 65, on_progress, &p,
           &out);
  COPY_BAD("invalid", c, "Not/Valid", "v1", c, "c/d", NULL, NULL, false, 1, on_progress, &p, &out);
  COPY_BAD("invalid", c, "a/b", "v1", c, "c//d", NULL, NULL, false, 1, on_progress, &p, &out);
  COPY_BAD("invalid", c, "a/b", "bad ref!", c, "c/d", NULL, NULL, false, 1, on_progress, &p, &out);
#undef COPY_BAD
  CHECK(atomic_load(&p.calls) == 0);

  /* regc_referrers */
  BAD(regc_referrers(NULL, "a/b", HELLO_DIGEST, NULL, &out), "`client` is NULL");
  BAD(regc_referrers(c, NULL, HELLO_DIGEST, NULL, &out), "`repository` is NULL");
  BAD(regc_referrers(c, "a/b", NULL, NULL, &out), "`digest` is NULL");
  BAD(regc_referrers(c, "a/b", HELLO_DIGEST, NULL, NULL), "`out_json` is NULL");
  BAD(regc_referrers(c, "a/b", "v1", NULL, &out), "digest");
  BAD(regc_referrers(c, "a/b", HELLO_DIGEST, "not a type", &out), "not an artifact type");
  BAD(regc_referrers(c, "a/b", HELLO_DIGEST, NON_UTF8, &out), "not valid UTF-8");
#undef BAD

  CHECK(out == SENTINEL_STRING);
  regc_client_free(c);
}

/* ------------------------------------------------------------------------ */
/* Blob uploads. */

static void test_uploads(regc_client *alice, regc_client *bob) {
  /* From a buffer: the digest of the bytes, read back the same. */
  char *digest = SENTINEL_STRING;
  CHECK_STATUS(regc_blob_upload_buffer(alice, "c/blobs", (const uint8_t *)"hello", 5, &digest),
               REGC_OK);
  check_last_error_cleared();
  CHECK(str_eq(digest, HELLO_DIGEST));
  size_t len = 0;
  uint8_t *back = read_blob(alice, "c/blobs", HELLO_DIGEST, 64, &len);
  CHECK(back != NULL && len == 5 && memcmp(back, "hello", 5) == 0);
  free(back);
  /* Again: it is there already, same answer. */
  char *again = NULL;
  CHECK_STATUS(regc_blob_upload_buffer(alice, "c/blobs", (const uint8_t *)"hello", 5, &again),
               REGC_OK);
  CHECK(str_eq(again, HELLO_DIGEST));
  regc_string_free(again);
  if (digest != SENTINEL_STRING) regc_string_free(digest);
  /* An empty buffer is a blob too (a non-NULL pointer). */
  char *empty = NULL;
  CHECK_STATUS(regc_blob_upload_buffer(alice, "c/blobs", (const uint8_t *)"", 0, &empty), REGC_OK);
  CHECK(str_eq(empty, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  regc_string_free(empty);

  /* From a callback, larger than a chunk (8 MiB): sent in PATCHes, given
   * in odd pieces; the digest is computed while sending. */
  const uint64_t big = (9u << 20) + 5;
  struct source src;
  source_init(&src, big, 100003);
  char *big_digest = NULL;
  CHECK_STATUS(regc_blob_upload_callback(alice, "c/keep", read_source, &src, NULL, &big_digest),
               REGC_OK);
  check_last_error_cleared();
  CHECK(src.given == big);
  CHECK(src.calls_after_end == 0);
  CHECK(src.bad_args == 0);
  CHECK(big_digest != NULL && strncmp(big_digest, "sha256:", 7) == 0);
  if (big_digest != NULL) {
    back = read_blob(alice, "c/keep", big_digest, (size_t)big, &len);
    CHECK(back != NULL && len == big);
    bool same = back != NULL && len == big;
    for (uint64_t i = 0; same && i < big; i++) same = back[i] == pattern_byte(i);
    CHECK(same);
    free(back);
    printf("blob c/keep %s %llu\n", big_digest, (unsigned long long)big);
  }

  /* A small one in one piece, with its digest given: the registry checks
   * it; given again, the blob is there and the callback is not called. */
  char *small_digest = NULL;
  source_init(&src, 1000, 0);
  CHECK_STATUS(regc_blob_upload_callback(alice, "c/blobs", read_source, &src, NULL, &small_digest),
               REGC_OK);
  CHECK(src.given == 1000);
  if (small_digest != NULL) {
    char *given = NULL;
    source_init(&src, 1000, 0);
    CHECK_STATUS(
        regc_blob_upload_callback(alice, "c/given", read_source, &src, small_digest, &given),
        REGC_OK);
    CHECK(str_eq(given, small_digest));
    CHECK(src.given == 1000);
    regc_string_free(given);
    given = NULL;
    source_init(&src, 1000, 0);
    CHECK_STATUS(
        regc_blob_upload_callback(alice, "c/given", read_source, &src, small_digest, &given),
        REGC_OK);
    CHECK(str_eq(given, small_digest));
    CHECK(src.calls == 0);
    regc_string_free(given);
  }

  /* Content that is not what the given digest says: refused, nothing
   * stored under that digest. */
  source_init(&src, 1000, 0);
  char *untouched = SENTINEL_STRING;
  regc_status s =
      regc_blob_upload_callback(alice, "c/mismatch", read_source, &src, HELLO_DIGEST, &untouched);
  /* distribution checks the digest when the upload is committed. */
  CHECK_STATUS(s, REGC_ERR_REGISTRY);
  CHECK(regc_last_error_http_status() == 400);
  CHECK(has(regc_last_error_message(), "DIGEST_INVALID"));
  CHECK(untouched == SENTINEL_STRING);
  CHECK_STATUS(blob_status(alice, "c/mismatch", HELLO_DIGEST), REGC_ERR_NOT_FOUND);

  /* A callback that fails: -1 at once, or after some bytes (past the
   * first chunk), or another negative number; a clear error, and it is not
   * called again. */
  const uint64_t fail_points[] = {0, 4096, (8u << 20) + 1};
  for (size_t i = 0; i < sizeof fail_points / sizeof fail_points[0]; i++) {
    source_init(&src, 12u << 20, 65536);
    src.fail_at = fail_points[i];
    src.failure = i == 1 ? -42 : -1;
    CHECK_STATUS(
        regc_blob_upload_callback(alice, "c/failed", read_source, &src, NULL, &untouched),
        REGC_ERR_IO);
    char want[64];
    snprintf(want, sizeof want, "read callback reported an error (%td)", src.failure);
    CHECK(has(regc_last_error_message(), want));
    if (!has(regc_last_error_message(), want))
      fprintf(stderr, "want \"%s\" in \"%s\"\n", want, regc_last_error_message());
    CHECK(regc_last_error_http_status() == 0);
    CHECK(src.calls_after_end == 0);
  }
  /* One that answers more than it was given room for. */
  source_init(&src, 100, 0);
  src.overflow = true;
  CHECK_STATUS(regc_blob_upload_callback(alice, "c/failed", read_source, &src, NULL, &untouched),
               REGC_ERR_IO);
  CHECK(has(regc_last_error_message(), "more than the"));
  CHECK(src.calls == 1);
  CHECK(untouched == SENTINEL_STRING);

  /* A pull-only user: refused, nothing read from the callback, nothing
   * written. */
  const char *bobs = "bob's bytes, never stored";
  CHECK_STATUS(regc_blob_upload_buffer(bob, "c/bob", (const uint8_t *)bobs, strlen(bobs),
                                       &untouched),
               REGC_ERR_AUTH);
  CHECK(untouched == SENTINEL_STRING);
  source_init(&src, 1000, 0);
  CHECK_STATUS(regc_blob_upload_callback(bob, "c/bob", read_source, &src, NULL, &untouched),
               REGC_ERR_AUTH);
  CHECK(src.calls == 0);
  if (small_digest != NULL) {
    CHECK_STATUS(
        regc_blob_upload_callback(bob, "c/bob", read_source, &src, small_digest, &untouched),
        REGC_ERR_AUTH);
    CHECK(src.calls == 0);
    CHECK_STATUS(blob_status(alice, "c/bob", small_digest), REGC_ERR_NOT_FOUND);
  }
  CHECK(untouched == SENTINEL_STRING);
  /* Under bob/ he may push. */
  char *his = NULL;
  CHECK_STATUS(regc_blob_upload_buffer(bob, "bob/blobs", (const uint8_t *)bobs, strlen(bobs), &his),
               REGC_OK);
  CHECK(his != NULL);
  regc_string_free(his);

  regc_string_free(small_digest);
  regc_string_free(big_digest);
}

/* ------------------------------------------------------------------------ */
/* Manifests: put, tag, delete; on a registry with deletion off. */

static void test_manifests(regc_client *alice, regc_client *bob, const char *nodelete_url) {
  struct image img;
  if (!push_image(alice, "c/app", "v1", "one", NULL, &img)) {
    image_free(&img);
    return;
  }
  check_last_error_cleared();
  check_manifest_is(alice, "c/app", "v1", img.body, img.body_len, img.manifest);
  char *resolved = NULL;
  CHECK_STATUS(regc_resolve_digest(alice, "c/app", "v1", &resolved), REGC_OK);
  CHECK(str_eq(resolved, img.manifest));
  regc_string_free(resolved);

  /* By its digest: the same digest back. */
  char *by_digest = NULL;
  CHECK_STATUS(regc_manifest_put(alice, "c/app", img.manifest, OCI_MANIFEST,
                                 (const uint8_t *)img.body, img.body_len, &by_digest),
               REGC_OK);
  CHECK(str_eq(by_digest, img.manifest));
  regc_string_free(by_digest);

  /* A manifest naming a blob the repository lacks: the registry refuses. */
  char missing[1024];
  int n = snprintf(missing, sizeof missing,
                   "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                   "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1},"
                   "\"layers\":[]}",
                   OCI_MANIFEST, ZERO_DIGEST);
  char *untouched = SENTINEL_STRING;
  regc_status s = regc_manifest_put(alice, "c/app", "broken", OCI_MANIFEST,
                                    (const uint8_t *)missing, (size_t)n, &untouched);
  CHECK_STATUS(s, REGC_ERR_REGISTRY);
  CHECK(regc_last_error_http_status() == 400);
  CHECK(has(regc_last_error_message(), "MANIFEST_BLOB_UNKNOWN"));
  CHECK(untouched == SENTINEL_STRING);
  CHECK_STATUS(regc_resolve_digest(alice, "c/app", "broken", &untouched), REGC_ERR_NOT_FOUND);

  /* Tag: same bytes, same digest, under the new name. */
  char *tagged = NULL;
  CHECK_STATUS(regc_tag(alice, "c/app", "v1", "stable", &tagged), REGC_OK);
  CHECK(str_eq(tagged, img.manifest));
  regc_string_free(tagged);
  CHECK_STATUS(regc_tag(alice, "c/app", img.manifest, "by-digest", NULL), REGC_OK);
  check_manifest_is(alice, "c/app", "stable", img.body, img.body_len, img.manifest);
  check_manifest_is(alice, "c/app", "by-digest", img.body, img.body_len, img.manifest);
  regc_string_list *tags = NULL;
  CHECK_STATUS(regc_list_tags(alice, "c/app", &tags), REGC_OK);
  CHECK(regc_string_list_len(tags) == 3);
  CHECK(list_contains(tags, "v1") && list_contains(tags, "stable") &&
        list_contains(tags, "by-digest"));
  regc_string_list_free(tags);
  CHECK_STATUS(regc_tag(alice, "c/app", "no-such-tag", "x", &untouched), REGC_ERR_NOT_FOUND);
  CHECK(regc_last_error_http_status() == 404);
  CHECK(untouched == SENTINEL_STRING);

  /* Bob may read but not write here. */
  CHECK_STATUS(regc_tag(bob, "c/app", "v1", "bobs", &untouched), REGC_ERR_AUTH);
  CHECK_STATUS(regc_manifest_put(bob, "c/app", "bobs", OCI_MANIFEST, (const uint8_t *)img.body,
                                 img.body_len, &untouched),
               REGC_ERR_AUTH);
  CHECK_STATUS(regc_manifest_delete(bob, "c/app", "v1", &untouched), REGC_ERR_AUTH);
  CHECK_STATUS(regc_blob_delete(bob, "c/app", img.layer), REGC_ERR_AUTH);
  CHECK(untouched == SENTINEL_STRING);
  CHECK_STATUS(regc_resolve_digest(alice, "c/app", "bobs", &untouched), REGC_ERR_NOT_FOUND);

  /* Deleting a tag alone: distribution 2.8 has no tag deletion (it takes
   * manifests by digest only and reads the tag as a bad digest, a 400), so
   * this is UNSUPPORTED, never a silent success, and every tag stays. */
  CHECK_STATUS(regc_tag_delete(alice, "c/app", "by-digest"), REGC_ERR_UNSUPPORTED);
  CHECK(regc_last_error_http_status() == 400);
  CHECK(has(regc_last_error_message(), "cannot delete the tag c/app:by-digest alone"));
  check_manifest_is(alice, "c/app", "by-digest", img.body, img.body_len, img.manifest);

  /* Deleting the manifest by a tag: it goes, with every tag on it. */
  char *deleted = SENTINEL_STRING;
  CHECK_STATUS(regc_manifest_delete(alice, "c/app", "stable", &deleted), REGC_OK);
  check_last_error_cleared();
  CHECK(str_eq(deleted, img.manifest));
  if (deleted != SENTINEL_STRING) regc_string_free(deleted);
  regc_manifest *m = NULL;
  CHECK_STATUS(regc_get_manifest(alice, "c/app", "v1", &m), REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_get_manifest(alice, "c/app", img.manifest, &m), REGC_ERR_NOT_FOUND);
  CHECK(m == NULL);
  CHECK_STATUS(regc_manifest_delete(alice, "c/app", img.manifest, NULL), REGC_ERR_NOT_FOUND);
  CHECK(regc_last_error_http_status() == 404);

  /* Blobs: deleted, then gone; again: not found. */
  CHECK_STATUS(blob_status(alice, "c/app", img.layer), REGC_OK);
  CHECK_STATUS(regc_blob_delete(alice, "c/app", img.layer), REGC_OK);
  check_last_error_cleared();
  CHECK_STATUS(blob_status(alice, "c/app", img.layer), REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_blob_delete(alice, "c/app", img.layer), REGC_ERR_NOT_FOUND);
  image_free(&img);

  /* One that stays, for tests/ffi.rs to read with skopeo. */
  if (push_image(alice, "c/keep", "v1", "kept", NULL, &img)) {
    printf("pushed c/keep v1 %s\n", img.manifest);
  }
  image_free(&img);

  /* Deletion turned off: UNSUPPORTED (HTTP 405), never a silent success;
   * the manifest and blob stay. */
  regc_client *nd = make_client(nodelete_url, NULL, NULL);
  if (push_image(nd, "c/nodelete", "v1", "nodelete", NULL, &img)) {
    untouched = SENTINEL_STRING;
    CHECK_STATUS(regc_manifest_delete(nd, "c/nodelete", "v1", &untouched), REGC_ERR_UNSUPPORTED);
    CHECK(regc_last_error_http_status() == 405);
    CHECK(untouched == SENTINEL_STRING);
    CHECK_STATUS(regc_blob_delete(nd, "c/nodelete", img.layer), REGC_ERR_UNSUPPORTED);
    CHECK(regc_last_error_http_status() == 405);
    check_manifest_is(nd, "c/nodelete", "v1", img.body, img.body_len, img.manifest);
    CHECK_STATUS(blob_status(nd, "c/nodelete", img.layer), REGC_OK);
  }
  image_free(&img);
  regc_client_free(nd);
}

/* ------------------------------------------------------------------------ */
/* Referrers: distribution 2.8 has no referrers API, so the tag schema. */

static void test_referrers(regc_client *alice) {
  struct image subject;
  if (!push_image(alice, "c/ref", "v1", "subject", NULL, &subject)) {
    image_free(&subject);
    return;
  }
  char *empty = NULL;
  CHECK_STATUS(regc_blob_upload_buffer(alice, "c/ref", (const uint8_t *)"{}", 2, &empty), REGC_OK);
  CHECK(str_eq(empty, EMPTY_JSON_DIGEST));
  regc_string_free(empty);

  /* Nothing refers to it yet: an empty list, from the tag schema. */
  char *json = SENTINEL_STRING;
  CHECK_STATUS(regc_referrers(alice, "c/ref", subject.manifest, NULL, &json), REGC_OK);
  CHECK(str_eq(json, "{\"manifests\":[],\"from_tag_schema\":true}"));
  if (json != SENTINEL_STRING) regc_string_free(json);

  /* An SBOM-like artifact whose subject it is. */
  const char *sbom = "{\"sbom\":true}";
  char *sbom_digest = NULL;
  CHECK_STATUS(
      regc_blob_upload_buffer(alice, "c/ref", (const uint8_t *)sbom, strlen(sbom), &sbom_digest),
      REGC_OK);
  char artifact[2048];
  int n = snprintf(
      artifact, sizeof artifact,
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"application/spdx+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"%s\","
      "\"size\":2},\"layers\":[{\"mediaType\":\"application/spdx+json\",\"digest\":\"%s\","
      "\"size\":%zu}],\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
      "\"annotations\":{\"org.example\":\"yes\"}}",
      OCI_MANIFEST, EMPTY_JSON_DIGEST, sbom_digest ? sbom_digest : ZERO_DIGEST, strlen(sbom),
      OCI_MANIFEST, subject.manifest, subject.body_len);
  char *artifact_digest = NULL;
  CHECK_STATUS(regc_manifest_put(alice, "c/ref", "sbom", OCI_MANIFEST, (const uint8_t *)artifact,
                                 (size_t)n, &artifact_digest),
               REGC_OK);
  regc_string_free(sbom_digest);
  if (artifact_digest == NULL) {
    image_free(&subject);
    return;
  }

  json = NULL;
  CHECK_STATUS(regc_referrers(alice, "c/ref", subject.manifest, NULL, &json), REGC_OK);
  check_last_error_cleared();
  char want[512];
  snprintf(want, sizeof want,
           "{\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d,"
           "\"annotations\":{\"org.example\":\"yes\"},\"artifactType\":\"application/spdx+json\"}],"
           "\"from_tag_schema\":true}",
           OCI_MANIFEST, artifact_digest, n);
  CHECK(str_eq(json, want));
  if (!str_eq(json, want)) fprintf(stderr, "referrers: %s\nwant:      %s\n", json, want);
  regc_string_free(json);

  /* Filtered by artifact type. */
  json = NULL;
  CHECK_STATUS(regc_referrers(alice, "c/ref", subject.manifest, "application/spdx+json", &json),
               REGC_OK);
  CHECK(has(json, artifact_digest));
  regc_string_free(json);
  json = NULL;
  CHECK_STATUS(regc_referrers(alice, "c/ref", subject.manifest, "application/vnd.other", &json),
               REGC_OK);
  CHECK(str_eq(json, "{\"manifests\":[],\"from_tag_schema\":true}"));
  regc_string_free(json);

  /* The fallback index is a real tag. */
  char tag[80];
  snprintf(tag, sizeof tag, "sha256-%s", subject.manifest + 7);
  regc_manifest *index = NULL;
  CHECK_STATUS(regc_get_manifest(alice, "c/ref", tag, &index), REGC_OK);
  if (index != NULL) {
    CHECK(str_eq(regc_manifest_media_type(index), "application/vnd.oci.image.index.v1+json"));
    size_t len = 0;
    const uint8_t *body = regc_manifest_body(index, &len);
    char *text = calloc(1, len + 1);
    memcpy(text, body, len);
    CHECK(has(text, artifact_digest));
    free(text);
  }
  regc_manifest_free(index);

  regc_string_free(artifact_digest);
  image_free(&subject);
}

/* ------------------------------------------------------------------------ */
/* Copies between two clients: registry to registry, within a registry,
 * one platform or all, cancelled and resumed, refused. */

static void check_same_manifest(regc_client *a, const char *repo_a, const char *ref_a,
                                regc_client *b, const char *repo_b, const char *ref_b) {
  regc_manifest *x = NULL, *y = NULL;
  CHECK_STATUS(regc_get_manifest(a, repo_a, ref_a, &x), REGC_OK);
  CHECK_STATUS(regc_get_manifest(b, repo_b, ref_b, &y), REGC_OK);
  if (x != NULL && y != NULL) {
    size_t lx = 0, ly = 0;
    const uint8_t *bx = regc_manifest_body(x, &lx);
    const uint8_t *by = regc_manifest_body(y, &ly);
    CHECK(lx == ly && memcmp(bx, by, lx) == 0);
    CHECK(str_eq(regc_manifest_digest(x), regc_manifest_digest(y)));
  }
  regc_manifest_free(x);
  regc_manifest_free(y);
}

static void test_copy(regc_client *source, regc_client *alice, regc_client *bob,
                      regc_client *second) {
  char *src_digest = NULL;
  CHECK_STATUS(regc_resolve_digest(source, "oci/app", "v1", &src_digest), REGC_OK);
  if (src_digest == NULL) return;

  /* Registry to registry, with progress. */
  struct progress p;
  progress_init(&p, 0);
  char *digest = SENTINEL_STRING;
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", alice, "mirror/app", NULL, NULL, false, 2,
                         on_progress, &p, &digest),
               REGC_OK);
  check_last_error_cleared();
  CHECK(str_eq(digest, src_digest));
  if (digest != SENTINEL_STRING) regc_string_free(digest);
  CHECK(atomic_load(&p.calls) >= 2);
  CHECK(atomic_load(&p.bad) == 0);
  CHECK(atomic_load(&p.total) > 0);
  CHECK(atomic_load(&p.max_done) == atomic_load(&p.total));
  check_same_manifest(source, "oci/app", "v1", alice, "mirror/app", "v1");

  /* Again: all there; no callback, the default jobs. */
  digest = NULL;
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", alice, "mirror/app", NULL, NULL, false, 0, NULL,
                         NULL, &digest),
               REGC_OK);
  CHECK(str_eq(digest, src_digest));
  regc_string_free(digest);

  /* Within one registry (one client on both sides): mounted, new tag. */
  digest = NULL;
  CHECK_STATUS(regc_copy(alice, "mirror/app", "v1", alice, "mirror/app2", "copied", NULL, false, 1,
                         NULL, NULL, &digest),
               REGC_OK);
  CHECK(str_eq(digest, src_digest));
  regc_string_free(digest);
  check_same_manifest(source, "oci/app", "v1", alice, "mirror/app2", "copied");

  /* Every platform of an index, to the other registry, under a new tag. */
  char *index_digest = NULL;
  CHECK_STATUS(regc_resolve_digest(source, "multi/oci", "latest", &index_digest), REGC_OK);
  digest = NULL;
  progress_init(&p, 0);
  CHECK_STATUS(regc_copy(source, "multi/oci", "latest", second, "multi/all", "all", NULL, true, 3,
                         on_progress, &p, &digest),
               REGC_OK);
  CHECK(str_eq(digest, index_digest));
  CHECK(atomic_load(&p.bad) == 0);
  CHECK(atomic_load(&p.max_done) == atomic_load(&p.total));
  regc_string_free(digest);
  check_same_manifest(source, "multi/oci", "latest", second, "multi/all", "all");

  /* One platform of it: that image manifest, not the index. */
  digest = NULL;
  CHECK_STATUS(regc_copy(source, "multi/oci", "latest", second, "multi/arm64", NULL, "linux/arm64",
                         false, 1, NULL, NULL, &digest),
               REGC_OK);
  CHECK(digest != NULL && !str_eq(digest, index_digest));
  if (digest != NULL) check_same_manifest(source, "multi/oci", digest, second, "multi/arm64", "latest");
  regc_string_free(digest);
  regc_string_free(index_digest);

  /* Cancelled by the callback's first answer, then resumed. */
  struct progress cancel;
  progress_init(&cancel, 1);
  char *untouched = SENTINEL_STRING;
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", second, "cancel/app", NULL, NULL, false, 4,
                         on_progress, &cancel, &untouched),
               REGC_ERR_CANCELLED);
  CHECK(has(regc_last_error_message(), "cancelled"));
  CHECK(untouched == SENTINEL_STRING);
  unsigned calls = atomic_load(&cancel.calls);
  CHECK(calls >= 1);
  CHECK_STATUS(regc_resolve_digest(second, "cancel/app", "v1", &untouched), REGC_ERR_NOT_FOUND);
  digest = NULL;
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", second, "cancel/app", NULL, NULL, false, 4, NULL,
                         NULL, &digest),
               REGC_OK);
  CHECK(str_eq(digest, src_digest));
  regc_string_free(digest);
  CHECK(atomic_load(&cancel.calls) == calls);

  /* Failures: an unknown tag, a platform the index lacks, a destination
   * the user may not push to (nothing tagged there); bob may push under
   * bob/. */
  CHECK_STATUS(regc_copy(source, "oci/app", "no-such-tag", second, "x/y", NULL, NULL, false, 1, NULL,
                         NULL, &untouched),
               REGC_ERR_NOT_FOUND);
  CHECK(regc_last_error_http_status() == 404);
  CHECK_STATUS(regc_copy(source, "multi/oci", "latest", second, "x/y", NULL, "linux/s390x", false, 1,
                         NULL, NULL, &untouched),
               REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", bob, "mirror/bob", NULL, NULL, false, 2, NULL,
                         NULL, &untouched),
               REGC_ERR_AUTH);
  CHECK(untouched == SENTINEL_STRING);
  CHECK_STATUS(regc_resolve_digest(alice, "mirror/bob", "v1", &untouched), REGC_ERR_NOT_FOUND);
  digest = NULL;
  CHECK_STATUS(regc_copy(source, "oci/app", "v1", bob, "bob/app", NULL, NULL, false, 2, NULL, NULL,
                         &digest),
               REGC_OK);
  CHECK(str_eq(digest, src_digest));
  regc_string_free(digest);

  regc_string_free(src_digest);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (suite_enabled("offline")) {
    test_argument_errors();
    fprintf(stderr, "offline: done\n");
  }
  if (suite_enabled("write")) {
    const char *user = need_env("REGC_TEST_USER"), *password = need_env("REGC_TEST_PASSWORD");
    const char *user2 = need_env("REGC_TEST_USER2"), *password2 = need_env("REGC_TEST_PASSWORD2");
    const char *write_url = need_env("REGC_TEST_WRITE_URL");
    regc_client *alice = make_client(write_url, user, password);
    regc_client *bob = make_client(write_url, user2, password2);
    regc_client *source = make_client(need_env("REGC_TEST_OPEN_URL"), NULL, NULL);
    regc_client *second = make_client(need_env("REGC_TEST_WRITE2_URL"), NULL, NULL);
    const char *nodelete_url = need_env("REGC_TEST_NODELETE_URL");
    if (alice && bob && source && second) {
      test_uploads(alice, bob);
      test_manifests(alice, bob, nodelete_url);
      test_referrers(alice);
      test_copy(source, alice, bob, second);
    }
    regc_client_free(second);
    regc_client_free(source);
    regc_client_free(bob);
    regc_client_free(alice);
    fprintf(stderr, "write: done\n");
  }
  return finish("test_write");
}
