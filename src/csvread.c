/* csvread.c: the parallel CSV reader (see csvread.h for the method).
 *
 * Rules chosen where DATA.md is silent: a UTF-8 byte-order mark at the
 * start of the file is skipped; the header is read as a record (it may hold
 * quoted newlines, counted as continuation lines) and must fit in 64 KiB;
 * header names are matched exactly (case-sensitive, no trimming).
 */
#include "csvread.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "comm.h"
#include "csvtext.h"

/* The unit of the ranks' split and of the checksum. A rank's share of a file
 * is a whole number of blocks, so ranks differ by up to one block a file:
 * with 8 MiB blocks the 1M-user files gave rank 0 of 2 about 22 MB more
 * than rank 1 (users.csv: 16.8 MB against 7.8), which waited 0.09 s in all
 * at the steps' collectives; 1 MiB keeps it under 1 MiB a file. */
static int64_t block_bytes = (int64_t)1 << 20;

void csvr_set_block(int64_t bytes) { block_bytes = bytes > 0 ? bytes : (int64_t)1 << 20; }

char *csvr_format_reject(const char *reason, const char *raw, size_t len) {
  char *s = malloc(CSVTEXT_MAX(strlen(reason)) + 2 + CSV_QUOTE_RAW_MAX(len) + 1), *o = s;
  if (!s) return NULL;
  o += csvtext_cell(o, reason);
  *o++ = ',';
  /* the raw text is the input's: the formula guard of every text cell
   * (csvtext.h), inside csv_quote_raw's quotes */
  size_t n = csv_quote_raw(o, raw, len);
  if (csvtext_guarded(raw, len)) {
    memmove(o + 2, o + 1, n - 1);
    o[1] = '\'';
    n++;
  }
  o += n;
  *o = 0;
  return s;
}

sc_status csvr_add_reject(csvr_result *res, int64_t line, const char *reason, const char *raw, size_t len) {
  if (res->n_rejects == res->cap_rejects) {
    int64_t cap = res->cap_rejects ? 2 * res->cap_rejects : 64;
    SC_TRY(sc_realloc(&res->rejects, (size_t)cap * sizeof *res->rejects));
    res->cap_rejects = cap;
  }
  char *t = csvr_format_reject(reason, raw, len);
  if (!t) return sc_fail(SC_ENOMEM, "out of memory formatting a reject");
  res->rejects[res->n_rejects].line = line;
  res->rejects[res->n_rejects].text = t;
  res->n_rejects++;
  res->rejected++;
  return SC_OK;
}

void csvr_free(csvr_result *res) {
  for (int64_t i = 0; i < res->n_rejects; i++) free(res->rejects[i].text);
  free(res->rejects);
  res->rejects = NULL;
  res->n_rejects = res->cap_rejects = 0;
}

/* The record at `offset` is one the reader accepted, so it closes within
 * any limit: its extent is the sequential reader's. */
sc_status csvr_reject_at(csvr_result *res, const char *path, int64_t line, int64_t offset, const char *reason) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return sc_fail(SC_EIO, "cannot reopen %s: %s", path, strerror(errno));
  struct stat st;
  sc_status s = fstat(fd, &st) ? sc_fail(SC_EIO, "cannot stat %s: %s", path, strerror(errno)) : SC_OK;
  char *map = s ? MAP_FAILED : mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (!s && map == MAP_FAILED) s = sc_fail(SC_EIO, "cannot map %s: %s", path, strerror(errno));
  if (!s && (offset < 0 || offset >= (int64_t)st.st_size)) s = sc_fail(SC_EINTERNAL, "%s: no record at byte %lld", path, (long long)offset);
  if (!s) {
    int64_t end, lines;
    if (csvrec_extent(map + offset, (size_t)(st.st_size - offset), INT64_MAX / 4, &end, &lines) < 0)
      s = sc_fail(SC_ENOMEM, "out of memory re-reading %s", path);
    if (!s) s = csvr_add_reject(res, line, reason, map + offset, csvrec_text_len(map + offset, (size_t)end));
    if (!s) res->loaded--;
  }
  if (map != MAP_FAILED) munmap(map, (size_t)st.st_size);
  return s;
}

/* One thread's rejects and status, a cache line of its own at least. */
typedef struct {
  csvr_result rej;
  sc_status s;
  char pad[64];
} thread_out;

/* What one csvr_read call knows about its file, filled in by the steps
 * below in order. */
typedef struct {
  const char *label;
  int64_t max_lines;
  char *map;
  int64_t fsize, lo, hi; /* the file, and the rank's share [lo, hi) */
  int64_t nb;            /* blocks in the rank's share */
  int64_t *pnl;          /* newlines before each block of the share (prefix sums, nb + 1) */
  int64_t nl_before;     /* newlines before the share */
  csvrec_openers op;     /* the share's openers in file order, with line numbers */
  int64_t hend, hlines;  /* the header's end and its physical lines */
  int nh;                /* header fields */
  int idx[CSVR_MAXCOLS];
  const char *names[CSVR_MAXCOLS];
  int64_t entry, exit_;  /* the rank's first record start and the next rank's */
  /* the threads' shares: starts (T + 1), first line numbers, lines */
  int T;
  int64_t *ts, *tl, *tb;
  csvrec_counts *tc; /* 8 apart: own cache lines */
  thread_out *to;
} reader;

static void reader_free(reader *r) {
  for (int t = 0; r->to && t < r->T; t++) csvr_free(&r->to[t].rej);
  free(r->ts);
  free(r->tl);
  free(r->tb);
  free(r->tc);
  free(r->to);
  free(r->op.v);
  free(r->pnl);
  if (r->map && r->map != MAP_FAILED) munmap(r->map, (size_t)r->fsize);
}

static int reject_cb(void *ctx, int tid, int64_t line, const char *reason, const char *raw, size_t len) {
  thread_out *to = ctx;
  return csvr_add_reject(&to[tid].rej, line, reason, raw, len) ? -1 : 0;
}

/* The first line start at or after x (a line starts at 0 and after '\n'). */
static int64_t line_start_at(const char *map, int64_t fsize, int64_t x) {
  if (x <= 0) return 0;
  if (x >= fsize) return fsize;
  if (map[x - 1] == '\n') return x;
  const char *e = memchr(map + x, '\n', (size_t)(fsize - x));
  return e ? e - map + 1 : fsize;
}

/* Step 1, cut blocks: open and map the file (no copy, no page zeroing: the
 * page cache is used as is) and take the rank's run of blocks. Collective. */
static sc_status map_share(reader *r, const char *path, csvr_result *res) {
  int rank = comm_rank(), size = comm_size();
  const int64_t B = block_bytes;
  /* O_NONBLOCK: a FIFO in a file's place is refused below, not waited on */
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  struct stat st;
  sc_status s = SC_OK;
  if (fd < 0 || fstat(fd, &st) != 0)
    s = sc_fail(SC_EINPUT, "%s: cannot open (%s): check input.path", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    s = sc_fail(SC_EINPUT, "%s: is %s, not a file: check input.path", path,
                S_ISDIR(st.st_mode) ? "a folder" : "a FIFO, device or socket");
  else if (st.st_size == 0)
    s = sc_fail(SC_EINPUT, "%s: the file is empty; expected a header line and data rows", r->label);
  if (s && fd >= 0) close(fd);
  SC_TRY(comm_agree(s));
  r->fsize = (int64_t)st.st_size;
  int64_t nb = (r->fsize + B - 1) / B;
  /* ceil so that rank 0, which reads the header, always has the first block */
  r->lo = SC_MIN(r->fsize, sc_muldiv_ceil(nb, rank, size) * B);
  r->hi = SC_MIN(r->fsize, sc_muldiv_ceil(nb, rank + 1, size) * B);
  r->nb = (r->hi - r->lo + B - 1) / B;
  res->bytes = r->fsize;
  r->map = mmap(NULL, (size_t)r->fsize, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (r->map == MAP_FAILED) s = sc_fail(SC_EIO, "%s: cannot map the file: %s", path, strerror(errno));
  else if (r->hi > r->lo)
    madvise(r->map + (r->lo & ~(int64_t)4095), (size_t)(r->hi - (r->lo & ~(int64_t)4095)), MADV_SEQUENTIAL);
  return comm_agree(s);
}

/* Step 2, find candidate boundaries: per block of the share, on the
 * threads, its hash, its newlines and its openers (kernels/csvrec.h); then
 * the file's checksum and line count, and the openers in file order with
 * their line numbers. Collective. */
static sc_status scan_blocks(reader *r, csvr_result *res) {
  const int64_t B = block_bytes, nb = r->nb, fsize = r->fsize;
  const char *map = r->map;
  uint64_t *bh = NULL;
  csvrec_openers *ob = NULL;
  int oom = 0;
  sc_status s = sc_alloc(&bh, (size_t)(nb + 1) * sizeof *bh);
  if (!s) s = sc_calloc(&r->pnl, (size_t)(nb + 1), sizeof *r->pnl);
  if (!s) s = sc_calloc(&ob, (size_t)(nb + 1), sizeof *ob);
  if (!s) {
#pragma omp parallel for schedule(dynamic, 1) reduction(| : oom)
    for (int64_t b = 0; b < nb; b++) {
      int64_t a = r->lo + b * B, e = SC_MIN(r->hi, a + B);
      bh[b] = XXH3_64bits(map + a, (size_t)(e - a));
      uint64_t q, nl;
      csv_count(map + a, (size_t)(e - a), &q, &nl);
      r->pnl[b + 1] = (int64_t)nl;
      /* openers are lines with a '"': none start here when the block and
       * the rest of its last line hold none (the common block: one pass) */
      if (!q && e < fsize && map[e - 1] != '\n') {
        const char *le = memchr(map + e, '\n', (size_t)(fsize - e));
        q = memchr(map + e, '"', (size_t)((le ? le : map + fsize) - (map + e))) != NULL;
      }
      if (q) oom |= csvrec_scan(map, (size_t)fsize, (size_t)a, (size_t)e, r->max_lines, &ob[b]) != 0;
    }
    for (int64_t b = 0; b < nb; b++) r->pnl[b + 1] += r->pnl[b];
    if (oom) s = sc_fail(SC_ENOMEM, "%s: out of memory finding records", r->label);
  }
  s = comm_agree(s);
  /* checksum: xxh3 over all blocks' hashes in file order */
  uint64_t *allh = NULL;
  size_t allh_bytes = 0;
  if (!s) s = comm_allgatherv(bh, (size_t)nb * sizeof *bh, (void **)&allh, &allh_bytes, NULL);
  if (!s) {
    res->checksum = XXH3_64bits(allh, allh_bytes);
    r->nl_before = comm_exscan_i64(r->pnl[nb]);
    res->lines = comm_sum1_i64(r->pnl[nb]) + (map[fsize - 1] != '\n');
  }
  free(allh);
  free(bh);
  csvrec_openers *op = &r->op;
  for (int64_t b = 0; !s && b < nb; b++) {
    for (size_t i = 0; !s && i < ob[b].n; i++) {
      if (op->n == op->cap) {
        size_t cap = op->cap ? 2 * op->cap : 64;
        s = sc_realloc(&op->v, cap * sizeof *op->v);
        op->cap = cap;
      }
      if (!s) {
        op->v[op->n] = ob[b].v[i];
        op->v[op->n++].line += 1 + r->nl_before + r->pnl[b];
      }
    }
  }
  for (int64_t b = 0; ob && b < nb; b++) csvrec_openers_free(&ob[b]);
  free(ob);
  return comm_agree(s);
}

/* Step 3, the header: rank 0 reads it as a record and tells everyone; the
 * wanted columns are found in it. Collective. */
static sc_status read_header(reader *r, const csvr_col *cols, int ncols, csvr_result *res) {
  const char *label = r->label;
  char header[1 << 16];
  int64_t hlen = 0, hinfo[2] = {0, 1}; /* its end and its lines */
  sc_status s = SC_OK;
  if (comm_rank() == 0) {
    int64_t fsize = r->fsize, bom = (fsize >= 3 && !memcmp(r->map, "\xEF\xBB\xBF", 3)) ? 3 : 0, end = 0, lines = 1;
    int st = csvrec_extent(r->map + bom, (size_t)(fsize - bom), r->max_lines, &end, &lines);
    int64_t l = (int64_t)csvrec_text_len(r->map + bom, (size_t)end);
    if (st < 0) s = sc_fail(SC_ENOMEM, "%s: out of memory reading the header", label);
    else if (st != CSVREC_CLOSED) s = sc_fail(SC_EINPUT, "%s line 1: the header line is not complete (%s): check the file", label,
                                     csv_error_text(st == CSVREC_AFTER_QUOTE ? CSV_E_AFTER_QUOTE : st == CSVREC_LONG ? CSV_E_LONG_RECORD : CSV_E_UNCLOSED_QUOTE));
    else if (l >= (int64_t)sizeof header) s = sc_fail(SC_EINPUT, "%s line 1: the header line is longer than 64 KiB", label);
    else {
      memcpy(header, r->map + bom, (size_t)l);
      hlen = l;
      hinfo[0] = bom + end;
      hinfo[1] = lines;
    }
  }
  SC_TRY(comm_agree(s));
  comm_bcast(&hlen, sizeof hlen, 0);
  comm_bcast(hinfo, sizeof hinfo, 0);
  comm_bcast(header, (size_t)hlen, 0);
  r->hend = hinfo[0];
  r->hlines = hinfo[1];
  csv_field hf[256];
  int nh = 0;
  char hscratch[1 << 16];
  csv_code hc = csv_check_text(header, (size_t)hlen);
  if (hc == CSV_OK) hc = csv_split(header, (size_t)hlen, hf, 256, &nh, hscratch);
  if (hc != CSV_OK || nh > 256 || hlen == 0)
    s = sc_fail(SC_EINPUT, "%s line 1: the header cannot be read (%s): check the file", label,
                hlen == 0 ? "empty header" : csv_error_text(hc != CSV_OK ? hc : CSV_E_FIELD_COUNT));
  r->nh = nh;
  for (int c = 0; !s && c < ncols; c++) {
    int *idx = r->idx;
    idx[c] = -1;
    for (int a = 0; a < 3 && cols[c].names[a] && idx[c] < 0; a++)
      for (int i = 0; i < nh; i++)
        if (hf[i].len == strlen(cols[c].names[a]) && !memcmp(hf[i].p, cols[c].names[a], hf[i].len)) {
          idx[c] = i;
          snprintf(res->header_names[c], sizeof res->header_names[c], "%s", cols[c].names[a]);
          break;
        }
    res->present[c] = idx[c] >= 0;
    if (idx[c] < 0) snprintf(res->header_names[c], sizeof res->header_names[c], "%s", cols[c].names[0]);
    r->names[c] = res->header_names[c];
    if (idx[c] < 0 && cols[c].required && !s)
      s = sc_fail(SC_EINPUT, "%s line 1: missing required column %s: the header must name it", label, cols[c].names[0]);
  }
  return comm_agree(s);
}

/* Step 4, verify the candidates: each opener's candidate record checked as
 * a row on the threads (quoting, text, field count, the converter's check
 * mode). Collective. */
static sc_status check_candidates(reader *r, const csvrec_file *f) {
  int oom = 0;
  if (r->op.n) {
    const csvrec_openers *op = &r->op;
#pragma omp parallel reduction(| : oom)
    {
      csvrec_scratch sc = {0};
#pragma omp for schedule(dynamic, 16)
      for (size_t i = 0; i < op->n; i++)
        if (op->v[i].off >= r->hend) oom |= csvrec_check(f, &op->v[i], omp_get_thread_num(), &sc) != 0;
      csvrec_scratch_free(&sc);
    }
  }
  return comm_agree(oom ? sc_fail(SC_ENOMEM, "%s: out of memory checking records", r->label) : SC_OK);
}

/* Step 5, stitch the ranks: a rank's entry is the previous rank's exit;
 * each round of one small allgather fixes at least one more rank.
 * Collective. */
static sc_status chain_ranks(reader *r) {
  int rank = comm_rank(), size = comm_size();
  int64_t pair[2], *pairs = NULL;
  r->entry = SC_MAX(r->hend, line_start_at(r->map, r->fsize, r->lo));
  sc_status s = comm_agree(sc_alloc(&pairs, sizeof pair * (size_t)size));
  for (int round = 0; !s; round++) {
    r->exit_ = SC_MAX(csvrec_resolve(r->op.v, r->op.n, r->entry), line_start_at(r->map, r->fsize, r->hi));
    pair[0] = r->entry;
    pair[1] = r->exit_;
    comm_allgather(pair, sizeof pair, pairs);
    int stable = 1; /* the same answer on every rank: they see the same pairs */
    for (int k = 1; k < size; k++) stable &= pairs[2 * k] == pairs[2 * k - 1];
    if (stable) break;
    if (round > size) s = sc_fail(SC_EINTERNAL, "%s: the ranks' record boundaries do not settle: please report it", r->label);
    if (rank > 0) r->entry = pairs[2 * rank - 1];
  }
  free(pairs);
  return s;
}

/* Step 6, cut the rank's records for its threads at block boundaries, each
 * share starting at the first record start at or after its cut, with its
 * first line number and its lines (from the blocks' newline counts). */
static sc_status split_threads(reader *r, csvr_reserve rfn, void *ctx) {
  const int64_t B = block_bytes, fsize = r->fsize, lo = r->lo, hi = r->hi;
  const char *map = r->map;
  int T = r->T = omp_get_max_threads();
  SC_TRY(sc_calloc(&r->ts, (size_t)T + 1, sizeof *r->ts));
  SC_TRY(sc_calloc(&r->tl, (size_t)T + 1, sizeof *r->tl));
  SC_TRY(sc_calloc(&r->tb, (size_t)T + 1, sizeof *r->tb));
  SC_TRY(sc_calloc(&r->tc, (size_t)T * 8, sizeof *r->tc));
  SC_TRY(sc_calloc(&r->to, (size_t)T, sizeof *r->to));
  int64_t *ts = r->ts, *tl = r->tl;
  ts[0] = r->entry;
  ts[T] = r->exit_;
  for (int k = 1; k < T; k++) {
    int64_t cut = line_start_at(map, fsize, lo + (r->nb * k / T) * B);
    ts[k] = SC_MIN(r->exit_, SC_MAX(ts[k - 1], csvrec_start(r->op.v, r->op.n, r->entry, SC_MAX(r->entry, cut))));
  }
  for (int k = 0; k <= T; k++) {
    /* line number of ts[k]: newlines before it, from the blocks' counts */
    int64_t x = ts[k], nlx;
    if (x <= hi) {
      int64_t b = (x - lo) / B;
      nlx = r->pnl[b] + (int64_t)csv_newlines(map + lo + b * B, (size_t)(x - lo - b * B));
    } else {
      nlx = r->pnl[r->nb] + (int64_t)csv_newlines(map + hi, (size_t)(x - hi));
    }
    tl[k] = 1 + r->nl_before + nlx;
  }
  /* lines that start in each share: newlines between its ends (from the
   * line numbers just found), and the last line when it has no '\n' */
  for (int k = 0; k < T; k++)
    r->tb[k] = tl[k + 1] - tl[k] + (ts[k + 1] == fsize && ts[k + 1] > ts[k] && map[fsize - 1] != '\n');
  for (int k = 0; rfn && k < T; k++) SC_TRY(rfn(ctx, k, r->tb[k]));
  return SC_OK;
}

/* Step 7, parse fields: each thread reads its share's records and counts
 * its lines; every line of the share is a blank, a row's first line or a
 * continuation line, so a counting slip is an error, not a result. */
static void read_threads(reader *r, const csvrec_file *f) {
#pragma omp parallel num_threads(r->T)
  {
    int t = omp_get_thread_num();
    csvrec_scratch sc = {0};
    csvrec_counts *c = &r->tc[8 * t];
    int k = csvrec_read_range(f, r->op.v, r->op.n, r->ts[t], r->ts[t + 1], r->tl[t], t, reject_cb, r->to, c, &sc);
    csvrec_scratch_free(&sc);
    if (k == CSVREC_ENOMEM || k == CSVREC_EREJECT) r->to[t].s = sc_fail(SC_ENOMEM, "out of memory parsing %s", r->label);
    else if (k)
      r->to[t].s = sc_fail(SC_EINTERNAL, "%s line %lld: the record steps disagree (a bug): please report it", r->label, (long long)r->tl[t]);
    else if (c->blank + c->read + c->cont != r->tb[t])
      r->to[t].s = sc_fail(SC_EINTERNAL, "%s: the reader's line count disagrees with its newline count", r->label);
  }
}

/* Step 8, account lines: the threads' counts and rejects merged in thread
 * (= line) order, then DATA.md 7's sum over the whole file. Collective. */
static sc_status account_lines(reader *r, int need_rows, csvr_result *res) {
  sc_status s = SC_OK;
  for (int t = 0; !s && t < r->T; t++) {
    if (r->to[t].s) s = r->to[t].s;
    res->read += r->tc[8 * t].read;
    res->blank += r->tc[8 * t].blank;
    res->cont += r->tc[8 * t].cont;
    csvr_result *tr = &r->to[t].rej;
    for (int64_t i = 0; !s && i < tr->n_rejects; i++) {
      if (res->n_rejects == res->cap_rejects) {
        int64_t c2 = res->cap_rejects ? 2 * res->cap_rejects : 64;
        s = sc_realloc(&res->rejects, (size_t)c2 * sizeof *res->rejects);
        res->cap_rejects = c2;
      }
      if (!s) {
        res->rejects[res->n_rejects++] = tr->rejects[i];
        tr->rejects[i].text = NULL;
        res->rejected++;
      }
    }
  }
  if (comm_rank() == 0) res->cont += r->hlines - 1; /* the header's own continuation lines */
  res->loaded = res->read - res->rejected;
  SC_TRY(comm_agree(s));
  /* DATA.md 7: lines = 1 + blank + read + continuation_lines, whole file */
  int64_t c[3] = {res->blank, res->read, res->cont};
  comm_sum_i64(c, 3);
  if (res->lines != 1 + c[0] + c[1] + c[2])
    s = sc_fail(SC_EINTERNAL, "%s: %lld lines, but 1 + %lld blank + %lld rows + %lld continuation lines: please report it",
                r->label, (long long)res->lines, (long long)c[0], (long long)c[1], (long long)c[2]);
  else if (need_rows && c[1] == 0)
    s = sc_fail(SC_EINPUT, "%s: the file has a header but no data rows", r->label);
  return comm_agree(s);
}

sc_status csvr_read(const char *path, const char *label, const csvr_col *cols, int ncols, csvr_convert fn,
                    csvr_reserve rfn, void *ctx, int need_rows, int64_t max_lines, csvr_result *res) {
  memset(res, 0, sizeof *res);
  reader r = {.label = label, .max_lines = max_lines};
  sc_status s = map_share(&r, path, res);
  if (!s) s = scan_blocks(&r, res);
  if (!s) s = read_header(&r, cols, ncols, res);
  csvrec_file f = {r.map, (size_t)r.fsize, r.nh, r.idx, r.names, max_lines, fn, ctx};
  if (!s) s = check_candidates(&r, &f);
  if (!s) s = chain_ranks(&r);
  if (!s) s = comm_agree(split_threads(&r, rfn, ctx));
  if (!s) {
    read_threads(&r, &f);
    s = account_lines(&r, need_rows, res);
  }
  reader_free(&r);
  return s;
}
