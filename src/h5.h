/* h5.h: parallel HDF5 access for the store, results.h5 and checkpoints.
 *
 * Tables are groups with one chunked, compressed dataset per column
 * (h5.c says which filter each type gets), written collectively: every rank writes its own rows as one
 * hyperslab after those of lower ranks (empty ranks select none). Reading
 * splits the rows evenly over the current ranks, so a file written at one
 * rank count is read at any other; callers re-partition with
 * table_exchange. Small replicated values (dictionaries, attributes,
 * centroids) are written from rank 0's copy and read by every rank.
 * Every function here is collective.
 */
#ifndef SEGCAST_H5_H
#define SEGCAST_H5_H

#include <stddef.h>
#include <stdint.h>

#include "segcast.h"
#include "table.h"

typedef struct {
  int64_t fid;
  char path[1024];
  /* set after opening: h5_write_table stores double columns of decimals
   * as integers (the store's encoding; results files keep plain doubles) */
  int pack_decimals;
  /* rows per chunk of compressed columns; 0: the default (256 Ki) */
  int64_t chunk_rows;
  /* set by a caller: h5_write_table leaves double columns uncompressed
   * (model outputs such as probabilities, where deflate costs far more
   * time than the bytes it saves are worth) */
  int plain_doubles;
  /* set by a caller: every chunked dataset also gets HDF5's Fletcher-32
   * filter (the store), so a damaged chunk is an error on reading, never
   * a wrong value */
  int checksums;
} sc_h5;

/// Codes integer scale-offset chunks with kernels/sopack.c instead of HDF5's
/// bit-at-a-time coder (the same bytes; h5_scaleoffset.c says how), or with
/// HDF5's own again when on is 0. Returns 1 when segcast's coder is in use.
/// Per process, not collective; h5_create and h5_open turn it on the first
/// time unless SEGCAST_H5_BUILTIN_SCALEOFFSET is set (for comparisons).
int h5_fast_scaleoffset(int on);

/// 1 when h5_so_encode_chunk codes the chunks of a scale-offset filter with
/// parameters cd (as HDF5 stores them in a dataset): little-endian integers
/// packed to their range's bits (not floating point, not a fixed bit count).
int h5_so_ours(size_t cd_nelmts, const unsigned cd[]);
/// Codes one whole chunk (cd[2] values at `in`) into *out, grown to *cap
/// bytes as needed, exactly as the filter does. Returns the coded size, or 0
/// when the chunk is not ours or memory ran out. No HDF5 call: any thread.
size_t h5_so_encode_chunk(size_t cd_nelmts, const unsigned cd[], const void *in, void **out, size_t *cap);

/// Codes deflate chunks of level 1 with ISA-L's igzip instead of zlib (the
/// same zlib-format streams, read by any HDF5; h5_deflate.c says how), or
/// with HDF5's own again when on is 0. Returns 1 when igzip is in use. Per
/// process; h5_create and h5_open turn it on the first time unless
/// SEGCAST_H5_BUILTIN_DEFLATE is set (for comparisons).
int h5_fast_deflate(int on);
/// Shuffles chunks with kernels/shuffle.c instead of HDF5's byte loop (the
/// same bytes), or with HDF5's own again when on is 0; 1 when in use. Per
/// process; on from the first file unless SEGCAST_H5_BUILTIN_SHUFFLE is set.
int h5_fast_shuffle(int on);
/// Computes and checks Fletcher-32 checksums with kernels/fletcher32.c
/// instead of HDF5's word loop (the same value; a mismatch is still HDF5's
/// error), or with HDF5's own again when on is 0; 1 when in use. Per
/// process; on from the first file unless SEGCAST_H5_BUILTIN_FLETCHER32 is set.
int h5_fast_fletcher32(int on);
/// Room for the deflate stream of n bytes (h5_deflate_code's cap).
size_t h5_deflate_bound(size_t n);
/// Deflates n bytes at `in` into out (cap bytes) as a zlib stream, as HDF5's
/// deflate filter at `level` would store them. Returns the coded size, or 0
/// when the level is not 1, the stream does not fit or memory ran out. No
/// HDF5 call: any thread.
size_t h5_deflate_code(unsigned level, const void *in, size_t n, void *out, size_t cap);

/// Creates (truncates) a file.
sc_status h5_create(sc_h5 *f, const char *path);
/// Opens an existing file, read-only or read-write.
sc_status h5_open(sc_h5 *f, const char *path, int writable);
/// Opens read-write, creating the file when it does not exist.
sc_status h5_open_or_create(sc_h5 *f, const char *path);
sc_status h5_close(sc_h5 *f);
/// True (on every rank) when the object exists.
int h5_exists(sc_h5 *f, const char *obj);

/// Writes table t as group `group` (replacing one of that name). The rows
/// may use t's spare capacity (rows n to cap of its columns) as scratch to
/// complete a chunk shared with the next rank; rows 0 to n stay as they are.
sc_status h5_write_table(sc_h5 *f, const char *group, const sc_table *t);
/// Reads group `group` into t (initialised here with the file's columns),
/// rows split evenly over ranks in file order. *total gets the global row
/// count (may be NULL).
sc_status h5_read_table(sc_h5 *f, const char *group, sc_table *t, int64_t *total);
/// h5_read_table of only the columns named in `only` (comma-separated, in
/// the file's order); a missing one is an error.
sc_status h5_read_columns(sc_h5 *f, const char *group, const char *only, sc_table *t, int64_t *total);

/// Replicated string list (same on every rank; rank 0's copy is written).
sc_status h5_write_strings(sc_h5 *f, const char *path, char *const *s, int64_t n);
sc_status h5_read_strings(sc_h5 *f, const char *path, char ***s, int64_t *n);
/// Replicated arrays (rank 0's copy is written); read allocates *v.
sc_status h5_write_f64(sc_h5 *f, const char *path, const double *v, int64_t rows, int64_t cols);
sc_status h5_read_f64(sc_h5 *f, const char *path, double **v, int64_t *rows, int64_t *cols);
sc_status h5_write_i64(sc_h5 *f, const char *path, const int64_t *v, int64_t n);
sc_status h5_read_i64(sc_h5 *f, const char *path, int64_t **v, int64_t *n);

/// 1 when object obj has attribute name (local, no collective call).
int h5_has_attr(sc_h5 *f, const char *obj, const char *name);
/// Attributes on an object ("/" for the file): integers, doubles, text.
sc_status h5_set_attr_i64(sc_h5 *f, const char *obj, const char *name, int64_t v);
sc_status h5_get_attr_i64(sc_h5 *f, const char *obj, const char *name, int64_t *v);
sc_status h5_set_attr_f64(sc_h5 *f, const char *obj, const char *name, double v);
sc_status h5_get_attr_f64(sc_h5 *f, const char *obj, const char *name, double *v);
sc_status h5_set_attr_str(sc_h5 *f, const char *obj, const char *name, const char *v);
/// Reads a text attribute into buf (cap bytes).
sc_status h5_get_attr_str(sc_h5 *f, const char *obj, const char *name, char *buf, size_t cap);

/// Removes an object when present (groups replaced on rewrite).
sc_status h5_remove(sc_h5 *f, const char *obj);

#endif
