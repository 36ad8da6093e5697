/* xgbjson.c: the XGBoost 1.7 JSON model writer (see xgbjson.h).
 *
 * Written by hand rather than through jansson: the format
 * needs floats printed with an exponent ("%.8E"; an integer literal such
 * as 0 is refused where a float is expected) and every *_param value as a
 * string, and the trees are large enough that streaming them is simpler.
 * Nodes are numbered as the trainer made them (breadth-first), the
 * root's parent is 2147483647 as XGBoost writes it.
 */
#include "xgbjson.h"

#include <stdarg.h>
#include <string.h>

#include "csvtext.h"
#include "numtext.h"

/* The file is formatted into a textbuf (written a megabyte at a time) and
 * its numbers by kernels/numtext.c: "%.8E" and "%ld" to the byte, about
 * ten times faster than fprintf (gbdt_model.json is 9 MB at 300 trees). */

/* Plain text. */
static void put_text(textbuf *tb, const char *s) {
  size_t n = strlen(s);
  char *p = textbuf_room(tb, n);
  if (!p) return;
  memcpy(p, s, n);
  textbuf_wrote(tb, p + n);
}

/* A short printf'd piece (the few counts in the fixed text). */
__attribute__((format(printf, 2, 3))) static void put_fmt(textbuf *tb, const char *fmt, ...) {
  char *p = textbuf_room(tb, 512);
  if (!p) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(p, 512, fmt, ap);
  va_end(ap);
  if (n > 0) textbuf_wrote(tb, p + (n < 512 ? n : 511));
}

/* Float array field: "name": [v, v, ...] */
static void put_floats(textbuf *tb, const char *name, const gbdt_tree *t, int which) {
  put_fmt(tb, "\"%s\":[", name);
  for (int32_t i = 0; i < t->n; i++) {
    const gbdt_node *nd = &t->nodes[i];
    float v = which == 0 ? nd->loss_chg : which == 1 ? nd->sum_hess : which == 2 ? nd->base_weight : nd->cond;
    char *p = textbuf_room(tb, NUMTEXT_MAX + 1);
    if (!p) return;
    if (i) *p++ = ',';
    textbuf_wrote(tb, numtext_e(p, (double)v, 8, 1));
  }
  put_text(tb, "]");
}

static void put_ints(textbuf *tb, const char *name, const gbdt_tree *t, int which) {
  put_fmt(tb, "\"%s\":[", name);
  for (int32_t i = 0; i < t->n; i++) {
    const gbdt_node *nd = &t->nodes[i];
    long v;
    switch (which) {
      case 0: v = nd->left; break;
      case 1: v = nd->right; break;
      case 2: v = nd->parent < 0 ? 2147483647L : nd->parent; break;
      case 3: v = nd->left < 0 ? 0 : nd->feat; break;
      case 4: v = nd->left < 0 ? 0 : nd->default_left; break;
      default: v = 0; break;
    }
    char *p = textbuf_room(tb, 24);
    if (!p) return;
    if (i) *p++ = ',';
    textbuf_wrote(tb, numtext_i64(p, v));
  }
  put_text(tb, "]");
}

/* Writes a JSON string literal (feature names are plain ASCII here, but escape anyway). */
static void put_string(textbuf *tb, const char *s) {
  char *p = textbuf_room(tb, 6 * strlen(s) + 2);
  if (!p) return;
  *p++ = '"';
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') {
      *p++ = '\\';
      *p++ = *s;
    } else if ((unsigned char)*s < 0x20) {
      p += snprintf(p, 7, "\\u%04x", (unsigned char)*s);
    } else {
      *p++ = *s;
    }
  }
  *p++ = '"';
  textbuf_wrote(tb, p);
}

sc_status xgbjson_write(FILE *f, const fc_booster *b, const char *const *names) {
  const int F = b->nfeat;
  textbuf tb0, *tb = &tb0;
  SC_TRY(textbuf_init(tb, f));
  put_text(tb, "{\"learner\":{\"attributes\":{},\"feature_names\":[");
  for (int i = 0; i < F; i++) {
    if (i) put_text(tb, ",");
    put_string(tb, names[i]);
  }
  put_text(tb, "],\"feature_types\":[");
  for (int i = 0; i < F; i++) put_fmt(tb, "%s\"float\"", i ? "," : "");
  put_fmt(tb,
          "],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
          "\"num_trees\":\"%d\",\"size_leaf_vector\":\"0\"},\"tree_info\":[",
          b->ntrees);
  for (int t = 0; t < b->ntrees; t++) put_fmt(tb, "%s0", t ? "," : "");
  put_text(tb, "],\"trees\":[");
  for (int t = 0; t < b->ntrees; t++) {
    const gbdt_tree *tr = &b->trees[t];
    if (t) put_text(tb, ",");
    put_text(tb, "{");
    put_floats(tb, "base_weights", tr, 2);
    put_text(tb, ",\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],\"categories_sizes\":[],");
    put_ints(tb, "default_left", tr, 4);
    put_fmt(tb, ",\"id\":%d,", t);
    put_ints(tb, "left_children", tr, 0);
    put_text(tb, ",");
    put_floats(tb, "loss_changes", tr, 0);
    put_text(tb, ",");
    put_ints(tb, "parents", tr, 2);
    put_text(tb, ",");
    put_ints(tb, "right_children", tr, 1);
    put_text(tb, ",");
    put_floats(tb, "split_conditions", tr, 3);
    put_text(tb, ",");
    put_ints(tb, "split_indices", tr, 3);
    put_text(tb, ",");
    put_ints(tb, "split_type", tr, 5);
    put_text(tb, ",");
    put_floats(tb, "sum_hessian", tr, 1);
    put_fmt(tb,
            ",\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%d\",\"num_nodes\":\"%d\","
            "\"size_leaf_vector\":\"0\"}}",
            F, tr->n);
  }
  put_text(tb, "]},\"name\":\"gbtree\"},");
  put_fmt(tb,
          "\"learner_model_param\":{\"base_score\":\"%.8E\",\"boost_from_average\":\"1\",\"num_class\":\"0\","
          "\"num_feature\":\"%d\",\"num_target\":\"1\"},",
          (double)b->base_score, F);
  if (b->objective == GBDT_POISSON)
    put_fmt(tb, "\"objective\":{\"name\":\"count:poisson\",\"poisson_regression_param\":{\"max_delta_step\":\"%.8E\"}}",
            (double)(float)GBDT_POISSON_MAX_DELTA);
  else put_text(tb, "\"objective\":{\"name\":\"reg:squarederror\",\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}");
  put_text(tb, "},\"version\":[1,7,4]}\n");
  SC_TRY(textbuf_close(tb));
  return ferror(f) ? sc_fail(SC_EIO, "writing gbdt_model.json failed: check free disk space") : SC_OK;
}
