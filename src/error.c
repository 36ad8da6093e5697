/* error.c: the program's one error idiom (see segcast.h).
 *
 * The first failure's message is kept in a process-wide buffer; the first
 * one wins because later failures are usually consequences of it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "segcast.h"

static char sc_msg[1024];
static int sc_has_msg;

sc_status sc_fail(sc_status code, const char *fmt, ...) {
  if (!sc_has_msg) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sc_msg, sizeof sc_msg, fmt, ap);
    va_end(ap);
    sc_has_msg = 1;
  }
  return code;
}

const char *sc_message(void) { return sc_has_msg ? sc_msg : ""; }

void sc_clear(void) {
  sc_has_msg = 0;
  sc_msg[0] = 0;
}

sc_status sc_alloc(void *pptr, size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) return sc_fail(SC_ENOMEM, "out of memory allocating %zu bytes: use more ranks or nodes", bytes);
  *(void **)pptr = p;
  return SC_OK;
}

sc_status sc_calloc(void *pptr, size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) return sc_fail(SC_ENOMEM, "out of memory allocating %zu x %zu bytes: use more ranks or nodes", count, size);
  *(void **)pptr = p;
  return SC_OK;
}

sc_status sc_realloc(void *pptr, size_t bytes) {
  void *p = realloc(*(void **)pptr, bytes ? bytes : 1);
  if (!p) return sc_fail(SC_ENOMEM, "out of memory growing a buffer to %zu bytes: use more ranks or nodes", bytes);
  *(void **)pptr = p;
  return SC_OK;
}

double sc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
