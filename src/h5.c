/* h5.c: parallel HDF5 tables, arrays, strings and attributes (see h5.h).
 *
 * Traps handled here (FIELD-NOTES.md): compression needs collective
 * writes and chunking; every rank joins every call even with nothing to
 * write (H5Sselect_none); chunks are allocated at creation, so the fill
 * value is never written; metadata operations are collective.
 * Chunk size: 256 Ki rows at most (2 MiB of int64: the chunk HDF5 copies
 * and the coder reads stay in the cache; 1 Mi rows took 0.37 s to store
 * the 1M-user set, 256 Ki 0.31 s, for a 7 % smaller file), and never more
 * rows than the table holds;
 * each chunk is written whole by one rank (rows at a rank's start that
 * belong to a chunk begun on a lower rank move there first). A run on one
 * rank codes its integer chunks on its threads and writes them with
 * H5Dwrite_chunk (write_direct), the same bytes without HDF5's copies.
 * Compression: integer columns scale-offset (a column's minimum-value
 * sentinel as the fill value; the chunks coded by h5_scaleoffset.c, HDF5's
 * format), decimal doubles as scaled integers, other doubles shuffle +
 * deflate.
 */
#include "h5.h"

#include <hdf5.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "csv.h"
#include "fletcher32.h"
#include "shuffle.h"

#define CHUNK_ROWS ((hsize_t)1 << 18)

static hid_t h5_type(sc_coltype t) {
  switch (t) {
    case SC_U8: return H5T_NATIVE_UINT8;
    case SC_I32: return H5T_NATIVE_INT32;
    case SC_I64: return H5T_NATIVE_INT64;
    case SC_F64: return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_UINT8;
}

static sc_status h5_err(const sc_h5 *f, const char *what, const char *obj) {
  return sc_fail(SC_EIO, "HDF5: cannot %s %s in %s: check the file is a segcast file and the disk has room", what, obj,
                 f->path);
}

/* A collective HDF5 write or close that failed on this rank (a full disk,
 * an I/O error) may have left other ranks inside HDF5's own collective
 * MPI-IO calls, which this rank will never join: waiting in comm_agree
 * would hang the job. And HDF5 1.10 cannot close such a file: the file it
 * keeps open crashes MPI_Finalize (seen at 1 rank on a full tmpfs). So the
 * job stops here, at any rank count, with the failure's line. */
static void parallel_write_failed(sc_status s) {
  comm_fatal(s, "an HDF5 write failed part-way; the ranks cannot finish theirs, nor HDF5 close the file");
}

/* the first file opened decides the scale-offset, deflate, shuffle and
 * Fletcher-32 coders (see h5.h) */
static void choose_coder(void) {
  static int chosen;
  if (!chosen) {
    h5_fast_scaleoffset(!getenv("SEGCAST_H5_BUILTIN_SCALEOFFSET"));
    h5_fast_deflate(!getenv("SEGCAST_H5_BUILTIN_DEFLATE"));
    h5_fast_shuffle(!getenv("SEGCAST_H5_BUILTIN_SHUFFLE"));
    h5_fast_fletcher32(!getenv("SEGCAST_H5_BUILTIN_FLETCHER32"));
  }
  chosen = 1;
}

sc_status h5_create(sc_h5 *f, const char *path) {
  choose_coder();
  memset(f, 0, sizeof *f);
  snprintf(f->path, sizeof f->path, "%s", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = (hid_t)comm_h5_fapl();
  hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  f->fid = fid;
  return comm_agree(fid < 0 ? sc_fail(SC_EIO, "cannot create HDF5 file %s: check the folder exists and is writable", path)
                            : SC_OK);
}

sc_status h5_open(sc_h5 *f, const char *path, int writable) {
  choose_coder();
  memset(f, 0, sizeof *f);
  snprintf(f->path, sizeof f->path, "%s", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = (hid_t)comm_h5_fapl();
  hid_t fid = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  f->fid = fid;
  return comm_agree(fid < 0 ? sc_fail(SC_ESTORE, "cannot open HDF5 file %s: run the step that writes it first", path)
                            : SC_OK);
}

sc_status h5_open_or_create(sc_h5 *f, const char *path) {
  FILE *probe = fopen(path, "rb");
  int exists = probe != NULL;
  if (probe) fclose(probe);
  int64_t all = comm_min1_i64(exists);
  if (all) return h5_open(f, path, 1);
  return h5_create(f, path);
}

sc_status h5_close(sc_h5 *f) {
  if (f->fid <= 0) return SC_OK;
  herr_t e = H5Fclose((hid_t)f->fid);
  f->fid = 0;
  if (e < 0) parallel_write_failed(sc_fail(SC_EIO, "closing %s failed: check free disk space", f->path));
  return comm_agree(e < 0 ? SC_EIO : SC_OK);
}

int h5_exists(sc_h5 *f, const char *obj) {
  if (!strcmp(obj, "/")) return 1;
  /* check each path component so a missing parent is not an error */
  char buf[512];
  snprintf(buf, sizeof buf, "%s", obj);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (H5Lexists((hid_t)f->fid, buf, H5P_DEFAULT) <= 0) return 0;
      if (!c) break;
      *p = c;
    }
  }
  return 1;
}

sc_status h5_remove(sc_h5 *f, const char *obj) {
  if (h5_exists(f, obj) && H5Ldelete((hid_t)f->fid, obj, H5P_DEFAULT) < 0) return comm_agree(h5_err(f, "remove", obj));
  return comm_agree(SC_OK);
}

/* Creates intermediate groups of a path like "/a/b/c" (not c itself). */
static void h5_parents(sc_h5 *f, const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (H5Lexists((hid_t)f->fid, buf, H5P_DEFAULT) <= 0) {
      hid_t g = H5Gcreate2((hid_t)f->fid, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (g >= 0) H5Gclose(g);
    }
    *p = '/';
  }
}

/* One collective H5Dwrite: this rank's n rows from data land at row off
 * (n == 0: the rank selects nothing but joins the call). */
static herr_t write_slab(hid_t ds, hid_t type, const void *data, hsize_t off, hsize_t n, hsize_t cols) {
  int rank = cols > 1 ? 2 : 1;
  hid_t fs = H5Dget_space(ds);
  hsize_t start[2] = {off, 0}, count[2] = {n, cols};
  hid_t ms = H5Screate_simple(rank, count, NULL);
  if (n > 0) H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  else {
    H5Sselect_none(fs);
    H5Sselect_none(ms);
  }
  hid_t dxpl = (hid_t)comm_h5_dxpl();
  static const char dummy[8];
  herr_t e = H5Dwrite(ds, type, ms, fs, dxpl, n > 0 ? data : dummy);
  H5Pclose(dxpl);
  H5Sclose(ms);
  H5Sclose(fs);
  return e;
}

/* Writes a chunked 1-D dataset so that every chunk is written whole by one
 * rank, in one collective call: a chunk shared by ranks costs parallel
 * HDF5 1.10 far more than the rows in it, and so does a second call. The
 * owner of a chunk is the rank that holds its first row. Each rank sends
 * the rows at its start that belong to a chunk begun on a lower rank to
 * that rank (they are the head of its buffer: no copy); a rank that
 * receives rows appends them to its own where `room` rows of memory past
 * its n are free to write (a table's capacity), else to a copy of its own. */
static sc_status write_chunked(hid_t ds, hid_t type, size_t es, const void *data, hsize_t off, hsize_t n,
                               hsize_t room, hsize_t total, hsize_t c) {
  int size = comm_size();
  hsize_t lo = off, hi = off + n;
  int64_t *starts = NULL, *counts = NULL, *rcounts = NULL, rn = 0;
  void *recv = NULL;
  char *joined = NULL;
  size_t got = 0;
  int64_t lo64 = (int64_t)lo;
  sc_status s = comm_allgatherv(&lo64, sizeof lo64, (void **)&starts, &got, NULL); /* every rank's first row */
  if (!s) s = sc_calloc(&counts, (size_t)size, sizeof *counts);
  if (!s) s = sc_calloc(&rcounts, (size_t)size, sizeof *rcounts);
  /* the head: rows of a chunk that starts before this rank's first row */
  hsize_t head = 0;
  if (!s && n > 0 && lo % c != 0) {
    hsize_t cs = lo / c * c;
    head = SC_MIN(hi, cs + c) - lo;
    int owner = 0; /* the rank that holds row cs: the last one starting at or before it with rows */
    for (int r = 0; r < size; r++)
      if ((hsize_t)starts[r] <= cs && (r + 1 == size ? total : (hsize_t)starts[r + 1]) > (hsize_t)starts[r]) owner = r;
    counts[owner] = (int64_t)head;
  }
  s = comm_agree(s);
  if (!s) s = comm_agree(comm_alltoallv(data, counts, es, &recv, rcounts, &rn));
  /* rows received complete the chunk that holds this rank's last row */
  const char *from = (const char *)data + (size_t)head * es;
  hsize_t mine = n - head;
  if (!s && rn > 0 && (hsize_t)rn <= room) {
    /* the rows go after this rank's own, in the memory its caller lent */
    memcpy((char *)(uintptr_t)data + (size_t)n * es, recv, (size_t)rn * es);
  } else if (!s && rn > 0) {
    s = sc_alloc(&joined, (size_t)(mine + (hsize_t)rn) * es);
    if (!s) {
      memcpy(joined, from, (size_t)mine * es);
      memcpy(joined + (size_t)mine * es, recv, (size_t)rn * es);
      from = joined;
    }
  }
  s = comm_agree(s);
  if (!s && write_slab(ds, type, from, lo + head, mine + (hsize_t)rn, 1) < 0)
    s = sc_fail(SC_EIO, "HDF5: chunk write failed");
  free(starts);
  free(counts);
  free(rcounts);
  free(recv);
  free(joined);
  return s;
}

/* The pipelines write_direct codes itself: scale-offset (integers), or
 * shuffle + deflate at level 1 (doubles), either one followed or not by
 * Fletcher-32 (the store). */
enum { DIRECT_NONE, DIRECT_SO, DIRECT_DEFLATE };

/* Which of them dataset ds has, with the scale-offset parameters in cd
 * (*ncd of them) and *sum = 1 when Fletcher-32 ends it; DIRECT_NONE for
 * any other pipeline or parameters (a chunk of c values of es bytes). */
static int direct_kind(hid_t ds, size_t es, hsize_t c, unsigned cd[32], size_t *ncd, int *sum) {
  hid_t dcpl = H5Dget_create_plist(ds);
  int nf = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl), kind = DIRECT_NONE;
  H5Z_filter_t id[3] = {-1, -1, -1};
  unsigned fcd[3][32];
  size_t fn[3] = {32, 32, 32};
  for (int i = 0; i < nf && i < 3; i++) {
    unsigned fl;
    id[i] = H5Pget_filter2(dcpl, (unsigned)i, &fl, &fn[i], fcd[i], 0, NULL, NULL);
  }
  if (dcpl >= 0) H5Pclose(dcpl);
  H5Eclear2(H5E_DEFAULT);
  int used = 0;
  if (nf >= 1 && id[0] == H5Z_FILTER_SCALEOFFSET && fn[0] >= 10 && fn[0] <= 32 && h5_so_ours(fn[0], fcd[0]) &&
      fcd[0][2] == c && fcd[0][4] == es) {
    kind = DIRECT_SO, used = 1;
    memcpy(cd, fcd[0], fn[0] * sizeof *cd);
    *ncd = fn[0];
  } else if (nf >= 2 && id[0] == H5Z_FILTER_SHUFFLE && fn[0] == 1 && fcd[0][0] == es && id[1] == H5Z_FILTER_DEFLATE &&
             fn[1] == 1 && fcd[1][0] == 1) {
    kind = DIRECT_DEFLATE, used = 2;
  }
  *sum = kind != DIRECT_NONE && nf == used + 1 && id[used] == H5Z_FILTER_FLETCHER32;
  return kind != DIRECT_NONE && nf == used + *sum ? kind : DIRECT_NONE;
}

/* Codes one chunk (c values of es bytes at `in`) into *out as the pipeline
 * would: the coded size, 0 when out of memory. *tmp: the shuffled bytes. */
static size_t direct_code(int kind, size_t ncd, const unsigned cd[], int sum, const char *in, size_t bytes, size_t es,
                          void **out, size_t *cap, void **tmp) {
  size_t len = 0;
  if (kind == DIRECT_SO) {
    len = h5_so_encode_chunk(ncd, cd, in, out, cap);
  } else {
    size_t need = h5_deflate_bound(bytes);
    if (!*tmp) *tmp = malloc(bytes);
    if (*cap < need) {
      void *g = realloc(*out, need);
      if (g) *out = g, *cap = need;
    }
    if (!*tmp || *cap < need) return 0;
    shuffle_bytes(in, bytes, es, *tmp);
    len = h5_deflate_code(1, *tmp, bytes, *out, *cap);
  }
  if (sum && len) {
    void *grown = *cap >= len + 4 ? *out : realloc(*out, len + 4);
    if (!grown) return 0;
    *out = grown;
    *cap = SC_MAX(*cap, len + 4);
    uint32_t f32 = fletcher32(grown, len);
    unsigned char *t = (unsigned char *)grown + len;
    for (int i = 0; i < 4; i++) t[i] = (unsigned char)(f32 >> (8 * i)); /* little-endian, as HDF5 stores it */
    len += 4;
  }
  return len;
}

/* One rank writing a compressed column: its threads code the chunks (T at
 * a time) and each is written as it is with H5Dwrite_chunk. HDF5's
 * collective path copies every chunk twice (gather, then scatter into the
 * chunk buffer) and calls the filters from one thread; the file holds the
 * same filters and parameters and the data reads back the same (the same
 * coders; the last chunk's rows past the end hold the fill value, or the
 * last row's value, or zeros for doubles, never read). HDF5 1.10 cannot
 * take direct chunk writes from several ranks (each would allocate file
 * space and index chunks on its own). *done = 0 when the column is not one
 * this takes: nothing was written. */
static sc_status write_direct(hid_t ds, size_t es, const char *data, hsize_t n, hsize_t c, int *done) {
  *done = 0;
  unsigned cd[32];
  size_t ncd = 0;
  int sum = 0, kind = direct_kind(ds, es, c, cd, &ncd, &sum);
  if (kind == DIRECT_NONE) return SC_OK;
  const int T = omp_get_max_threads();
  const hsize_t nchunks = (n + c - 1) / c;
  void **buf = NULL, **tmp = NULL;
  size_t *cap = NULL, *len = NULL;
  char *edge = NULL;
  sc_status s = sc_calloc(&buf, (size_t)T, sizeof *buf);
  if (!s) s = sc_calloc(&tmp, (size_t)T, sizeof *tmp);
  if (!s) s = sc_calloc(&cap, (size_t)T, sizeof *cap);
  if (!s) s = sc_calloc(&len, (size_t)T, sizeof *len);
  if (!s && n % c) {
    hsize_t rows = n % c;
    s = sc_calloc(&edge, (size_t)c, es);
    if (!s) {
      memcpy(edge, data + (size_t)(n - rows) * es, (size_t)rows * es);
      char pad[8];
      uint64_t fv = (uint64_t)cd[8] | (uint64_t)cd[9] << 32; /* the fill value's bytes, low first */
      if (kind == DIRECT_SO) {
        if (cd[7] == 1) memcpy(pad, &fv, es);
        else memcpy(pad, edge + (size_t)(rows - 1) * es, es);
        for (hsize_t i = rows; i < c; i++) memcpy(edge + (size_t)i * es, pad, es);
      }
    }
  }
  for (hsize_t b = 0; !s && b < nchunks; b += (hsize_t)T) {
    int m = (int)SC_MIN((hsize_t)T, nchunks - b);
#pragma omp parallel for num_threads(m) schedule(static, 1)
    for (int j = 0; j < m; j++) {
      hsize_t k = b + (hsize_t)j;
      const char *in = (k + 1) * c > n ? edge : data + (size_t)(k * c) * es;
      len[j] = direct_code(kind, ncd, cd, sum, in, (size_t)c * es, es, &buf[j], &cap[j], &tmp[j]);
    }
    for (int j = 0; !s && j < m; j++) {
      hsize_t off = (b + (hsize_t)j) * c;
      if (!len[j]) s = sc_fail(SC_ENOMEM, "out of memory coding a chunk");
      else if (H5Dwrite_chunk(ds, H5P_DEFAULT, 0, &off, len[j], buf[j]) < 0) s = SC_EIO;
    }
  }
  for (int j = 0; buf && j < T; j++) free(buf[j]);
  for (int j = 0; tmp && j < T; j++) free(tmp[j]);
  free(buf);
  free(tmp);
  free(cap);
  free(len);
  free(edge);
  if (!s) *done = 1;
  return s;
}

/* Collective write of a 1-D (or rows x cols) dataset: this rank's `n` rows
 * land at row `off` of a dataset of `total` rows; `room`: rows of data's memory
 * past n that the write may use (0: none). */
static sc_status h5_write_rows(sc_h5 *f, const char *path, hid_t type, const void *data, hsize_t off, hsize_t n,
                               hsize_t room, hsize_t total, hsize_t cols, int compress, const void *fill) {
  h5_parents(f, path);
  hsize_t dims[2] = {total, cols};
  int rank = cols > 1 ? 2 : 1;
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  hsize_t chunk_rows = f->chunk_rows > 0 ? (hsize_t)f->chunk_rows : CHUNK_ROWS;
  if (total < chunk_rows) chunk_rows = total;
  if (compress && total > 0) {
    hsize_t chunk[2] = {chunk_rows, cols};
    H5Pset_chunk(dcpl, rank, chunk);
    /* integers: scale-offset packing (lossless, bits per value from the
     * chunk's range); doubles: shuffle + deflate. Deflate on every column
     * cost 43 % of an ingest's CPU time; packing the integers instead
     * saves 30 % of it for a store about twice as large. */
    if (H5Tget_class(type) == H5T_INTEGER) {
      /* a declared fill value is left out of the chunk's range: a column's
       * "none" sentinel (its type's minimum) costs one code, not 64 bits */
      if (fill) H5Pset_fill_value(dcpl, type, fill);
      H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT);
    } else if (!f->plain_doubles) {
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 1);
    }
    if (f->checksums) H5Pset_fletcher32(dcpl); /* last: the checksum of the stored bytes */
  }
  if (H5Lexists((hid_t)f->fid, path, H5P_DEFAULT) > 0) H5Ldelete((hid_t)f->fid, path, H5P_DEFAULT);
  hid_t ds = H5Dcreate2((hid_t)f->fid, path, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  sc_status s = SC_OK;
  if (ds < 0) s = h5_err(f, "create dataset", path);
  else if (total == 0) {
    /* an empty dataset has no storage to write (total is the same on every rank) */
  } else if (compress && cols == 1) {
    int done = 0;
    if (comm_size() == 1)
      s = write_direct(ds, H5Tget_size(type), data, n, chunk_rows, &done);
    if (!s && !done) s = write_chunked(ds, type, H5Tget_size(type), data, off, n, room, total, chunk_rows);
    if (s == SC_EIO) {
      sc_clear();
      s = h5_err(f, "write", path);
    }
  } else if (write_slab(ds, type, data, off, n, cols) < 0) {
    s = h5_err(f, "write", path);
  }
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
  if (s == SC_EIO) parallel_write_failed(s);
  return comm_agree(s);
}

static herr_t find_checksum(unsigned n, const H5E_error2_t *e, void *found) {
  (void)n;
  if (e->desc && strstr(e->desc, "Fletcher32")) *(int *)found = 1;
  return 0;
}

/* 1 when the error HDF5 just recorded is a Fletcher-32 mismatch ("data
 * error detected by Fletcher32 checksum", HDF5 1.10's H5Zfletcher32.c). */
static int checksum_failed(void) {
  int found = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_checksum, &found);
  return found;
}

/* Collective read of rows [off, off+n) of a dataset; *data allocated. */
static sc_status h5_read_rows(sc_h5 *f, const char *path, hid_t type, size_t esize, void **data, hsize_t off, hsize_t n,
                              hsize_t cols) {
  sc_status s = SC_OK;
  hid_t ds = H5Dopen2((hid_t)f->fid, path, H5P_DEFAULT);
  if (ds < 0) return comm_agree(sc_fail(SC_ESTORE, "%s has no dataset %s: rewrite it with this version", f->path, path));
  s = sc_alloc(data, (size_t)(n ? n : 1) * cols * esize);
  hid_t fs = H5Dget_space(ds);
  int rank = H5Sget_simple_extent_ndims(fs);
  hsize_t start[2] = {off, 0}, count[2] = {n, cols};
  hid_t ms = H5Screate_simple(rank, count, NULL);
  if (n > 0 && !s) H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  else {
    H5Sselect_none(fs);
    H5Sselect_none(ms);
  }
  hid_t dxpl = (hid_t)comm_h5_dxpl();
  char dummy[16];
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(fs, dims, NULL);
  if (dims[0] > 0 && H5Dread(ds, type, ms, fs, dxpl, (n > 0 && !s) ? *data : dummy) < 0 && !s)
    s = checksum_failed() ? sc_fail(SC_ESTORE,
                                    "%s: dataset %s fails its Fletcher-32 checksum: the file is damaged; write it "
                                    "again (a store: segcast ingest)",
                                    f->path, path)
                          : h5_err(f, "read", path);
  H5Pclose(dxpl);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(ds);
  return comm_agree(s);
}

static hsize_t h5_rows(sc_h5 *f, const char *path, hsize_t *cols) {
  hid_t ds = H5Dopen2((hid_t)f->fid, path, H5P_DEFAULT);
  if (ds < 0) return (hsize_t)-1;
  hid_t fs = H5Dget_space(ds);
  hsize_t dims[2] = {0, 1};
  int r = H5Sget_simple_extent_dims(fs, dims, NULL);
  if (cols) *cols = r == 2 ? dims[1] : 1;
  H5Sclose(fs);
  H5Dclose(ds);
  return dims[0];
}

/* decimal_places over the rank's threads: each finds its rows' places and
 * packs them at those; rows packed at fewer places than the most any
 * thread needs are packed again at that, as the ranks agree on theirs.
 * -1 when a value is not a decimal of at most DECIMAL_MAX_PLACES places
 * (or does not come back at the agreed places). */
static int decimal_places_par(const double *v, int64_t n, int64_t *packed) {
  const int T = omp_get_max_threads();
  int *kt = NULL;
  if (T == 1) return decimal_places(v, n, packed);
  if (sc_calloc(&kt, (size_t)T, sizeof *kt)) {
    sc_clear(); /* no memory for T ints: one pass on this thread */
    return decimal_places(v, n, packed);
  }
#pragma omp parallel num_threads(T)
  {
    int t = omp_get_thread_num();
    kt[t] = decimal_places(v + n * t / T, n * (t + 1) / T - n * t / T, packed + n * t / T);
  }
  int k = 0;
  for (int t = 0; t < T; t++) k = kt[t] < 0 || k < 0 ? -1 : SC_MAX(k, kt[t]);
  int ok = 1;
  if (k >= 0) {
#pragma omp parallel num_threads(T) reduction(& : ok)
    {
      int t = omp_get_thread_num();
      if (kt[t] != k) ok = decimal_pack(v + n * t / T, n * (t + 1) / T - n * t / T, k, packed + n * t / T);
    }
  }
  free(kt);
  return k >= 0 && ok ? k : -1;
}

/* A double column of decimals (prices, amounts) is stored exactly as
 * integers of 10^-k with the dataset attribute "decimals" = k: packed
 * like every integer column at a tenth of deflate's cost. Any value that
 * would not come back bit for bit keeps the whole column as doubles. */
static sc_status write_f64_column(sc_h5 *f, const char *path, const double *v, int64_t off, int64_t n,
                                  int64_t room_v, int64_t total) {
  int64_t *packed = NULL, room = f->chunk_rows > 0 ? f->chunk_rows : (int64_t)CHUNK_ROWS; /* a chunk's rows to spare */
  int k = sc_alloc(&packed, sizeof(int64_t) * (size_t)(n + room)) == SC_OK ? decimal_places_par(v, n, packed) : -1;
  int64_t kk = comm_min1_i64(k) < 0 ? -1 : comm_max1_i64(k);
  int ok = kk >= 0;
  /* packed at this rank's k; ranks agree on the largest */
  if (ok && kk != k) ok = decimal_pack(v, n, (int)kk, packed);
  if (comm_min1_i64(ok)) {
    sc_status s =
        h5_write_rows(f, path, H5T_NATIVE_INT64, packed, (hsize_t)off, (hsize_t)n, (hsize_t)room, (hsize_t)total, 1, 1, NULL);
    free(packed);
    SC_TRY(s);
    return h5_set_attr_i64(f, path, "decimals", kk);
  }
  sc_clear();
  free(packed);
  return h5_write_rows(f, path, H5T_NATIVE_DOUBLE, v, (hsize_t)off, (hsize_t)n, (hsize_t)room_v, (hsize_t)total, 1, 1, NULL);
}

sc_status h5_write_table(sc_h5 *f, const char *group, const sc_table *t) {
  int64_t off = comm_exscan_i64(t->n), total = comm_sum1_i64(t->n);
  SC_TRY(h5_remove(f, group));
  char path[512];
  for (int c = 0; c < t->ncols; c++) {
    const sc_column *col = &t->cols[c];
    snprintf(path, sizeof path, "%s/%s", group, col->name);
    if (col->type == SC_F64 && f->pack_decimals) {
      SC_TRY(write_f64_column(f, path, col->data, off, t->n, t->cap - t->n, total));
      continue;
    }
    /* every integer column declares its "none" (the type's minimum) as the
     * fill value, whether or not a row holds it: finding out took a pass
     * over the column (8 % of the store write), and the declared value
     * costs a chunk one more bit a value only when its range is a power of
     * two (the 1M-user store grew 0.3 %) */
    static const int64_t fill64 = INT64_MIN;
    static const int32_t fill32 = INT32_MIN;
    const void *fp = col->type == SC_I64 ? (const void *)&fill64 : col->type == SC_I32 ? (const void *)&fill32 : NULL;
    SC_TRY(h5_write_rows(f, path, h5_type(col->type), col->data, (hsize_t)off, (hsize_t)t->n,
                         (hsize_t)(t->cap - t->n), (hsize_t)total, 1, 1,
                         fp));
  }
  /* column order and types, so a reader rebuilds the same table */
  char spec[SC_TABLE_MAXCOLS * 40] = "";
  static const char *tn[] = {"u8", "i32", "i64", "f64"};
  for (int c = 0; c < t->ncols; c++) {
    size_t l = strlen(spec);
    snprintf(spec + l, sizeof spec - l, "%s%s:%s", c ? "," : "", t->cols[c].name, tn[t->cols[c].type]);
  }
  if (t->ncols == 0) h5_parents(f, path);
  SC_TRY(h5_set_attr_str(f, group, "columns", spec));
  return h5_set_attr_i64(f, group, "rows", total);
}

/* Keeps in spec ("name:type,...") the columns named in the comma-separated
 * list `only`; 0 when one of them is missing. */
static int spec_keep(char *spec, const char *only) {
  char out[SC_TABLE_MAXCOLS * 40] = "", list[SC_TABLE_MAXCOLS * 40];
  int want = 0, got = 0;
  snprintf(list, sizeof list, ",%s,", only);
  for (const char *p = only; *p; p++) want += *p == ',';
  want++;
  for (char *save = NULL, *c = strtok_r(spec, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
    char key[64];
    const char *colon = strchr(c, ':');
    size_t l = colon ? (size_t)(colon - c) : strlen(c);
    if (l + 3 > sizeof key) continue;
    key[0] = ',';
    memcpy(key + 1, c, l);
    key[l + 1] = ',';
    key[l + 2] = 0;
    if (!strstr(list, key)) continue;
    size_t o = strlen(out);
    snprintf(out + o, sizeof out - o, "%s%s", o ? "," : "", c);
    got++;
  }
  strcpy(spec, out);
  return got == want;
}

sc_status h5_read_table(sc_h5 *f, const char *group, sc_table *t, int64_t *total_out) {
  return h5_read_columns(f, group, NULL, t, total_out);
}

sc_status h5_read_columns(sc_h5 *f, const char *group, const char *only, sc_table *t, int64_t *total_out) {
  char spec[SC_TABLE_MAXCOLS * 40];
  int64_t total = 0;
  if (!h5_exists(f, group)) return comm_agree(sc_fail(SC_ESTORE, "%s has no table %s: run the stage that writes it", f->path, group));
  SC_TRY(h5_get_attr_str(f, group, "columns", spec, sizeof spec));
  SC_TRY(h5_get_attr_i64(f, group, "rows", &total));
  if (only && !spec_keep(spec, only))
    return comm_agree(sc_fail(SC_ESTORE, "%s: table %s lacks one of the columns %s: rewrite it with this version",
                              f->path, group, only));
  const char *name = strrchr(group, '/');
  SC_TRY(comm_agree(table_init(t, name ? name + 1 : group, spec)));
  int size = comm_size(), rank = comm_rank();
  hsize_t lo = (hsize_t)(total * rank / size), hi = (hsize_t)(total * (rank + 1) / size);
  char path[512];
  for (int c = 0; c < t->ncols; c++) {
    snprintf(path, sizeof path, "%s/%s", group, t->cols[c].name);
    void *d = NULL;
    int64_t k = -1;
    if (t->cols[c].type == SC_F64 && h5_has_attr(f, path, "decimals")) SC_TRY(h5_get_attr_i64(f, path, "decimals", &k));
    if (k < 0) {
      SC_TRY(h5_read_rows(f, path, h5_type(t->cols[c].type), coltype_size(t->cols[c].type), &d, lo, hi - lo, 1));
    } else if (k > DECIMAL_MAX_PLACES) {
      return comm_agree(sc_fail(SC_ESTORE, "%s: %s has %lld decimals: not written by segcast", f->path, path, (long long)k));
    } else {
      SC_TRY(h5_read_rows(f, path, H5T_NATIVE_INT64, 8, &d, lo, hi - lo, 1));
      decimal_unpack(d, (int64_t)(hi - lo), (int)k, d);
    }
    t->cols[c].data = d;
  }
  t->n = t->cap = (int64_t)(hi - lo);
  if (total_out) *total_out = total;
  return SC_OK;
}

sc_status h5_write_strings(sc_h5 *f, const char *path, char *const *s, int64_t n) {
  /* a byte blob plus end offsets: parallel HDF5 cannot write variable-length strings collectively */
  int64_t *ends = NULL, bytes = 0;
  char *blob = NULL;
  sc_status st = sc_alloc(&ends, (size_t)(n + 1) * sizeof *ends);
  for (int64_t i = 0; !st && i < n; i++) bytes += (int64_t)strlen(s[i]);
  if (!st) st = sc_alloc(&blob, (size_t)bytes + 1);
  int64_t o = 0;
  for (int64_t i = 0; !st && i < n; i++) {
    size_t l = strlen(s[i]);
    memcpy(blob + o, s[i], l);
    o += (int64_t)l;
    ends[i] = o;
  }
  st = comm_agree(st);
  char p[512];
  int root = comm_rank() == 0;
  snprintf(p, sizeof p, "%s/bytes", path);
  if (!st) st = h5_write_rows(f, p, H5T_NATIVE_UINT8, blob, 0, root ? (hsize_t)bytes : 0, 0, (hsize_t)bytes, 1, bytes > 0, NULL);
  snprintf(p, sizeof p, "%s/ends", path);
  if (!st) st = h5_write_rows(f, p, H5T_NATIVE_INT64, ends, 0, root ? (hsize_t)n : 0, 0, (hsize_t)n, 1, n > 0, NULL);
  free(ends);
  free(blob);
  return st;
}

sc_status h5_read_strings(sc_h5 *f, const char *path, char ***out, int64_t *n_out) {
  char p[512];
  snprintf(p, sizeof p, "%s/ends", path);
  hsize_t n = h5_rows(f, p, NULL);
  if (n == (hsize_t)-1) return comm_agree(sc_fail(SC_ESTORE, "%s has no string list %s", f->path, path));
  int64_t *ends = NULL;
  char *blob = NULL;
  SC_TRY(h5_read_rows(f, p, H5T_NATIVE_INT64, 8, (void **)&ends, 0, n, 1));
  int64_t bytes = n ? ends[n - 1] : 0;
  snprintf(p, sizeof p, "%s/bytes", path);
  sc_status s = h5_read_rows(f, p, H5T_NATIVE_UINT8, 1, (void **)&blob, 0, (hsize_t)bytes, 1);
  char **v = NULL;
  if (!s) s = sc_calloc(&v, (size_t)n + 1, sizeof *v);
  for (hsize_t i = 0; !s && i < n; i++) {
    int64_t a = i ? ends[i - 1] : 0, l = ends[i] - a;
    s = sc_alloc(&v[i], (size_t)l + 1);
    if (!s) {
      memcpy(v[i], blob + a, (size_t)l);
      v[i][l] = 0;
    }
  }
  free(ends);
  free(blob);
  *out = v;
  *n_out = (int64_t)n;
  return comm_agree(s);
}

sc_status h5_write_f64(sc_h5 *f, const char *path, const double *v, int64_t rows, int64_t cols) {
  return h5_write_rows(f, path, H5T_NATIVE_DOUBLE, v, 0, comm_rank() == 0 ? (hsize_t)rows : 0, 0, (hsize_t)rows,
                       (hsize_t)cols, 0, NULL);
}

sc_status h5_read_f64(sc_h5 *f, const char *path, double **v, int64_t *rows, int64_t *cols) {
  hsize_t c = 1, r = h5_rows(f, path, &c);
  if (r == (hsize_t)-1) return comm_agree(sc_fail(SC_ESTORE, "%s has no array %s", f->path, path));
  *rows = (int64_t)r;
  if (cols) *cols = (int64_t)c;
  return h5_read_rows(f, path, H5T_NATIVE_DOUBLE, 8, (void **)v, 0, r, c);
}

sc_status h5_write_i64(sc_h5 *f, const char *path, const int64_t *v, int64_t n) {
  return h5_write_rows(f, path, H5T_NATIVE_INT64, v, 0, comm_rank() == 0 ? (hsize_t)n : 0, 0, (hsize_t)n, 1, 0, NULL);
}

sc_status h5_read_i64(sc_h5 *f, const char *path, int64_t **v, int64_t *n) {
  hsize_t r = h5_rows(f, path, NULL);
  if (r == (hsize_t)-1) return comm_agree(sc_fail(SC_ESTORE, "%s has no array %s", f->path, path));
  *n = (int64_t)r;
  return h5_read_rows(f, path, H5T_NATIVE_INT64, 8, (void **)v, 0, r, 1);
}

/* Attributes: written with the same value on every rank (collective). */
static sc_status h5_set_attr(sc_h5 *f, const char *obj, const char *name, hid_t type, const void *v) {
  h5_parents(f, obj);
  if (strcmp(obj, "/") && H5Lexists((hid_t)f->fid, obj, H5P_DEFAULT) <= 0) {
    hid_t g = H5Gcreate2((hid_t)f->fid, obj, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
  }
  hid_t o = H5Oopen((hid_t)f->fid, obj, H5P_DEFAULT);
  if (o < 0) return comm_agree(h5_err(f, "open", obj));
  if (H5Aexists(o, name) > 0) H5Adelete(o, name);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(o, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  sc_status s = (a < 0 || H5Awrite(a, type, v) < 0) ? h5_err(f, "write attribute", name) : SC_OK;
  if (s) parallel_write_failed(s);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  H5Oclose(o);
  return comm_agree(s);
}

static sc_status h5_get_attr(sc_h5 *f, const char *obj, const char *name, hid_t type, void *v) {
  hid_t o = H5Oopen((hid_t)f->fid, obj, H5P_DEFAULT);
  if (o < 0) return comm_agree(sc_fail(SC_ESTORE, "%s has no %s: it was not written by this version", f->path, obj));
  sc_status s = SC_OK;
  hid_t a = H5Aopen(o, name, H5P_DEFAULT);
  if (a < 0 || H5Aread(a, type, v) < 0) s = sc_fail(SC_ESTORE, "%s: %s has no attribute %s", f->path, obj, name);
  if (a >= 0) H5Aclose(a);
  H5Oclose(o);
  return comm_agree(s);
}

int h5_has_attr(sc_h5 *f, const char *obj, const char *name) {
  hid_t o = H5Oopen((hid_t)f->fid, obj, H5P_DEFAULT);
  if (o < 0) return 0;
  int has = H5Aexists(o, name) > 0;
  H5Oclose(o);
  return has;
}

sc_status h5_set_attr_i64(sc_h5 *f, const char *obj, const char *name, int64_t v) {
  return h5_set_attr(f, obj, name, H5T_NATIVE_INT64, &v);
}
sc_status h5_get_attr_i64(sc_h5 *f, const char *obj, const char *name, int64_t *v) {
  return h5_get_attr(f, obj, name, H5T_NATIVE_INT64, v);
}
sc_status h5_set_attr_f64(sc_h5 *f, const char *obj, const char *name, double v) {
  return h5_set_attr(f, obj, name, H5T_NATIVE_DOUBLE, &v);
}
sc_status h5_get_attr_f64(sc_h5 *f, const char *obj, const char *name, double *v) {
  return h5_get_attr(f, obj, name, H5T_NATIVE_DOUBLE, v);
}

sc_status h5_set_attr_str(sc_h5 *f, const char *obj, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(v) + 1);
  sc_status s = h5_set_attr(f, obj, name, t, v);
  H5Tclose(t);
  return s;
}

sc_status h5_get_attr_str(sc_h5 *f, const char *obj, const char *name, char *buf, size_t cap) {
  hid_t o = H5Oopen((hid_t)f->fid, obj, H5P_DEFAULT);
  sc_status s = SC_OK;
  if (o < 0) return comm_agree(sc_fail(SC_ESTORE, "%s has no %s: it was not written by this version", f->path, obj));
  hid_t a = H5Aopen(o, name, H5P_DEFAULT);
  if (a < 0) s = sc_fail(SC_ESTORE, "%s: %s has no attribute %s", f->path, obj, name);
  else {
    hid_t ft = H5Aget_type(a);
    size_t sz = H5Tget_size(ft);
    H5Tclose(ft);
    if (sz + 1 > cap) s = sc_fail(SC_ESTORE, "%s: attribute %s too long", f->path, name);
    else {
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, sz);
      memset(buf, 0, cap);
      if (H5Aread(a, t, buf) < 0) s = sc_fail(SC_ESTORE, "%s: cannot read attribute %s", f->path, name);
      H5Tclose(t);
    }
    H5Aclose(a);
  }
  H5Oclose(o);
  return comm_agree(s);
}
