/* The C side of `cargo bench --bench e2e`'s C API row: one client (cache
 * off), N different manifests fetched one after another through the C API,
 * the same work the bench's Rust child does.
 *   e2e_manifests URL REPOSITORY COUNT [CA_PEM_FILE]
 * fetches tags t0 .. t<COUNT-1> and prints the seconds it took (client made
 * and freed included) and the bytes of manifest it got. Any failure exits 1. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "registry_client.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what) {
  fprintf(stderr, "e2e_manifests: %s: %s\n", what, regc_last_error_message());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: e2e_manifests URL REPOSITORY COUNT [CA_PEM_FILE]\n");
    return 2;
  }
  char *end = NULL;
  long count = strtol(argv[3], &end, 10);
  if (*end != '\0' || count < 1 || count > 1000000) {
    fprintf(stderr, "e2e_manifests: COUNT must be 1..1000000\n");
    return 2;
  }
  double started = now();
  regc_config *config = regc_config_new(argv[1]);
  if (config == NULL) return fail("regc_config_new");
  if (regc_config_set_cache(config, 0, 0) != REGC_OK) return fail("regc_config_set_cache");
  if (argc == 5 && regc_config_set_ca_cert_file(config, argv[4]) != REGC_OK)
    return fail("regc_config_set_ca_cert_file");
  regc_client *client = NULL;
  if (regc_client_new(config, &client) != REGC_OK) return fail("regc_client_new");
  regc_config_free(config);
  size_t bytes = 0;
  char tag[32];
  for (long i = 0; i < count; i++) {
    snprintf(tag, sizeof tag, "t%ld", i);
    regc_manifest *m = NULL;
    if (regc_get_manifest(client, argv[2], tag, &m) != REGC_OK) return fail(tag);
    size_t len = 0;
    if (regc_manifest_body(m, &len) == NULL || len == 0) return fail("empty manifest");
    bytes += len;
    regc_manifest_free(m);
  }
  regc_client_free(client);
  printf("%.6f %zu\n", now() - started, bytes);
  return 0;
}
