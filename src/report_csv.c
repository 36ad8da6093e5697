/* report_csv.c: a small RFC 4180 reader for the report (see report_csv.h).
 *
 * The whole file is read into one buffer; each field is unquoted in place
 * (unquoting only shrinks text, so it fits) and terminated with a NUL where
 * its delimiter was. Only rank 0 runs this, on files segcast wrote.
 */
#include "report_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses one record at *p; stores field starts in the growing array. */
static int parse_record(char **p, char *end, char ***fields, int *cap, int *nf) {
  char *s = *p;
  *nf = 0;
  for (;;) {
    if (*nf == *cap) {
      int nc = *cap ? *cap * 2 : 16;
      char **x = realloc(*fields, (size_t)nc * sizeof *x);
      if (!x) return -2;
      *fields = x;
      *cap = nc;
    }
    char *w = s, *start = s;
    if (s < end && *s == '"') {
      s++;
      for (;;) {
        if (s >= end) return -1; /* quote left open */
        if (*s == '"') {
          if (s + 1 < end && s[1] == '"') {
            *w++ = '"';
            s += 2;
            continue;
          }
          s++;
          break;
        }
        *w++ = *s++;
      }
      if (s < end && *s != ',' && *s != '\n' && *s != '\r') return -1;
    } else {
      while (s < end && *s != ',' && *s != '\n' && *s != '\r') *w++ = *s++;
    }
    (*fields)[(*nf)++] = start;
    char delim = s < end ? *s : '\n';
    *w = 0; /* w <= s: the terminator overwrites at most the delimiter */
    if (delim == ',') {
      s++;
      continue;
    }
    /* the terminator may have overwritten the delimiter: go by `delim` */
    if (s < end && delim == '\r') {
      s++;
      if (s < end && *s == '\n') s++;
    } else if (s < end) {
      s++;
    }
    *p = s;
    return 0;
  }
}

sc_status rtable_read(const char *path, rtable *t, int *exists) {
  memset(t, 0, sizeof *t);
  *exists = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return SC_OK;
    return sc_fail(SC_EIO, "report: cannot read %s: %s", path, strerror(errno));
  }
  *exists = 1;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  sc_status s = sc_alloc(&t->buf, (size_t)(len > 0 ? len : 0) + 2);
  if (!s && len > 0 && fread(t->buf, 1, (size_t)len, f) != (size_t)len)
    s = sc_fail(SC_EIO, "report: cannot read %s", path);
  fclose(f);
  if (s) return s;
  char *p = t->buf, *end = t->buf + (len > 0 ? len : 0);
  *end = 0;
  char **fields = NULL;
  int cap = 0, nf = 0;
  int64_t line = 1, rcap = 0;
  if (p >= end) { /* the buffer goes too (LeakSanitizer found it kept) */
    rtable_free(t);
    return sc_fail(SC_EINPUT, "report: %s is empty: rerun the stage that writes it", path);
  }
  if (parse_record(&p, end, &fields, &cap, &nf)) s = sc_fail(SC_EINPUT, "report: %s line 1: bad CSV header", path);
  if (!s) s = sc_alloc(&t->cols, (size_t)nf * sizeof *t->cols);
  if (!s) {
    t->ncol = nf;
    memcpy(t->cols, fields, (size_t)nf * sizeof *fields);
  }
  while (!s && p < end) {
    line++;
    if (*p == '\n' || *p == '\r') { /* blank line */
      p += (*p == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
      continue;
    }
    int e = parse_record(&p, end, &fields, &cap, &nf);
    if (e == -2) s = sc_fail(SC_ENOMEM, "report: out of memory reading %s", path);
    else if (e) s = sc_fail(SC_EINPUT, "report: %s line %lld: unterminated or misplaced quote", path, (long long)line);
    else if (nf != t->ncol)
      s = sc_fail(SC_EINPUT, "report: %s line %lld: %d fields where the header has %d", path, (long long)line, nf,
                  t->ncol);
    if (s) break;
    if ((t->nrow + 1) * t->ncol > rcap) {
      rcap = rcap ? rcap * 2 : 64 * (int64_t)t->ncol;
      while (rcap < (t->nrow + 1) * t->ncol) rcap *= 2;
      s = sc_realloc(&t->cells, (size_t)rcap * sizeof *t->cells);
      if (s) break;
    }
    memcpy(t->cells + t->nrow * t->ncol, fields, (size_t)nf * sizeof *fields);
    t->nrow++;
  }
  free(fields);
  if (s) rtable_free(t);
  return s;
}

void rtable_free(rtable *t) {
  free(t->buf);
  free(t->cols);
  free(t->cells);
  memset(t, 0, sizeof *t);
}

int rtable_col(const rtable *t, const char *name) {
  for (int c = 0; c < t->ncol; c++)
    if (!strcmp(t->cols[c], name)) return c;
  return -1;
}

int rtable_col_like(const rtable *t, const char *const *words) {
  for (int c = 0; c < t->ncol; c++) {
    int ok = 1;
    for (const char *const *w = words; *w && ok; w++) ok = strstr(t->cols[c], *w) != NULL;
    if (ok) return c;
  }
  return -1;
}

int report_is_number(const char *s) {
  const char *p = s;
  if (*p == '-') p++;
  int digits = 0;
  while (*p >= '0' && *p <= '9') p++, digits++;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') p++, digits++;
  }
  if (!digits) return 0;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return 0;
    while (*p >= '0' && *p <= '9') p++;
  }
  return *p == 0;
}

/* A JSON string; text that is not UTF-8 (never written by segcast) shows
 * as U+FFFD rather than dropping the cell. */
static json_t *jstr(const char *s) {
  json_t *j = json_string(s);
  return j ? j : json_string("\xEF\xBF\xBD");
}

/* Ids stay text even when they look like numbers ("00123" is not 123). */
static int text_column(const char *name) {
  size_t l = strlen(name);
  return (l >= 3 && !strcmp(name + l - 3, "_id")) || !strcmp(name, "rfm_score");
}

json_t *rtable_json(const rtable *t) {
  json_t *o = json_object(), *cols = json_array(), *rows = json_array();
  for (int c = 0; c < t->ncol; c++) json_array_append_new(cols, jstr(t->cols[c]));
  for (int64_t r = 0; r < t->nrow; r++) {
    json_t *row = json_array();
    for (int c = 0; c < t->ncol; c++) {
      const char *v = rtable_cell(t, r, c);
      if (!text_column(t->cols[c]) && report_is_number(v)) {
        int integer = !strpbrk(v, ".eE");
        json_array_append_new(row, integer ? json_integer(strtoll(v, NULL, 10)) : json_real(strtod(v, NULL)));
      } else {
        json_array_append_new(row, jstr(v));
      }
    }
    json_array_append_new(rows, row);
  }
  json_object_set_new(o, "columns", cols);
  json_object_set_new(o, "rows", rows);
  return o;
}
