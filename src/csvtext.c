/* csvtext.c: CSV text cells with RFC 4180 quoting and OWASP's formula
 * guard (see csvtext.h).
 *
 * The guard is a process-wide setting: every rank reads the same
 * configuration and sets it the same way before any output is written
 * (main.c), so outputs stay the same bytes at any rank count.
 */
#include "csvtext.h"

#include <stdlib.h>
#include <string.h>

static int raw_text;

void csvtext_set_raw(int raw) { raw_text = raw != 0; }
int csvtext_raw(void) { return raw_text; }

/* A decimal as DATA.md writes them, with its sign: -?([0-9]+(.[0-9]*)?|.[0-9]+). */
static int is_decimal(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && s[i] == '-') i++;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, digits++;
  }
  return digits > 0 && i == n;
}

int csvtext_guarded(const char *s, size_t n) {
  if (raw_text || n == 0 || !memchr("=+-@\t\r", s[0], 6)) return 0;
  return !is_decimal(s, n);
}

/* How s is written: *quote when RFC 4180 needs quotes; returns the guard. */
static int cell_plan(const char *s, size_t *n, int *quote) {
  *n = strlen(s);
  *quote = strpbrk(s, ",\"\r\n") != NULL;
  return csvtext_guarded(s, *n);
}

size_t csvtext_cell(char *dst, const char *s) {
  size_t n;
  int quote, guard = cell_plan(s, &n, &quote);
  char *d = dst;
  if (quote) *d++ = '"';
  if (guard) *d++ = '\'';
  for (; *s; s++) {
    if (quote && *s == '"') *d++ = '"';
    *d++ = *s;
  }
  if (quote) *d++ = '"';
  return (size_t)(d - dst);
}

void out_csv_field(FILE *f, const char *s) {
  size_t n;
  int quote, guard = cell_plan(s, &n, &quote);
  if (!quote && !guard) { /* the common case */
    fwrite(s, 1, n, f);
    return;
  }
  if (quote) fputc('"', f);
  if (guard) fputc('\'', f);
  for (; *s; s++) {
    if (quote && *s == '"') fputc('"', f);
    fputc(*s, f);
  }
  if (quote) fputc('"', f);
}

#define TEXTBUF_PIECE ((size_t)1 << 20)

sc_status textbuf_init(textbuf *b, FILE *f) {
  b->f = f;
  b->len = 0;
  b->cap = TEXTBUF_PIECE;
  b->buf = NULL;
  b->s = sc_alloc(&b->buf, b->cap);
  if (b->s) b->cap = 0;
  return b->s;
}

char *textbuf_room(textbuf *b, size_t n) {
  if (b->cap - b->len >= n) return b->buf + b->len;
  if (b->len) fwrite(b->buf, 1, b->len, b->f);
  b->len = 0;
  if (n > b->cap) { /* one cell longer than a piece (a 10 MB text field) */
    if ((b->s = sc_realloc(&b->buf, n))) return NULL;
    b->cap = n;
  }
  return b->buf;
}

sc_status textbuf_close(textbuf *b) {
  if (b->len && !b->s) fwrite(b->buf, 1, b->len, b->f);
  free(b->buf);
  b->buf = NULL;
  b->len = b->cap = 0;
  return b->s;
}
