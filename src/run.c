/* run.c: run state, summary.json, CSV fields, progress lines.
 *
 * Where outputs are written and how they reach the output folder (a
 * staging folder, published at the end) is outdir.c's part.
 */
#include "run.h"

#include <errno.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "comm.h"

static double sc_t0 = -1;

sc_status run_init(sc_run *run, const sc_config *cfg) {
  memset(run, 0, sizeof *run);
  run->cfg = *cfg;
  run->rank = comm_rank();
  run->size = comm_size();
  run->threads = omp_get_max_threads();
  run->t_start = sc_now();
  if (sc_t0 < 0) sc_t0 = run->t_start;
  if (cfg->store[0]) snprintf(run->store_path, sizeof run->store_path, "%s", cfg->store);
  else snprintf(run->store_path, sizeof run->store_path, "%s/store.h5", cfg->out);
  if (cfg->checkpoint[0]) snprintf(run->checkpoint_path, sizeof run->checkpoint_path, "%s", cfg->checkpoint);
  else snprintf(run->checkpoint_path, sizeof run->checkpoint_path, "%s/checkpoint.h5", cfg->out);
  run->summary = json_object();
  json_object_set_new(run->summary, "version", json_string(SEGCAST_VERSION));
  json_object_set_new(run->summary, "commit", json_string(sc_commit));
  json_object_set_new(run->summary, "ranks", json_integer(run->size));
  json_object_set_new(run->summary, "threads", json_integer(run->threads));
  json_t *conf = json_object();
  json_object_set_new(run->summary, "config", conf);
  json_object_set_new(run->summary, "seconds", json_object());
  return SC_OK;
}

/* The object under key in parent, made empty there when it is missing. */
static json_t *json_child(json_t *parent, const char *key) {
  json_t *c = json_object_get(parent, key);
  if (!c) {
    c = json_object();
    json_object_set_new(parent, key, c);
  }
  return c;
}

static void run_conf_cb(void *ctx, const char *section, const char *key, const char *value, const char *doc) {
  (void)doc;
  json_object_set_new(json_child(ctx, section), key, json_string(value));
}

void run_free(sc_run *run) {
  json_decref(run->summary);
  run->summary = NULL;
}

void run_time(sc_run *run, const char *stage, double seconds) {
  json_object_set_new(json_object_get(run->summary, "seconds"), stage, json_real(seconds));
}

void run_step(sc_run *run, const char *stage, const char *step, double *t) {
  if (!strcmp(stage, "ingest")) {
    /* SEGCAST_TEST_SIGNAL_AT=ingest:<n>[:<rank>]: the test signal after the
     * n-th step of ingest (a malformed value is caught by the stages that
     * parse theirs; here it is no hook) */
    static int64_t at = 0, done = 0;
    static int rank_at = 0, parsed = 0;
    if (!parsed && checkpoint_test_signal("ingest", "step", &at, &rank_at)) sc_clear(), at = -1;
    parsed = 1;
    if (++done == at && comm_rank() == rank_at) checkpoint_test_raise();
  }
  double now = sc_now();
  json_object_set_new(json_child(json_child(run->summary, "seconds_steps"), stage), step, json_real(now - *t));
  *t = now;
}

sc_status run_write_summary(sc_run *run) {
  run_time(run, "total", sc_now() - run->t_start);
  json_t *conf = json_object_get(run->summary, "config");
  json_object_clear(conf);
  config_each(&run->cfg, run_conf_cb, conf);
  if (run->rank != 0) return SC_OK;
  out_list_outputs(run);
  char tmp[SC_PATH_MAX];
  out_tmp_path(run, "summary.json", tmp);
  if (json_dump_file(run->summary, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0)
    return sc_fail(SC_EIO, "cannot write %s: check the output folder is writable", tmp);
  return out_commit_path(run, "summary.json");
}

void dataset_free(sc_dataset *ds) {
  table_free(&ds->lines);
  table_free(&ds->users);
  table_free(&ds->clicks);
  table_free(&ds->inventory);
  table_free(&ds->network);
  for (int64_t i = 0; i < ds->n_sku_names; i++) free(ds->sku_names[i]);
  for (int64_t i = 0; i < ds->n_region_names; i++) free(ds->region_names[i]);
  free(ds->sku_names);
  free(ds->region_names);
  ds->sku_names = ds->region_names = NULL;
  ds->n_sku_names = ds->n_region_names = 0;
}

const char *dataset_sku_name(const sc_dataset *ds, int64_t sku, char *buf) {
  if (ds->sku_names && sku >= 0 && sku < ds->n_sku_names) return ds->sku_names[sku];
  snprintf(buf, 256, "%lld", (long long)sku);
  return buf;
}

const char *dataset_region_name(const sc_dataset *ds, int32_t region, char *buf) {
  if (ds->region_names && region >= 0 && region < ds->n_region_names) return ds->region_names[region];
  snprintf(buf, 256, "%d", region);
  return buf;
}

sc_status sc_mkdirs(const char *path) {
  char tmp[SC_PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(tmp, 0777) && errno != EEXIST)
      return sc_fail(SC_EIO, "cannot create folder %s: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0777) && errno != EEXIST) return sc_fail(SC_EIO, "cannot create folder %s: %s", tmp, strerror(errno));
  return SC_OK;
}

void sc_say(const char *fmt, ...) {
  if (comm_rank() != 0) return;
  if (sc_t0 < 0) sc_t0 = sc_now();
  va_list ap;
  va_start(ap, fmt);
  printf("[%7.2fs] ", sc_now() - sc_t0);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
}

/* In-place bars only on a real terminal. Open MPI's mpirun hands every rank
 * a pseudo-terminal even when its own output goes to a file, so under an
 * MPI launcher isatty() says nothing about where lines end up: print lines. */
static int progress_tty(void) {
  return isatty(1) && !getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK");
}

void progress_start(sc_progress *p, const char *what, double total, const char *unit) {
  snprintf(p->what, sizeof p->what, "%s", what);
  p->unit = unit;
  p->total = total;
  p->t0 = p->last = sc_now();
  p->active = comm_rank() == 0;
}

void progress_update(sc_progress *p, double done) {
  if (!p->active) return;
  double now = sc_now();
  int tty = progress_tty();
  if (now - p->last < (tty ? 0.25 : 5.0)) return;
  p->last = now;
  double el = now - p->t0, rate = el > 0 ? done / el : 0;
  double left = rate > 0 && p->total > done ? (p->total - done) / rate : 0;
  if (tty)
    printf("\r  %s: %5.1f%%  %.3g %s/s  %.0fs left   ", p->what, p->total > 0 ? 100.0 * done / p->total : 0, rate, p->unit, left);
  else
    printf("  %s: %.1f%% (%.0f of %.0f %s), %.3g %s/s, about %.0f s left\n", p->what,
           p->total > 0 ? 100.0 * done / p->total : 0, done, p->total, p->unit, rate, p->unit, left);
  fflush(stdout);
}

void progress_end(sc_progress *p, double done) {
  if (!p->active) return;
  double el = sc_now() - p->t0;
  if (progress_tty()) printf("\r");
  printf("  %s: done, %.0f %s in %.2f s (%.3g %s/s)\n", p->what, done, p->unit, el, el > 0 ? done / el : 0, p->unit);
  fflush(stdout);
  p->active = 0;
}
