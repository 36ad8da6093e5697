/* report.c: report.html, one self-contained page an analyst opens anywhere.
 *
 * stage_report (rank 0) reads what the run left in the output folder: the
 * summary (run->summary; `segcast report` loads summary.json into it) and
 * the CSVs of segmentation, forecasting and insights. It writes one HTML
 * file holding
 *   - the static parts: KPI cards and tables, every number formatted here
 *     from the summary's value or the CSV's text (the element carries the
 *     raw value in data-value, so a test can compare them);
 *   - the data of every chart as one JSON block (the CSV tables as they
 *     are, plus the forecast's top series and daily totals);
 *   - Debian's Chart.js, read from its installed path and inlined, and the
 *     page's own script (report_assets.h) that draws the charts.
 * A Content-Security-Policy forbids every network request; a section whose
 * input file is absent says so instead of drawing an empty chart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_assets.h"
#include "report_csv.h"
#include "stages.h"

#define CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#define FORECAST_SERIES 4

/* The CSVs the page reads, in the order of its sections. */
enum {
  T_MODEL, T_PROFILES, T_RFM_GRID, T_RFM_SEGMENTS, T_MONTHLY, T_SEASON_MONTH, T_SEASON_WEEKDAY, T_COHORT, T_LORENZ,
  T_CONCENTRATION, T_TOP_PRODUCTS, T_TOP_REGIONS, T_IMPORTANCE, T_CLV_PALIVE, T_CLV_LORENZ, T_CLV_CALIBRATION,
  T_CLV_TRACKING, T_COUNT
};
static const char *const table_files[T_COUNT] = {
    "model_selection.csv", "segment_profiles.csv",  "rfm_grid.csv",         "rfm_segments.csv",
    "monthly_revenue.csv", "seasonality_month.csv", "seasonality_weekday.csv", "cohort_retention.csv",
    "lorenz.csv",          "revenue_concentration.csv", "top_products.csv", "top_regions.csv",
    "feature_importance.csv", "clv_p_alive.csv", "clv_lorenz.csv", "clv_calibration.csv", "clv_tracking.csv"};

typedef struct {
  const sc_run *run;
  FILE *f;
  rtable t[T_COUNT];
  int have[T_COUNT];  ///< 1: rows to show; -1: the file has a header only; 0: absent
  json_t *data;       ///< the page's JSON block
  json_t *summary;    ///< the run's summary at summary.json's precision
} report;

/* A table with rows to show (an empty file is said, not drawn). */
#define HAVE(which) (r->have[which] > 0)

/* ---- text ------------------------------------------------------------------ */

static void html(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&#39;", f); break;
      default: fputc(*s, f);
    }
  }
}

/* Digits of a fixed-point text with thousands separators: "1234567.5" ->
 * "1,234,567.5". */
static char *group_thousands(const char *in, char *out, size_t cap) {
  const char *dot = strchr(in, '.');
  size_t lead = (size_t)((in[0] == '-') ? 1 : 0), ip = (dot ? (size_t)(dot - in) : strlen(in)) - lead, o = 0;
  if (lead && o + 1 < cap) out[o++] = '-';
  for (size_t i = 0; i < ip && o + 2 < cap; i++) {
    if (i && (ip - i) % 3 == 0) out[o++] = ',';
    out[o++] = in[lead + i];
  }
  if (dot)
    for (const char *p = dot; *p && o + 1 < cap; p++) out[o++] = *p;
  out[o] = 0;
  return out;
}

/* The formats of the page's numbers (tests/e2e/report_numbers.py mirrors
 * them): money "1,234.50", count "1,234", share as percent "12.3 %" or
 * "12.34 %", plain "0.123". */
typedef enum { F_MONEY, F_INT, F_PCT1, F_PCT2, F_DEC3 } num_fmt;

static char *format_number(double v, num_fmt how, char *out, size_t cap) {
  char t[64];
  switch (how) {
    case F_MONEY:
      snprintf(t, sizeof t, "%.2f", v);
      return group_thousands(t, out, cap);
    case F_INT:
      snprintf(t, sizeof t, "%.0f", v);
      return group_thousands(t, out, cap);
    case F_PCT1: snprintf(out, cap, "%.1f %%", 100.0 * v); return out;
    case F_PCT2: snprintf(out, cap, "%.2f %%", 100.0 * v); return out;
    case F_DEC3: snprintf(out, cap, "%.3f", v); return out;
  }
  return out;
}

/* A CSV cell as the tables show it: the text itself, except numbers with
 * more than four decimals, which are rounded to four. */
static const char *format_cell(const char *text, char *out, size_t cap) {
  if (!report_is_number(text) || strpbrk(text, "eE")) return text;
  const char *dot = strchr(text, '.');
  if (!dot || strlen(dot + 1) <= 4) return text;
  snprintf(out, cap, "%.4f", strtod(text, NULL));
  return out;
}

/* The summary value at a dotted path ("insights.kpis.revenue"), or NULL. */
static json_t *jpath(json_t *root, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *o = root;
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
    o = json_is_object(o) ? json_object_get(o, k) : NULL;
  return o;
}

/* A KPI card from a summary value; absent values say so. */
static void card(report *r, const char *key, const char *label, num_fmt how, const char *note) {
  json_t *v = jpath(r->summary, key);
  char t[64];
  fputs("<div class=\"kpi\"><div class=\"kpi-label\">", r->f);
  html(r->f, label);
  fprintf(r->f, "</div><div class=\"kpi-value\" data-key=\"%s\"", key);
  if (json_is_number(v)) fprintf(r->f, " data-value=\"%.17g\"", json_number_value(v));
  fputs(">", r->f);
  html(r->f, json_is_number(v) ? format_number(json_number_value(v), how, t, sizeof t) : "n/a");
  fputs("</div>", r->f);
  if (note) {
    fputs("<div class=\"kpi-note\">", r->f);
    html(r->f, note);
    fputs("</div>", r->f);
  }
  fputs("</div>\n", r->f);
}

/* A card with a value computed here (data-value carries it). */
static void card_value(report *r, const char *key, const char *label, double v, num_fmt how, const char *note) {
  char t[64];
  fputs("<div class=\"kpi\"><div class=\"kpi-label\">", r->f);
  html(r->f, label);
  fprintf(r->f, "</div><div class=\"kpi-value\" data-key=\"%s\" data-value=\"%.17g\">", key, v);
  html(r->f, format_number(v, how, t, sizeof t));
  fputs("</div>", r->f);
  if (note) {
    fputs("<div class=\"kpi-note\">", r->f);
    html(r->f, note);
    fputs("</div>", r->f);
  }
  fputs("</div>\n", r->f);
}

/* A CSV table as HTML, all columns or the listed ones, at most max_rows. */
static void table_html(report *r, int which, const char *const *only, int64_t max_rows) {
  const rtable *t = &r->t[which];
  int idx[64], n = 0;
  if (only) {
    for (const char *const *c = only; *c && n < 64; c++) {
      int i = rtable_col(t, *c);
      if (i >= 0) idx[n++] = i;
    }
  } else {
    for (int c = 0; c < t->ncol && n < 64; c++) idx[n++] = c;
  }
  fprintf(r->f, "<div class=\"tablewrap\"><table data-src=\"%s\"><thead><tr>", table_files[which]);
  for (int c = 0; c < n; c++) {
    fprintf(r->f, "<th data-col=\"");
    html(r->f, t->cols[idx[c]]);
    fputs("\">", r->f);
    html(r->f, t->cols[idx[c]]);
    fputs("</th>", r->f);
  }
  fputs("</tr></thead><tbody>\n", r->f);
  for (int64_t i = 0; i < t->nrow && i < max_rows; i++) {
    fputs("<tr>", r->f);
    for (int c = 0; c < n; c++) {
      char b[64];
      const char *v = rtable_cell(t, i, idx[c]);
      fputs(report_is_number(v) ? "<td class=\"num\">" : "<td>", r->f);
      html(r->f, format_cell(v, b, sizeof b));
      fputs("</td>", r->f);
    }
    fputs("</tr>\n", r->f);
  }
  fputs("</tbody></table></div>\n", r->f);
}

static void missing(report *r, const char *what) {
  fputs("<p class=\"missing\">Not available: ", r->f);
  html(r->f, what);
  fputs("</p>\n", r->f);
}

static void missing_file(report *r, int which, const char *why) {
  char b[512];
  if (r->have[which] < 0) snprintf(b, sizeof b, "%s in %s has no rows (no sales to show).", table_files[which], r->run->cfg.out);
  else snprintf(b, sizeof b, "%s is absent in %s (%s).", table_files[which], r->run->cfg.out, why);
  missing(r, b);
}

/* A chart's place on the page (the script draws it); tall for long lists. */
static void canvas(report *r, const char *id, const char *kind, int tall) {
  fprintf(r->f, "<div class=\"chart%s\"><canvas id=\"%s\" data-chart=\"%s\" role=\"img\"></canvas></div>\n",
          tall ? " tall" : "", id, kind);
}

static void section_open(report *r, const char *id, const char *title, const char *intro) {
  fprintf(r->f, "<section id=\"%s\"><h2>", id);
  html(r->f, title);
  fputs("</h2>\n", r->f);
  if (intro) {
    fputs("<p class=\"intro\">", r->f);
    html(r->f, intro);
    fputs("</p>\n", r->f);
  }
}

/* ---- sections ---------------------------------------------------------------- */

static void section_kpis(report *r) {
  section_open(r, "kpis", "Key figures",
               "Sales are the valid lines of DATA.md (quantity and price above zero, not cancelled, a product); "
               "a customer is a user id with at least one sale.");
  json_t *k = jpath(r->summary, "insights.kpis");
  fputs("<div class=\"kpis\">\n", r->f);
  if (k) {
    card(r, "insights.kpis.revenue", "Revenue", F_MONEY, "sum of quantity x price of the sales");
    card(r, "insights.kpis.orders", "Orders", F_INT, "distinct order ids among the sales");
    card(r, "insights.kpis.customers", "Customers", F_INT, "user ids with at least one sale");
    card(r, "insights.kpis.avg_order_value", "Average order value", F_MONEY, "revenue / orders");
    card(r, "insights.kpis.return_rate", "Return rate", F_PCT2, "return lines / sale lines");
  }
  /* data quality: rows of every input file */
  json_t *files = jpath(r->summary, "input.files");
  double rd = 0, ld = 0, rj = 0;
  const char *name;
  json_t *v;
  json_object_foreach(files, name, v) {
    rd += json_number_value(json_object_get(v, "read"));
    ld += json_number_value(json_object_get(v, "loaded"));
    rj += json_number_value(json_object_get(v, "rejected"));
  }
  if (files) {
    card_value(r, "input.read", "Rows read", rd, F_INT, "data rows of the input files");
    card_value(r, "input.loaded", "Rows loaded", ld, F_INT, "rows that could be read");
    card_value(r, "input.rejected", "Rows rejected", rj, F_INT, "malformed rows, listed in rejects.csv");
  }
  fputs("</div>\n", r->f);
  if (!k) missing(r, "summary.json has no \"insights\" (the insights stage did not run for this folder).");
  if (files && json_object_size(files) > 0) {
    /* physical lines beside rows (DATA.md 7: lines = 1 + blank + read +
     * continuation lines); a store of before that accounting has no lines */
    static const char *const keys[] = {"lines", "blank", "continuation_lines", "read", "loaded", "rejected"};
    fputs("<div class=\"tablewrap\"><table data-src=\"summary:input.files\"><thead><tr><th>file</th><th>lines</th>"
          "<th>blank lines</th><th>continuation lines</th><th>rows read</th><th>loaded</th><th>rejected</th></tr>"
          "</thead><tbody>\n",
          r->f);
    json_object_foreach(files, name, v) {
      fputs("<tr><td>", r->f);
      html(r->f, name);
      fputs("</td>", r->f);
      for (int i = 0; i < 6; i++) {
        char a[64];
        json_t *x = json_object_get(v, keys[i]);
        fprintf(r->f, "<td class=\"num\">%s</td>", x ? format_number(json_number_value(x), F_INT, a, sizeof a) : "");
      }
      fputs("</tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);
  } else {
    missing(r, "summary.json has no \"input\" row counts (the ingest stage did not run for this folder).");
  }
  fputs("</section>\n", r->f);
}

static void section_model(report *r) {
  section_open(r, "model", "Model selection",
               "k-means on the standardized log1p features, one fit per k; the chosen k is marked.");
  if (HAVE(T_MODEL)) {
    fputs("<div class=\"kpis\">\n", r->f);
    card(r, "segment.k", "Chosen k", F_INT, NULL);
    card(r, "segment.silhouette", "Silhouette at the chosen k", F_DEC3, "-1 to 1, higher is better");
    fputs("</div>\n", r->f);
    fputs("<div class=\"grid2\">\n", r->f);
    canvas(r, "c-elbow", "elbow", 0);
    canvas(r, "c-silhouette", "silhouette", 0);
    fputs("</div>\n", r->f);
    table_html(r, T_MODEL, NULL, 1000);
  } else {
    missing_file(r, T_MODEL, "segmentation did not run");
  }
  fputs("</section>\n", r->f);
}

static void section_segments(report *r) {
  section_open(r, "segments", "Segments",
               "Clusters with their size, share of revenue, profile, name and recommended action; then the "
               "rule-based RFM segments.");
  if (HAVE(T_PROFILES)) {
    fputs("<div class=\"grid2\">\n", r->f);
    canvas(r, "c-segment-size", "segment-size", 0);
    canvas(r, "c-segment-share", "segment-share", 0);
    fputs("</div>\n", r->f);
    const rtable *t = &r->t[T_PROFILES];
    int cn = rtable_col(t, "cluster_name"), cc = rtable_col(t, "cluster"), cu = rtable_col(t, "customers");
    static const char *const action_words[] = {"action", NULL};
    int ca = rtable_col_like(t, action_words);
    if (cn >= 0) {
      fputs("<ul class=\"segments\">\n", r->f);
      for (int64_t i = 0; i < t->nrow; i++) {
        fputs("<li><b>", r->f);
        html(r->f, rtable_cell(t, i, cn));
        fputs("</b>", r->f);
        if (cc >= 0 || cu >= 0) {
          char b[64];
          fputs(" <span class=\"muted\">(", r->f);
          if (cc >= 0) {
            fputs("cluster ", r->f);
            html(r->f, rtable_cell(t, i, cc));
          }
          if (cu >= 0 && report_is_number(rtable_cell(t, i, cu))) {
            fprintf(r->f, "%s%s customers", cc >= 0 ? ", " : "",
                    format_number(strtod(rtable_cell(t, i, cu), NULL), F_INT, b, sizeof b));
          }
          fputs(")</span>", r->f);
        }
        if (ca >= 0) {
          fputs(": ", r->f);
          html(r->f, rtable_cell(t, i, ca));
        }
        fputs("</li>\n", r->f);
      }
      fputs("</ul>\n", r->f);
    }
    fputs("<h3>Profiles</h3>\n", r->f);
    table_html(r, T_PROFILES, NULL, 1000);
  } else {
    missing_file(r, T_PROFILES, "segmentation did not run");
  }
  fputs("<h3>RFM grid and rule-based segments</h3>\n", r->f);
  if (HAVE(T_RFM_GRID) || HAVE(T_RFM_SEGMENTS)) {
    fputs("<div class=\"grid2\">\n", r->f);
    if (HAVE(T_RFM_GRID)) canvas(r, "c-rfm-grid", "rfm-grid", 0);
    if (HAVE(T_RFM_SEGMENTS)) canvas(r, "c-rfm-segments", "rfm-segments", 0);
    fputs("</div>\n", r->f);
  }
  if (!HAVE(T_RFM_GRID)) missing_file(r, T_RFM_GRID, "segmentation did not run");
  if (HAVE(T_RFM_SEGMENTS)) table_html(r, T_RFM_SEGMENTS, NULL, 1000);
  else missing_file(r, T_RFM_SEGMENTS, "segmentation did not run");
  fputs("</section>\n", r->f);
}

/* Lifetime value (docs/clv.md): the models' figures, P(alive), CLV by
 * segment, its concentration, and with a holdout the papers' two checks. */
static void section_clv(report *r) {
  section_open(r, "clv", "Customer lifetime value and churn",
               "BG/NBD (purchases and dropout) and Gamma-Gamma (transaction value) fitted to every customer; "
               "P(alive) is the chance a customer still buys, churned means P(alive) below the threshold, CLV is "
               "expected purchases over the horizon times the expected transaction value.");
  json_t *c = jpath(r->summary, "clv");
  if (!c) {
    missing(r, "summary.json has no \"clv\" (clv.enabled = false, or the stage did not run).");
    fputs("</section>\n", r->f);
    return;
  }
  fputs("<div class=\"kpis\">\n", r->f);
  card(r, "clv.customers", "Customers modelled", F_INT, "a valid line by the calibration end");
  card(r, "clv.mean_p_alive", "Mean P(alive)", F_PCT1, "chance a customer still buys");
  card(r, "clv.churned_share", "Churned", F_PCT1, "P(alive) below clv.churn_threshold");
  card(r, "clv.expected_clv", "Expected CLV", F_MONEY, "all customers, over the horizon");
  if (jpath(r->summary, "clv.holdout")) {
    card(r, "clv.holdout.predicted", "Holdout: predicted purchases", F_MONEY, "the model, from calibration alone");
    card(r, "clv.holdout.actual", "Holdout: actual purchases", F_INT, "transactions in the holdout days");
  }
  fputs("</div>\n", r->f);
  static const char *const models[2] = {"bgnbd", "gamma_gamma"}, *const titles[2] = {"BG/NBD", "Gamma-Gamma"};
  static const char *const params[2][5] = {{"r", "alpha", "a", "b", NULL}, {"p", "q", "gamma", NULL, NULL}};
  fputs("<div class=\"tablewrap\"><table data-src=\"summary:clv\"><thead><tr><th>model</th><th>parameters</th>"
        "<th>log-likelihood</th><th>status</th></tr></thead><tbody>\n",
        r->f);
  for (int m = 0; m < 2; m++) {
    char key[96], t[64];
    snprintf(key, sizeof key, "clv.%s.fitted", models[m]);
    int fitted = json_is_true(jpath(r->summary, key));
    fprintf(r->f, "<tr><td>%s</td><td>", titles[m]);
    for (int i = 0, shown = 0; fitted && params[m][i]; i++) {
      snprintf(key, sizeof key, "clv.%s.%s", models[m], params[m][i]);
      json_t *v = jpath(r->summary, key);
      if (!json_is_number(v)) continue; /* b at the a = 0 boundary */
      fprintf(r->f, "%s%s = <span data-key=\"%s\" data-value=\"%.17g\">%s</span>", shown ? ", " : "", params[m][i], key,
              json_number_value(v), format_number(json_number_value(v), F_DEC3, t, sizeof t));
      shown++;
    }
    fputs("</td><td class=\"num\">", r->f);
    snprintf(key, sizeof key, "clv.%s.log_likelihood", models[m]);
    json_t *ll = jpath(r->summary, key);
    if (fitted && json_is_number(ll))
      fprintf(r->f, "<span data-key=\"%s\" data-value=\"%.17g\">%s</span>", key, json_number_value(ll),
              format_number(json_number_value(ll), F_MONEY, t, sizeof t));
    fputs("</td><td>", r->f);
    snprintf(key, sizeof key, "clv.%s.reason", models[m]);
    json_t *why = jpath(r->summary, key);
    snprintf(key, sizeof key, "clv.%s.boundary", models[m]);
    json_t *edge = jpath(r->summary, key);
    if (fitted && json_is_string(edge)) {
      fputs("fitted at a boundary: ", r->f);
      html(r->f, json_string_value(edge));
    } else if (fitted) fputs("fitted", r->f);
    else {
      fputs("not fitted: ", r->f);
      html(r->f, json_is_string(why) ? json_string_value(why) : "no reason recorded");
    }
    fputs("</td></tr>\n", r->f);
  }
  fputs("</tbody></table></div>\n", r->f);
  fputs("<div class=\"grid2\">\n", r->f);
  if (HAVE(T_CLV_PALIVE)) canvas(r, "c-clv-p-alive", "clv-p-alive", 0);
  if (HAVE(T_CLV_LORENZ)) canvas(r, "c-clv-lorenz", "clv-lorenz", 0);
  int seg_clv = HAVE(T_PROFILES) && rtable_col(&r->t[T_PROFILES], "clv_total") >= 0;
  int rfm_clv = HAVE(T_RFM_SEGMENTS) && rtable_col(&r->t[T_RFM_SEGMENTS], "clv_total") >= 0;
  if (seg_clv) canvas(r, "c-clv-clusters", "clv-clusters", 0);
  if (rfm_clv) canvas(r, "c-clv-rfm", "clv-rfm", 0);
  if (HAVE(T_CLV_CALIBRATION)) canvas(r, "c-clv-calibration", "clv-calibration", 0);
  if (HAVE(T_CLV_TRACKING)) canvas(r, "c-clv-tracking", "clv-tracking", 0);
  fputs("</div>\n", r->f);
  if (!HAVE(T_CLV_PALIVE)) missing_file(r, T_CLV_PALIVE, "the clv stage did not run");
  if (!HAVE(T_CLV_LORENZ))
    missing(r, "The Lorenz curve of CLV needs every customer's CLV: a model could not be fitted (see the table above).");
  if (!seg_clv && !rfm_clv) missing(r, "CLV by segment needs the segmentation's outputs in this folder.");
  if (!jpath(r->summary, "clv.holdout"))
    missing(r, "The calibration and tracking charts need a holdout: set clv.holdout_days (docs/clv.md).");
  else if (!HAVE(T_CLV_TRACKING)) missing_file(r, T_CLV_TRACKING, "BG/NBD could not be fitted");
  fputs("</section>\n", r->f);
}

static void section_concentration(report *r) {
  section_open(r, "concentration", "Revenue concentration",
               "Customers sorted by their revenue (monetary): the Lorenz curve gives the share of revenue of the "
               "bottom x % of customers; the cards give the share of the top ones.");
  if (jpath(r->summary, "insights.concentration")) {
    fputs("<div class=\"kpis\">\n", r->f);
    static const int pcts[4] = {1, 5, 10, 20};
    for (int q = 0; q < 4; q++) {
      char key[64], label[64];
      snprintf(key, sizeof key, "insights.concentration.top_%d_pct", pcts[q]);
      snprintf(label, sizeof label, "Top %d %% of customers bring", pcts[q]);
      card(r, key, label, F_PCT1, "of customer revenue");
    }
    fputs("</div>\n", r->f);
  }
  if (HAVE(T_LORENZ)) canvas(r, "c-lorenz", "lorenz", 0);
  else missing_file(r, T_LORENZ, "the insights stage did not run");
  fputs("</section>\n", r->f);
}

static void section_cohorts(report *r) {
  section_open(r, "cohorts", "Cohort retention",
               "Customers grouped by the month of their first purchase; each cell is the share of the cohort that "
               "bought again k months later (the last month of the data may be partial).");
  if (jpath(r->summary, "insights.cohort_retention")) {
    fputs("<div class=\"kpis\">\n", r->f);
    card(r, "insights.cohort_retention.month_1", "Retention after 1 month", F_PCT1, "all cohorts, weighted");
    card(r, "insights.cohort_retention.month_3", "Retention after 3 months", F_PCT1, "all cohorts, weighted");
    card(r, "insights.cohort_retention.month_6", "Retention after 6 months", F_PCT1, "all cohorts, weighted");
    fputs("</div>\n", r->f);
  }
  if (HAVE(T_COHORT)) canvas(r, "c-cohort", "cohort", 1);
  else missing_file(r, T_COHORT, "the insights stage did not run");
  fputs("</section>\n", r->f);
}

static void section_monthly(report *r) {
  section_open(r, "monthly", "Monthly revenue and seasonality", NULL);
  json_t *pm = jpath(r->summary, "insights.seasonality.peak_month_name");
  if (json_is_string(pm)) {
    fputs("<p>Peak month of the year: <b data-key=\"insights.seasonality.peak_month_name\">", r->f);
    html(r->f, json_string_value(pm));
    json_t *pw = jpath(r->summary, "insights.seasonality.peak_weekday_name");
    fputs("</b>; peak day of the week: <b data-key=\"insights.seasonality.peak_weekday_name\">", r->f);
    html(r->f, json_is_string(pw) ? json_string_value(pw) : "n/a");
    fputs("</b>.</p>\n", r->f);
  }
  if (HAVE(T_MONTHLY)) canvas(r, "c-monthly", "monthly", 0);
  else missing_file(r, T_MONTHLY, "the insights stage did not run");
  if (HAVE(T_SEASON_MONTH) || HAVE(T_SEASON_WEEKDAY)) {
    fputs("<div class=\"grid2\">\n", r->f);
    if (HAVE(T_SEASON_MONTH)) canvas(r, "c-season-month", "season-month", 0);
    if (HAVE(T_SEASON_WEEKDAY)) canvas(r, "c-season-weekday", "season-weekday", 0);
    fputs("</div>\n", r->f);
  }
  fputs("</section>\n", r->f);
}

static void section_top(report *r) {
  static const char *const pcols[] = {"rank", "sku_id", "revenue", "revenue_share", "units", "customers", NULL};
  static const char *const rcols[] = {"rank", "region_id", "revenue", "revenue_share", "units", "customers", NULL};
  section_open(r, "top", "Top products and regions", "By revenue of the sales; shares are of all revenue.");
  if (HAVE(T_TOP_PRODUCTS) || HAVE(T_TOP_REGIONS)) {
    fputs("<div class=\"grid2\">\n", r->f);
    if (HAVE(T_TOP_PRODUCTS)) canvas(r, "c-top-products", "top-products", 1);
    if (HAVE(T_TOP_REGIONS)) canvas(r, "c-top-regions", "top-regions", 1);
    fputs("</div>\n<div class=\"grid2\">\n<div>", r->f);
    if (HAVE(T_TOP_PRODUCTS)) table_html(r, T_TOP_PRODUCTS, pcols, 1000);
    fputs("</div><div>", r->f);
    if (HAVE(T_TOP_REGIONS)) table_html(r, T_TOP_REGIONS, rcols, 1000);
    fputs("</div>\n</div>\n", r->f);
  }
  if (!HAVE(T_TOP_PRODUCTS)) missing_file(r, T_TOP_PRODUCTS, "the data set has no product column, or insights did not run");
  if (!HAVE(T_TOP_REGIONS)) missing_file(r, T_TOP_REGIONS, "the insights stage did not run");
  fputs("</section>\n", r->f);
}

static void section_forecast(report *r, int have_forecast) {
  section_open(r, "forecast", "Demand forecast",
               "Boosted trees on the demand table, tested on the last days of the data against the seasonal-naive "
               "baseline (units 7 days earlier).");
  if (jpath(r->summary, "forecast.r2")) {
    fputs("<div class=\"tablewrap\"><table data-src=\"summary:forecast\"><thead><tr><th>test window</th><th>R²</th>"
          "<th>RMSE (units)</th><th>WAPE</th></tr></thead><tbody>\n",
          r->f);
    static const char *const who[2] = {"model", "baseline"};
    static const char *const pre[2] = {"forecast.", "forecast.baseline."};
    for (int w = 0; w < 2; w++) {
      fprintf(r->f, "<tr><td>%s</td>", who[w]);
      static const char *const m[3] = {"r2", "rmse", "wape"};
      for (int i = 0; i < 3; i++) {
        char key[64], t[64];
        snprintf(key, sizeof key, "%s%s", pre[w], m[i]);
        json_t *v = jpath(r->summary, key);
        fprintf(r->f, "<td class=\"num\" data-key=\"%s\"", key);
        if (json_is_number(v)) fprintf(r->f, " data-value=\"%.17g\"", json_number_value(v));
        fprintf(r->f, ">%s</td>",
                json_is_number(v) ? format_number(json_number_value(v), i == 2 ? F_PCT1 : F_DEC3, t, sizeof t) : "n/a");
      }
      fputs("</tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);
  } else {
    missing(r, "summary.json has no \"forecast\" metrics (forecast.enabled = false, or the stage did not run).");
  }
  if (have_forecast) {
    canvas(r, "c-forecast-total", "forecast-total", 0);
    json_t *series = json_object_get(json_object_get(r->data, "forecast"), "series");
    fputs("<div class=\"grid2\">\n", r->f);
    for (size_t i = 0; i < json_array_size(series); i++) {
      char id[32];
      snprintf(id, sizeof id, "c-forecast-%zu", i);
      canvas(r, id, "forecast-series", 0);
    }
    fputs("</div>\n", r->f);
  } else {
    char b[512];
    snprintf(b, sizeof b, "forecast.csv is absent or empty in %s (forecast.enabled = false, or the stage did not run).",
             r->run->cfg.out);
    missing(r, b);
  }
  if (HAVE(T_IMPORTANCE)) canvas(r, "c-importance", "importance", 0);
  else missing_file(r, T_IMPORTANCE, "the forecast stage did not run");
  fputs("</section>\n", r->f);
}

/* ---- forecast data ------------------------------------------------------------- */

typedef struct {
  const rtable *t;
  int cs, cr, cd;
} fc_ctx;
static const fc_ctx *fc_sort;

static int fc_series_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  int c = strcmp(rtable_cell(fc_sort->t, x, fc_sort->cs), rtable_cell(fc_sort->t, y, fc_sort->cs));
  if (!c) c = strcmp(rtable_cell(fc_sort->t, x, fc_sort->cr), rtable_cell(fc_sort->t, y, fc_sort->cr));
  if (!c) c = strcmp(rtable_cell(fc_sort->t, x, fc_sort->cd), rtable_cell(fc_sort->t, y, fc_sort->cd));
  return c ? c : (x < y ? -1 : x > y);
}
static int fc_date_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  int c = strcmp(rtable_cell(fc_sort->t, x, fc_sort->cd), rtable_cell(fc_sort->t, y, fc_sort->cd));
  return c ? c : (x < y ? -1 : x > y);
}

static json_t *num_or_null(const char *s) { return report_is_number(s) ? json_real(strtod(s, NULL)) : json_null(); }

/* From forecast.csv: the FORECAST_SERIES sku x region series with the most
 * units in the test window (among those with a row on every day of it),
 * and the daily totals over all series. */
static sc_status forecast_data(report *r, int *have) {
  char p[SC_PATH_MAX];
  rtable t;
  int exists;
  *have = 0;
  SC_TRY(rtable_read(out_read_path(r->run, "forecast.csv", p), &t, &exists));
  if (!exists || t.nrow == 0) {
    rtable_free(&t);
    return SC_OK;
  }
  static const char *const need[6] = {"sku_id", "region_id", "date", "units", "predicted", "baseline"};
  int c[6];
  for (int i = 0; i < 6; i++)
    if ((c[i] = rtable_col(&t, need[i])) < 0) {
      rtable_free(&t);
      return sc_fail(SC_EINPUT, "report: %s has no column %s: rerun the forecast stage with this version", p, need[i]);
    }
  int64_t n = t.nrow, *idx = NULL;
  sc_status s = sc_alloc(&idx, (size_t)n * sizeof *idx);
  if (s) {
    rtable_free(&t);
    return s;
  }
  fc_ctx ctx = {&t, c[0], c[1], c[2]};
  fc_sort = &ctx;
  for (int64_t i = 0; i < n; i++) idx[i] = i;
  if (n > 1) qsort(idx, (size_t)n, sizeof *idx, fc_series_cmp);
  /* the window's length in days: a series on sale all along has a row on
     each of them */
  int64_t ndates = 0;
  {
    int64_t *byd = NULL;
    s = sc_alloc(&byd, (size_t)n * sizeof *byd);
    if (s) {
      free(idx);
      rtable_free(&t);
      return s;
    }
    memcpy(byd, idx, (size_t)n * sizeof *byd);
    if (n > 1) qsort(byd, (size_t)n, sizeof *byd, fc_date_cmp);
    for (int64_t i = 0; i < n; i++)
      ndates += !i || strcmp(rtable_cell(&t, byd[i], c[2]), rtable_cell(&t, byd[i - 1], c[2]));
    free(byd);
  }
  /* series runs in idx: keep the top ones by units among the series with a
     row on every day of the window (a series that starts on the last day,
     such as one huge first order, says nothing about the forecast); when
     no series covers the window, among all */
  int full_only = 0;
  for (int pass = 0; pass < 2; pass++) {
    full_only = pass == 0;
    int64_t eligible = 0;
    for (int64_t a = 0, b; a < n; a = b) {
      for (b = a; b < n && !strcmp(rtable_cell(&t, idx[b], c[0]), rtable_cell(&t, idx[a], c[0])) &&
                  !strcmp(rtable_cell(&t, idx[b], c[1]), rtable_cell(&t, idx[a], c[1]));
           b++) {
      }
      eligible += b - a == ndates;
    }
    if (!full_only || eligible) break;
  }
  int64_t top_start[FORECAST_SERIES], top_len[FORECAST_SERIES];
  double top_units[FORECAST_SERIES];
  int ntop = 0;
  for (int64_t a = 0; a < n;) {
    int64_t b = a;
    double u = 0;
    while (b < n && !strcmp(rtable_cell(&t, idx[b], c[0]), rtable_cell(&t, idx[a], c[0])) &&
           !strcmp(rtable_cell(&t, idx[b], c[1]), rtable_cell(&t, idx[a], c[1])))
      u += strtod(rtable_cell(&t, idx[b++], c[3]), NULL);
    if (full_only && b - a != ndates) {
      a = b;
      continue;
    }
    /* insertion into the top list: more units first, earlier series on ties */
    int pos = ntop;
    while (pos > 0 && top_units[pos - 1] < u) pos--;
    if (pos < FORECAST_SERIES) {
      int last = ntop < FORECAST_SERIES ? ntop : FORECAST_SERIES - 1;
      for (int k = last; k > pos; k--) {
        top_start[k] = top_start[k - 1];
        top_len[k] = top_len[k - 1];
        top_units[k] = top_units[k - 1];
      }
      top_start[pos] = a;
      top_len[pos] = b - a;
      top_units[pos] = u;
      if (ntop < FORECAST_SERIES) ntop++;
    }
    a = b;
  }
  json_t *fc = json_object(), *series = json_array();
  for (int k = 0; k < ntop; k++) {
    json_t *o = json_object(), *d = json_array(), *un = json_array(), *pr = json_array(), *bl = json_array();
    const int64_t *rows = idx + top_start[k];
    json_object_set_new(o, "sku_id", json_string(rtable_cell(&t, rows[0], c[0])));
    json_object_set_new(o, "region_id", json_string(rtable_cell(&t, rows[0], c[1])));
    json_object_set_new(o, "units_total", json_real(top_units[k]));
    for (int64_t i = 0; i < top_len[k]; i++) {
      json_array_append_new(d, json_string(rtable_cell(&t, rows[i], c[2])));
      json_array_append_new(un, num_or_null(rtable_cell(&t, rows[i], c[3])));
      json_array_append_new(pr, num_or_null(rtable_cell(&t, rows[i], c[4])));
      json_array_append_new(bl, num_or_null(rtable_cell(&t, rows[i], c[5])));
    }
    json_object_set_new(o, "dates", d);
    json_object_set_new(o, "units", un);
    json_object_set_new(o, "predicted", pr);
    json_object_set_new(o, "baseline", bl);
    json_array_append_new(series, o);
  }
  /* totals per date over all series (rows without a baseline add nothing to it) */
  if (n > 1) qsort(idx, (size_t)n, sizeof *idx, fc_date_cmp);
  json_t *tot = json_object(), *d = json_array(), *un = json_array(), *pr = json_array(), *bl = json_array();
  for (int64_t a = 0; a < n;) {
    double su = 0, sp = 0, sb = 0;
    int64_t b = a;
    for (; b < n && !strcmp(rtable_cell(&t, idx[b], c[2]), rtable_cell(&t, idx[a], c[2])); b++) {
      su += strtod(rtable_cell(&t, idx[b], c[3]), NULL);
      sp += strtod(rtable_cell(&t, idx[b], c[4]), NULL);
      if (report_is_number(rtable_cell(&t, idx[b], c[5]))) sb += strtod(rtable_cell(&t, idx[b], c[5]), NULL);
    }
    json_array_append_new(d, json_string(rtable_cell(&t, idx[a], c[2])));
    json_array_append_new(un, json_real(su));
    json_array_append_new(pr, json_real(sp));
    json_array_append_new(bl, json_real(sb));
    a = b;
  }
  json_object_set_new(tot, "dates", d);
  json_object_set_new(tot, "units", un);
  json_object_set_new(tot, "predicted", pr);
  json_object_set_new(tot, "baseline", bl);
  json_object_set_new(fc, "series", series);
  json_object_set_new(fc, "total", tot);
  json_object_set_new(fc, "rows", json_integer(n));
  json_object_set_new(fc, "days", json_integer(ndates));
  json_object_set_new(fc, "full_window_only", json_boolean(full_only));
  json_object_set_new(r->data, "forecast", fc);
  free(idx);
  rtable_free(&t);
  *have = 1;
  return SC_OK;
}

/* ---- the page ------------------------------------------------------------------- */

static int contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (!strncasecmp(hay, needle, n)) return 1;
  return 0;
}

static sc_status read_file(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return SC_EIO;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  sc_status s = n < 0 ? SC_EIO : sc_alloc(buf, (size_t)n + 1);
  if (!s && fread(*buf, 1, (size_t)n, f) != (size_t)n) s = SC_EIO;
  fclose(f);
  if (!s) {
    (*buf)[n] = 0;
    *len = (size_t)n;
  }
  return s;
}

/* Writes the JSON block so that no "</script" or "<!--" can end it early:
 * every '<' (only ever inside JSON strings) becomes \u003c. */
static void write_json_block(FILE *f, const json_t *data) {
  char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(17));
  for (const char *p = text; p && *p; p++) {
    if (*p == '<') fputs("\\u003c", f);
    else fputc(*p, f);
  }
  free(text);
}

static void write_header(report *r) {
  json_t *s = r->summary;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>segcast report</title>\n"
        "<style>\n",
        r->f);
  fputs(report_css, r->f);
  fputs("</style>\n</head>\n<body>\n<header>\n<h1>segcast report</h1>\n<p class=\"meta\">", r->f);
  json_t *layout = jpath(s, "input.layout"), *as_of = jpath(s, "as_of"), *first = jpath(s, "insights.period.first_day"),
         *last = jpath(s, "insights.period.last_day");
  if (json_is_string(layout)) {
    fputs("Data: <b>", r->f);
    html(r->f, json_string_value(layout));
    fputs("</b> layout", r->f);
    fputs(". ", r->f);
  }
  if (json_is_string(first) && json_is_string(last)) {
    fputs("Sales from <b>", r->f);
    html(r->f, json_string_value(first));
    fputs("</b> to <b>", r->f);
    html(r->f, json_string_value(last));
    fputs("</b>. ", r->f);
  }
  if (json_is_string(as_of)) {
    fputs("Analysis date (as_of): <b>", r->f);
    html(r->f, json_string_value(as_of));
    fputs("</b>. ", r->f);
  }
  fputs("segcast ", r->f);
  json_t *ver = jpath(s, "version");
  html(r->f, json_is_string(ver) ? json_string_value(ver) : SEGCAST_VERSION);
  fputs(".</p>\n", r->f);
  fputs("<nav><a href=\"#kpis\">Key figures</a><a href=\"#model\">Model selection</a><a href=\"#segments\">Segments"
        "</a><a href=\"#concentration\">Concentration</a><a href=\"#cohorts\">Cohorts</a><a href=\"#monthly\">Monthly"
        "</a><a href=\"#top\">Top products</a><a href=\"#clv\">Lifetime value</a><a href=\"#forecast\">Forecast</a></nav>\n</header>\n<main>\n",
        r->f);
}

sc_status stage_report(sc_run *run) {
  report r;
  memset(&r, 0, sizeof r);
  r.run = run;
  const char *cjs_path = getenv("SEGCAST_CHARTJS");
  if (!cjs_path || !*cjs_path) cjs_path = CHARTJS_PATH;
  char *chartjs = NULL;
  size_t cjs_len = 0;
  if (read_file(cjs_path, &chartjs, &cjs_len))
    return sc_fail(SC_EIO,
                   "report: cannot read Chart.js at %s: install Debian's libjs-chart.js (scripts/setup.sh does), or "
                   "point SEGCAST_CHARTJS at a chart.min.js (UMD build)",
                   cjs_path);
  /* a build with "</script" in it would end the inline script early */
  if (contains_nocase(chartjs, "</script")) {
    free(chartjs);
    return sc_fail(SC_EIO, "report: %s contains \"</script\" and cannot be inlined: use Debian's chart.min.js",
                   cjs_path);
  }
  /* the page shows the summary as summary.json stores it (12 significant
     digits), so its numbers equal the file's exactly */
  char *text = json_dumps(run->summary, JSON_REAL_PRECISION(12));
  r.summary = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!r.summary) {
    free(chartjs);
    return sc_fail(SC_ENOMEM, "report: out of memory copying the summary");
  }
  sc_status s = SC_OK;
  r.data = json_object();
  json_t *tables = json_object();
  json_object_set_new(r.data, "tables", tables);
  json_object_set(r.data, "summary", r.summary);
  for (int i = 0; !s && i < T_COUNT; i++) {
    char p[SC_PATH_MAX];
    int exists = 0;
    s = rtable_read(out_read_path(run, table_files[i], p), &r.t[i], &exists);
    r.have[i] = !exists ? 0 : r.t[i].nrow > 0 ? 1 : -1;
    if (!s && r.have[i] > 0) json_object_set_new(tables, table_files[i], rtable_json(&r.t[i]));
  }
  int have_forecast = 0;
  if (!s) s = forecast_data(&r, &have_forecast);
  if (!s) s = out_open(run, "report.html", &r.f);
  if (!s) {
    write_header(&r);
    section_kpis(&r);
    section_model(&r);
    section_segments(&r);
    section_concentration(&r);
    section_cohorts(&r);
    section_monthly(&r);
    section_top(&r);
    section_clv(&r);
    section_forecast(&r, have_forecast);
    fputs("</main>\n<footer>Written by segcast from summary.json and the CSV files of ", r.f);
    html(r.f, run->cfg.out);
    fputs("; charts drawn with Chart.js (MIT licence), inlined: the page makes no network request.</footer>\n",
          r.f);
    fputs("<script id=\"segcast-data\" type=\"application/json\">", r.f);
    write_json_block(r.f, r.data);
    fputs("</script>\n<script>\n", r.f);
    fwrite(chartjs, 1, cjs_len, r.f);
    fputs("\n</script>\n<script>\n", r.f);
    fputs(report_js, r.f);
    fputs("</script>\n</body>\n</html>\n", r.f);
    s = out_commit(run, "report.html", r.f);
    if (!s) sc_say("report: wrote %s/report.html", run->cfg.out);
  }
  for (int i = 0; i < T_COUNT; i++) rtable_free(&r.t[i]);
  json_decref(r.data);
  json_decref(r.summary);
  free(chartjs);
  return s;
}
