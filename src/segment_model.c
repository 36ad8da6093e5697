/* segment_model.c: feature names and kmeans_model.json (segment_model.h).
 *
 * The JSON is written with jansson in insertion order and 17 significant
 * digits, so every double reads back to the same bits and the file's
 * bytes depend on the model only.
 */
#include "segment_model.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *const seg_feature_name[SEG_NFEAT] = {
    "recency_days",   "frequency",          "monetary",    "product_diversity", "avg_order_value",
    "purchase_span_days", "tenure_days", "avg_discount_rate", "clicks_90d",   "return_lines"};

int seg_feature_is_int(int f) { return !(f == SEG_MONETARY || f == SEG_AOV || f == SEG_DISCOUNT); }

int seg_feature_find(const char *name) {
  for (int f = 0; f < SEG_NFEAT; f++)
    if (!strcmp(name, seg_feature_name[f])) return f;
  return -1;
}

static json_t *real_array(const double *v, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

sc_status seg_model_write(const seg_model *m, FILE *f, const char *what) {
  json_t *o = json_object();
  json_object_set_new(o, "format", json_string("segcast-kmeans-1"));
  json_t *names = json_array();
  for (int j = 0; j < m->d; j++) json_array_append_new(names, json_string(seg_feature_name[m->feat[j]]));
  json_object_set_new(o, "features", names);
  json_object_set_new(o, "transform", json_string("z = (log1p(x) - mean) / std"));
  json_object_set_new(o, "means", real_array(m->mean, m->d));
  json_object_set_new(o, "stds", real_array(m->std, m->d));
  json_object_set_new(o, "k", json_integer(m->k));
  json_t *cs = json_array();
  for (int c = 0; c < m->k; c++) json_array_append_new(cs, real_array(m->C + (size_t)c * m->d, m->d));
  json_object_set_new(o, "centroids", cs);
  json_t *nm = json_array(), *ac = json_array();
  for (int c = 0; c < m->k; c++) {
    json_array_append_new(nm, json_string(m->name[c]));
    json_array_append_new(ac, json_string(m->action[c]));
  }
  json_object_set_new(o, "names", nm);
  json_object_set_new(o, "actions", ac);
  int rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (rc || fputc('\n', f) == EOF) return sc_fail(SC_EIO, "writing %s failed: check free disk space", what);
  return SC_OK;
}

/* Reads an array of n numbers (integers accepted) into v. */
static sc_status read_reals(const char *path, json_t *a, const char *key, double *v, int n) {
  if (!json_is_array(a) || (int)json_array_size(a) != n)
    return sc_fail(SC_EINPUT, "%s: \"%s\" must be an array of %d numbers", path, key, n);
  for (int i = 0; i < n; i++) {
    json_t *x = json_array_get(a, (size_t)i);
    if (!json_is_number(x)) return sc_fail(SC_EINPUT, "%s: \"%s\"[%d] is not a number", path, key, i);
    v[i] = json_number_value(x);
  }
  return SC_OK;
}

static sc_status model_parse(const char *path, json_t *o, seg_model *m) {
  json_t *fmt = json_object_get(o, "format");
  if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "segcast-kmeans-1"))
    return sc_fail(SC_EINPUT, "%s is not a segcast k-means model (\"format\" must be \"segcast-kmeans-1\"): "
                              "pass the output folder of segcast segment or run",
                   path);
  json_t *fe = json_object_get(o, "features");
  if (!json_is_array(fe) || json_array_size(fe) < 1 || json_array_size(fe) > KM_MAX_D)
    return sc_fail(SC_EINPUT, "%s: \"features\" must list 1 to %d feature names", path, KM_MAX_D);
  m->d = (int)json_array_size(fe);
  for (int j = 0; j < m->d; j++) {
    json_t *x = json_array_get(fe, (size_t)j);
    int f = json_is_string(x) ? seg_feature_find(json_string_value(x)) : -1;
    if (f < 0) return sc_fail(SC_EINPUT, "%s: \"features\"[%d] is not a customer feature name", path, j);
    m->feat[j] = f;
  }
  SC_TRY(read_reals(path, json_object_get(o, "means"), "means", m->mean, m->d));
  SC_TRY(read_reals(path, json_object_get(o, "stds"), "stds", m->std, m->d));
  for (int j = 0; j < m->d; j++)
    if (!(m->std[j] > 0)) return sc_fail(SC_EINPUT, "%s: \"stds\"[%d] must be positive", path, j);
  json_t *k = json_object_get(o, "k");
  if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > 1000)
    return sc_fail(SC_EINPUT, "%s: \"k\" must be an integer in [1, 1000]", path);
  m->k = (int)json_integer_value(k);
  json_t *cs = json_object_get(o, "centroids"), *nm = json_object_get(o, "names"), *ac = json_object_get(o, "actions");
  if (!json_is_array(cs) || (int)json_array_size(cs) != m->k)
    return sc_fail(SC_EINPUT, "%s: \"centroids\" must hold k = %d rows", path, m->k);
  if (!json_is_array(nm) || (int)json_array_size(nm) != m->k || !json_is_array(ac) || (int)json_array_size(ac) != m->k)
    return sc_fail(SC_EINPUT, "%s: \"names\" and \"actions\" must hold k = %d strings", path, m->k);
  SC_TRY(sc_alloc(&m->C, sizeof(double) * (size_t)m->k * m->d));
  SC_TRY(sc_calloc(&m->name, (size_t)m->k, sizeof *m->name));
  SC_TRY(sc_calloc(&m->action, (size_t)m->k, sizeof *m->action));
  for (int c = 0; c < m->k; c++) {
    SC_TRY(read_reals(path, json_array_get(cs, (size_t)c), "centroids", m->C + (size_t)c * m->d, m->d));
    json_t *n = json_array_get(nm, (size_t)c), *a = json_array_get(ac, (size_t)c);
    if (!json_is_string(n) || !json_is_string(a))
      return sc_fail(SC_EINPUT, "%s: \"names\"[%d] and \"actions\"[%d] must be strings", path, c, c);
    snprintf(m->name[c], SEG_NAME_MAX, "%s", json_string_value(n));
    snprintf(m->action[c], SEG_ACTION_MAX, "%s", json_string_value(a));
  }
  return SC_OK;
}

sc_status seg_model_read(const char *path, seg_model *m) {
  memset(m, 0, sizeof *m);
  json_error_t err;
  json_t *o = json_load_file(path, 0, &err);
  if (!o)
    return sc_fail(SC_EINPUT, "cannot read model %s: %s (line %d); pass --model the output folder of a segcast run",
                   path, err.text, err.line);
  sc_status s = model_parse(path, o, m);
  json_decref(o);
  if (s) seg_model_free(m);
  return s;
}

void seg_model_free(seg_model *m) {
  free(m->C);
  free(m->name);
  free(m->action);
  m->C = NULL;
  m->name = NULL;
  m->action = NULL;
}
