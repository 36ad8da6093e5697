/* csvtext.h: the text cells of every CSV output, in one place.
 *
 * A text cell is written as RFC 4180 says (as it is, or quoted with '"'
 * doubled when it holds a comma, quote, CR or LF) and, unless the run
 * keeps raw text (output.csv_raw_text), with OWASP's guard against "CSV
 * injection": text that begins with '=', '+', '-', '@', a tab or a CR is
 * a formula to Excel and LibreOffice, so it gets a leading '\'' (shown as
 * text, not run). A cell that is a plain decimal number ("-3.5", "-12") is
 * a number to the spreadsheet, not a formula, and is left alone. Numbers
 * segcast computes are written by printf/fmt.h, never through here.
 * docs/bi.md ("Text from the input") documents the rule.
 */
#ifndef SEGCAST_CSVTEXT_H
#define SEGCAST_CSVTEXT_H

#include <stddef.h>
#include <stdio.h>

#include "segcast.h"

/// Keep text as the input had it (1) or guard formula-led cells (0, the
/// default). Set once per process from output.csv_raw_text.
void csvtext_set_raw(int raw);
int csvtext_raw(void);
/// True when s[0..n) would get the '\'' prefix (guard on and a formula
/// start that is not a plain decimal number).
int csvtext_guarded(const char *s, size_t n);
/// Capacity csvtext_cell needs for n bytes of text.
#define CSVTEXT_MAX(n) (2 * (size_t)(n) + 3)
/// Writes s as one CSV text cell into dst (CSVTEXT_MAX(strlen(s)) bytes);
/// returns the bytes written (no NUL).
size_t csvtext_cell(char *dst, const char *s);
/// The same cell, written to f. Every CSV output's text cells use this.
void out_csv_field(FILE *f, const char *s);

/// A text output formatted in memory and written to f in large pieces
/// (one fwrite a megabyte instead of stdio calls per cell): ask for room,
/// write up to that many bytes there, say where the text ends.
typedef struct {
  FILE *f;
  char *buf;
  size_t len, cap;
  sc_status s; ///< SC_ENOMEM once a larger piece could not be had
} textbuf;
sc_status textbuf_init(textbuf *b, FILE *f);
/// Where to write n more bytes (writing out what is held when they do not
/// fit); NULL when memory for a larger piece ran out (the status is set).
char *textbuf_room(textbuf *b, size_t n);
/// The text now ends at `end` (inside the room last given).
static inline void textbuf_wrote(textbuf *b, const char *end) { b->len = (size_t)(end - b->buf); }
/// Writes out what is held and frees the buffer; returns b->s. f stays
/// open (its write errors show in ferror, which out_commit checks).
sc_status textbuf_close(textbuf *b);

#endif
