/* C11: the C API's last error never shows the client's secrets, even when a
 * registry echoes them back.
 *
 * Environment (set by tests/ffi.rs, which starts a scripted server that
 * asks for Basic credentials and then answers 403 with a JSON error body
 * quoting the password and the Basic value it got):
 *   REGC_TEST_SECRETS_URL       that server
 *   REGC_TEST_SECRETS_USER      the user name (not a secret)
 *   REGC_TEST_SECRETS_PASSWORD  the marker password
 *   REGC_TEST_SECRETS_BASIC     base64 of "user:password", as sent
 *   REGC_TEST_SECRETS_MARK      a piece every marker secret contains
 */
#include <stdbool.h>

#include "check.h"

static const char *password;
static const char *basic;
static const char *mark;

/* The last error shows none of the secrets, and says where one was taken
 * out (so the echo did reach the message). */
static void check_last_error_is_scrubbed(const char *what) {
  const char *msg = regc_last_error_message();
  bool clean = strstr(msg, password) == NULL && strstr(msg, basic) == NULL &&
               strstr(msg, mark) == NULL;
  if (!clean) fprintf(stderr, "%s: the last error shows a secret\n", what);
  CHECK(clean);
  CHECK(strstr(msg, "<redacted>") != NULL);
  CHECK(regc_last_error_http_status() == 403);
}

/* The upload is refused before any byte is read. */
static ptrdiff_t never_read(void *user_data, uint8_t *buf, size_t len) {
  (void)user_data, (void)buf, (void)len;
  check_failures++;
  fprintf(stderr, "the read callback was called\n");
  return -1;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *url = need_env("REGC_TEST_SECRETS_URL");
  const char *user = need_env("REGC_TEST_SECRETS_USER");
  password = need_env("REGC_TEST_SECRETS_PASSWORD");
  basic = need_env("REGC_TEST_SECRETS_BASIC");
  mark = need_env("REGC_TEST_SECRETS_MARK");

  regc_config *cfg = regc_config_new(url);
  CHECK(cfg != NULL);
  if (cfg == NULL) return finish("test_secrets");
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  CHECK_STATUS(regc_config_set_timeout_ms(cfg, 20000), REGC_OK);
  CHECK_STATUS(regc_config_set_basic_auth(cfg, user, password), REGC_OK);
  regc_client *client = NULL;
  CHECK_STATUS(regc_client_new(cfg, &client), REGC_OK);
  regc_config_free(cfg);
  if (client == NULL) return finish("test_secrets");

  regc_string_list *tags = NULL;
  CHECK_STATUS(regc_list_tags(client, "team/app", &tags), REGC_ERR_AUTH);
  CHECK(tags == NULL);
  check_last_error_is_scrubbed("regc_list_tags");

  regc_manifest *manifest = NULL;
  CHECK_STATUS(regc_get_manifest(client, "team/app", "v1", &manifest), REGC_ERR_AUTH);
  CHECK(manifest == NULL);
  check_last_error_is_scrubbed("regc_get_manifest");

  /* The write path: the answers to its POST and PUT echo the secrets too. */
  char *digest = NULL;
  CHECK_STATUS(regc_manifest_put(client, "team/app", "v1",
                                 "application/vnd.oci.image.manifest.v1+json",
                                 (const uint8_t *)"{}", 2, &digest),
               REGC_ERR_AUTH);
  CHECK(digest == NULL);
  check_last_error_is_scrubbed("regc_manifest_put");
  CHECK_STATUS(regc_blob_upload_callback(client, "team/app", never_read, NULL, NULL, &digest),
               REGC_ERR_AUTH);
  CHECK(digest == NULL);
  check_last_error_is_scrubbed("regc_blob_upload_callback");
  CHECK_STATUS(regc_copy(client, "team/app", "v1", client, "team/copy", NULL, NULL, false, 1,
                         NULL, NULL, &digest),
               REGC_ERR_AUTH);
  CHECK(digest == NULL);
  check_last_error_is_scrubbed("regc_copy");

  regc_client_free(client);
  return finish("test_secrets");
}
