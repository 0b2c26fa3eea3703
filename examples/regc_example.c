/* A C program using registry-client: lists the tags of a repository and
 * prints the digest of one of its manifests.
 *
 *   regc_example REGISTRY_URL [REPOSITORY [TAG]]     (default: demo/hello v1)
 *
 * Environment: REGC_USERNAME / REGC_PASSWORD for Basic or token auth.
 * Build (static):  see scripts/demo-c;  (shared):
 *   cc -std=c11 $(pkg-config --cflags registry_client) examples/regc_example.c \
 *      $(pkg-config --libs registry_client) -o regc_example
 */
#include <stdio.h>
#include <stdlib.h>

#include "registry_client.h"

static int fail(const char *what, regc_status status) {
  fprintf(stderr, "error: %s: %s: %s\n", what, regc_status_name(status),
          regc_last_error_message());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s REGISTRY_URL [REPOSITORY [TAG]]\n", argv[0]);
    return 2;
  }
  const char *repository = argc > 2 ? argv[2] : "demo/hello";
  const char *tag = argc > 3 ? argv[3] : "v1";

  regc_config *config = regc_config_new(argv[1]);
  if (config == NULL) return fail("registry URL", REGC_ERR_INVALID_ARGUMENT);
  const char *user = getenv("REGC_USERNAME"), *password = getenv("REGC_PASSWORD");
  if (user != NULL && password != NULL) regc_config_set_basic_auth(config, user, password);

  regc_client *client = NULL;
  regc_status status = regc_client_new(config, &client);
  regc_config_free(config); /* the client keeps what it needs */
  if (status != REGC_OK) return fail("client", status);

  int rc = 0;
  regc_string_list *tags = NULL;
  status = regc_list_tags(client, repository, &tags);
  if (status == REGC_OK) {
    printf("tags of %s:", repository);
    for (size_t i = 0; i < regc_string_list_len(tags); i++) {
      printf(" %s", regc_string_list_get(tags, i));
    }
    printf("\n");
    regc_string_list_free(tags);
  } else {
    rc = fail("list tags", status);
  }

  regc_manifest *manifest = NULL;
  status = regc_get_manifest(client, repository, tag, &manifest);
  if (status == REGC_OK) {
    size_t len = 0;
    regc_manifest_body(manifest, &len);
    printf("%s:%s %s (%s, %zu bytes)\n", repository, tag, regc_manifest_digest(manifest),
           regc_manifest_media_type(manifest), len);
    regc_manifest_free(manifest);
  } else {
    rc = fail("get manifest", status);
  }

  regc_client_free(client);
  return rc;
}
