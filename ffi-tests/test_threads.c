#define _POSIX_C_SOURCE 200809L
/* 8 threads share one regc_client: listings, manifests, digests and image
 * info at the same time, each thread also checking that its last error is
 * its own. Environment: REGC_TEST_THREADS_URL (registry), optional
 * REGC_TEST_THREADS_USER/REGC_TEST_THREADS_PASSWORD, REGC_TEST_ITERATIONS
 * (default 5; a number from 1 up). Each worker counts the calls that came
 * back as they should, and the total must be exactly what was asked: a run
 * that did no work (0 iterations, a worker that stopped early) fails. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

#define THREADS 8
/* The calls one iteration makes: tags, manifest, digest, a missing
 * repository, image info. */
#define CALLS_PER_ITERATION 5

static regc_client *shared_client;
static char expected_digest[80];
static pthread_barrier_t start;
static pthread_mutex_t report = PTHREAD_MUTEX_INITIALIZER;
static long iterations = 5;

struct worker {
  int index;
  int failures;
  long calls_ok; /* calls that came back as they should */
};

static void report_failure(struct worker *w, int line, const char *what) {
  pthread_mutex_lock(&report);
  fprintf(stderr, "thread %d: %s:%d: CHECK failed: %s (last error: \"%s\")\n", w->index,
          __FILE__, line, what, regc_last_error_message());
  pthread_mutex_unlock(&report);
  w->failures++;
}

/* Checks one call's outcome; counts it when right, reports it when not. */
#define CALL_OK(w, cond)                                                                   \
  do {                                                                                     \
    if (cond) {                                                                            \
      (w)->calls_ok++;                                                                     \
    } else {                                                                               \
      report_failure((w), __LINE__, #cond);                                                \
    }                                                                                      \
  } while (0)

static void *work(void *arg) {
  struct worker *w = arg;
  char missing[64];
  snprintf(missing, sizeof missing, "no/such-repo-%d", w->index);
  pthread_barrier_wait(&start);
  for (long i = 0; i < iterations; i++) {
    regc_string_list *tags = NULL;
    regc_status st = regc_list_tags(shared_client, "many/tags", &tags);
    CALL_OK(w, st == REGC_OK && regc_string_list_len(tags) == 25);
    regc_string_list_free(tags);

    regc_manifest *m = NULL;
    st = regc_get_manifest(shared_client, "oci/app", "v1", &m);
    CALL_OK(w, st == REGC_OK && m != NULL && strcmp(regc_manifest_digest(m), expected_digest) == 0);
    regc_manifest_free(m);

    char *digest = NULL;
    st = regc_resolve_digest(shared_client, "oci/app", "v1", &digest);
    CALL_OK(w, st == REGC_OK && digest != NULL && strcmp(digest, expected_digest) == 0);
    regc_string_free(digest);

    /* This thread's error is this thread's, whatever the others do. */
    tags = NULL;
    st = regc_list_tags(shared_client, missing, &tags);
    CALL_OK(w, st == REGC_ERR_NOT_FOUND && tags == NULL &&
                   strstr(regc_last_error_message(), missing) != NULL &&
                   regc_last_error_http_status() == 404);

    char *json = NULL;
    const char *platform = (w->index % 2) ? "linux/arm64/v8" : "linux/amd64";
    st = regc_image_info_json(shared_client, "multi/oci", "latest", platform, &json);
    CALL_OK(w, st == REGC_OK && json != NULL &&
                   strstr(json, (w->index % 2) ? "\"arm64\"" : "\"amd64\"") != NULL &&
                   strcmp(regc_last_error_message(), "") == 0);
    regc_string_free(json);
  }
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *url = need_env("REGC_TEST_THREADS_URL");
  const char *user = getenv("REGC_TEST_THREADS_USER");
  const char *it = getenv("REGC_TEST_ITERATIONS");
  if (it != NULL) {
    /* Strictly a number from 1 up: atoi("x") is 0, a run with no work. */
    char *end = NULL;
    errno = 0;
    long n = strtol(it, &end, 10);
    if (errno != 0 || end == it || *end != '\0' || n < 1 || n > 100000) {
      fprintf(stderr, "FATAL: REGC_TEST_ITERATIONS=\"%s\" is not a number from 1 to 100000\n",
              it);
      return 2;
    }
    iterations = n;
  }

  regc_config *cfg = regc_config_new(url);
  CHECK(cfg != NULL);
  CHECK_STATUS(regc_config_set_max_retries(cfg, 0), REGC_OK);
  if (user != NULL) {
    CHECK_STATUS(regc_config_set_basic_auth(cfg, user, need_env("REGC_TEST_THREADS_PASSWORD")),
                 REGC_OK);
  }
  CHECK_STATUS(regc_client_new(cfg, &shared_client), REGC_OK);
  regc_config_free(cfg);
  if (shared_client == NULL) return finish("test_threads");

  char *digest = NULL;
  CHECK_STATUS(regc_resolve_digest(shared_client, "oci/app", "v1", &digest), REGC_OK);
  if (digest == NULL) return finish("test_threads");
  snprintf(expected_digest, sizeof expected_digest, "%s", digest);
  regc_string_free(digest);

  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  pthread_barrier_init(&start, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) {
    workers[i].index = i;
    workers[i].failures = 0;
    workers[i].calls_ok = 0;
    CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
  }
  long calls_ok = 0;
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    check_failures += workers[i].failures;
    /* Each worker made every call it was asked to, and each went right. */
    CHECK(workers[i].calls_ok == iterations * CALLS_PER_ITERATION);
    calls_ok += workers[i].calls_ok;
  }
  pthread_barrier_destroy(&start);
  CHECK(iterations >= 1);
  CHECK(calls_ok == THREADS * iterations * CALLS_PER_ITERATION);
  /* The main thread's last error was never touched by the workers. */
  CHECK(strcmp(regc_last_error_message(), "") == 0);
  regc_client_free(shared_client);
  printf("test_threads: %d threads x %ld iterations, %ld calls as expected\n", THREADS,
         iterations, calls_ok);
  return finish("test_threads");
}
