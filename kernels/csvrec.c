/* csvrec.c: record boundaries, checks and the read loop (csvrec.h).
 *
 * Everything here is a pure function of the bytes it is given (plus the
 * converter, a callback). Allocation is limited to the growable opener
 * array and a thread's scratch. Speed comes from skipping what cannot
 * matter: a line without '"' is neither an opener nor a stopper, so the
 * scan jumps from quote to quote with memchr while no candidate is open,
 * and walks line by line only inside candidates.
 */
#include "csvrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one line ---- */

/* Is there a '\r' in p[a, b) that is not part of the line end (a run of
 * '\r's that reaches n)? */
static inline int stray_cr(const char *p, size_t a, size_t b, size_t n) {
  const char *r = a < b ? memchr(p + a, '\r', b - a) : NULL;
  if (!r || b < n) return r != NULL;
  for (size_t j = (size_t)(r - p); j < n; j++)
    if (p[j] != '\r') return 1;
  return 0;
}

int csvrec_line_scan(const char *p, size_t n, int in_quote, int64_t *seps, int *cr) {
  size_t i = 0;
  int64_t s = 0;
  *cr = 0;
  for (;;) {
    if (!in_quote) {
      /* a field starts at i */
      if (i < n && p[i] == '"') {
        in_quote = 1;
        i++;
      } else {
        const char *c = i < n ? memchr(p + i, ',', n - i) : NULL;
        size_t e = c ? (size_t)(c - p) : n;
        *cr |= stray_cr(p, i, e, n);
        if (!c) break; /* the last field runs to the line end */
        s++;
        i = e + 1;
        continue;
      }
    }
    /* inside a quoted field at i: to its closing quote ("" is data) */
    for (;;) {
      const char *q = i < n ? memchr(p + i, '"', n - i) : NULL;
      if (!q) {
        *seps = s;
        return CSVREC_LINE_OPEN;
      }
      i = (size_t)(q - p) + 1;
      if (i < n && p[i] == '"') {
        i++;
        continue;
      }
      break;
    }
    in_quote = 0;
    /* after a closing quote: ',', the line end ('\r's then nothing) or an error */
    if (i < n && p[i] == ',') {
      s++;
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && p[j] == '\r') j++;
    *seps = s;
    return j == n ? CSVREC_LINE_END : CSVREC_LINE_ERR;
  }
  *seps = s;
  return CSVREC_LINE_END;
}

size_t csvrec_text_len(const char *p, size_t n) {
  if (n && p[n - 1] == '\n') n--;
  while (n && p[n - 1] == '\r') n--;
  return n;
}

/* ---- step 1: openers and their candidates ---- */

void csvrec_openers_free(csvrec_openers *o) {
  free(o->v);
  o->v = NULL;
  o->n = o->cap = 0;
}

static int push(csvrec_openers *o, int64_t off, int64_t line, int64_t seps, int64_t base, csv_code text, int cr) {
  if (o->n == o->cap) {
    size_t cap = o->cap ? 2 * o->cap : 64;
    csvrec_opener *v = realloc(o->v, cap * sizeof *v);
    if (!v) return -1;
    o->v = v;
    o->cap = cap;
  }
  /* while pending, `fields` holds the opener line's separators and `end`
   * the count of quoted-context separators seen before it (base) */
  o->v[o->n++] = (csvrec_opener){.off = off, .line = line, .end = base, .fields = seps, .bad = -1, .text = (int8_t)text,
                                 .cr = (uint8_t)cr, .code = CSV_OK, .status = CSVREC_EOF, .fate = CSVREC_UNKNOWN};
  return 0;
}

static inline const char *find(const char *p, size_t from, size_t to, char c) {
  return from < to ? memchr(p + from, c, to - from) : NULL;
}

int csvrec_scan(const char *buf, size_t n, size_t from, size_t to, int64_t max_lines, csvrec_openers *out) {
  if (to > n) to = n;
  size_t pos = from;
  int64_t li = 0; /* newlines in [from, pos) */
  if (pos > 0 && pos < n && buf[pos - 1] != '\n') {
    const char *e = find(buf, pos, n, '\n');
    if (!e) return 0; /* no line starts here */
    pos = (size_t)(e - buf) + 1;
    li = 1;
  }
  size_t pend = out->n; /* out->v[pend .. out->n): candidates still open */
  /* the candidates' text errors and stray CRs, each the first one met: a
   * line's goes to the open candidates not yet given one, so every opener
   * is visited once (tp, cp: the first ones that may still take one) */
  size_t tp = pend, cp = pend;
  int64_t q = 0;        /* separators of the quoted context since the scan began */
  size_t lim = 0;       /* end of the line holding byte to - 1: quotes of our lines lie before it */
  int lim_known = 0;
  while (pos < n) {
    int has_quote = -1; /* unknown */
    if (pend == out->n) {
      /* nothing open: jump to the next line of ours with a quote */
      if (pos >= to) break;
      if (!lim_known) {
        const char *e = buf[to - 1] == '\n' ? buf + to - 1 : find(buf, to, n, '\n');
        lim = e ? (size_t)(e - buf) : n;
        lim_known = 1;
      }
      const char *qp = find(buf, pos, lim, '"');
      if (!qp) break;
      size_t ls = pos;
      for (size_t k = (size_t)(qp - buf); k > pos; k--)
        if (buf[k - 1] == '\n') {
          ls = k;
          break;
        }
      li += (int64_t)csv_newlines(buf + pos, ls - pos);
      pos = ls;
      has_quote = 1;
    }
    const char *ep = find(buf, pos, n, '\n');
    size_t le = ep ? (size_t)(ep - buf) : n;
    if (has_quote < 0) has_quote = find(buf, pos, le, '"') != NULL;
    /* candidates that would need more than max_lines lines */
    while (pend < out->n && li - out->v[pend].line >= max_lines) {
      csvrec_opener *o = &out->v[pend++];
      o->status = CSVREC_LONG;
      o->lines = max_lines + 1;
      o->end = o->off; /* no record: only the first line is rejected */
    }
    if (pend < out->n) {
      /* a line inside the open candidates: its text counts for them all
       * (UTF-8 sequences never span a '\n') */
      csv_code t = csv_check_text(buf + pos, le - pos);
      if (t != CSV_OK) {
        for (tp = tp > pend ? tp : pend; tp < out->n; tp++)
          if (out->v[tp].text == CSV_OK) out->v[tp].text = (int8_t)t;
      }
    }
    if (pend < out->n && !has_quote) {
      /* inside quotes all through: a '\r' is data */
    } else if (pend < out->n) {
      int64_t s;
      int cr, c = csvrec_line_scan(buf + pos, le - pos, 1, &s, &cr);
      if (cr && c != CSVREC_LINE_ERR)
        for (cp = cp > pend ? cp : pend; cp < out->n; cp++) out->v[cp].cr = 1;
      if (c == CSVREC_LINE_OPEN) {
        q += s;
      } else {
        for (; pend < out->n; pend++) {
          csvrec_opener *o = &out->v[pend];
          o->status = c == CSVREC_LINE_END ? CSVREC_CLOSED : CSVREC_AFTER_QUOTE;
          o->fields = 1 + o->fields + (q + s - o->end);
          o->lines = li - o->line + 1;
          o->end = le < n ? (int64_t)le + 1 : (int64_t)n;
        }
      }
    }
    if (pos < to && has_quote) {
      int64_t s;
      int cr;
      if (csvrec_line_scan(buf + pos, le - pos, 0, &s, &cr) == CSVREC_LINE_OPEN &&
          push(out, (int64_t)pos, li, s, q, csv_check_text(buf + pos, le - pos), cr))
        return -1;
    }
    if (le >= n) {
      pos = n;
      li++; /* as if the last line had its '\n': li - 1 is its index below */
      break;
    }
    pos = le + 1;
    li++;
  }
  /* the file ended inside the candidates still open */
  for (; pend < out->n; pend++) {
    csvrec_opener *o = &out->v[pend];
    o->status = CSVREC_EOF;
    o->lines = li - o->line;
    o->end = (int64_t)n;
  }
  return 0;
}

int csvrec_extent(const char *buf, size_t n, int64_t max_lines, int64_t *end, int64_t *lines) {
  csvrec_openers o = {0};
  if (csvrec_scan(buf, n, 0, n ? 1 : 0, max_lines, &o)) return -1;
  const char *e = find(buf, 0, n, '\n');
  int64_t line_end = e ? (int64_t)(e - buf) + 1 : (int64_t)n;
  int st;
  if (o.n) { /* the line is an opener: its candidate says */
    st = o.v[0].status;
    *lines = o.v[0].lines;
    *end = st == CSVREC_CLOSED ? o.v[0].end : line_end;
  } else { /* one line, which may still hold a quoting error of its own */
    int64_t s;
    int cr;
    st = csvrec_line_scan(buf, (size_t)(e ? line_end - 1 : line_end), 0, &s, &cr) == CSVREC_LINE_ERR ? CSVREC_AFTER_QUOTE
                                                                                                    : CSVREC_CLOSED;
    *lines = 1;
    *end = line_end;
  }
  csvrec_openers_free(&o);
  return st;
}

/* ---- step 2: is a candidate a row? ---- */

void csvrec_scratch_free(csvrec_scratch *s) {
  free(s->fld);
  free(s->buf);
  memset(s, 0, sizeof *s);
}

/* Fields for nh + 2 (a field count error needs one more than the header) and
 * an unquoting buffer of len bytes. */
static int scratch_fit(csvrec_scratch *s, int nh, size_t len) {
  if (s->fcap < nh + 2) {
    csv_field *f = realloc(s->fld, sizeof *f * (size_t)(nh + 2));
    if (!f) return -1;
    s->fld = f;
    s->fcap = nh + 2;
  }
  if (s->cap < len || !s->buf) {
    size_t cap = len > 4096 ? len : 4096;
    char *b = realloc(s->buf, cap);
    if (!b) return -1;
    s->buf = b;
    s->cap = cap;
  }
  return 0;
}

/* The checks of one record's text rec[0..len) after its quoting is known
 * to be closed, in csvrec.h's order; fields are left in s->fld. */
static csv_code check_record(const csvrec_file *f, const char *rec, size_t len, int64_t line, int tid, int check,
                             csvrec_scratch *s, int *nf, int *bad) {
  *bad = -1;
  *nf = 0;
  csv_code split = csv_split(rec, len, s->fld, s->fcap, nf, s->buf);
  if (split == CSV_E_UNCLOSED_QUOTE || split == CSV_E_AFTER_QUOTE) return split;
  csv_code c = csv_check_text(rec, len);
  if (c != CSV_OK) return c;
  if (split != CSV_OK) return split; /* a '\r' outside quotes */
  if (*nf != f->nh) return CSV_E_FIELD_COUNT;
  csv_row row = {s->fld, *nf, f->idx, line, rec - f->buf, tid, check};
  return f->conv(f->ctx, &row, bad);
}

int csvrec_check(const csvrec_file *f, csvrec_opener *o, int tid, csvrec_scratch *s) {
  o->bad = -1;
  o->nf = 0;
  switch (o->status) {
  case CSVREC_AFTER_QUOTE: o->code = CSV_E_AFTER_QUOTE; return 0;
  case CSVREC_EOF: o->code = CSV_E_UNCLOSED_QUOTE; return 0;
  case CSVREC_LONG: o->code = CSV_E_LONG_RECORD; return 0;
  default: break;
  }
  /* what the scan found answers most candidates at no cost, in
   * check_record's order; only a candidate that passes all of it is split
   * and converted (a stretch of overlapping candidates would otherwise cost
   * the square of its length) */
  if (o->text != CSV_OK) {
    o->code = o->text;
    return 0;
  }
  if (o->cr) {
    o->code = CSV_E_CR;
    return 0;
  }
  if (o->fields != f->nh) {
    o->code = CSV_E_FIELD_COUNT;
    o->nf = (int32_t)(o->fields < INT32_MAX ? o->fields : INT32_MAX);
    return 0;
  }
  size_t len = csvrec_text_len(f->buf + o->off, (size_t)(o->end - o->off));
  if (scratch_fit(s, f->nh, len)) return -1;
  int nf, bad;
  /* the line number only matters to converters that store it: none in check mode */
  o->code = check_record(f, f->buf + o->off, len, 0, tid, 1, s, &nf, &bad);
  o->nf = nf;
  o->bad = (int16_t)bad;
  return 0;
}

/* ---- step 3: the sequential chain, over openers only ---- */

int64_t csvrec_resolve(csvrec_opener *o, size_t n, int64_t entry) {
  int64_t covered = entry;
  for (size_t i = 0; i < n; i++) {
    if (o[i].off < covered) {
      o[i].fate = CSVREC_COVERED;
    } else if (o[i].code == CSV_OK) {
      o[i].fate = CSVREC_RECORD;
      covered = o[i].end;
    } else {
      o[i].fate = CSVREC_REJECT;
    }
  }
  return covered;
}

size_t csvrec_lower_bound(const csvrec_opener *o, size_t n, int64_t x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (o[mid].off < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int64_t csvrec_start(const csvrec_opener *o, size_t n, int64_t entry, int64_t x) {
  if (x <= entry) return entry;
  /* the accepted record that spans x is the last RECORD before x, and
   * every opener between it and x is COVERED; a REJECT before x means no
   * record spans x (nothing reaches past a record start that is rejected) */
  for (size_t i = csvrec_lower_bound(o, n, x); i-- > 0 && o[i].off >= entry;) {
    if (o[i].fate == CSVREC_RECORD) return o[i].end > x ? o[i].end : x;
    if (o[i].fate == CSVREC_REJECT) break;
  }
  return x;
}

/* ---- step 4: reading a range ---- */

void csvrec_reason(char *buf, size_t cap, csv_code c, const char *col, int nf, int nh, int64_t lines,
                   int64_t max_lines) {
  int k;
  if (c == CSV_E_FIELD_COUNT) k = snprintf(buf, cap, "%s (%d, header has %d)", csv_error_text(c), nf, nh);
  else if (c == CSV_E_LONG_RECORD) k = snprintf(buf, cap, "record longer than %lld lines (input.max_record_lines)", (long long)max_lines);
  else if (col) k = snprintf(buf, cap, "%s in %.60s", csv_error_text(c), col);
  else k = snprintf(buf, cap, "%s", csv_error_text(c));
  if (lines > 1 && c != CSV_E_LONG_RECORD && k >= 0 && (size_t)k < cap)
    snprintf(buf + k, cap - (size_t)k, " across %lld lines", (long long)lines);
}

static int reject(const csvrec_file *f, csvrec_reject_fn rej, void *rctx, int tid, int64_t line, csv_code c, int bad,
                  int nf, int64_t lines, const char *raw, size_t len) {
  char reason[224];
  csvrec_reason(reason, sizeof reason, c, bad >= 0 && f->col_names ? f->col_names[bad] : NULL, nf, f->nh, lines,
                f->max_lines);
  return rej(rctx, tid, line, reason, raw, len) ? CSVREC_EREJECT : 0;
}

int csvrec_read_range(const csvrec_file *f, const csvrec_opener *o, size_t no, int64_t start, int64_t stop,
                      int64_t line, int tid, csvrec_reject_fn rej, void *rctx, csvrec_counts *cnt,
                      csvrec_scratch *s) {
  if (scratch_fit(s, f->nh, 0)) return CSVREC_ENOMEM;
  const char *buf = f->buf;
  size_t k = csvrec_lower_bound(o, no, start);
  int64_t pos = start;
  /* the counts live in registers while the loop runs: threads' counts
   * side by side in memory would share cache lines (false sharing) */
  csvrec_counts c = {0};
  csv_window win = {0};
  int fcap = s->fcap;
  while (pos < stop) {
    while (k < no && o[k].off < pos) k++;
    if (k < no && o[k].off == pos) {
      /* an opener that is a record start: its fate decides */
      const csvrec_opener *x = &o[k++];
      if (x->fate == CSVREC_RECORD) {
        size_t len = csvrec_text_len(buf + pos, (size_t)(x->end - pos));
        if (scratch_fit(s, f->nh, len)) return CSVREC_ENOMEM;
        int nf, bad;
        if (check_record(f, buf + pos, len, line, tid, 0, s, &nf, &bad) != CSV_OK) return CSVREC_EINCONSISTENT;
        c.read++;
        c.cont += x->lines - 1;
        line += x->lines;
        pos = x->end;
        continue;
      }
      if (x->fate != CSVREC_REJECT) return CSVREC_EINCONSISTENT; /* a continuation line taken for a record start */
      const char *e = find(buf, (size_t)pos, (size_t)stop, '\n');
      int64_t le = e ? e - buf : stop;
      int r = reject(f, rej, rctx, tid, line, (csv_code)x->code, x->bad, x->nf, x->lines, buf + pos,
                     csvrec_text_len(buf + pos, (size_t)(le - pos)));
      if (r) return r;
      c.read++;
      c.rejected++;
      line++;
      pos = le + 1;
      continue;
    }
    /* a record of one line: the common one in one pass, any other through
     * csv_split and csv_check_text */
    int nf = 0;
    size_t plen = 0;
    int64_t e = (int64_t)csv_plain_record(buf, (size_t)stop, (size_t)pos, &win, s->fld, fcap, &nf, &plen);
    int64_t rline = line++, roff = pos;
    csv_code code = CSV_OK;
    int bad = -1;
    if (e != (int64_t)CSV_NOT_PLAIN) {
      pos += e + 1;
      if (plen == 0) {
        c.blank++;
        continue;
      }
      c.read++;
      if (nf != f->nh) {
        code = CSV_E_FIELD_COUNT;
      } else {
        csv_row row = {s->fld, nf, f->idx, rline, roff, tid, 0};
        code = f->conv(f->ctx, &row, &bad);
      }
    } else {
      const char *ep = find(buf, (size_t)pos, (size_t)stop, '\n');
      int64_t le = ep ? ep - buf : stop;
      size_t len = csvrec_text_len(buf + pos, (size_t)(le - pos));
      pos = le + 1;
      if (len == 0) {
        c.blank++;
        continue;
      }
      c.read++;
      if (scratch_fit(s, f->nh, len)) return CSVREC_ENOMEM;
      fcap = s->fcap;
      code = check_record(f, buf + roff, len, rline, tid, 0, s, &nf, &bad);
      /* a line that ends inside quotes is an opener, never read here */
      if (code == CSV_E_UNCLOSED_QUOTE) return CSVREC_EINCONSISTENT;
    }
    if (code != CSV_OK) {
      const char *ep = find(buf, (size_t)roff, (size_t)stop, '\n');
      int64_t le = ep ? ep - buf : stop;
      int r = reject(f, rej, rctx, tid, rline, code, bad, nf, 1, buf + roff,
                     csvrec_text_len(buf + roff, (size_t)(le - roff)));
      if (r) return r;
      c.rejected++;
    }
  }
  cnt->blank += c.blank;
  cnt->read += c.read;
  cnt->rejected += c.rejected;
  cnt->cont += c.cont;
  return 0;
}
