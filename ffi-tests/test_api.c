/* C11 test of every function of the C API, against real registries.
 *
 * Environment (set by tests/ffi.rs):
 *   REGC_TEST_SUITES      comma-separated: offline,open,basic,token,tls,network
 *                         (default: all of them)
 *   REGC_TEST_OPEN_URL    registry without auth        (suite open)
 *   REGC_TEST_BASIC_URL   registry with htpasswd auth  (suite basic)
 *   REGC_TEST_TOKEN_URL   registry with token auth     (suite token)
 *   REGC_TEST_USER, REGC_TEST_PASSWORD       admin (alice)
 *   REGC_TEST_USER2, REGC_TEST_PASSWORD2     pull-only user (bob)
 *   REGC_TEST_REFUSED_URL a URL where connections are refused   (suite network)
 *   REGC_TEST_SILENT_URL  a URL that accepts and never answers  (suite network)
 *   REGC_TEST_TLS_URL     https registry with a test CA                  (suite tls)
 *   REGC_TEST_TLS_CA_FILE that CA as a PEM file                          (suite tls)
 *   REGISTRY_AUTH_FILE    an auth.json with REGC_TEST_USER's login for the
 *                         basic registry                                 (suite basic)
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <ftw.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

static int marker;
#define SENTINEL_LIST ((regc_string_list *)(void *)&marker)
#define SENTINEL_MANIFEST ((regc_manifest *)(void *)&marker)
#define SENTINEL_CLIENT ((regc_client *)(void *)&marker)
#define SENTINEL_STRING ((char *)(void *)&marker)

static const char *NON_UTF8 = "\xff\xfe";


/* A client with no retries (errors come back at once); NULL user: anonymous. */
static regc_client *make_client(const char *url, const char *user, const char *password) {
  regc_config *cfg = regc_config_new(url);
  CHECK(cfg != NULL);
  if (cfg == NULL) return NULL;
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  CHECK_STATUS(regc_config_set_timeout_ms(cfg, 20000), REGC_OK);
  if (user != NULL) CHECK_STATUS(regc_config_set_basic_auth(cfg, user, password), REGC_OK);
  regc_client *client = NULL;
  CHECK_STATUS(regc_client_new(cfg, &client), REGC_OK);
  regc_config_free(cfg);
  CHECK(client != NULL);
  return client;
}

static void check_last_error_cleared(void) {
  CHECK(strcmp(regc_last_error_message(), "") == 0);
  CHECK(regc_last_error_http_status() == 0);
}

/* ------------------------------------------------------------------------ */

static void test_version_and_names(void) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", REGC_VERSION_MAJOR, REGC_VERSION_MINOR,
           REGC_VERSION_PATCH);
  CHECK(strcmp(regc_version(), want) == 0);
  CHECK(strcmp(regc_version(), REGC_VERSION) == 0);
  CHECK(regc_version() == regc_version()); /* static */

  static const struct { regc_status status; int value; const char *name; } names[] = {
      {REGC_OK, 0, "REGC_OK"},
      {REGC_ERR_INVALID_ARGUMENT, 1, "REGC_ERR_INVALID_ARGUMENT"},
      {REGC_ERR_AUTH, 2, "REGC_ERR_AUTH"},
      {REGC_ERR_NOT_FOUND, 3, "REGC_ERR_NOT_FOUND"},
      {REGC_ERR_CONNECTION, 4, "REGC_ERR_CONNECTION"},
      {REGC_ERR_TIMEOUT, 5, "REGC_ERR_TIMEOUT"},
      {REGC_ERR_RATE_LIMITED, 6, "REGC_ERR_RATE_LIMITED"},
      {REGC_ERR_REGISTRY, 7, "REGC_ERR_REGISTRY"},
      {REGC_ERR_CIRCUIT_OPEN, 8, "REGC_ERR_CIRCUIT_OPEN"},
      {REGC_ERR_DIGEST_MISMATCH, 9, "REGC_ERR_DIGEST_MISMATCH"},
      {REGC_ERR_DECODE, 10, "REGC_ERR_DECODE"},
      {REGC_ERR_TOO_LARGE, 11, "REGC_ERR_TOO_LARGE"},
      {REGC_ERR_UNSUPPORTED, 12, "REGC_ERR_UNSUPPORTED"},
      {REGC_ERR_PANIC, 13, "REGC_ERR_PANIC"},
      {REGC_ERR_IO, 14, "REGC_ERR_IO"},
      {REGC_ERR_CANCELLED, 15, "REGC_ERR_CANCELLED"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    CHECK((int)names[i].status == names[i].value);
    CHECK(strcmp(regc_status_name(names[i].status), names[i].name) == 0);
    /* Every status is in the table, in order: 0 … 15 with no gap. */
    CHECK(names[i].value == (int)i);
  }
  /* Any number may be passed: one that is no status has a fixed name (this
   * was undefined behaviour, a SIGSEGV, when the function took the enum). */
  const uint32_t not_statuses[] = {16, 999, INT32_MAX, (uint32_t)INT32_MAX + 1, UINT32_MAX};
  const char *unknown = regc_status_name(999);
  CHECK(unknown != NULL && strcmp(unknown, "unknown status") == 0);
  for (size_t i = 0; i < sizeof not_statuses / sizeof not_statuses[0]; i++) {
    const char *name = regc_status_name(not_statuses[i]);
    CHECK(name != NULL && strcmp(name, "unknown status") == 0);
    CHECK(name == unknown); /* static */
  }
  CHECK(strcmp(regc_status_name((regc_status)999), "unknown status") == 0);
  /* Nothing failed yet on this thread. */
  check_last_error_cleared();
}

static void test_frees_and_accessors_accept_null(void) {
  regc_config_free(NULL);
  regc_client_free(NULL);
  regc_string_list_free(NULL);
  regc_manifest_free(NULL);
  regc_string_free(NULL);
  CHECK(regc_string_list_len(NULL) == 0);
  CHECK(regc_string_list_get(NULL, 0) == NULL);
  CHECK(regc_manifest_digest(NULL) == NULL);
  CHECK(regc_manifest_media_type(NULL) == NULL);
  size_t len = 12345;
  CHECK(regc_manifest_body(NULL, &len) == NULL);
  CHECK(len == 12345);
  CHECK(regc_manifest_body(NULL, NULL) == NULL);
}

static void test_config_errors(void) {
  /* Bad URLs: NULL, not UTF-8, bad scheme, no host, credentials, query. */
  const char *bad_urls[] = {"", "ftp://example.com", "https://", "https://u:p@host",
                            "https://host/?q=1", "http://[::1"};
  CHECK(regc_config_new(NULL) == NULL);
  CHECK(strstr(regc_last_error_message(), "registry_url") != NULL);
  CHECK(regc_config_new(NON_UTF8) == NULL);
  CHECK(strstr(regc_last_error_message(), "UTF-8") != NULL);
  for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
    CHECK(regc_config_new(bad_urls[i]) == NULL);
    CHECK(strstr(regc_last_error_message(), "invalid input") != NULL);
  }
  CHECK(regc_last_error_http_status() == 0);

  /* A good URL clears the last error. */
  regc_config *cfg = regc_config_new("registry.example.com:5000");
  CHECK(cfg != NULL);
  check_last_error_cleared();

  /* Every setter: NULL config, NULL strings, non-UTF-8 strings. */
  CHECK_STATUS(regc_config_set_basic_auth(NULL, "u", "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "`config` is NULL") != NULL);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, NULL, "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "u", NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, NON_UTF8, "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_bearer_token(NULL, "t"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_bearer_token(cfg, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_timeout_ms(NULL, 1000), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_max_retries(NULL, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_retry_delay_ms(NULL, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_max_retry_delay_ms(NULL, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_verify_tls(NULL, true), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_ca_cert_file(NULL, "/x"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_ca_cert_file(cfg, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_ca_cert_file(cfg, NON_UTF8), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_ca_cert_pem(NULL, (const uint8_t *)"x", 1),
               REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_ca_cert_pem(cfg, NULL, 0), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_user_agent(NULL, "ua"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_user_agent(cfg, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_cache(NULL, 1, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_cache_max_bytes(NULL, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_page_size(NULL, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_circuit_breaker(NULL, 1, 1), REGC_ERR_INVALID_ARGUMENT);
  CHECK(regc_last_error_http_status() == 0);

  /* Strings that become HTTP headers are checked when set, and a refused
   * one leaves the config as it was. */
  CHECK_STATUS(regc_config_set_user_agent(cfg, "regc-c-test/1.0\r\nX-Evil: 1"),
               REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "user agent contains \\r") != NULL);
  CHECK_STATUS(regc_config_set_user_agent(cfg, "a\nb"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_user_agent(cfg, ""), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "user agent is empty") != NULL);
  CHECK_STATUS(regc_config_set_user_agent(cfg, "caf\xc3\xa9/1"), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_config_set_bearer_token(cfg, "t\r\nX-Evil:1"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "bearer token contains \\r") != NULL);
  CHECK_STATUS(regc_config_set_bearer_token(cfg, ""), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "bearer token is empty") != NULL);
  CHECK_STATUS(regc_config_set_bearer_token(cfg, "a b"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "bearer token contains a space") != NULL);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "a:b", "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "username \"a:b\" contains ':'") != NULL);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "", "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "username is empty") != NULL);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "al\r\nice", "p"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "control character \\r") != NULL);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "alice", "s3cr3t\n"), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "password contains the control character") != NULL);
  CHECK(strstr(regc_last_error_message(), "s3cr3t") == NULL); /* never a secret */
  /* The password travels base64-encoded: spaces, ':' and UTF-8 are fine. */
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "jos\xc3\xa9", "p a:s\xc3\xa9"), REGC_OK);
  regc_client *unchanged = NULL;
  CHECK_STATUS(regc_client_new(cfg, &unchanged), REGC_OK);
  regc_client_free(unchanged);

  /* Every setter succeeds on good input (and clears the last error). */
  CHECK_STATUS(regc_config_set_basic_auth(cfg, "alice", "secret"), REGC_OK);
  check_last_error_cleared();
  CHECK_STATUS(regc_config_set_bearer_token(cfg, "t0ken"), REGC_OK);
  CHECK_STATUS(regc_config_set_timeout_ms(cfg, 5000), REGC_OK);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 2), REGC_OK);
  CHECK_STATUS(regc_config_set_retry_delay_ms(cfg, 10), REGC_OK);
  CHECK_STATUS(regc_config_set_max_retry_delay_ms(cfg, 100), REGC_OK);
  CHECK_STATUS(regc_config_set_verify_tls(cfg, true), REGC_OK);
  CHECK_STATUS(regc_config_set_user_agent(cfg, "regc-c-test/1.0"), REGC_OK);
  CHECK_STATUS(regc_config_set_cache(cfg, 16, 1000), REGC_OK);
  CHECK_STATUS(regc_config_set_cache_max_bytes(cfg, 1 << 20), REGC_OK);
  CHECK_STATUS(regc_config_set_page_size(cfg, 10), REGC_OK);
  CHECK_STATUS(regc_config_set_circuit_breaker(cfg, 3, 1000), REGC_OK);

  /* regc_client_new: NULL arguments; out untouched on failure. */
  regc_client *client = SENTINEL_CLIENT;
  CHECK_STATUS(regc_client_new(NULL, &client), REGC_ERR_INVALID_ARGUMENT);
  CHECK(client == SENTINEL_CLIENT);
  CHECK_STATUS(regc_client_new(cfg, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "`out` is NULL") != NULL);

  /* The config can make several clients. */
  regc_client *a = NULL, *b = NULL;
  CHECK_STATUS(regc_client_new(cfg, &a), REGC_OK);
  CHECK_STATUS(regc_client_new(cfg, &b), REGC_OK);
  CHECK(a != NULL && b != NULL && a != b);
  regc_client_free(a);
  regc_client_free(b);

  /* Invalid settings are refused by regc_client_new. */
  regc_config *bad;

  bad = regc_config_new("localhost:5000");
  CHECK_STATUS(regc_config_set_timeout_ms(bad, 0), REGC_OK);
  client = SENTINEL_CLIENT;
  CHECK_STATUS(regc_client_new(bad, &client), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "timeout") != NULL);
  CHECK(client == SENTINEL_CLIENT);
  regc_config_free(bad);

  bad = regc_config_new("localhost:5000");
  CHECK_STATUS(regc_config_set_page_size(bad, 0), REGC_OK);
  CHECK_STATUS(regc_client_new(bad, &client), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "page size") != NULL);
  regc_config_free(bad);

  bad = regc_config_new("localhost:5000");
  CHECK_STATUS(regc_config_set_ca_cert_file(bad, "/nonexistent/ca.pem"), REGC_OK);
  CHECK_STATUS(regc_client_new(bad, &client), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "/nonexistent/ca.pem") != NULL);
  regc_config_free(bad);

  bad = regc_config_new("localhost:5000");
  const char junk[] = "not a certificate";
  CHECK_STATUS(regc_config_set_ca_cert_pem(bad, (const uint8_t *)junk, sizeof junk - 1), REGC_OK);
  CHECK_STATUS(regc_client_new(bad, &client), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "no PEM certificate") != NULL);
  regc_config_free(bad);
  CHECK(client == SENTINEL_CLIENT);

  regc_config_free(cfg);
}

/* Every client function with NULL and non-UTF-8 arguments (no request is
 * sent: argument checks come first). */
static void test_client_argument_errors(void) {
  regc_client *c = make_client("http://127.0.0.1:9", NULL, NULL);
  regc_string_list *list = SENTINEL_LIST;
  regc_manifest *m = SENTINEL_MANIFEST;
  char *s = SENTINEL_STRING;
  bool flag = true;

  CHECK_STATUS(regc_ping(NULL, &flag), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_ping(c, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(flag == true);
  CHECK_STATUS(regc_list_repositories(NULL, &list), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_list_repositories(c, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_list_tags(NULL, "a/b", &list), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_list_tags(c, NULL, &list), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "`repository` is NULL") != NULL);
  CHECK_STATUS(regc_list_tags(c, NON_UTF8, &list), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "not valid UTF-8") != NULL);
  CHECK_STATUS(regc_list_tags(c, "a/b", NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_list_tags(c, "Not/Valid", &list), REGC_ERR_INVALID_ARGUMENT);
  CHECK(list == SENTINEL_LIST);

  CHECK_STATUS(regc_get_manifest(NULL, "a", "v1", &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, NULL, "v1", &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, "a", NULL, &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, "a", NON_UTF8, &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, "a", "v1", NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, "a", "bad ref!", &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_get_manifest(c, "a", "sha256:abc", &m), REGC_ERR_INVALID_ARGUMENT);
  CHECK(m == SENTINEL_MANIFEST);

  CHECK_STATUS(regc_resolve_digest(NULL, "a", "v1", &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_resolve_digest(c, NULL, "v1", &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_resolve_digest(c, "a", NULL, &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_resolve_digest(c, "a", "v1", NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_resolve_digest(c, "UPPER", "v1", &s), REGC_ERR_INVALID_ARGUMENT);

  CHECK_STATUS(regc_image_info_json(NULL, "a", "v1", NULL, &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_image_info_json(c, NULL, "v1", NULL, &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_image_info_json(c, "a", NULL, NULL, &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_image_info_json(c, "a", "v1", NON_UTF8, &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_image_info_json(c, "a", "v1", "bogus", &s), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "platform") != NULL);
  CHECK_STATUS(regc_image_info_json(c, "a", "v1", NULL, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(s == SENTINEL_STRING);
  CHECK(regc_last_error_http_status() == 0);
  regc_client_free(c);
}

/* ------------------------------------------------------------------------ */

/* Blobs: the config blob of oci/app:v1, streamed in small reads and checked
 * against its digest by the library; argument and lookup errors. */
static void test_blobs(regc_client *c) {
  char *json = NULL;
  CHECK_STATUS(regc_image_info_json(c, "oci/app", "v1", NULL, &json), REGC_OK);
  if (json == NULL) return;
  const char *key = "\"config_digest\":\"";
  const char *at = strstr(json, key);
  CHECK(at != NULL);
  char digest[80] = {0};
  if (at != NULL) {
    at += strlen(key);
    size_t n = strcspn(at, "\"");
    CHECK(n == 71); /* "sha256:" + 64 hex digits */
    if (n < sizeof digest) memcpy(digest, at, n);
  }
  regc_string_free(json);

  regc_blob *blob = NULL;
  CHECK_STATUS(regc_blob_open(c, "oci/app", digest, &blob), REGC_OK);
  CHECK(blob != NULL);
  int64_t size = regc_blob_size(blob);
  CHECK(size > 0);
  unsigned char buf[7];
  size_t got = 0, total = 0;
  char first = 0;
  for (;;) {
    got = (size_t)-1;
    regc_status s = regc_blob_read(blob, buf, sizeof buf, &got);
    CHECK_STATUS(s, REGC_OK);
    if (s != REGC_OK || got == 0) break;
    CHECK(got <= sizeof buf);
    if (total == 0) first = (char)buf[0];
    total += got;
  }
  CHECK(got == 0);
  CHECK((int64_t)total == size);
  CHECK(first == '{'); /* an image config is a JSON object */
  /* At the end it stays at the end. */
  got = 42;
  CHECK_STATUS(regc_blob_read(blob, buf, sizeof buf, &got), REGC_OK);
  CHECK(got == 0);
  CHECK_STATUS(regc_blob_read(blob, NULL, 1, &got), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_read(blob, buf, sizeof buf, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_read(NULL, buf, sizeof buf, &got), REGC_ERR_INVALID_ARGUMENT);
  regc_blob_free(blob);
  regc_blob_free(NULL);
  CHECK(regc_blob_size(NULL) == -1);

  regc_blob *untouched = (regc_blob *)&marker;
  CHECK_STATUS(regc_blob_open(c, "oci/app", "sha256:0000000000000000000000000000000000000000000000000000000000000000", &untouched), REGC_ERR_NOT_FOUND);
  CHECK(untouched == (regc_blob *)&marker);
  CHECK(regc_last_error_http_status() == 404);
  CHECK(strstr(regc_last_error_message(), "BLOB_UNKNOWN") != NULL);
  CHECK_STATUS(regc_blob_open(c, "oci/app", "sha256:abc", &untouched), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_open(c, "Bad Name", digest, &untouched), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_open(c, "oci/app", NULL, &untouched), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_open(NULL, "oci/app", digest, &untouched), REGC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(regc_blob_open(c, "oci/app", digest, NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(untouched == (regc_blob *)&marker);
}

static void test_open_registry(void) {
  const char *url = need_env("REGC_TEST_OPEN_URL");
  regc_client *c = make_client(url, NULL, NULL);

  bool auth_required = true;
  CHECK_STATUS(regc_ping(c, &auth_required), REGC_OK);
  CHECK(auth_required == false);
  check_last_error_cleared();

  /* Catalog, once with the registry's page size, once 2 per page. */
  regc_string_list *repos = NULL;
  CHECK_STATUS(regc_list_repositories(c, &repos), REGC_OK);
  const char *expected[] = {"oci/app", "docker/app", "multi/oci", "multi/docker", "many/tags",
                            "public/hello", "repos/r00", "repos/r29"};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    CHECK(list_contains(repos, expected[i]));
  }
  size_t n = regc_string_list_len(repos);
  CHECK(n >= 35);
  CHECK(regc_string_list_get(repos, n) == NULL);
  CHECK(regc_string_list_get(repos, (size_t)-1) == NULL);
  const char *first = regc_string_list_get(repos, 0);
  CHECK(first != NULL && first == regc_string_list_get(repos, 0)); /* stable pointer */

  regc_config *cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_page_size(cfg, 2), REGC_OK);
  regc_client *paged = NULL;
  CHECK_STATUS(regc_client_new(cfg, &paged), REGC_OK);
  regc_config_free(cfg); /* the client outlives its config */
  regc_string_list *repos2 = NULL;
  CHECK_STATUS(regc_list_repositories(paged, &repos2), REGC_OK);
  CHECK(regc_string_list_len(repos2) == n);
  for (size_t i = 0; i < n && i < regc_string_list_len(repos2); i++) {
    CHECK(strcmp(regc_string_list_get(repos, i), regc_string_list_get(repos2, i)) == 0);
  }
  regc_string_list_free(repos2);
  regc_client_free(paged);
  regc_string_list_free(repos);

  /* Tags: many/tags has t00 … t24 (in storage order). */
  regc_string_list *tags = NULL;
  CHECK_STATUS(regc_list_tags(c, "many/tags", &tags), REGC_OK);
  CHECK(regc_string_list_len(tags) == 25);
  for (unsigned i = 0; i < 25; i++) {
    char tag[16];
    snprintf(tag, sizeof tag, "t%02u", i);
    CHECK(list_contains(tags, tag));
  }
  regc_string_list_free(tags);

  /* The OCI image manifest. */
  regc_manifest *m = NULL;
  CHECK_STATUS(regc_get_manifest(c, "oci/app", "v1", &m), REGC_OK);
  CHECK(m != NULL);
  if (m != NULL) {
    const char *digest = regc_manifest_digest(m);
    CHECK(strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 71);
    CHECK(strcmp(regc_manifest_media_type(m), "application/vnd.oci.image.manifest.v1+json") == 0);
    size_t len = 0;
    const uint8_t *body = regc_manifest_body(m, &len);
    CHECK(body != NULL && len > 100 && body[0] == '{');
    CHECK(regc_manifest_body(m, NULL) == NULL);

    /* HEAD gives the same digest. */
    char *resolved = NULL;
    CHECK_STATUS(regc_resolve_digest(c, "oci/app", "v1", &resolved), REGC_OK);
    CHECK(resolved != NULL && strcmp(resolved, digest) == 0);

    /* Fetching by digest gives the same bytes. */
    regc_manifest *by_digest = NULL;
    CHECK_STATUS(regc_get_manifest(c, "oci/app", digest, &by_digest), REGC_OK);
    size_t len2 = 0;
    const uint8_t *body2 = regc_manifest_body(by_digest, &len2);
    CHECK(len2 == len && memcmp(body, body2, len) == 0);
    CHECK(strcmp(regc_manifest_digest(by_digest), digest) == 0);
    regc_manifest_free(by_digest);

    char *resolved2 = NULL;
    CHECK_STATUS(regc_resolve_digest(c, "oci/app", resolved, &resolved2), REGC_OK);
    CHECK(resolved2 != NULL && strcmp(resolved2, digest) == 0);
    regc_string_free(resolved2);
    regc_string_free(resolved);
    regc_manifest_free(m);
  }

  /* Docker v2 schema 2, and the two index types. */
  const struct { const char *repo, *ref, *media_type; } kinds[] = {
      {"docker/app", "v1", "application/vnd.docker.distribution.manifest.v2+json"},
      {"multi/oci", "latest", "application/vnd.oci.image.index.v1+json"},
      {"multi/docker", "latest", "application/vnd.docker.distribution.manifest.list.v2+json"},
      {"public/hello", "latest", "application/vnd.oci.image.manifest.v1+json"},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    regc_manifest *k = NULL;
    CHECK_STATUS(regc_get_manifest(c, kinds[i].repo, kinds[i].ref, &k), REGC_OK);
    CHECK(k != NULL && strcmp(regc_manifest_media_type(k), kinds[i].media_type) == 0);
    regc_manifest_free(k);
  }

  /* Image info as JSON. */
  char *json = NULL;
  CHECK_STATUS(regc_image_info_json(c, "oci/app", "v1", NULL, &json), REGC_OK);
  CHECK(json != NULL);
  if (json != NULL) {
    CHECK(strstr(json, "\"architecture\":\"amd64\"") != NULL);
    CHECK(strstr(json, "\"os\":\"linux\"") != NULL);
    CHECK(strstr(json, "\"entrypoint\":[\"/bin/app\"]") != NULL);
    CHECK(strstr(json, "\"cmd\":[\"--serve\"]") != NULL);
    CHECK(strstr(json, "\"working_dir\":\"/srv\"") != NULL);
    CHECK(strstr(json, "\"user\":\"1000:1000\"") != NULL);
    CHECK(strstr(json, "\"org.example.team\":\"registry\"") != NULL);
    regc_string_free(json);
  }
  json = NULL;
  CHECK_STATUS(regc_image_info_json(c, "docker/app", "v1", "linux/amd64", &json), REGC_OK);
  CHECK(json != NULL && strstr(json, "\"media_type\":\"application/vnd.docker.distribution"
                                     ".manifest.v2+json\"") != NULL);
  regc_string_free(json);
  json = NULL;
  CHECK_STATUS(regc_image_info_json(c, "multi/oci", "latest", "linux/arm64/v8", &json), REGC_OK);
  CHECK(json != NULL && strstr(json, "\"architecture\":\"arm64\"") != NULL &&
        strstr(json, "\"variant\":\"v8\"") != NULL);
  regc_string_free(json);

  /* Errors from the registry: 404s, with the HTTP status and a message. */
  regc_string_list *list = SENTINEL_LIST;
  CHECK_STATUS(regc_list_tags(c, "no/such-repo", &list), REGC_ERR_NOT_FOUND);
  CHECK(list == SENTINEL_LIST);
  CHECK(regc_last_error_http_status() == 404);
  CHECK(strstr(regc_last_error_message(), "not found") != NULL);
  CHECK(strstr(regc_last_error_message(), "NAME_UNKNOWN") != NULL);
  /* A success clears it. */
  bool ar = true;
  CHECK_STATUS(regc_ping(c, &ar), REGC_OK);
  check_last_error_cleared();

  m = SENTINEL_MANIFEST;
  CHECK_STATUS(regc_get_manifest(c, "oci/app", "no-such-tag", &m), REGC_ERR_NOT_FOUND);
  CHECK(regc_last_error_http_status() == 404);
  CHECK(strstr(regc_last_error_message(), "MANIFEST_UNKNOWN") != NULL);
  CHECK(m == SENTINEL_MANIFEST);
  char *s = SENTINEL_STRING;
  CHECK_STATUS(regc_resolve_digest(c, "oci/app",
                                   "sha256:0000000000000000000000000000000000000000000000000000"
                                   "000000000000",
                                   &s),
               REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_image_info_json(c, "no/such-repo", "v1", NULL, &s), REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_image_info_json(c, "multi/oci", "latest", "windows/amd64", &s),
               REGC_ERR_NOT_FOUND);
  CHECK(strstr(regc_last_error_message(), "windows/amd64") != NULL);
  CHECK_STATUS(regc_image_info_json(c, "oci/app", "v1", "linux/arm64", &s), REGC_ERR_NOT_FOUND);
  CHECK(s == SENTINEL_STRING);

  test_blobs(c);
  regc_client_free(c);

  /* A user agent that would inject a header is refused at the setter; the
   * request after it goes out with the earlier one (it used to panic inside
   * the HTTP layer: REGC_ERR_PANIC). */
  regc_config *ua_cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_max_retries(ua_cfg, 0), REGC_OK);
  CHECK_STATUS(regc_config_set_user_agent(ua_cfg, "regc-c-test/1.0"), REGC_OK);
  CHECK_STATUS(regc_config_set_user_agent(ua_cfg, "regc-c-test/1.0\r\nX-Evil: 1"),
               REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "user agent") != NULL);
  regc_client *ua_client = NULL;
  CHECK_STATUS(regc_client_new(ua_cfg, &ua_client), REGC_OK);
  regc_config_free(ua_cfg);
  bool ua_auth = true;
  CHECK_STATUS(regc_ping(ua_client, &ua_auth), REGC_OK);
  CHECK(ua_auth == false);
  regc_string_list *ua_tags = NULL;
  CHECK_STATUS(regc_list_tags(ua_client, "many/tags", &ua_tags), REGC_OK);
  CHECK(regc_string_list_len(ua_tags) == 25);
  regc_string_list_free(ua_tags);
  regc_client_free(ua_client);
}

static void test_basic_registry(void) {
  const char *url = need_env("REGC_TEST_BASIC_URL");
  const char *user = need_env("REGC_TEST_USER"), *password = need_env("REGC_TEST_PASSWORD");
  const char *user2 = need_env("REGC_TEST_USER2"), *password2 = need_env("REGC_TEST_PASSWORD2");

  regc_client *alice = make_client(url, user, password);
  bool auth_required = false;
  CHECK_STATUS(regc_ping(alice, &auth_required), REGC_OK);
  CHECK(auth_required == true);
  regc_string_list *repos = NULL;
  CHECK_STATUS(regc_list_repositories(alice, &repos), REGC_OK);
  CHECK(list_contains(repos, "oci/app"));
  regc_string_list_free(repos);
  regc_manifest *m = NULL;
  CHECK_STATUS(regc_get_manifest(alice, "docker/app", "v1", &m), REGC_OK);
  regc_manifest_free(m);
  regc_client_free(alice);

  regc_client *bob = make_client(url, user2, password2);
  regc_string_list *tags = NULL;
  CHECK_STATUS(regc_list_tags(bob, "many/tags", &tags), REGC_OK);
  CHECK(regc_string_list_len(tags) == 25);
  regc_string_list_free(tags);
  regc_client_free(bob);

  /* Wrong password, and no credentials at all. */
  regc_client *wrong = make_client(url, user, "not-the-password");
  tags = SENTINEL_LIST;
  CHECK_STATUS(regc_list_tags(wrong, "many/tags", &tags), REGC_ERR_AUTH);
  CHECK(regc_last_error_http_status() == 401);
  CHECK(strstr(regc_last_error_message(), "not-the-password") == NULL); /* never a secret */
  CHECK(tags == SENTINEL_LIST);
  regc_client_free(wrong);

  regc_client *anon = make_client(url, NULL, NULL);
  CHECK_STATUS(regc_list_tags(anon, "many/tags", &tags), REGC_ERR_AUTH);
  CHECK(regc_last_error_http_status() == 401);
  auth_required = false;
  CHECK_STATUS(regc_ping(anon, &auth_required), REGC_OK);
  CHECK(auth_required == true);
  regc_client_free(anon);
}

static void test_token_registry(void) {
  const char *url = need_env("REGC_TEST_TOKEN_URL");
  const char *user = need_env("REGC_TEST_USER"), *password = need_env("REGC_TEST_PASSWORD");
  const char *user2 = need_env("REGC_TEST_USER2"), *password2 = need_env("REGC_TEST_PASSWORD2");

  regc_client *alice = make_client(url, user, password);
  regc_string_list *repos = NULL;
  CHECK_STATUS(regc_list_repositories(alice, &repos), REGC_OK);
  CHECK(list_contains(repos, "multi/oci"));
  regc_string_list_free(repos);
  char *json = NULL;
  CHECK_STATUS(regc_image_info_json(alice, "multi/docker", "latest", "linux/amd64", &json),
               REGC_OK);
  CHECK(json != NULL && strstr(json, "\"architecture\":\"amd64\"") != NULL);
  regc_string_free(json);
  regc_client_free(alice);

  /* bob may pull but not read the catalog. */
  regc_client *bob = make_client(url, user2, password2);
  char *digest = NULL;
  CHECK_STATUS(regc_resolve_digest(bob, "oci/app", "v1", &digest), REGC_OK);
  CHECK(digest != NULL && strncmp(digest, "sha256:", 7) == 0);
  regc_string_free(digest);
  repos = SENTINEL_LIST;
  CHECK_STATUS(regc_list_repositories(bob, &repos), REGC_ERR_AUTH);
  CHECK(repos == SENTINEL_LIST);
  regc_client_free(bob);

  /* Anonymous: public/ only. */
  regc_client *anon = make_client(url, NULL, NULL);
  bool auth_required = false;
  CHECK_STATUS(regc_ping(anon, &auth_required), REGC_OK);
  CHECK(auth_required == true);
  regc_manifest *m = NULL;
  CHECK_STATUS(regc_get_manifest(anon, "public/hello", "latest", &m), REGC_OK);
  regc_manifest_free(m);
  m = SENTINEL_MANIFEST;
  CHECK_STATUS(regc_get_manifest(anon, "oci/app", "v1", &m), REGC_ERR_AUTH);
  CHECK(regc_last_error_http_status() == 401);
  CHECK(m == SENTINEL_MANIFEST);
  regc_client_free(anon);

  regc_client *wrong = make_client(url, user, "not-the-password");
  regc_string_list *tags = SENTINEL_LIST;
  CHECK_STATUS(regc_list_tags(wrong, "many/tags", &tags), REGC_ERR_AUTH);
  CHECK(strstr(regc_last_error_message(), "not-the-password") == NULL);
  CHECK(tags == SENTINEL_LIST);
  regc_client_free(wrong);

  /* A ready bearer token the registry does not accept. */
  regc_config *cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_bearer_token(cfg, "not.a.jwt"), REGC_OK);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  regc_client *bearer = NULL;
  CHECK_STATUS(regc_client_new(cfg, &bearer), REGC_OK);
  regc_config_free(cfg);
  CHECK_STATUS(regc_list_tags(bearer, "many/tags", &tags), REGC_ERR_AUTH);
  regc_client_free(bearer);
}

static void tls_list_tags(regc_config *cfg, regc_status want) {
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  regc_client *client = NULL;
  CHECK_STATUS(regc_client_new(cfg, &client), REGC_OK);
  regc_string_list *tags = NULL;
  CHECK_STATUS(regc_list_tags(client, "many/tags", &tags), want);
  CHECK((want == REGC_OK) == (regc_string_list_len(tags) == 25));
  regc_string_list_free(tags);
  regc_client_free(client);
  regc_config_free(cfg);
}

static void test_tls_registry(void) {
  const char *url = need_env("REGC_TEST_TLS_URL");
  const char *ca_file = need_env("REGC_TEST_TLS_CA_FILE");

  /* The test CA is not among the public roots. */
  tls_list_tags(regc_config_new(url), REGC_ERR_CONNECTION);
  /* What rustls says about a certificate from an unknown CA. */
  CHECK(strstr(regc_last_error_message(), "invalid peer certificate: UnknownIssuer") != NULL);

  /* Trusted from a file. */
  regc_config *cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_ca_cert_file(cfg, ca_file), REGC_OK);
  tls_list_tags(cfg, REGC_OK);

  /* Trusted from memory. */
  FILE *f = fopen(ca_file, "rb");
  CHECK(f != NULL);
  if (f != NULL) {
    static char pem[65536];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    CHECK(n > 0 && n < sizeof pem);
    cfg = regc_config_new(url);
    CHECK_STATUS(regc_config_set_ca_cert_pem(cfg, (const uint8_t *)pem, n), REGC_OK);
    tls_list_tags(cfg, REGC_OK);
  }

  /* Not verified at all (tests only). */
  cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_verify_tls(cfg, false), REGC_OK);
  tls_list_tags(cfg, REGC_OK);
}

static void test_network_errors(void) {
  /* Unreachable host: connection refused. */
  regc_client *refused = make_client(need_env("REGC_TEST_REFUSED_URL"), NULL, NULL);
  bool flag = true;
  CHECK_STATUS(regc_ping(refused, &flag), REGC_ERR_CONNECTION);
  CHECK(flag == true);
  CHECK(regc_last_error_http_status() == 0);
  CHECK(strstr(regc_last_error_message(), "connection") != NULL);
  regc_client_free(refused);

  /* A server that never answers: a timeout. */
  regc_config *cfg = regc_config_new(need_env("REGC_TEST_SILENT_URL"));
  CHECK_STATUS(regc_config_set_timeout_ms(cfg, 300), REGC_OK);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  CHECK_STATUS(regc_config_set_circuit_breaker(cfg, 1, 60000), REGC_OK);
  regc_client *silent = NULL;
  CHECK_STATUS(regc_client_new(cfg, &silent), REGC_OK);
  regc_config_free(cfg);
  regc_string_list *list = SENTINEL_LIST;
  CHECK_STATUS(regc_list_tags(silent, "a/b", &list), REGC_ERR_TIMEOUT);
  /* …which opened the circuit breaker (threshold 1): no request now. */
  CHECK_STATUS(regc_list_tags(silent, "a/b", &list), REGC_ERR_CIRCUIT_OPEN);
  CHECK(strstr(regc_last_error_message(), "circuit open") != NULL);
  CHECK(list == SENTINEL_LIST);
  regc_client_free(silent);
}

/* ------------------------------------------------------------------------ */
/* References, configs for a reference, system credentials, pull. */

#define SENTINEL_REFERENCE ((regc_reference *)(void *)&marker)
#define SENTINEL_CONFIG ((regc_config *)(void *)&marker)

static bool str_eq(const char *a, const char *b) {
  if (a == NULL || b == NULL) return a == b;
  return strcmp(a, b) == 0;
}

/* `host:port` of a registry URL (the text after "://", without a final
 * '/'), in `buf`. */
static const char *host_of(const char *url, char *buf, size_t len) {
  const char *start = strstr(url, "://");
  start = start ? start + 3 : url;
  snprintf(buf, len, "%s", start);
  size_t n = strlen(buf);
  if (n > 0 && buf[n - 1] == '/') buf[n - 1] = '\0';
  return buf;
}

static void check_reference(const char *text, const char *registry, const char *repository,
                            const char *tag, const char *digest, const char *target,
                            const char *whole) {
  regc_reference *r = SENTINEL_REFERENCE;
  CHECK_STATUS(regc_reference_parse(text, &r), REGC_OK);
  check_last_error_cleared();
  CHECK(r != SENTINEL_REFERENCE && r != NULL);
  if (r == NULL || r == SENTINEL_REFERENCE) return;
  CHECK(str_eq(regc_reference_registry(r), registry));
  CHECK(str_eq(regc_reference_repository(r), repository));
  CHECK(str_eq(regc_reference_tag(r), tag));
  CHECK(str_eq(regc_reference_digest(r), digest));
  CHECK(str_eq(regc_reference_tag_or_digest(r), target));
  CHECK(str_eq(regc_reference_string(r), whole));
  /* The strings belong to the reference: the same pointer each time. */
  CHECK(regc_reference_string(r) == regc_reference_string(r));
  /* The normalised string parses to the same reference. */
  regc_reference *again = NULL;
  CHECK_STATUS(regc_reference_parse(regc_reference_string(r), &again), REGC_OK);
  CHECK(again != NULL && str_eq(regc_reference_string(again), whole));
  regc_reference_free(again);
  regc_reference_free(r);
}

static void check_bad_reference(const char *text, const char *why) {
  regc_reference *r = SENTINEL_REFERENCE;
  CHECK_STATUS(regc_reference_parse(text, &r), REGC_ERR_INVALID_ARGUMENT);
  if (strstr(regc_last_error_message(), why) == NULL) {
    fprintf(stderr, "parsing \"%s\": the message lacks \"%s\"\n", text, why);
    CHECK(strstr(regc_last_error_message(), why) != NULL);
  }
  CHECK(regc_last_error_http_status() == 0);
  CHECK(r == SENTINEL_REFERENCE);
}

static void test_references(void) {
  const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char with_digest[160], tag_and_digest[160];
  snprintf(with_digest, sizeof with_digest, "ghcr.io/org/app@%s", d);
  snprintf(tag_and_digest, sizeof tag_and_digest, "ghcr.io/org/app:v2@%s", d);

  check_reference("ubuntu", "docker.io", "library/ubuntu", NULL, NULL, "latest",
                  "docker.io/library/ubuntu");
  check_reference("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", NULL, "22.04",
                  "docker.io/library/ubuntu:22.04");
  check_reference("user/app", "docker.io", "user/app", NULL, NULL, "latest",
                  "docker.io/user/app");
  check_reference("index.docker.io/library/alpine:3.19", "docker.io", "library/alpine", "3.19",
                  NULL, "3.19", "docker.io/library/alpine:3.19");
  check_reference("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", NULL, "v1",
                  "localhost:5000/team/app:v1");
  check_reference("[::1]:5000/app", "[::1]:5000", "app", NULL, NULL, "latest",
                  "[::1]:5000/app");
  check_reference(with_digest, "ghcr.io", "org/app", NULL, d, d, with_digest);
  /* Tag and digest: both kept, the digest is what is fetched. */
  check_reference(tag_and_digest, "ghcr.io", "org/app", "v2", d, d, tag_and_digest);

  check_bad_reference("docker.io/Library/ubuntu", "position");
  check_bad_reference("a//b", "empty path component");
  check_bad_reference("app@sha256:abc", "digest");
  check_bad_reference("", "");
  char longname[300];
  memset(longname, 'a', 280);
  longname[280] = '\0';
  check_bad_reference(longname, "255");

  regc_reference *r = SENTINEL_REFERENCE;
  CHECK_STATUS(regc_reference_parse(NULL, &r), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "`text` is NULL") != NULL);
  CHECK_STATUS(regc_reference_parse(NON_UTF8, &r), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "UTF-8") != NULL);
  CHECK_STATUS(regc_reference_parse("ubuntu", NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(r == SENTINEL_REFERENCE);

  /* Accessors and free with NULL; they leave the last error alone. */
  CHECK(regc_reference_registry(NULL) == NULL);
  CHECK(regc_reference_repository(NULL) == NULL);
  CHECK(regc_reference_tag(NULL) == NULL);
  CHECK(regc_reference_digest(NULL) == NULL);
  CHECK(regc_reference_tag_or_digest(NULL) == NULL);
  CHECK(regc_reference_string(NULL) == NULL);
  regc_reference_free(NULL);
  CHECK(strstr(regc_last_error_message(), "`out` is NULL") != NULL);

  /* A config for a reference: NULL is refused; a good one builds a client
   * (no request is sent). */
  CHECK(regc_config_new_for_reference(NULL) == NULL);
  CHECK(strstr(regc_last_error_message(), "`reference` is NULL") != NULL);
  CHECK_STATUS(regc_reference_parse("ghcr.io/org/app:v1", &r), REGC_OK);
  regc_config *cfg = regc_config_new_for_reference(r);
  CHECK(cfg != NULL);
  check_last_error_cleared();
  regc_reference_free(r); /* the config does not need it */
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  regc_client *client = NULL;
  CHECK_STATUS(regc_client_new(cfg, &client), REGC_OK);
  regc_client_free(client);
  CHECK_STATUS(regc_config_use_system_credentials(NULL), REGC_ERR_INVALID_ARGUMENT);
  CHECK(strstr(regc_last_error_message(), "`config` is NULL") != NULL);
  CHECK_STATUS(regc_config_use_system_credentials(cfg), REGC_OK);
  regc_config_free(cfg);
}

/* What a progress callback saw; updated from the pull's worker threads. */

/* A fresh directory under $TMPDIR (or /tmp) in `buf`. */
static const char *temp_dir(char *buf, size_t len) {
  const char *tmp = getenv("TMPDIR");
  snprintf(buf, len, "%s/regc-pull-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(buf) == NULL) {
    fprintf(stderr, "FATAL: mkdtemp %s failed\n", buf);
    exit(2);
  }
  return buf;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tree(const char *dir) {
  CHECK(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

static bool exists(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat st;
  return stat(path, &st) == 0;
}

/* The whole of a small file (freed by the caller), or NULL. */
static char *read_small_file(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = calloc(1, 1 << 16);
  size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

/* Whether the layout's index.json names an image (a layout is made with an
 * empty index; an image is named only once all of it is there). */
static bool names_an_image(const char *dir) {
  char *index = read_small_file(dir, "index.json");
  bool named = index != NULL && strstr(index, "org.opencontainers.image.ref.name") != NULL;
  free(index);
  return named;
}

/* The layout at `dir` names `digest` as `name` in index.json and has its
 * blob. */
static void check_layout(const char *dir, const char *digest, const char *name) {
  CHECK(exists(dir, "oci-layout"));
  char *index = read_small_file(dir, "index.json");
  CHECK(index != NULL);
  if (index != NULL) {
    CHECK(strstr(index, digest) != NULL);
    char ref_name[256];
    snprintf(ref_name, sizeof ref_name, "\"org.opencontainers.image.ref.name\":\"%s\"", name);
    if (strstr(index, ref_name) == NULL) {
      fprintf(stderr, "index.json lacks %s: %s\n", ref_name, index);
      CHECK(strstr(index, ref_name) != NULL);
    }
    free(index);
  }
  char blob[128];
  snprintf(blob, sizeof blob, "blobs/sha256/%s", digest + 7);
  CHECK(exists(dir, blob));
}

/* Argument errors of regc_pull (no request is sent, no directory made). */
static void test_pull_argument_errors(void) {
  regc_client *c = make_client("http://127.0.0.1:9", NULL, NULL);
  char base[512], dir[600];
  temp_dir(base, sizeof base);
  snprintf(dir, sizeof dir, "%s/layout", base);
  struct progress p;
  progress_init(&p, 0);
#define PULL_BAD(...) CHECK_STATUS(regc_pull(__VA_ARGS__), REGC_ERR_INVALID_ARGUMENT)
  PULL_BAD(NULL, "a/b", "v1", dir, NULL, false, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "`client` is NULL") != NULL);
  PULL_BAD(c, NULL, "v1", dir, NULL, false, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "`repository` is NULL") != NULL);
  PULL_BAD(c, "a/b", NULL, dir, NULL, false, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "`reference` is NULL") != NULL);
  PULL_BAD(c, "a/b", "v1", NULL, NULL, false, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "`dir` is NULL") != NULL);
  PULL_BAD(c, NON_UTF8, "v1", dir, NULL, false, 1, on_progress, &p);
  PULL_BAD(c, "a/b", NON_UTF8, dir, NULL, false, 1, on_progress, &p);
  PULL_BAD(c, "a/b", "v1", NON_UTF8, NULL, false, 1, on_progress, &p);
  PULL_BAD(c, "a/b", "v1", dir, NON_UTF8, false, 1, on_progress, &p);
  PULL_BAD(c, "a/b", "v1", dir, "bogus", false, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "platform") != NULL);
  PULL_BAD(c, "a/b", "v1", dir, "linux/arm64", true, 1, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "not both") != NULL);
  PULL_BAD(c, "a/b", "v1", dir, NULL, false, 65, on_progress, &p);
  CHECK(strstr(regc_last_error_message(), "between 1 and 64") != NULL);
  PULL_BAD(c, "Not/Valid", "v1", dir, NULL, false, 1, on_progress, &p);
  PULL_BAD(c, "a/b", "bad ref!", dir, NULL, false, 1, on_progress, &p);
#undef PULL_BAD
  CHECK(regc_last_error_http_status() == 0);
  CHECK(atomic_load(&p.calls) == 0);
  CHECK(!exists(dir, "."));
  remove_tree(base);
  regc_client_free(c);
}

/* Pulls from the open registry: by tag, again (all present), cancelled by
 * the callback then resumed, all platforms of an index by reference, one
 * platform, and the failures. */
static void test_pull(void) {
  const char *url = need_env("REGC_TEST_OPEN_URL");
  regc_client *c = make_client(url, NULL, NULL);
  char *digest = NULL;
  CHECK_STATUS(regc_resolve_digest(c, "oci/app", "v1", &digest), REGC_OK);
  if (digest == NULL) {
    regc_client_free(c);
    return;
  }
  char dir[512];
  temp_dir(dir, sizeof dir);

  struct progress p;
  progress_init(&p, 0);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 2, on_progress, &p), REGC_OK);
  check_last_error_cleared();
  check_layout(dir, digest, "v1");
  CHECK(atomic_load(&p.calls) >= 3); /* manifest, config, layer */
  CHECK(atomic_load(&p.bad) == 0);
  CHECK(atomic_load(&p.total) > 0);
  CHECK(atomic_load(&p.max_done) == atomic_load(&p.total));

  /* Again: every blob is there; still called, still complete. */
  struct progress again;
  progress_init(&again, 0);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 0, on_progress, &again),
               REGC_OK);
  CHECK(atomic_load(&again.calls) >= 3);
  CHECK(atomic_load(&again.max_done) == atomic_load(&p.total));
  /* No callback at all. */
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 1, NULL, NULL), REGC_OK);
  remove_tree(dir);

  /* Cancelled by the callback's first answer: REGC_ERR_CANCELLED, no image
   * named in the layout's index, no callback after the return; then resumed. */
  temp_dir(dir, sizeof dir);
  struct progress cancel;
  progress_init(&cancel, 1);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 4, on_progress, &cancel),
               REGC_ERR_CANCELLED);
  CHECK(strstr(regc_last_error_message(), "cancelled") != NULL);
  CHECK(strcmp(regc_status_name(REGC_ERR_CANCELLED), "REGC_ERR_CANCELLED") == 0);
  unsigned calls = atomic_load(&cancel.calls);
  CHECK(calls >= 1);
  CHECK(!names_an_image(dir));
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 4, on_progress, &p), REGC_OK);
  CHECK(atomic_load(&cancel.calls) == calls);
  check_layout(dir, digest, "v1");
  remove_tree(dir);

  /* Cancelled later: from the third call on (several threads may ask). */
  temp_dir(dir, sizeof dir);
  progress_init(&cancel, 3);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 4, on_progress, &cancel),
               REGC_ERR_CANCELLED);
  CHECK(atomic_load(&cancel.calls) >= 3);
  CHECK(!names_an_image(dir));
  remove_tree(dir);

  /* By reference: every platform of multi/oci, with a client made for the
   * reference's registry. */
  char host[256], text[512];
  snprintf(text, sizeof text, "%s/multi/oci:latest", host_of(url, host, sizeof host));
  regc_reference *r = NULL;
  CHECK_STATUS(regc_reference_parse(text, &r), REGC_OK);
  regc_config *cfg = regc_config_new_for_reference(r);
  CHECK(cfg != NULL);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  regc_client *by_ref = NULL;
  CHECK_STATUS(regc_client_new(cfg, &by_ref), REGC_OK);
  regc_config_free(cfg);
  char *index_digest = NULL;
  CHECK_STATUS(regc_resolve_digest(by_ref, regc_reference_repository(r),
                                   regc_reference_tag_or_digest(r), &index_digest),
               REGC_OK);
  temp_dir(dir, sizeof dir);
  progress_init(&p, 0);
  CHECK_STATUS(regc_pull(by_ref, regc_reference_repository(r), regc_reference_tag_or_digest(r),
                         dir, NULL, true, 3, on_progress, &p),
               REGC_OK);
  if (index_digest != NULL) check_layout(dir, index_digest, "latest");
  CHECK(atomic_load(&p.bad) == 0);
  CHECK(atomic_load(&p.max_done) == atomic_load(&p.total));
  remove_tree(dir);

  /* One platform of it: the layout names that platform's manifest, not the
   * index. */
  temp_dir(dir, sizeof dir);
  CHECK_STATUS(regc_pull(by_ref, "multi/oci", "latest", dir, "linux/arm64", false, 1, NULL, NULL),
               REGC_OK);
  char *index = read_small_file(dir, "index.json");
  CHECK(index != NULL);
  if (index != NULL && index_digest != NULL) CHECK(strstr(index, index_digest) == NULL);
  free(index);
  remove_tree(dir);

  /* Failures: a platform the index lacks, an unknown tag, a directory that
   * cannot be made. */
  temp_dir(dir, sizeof dir);
  CHECK_STATUS(regc_pull(by_ref, "multi/oci", "latest", dir, "linux/s390x", false, 1, NULL, NULL),
               REGC_ERR_NOT_FOUND);
  CHECK_STATUS(regc_pull(c, "oci/app", "no-such-tag", dir, NULL, false, 1, NULL, NULL),
               REGC_ERR_NOT_FOUND);
  CHECK(regc_last_error_http_status() == 404);
  CHECK(!names_an_image(dir));
  char *oci_layout = NULL;
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 1, NULL, NULL), REGC_OK);
  oci_layout = read_small_file(dir, "oci-layout");
  CHECK(oci_layout != NULL);
  free(oci_layout);
  char under_file[600];
  snprintf(under_file, sizeof under_file, "%s/oci-layout/sub", dir);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", under_file, NULL, false, 1, NULL, NULL),
               REGC_ERR_IO);
  remove_tree(dir);

  regc_string_free(index_digest);
  regc_reference_free(r);
  regc_client_free(by_ref);
  regc_string_free(digest);
  regc_client_free(c);
}

/* System credentials: tests/ffi.rs points REGISTRY_AUTH_FILE at an
 * auth.json with alice's login for the basic registry. */
static void test_system_credentials(void) {
  const char *url = need_env("REGC_TEST_BASIC_URL");
  need_env("REGISTRY_AUTH_FILE");
  char host[256], text[512];
  snprintf(text, sizeof text, "%s/oci/app:v1", host_of(url, host, sizeof host));
  regc_reference *r = NULL;
  CHECK_STATUS(regc_reference_parse(text, &r), REGC_OK);
  if (r == NULL) return;
  CHECK(str_eq(regc_reference_registry(r), host));

  /* For the reference: the login from the file is used. */
  regc_config *cfg = regc_config_new_for_reference(r);
  CHECK(cfg != NULL);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  regc_client *c = NULL;
  CHECK_STATUS(regc_client_new(cfg, &c), REGC_OK);
  char *digest = NULL;
  CHECK_STATUS(regc_resolve_digest(c, regc_reference_repository(r),
                                   regc_reference_tag_or_digest(r), &digest),
               REGC_OK);
  CHECK(digest != NULL && strncmp(digest, "sha256:", 7) == 0);
  /* A pull with it, cancelled at once, then complete. */
  char dir[512];
  temp_dir(dir, sizeof dir);
  struct progress p;
  progress_init(&p, 1);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 2, on_progress, &p),
               REGC_ERR_CANCELLED);
  CHECK_STATUS(regc_pull(c, "oci/app", "v1", dir, NULL, false, 2, NULL, NULL), REGC_OK);
  if (digest != NULL) check_layout(dir, digest, "v1");
  remove_tree(dir);
  regc_client_free(c);

  /* Credentials given to the config win over the file. */
  CHECK_STATUS(regc_config_set_basic_auth(cfg, need_env("REGC_TEST_USER"), "not-the-password"),
               REGC_OK);
  CHECK_STATUS(regc_client_new(cfg, &c), REGC_OK);
  char *untouched = SENTINEL_STRING;
  CHECK_STATUS(regc_resolve_digest(c, "oci/app", "v1", &untouched), REGC_ERR_AUTH);
  CHECK(untouched == SENTINEL_STRING);
  regc_client_free(c);
  regc_config_free(cfg);

  /* Any config: anonymous without the lookup, the file's login with it. */
  cfg = regc_config_new(url);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  CHECK_STATUS(regc_client_new(cfg, &c), REGC_OK);
  CHECK_STATUS(regc_resolve_digest(c, "oci/app", "v1", &untouched), REGC_ERR_AUTH);
  regc_client_free(c);
  CHECK_STATUS(regc_config_use_system_credentials(cfg), REGC_OK);
  CHECK_STATUS(regc_client_new(cfg, &c), REGC_OK);
  char *again = NULL;
  CHECK_STATUS(regc_resolve_digest(c, "oci/app", "v1", &again), REGC_OK);
  CHECK(str_eq(again, digest));
  regc_string_free(again);
  regc_client_free(c);
  regc_config_free(cfg);
  regc_string_free(digest);
  regc_reference_free(r);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (suite_enabled("offline")) {
    test_version_and_names();
    test_frees_and_accessors_accept_null();
    test_config_errors();
    test_client_argument_errors();
    test_references();
    test_pull_argument_errors();
    printf("offline: done\n");
  }
  if (suite_enabled("open")) {
    test_open_registry();
    test_pull();
    printf("open: done\n");
  }
  if (suite_enabled("basic")) {
    test_basic_registry();
    test_system_credentials();
    printf("basic: done\n");
  }
  if (suite_enabled("token")) { test_token_registry(); printf("token: done\n"); }
  if (suite_enabled("tls")) { test_tls_registry(); printf("tls: done\n"); }
  if (suite_enabled("network")) { test_network_errors(); printf("network: done\n"); }
  return finish("test_api");
}
