/* store.c: writing and loading the HDF5 store (layout in store.h).
 *
 * Loading at a rank count other than the writer's is the same code path
 * as loading at the same count: h5_read_table splits rows evenly, then the
 * rows move to their partition's rank (user hash or series hash) and are
 * sorted again. At the writer's rank count with the same hash, nothing
 * moves but the sort confirms the order.
 */
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "csv.h"
#include "h5.h"
#include "stages.h"

sc_status dataset_finish(sc_run *run, sc_dataset *ds) {
  const int32_t *day = table_i32(&ds->lines, "day");
  const uint8_t *fl = table_u8(&ds->lines, "flags");
  int64_t lo = INT32_MAX, hi = INT32_MIN;
#pragma omp parallel for schedule(static) reduction(min : lo) reduction(max : hi)
  for (int64_t i = 0; i < ds->lines.n; i++)
    if (fl[i] & SC_LINE_VALID) {
      if (day[i] < lo) lo = day[i];
      if (day[i] > hi) hi = day[i];
    }
  lo = comm_min1_i64(lo);
  hi = comm_max1_i64(hi);
  if (hi < lo) return comm_agree(sc_fail(SC_EINPUT, "%s: no valid sales lines (quantity > 0 and price > 0): nothing to analyse",
                                         run->cfg.path));
  ds->first_day = (int32_t)lo;
  ds->last_day = (int32_t)hi;
  if (run->cfg.as_of[0]) {
    int32_t d;
    if (parse_date(run->cfg.as_of, strlen(run->cfg.as_of), &d) != CSV_OK)
      return comm_agree(sc_fail(SC_EUSAGE, "run.as_of = '%s' is not a real date YYYY-MM-DD", run->cfg.as_of));
    ds->as_of_day = d;
  } else {
    ds->as_of_day = (int32_t)hi + 1;
  }
  return SC_OK;
}


void store_summarize_sales(sc_run *run, const sc_dataset *ds) {
  const uint8_t *fl = table_u8(&ds->lines, "flags");
  const int64_t *user = table_i64(&ds->lines, "user_id");
  const double *amt = table_f64(&ds->lines, "amount");
  /* integer sums (revenue in micro-units): the same at any thread count */
  int64_t valid = 0, ret = 0, canc = 0, nouser = 0, rev = 0;
#pragma omp parallel for schedule(static) reduction(+ : valid, ret, canc, nouser, rev)
  for (int64_t i = 0; i < ds->lines.n; i++) {
    if (fl[i] & SC_LINE_VALID) {
      valid++;
      double x = amt[i] * 1e6;
      rev += fabs(x) < 9.2e18 ? round_half_away(x) : llround(x);
    }
    ret += (fl[i] & SC_LINE_RETURN) != 0;
    canc += (fl[i] & SC_LINE_CANCELLED) != 0;
    nouser += user[i] == 0;
  }
  int64_t c[6] = {valid, ret, canc, nouser, rev, ds->lines.n};
  comm_sum_i64(c, 6);
  json_t *s = json_object();
  json_object_set_new(s, "lines", json_integer(c[5]));
  json_object_set_new(s, "valid_lines", json_integer(c[0]));
  json_object_set_new(s, "return_lines", json_integer(c[1]));
  json_object_set_new(s, "cancelled_lines", json_integer(c[2]));
  json_object_set_new(s, "lines_without_user", json_integer(c[3]));
  json_object_set_new(s, "revenue", json_real((double)c[4] / 1e6));
  json_object_set_new(run->summary, "sales", s);
  char buf[16];
  format_date(ds->as_of_day, buf);
  json_object_set_new(run->summary, "as_of", json_string(buf));
  format_date(ds->first_day, buf);
  json_object_set_new(s, "first_date", json_string(buf));
  format_date(ds->last_day, buf);
  json_object_set_new(s, "last_date", json_string(buf));
}

static const char *flag_names[] = {"has_users", "has_clicks", "has_inventory", "has_delivery", "has_network", "has_sku",
                                   "has_amount_col"};

static int *flag_ptr(sc_dataset *ds, int i) {
  int *p[] = {&ds->has_users, &ds->has_clicks, &ds->has_inventory, &ds->has_delivery, &ds->has_network, &ds->has_sku,
              &ds->has_amount_col};
  return p[i];
}

/* the numeric columns of /sources/counts, one row per input file */
#define SOURCES_SPEC "bytes:i64,xxh3:i64,read:i64,loaded:i64,rejected:i64,lines:i64,blank:i64,continuation_lines:i64"

void store_summarize_input(sc_run *run, const char *layout, const store_source *src, int n_src) {
  json_t *input = json_object(), *fj = json_object();
  json_object_set_new(input, "layout", json_string(layout));
  for (int i = 0; i < n_src; i++) {
    json_t *o = json_object();
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)src[i].checksum);
    json_object_set_new(o, "read", json_integer(src[i].read));
    json_object_set_new(o, "loaded", json_integer(src[i].loaded));
    json_object_set_new(o, "rejected", json_integer(src[i].rejected));
    json_object_set_new(o, "lines", json_integer(src[i].lines));
    json_object_set_new(o, "blank", json_integer(src[i].blank));
    json_object_set_new(o, "continuation_lines", json_integer(src[i].cont));
    json_object_set_new(o, "bytes", json_integer(src[i].bytes));
    json_object_set_new(o, "xxh3", json_string(hex));
    json_object_set_new(fj, src[i].name, o);
  }
  json_object_set_new(input, "files", fj);
  json_object_set_new(run->summary, "input", input);
}

sc_status store_write(sc_run *run, const sc_dataset *ds, const store_source *src, int n_src) {
  /* the default store is an output of the folder, staged with the others;
   * a run.store elsewhere is written beside itself and renamed with them */
  char tmp[SC_PATH_MAX + 8];
  int in_out = !run->cfg.store[0];
  if (in_out) out_tmp_path(run, "store.h5", tmp);
  else out_external_tmp(run->store_path, tmp);
  char dir[SC_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", run->store_path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    SC_TRY(comm_agree(run->rank == 0 ? sc_mkdirs(dir) : SC_OK));
  }
  sc_h5 f;
  SC_TRY(h5_create(&f, tmp));
  f.pack_decimals = 1;
  f.checksums = 1;
  sc_status s = h5_set_attr_i64(&f, "/", "schema_version", SC_STORE_VERSION);
  if (!s) s = h5_set_attr_str(&f, "/", "layout", ds->layout);
  if (!s) s = h5_set_attr_str(&f, "/", "segcast_version", SEGCAST_VERSION);
  if (!s) s = h5_set_attr_i64(&f, "/", "writer_ranks", run->size);
  if (!s) s = h5_set_attr_i64(&f, "/", "first_day", ds->first_day);
  if (!s) s = h5_set_attr_i64(&f, "/", "last_day", ds->last_day);
  for (int i = 0; !s && i < 7; i++) s = h5_set_attr_i64(&f, "/", flag_names[i], *flag_ptr((sc_dataset *)ds, i));
  if (!s) s = h5_write_table(&f, "/lines", &ds->lines);
  if (!s) s = h5_write_table(&f, "/users", &ds->users);
  if (!s) s = h5_write_table(&f, "/clicks", &ds->clicks);
  if (!s) s = h5_write_table(&f, "/inventory", &ds->inventory);
  /* the network is replicated: rank 0's copy only */
  if (!s) {
    sc_table net = ds->network;
    if (run->rank != 0) net.n = 0;
    s = h5_write_table(&f, "/network", &net);
  }
  if (!s) s = h5_write_strings(&f, "/dict/sku", ds->sku_names, ds->sku_names ? ds->n_sku_names : 0);
  if (!s) s = h5_write_strings(&f, "/dict/region", ds->region_names, ds->region_names ? ds->n_region_names : 0);
  /* sources: names plus a numeric table (rank 0's rows) */
  if (!s) {
    char *names[16];
    for (int i = 0; i < n_src; i++) names[i] = (char *)src[i].name;
    s = h5_write_strings(&f, "/sources/names", names, n_src);
    sc_table st;
    if (!s) s = table_init(&st, "sources", SOURCES_SPEC);
    if (!s) s = table_resize(&st, run->rank == 0 ? n_src : 0);
    for (int i = 0; !s && i < st.n; i++) {
      table_i64(&st, "bytes")[i] = src[i].bytes;
      table_i64(&st, "xxh3")[i] = (int64_t)src[i].checksum;
      table_i64(&st, "read")[i] = src[i].read;
      table_i64(&st, "loaded")[i] = src[i].loaded;
      table_i64(&st, "rejected")[i] = src[i].rejected;
      table_i64(&st, "lines")[i] = src[i].lines;
      table_i64(&st, "blank")[i] = src[i].blank;
      table_i64(&st, "continuation_lines")[i] = src[i].cont;
    }
    if (!s) s = h5_write_table(&f, "/sources/counts", &st);
    table_free(&st);
  }
  sc_status c = h5_close(&f);
  if (!s) s = c;
  if (!s && run->rank == 0) s = in_out ? out_commit_path(run, "store.h5") : out_commit_external(tmp, run->store_path);
  s = comm_agree(s);
  if (s && run->rank == 0) unlink(tmp);
  return s;
}

/* Moves rows to the ranks of their partition after an even-split read. */
static sc_status repartition_user(sc_table *t, int size) {
  const int64_t *u = table_i64(t, "user_id"), *row = table_i64(t, "row");
  int32_t *d = malloc(sizeof(int32_t) * (size_t)(t->n + 1));
  if (!d || !u || !row) {
    free(d);
    return comm_agree(sc_fail(SC_ENOMEM, "out of memory loading %s", t->name));
  }
  for (int64_t i = 0; i < t->n; i++) d[i] = u[i] ? part_user(u[i], size) : part_user(row[i], size);
  sc_status s = table_exchange(t, d);
  free(d);
  if (!s) s = table_sort(t, "user_id", "row", NULL);
  return comm_agree(s);
}

static sc_status repartition_series(sc_table *t, int size) {
  const int64_t *sku = table_i64(t, "sku");
  const int32_t *reg = table_i32(t, "region");
  int32_t *d = malloc(sizeof(int32_t) * (size_t)(t->n + 1));
  if (!d || !sku || !reg) {
    free(d);
    return comm_agree(sc_fail(SC_ENOMEM, "out of memory loading %s", t->name));
  }
  for (int64_t i = 0; i < t->n; i++) d[i] = part_series(sku[i], reg[i], size);
  sc_status s = table_exchange(t, d);
  free(d);
  return comm_agree(s);
}

sc_status store_load(sc_run *run, sc_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  sc_h5 f;
  SC_TRY(h5_open(&f, run->store_path, 0));
  int64_t ver = 0, v;
  sc_status s = h5_get_attr_i64(&f, "/", "schema_version", &ver);
  if (s) {
    sc_clear();
    s = comm_agree(sc_fail(SC_ESTORE, "%s is not a segcast store (no schema_version): run segcast ingest to write one",
                           run->store_path));
  } else if (ver != SC_STORE_VERSION) {
    s = comm_agree(sc_fail(SC_ESTORE,
                           "%s has store schema version %lld but this segcast (%s) reads version %d: run segcast "
                           "ingest again to rebuild it",
                           run->store_path, (long long)ver, SEGCAST_VERSION, SC_STORE_VERSION));
  }
  if (!s) s = h5_get_attr_str(&f, "/", "layout", ds->layout, sizeof ds->layout);
  if (!s && strcmp(ds->layout, run->cfg.layout))
    s = comm_agree(sc_fail(SC_EUSAGE, "%s holds the %s layout but input.layout is %s: set input.layout or ingest again",
                           run->store_path, ds->layout, run->cfg.layout));
  if (!s) s = h5_get_attr_i64(&f, "/", "first_day", &v), ds->first_day = (int32_t)v;
  if (!s) s = h5_get_attr_i64(&f, "/", "last_day", &v), ds->last_day = (int32_t)v;
  for (int i = 0; !s && i < 7; i++) {
    s = h5_get_attr_i64(&f, "/", flag_names[i], &v);
    *flag_ptr(ds, i) = (int)v;
  }
  if (!s) s = h5_read_table(&f, "/lines", &ds->lines, NULL);
  if (!s) s = h5_read_table(&f, "/users", &ds->users, NULL);
  if (!s) s = h5_read_table(&f, "/clicks", &ds->clicks, NULL);
  if (!s) s = h5_read_table(&f, "/inventory", &ds->inventory, NULL);
  if (!s) s = h5_read_table(&f, "/network", &ds->network, NULL);
  if (!s) s = table_allgather(&ds->network);
  if (!s) s = h5_read_strings(&f, "/dict/sku", &ds->sku_names, &ds->n_sku_names);
  if (!s) s = h5_read_strings(&f, "/dict/region", &ds->region_names, &ds->n_region_names);
  /* sources -> summary.input */
  char **names = NULL;
  int64_t nn = 0;
  sc_table st;
  memset(&st, 0, sizeof st);
  if (!s) s = h5_read_strings(&f, "/sources/names", &names, &nn);
  if (!s) s = h5_read_table(&f, "/sources/counts", &st, NULL);
  if (!s) s = table_allgather(&st);
  if (!s) {
    store_source src[16];
    int n_src = (int)SC_MIN(SC_MIN(nn, st.n), 16);
    for (int i = 0; i < n_src; i++) {
      snprintf(src[i].name, sizeof src[i].name, "%s", names[i]);
      src[i].bytes = table_i64(&st, "bytes")[i];
      src[i].checksum = (uint64_t)table_i64(&st, "xxh3")[i];
      src[i].read = table_i64(&st, "read")[i];
      src[i].loaded = table_i64(&st, "loaded")[i];
      src[i].rejected = table_i64(&st, "rejected")[i];
      src[i].lines = table_i64(&st, "lines")[i];
      src[i].blank = table_i64(&st, "blank")[i];
      src[i].cont = table_i64(&st, "continuation_lines")[i];
    }
    store_summarize_input(run, ds->layout, src, n_src);
  }
  for (int64_t i = 0; i < nn; i++) free(names[i]);
  free(names);
  table_free(&st);
  sc_status c = h5_close(&f);
  if (!s) s = c;
  if (!ds->n_sku_names) {
    free(ds->sku_names);
    ds->sku_names = NULL;
  }
  if (!ds->n_region_names) {
    free(ds->region_names);
    ds->region_names = NULL;
  }
  if (!s) s = repartition_user(&ds->lines, run->size);
  if (!s) s = repartition_user(&ds->users, run->size);
  if (!s) s = repartition_user(&ds->clicks, run->size);
  if (!s) s = repartition_series(&ds->inventory, run->size);
  if (!s) s = dataset_finish(run, ds);
  if (!s) store_summarize_sales(run, ds);
  return s;
}
