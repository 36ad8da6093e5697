/* csv_sim.c: the parallel reader simulated in one process (csv_sim.h). */
#include "csv_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "csvrec.h"

/* ---- the converter: the schema's rules through the kernel's parsers ---- */

typedef struct {
  const csvref_schema *schema;
  csvref_result *out;
} sim_ctx;

static csv_code value(const csvref_col *c, const csv_field *f) {
  if (f->len == 0) return c->optional ? CSV_OK : CSV_E_EMPTY;
  int64_t v;
  double d;
  int32_t day, sec;
  csv_code k;
  switch (c->type) {
  case REF_INT:
    if ((k = parse_i64(f->p, f->len, &v)) != CSV_OK) return k;
    return c->lo <= c->hi && (v < c->lo || v > c->hi) ? CSV_E_RANGE : CSV_OK;
  case REF_ID: return parse_id(f->p, f->len, &v);
  case REF_DEC: return parse_decimal(f->p, f->len, &d);
  case REF_DATE: return parse_date(f->p, f->len, &day);
  case REF_DATETIME: return parse_datetime(f->p, f->len, &day, &sec);
  case REF_ENUM: return f->len == 1 && strchr(c->chars, f->p[0]) ? CSV_OK : CSV_E_RANGE;
  default: return CSV_OK;
  }
}

csv_code csv_sim_check(const csvref_schema *schema, const csv_row *r, int *bad) {
  for (int c = 0; c < schema->ncols; c++) {
    csv_code k = value(&schema->col[c], &r->f[r->idx[c]]);
    if (k != CSV_OK) {
      *bad = c;
      return k;
    }
  }
  return CSV_OK;
}

static csv_code sim_conv(void *ctx, const csv_row *r, int *bad) {
  sim_ctx *x = ctx;
  csv_code k = csv_sim_check(x->schema, r, bad);
  if (k != CSV_OK || r->check) return k;
  int nf = r->nf;
  csvref_rec *o = csvref_add(x->out);
  o->kind = REF_ROW;
  o->line = r->line;
  o->offset = r->offset;
  o->nf = nf;
  o->field = malloc(sizeof *o->field * (size_t)nf);
  o->flen = malloc(sizeof *o->flen * (size_t)nf);
  for (int k = 0; k < nf; k++) {
    o->flen[k] = r->f[k].len;
    o->field[k] = malloc(r->f[k].len + 1);
    memcpy(o->field[k], r->f[k].p, r->f[k].len);
    o->field[k][r->f[k].len] = 0;
  }
  return CSV_OK;
}

static int sim_reject(void *ctx, int tid, int64_t line, const char *reason, const char *raw, size_t len) {
  (void)tid;
  sim_ctx *x = ctx;
  csvref_rec *o = csvref_add(x->out);
  o->kind = REF_REJECT;
  o->line = line;
  snprintf(o->reason, sizeof o->reason, "%s", reason);
  o->raw = malloc(len + 1);
  memcpy(o->raw, raw, len);
  o->raw[len] = 0;
  o->rawlen = len;
  x->out->rejected++;
  return 0;
}

/* ---- the steps, as src/csvread.c runs them ---- */

static int64_t line_start_at(const char *b, int64_t n, int64_t x) {
  if (x <= 0) return 0;
  if (x >= n) return n;
  if (b[x - 1] == '\n') return x;
  const char *e = memchr(b + x, '\n', (size_t)(n - x));
  return e ? e - b + 1 : n;
}

static int fail(csvref_result *res, int code, const char *what) {
  snprintf(res->error, sizeof res->error, "%s", what);
  return code;
}

int csv_sim_read(const char *buf, size_t n, const csv_sim_cfg *cfg, const csvref_schema *schema,
                 csvref_result *res) {
  memset(res, 0, sizeof *res);
  if (n == 0) return fail(res, 1, "empty file");
  const int64_t B = cfg->block, N = (int64_t)n;
  const int P = cfg->ranks, T = cfg->threads;
  int64_t nb = (N + B - 1) / B, nl_total = 0;
  int64_t *lo = calloc((size_t)P, 8), *hi = calloc((size_t)P, 8), *nl_before = calloc((size_t)P, 8);
  csvrec_openers *op = calloc((size_t)P, sizeof *op);
  for (int r = 0; r < P; r++) {
    lo[r] = (((nb * r + P - 1) / P) * B);
    hi[r] = (((nb * (r + 1) + P - 1) / P) * B);
    if (lo[r] > N) lo[r] = N;
    if (hi[r] > N) hi[r] = N;
    nl_before[r] = nl_total;
    /* per block, in block order (the reader's threads take blocks in any
     * order; each block's openers stay its own) */
    for (int64_t a = lo[r]; a < hi[r]; a += B) {
      int64_t e = a + B < hi[r] ? a + B : hi[r];
      size_t first = op[r].n;
      if (csvrec_scan(buf, n, (size_t)a, (size_t)e, cfg->max_lines, &op[r])) abort();
      for (size_t i = first; i < op[r].n; i++) op[r].v[i].line += 1 + nl_total;
      nl_total += (int64_t)csv_newlines(buf + a, (size_t)(e - a));
    }
  }
  res->lines = nl_total + (buf[n - 1] != '\n');
  int code = 0;
  /* the header */
  int64_t bom = n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0, hend = 0, hlines = 1;
  int st = csvrec_extent(buf + bom, n - (size_t)bom, cfg->max_lines, &hend, &hlines);
  hend += bom;
  csv_field hf[256];
  int nh = 0, idx[16];
  size_t hlen = csvrec_text_len(buf + bom, (size_t)(hend - bom));
  char *hscratch = malloc(hlen + 1);
  if (st != CSVREC_CLOSED || hlen == 0 || csv_check_text(buf + bom, hlen) != CSV_OK ||
      csv_split(buf + bom, hlen, hf, 256, &nh, hscratch) != CSV_OK || nh > 256)
    code = fail(res, 1, "bad header");
  for (int c = 0; !code && c < schema->ncols; c++) {
    idx[c] = -1;
    for (int i = 0; i < nh && idx[c] < 0; i++)
      if (hf[i].len == strlen(schema->col[c].name) && !memcmp(hf[i].p, schema->col[c].name, hf[i].len)) idx[c] = i;
    if (idx[c] < 0) code = fail(res, 1, "missing column");
  }
  free(hscratch);
  if (code) goto done;
  res->nh = nh;
  const char *names[16];
  for (int c = 0; c < schema->ncols; c++) names[c] = schema->col[c].name;
  sim_ctx x = {schema, res};
  csvrec_file f = {buf, n, nh, idx, names, cfg->max_lines, sim_conv, &x};
  csvrec_scratch sc = {0};
  for (int r = 0; r < P; r++)
    for (size_t i = 0; i < op[r].n; i++)
      if (op[r].v[i].off >= hend && csvrec_check(&f, &op[r].v[i], 0, &sc)) abort();
  /* the ranks' chain: rounds of (entry, exit), as the allgather rounds */
  int64_t *entry = calloc((size_t)P, 8), *exit_ = calloc((size_t)P, 8);
  for (int r = 0; r < P; r++) {
    int64_t ls = line_start_at(buf, N, lo[r]);
    entry[r] = ls > hend ? ls : hend;
  }
  for (int round = 0;; round++) {
    for (int r = 0; r < P; r++) {
      int64_t c = csvrec_resolve(op[r].v, op[r].n, entry[r]), h = line_start_at(buf, N, hi[r]);
      exit_[r] = c > h ? c : h;
    }
    int stable = 1;
    for (int r = 1; r < P; r++) stable &= entry[r] == exit_[r - 1];
    if (stable) break;
    if (round > P) {
      code = fail(res, -1, "the rounds do not settle");
      break;
    }
    for (int r = P - 1; r > 0; r--) entry[r] = exit_[r - 1];
  }
  /* the threads of each rank */
  csvrec_counts cnt = {0};
  for (int r = 0; !code && r < P; r++) {
    int64_t my_nb = (hi[r] - lo[r] + B - 1) / B, prev = entry[r];
    for (int t = 0; t < T && !code; t++) {
      int64_t start = prev, stop = exit_[r];
      if (t + 1 < T) {
        int64_t cut = line_start_at(buf, N, lo[r] + (my_nb * (t + 1) / T) * B);
        stop = csvrec_start(op[r].v, op[r].n, entry[r], cut > entry[r] ? cut : entry[r]);
        if (stop < start) stop = start;
        if (stop > exit_[r]) stop = exit_[r];
      }
      prev = stop;
      int64_t line = 1 + (int64_t)csv_newlines(buf, (size_t)start);
      csvrec_counts c = {0};
      int k = csvrec_read_range(&f, op[r].v, op[r].n, start, stop, line, t, sim_reject, &x, &c, &sc);
      if (k) code = fail(res, -1, "csvrec_read_range failed");
      int64_t want = (int64_t)csv_newlines(buf + start, (size_t)(stop - start)) +
                     (stop == N && stop > start && buf[N - 1] != '\n');
      if (!code && c.blank + c.read + c.cont != want) code = fail(res, -1, "a thread's lines do not add up");
      cnt.blank += c.blank;
      cnt.read += c.read;
      cnt.cont += c.cont;
    }
  }
  csvrec_scratch_free(&sc);
  free(entry);
  free(exit_);
  res->blank = cnt.blank;
  res->read = cnt.read;
  res->cont = cnt.cont + hlines - 1;
  if (!code && res->lines != 1 + res->blank + res->read + res->cont) code = fail(res, -1, "the file's lines do not add up");
done:
  for (int r = 0; r < P; r++) csvrec_openers_free(&op[r]);
  free(op);
  free(lo);
  free(hi);
  free(nl_before);
  return code;
}

/* ---- comparison ---- */

int csv_sim_compare(const csvref_result *a, const csvref_result *b, char *why, size_t cap) {
  if (!!a->error[0] != !!b->error[0]) {
    snprintf(why, cap, "whole-file error '%s' against '%s'", a->error, b->error);
    return 1;
  }
  if (a->error[0]) return 0;
  if (a->lines != b->lines || a->blank != b->blank || a->read != b->read || a->rejected != b->rejected ||
      a->cont != b->cont || a->nh != b->nh) {
    snprintf(why, cap, "counts: lines %lld/%lld blank %lld/%lld read %lld/%lld rejected %lld/%lld cont %lld/%lld",
             (long long)a->lines, (long long)b->lines, (long long)a->blank, (long long)b->blank, (long long)a->read,
             (long long)b->read, (long long)a->rejected, (long long)b->rejected, (long long)a->cont, (long long)b->cont);
    return 1;
  }
  if (a->n != b->n) {
    snprintf(why, cap, "%lld records against %lld", (long long)a->n, (long long)b->n);
    return 1;
  }
  for (int64_t i = 0; i < a->n; i++) {
    const csvref_rec *x = &a->rec[i], *y = &b->rec[i];
    int same = x->kind == y->kind && x->line == y->line;
    if (same && x->kind == REF_REJECT)
      same = !strcmp(x->reason, y->reason) && x->rawlen == y->rawlen && !memcmp(x->raw, y->raw, x->rawlen);
    if (same && x->kind == REF_ROW) {
      same = x->nf == y->nf;
      for (int k = 0; same && k < x->nf; k++) same = x->flen[k] == y->flen[k] && !memcmp(x->field[k], y->field[k], x->flen[k]);
    }
    if (!same) {
      snprintf(why, cap, "record %lld: %s at line %lld (%s) against %s at line %lld (%s)", (long long)i,
               x->kind == REF_ROW ? "row" : "reject", (long long)x->line, x->reason,
               y->kind == REF_ROW ? "row" : "reject", (long long)y->line, y->reason);
      return 1;
    }
  }
  return 0;
}

/* ---- random damaged CSVs ---- */

static void put_value(rng *r, const csvref_col *c, char *b, size_t *n) {
  unsigned k = rng_below(r, 20);
  if (k == 0 && c->optional) return; /* empty */
  switch (c->type) {
  case REF_INT: *n += (size_t)sprintf(b + *n, "%d", (int)rng_below(r, 2000) - 100); break;
  case REF_ID: *n += (size_t)sprintf(b + *n, k == 1 ? "%u.0" : "%u", 1 + rng_below(r, 100000)); break;
  case REF_DEC: *n += (size_t)sprintf(b + *n, "%u.%02u", rng_below(r, 500), rng_below(r, 100)); break;
  case REF_DATE:
    *n += (size_t)sprintf(b + *n, "20%02u-%02u-%02u", rng_below(r, 30), 1 + rng_below(r, 12), 1 + rng_below(r, 31));
    break;
  default: {
    /* text: letters, spaces, commas and quotes (then it is quoted), newlines */
    static const char *words[] = {"WHITE", "12\" VINYL", "HEART, RED", "caf\xc3\xa9", "a\nb", "x\"\"y", "", "LONG TEXT"};
    const char *w = words[rng_below(r, 8)];
    int quote = strpbrk(w, ",\n") || (w[0] == '"') || rng_below(r, 6) == 0;
    if (quote) {
      b[(*n)++] = '"';
      for (const char *p = w; *p; p++) {
        if (*p == '"') b[(*n)++] = '"';
        b[(*n)++] = *p;
      }
      b[(*n)++] = '"';
    } else {
      size_t l = strlen(w);
      memcpy(b + *n, w, l);
      *n += l;
    }
  }
  }
}

size_t csv_gen(rng *r, char *buf, size_t cap, size_t size, csvref_schema *schema) {
  /* the schema: 1-5 columns, some checked, some text */
  memset(schema, 0, sizeof *schema);
  int ncols = 1 + (int)rng_below(r, 5);
  static const char *names[] = {"c0", "c1", "c2", "c3", "c4"};
  static const int types[] = {REF_INT, REF_TEXT, REF_ID, REF_TEXT, REF_DEC, REF_DATE, REF_TEXT};
  schema->ncols = ncols;
  for (int c = 0; c < ncols; c++) {
    csvref_col *col = &schema->col[c];
    col->name = names[c];
    col->type = types[rng_below(r, 7)];
    col->optional = rng_below(r, 3) == 0;
    col->lo = 1;
    col->hi = rng_below(r, 2) ? 0 : 1500; /* a range now and then */
  }
  size_t n = 0;
  if (rng_below(r, 30) == 0) n += (size_t)sprintf(buf, "\xEF\xBB\xBF");
  for (int c = 0; c < ncols; c++) n += (size_t)sprintf(buf + n, c ? ",%s" : "%s", names[c]);
  if (rng_below(r, 4) == 0) n += (size_t)sprintf(buf + n, ",extra");
  int extra = buf[n - 1] == 'a';
  const char *eol = rng_below(r, 4) == 0 ? "\r\n" : "\n";
  n += (size_t)sprintf(buf + n, "%s", eol);
  while (n < size && n + 200 < cap / 2) {
    if (rng_below(r, 15) == 0) {
      n += (size_t)sprintf(buf + n, "%s", rng_below(r, 3) ? eol : "\r\r\n"); /* blank line */
      continue;
    }
    for (int c = 0; c < ncols + extra; c++) {
      if (c) buf[n++] = ',';
      if (c < ncols) put_value(r, &schema->col[c], buf, &n);
      else n += (size_t)sprintf(buf + n, "e");
    }
    n += (size_t)sprintf(buf + n, "%s", eol);
  }
  /* damage: each a few times, at random places */
  int hits = (int)rng_below(r, 12);
  for (int h = 0; h < hits && n > 2 && n + 8 < cap; h++) {
    size_t at = 1 + rng_below(r, (unsigned)(n - 1));
    unsigned kind = rng_below(r, 11);
    static const char *ins[] = {"\"", "\"", "\"", "\n", "\r", "\"x", "\xff", "\x00", ",", "\"\n", "\"\"\""};
    const char *s = ins[kind];
    size_t l = kind == 7 ? 1 : strlen(s);
    memmove(buf + at + l, buf + at, n - at);
    memcpy(buf + at, s, l);
    n += l;
  }
  if (rng_below(r, 8) == 0 && n > 8) n -= 1 + rng_below(r, 3); /* cut: no final newline, maybe mid-field */
  if (rng_below(r, 10) == 0 && n + 2 < cap) buf[n++] = '"'; /* a quote opened at the very end */
  return n;
}
