/* A tiny test harness for the C tests: CHECK and CHECK_STATUS count
 * failures and print where and why (with the library's last error). */
#ifndef REGC_TEST_CHECK_H
#define REGC_TEST_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Whether REGC_TEST_SUITES (comma-separated; unset, empty or "all": every
 * one) names the suite `name`. */
static inline bool suite_enabled(const char *name) {
  const char *suites = getenv("REGC_TEST_SUITES");
  if (suites == NULL || suites[0] == '\0' || strcmp(suites, "all") == 0) return true;
  size_t n = strlen(name);
  for (const char *p = suites; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return true;
    if (!end) break;
    p = end + 1;
  }
  return false;
}

/* Progress of a pull or copy (called from its worker threads): counts the
 * calls, the ones with inconsistent numbers, the most `done` seen; answers
 * non-zero (cancel) from call `cancel_after` on. */
struct progress {
  atomic_uint calls;
  atomic_uint bad;        /* calls with inconsistent numbers */
  atomic_ullong max_done; /* the most `done` seen */
  atomic_ullong total;
  unsigned cancel_after;  /* answer non-zero from this call on (0: never) */
};

static inline void progress_init(struct progress *p, unsigned cancel_after) {
  atomic_init(&p->calls, 0);
  atomic_init(&p->bad, 0);
  atomic_init(&p->max_done, 0);
  atomic_init(&p->total, 0);
  p->cancel_after = cancel_after;
}

static inline int on_progress(void *user_data, const char *digest, uint64_t blob_done,
                       uint64_t blob_total, uint64_t done, uint64_t total) {
  struct progress *p = user_data;
  unsigned n = atomic_fetch_add(&p->calls, 1) + 1;
  if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71 ||
      blob_done > blob_total || done > total || total == 0) {
    atomic_fetch_add(&p->bad, 1);
  }
  atomic_store(&p->total, total);
  unsigned long long seen = atomic_load(&p->max_done);
  while (done > seen && !atomic_compare_exchange_weak(&p->max_done, &seen, done)) {
  }
  return p->cancel_after != 0 && n >= p->cancel_after;
}

#endif
