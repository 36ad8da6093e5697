/* config.c: the key table, the INI reader (libinih) and --set overrides.
 *
 * One table drives everything: defaults, parsing, validation, the dump into
 * summary.json and docs/config.md. Adding a key means adding one row.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_STR, K_INT, K_DBL, K_BOOL, K_ENUM } ktype;

typedef struct {
  const char *section, *key;
  ktype type;
  size_t off, cap;       /* offset in sc_config; capacity for strings */
  const char *def;       /* default as text */
  double lo, hi;         /* numeric range (inclusive) */
  const char *choices;   /* K_ENUM: '|'-separated */
  const char *doc;
} kdesc;

#define S(sec, k, field, def, doc) {sec, k, K_STR, offsetof(sc_config, field), sizeof(((sc_config *)0)->field), def, 0, 0, NULL, doc}
#define I(sec, k, field, def, lo, hi, doc) {sec, k, K_INT, offsetof(sc_config, field), 0, def, lo, hi, NULL, doc}
#define D(sec, k, field, def, lo, hi, doc) {sec, k, K_DBL, offsetof(sc_config, field), 0, def, lo, hi, NULL, doc}
#define B(sec, k, field, def, doc) {sec, k, K_BOOL, offsetof(sc_config, field), 0, def, 0, 1, NULL, doc}
#define E(sec, k, field, def, ch, doc) {sec, k, K_ENUM, offsetof(sc_config, field), sizeof(((sc_config *)0)->field), def, 0, 0, ch, doc}

static const kdesc keys[] = {
    E("input", "layout", layout, "marketplace", "marketplace|online-retail|transactions", "input layout (DATA.md 1)"),
    S("input", "path", path, "", "folder (marketplace) or CSV file (others)"),
    S("input", "user", col_user, "", "transactions: column of the user id"),
    S("input", "date", col_date, "", "transactions: column of the date or timestamp"),
    S("input", "amount", col_amount, "", "transactions: column of the row's total (or use quantity and unit_price)"),
    S("input", "quantity", col_quantity, "", "transactions: column of the quantity (optional with amount)"),
    S("input", "unit_price", col_unit_price, "", "transactions: column of the unit price"),
    S("input", "order", col_order, "", "transactions: column of the order id (optional: each row is an order)"),
    S("input", "sku", col_sku, "", "transactions: column of the sku id (optional: no demand table without it)"),
    S("input", "region", col_region, "", "transactions: column of the region (optional: one region 'all')"),
    D("input", "max_reject_fraction", max_reject_fraction, "0.01", 0, 1, "share of malformed rows per file above which the run stops"),
    I("input", "max_record_lines", max_record_lines, "10000", 1, 1e9, "physical lines one quoted field may run over; a record still open after that many is a quoting error (DATA.md 7)"),
    I("generate", "users", gen_users, "0", 0, 4e12, "run: generate this many users into input.path first when it holds no data (0: never)"),
    I("generate", "seed", gen_seed, "42", 0, 9.2e18, "seed of the generated data set"),
    S("run", "out", out, "out", "output folder"),
    S("run", "store", store, "", "the HDF5 store (default: <run.out>/store.h5)"),
    S("run", "as_of", as_of, "", "analysis date YYYY-MM-DD (default: latest valid line + 1 day)"),
    I("run", "seed", seed, "42", 0, 9.2e18, "seed of every random choice"),
    D("run", "checkpoint_seconds", checkpoint_seconds, "60", 0, 1e9, "save training state at most this often (0: only when signalled)"),
    S("run", "checkpoint", checkpoint, "", "checkpoint file (default: <run.out>/checkpoint.h5)"),
    S("segment", "features", features, "recency_days,frequency,monetary", "clustering features, comma-separated"),
    S("segment", "k", k, "auto", "number of clusters, or auto to choose in [k_min, k_max]"),
    I("segment", "k_min", k_min, "2", 1, 1000, "smallest k tried"),
    I("segment", "k_max", k_max, "10", 1, 1000, "largest k tried"),
    I("segment", "n_init", n_init, "10", 1, 1000, "seedings tried per k; the best inertia is kept"),
    I("segment", "silhouette_sample", silhouette_sample, "10000", 2, 1e7, "customers in the silhouette sample"),
    I("segment", "max_iter", max_iter, "300", 1, 1e6, "Lloyd iterations at most"),
    D("segment", "tol", tol, "1e-4", 0, 1, "relative tolerance on centroid shift (as scikit-learn)"),
    B("forecast", "enabled", enabled, "true", "train the demand model"),
    I("forecast", "rounds", rounds, "300", 1, 1e6, "boosting rounds"),
    I("forecast", "max_depth", max_depth, "8", 1, 20, "tree depth"),
    D("forecast", "eta", eta, "0.1", 1e-6, 1, "learning rate"),
    I("forecast", "max_bin", max_bin, "256", 2, 65536, "histogram bins per feature"),
    D("forecast", "lambda", lambda, "1.0", 0, 1e9, "L2 regularisation of leaf weights"),
    D("forecast", "gamma", gamma, "0", 0, 1e12, "minimum loss reduction to split"),
    D("forecast", "min_child_weight", min_child_weight, "1.0", 0, 1e12, "minimum hessian sum in a child"),
    D("forecast", "subsample", subsample, "1.0", 1e-6, 1, "row subsampling per tree (keyed by row id and seed)"),
    D("forecast", "colsample", colsample, "1.0", 1e-6, 1, "feature subsampling per tree"),
    E("forecast", "objective", objective, "squarederror", "squarederror|poisson", "loss"),
    I("forecast", "test_days", test_days, "28", 1, 100000, "days at the end held out for testing"),
    I("forecast", "valid_days", valid_days, "28", 0, 100000, "days before the test window used for early stopping (0: none)"),
    I("forecast", "early_stopping_rounds", early_stopping_rounds, "0", 0, 1e6, "stop after this many rounds without validation gain (0: never)"),
    D("forecast", "service_level", service_level, "0.95", 0.5, 0.9999, "service level of the reorder point"),
    D("forecast", "lead_time_days", lead_time_days, "7", 0, 365, "replenishment lead time of the reorder point, days"),
    B("clv", "enabled", clv_enabled, "true", "fit the lifetime-value models (BG/NBD and Gamma-Gamma, docs/clv.md)"),
    I("clv", "unit_days", clv_unit_days, "7", 1, 3660, "days per time unit of the models (7: weeks, as the papers)"),
    I("clv", "holdout_days", clv_holdout_days, "0", 0, 100000, "days at the end kept out of the fit to test its predictions (0: none)"),
    I("clv", "horizon_days", clv_horizon_days, "365", 1, 100000, "days ahead of expected purchases and CLV (without a holdout)"),
    D("clv", "churn_threshold", clv_churn_threshold, "0.5", 0, 1, "a customer churned when P(alive) is below this"),
    D("clv", "annual_discount_rate", clv_discount_rate, "0", 0, 10, "discount rate a year of future purchases in CLV (0: none; docs/clv.md)"),
    B("output", "csv_raw_text", csv_raw_text, "false", "keep the input's text as it is in the CSVs; false: a text cell starting with one of =+-@, a tab or a CR gets a leading apostrophe (text, not a formula, to a spreadsheet: docs/bi.md)"),
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const kdesc *config_find(const char *section, const char *key) {
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key)) return &keys[i];
  return NULL;
}

/* Parses `value` into the field of `k`; `where` names the origin for errors. */
static sc_status config_put(sc_config *c, const kdesc *k, const char *value, const char *where) {
  char *field = (char *)c + k->off;
  char *end = NULL;
  switch (k->type) {
    case K_STR:
      if (strlen(value) >= k->cap)
        return sc_fail(SC_EUSAGE, "%s: %s.%s is too long (at most %zu characters)", where, k->section, k->key, k->cap - 1);
      strcpy(field, value);
      return SC_OK;
    case K_ENUM: {
      size_t n = strlen(value);
      const char *p = k->choices;
      while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, value, n)) {
          strcpy(field, value);
          return SC_OK;
        }
        p = bar ? bar + 1 : NULL;
      }
      return sc_fail(SC_EUSAGE, "%s: %s.%s = '%s' is not one of %s", where, k->section, k->key, value, k->choices);
    }
    case K_INT: {
      errno = 0;
      long long v = strtoll(value, &end, 10);
      if (!*value || *end || errno || (double)v < k->lo || (double)v > k->hi)
        return sc_fail(SC_EUSAGE, "%s: %s.%s = '%s' is not an integer in [%.0f, %.0f]", where, k->section, k->key, value,
                       k->lo, k->hi);
      *(int64_t *)field = v;
      return SC_OK;
    }
    case K_DBL: {
      errno = 0;
      double v = strtod(value, &end);
      if (!*value || *end || errno || !isfinite(v) || v < k->lo || v > k->hi)
        return sc_fail(SC_EUSAGE, "%s: %s.%s = '%s' is not a number in [%g, %g]", where, k->section, k->key, value, k->lo,
                       k->hi);
      *(double *)field = v;
      return SC_OK;
    }
    case K_BOOL:
      if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes")) *(int *)field = 1;
      else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no")) *(int *)field = 0;
      else return sc_fail(SC_EUSAGE, "%s: %s.%s = '%s' is not true or false", where, k->section, k->key, value);
      return SC_OK;
  }
  return SC_EINTERNAL;
}

void config_defaults(sc_config *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < NKEYS; i++) config_put(c, &keys[i], keys[i].def, "default");
}

/* Debian's libinih passes no line numbers to the handler, so the reader
 * counts the lines it hands over. */
typedef struct {
  sc_config *c;
  const char *path;
  sc_status s;
  FILE *fp;
  int line;
} ini_ctx;

static char *config_ini_reader(char *str, int num, void *stream) {
  ini_ctx *x = stream;
  char *r = fgets(str, num, x->fp);
  if (r) x->line++;
  return r;
}

static int config_ini_cb(void *user, const char *section, const char *name, const char *value) {
  ini_ctx *x = user;
  int lineno = x->line;
  if (x->s) return 1;
  char where[SC_PATH_MAX + 32];
  snprintf(where, sizeof where, "%s line %d", x->path, lineno);
  const kdesc *k = config_find(section, name);
  if (!k) {
    x->s = sc_fail(SC_EUSAGE, "%s: unknown key %s.%s (segcast keys lists every key)", where, section, name);
    return 1;
  }
  x->s = config_put(x->c, k, value, where);
  return 1;
}

sc_status config_load(sc_config *c, const char *path) {
  ini_ctx x = {c, path, SC_OK, fopen(path, "r"), 0};
  if (!x.fp) return sc_fail(SC_EUSAGE, "cannot open configuration %s: check the path", path);
  int rc = ini_parse_stream(config_ini_reader, &x, config_ini_cb, &x);
  fclose(x.fp);
  if (x.s) return x.s;
  if (rc != 0) return sc_fail(SC_EUSAGE, "%s line %d: not INI syntax (expected [section] or key = value)", path, rc);
  return SC_OK;
}

sc_status config_set(sc_config *c, const char *a) {
  const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
  if (!dot || !eq || dot > eq)
    return sc_fail(SC_EUSAGE, "--set %s: expected section.key=value", a);
  char section[64], key[64];
  size_t ls = (size_t)(dot - a), lk = (size_t)(eq - dot - 1);
  if (ls >= sizeof section || lk >= sizeof key) return sc_fail(SC_EUSAGE, "--set %s: key name too long", a);
  memcpy(section, a, ls);
  section[ls] = 0;
  memcpy(key, dot + 1, lk);
  key[lk] = 0;
  const kdesc *k = config_find(section, key);
  if (!k) return sc_fail(SC_EUSAGE, "--set: unknown key %s.%s (segcast keys lists every key)", section, key);
  return config_put(c, k, eq + 1, "--set");
}

sc_status config_validate(const sc_config *c) {
  if (c->k_min > c->k_max)
    return sc_fail(SC_EUSAGE, "segment.k_min (%lld) is above segment.k_max (%lld)", (long long)c->k_min, (long long)c->k_max);
  if (strcmp(c->k, "auto")) {
    char *end;
    long v = strtol(c->k, &end, 10);
    if (*end || v < 1 || v > 1000) return sc_fail(SC_EUSAGE, "segment.k = '%s' is neither auto nor a number in [1, 1000]", c->k);
  } else if (c->k_min < 2) {
    return sc_fail(SC_EUSAGE, "segment.k_min must be at least 2 when segment.k = auto");
  }
  if (c->as_of[0]) {
    int y, m, d;
    char tail;
    if (sscanf(c->as_of, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(c->as_of) != 10)
      return sc_fail(SC_EUSAGE, "run.as_of = '%s' is not a date YYYY-MM-DD", c->as_of);
  }
  if (!strcmp(c->layout, "transactions")) {
    if (!c->col_user[0] || !c->col_date[0])
      return sc_fail(SC_EUSAGE, "transactions layout: set input.user and input.date to the column names");
    if (!c->col_amount[0] && !(c->col_quantity[0] && c->col_unit_price[0]))
      return sc_fail(SC_EUSAGE, "transactions layout: set input.amount, or input.quantity and input.unit_price");
  }
  return SC_OK;
}

static void config_value_text(const sc_config *c, const kdesc *k, char *buf, size_t cap) {
  const char *field = (const char *)c + k->off;
  switch (k->type) {
    case K_STR:
    case K_ENUM: snprintf(buf, cap, "%s", field); break;
    case K_INT: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)field); break;
    case K_DBL: snprintf(buf, cap, "%.15g", *(const double *)field); break;
    case K_BOOL: snprintf(buf, cap, "%s", *(const int *)field ? "true" : "false"); break;
  }
}

void config_each(const sc_config *c, void (*fn)(void *, const char *, const char *, const char *, const char *), void *ctx) {
  char v[SC_PATH_MAX + 32];
  for (size_t i = 0; i < NKEYS; i++) {
    config_value_text(c, &keys[i], v, sizeof v);
    fn(ctx, keys[i].section, keys[i].key, v, keys[i].doc);
  }
}

size_t config_dump(const sc_config *c, char *buf, size_t cap) {
  size_t n = 0;
  const char *sec = "";
  char v[SC_PATH_MAX + 32];
  for (size_t i = 0; i < NKEYS; i++) {
    if (strcmp(sec, keys[i].section)) {
      sec = keys[i].section;
      n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "[%s]\n", sec);
    }
    config_value_text(c, &keys[i], v, sizeof v);
    n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%s = %s\n", keys[i].key, v);
  }
  return n;
}

/* ---- the key table as documentation: `segcast keys` ------------------- */

/* A range bound as docs/config.md writes it: %g without the exponent's
 * sign and leading zeros (4e12, 1e-6, 100000). */
static void config_bound_text(double v, char *buf, size_t cap) {
  char g[32];
  snprintf(g, sizeof g, "%g", v);
  size_t n = 0;
  for (const char *p = g; *p && n + 1 < cap; p++) {
    if (*p == 'e') {
      buf[n++] = 'e';
      if (p[1] == '+') p++;
      else if (p[1] == '-' && n + 1 < cap) buf[n++] = *++p;
      while (p[1] == '0' && p[2]) p++;
      continue;
    }
    buf[n++] = *p;
  }
  buf[n] = 0;
}

/* The type column: text, integer in [lo, hi], number in [lo, hi],
 * true/false, or one of a, b, c. */
static void config_type_text(const kdesc *k, char *buf, size_t cap) {
  char lo[32], hi[32];
  config_bound_text(k->lo, lo, sizeof lo);
  config_bound_text(k->hi, hi, sizeof hi);
  switch (k->type) {
    case K_STR: snprintf(buf, cap, "text"); break;
    case K_BOOL: snprintf(buf, cap, "true/false"); break;
    case K_INT: snprintf(buf, cap, "integer in [%s, %s]", lo, hi); break;
    case K_DBL: snprintf(buf, cap, "number in [%s, %s]", lo, hi); break;
    case K_ENUM: {
      size_t n = (size_t)snprintf(buf, cap, "one of ");
      for (const char *p = k->choices; *p && n + 3 < cap; p++) {
        if (*p == '|') {
          buf[n++] = ',';
          buf[n++] = ' ';
        } else {
          buf[n++] = *p;
        }
      }
      buf[n] = 0;
      break;
    }
  }
}

/* Text for roff: backslashes and hyphens escaped; `\&` first so that a
 * line never starts with a control character. */
static void config_man_text(FILE *f, const char *s) {
  fputs("\\&", f);
  for (; *s; s++) {
    if (*s == '\\') fputs("\\e", f);
    else if (*s == '-') fputs("\\-", f);
    else fputc(*s, f);
  }
}

/* Markdown table cells: a '|' would end the cell. */
static void config_md_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '|') fputc('\\', f);
    fputc(*s, f);
  }
}

sc_status config_write_keys(FILE *f, const char *format) {
  int md = !strcmp(format, "markdown"), man = !strcmp(format, "man"), ini = !strcmp(format, "ini");
  if (!md && !man && !ini)
    return sc_fail(SC_EUSAGE, "segcast keys: --format '%s' is not one of ini, markdown, man", format);
  if (ini)
    fputs("; Every segcast configuration key with its default (`segcast keys`).\n"
          "; Relative paths are read from the folder segcast starts in: under Slurm,\n"
          "; the folder sbatch was run from.\n",
          f);
  const char *sec = "";
  char type[256];
  for (size_t i = 0; i < NKEYS; i++) {
    const kdesc *k = &keys[i];
    config_type_text(k, type, sizeof type);
    if (strcmp(sec, k->section)) {
      if (md) fprintf(f, "%s## [%s]\n\n| key | type | default | meaning |\n|---|---|---|---|\n", *sec ? "\n" : "", k->section);
      else if (man) fprintf(f, ".SS [%s]\n", k->section);
      else fprintf(f, "\n[%s]\n", k->section);
      sec = k->section;
    }
    if (md) {
      fprintf(f, "| `%s.%s` | ", k->section, k->key);
      config_md_text(f, type);
      if (k->def[0]) fprintf(f, " | `%s` | ", k->def);
      else fputs(" | (empty) | ", f);
      config_md_text(f, k->doc);
      fputs(" |\n", f);
    } else if (man) {
      fprintf(f, ".TP\n\\fB%s.%s\\fR \\(em ", k->section, k->key);
      config_man_text(f, type);
      fputs("; default ", f);
      if (k->def[0]) {
        fputs("\\fB", f);
        config_man_text(f, k->def);
        fputs("\\fR", f);
      } else {
        fputs("empty", f);
      }
      fputc('\n', f);
      config_man_text(f, k->doc);
      fputc('\n', f);
    } else {
      fprintf(f, "; %s\n; type: %s\n%s = %s\n", k->doc, type, k->key, k->def);
    }
  }
  return ferror(f) ? sc_fail(SC_EIO, "segcast keys: cannot write the key list (%s)", strerror(errno)) : SC_OK;
}
