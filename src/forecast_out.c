/* forecast_out.c: the forecast stage's outputs (see forecast_out.h).
 *
 * The test-window rows are few (series x test_days), so every rank sends
 * its own to all with one Allgatherv and rank 0 sorts them by
 * (sku, region, date) before writing: the files are then the same bytes
 * at any rank count. The demand table itself stays distributed and goes
 * to results.h5 with one collective write per column.
 */
#include "forecast_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "csvtext.h"
#include "demand.h"
#include "numtext.h"
#include "xgbjson.h"

json_t *fc_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

void fc_step(json_t *steps, const char *name, double *t) {
  double now = sc_now();
  json_t *v = json_object_get(steps, name);
  json_object_set_new(steps, name, json_real((v ? json_real_value(v) : 0.0) + now - *t));
  *t = now;
}

typedef struct {
  int64_t sku;
  int32_t region, date;
  int64_t units;
  double predicted, baseline, rop;
} test_row;

static int test_row_cmp(const void *a, const void *b) {
  const test_row *x = a, *y = b;
  if (x->sku != y->sku) return x->sku < y->sku ? -1 : 1;
  if (x->region != y->region) return x->region < y->region ? -1 : 1;
  return (x->date > y->date) - (x->date < y->date);
}


/* Gathers every rank's test rows, sorted, on every rank. */
static sc_status gather_test_rows(const fc_outputs *o, test_row **all, int64_t *nall) {
  const sc_table *D = o->demand, *E = o->rows;
  const int64_t *sku = table_i64(D, "sku_id"), *units = table_i64(D, "units");
  const int32_t *reg = table_i32(D, "region_id"), *date = table_i32(D, "date");
  const double *lag7 = table_f64(D, "lag_7"), *pred = table_f64(E, "predicted"), *rop = table_f64(E, "reorder_point");
  const uint8_t *set = table_u8(E, "set");
  int64_t m = 0;
  for (int64_t i = 0; i < D->n; i++) m += set[i] == FC_TEST;
  test_row *mine = NULL;
  sc_status s = sc_alloc(&mine, (size_t)(m + 1) * sizeof *mine);
  if (!s) {
    int64_t j = 0;
    for (int64_t i = 0; i < D->n; i++) {
      if (set[i] != FC_TEST) continue;
      mine[j++] = (test_row){sku[i], reg[i], date[i], units[i], pred[i], lag7[i] == lag7[i] ? lag7[i] : 0.0, rop[i]};
    }
  }
  s = comm_agree(s);
  void *got = NULL;
  size_t bytes = 0;
  if (!s) s = comm_agree(comm_allgatherv(mine, (size_t)m * sizeof *mine, &got, &bytes, NULL));
  free(mine);
  if (s) return s;
  *all = got;
  *nall = (int64_t)(bytes / sizeof(test_row));
  qsort(*all, (size_t)*nall, sizeof **all, test_row_cmp);
  return SC_OK;
}

/* A name's CSV cell, kept while the rows (sorted by sku, region) repeat it. */
typedef struct {
  int64_t id;
  char *text;
  size_t len, cap;
} cell_cache;

static sc_status cached_cell(cell_cache *c, int64_t id, const char *name) {
  if (c->text && c->id == id) return SC_OK;
  size_t need = CSVTEXT_MAX(strlen(name));
  if (need > c->cap) {
    SC_TRY(sc_realloc(&c->text, need));
    c->cap = need;
  }
  c->len = csvtext_cell(c->text, name);
  c->id = id;
  return SC_OK;
}

/* One row per test-window day: the text straight into a buffer written a
 * megabyte at a time; numbers by kernels/numtext.c (printf's %lld, %.9g,
 * %.4f to the byte), names and dates from caches: the rows of one series
 * share their sku and region cells, and a test window has few days. */
static sc_status write_forecast_csv(const sc_run *run, const sc_dataset *ds, const test_row *t, int64_t n) {
  FILE *f;
  SC_TRY(out_open(run, "forecast.csv", &f));
  fputs("sku_id,region_id,date,units,predicted,baseline,reorder_point\n", f);
  char b1[256], b2[256];
  cell_cache sku = {0, NULL, 0, 0}, reg = {0, NULL, 0, 0};
  struct {
    int32_t date;
    char text[16];
  } days[64];
  for (int i = 0; i < 64; i++) days[i].date = INT32_MIN;
  textbuf tb;
  sc_status s = textbuf_init(&tb, f);
  for (int64_t i = 0; i < n && !s; i++) {
    s = cached_cell(&sku, t[i].sku, dataset_sku_name(ds, t[i].sku, b1));
    if (!s) s = cached_cell(&reg, t[i].region, dataset_region_name(ds, t[i].region, b2));
    char *p = s ? NULL : textbuf_room(&tb, sku.len + reg.len + 16 + 24 + 3 * NUMTEXT_MAX + 8);
    if (!p) break;
    int h = t[i].date & 63;
    if (days[h].date != t[i].date) {
      days[h].date = t[i].date;
      demand_date_text(t[i].date, days[h].text);
    }
    memcpy(p, sku.text, sku.len);
    p += sku.len;
    *p++ = ',';
    memcpy(p, reg.text, reg.len);
    p += reg.len;
    *p++ = ',';
    size_t dl = strlen(days[h].text);
    memcpy(p, days[h].text, dl);
    p += dl;
    *p++ = ',';
    p = numtext_i64(p, t[i].units);
    *p++ = ',';
    p = numtext_g(p, t[i].predicted, 9);
    *p++ = ',';
    p = numtext_g(p, t[i].baseline, 9);
    *p++ = ',';
    p = numtext_f(p, t[i].rop, 4);
    *p++ = '\n';
    textbuf_wrote(&tb, p);
  }
  sc_status c = textbuf_close(&tb);
  if (!s) s = c;
  free(sku.text);
  free(reg.text);
  if (s) {
    fclose(f);
    return s;
  }
  return out_commit(run, "forecast.csv", f);
}

/* Feature order by gain, largest first (ties: feature order). */
static void importance_order(const double *gain, int n, int *ord) {
  for (int i = 0; i < n; i++) ord[i] = i;
  for (int i = 1; i < n; i++) {
    int v = ord[i], j = i;
    while (j > 0 && gain[ord[j - 1]] < gain[v]) {
      ord[j] = ord[j - 1];
      j--;
    }
    ord[j] = v;
  }
}

static sc_status write_importance_csv(const sc_run *run, const double *gain, int n) {
  int ord[DEMAND_NFEAT];
  importance_order(gain, n, ord);
  double total = 0.0;
  for (int i = 0; i < n; i++) total += gain[i];
  FILE *f;
  SC_TRY(out_open(run, "feature_importance.csv", &f));
  fputs("feature,gain,share\n", f);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s,%.9g,%.6f\n", demand_features[ord[i]], gain[ord[i]], total > 0 ? gain[ord[i]] / total : 0.0);
  return out_commit(run, "feature_importance.csv", f);
}

static sc_status write_model_json(const sc_run *run, const fc_booster *b) {
  FILE *f;
  SC_TRY(out_open(run, "gbdt_model.json", &f));
  sc_status s = xgbjson_write(f, b, demand_features);
  if (s) {
    fclose(f);
    return s;
  }
  return out_commit(run, "gbdt_model.json", f);
}

sc_status forecast_write_outputs(sc_run *run, const sc_dataset *ds, sc_h5 *results, const fc_outputs *o,
                                 json_t *steps) {
  double tk = sc_now();
  SC_TRY(h5_write_table(results, "/forecast/demand", o->demand));
  fc_step(steps, "results.h5 /forecast/demand", &tk);
  SC_TRY(h5_write_table(results, "/forecast/rows", o->rows));
  fc_step(steps, "results.h5 /forecast/rows", &tk);
  test_row *t = NULL;
  int64_t nt = 0;
  SC_TRY(gather_test_rows(o, &t, &nt));
  fc_step(steps, "test rows gathered", &tk);
  int root = comm_rank() == 0;
  /* the forecast.csv rows as a table, all on rank 0 */
  sc_table F;
  sc_status s = table_init(&F, "forecast", "sku_id:i64,region_id:i32,date:i32,units:i64,predicted:f64,baseline:f64,reorder_point:f64");
  if (!s) s = table_resize(&F, root ? nt : 0);
  if (!s && root) {
    int64_t *fs = table_i64(&F, "sku_id"), *fu = table_i64(&F, "units");
    int32_t *fr = table_i32(&F, "region_id"), *fd = table_i32(&F, "date");
    double *fp = table_f64(&F, "predicted"), *fb = table_f64(&F, "baseline"), *fo = table_f64(&F, "reorder_point");
    for (int64_t i = 0; i < nt; i++) {
      fs[i] = t[i].sku;
      fr[i] = t[i].region;
      fd[i] = t[i].date;
      fu[i] = t[i].units;
      fp[i] = t[i].predicted;
      fb[i] = t[i].baseline;
      fo[i] = t[i].rop;
    }
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(results, "/forecast/forecast", &F);
  table_free(&F);
  double gain[DEMAND_NFEAT];
  fc_importance(o->b, gain);
  if (!s) s = h5_write_strings(results, "/forecast/importance/feature", (char *const *)demand_features, DEMAND_NFEAT);
  if (!s) s = h5_write_f64(results, "/forecast/importance/gain", gain, DEMAND_NFEAT, 1);
  if (!s) s = h5_set_attr_i64(results, "/forecast", "test_start", o->test_start);
  if (!s) s = h5_set_attr_i64(results, "/forecast", "valid_start", o->valid_start);
  if (!s) s = h5_set_attr_i64(results, "/forecast", "first_day", ds->first_day);
  if (!s) s = h5_set_attr_i64(results, "/forecast", "last_day", ds->last_day);
  if (!s) s = h5_set_attr_i64(results, "/forecast", "trees", o->b->ntrees);
  if (!s) s = h5_set_attr_f64(results, "/forecast", "base_score", o->b->base_score);
  if (!s) s = h5_set_attr_f64(results, "/forecast", "r2", o->model.r2);
  if (!s) s = h5_set_attr_f64(results, "/forecast", "baseline_r2", o->baseline.r2);
  fc_step(steps, "results.h5 the rest", &tk);
  sc_status w = SC_OK;
  if (!s && root) {
    w = write_forecast_csv(run, ds, t, nt);
    fc_step(steps, "forecast.csv", &tk);
    if (!w) w = write_importance_csv(run, gain, DEMAND_NFEAT);
    if (!w) w = write_model_json(run, o->b);
    fc_step(steps, "gbdt_model.json", &tk);
  }
  free(t);
  if (!s) s = comm_agree(w);
  fc_step(steps, "outputs agreed", &tk);
  return s;
}
