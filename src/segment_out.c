/* segment_out.c: the segmentation outputs (OUTPUTS.md).
 *
 * customer_segments.csv: customers sit on ranks by user-id range, each
 * rank formats its own block and writes it at its offset in rank order
 * (fmt_write_ranked), all at once; no rank holds another's rows. Numbers have one fixed format (integers; money and
 * rates with 6 decimals printed from their exact millionths), so the
 * bytes depend on the data only. The small tables (profiles, RFM
 * segments and grid, model selection, the model) are replicated on every
 * rank and written by rank 0; results.h5 gets the same tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "csv.h"
#include "custfeat.h"
#include "fmt.h"
#include "segment_internal.h"

void seg_format_day(int32_t day, char *buf) { format_date(day, buf); }

static char *put_i64(char *p, int64_t v) { return fmt_i64(p, v); }

/* An integer number of millionths as a decimal with 6 places. */
static char *put_micro_int(char *p, int64_t m) {
  if (m < 0) {
    *p++ = '-';
    m = -m;
  }
  p = put_i64(p, m / 1000000);
  *p++ = '.';
  int64_t f = m % 1000000;
  for (int64_t div = 100000; div >= 1; div /= 10) *p++ = (char)('0' + (f / div) % 10);
  return p;
}

static char *put_micro(char *p, double v) { return put_micro_int(p, feat_micro(v)); }

static char *put_str(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}


/* A double in a small table: 6 decimals, empty when not finite. */
static void put_real(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.6f", v == 0 ? 0.0 : v);
}

/* ---- customer_segments.csv ------------------------------------------- */

#define SEG_CHUNK 16384 /* customers formatted and sent at a time */

/* Formats customers [b, e) as CSV rows into buf (room for e - b rows). */
static size_t format_rows(const seg_ctx *cx, int64_t b, int64_t e, char *buf) {
  const int64_t *uid = table_i64(&cx->cust, "user_id");
  const int32_t *r = table_i32(&cx->cust, "r_score"), *f = table_i32(&cx->cust, "f_score"),
                *m = table_i32(&cx->cust, "m_score"), *sg = table_i32(&cx->cust, "rfm_segment");
  char *p = buf;
  for (int64_t i = b; i < e; i++) {
    p = put_i64(p, uid[i]);
    for (int ft = 0; ft < SEG_NFEAT; ft++) {
      if (!cx->present[ft]) continue;
      *p++ = ',';
      p = seg_feature_is_int(ft) ? put_i64(p, cx->fi[ft][i]) : put_micro(p, cx->fd[ft][i]);
    }
    *p++ = ',';
    p = put_i64(p, r[i]);
    *p++ = ',';
    p = put_i64(p, f[i]);
    *p++ = ',';
    p = put_i64(p, m[i]);
    *p++ = ',';
    p = put_i64(p, r[i] * 100 + f[i] * 10 + m[i]);
    *p++ = ',';
    p = put_str(p, seg_rfm_names[sg[i]]);
    *p++ = ',';
    p = put_i64(p, cx->labels[i]);
    *p++ = ',';
    p = put_str(p, cx->prof[cx->labels[i]].name);
    *p++ = '\n';
  }
  return (size_t)(p - buf);
}

/* Customers sit on ranks by user-id range: every rank formats its own
 * rows at once, SEG_CHUNK customers at a time into a buffer that grows
 * with the text (rank 0's begins with the header), and the blocks go to
 * the file at their offsets in rank order (fmt_write_ranked). */
static sc_status write_customers(const sc_run *run, const seg_ctx *cx) {
  const size_t per = 24 + (size_t)SEG_NFEAT * 28 + 40 + 24 + 12 + SEG_NAME_MAX;
  int64_t n = cx->cust.n;
  char header[128 + SEG_NFEAT * (SEG_NAME_MAX + 1)];
  size_t len = 0, cap = sizeof header + per * (size_t)SC_MIN(n, SEG_CHUNK);
  if (comm_rank() == 0) {
    char *h = put_str(header, "user_id");
    for (int ft = 0; ft < SEG_NFEAT; ft++)
      if (cx->present[ft]) {
        *h++ = ',';
        h = put_str(h, seg_feature_name[ft]);
      }
    h = put_str(h, ",r_score,f_score,m_score,rfm_score,rfm_segment,cluster,cluster_name\n");
    len = (size_t)(h - header);
  }
  char *buf = NULL;
  sc_status s = sc_alloc(&buf, cap);
  if (!s) memcpy(buf, header, len);
  for (int64_t b = 0; b < n && !s; b += SEG_CHUNK) {
    int64_t e = SC_MIN(n, b + SEG_CHUNK);
    size_t need = len + per * (size_t)(e - b);
    if (need > cap) {
      cap = SC_MAX(need, 2 * cap);
      s = sc_realloc(&buf, cap);
    }
    if (!s) len += format_rows(cx, b, e, buf + len);
  }
  s = comm_agree(s);
  if (!s) s = fmt_write_ranked(run, "customer_segments.csv", buf, len);
  free(buf);
  return s;
}

/* ---- the small tables -------------------------------------------------- */

/* RFM grid: customers and revenue (millionths) per (r, f) cell. */
static sc_status rfm_grid(const seg_ctx *cx, int64_t *cust, int64_t *rev) {
  memset(cust, 0, sizeof(int64_t) * 25);
  memset(rev, 0, sizeof(int64_t) * 25);
  const int32_t *r = table_i32(&cx->cust, "r_score"), *f = table_i32(&cx->cust, "f_score");
  for (int64_t i = 0; i < cx->cust.n; i++) {
    int c = (r[i] - 1) * 5 + (f[i] - 1);
    cust[c]++;
    rev[c] += feat_micro(cx->fd[SEG_MONETARY][i]);
  }
  comm_sum_i64(cust, 25);
  comm_sum_i64(rev, 25);
  return SC_OK;
}

static sc_status write_rfm(const sc_run *run, const int64_t *gc, const int64_t *gr, int64_t *sc, int64_t *sr) {
  memset(sc, 0, sizeof(int64_t) * SEG_NRFM);
  memset(sr, 0, sizeof(int64_t) * SEG_NRFM);
  int64_t tc = 0, tr = 0;
  for (int r = 1; r <= 5; r++)
    for (int fs = 1; fs <= 5; fs++) {
      int g = seg_rfm_segment(r, fs), c = (r - 1) * 5 + fs - 1;
      sc[g] += gc[c];
      sr[g] += gr[c];
      tc += gc[c];
      tr += gr[c];
    }
  if (comm_rank() != 0) return SC_OK;
  FILE *f = NULL;
  char num[64];
  SC_TRY(out_open(run, "rfm_segments.csv", &f));
  fputs("rfm_segment,customers,customer_share,revenue,revenue_share\n", f);
  for (int g = 0; g < SEG_NRFM; g++) {
    fprintf(f, "%s,%lld,", seg_rfm_names[g], (long long)sc[g]);
    put_real(f, tc ? (double)sc[g] / (double)tc : 0);
    *put_micro_int(num, sr[g]) = 0;
    fprintf(f, ",%s,", num);
    put_real(f, tr ? (double)sr[g] / (double)tr : 0);
    fputc('\n', f);
  }
  SC_TRY(out_commit(run, "rfm_segments.csv", f));
  SC_TRY(out_open(run, "rfm_grid.csv", &f));
  fputs("r_score,f_score,customers,revenue,rfm_segment\n", f);
  for (int r = 5; r >= 1; r--)
    for (int fs = 1; fs <= 5; fs++) {
      int c = (r - 1) * 5 + fs - 1;
      *put_micro_int(num, gr[c]) = 0;
      fprintf(f, "%d,%d,%lld,%s,%s\n", r, fs, (long long)gc[c], num, seg_rfm_names[seg_rfm_segment(r, fs)]);
    }
  return out_commit(run, "rfm_grid.csv", f);
}

static sc_status write_profiles(const sc_run *run, const seg_ctx *cx) {
  if (comm_rank() != 0) return SC_OK;
  FILE *f = NULL;
  SC_TRY(out_open(run, "segment_profiles.csv", &f));
  fputs("cluster,cluster_name,customers,customer_share,revenue_share", f);
  for (int ft = 0; ft < SEG_NFEAT; ft++)
    if (cx->present[ft]) fprintf(f, ",%s_mean,%s_median", seg_feature_name[ft], seg_feature_name[ft]);
  fputs(",action\n", f);
  for (int c = 0; c < cx->k; c++) {
    const seg_profile_row *p = &cx->prof[c];
    fprintf(f, "%d,", c);
    out_csv_field(f, p->name);
    fprintf(f, ",%lld,", (long long)p->customers);
    put_real(f, p->customer_share);
    fputc(',', f);
    put_real(f, p->revenue_share);
    for (int ft = 0; ft < SEG_NFEAT; ft++) {
      if (!cx->present[ft]) continue;
      fputc(',', f);
      if (p->customers) put_real(f, p->mean[ft]);
      fputc(',', f);
      if (p->customers) put_real(f, p->median[ft]);
    }
    fputc(',', f);
    out_csv_field(f, p->action);
    fputc('\n', f);
  }
  return out_commit(run, "segment_profiles.csv", f);
}

static sc_status write_selection(const sc_run *run, const seg_ctx *cx) {
  if (comm_rank() != 0) return SC_OK;
  FILE *f = NULL;
  SC_TRY(out_open(run, "model_selection.csv", &f));
  fputs("k,inertia,silhouette,calinski_harabasz,davies_bouldin,n_iter,chosen\n", f);
  for (int i = 0; i < cx->sweep.nk; i++) {
    const seg_km_model *m = &cx->sweep.models[i];
    fprintf(f, "%d,", m->k);
    put_real(f, m->inertia);
    fputc(',', f);
    put_real(f, m->silhouette);
    fputc(',', f);
    put_real(f, m->calinski_harabasz);
    fputc(',', f);
    put_real(f, m->davies_bouldin);
    fprintf(f, ",%d,%d\n", m->n_iter, i == cx->chosen);
  }
  return out_commit(run, "model_selection.csv", f);
}

static void model_of(const seg_ctx *cx, seg_model *m) {
  memset(m, 0, sizeof *m);
  m->d = cx->d;
  for (int j = 0; j < cx->d; j++) {
    m->feat[j] = cx->feat[j];
    m->mean[j] = cx->mean[j];
    m->std[j] = cx->std[j];
  }
  m->k = cx->k;
  m->C = cx->model.C;
}

static sc_status write_model(const sc_run *run, const seg_ctx *cx) {
  if (comm_rank() != 0) return SC_OK;
  seg_model m;
  model_of(cx, &m);
  SC_TRY(sc_calloc(&m.name, (size_t)cx->k, sizeof *m.name));
  sc_status s = sc_calloc(&m.action, (size_t)cx->k, sizeof *m.action);
  for (int c = 0; !s && c < cx->k; c++) {
    snprintf(m.name[c], SEG_NAME_MAX, "%s", cx->prof[c].name);
    snprintf(m.action[c], SEG_ACTION_MAX, "%s", cx->prof[c].action);
  }
  FILE *f = NULL;
  if (!s) s = out_open(run, "kmeans_model.json", &f);
  if (!s) {
    s = seg_model_write(&m, f, "kmeans_model.json");
    if (!s) s = out_commit(run, "kmeans_model.json", f);
    else fclose(f);
  }
  free(m.name);
  free(m.action);
  return s;
}

/* ---- results.h5 --------------------------------------------------------- */

/* A replicated table: every rank builds it, only rank 0 keeps rows. */
static sc_status small_table(sc_table *t, const char *name, const char *spec, int64_t rows) {
  SC_TRY(table_init(t, name, spec));
  return table_resize(t, comm_rank() == 0 ? rows : 0);
}

static sc_status h5_customers(sc_h5 *h, const seg_ctx *cx) {
  char spec[1024] = "user_id:i64";
  for (int f = 0; f < SEG_NFEAT; f++)
    if (cx->present[f]) {
      size_t l = strlen(spec);
      snprintf(spec + l, sizeof spec - l, ",%s:%s", seg_feature_name[f], seg_feature_is_int(f) ? "i64" : "f64");
    }
  strcat(spec, ",r_score:i32,f_score:i32,m_score:i32,rfm_score:i32,rfm_segment:i32,cluster:i32");
  sc_table t;
  int64_t n = cx->cust.n;
  sc_status s = table_init(&t, "customers", spec);
  if (!s) s = table_resize(&t, n);
  if (!s) {
    for (int c = 0; c < t.ncols; c++) {
      const char *nm = t.cols[c].name;
      size_t es = coltype_size(t.cols[c].type);
      void *src = table_col(&cx->cust, nm);
      if (src && n) memcpy(t.cols[c].data, src, es * (size_t)n); /* no rows: both may be NULL */
    }
    int32_t *rs = table_i32(&t, "rfm_score"), *cl = table_i32(&t, "cluster");
    const int32_t *r = table_i32(&cx->cust, "r_score"), *f = table_i32(&cx->cust, "f_score"),
                  *m = table_i32(&cx->cust, "m_score");
    for (int64_t i = 0; i < n; i++) {
      rs[i] = r[i] * 100 + f[i] * 10 + m[i];
      cl[i] = cx->labels[i];
    }
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/segment/customers", &t);
  table_free(&t);
  return s;
}

static sc_status h5_small(sc_h5 *h, const seg_ctx *cx, const int64_t *gc, const int64_t *gr, const int64_t *sc,
                          const int64_t *sr) {
  sc_table t;
  sc_status s;
  int k = cx->k;
  /* profiles */
  s = small_table(&t, "profiles", "cluster:i32,customers:i64,customer_share:f64,revenue_share:f64", k);
  for (int c = 0; !s && c < t.n; c++) {
    table_i32(&t, "cluster")[c] = c;
    table_i64(&t, "customers")[c] = cx->prof[c].customers;
    table_f64(&t, "customer_share")[c] = cx->prof[c].customer_share;
    table_f64(&t, "revenue_share")[c] = cx->prof[c].revenue_share;
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/segment/profiles", &t);
  table_free(&t);
  for (int which = 0; which < 2 && !s; which++) {
    char spec[1024] = "cluster:i32";
    for (int f = 0; f < SEG_NFEAT; f++)
      if (cx->present[f]) {
        size_t l = strlen(spec);
        snprintf(spec + l, sizeof spec - l, ",%s:f64", seg_feature_name[f]);
      }
    s = small_table(&t, which ? "profile_medians" : "profile_means", spec, k);
    for (int c = 0; !s && c < t.n; c++) {
      table_i32(&t, "cluster")[c] = c;
      for (int f = 0; f < SEG_NFEAT; f++)
        if (cx->present[f])
          table_f64(&t, seg_feature_name[f])[c] = which ? cx->prof[c].median[f] : cx->prof[c].mean[f];
    }
    s = comm_agree(s);
    if (!s) s = h5_write_table(h, which ? "/segment/profile_medians" : "/segment/profile_means", &t);
    table_free(&t);
  }
  /* rule-based segments and the grid */
  if (!s) s = small_table(&t, "rfm_segments", "rfm_segment:i32,customers:i64,revenue:f64", SEG_NRFM);
  for (int g = 0; !s && g < t.n; g++) {
    table_i32(&t, "rfm_segment")[g] = g;
    table_i64(&t, "customers")[g] = sc[g];
    table_f64(&t, "revenue")[g] = (double)sr[g] / 1e6;
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/segment/rfm_segments", &t);
  table_free(&t);
  if (!s) s = small_table(&t, "rfm_grid", "r_score:i32,f_score:i32,customers:i64,revenue:f64,rfm_segment:i32", 25);
  for (int c = 0; !s && c < t.n; c++) {
    int r = c / 5 + 1, f = c % 5 + 1;
    table_i32(&t, "r_score")[c] = r;
    table_i32(&t, "f_score")[c] = f;
    table_i64(&t, "customers")[c] = gc[c];
    table_f64(&t, "revenue")[c] = (double)gr[c] / 1e6;
    table_i32(&t, "rfm_segment")[c] = seg_rfm_segment(r, f);
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/segment/rfm_grid", &t);
  table_free(&t);
  /* model selection */
  if (!s)
    s = small_table(&t, "model_selection",
                    "k:i32,inertia:f64,silhouette:f64,calinski_harabasz:f64,davies_bouldin:f64,n_iter:i32,chosen:u8",
                    cx->sweep.nk);
  for (int i = 0; !s && i < t.n; i++) {
    const seg_km_model *m = &cx->sweep.models[i];
    table_i32(&t, "k")[i] = m->k;
    table_f64(&t, "inertia")[i] = m->inertia;
    table_f64(&t, "silhouette")[i] = m->silhouette;
    table_f64(&t, "calinski_harabasz")[i] = m->calinski_harabasz;
    table_f64(&t, "davies_bouldin")[i] = m->davies_bouldin;
    table_i32(&t, "n_iter")[i] = m->n_iter;
    table_u8(&t, "chosen")[i] = i == cx->chosen;
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/segment/model_selection", &t);
  table_free(&t);
  /* names, features and the model's arrays */
  char *names[1024], *actions[1024], *rfm[SEG_NRFM], *feats[KM_MAX_D];
  for (int c = 0; c < k; c++) {
    names[c] = cx->prof[c].name;
    actions[c] = cx->prof[c].action;
  }
  for (int g = 0; g < SEG_NRFM; g++) rfm[g] = (char *)seg_rfm_names[g];
  for (int j = 0; j < cx->d; j++) feats[j] = (char *)seg_feature_name[cx->feat[j]];
  if (!s) s = h5_write_strings(h, "/segment/cluster_names", names, k);
  if (!s) s = h5_write_strings(h, "/segment/cluster_actions", actions, k);
  if (!s) s = h5_write_strings(h, "/segment/rfm_segment_names", rfm, SEG_NRFM);
  if (!s) s = h5_write_strings(h, "/segment/features", feats, cx->d);
  if (!s) s = h5_write_f64(h, "/segment/centroids", cx->model.C, k, cx->d);
  if (!s) s = h5_write_f64(h, "/segment/means", cx->mean, 1, cx->d);
  if (!s) s = h5_write_f64(h, "/segment/stds", cx->std, 1, cx->d);
  return s;
}

sc_status seg_write_outputs(sc_run *run, const sc_dataset *ds, seg_ctx *cx, sc_h5 *results) {
  (void)ds;
  int64_t gc[25], gr[25], sc[SEG_NRFM], sr[SEG_NRFM];
  SC_TRY(write_customers(run, cx));
  SC_TRY(rfm_grid(cx, gc, gr));
  SC_TRY(comm_agree(write_rfm(run, gc, gr, sc, sr)));
  SC_TRY(comm_agree(write_profiles(run, cx)));
  SC_TRY(comm_agree(write_selection(run, cx)));
  SC_TRY(comm_agree(write_model(run, cx)));
  if (results) {
    SC_TRY(h5_customers(results, cx));
    SC_TRY(h5_small(results, cx, gc, gr, sc, sr));
  }
  return SC_OK;
}

static json_t *real_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

void seg_summary(sc_run *run, const seg_ctx *cx) {
  json_t *o = json_object();
  json_object_set_new(o, "customers", json_integer(cx->n_total));
  json_object_set_new(o, "k", json_integer(cx->k));
  json_object_set_new(o, "k_rule", json_string(cx->k_fixed ? "configured" : "auto: elbow knee checked by silhouette"));
  json_t *fe = json_array();
  for (int j = 0; j < cx->d; j++) json_array_append_new(fe, json_string(seg_feature_name[cx->feat[j]]));
  json_object_set_new(o, "features", fe);
  json_object_set_new(o, "inertia", real_or_null(cx->model.inertia));
  json_object_set_new(o, "silhouette", real_or_null(cx->sweep.models[cx->chosen].silhouette));
  json_object_set_new(o, "calinski_harabasz", real_or_null(cx->model.calinski_harabasz));
  json_object_set_new(o, "davies_bouldin", real_or_null(cx->model.davies_bouldin));
  json_object_set_new(o, "n_iter", json_integer(cx->model.n_iter));
  json_object_set_new(o, "silhouette_sample", json_integer(cx->sample.m));
  json_object_set_new(o, "kmeans_sample", json_integer(cx->has_kms ? cx->kms.n_total : 0));
  json_t *cl = json_array();
  for (int c = 0; c < cx->k; c++) {
    json_t *r = json_object();
    json_object_set_new(r, "cluster", json_integer(c));
    json_object_set_new(r, "name", json_string(cx->prof[c].name));
    json_object_set_new(r, "customers", json_integer(cx->prof[c].customers));
    json_object_set_new(r, "revenue_share", json_real(cx->prof[c].revenue_share));
    json_array_append_new(cl, r);
  }
  json_object_set_new(o, "clusters", cl);
  json_t *sec = json_object();
  json_object_set_new(sec, "features", json_real(cx->t_features));
  json_object_set_new(sec, "rfm", json_real(cx->t_rfm));
  json_object_set_new(sec, "standardize", json_real(cx->t_standardize));
  json_object_set_new(sec, "sweep", json_real(cx->t_sweep));
  json_object_set_new(sec, "profiles", json_real(cx->t_profiles));
  json_object_set_new(sec, "outputs", json_real(cx->t_outputs));
  json_object_set_new(o, "seconds", sec);
  json_object_set_new(run->summary, "segment", o);
  if (!json_object_get(run->summary, "as_of")) {
    char day[16];
    seg_format_day(cx->as_of, day);
    json_object_set_new(run->summary, "as_of", json_string(day));
  }
}
