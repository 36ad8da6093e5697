/* report_csv.h: reading the small output CSVs back for the report.
 *
 * The report is built from the files in the output folder (and the run's
 * summary), so `segcast report` can rebuild it from any results folder.
 * A table is read whole (RFC 4180: quoted fields, doubled quotes, CRLF) and
 * kept as text: the report shows numbers from exactly the text the CSV
 * holds. rtable_json turns a table into {"columns": [...], "rows": [[...]]}
 * for the page's charts, numbers as JSON numbers, ids (columns named *_id)
 * and other text as strings.
 */
#ifndef SEGCAST_REPORT_CSV_H
#define SEGCAST_REPORT_CSV_H

#include <jansson.h>
#include <stdint.h>

#include "segcast.h"

typedef struct {
  char *buf;      ///< the file's bytes, fields unquoted in place
  int ncol;
  char **cols;    ///< header names
  int64_t nrow;
  char **cells;   ///< nrow * ncol pointers into buf
} rtable;

/// Reads `path`. A missing file sets *exists = 0 and returns SC_OK (the
/// report says the section is not available); a malformed one fails with
/// the file and line.
sc_status rtable_read(const char *path, rtable *t, int *exists);
void rtable_free(rtable *t);
/// Column index by name, or -1.
int rtable_col(const rtable *t, const char *name);
/// First column whose name contains every one of the given words
/// (NULL-terminated list), or -1.
int rtable_col_like(const rtable *t, const char *const *words);
/// Cell text (row r, column c).
static inline const char *rtable_cell(const rtable *t, int64_t r, int c) { return t->cells[r * t->ncol + c]; }
/// True when the text is a plain decimal number ("-12", "0.5", "1e-3").
int report_is_number(const char *s);
/// The table as JSON (new reference).
json_t *rtable_json(const rtable *t);

#endif
