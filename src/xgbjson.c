/* xgbjson.c: the XGBoost 1.7 JSON model writer (see xgbjson.h).
 *
 * Written by hand with fprintf rather than through jansson: the format
 * needs floats printed with an exponent ("%.8E"; an integer literal such
 * as 0 is refused where a float is expected) and every *_param value as a
 * string, and the trees are large enough that streaming them is simpler.
 * Nodes are numbered as the trainer made them (breadth-first), the
 * root's parent is 2147483647 as XGBoost writes it.
 */
#include "xgbjson.h"

#include <string.h>

/* Float array field: "name": [v, v, ...] */
static void put_floats(FILE *f, const char *name, const gbdt_tree *t, int which) {
  fprintf(f, "\"%s\":[", name);
  for (int32_t i = 0; i < t->n; i++) {
    const gbdt_node *nd = &t->nodes[i];
    float v = which == 0 ? nd->loss_chg : which == 1 ? nd->sum_hess : which == 2 ? nd->base_weight : nd->cond;
    fprintf(f, "%s%.8E", i ? "," : "", (double)v);
  }
  fputs("]", f);
}

static void put_ints(FILE *f, const char *name, const gbdt_tree *t, int which) {
  fprintf(f, "\"%s\":[", name);
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
    fprintf(f, "%s%ld", i ? "," : "", v);
  }
  fputs("]", f);
}

/* Writes a JSON string literal (feature names are plain ASCII here, but escape anyway). */
static void put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

sc_status xgbjson_write(FILE *f, const fc_booster *b, const char *const *names) {
  const int F = b->nfeat;
  fputs("{\"learner\":{\"attributes\":{},\"feature_names\":[", f);
  for (int i = 0; i < F; i++) {
    if (i) fputc(',', f);
    put_string(f, names[i]);
  }
  fputs("],\"feature_types\":[", f);
  for (int i = 0; i < F; i++) fprintf(f, "%s\"float\"", i ? "," : "");
  fprintf(f,
          "],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
          "\"num_trees\":\"%d\",\"size_leaf_vector\":\"0\"},\"tree_info\":[",
          b->ntrees);
  for (int t = 0; t < b->ntrees; t++) fprintf(f, "%s0", t ? "," : "");
  fputs("],\"trees\":[", f);
  for (int t = 0; t < b->ntrees; t++) {
    const gbdt_tree *tr = &b->trees[t];
    if (t) fputc(',', f);
    fputc('{', f);
    put_floats(f, "base_weights", tr, 2);
    fputs(",\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],\"categories_sizes\":[],", f);
    put_ints(f, "default_left", tr, 4);
    fprintf(f, ",\"id\":%d,", t);
    put_ints(f, "left_children", tr, 0);
    fputc(',', f);
    put_floats(f, "loss_changes", tr, 0);
    fputc(',', f);
    put_ints(f, "parents", tr, 2);
    fputc(',', f);
    put_ints(f, "right_children", tr, 1);
    fputc(',', f);
    put_floats(f, "split_conditions", tr, 3);
    fputc(',', f);
    put_ints(f, "split_indices", tr, 3);
    fputc(',', f);
    put_ints(f, "split_type", tr, 5);
    fputc(',', f);
    put_floats(f, "sum_hessian", tr, 1);
    fprintf(f,
            ",\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%d\",\"num_nodes\":\"%d\","
            "\"size_leaf_vector\":\"0\"}}",
            F, tr->n);
  }
  fputs("]},\"name\":\"gbtree\"},", f);
  fprintf(f,
          "\"learner_model_param\":{\"base_score\":\"%.8E\",\"boost_from_average\":\"1\",\"num_class\":\"0\","
          "\"num_feature\":\"%d\",\"num_target\":\"1\"},",
          (double)b->base_score, F);
  if (b->objective == GBDT_POISSON)
    fprintf(f, "\"objective\":{\"name\":\"count:poisson\",\"poisson_regression_param\":{\"max_delta_step\":\"%.8E\"}}",
            (double)(float)GBDT_POISSON_MAX_DELTA);
  else fputs("\"objective\":{\"name\":\"reg:squarederror\",\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}", f);
  fputs("},\"version\":[1,7,4]}\n", f);
  return ferror(f) ? sc_fail(SC_EIO, "writing gbdt_model.json failed: check free disk space") : SC_OK;
}
