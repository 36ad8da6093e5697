/* csvref.c: the sequential reference reader (csvref.h).
 *
 * The file is first cut into physical lines (a line ends at '\n'; the last
 * one may lack it). A record is read from a line by the byte state machine
 * below; when its quoted field is still open at the end of a line, the next
 * line is read into it. Then, in DATA.md's order, the record is checked;
 * if anything is wrong only its first line is rejected and reading starts
 * again at the next line, else all its lines are one row.
 */
#include "csvref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p; /* the line's bytes, without its '\n' */
  size_t len;
} line_t;

/* a growable byte string */
typedef struct {
  char *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, char c) {
  if (b->n + 1 >= b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  b->p[b->n++] = c;
  b->p[b->n] = 0;
}

/* Is every byte of l from j on a '\r'? (then they are the line end) */
static int only_cr_from(const line_t *l, size_t j) {
  for (; j < l->len; j++)
    if (l->p[j] != '\r') return 0;
  return 1;
}

/* the text of a line without the '\r's that end it */
static size_t text_len(const line_t *l) {
  size_t n = l->len;
  while (n && l->p[n - 1] == '\r') n--;
  return n;
}

/* ---- values ---- */

/* a well-formed UTF-8 sequence at s (Unicode 3.9 table 3-7), its length, or 0 */
static int utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c >= 0x01 && c <= 0x7F) return 1;
  int need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c == 0xE0) need = 2, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) need = 2;
  else if (c == 0xED) need = 2, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) need = 2;
  else if (c == 0xF0) need = 3, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) need = 3;
  else if (c == 0xF4) need = 3, hi = 0x8F;
  else return 0;
  if (n < (size_t)need + 1) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (int k = 2; k <= need; k++)
    if (s[k] < 0x80 || s[k] > 0xBF) return 0;
  return need + 1;
}

/* "" when the text is valid UTF-8 with no NUL, else the reason */
static const char *text_problem(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  for (size_t i = 0; i < n;) {
    if (s[i] == 0) return "NUL byte";
    int k = utf8_seq(s + i, n - i);
    if (!k) return "invalid UTF-8";
    i += (size_t)k;
  }
  return "";
}

static int all_digits(const char *p, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9') return 0;
  return 1;
}

/* does the digit string (no sign) fit below or at the decimal `max`? */
static int digits_at_most(const char *p, size_t n, const char *max) {
  while (n > 1 && p[0] == '0') p++, n--;
  size_t m = strlen(max);
  if (n != m) return n < m;
  return memcmp(p, max, n) <= 0;
}

static int64_t digits_value(const char *p, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 - (p[i] - '0'); /* negative: reaches INT64_MIN */
  return v;
}

/* REF_INT: 0 ok (and *v), 1 bad integer */
static int ref_int(const char *p, size_t n, int64_t *v) {
  int neg = n && p[0] == '-';
  const char *d = p + neg;
  size_t nd = n - (size_t)neg;
  if (!all_digits(d, nd)) return 1;
  if (!digits_at_most(d, nd, neg ? "9223372036854775808" : "9223372036854775807")) return 1;
  int64_t x = digits_value(d, nd); /* -|value| */
  *v = neg ? x : -x;
  return 0;
}

static int ref_id(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9') i++;
  if (i == 0) return 1;
  if (i < n) {
    if (p[i] != '.' || i + 1 == n) return 1;
    for (size_t j = i + 1; j < n; j++)
      if (p[j] != '0') return 1;
  }
  if (!digits_at_most(p, i, "9223372036854775807")) return 1;
  for (size_t j = 0; j < i; j++)
    if (p[j] != '0') return 0;
  return 1; /* zero */
}

static int ref_dec(const char *p, size_t n) {
  size_t i = 0;
  if (i < n && p[i] == '-') i++;
  size_t a = i;
  while (i < n && p[i] >= '0' && p[i] <= '9') i++;
  size_t int_digits = i - a, frac_digits = 0;
  if (i < n && p[i] == '.') {
    i++;
    size_t b = i;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++;
    frac_digits = i - b;
  }
  if (i != n || (int_digits == 0 && frac_digits == 0)) return 1;
  char *copy = malloc(n + 1);
  memcpy(copy, p, n);
  copy[n] = 0;
  double v = strtod(copy, NULL);
  free(copy);
  return isfinite(v) ? 0 : 1;
}

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static int ref_date(const char *p, size_t n) {
  if (n != 10 || p[4] != '-' || p[7] != '-') return 1;
  if (!all_digits(p, 4) || !all_digits(p + 5, 2) || !all_digits(p + 8, 2)) return 1;
  int y = two(p) * 100 + two(p + 2), m = two(p + 5), d = two(p + 8);
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int dim = mdays[m - 1] + (m == 2 && leap);
  return d < 1 || d > dim;
}

static int ref_datetime(const char *p, size_t n) {
  if (n != 19 || p[10] != ' ' || p[13] != ':' || p[16] != ':') return 1;
  if (ref_date(p, 10)) return 1;
  if (!all_digits(p + 11, 2) || !all_digits(p + 14, 2) || !all_digits(p + 17, 2)) return 1;
  return two(p + 11) > 23 || two(p + 14) > 59 || two(p + 17) > 59;
}

/* "" or the reason a value fails its column's rule */
static const char *value_problem(const csvref_col *c, const char *p, size_t n) {
  if (n == 0) return c->optional ? "" : "empty required value";
  int64_t v;
  switch (c->type) {
  case REF_INT:
    if (ref_int(p, n, &v)) return "bad integer";
    if (c->lo <= c->hi && (v < c->lo || v > c->hi)) return "value out of range";
    return "";
  case REF_ID: return ref_id(p, n) ? "bad id" : "";
  case REF_DEC: return ref_dec(p, n) ? "bad number" : "";
  case REF_DATE: return ref_date(p, n) ? "bad date" : "";
  case REF_DATETIME: return ref_datetime(p, n) ? "bad date" : "";
  case REF_ENUM: return n == 1 && strchr(c->chars, p[0]) ? "" : "value out of range";
  default: return "";
  }
}

/* ---- records ---- */

typedef struct {
  bytes *f; /* fields */
  int nf, cap;
  int cr;   /* a '\r' outside quotes that is not the line end */
} fields_t;

static void new_field(fields_t *r) {
  if (r->nf == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 8;
    r->f = realloc(r->f, sizeof *r->f * (size_t)r->cap);
    if (!r->f) abort();
  }
  r->f[r->nf++] = (bytes){0};
  put(&r->f[r->nf - 1], 0); /* allocate; n stays 0 after */
  r->f[r->nf - 1].n = 0;
}

static void free_fields(fields_t *r) {
  for (int i = 0; i < r->nf; i++) free(r->f[i].p);
  free(r->f);
  memset(r, 0, sizeof *r);
}

enum { START_FIELD, IN_FIELD, IN_QUOTED, QUOTE_IN_QUOTED };
enum { READ_OK, READ_AFTER_QUOTE, READ_EOF, READ_LONG };

/* Reads the record that starts at line i; *k gets its lines (for errors:
 * the lines up to the one where it failed, or to the end of the file). */
static int read_record(const line_t *L, int64_t nl, int64_t i, int64_t max_lines, fields_t *r, int64_t *k) {
  int st = START_FIELD;
  new_field(r);
  for (int64_t li = i;; li++) {
    const line_t *l = &L[li];
    size_t j = 0;
    for (; j < l->len; j++) {
      char c = l->p[j];
      if (st == IN_QUOTED) {
        if (c == '"') st = QUOTE_IN_QUOTED;
        else put(&r->f[r->nf - 1], c);
        continue;
      }
      if (c == '\r' && only_cr_from(l, j)) break; /* the line end */
      if (st == QUOTE_IN_QUOTED) {
        if (c == '"') {
          put(&r->f[r->nf - 1], '"');
          st = IN_QUOTED;
        } else if (c == ',') {
          new_field(r);
          st = START_FIELD;
        } else {
          *k = li - i + 1;
          return READ_AFTER_QUOTE;
        }
        continue;
      }
      if (c == ',') {
        new_field(r);
        st = START_FIELD;
        continue;
      }
      if (st == START_FIELD && c == '"') {
        st = IN_QUOTED;
        continue;
      }
      if (c == '\r') r->cr = 1;
      put(&r->f[r->nf - 1], c);
      st = IN_FIELD;
    }
    if (st != IN_QUOTED) {
      *k = li - i + 1;
      return READ_OK;
    }
    /* the quoted field goes on: the line end is part of its value */
    if (li + 1 >= nl) {
      *k = li - i + 1;
      return READ_EOF;
    }
    if (li + 1 - i + 1 > max_lines) {
      *k = max_lines + 1;
      return READ_LONG;
    }
    put(&r->f[r->nf - 1], '\n');
  }
}

csvref_rec *csvref_add(csvref_result *res) {
  if (res->n == res->cap) {
    res->cap = res->cap ? 2 * res->cap : 64;
    res->rec = realloc(res->rec, sizeof *res->rec * (size_t)res->cap);
    if (!res->rec) abort();
  }
  csvref_rec *x = &res->rec[res->n++];
  memset(x, 0, sizeof *x);
  return x;
}

void csvref_free(csvref_result *res) {
  for (int64_t i = 0; i < res->n; i++) {
    for (int k = 0; k < res->rec[i].nf; k++) free(res->rec[i].field[k]);
    free(res->rec[i].field);
    free(res->rec[i].flen);
    free(res->rec[i].raw);
  }
  free(res->rec);
  memset(res, 0, sizeof *res);
}

int csvref_read(const char *buf, size_t n, const csvref_schema *schema, int64_t max_lines, csvref_result *res) {
  memset(res, 0, sizeof *res);
  /* physical lines */
  int64_t nl = 0, cap = 1024;
  line_t *L = malloc(sizeof *L * (size_t)cap);
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && buf[b] != '\n') b++;
    if (nl == cap) L = realloc(L, sizeof *L * (size_t)(cap *= 2));
    L[nl++] = (line_t){buf + a, b - a};
    a = b + 1;
  }
  res->lines = nl;
  if (nl == 0) {
    snprintf(res->error, sizeof res->error, "empty file");
    free(L);
    return 1;
  }
  /* the header: a byte-order mark skipped, read as a record */
  line_t first = L[0];
  if (first.len >= 3 && !memcmp(first.p, "\xEF\xBB\xBF", 3)) {
    L[0].p += 3;
    L[0].len -= 3;
  }
  fields_t h = {0};
  int64_t hk = 1;
  int hs = read_record(L, nl, 0, max_lines, &h, &hk);
  int nh = h.nf;
  char hnames[16][64];
  int idx[16];
  /* a header must be a record of valid UTF-8 without NUL or stray '\r',
   * not empty, of at most 256 fields (docs/ingest.md) */
  int header_ok = hs == READ_OK && !(nh == 1 && h.f[0].n == 0) && !h.cr && nh <= 256;
  if (header_ok) {
    const line_t *last = &L[hk - 1];
    header_ok = !text_problem(L[0].p, (size_t)(last->p + text_len(last) - L[0].p))[0];
  }
  if (header_ok) {
    for (int c = 0; c < schema->ncols; c++) {
      idx[c] = -1;
      for (int i = 0; i < nh && idx[c] < 0; i++)
        if (h.f[i].n == strlen(schema->col[c].name) && !memcmp(h.f[i].p, schema->col[c].name, h.f[i].n)) idx[c] = i;
      snprintf(hnames[c], sizeof hnames[c], "%s", schema->col[c].name);
      if (idx[c] < 0) {
        snprintf(res->error, sizeof res->error, "missing column %s", schema->col[c].name);
        break;
      }
    }
  } else {
    snprintf(res->error, sizeof res->error, "bad header");
  }
  free_fields(&h);
  L[0] = first;
  if (res->error[0]) {
    free(L);
    return 1;
  }
  res->nh = nh;
  res->cont = hk - 1;
  /* the rows */
  for (int64_t i = hk; i < nl;) {
    const line_t *l = &L[i];
    if (text_len(l) == 0) {
      res->blank++;
      i++;
      continue;
    }
    res->read++;
    fields_t r = {0};
    int64_t k = 1;
    int st = read_record(L, nl, i, max_lines, &r, &k);
    char why[256] = "";
    if (st == READ_AFTER_QUOTE) snprintf(why, sizeof why, "text after closing quote");
    else if (st == READ_EOF) snprintf(why, sizeof why, "unclosed quote");
    else if (st == READ_LONG)
      snprintf(why, sizeof why, "record longer than %lld lines (input.max_record_lines)", (long long)max_lines);
    if (!why[0]) {
      /* the record's text: its lines joined, without the last line end */
      const char *a = L[i].p;
      const line_t *last = &L[i + k - 1];
      size_t tn = (size_t)(last->p + text_len(last) - a);
      const char *tp = text_problem(a, tn);
      if (tp[0]) snprintf(why, sizeof why, "%s", tp);
    }
    if (!why[0] && r.cr) snprintf(why, sizeof why, "carriage return outside quotes");
    if (!why[0] && r.nf != nh) snprintf(why, sizeof why, "wrong field count (%d, header has %d)", r.nf, nh);
    for (int c = 0; !why[0] && c < schema->ncols; c++) {
      const bytes *v = &r.f[idx[c]];
      const char *vp = value_problem(&schema->col[c], v->p, v->n);
      if (vp[0]) snprintf(why, sizeof why, "%s in %s", vp, hnames[c]);
    }
    csvref_rec *x = csvref_add(res);
    x->line = i + 1;
    x->offset = L[i].p - buf;
    if (why[0]) {
      if (k > 1 && st != READ_LONG) snprintf(why + strlen(why), sizeof why - strlen(why), " across %lld lines", (long long)k);
      x->kind = REF_REJECT;
      snprintf(x->reason, sizeof x->reason, "%s", why);
      x->rawlen = text_len(l);
      x->raw = malloc(x->rawlen + 1);
      memcpy(x->raw, l->p, x->rawlen);
      x->raw[x->rawlen] = 0;
      res->rejected++;
      i++;
    } else {
      x->kind = REF_ROW;
      x->lines = k;
      x->nf = r.nf;
      x->field = malloc(sizeof *x->field * (size_t)r.nf);
      x->flen = malloc(sizeof *x->flen * (size_t)r.nf);
      for (int c = 0; c < r.nf; c++) {
        x->flen[c] = r.f[c].n;
        x->field[c] = r.f[c].p;
        r.f[c].p = NULL;
      }
      res->cont += k - 1;
      i += k;
    }
    free_fields(&r);
  }
  free(L);
  return 0;
}
