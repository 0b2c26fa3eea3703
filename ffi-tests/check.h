/* A tiny test harness for the C tests: CHECK and CHECK_STATUS count
 * failures and print where and why (with the library's last error). */
#ifndef REGC_TEST_CHECK_H
#define REGC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_client.h"

static int check_failures = 0;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: \"%s\")\n", __FILE__,     \
              __LINE__, #cond, regc_last_error_message());                            \
      check_failures++;                                                               \
    }                                                                                 \
  } while (0)

#define CHECK_STATUS(expr, want)                                                      \
  do {                                                                                \
    regc_status got_ = (expr);                                                        \
    if (got_ != (want)) {                                                             \
      fprintf(stderr, "%s:%d: %s gave %s, want %s (last error: \"%s\")\n", __FILE__,  \
              __LINE__, #expr, regc_status_name(got_), regc_status_name(want),        \
              regc_last_error_message());                                             \
      check_failures++;                                                               \
    }                                                                                 \
  } while (0)

/* An environment variable the test cannot run without: missing is a loud
 * failure, never a skip. */
static inline const char *need_env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || v[0] == '\0') {
    fprintf(stderr, "FATAL: environment variable %s is not set (run the C tests through "
                    "`cargo test --test ffi` or scripts/ffi-test)\n", name);
    exit(2);
  }
  return v;
}

static inline int list_contains(const regc_string_list *list, const char *want) {
  size_t n = regc_string_list_len(list);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(regc_string_list_get(list, i), want) == 0) return 1;
  }
  return 0;
}

static inline int finish(const char *name) {
  if (check_failures > 0) {
    fprintf(stderr, "%s: %d check(s) FAILED\n", name, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
