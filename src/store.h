/* store.h: the HDF5 store that ingest writes and every later stage reads.
 *
 * Layout (schema version SC_STORE_VERSION):
 *   /            attributes: schema_version, layout, has_* flags,
 *                first_day, last_day (of the valid lines), writer_ranks
 *   /lines /users /clicks /inventory /network   tables (h5.h), one dataset
 *                per column, rows in writer rank order
 *   /dict/sku /dict/region   text dictionaries (online-retail, transactions)
 *   /sources     per input file: name (in /sources/names), bytes, xxh3
 *                checksum, rows read, loaded and rejected, physical lines,
 *                blank lines and continuation lines (DATA.md 7)
 * Every chunked dataset carries HDF5's Fletcher-32 checksum (version 4;
 * version 3 had none): a damaged chunk stops the reader with a line naming
 * the store and the dataset.
 * A store is read at any rank count: rows are re-partitioned on load.
 */
#ifndef SEGCAST_STORE_H
#define SEGCAST_STORE_H

#include "h5.h"
#include "run.h"

#define SC_STORE_VERSION 4

typedef struct {
  char name[64];
  int64_t bytes, read, loaded, rejected; ///< rows (whole file)
  int64_t lines, blank, cont;            ///< physical lines (whole file)
  uint64_t checksum;
} store_source;

/// summary.json's "input": the layout and, per file, its rows, lines,
/// size and checksum (from ingest, or from a store loaded later).
void store_summarize_input(sc_run *run, const char *layout, const store_source *src, int n_src);

/// Resolves first/last valid day and as_of (run.as_of or last + 1) on ds.
sc_status dataset_finish(sc_run *run, sc_dataset *ds);
/// Adds "as_of" and "sales" (valid, return, cancelled lines, lines without
/// user, revenue) to the summary; revenue is summed in fixed point (1e-6)
/// so it does not depend on the rank count.
void store_summarize_sales(sc_run *run, const sc_dataset *ds);
/// Collective: writes ds and the sources to the staging folder (or beside
/// a run.store elsewhere); published with the other outputs (outdir.c).
sc_status store_write(sc_run *run, const sc_dataset *ds, const store_source *src, int n_src);

#endif
