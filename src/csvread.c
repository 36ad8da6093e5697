/* csvread.c: the parallel CSV reader (see csvread.h for the method).
 *
 * Rules chosen where DATA.md is silent: a UTF-8 byte-order mark at the
 * start of the file is skipped; the header must fit in 64 KiB;
 * header names are matched exactly (case-sensitive, no trimming); a CR
 * before LF belongs to the line ending; a record of zero bytes is a blank
 * line (not a row); a lone CR is data.
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

/* The unit of the ranks' split and of the checksum. A rank's share of a file
 * is a whole number of blocks, so ranks differ by up to one block a file:
 * with 8 MiB blocks the 1M-user files gave rank 0 of 2 about 22 MB more
 * than rank 1 (users.csv: 16.8 MB against 7.8), which waited 0.09 s in all
 * at the steps' collectives; 1 MiB keeps it under 1 MiB a file. */
#define BLOCK ((int64_t)1 << 20)

static sc_status pread_all(int fd, char *buf, int64_t n, int64_t off, const char *label) {
  while (n > 0) {
    ssize_t r = pread(fd, buf, (size_t)(n > (1 << 30) ? (1 << 30) : n), (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return sc_fail(SC_EIO, "%s: read failed at byte %lld: %s", label, (long long)off, r ? strerror(errno) : "file shrank");
    buf += r;
    n -= r;
    off += r;
  }
  return SC_OK;
}

char *csvr_format_reject(const char *reason, const char *raw, size_t len) {
  size_t rl = strlen(reason);
  char *s = malloc(2 * rl + 4 + CSV_QUOTE_RAW_MAX(len) + 1), *o = s;
  if (!s) return NULL;
  /* reason: plain words, but quote it when it holds a comma or quote */
  int q = strpbrk(reason, ",\"\n") != NULL;
  if (q) *o++ = '"';
  for (const char *p = reason; *p; p++) {
    if (*p == '"') *o++ = '"';
    *o++ = *p;
  }
  if (q) *o++ = '"';
  *o++ = ',';
  o += csv_quote_raw(o, raw, len);
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

sc_status csvr_reject_at(csvr_result *res, const char *path, int64_t line, int64_t offset, const char *reason) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return sc_fail(SC_EIO, "cannot reopen %s: %s", path, strerror(errno));
  struct stat st;
  fstat(fd, &st);
  int64_t n = SC_MIN((int64_t)st.st_size - offset, (int64_t)1 << 20);
  char *buf = NULL;
  sc_status s = sc_alloc(&buf, (size_t)n + 1);
  if (!s) s = pread_all(fd, buf, n, offset, path);
  close(fd);
  if (!s) {
    uint32_t nl;
    int open_q;
    size_t e = csv_record_end(buf, (size_t)n, &nl, &open_q);
    if (e > 0 && buf[e - 1] == '\r') e--;
    s = csvr_add_reject(res, line, reason, buf, e);
    res->loaded--;
  }
  free(buf);
  return s;
}

/* One thread's output of parsing. */
typedef struct {
  int64_t read, rejected;
  csvr_result rej;
  sc_status s;
} thread_out;

/* Finds the first record start at or after buf[0] given the parity and
 * whether the byte before it ended a line outside quotes. */
static int64_t first_start(const char *buf, int64_t n, int parity, int prev_is_boundary) {
  if (prev_is_boundary) return 0;
  return (int64_t)csv_next_record(buf, (size_t)n, parity);
}

sc_status csvr_read(const char *path, const char *label, const csvr_col *cols, int ncols, csvr_convert fn,
                    csvr_reserve rfn, void *ctx, int need_rows, csvr_result *res) {
  memset(res, 0, sizeof *res);
  int rank = comm_rank(), size = comm_size();
  int fd = open(path, O_RDONLY);
  struct stat st;
  sc_status s = SC_OK;
  if (fd < 0 || fstat(fd, &st) != 0)
    s = sc_fail(SC_EINPUT, "%s: cannot open (%s): check input.path", path, strerror(errno));
  else if (st.st_size == 0)
    s = sc_fail(SC_EINPUT, "%s: the file is empty; expected a header line and data rows", label);
  SC_TRY(comm_agree(s));
  int64_t fsize = (int64_t)st.st_size, nb = (fsize + BLOCK - 1) / BLOCK;
  /* ceil so that rank 0, which reads the header, always has the first block */
  int64_t lo = SC_MIN(fsize, ((nb * rank + size - 1) / size) * BLOCK),
          hi = SC_MIN(fsize, ((nb * (rank + 1) + size - 1) / size) * BLOCK);
  res->bytes = fsize;

  /* 1. map the file (no copy, no page zeroing: the page cache is used as
   * is), hash the rank's blocks, count quotes and newlines */
  char *map = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) s = sc_fail(SC_EIO, "%s: cannot map the file: %s", label, strerror(errno));
  char *buf = s ? NULL : map + lo;
  if (!s && hi > lo) madvise(map + (lo & ~(int64_t)4095), (size_t)(hi - (lo & ~(int64_t)4095)), MADV_SEQUENTIAL);
  int64_t my_nb = (hi - lo + BLOCK - 1) / BLOCK;
  uint64_t *bh = NULL;
  int64_t *pq = NULL, *pnl = NULL; /* quotes and newlines before each block (prefix sums, my_nb + 1) */
  if (!s) s = sc_alloc(&bh, (size_t)(my_nb + 1) * sizeof *bh);
  if (!s) s = sc_calloc(&pq, (size_t)(my_nb + 1), sizeof *pq);
  if (!s) s = sc_calloc(&pnl, (size_t)(my_nb + 1), sizeof *pnl);
  uint64_t quotes = 0, nls = 0;
  if (!s) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < my_nb; b++) {
      int64_t a = b * BLOCK, e = SC_MIN(hi - lo, a + BLOCK);
      uint64_t q, n;
      bh[b] = XXH3_64bits(buf + a, (size_t)(e - a));
      csv_count(buf + a, (size_t)(e - a), &q, &n);
      pq[b + 1] = (int64_t)q;
      pnl[b + 1] = (int64_t)n;
    }
    for (int64_t b = 0; b < my_nb; b++) {
      pq[b + 1] += pq[b];
      pnl[b + 1] += pnl[b];
    }
    quotes = (uint64_t)pq[my_nb];
    nls = (uint64_t)pnl[my_nb];
  }
  SC_TRY(comm_agree(s));
  /* checksum: xxh3 over all blocks' hashes in file order */
  uint64_t *allh = NULL;
  size_t allh_bytes = 0;
  SC_TRY(comm_allgatherv(bh, (size_t)my_nb * sizeof *bh, (void **)&allh, &allh_bytes, NULL));
  res->checksum = XXH3_64bits(allh, allh_bytes);
  free(allh);
  free(bh);
  int64_t q_before = comm_exscan_i64((int64_t)quotes), nl_before = comm_exscan_i64((int64_t)nls);

  /* 2. header: rank 0 finds it and tells everyone */
  char header[1 << 16];
  int64_t hlen = 0, hskip = 0;
  uint32_t hnl = 0;
  if (rank == 0) {
    int64_t bom = (hi - lo >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) ? 3 : 0;
    int open_q = 0;
    int64_t e = bom + (int64_t)csv_record_end(buf + bom, (size_t)(hi - lo - bom), &hnl, &open_q);
    hskip = e < hi - lo ? e + 1 : e;
    int64_t l = e - bom;
    if (l > 0 && buf[bom + l - 1] == '\r') l--;
    if (open_q || (e >= hi - lo && fsize > hi - lo)) s = sc_fail(SC_EINPUT, "%s line 1: the header line is not complete: check the file", label);
    else if (l >= (int64_t)sizeof header) s = sc_fail(SC_EINPUT, "%s line 1: the header line is longer than 64 KiB", label);
    else {
      memcpy(header, buf + bom, (size_t)l);
      hlen = l;
    }
  }
  SC_TRY(comm_agree(s));
  comm_bcast(&hlen, sizeof hlen, 0);
  comm_bcast(&hnl, sizeof hnl, 0);
  comm_bcast(header, (size_t)hlen, 0);
  csv_field hf[256];
  int nh = 0;
  char hscratch[1 << 16];
  csv_code hc = csv_check_text(header, (size_t)hlen);
  if (hc == CSV_OK) hc = csv_split(header, (size_t)hlen, hf, 256, &nh, hscratch);
  if (hc != CSV_OK || nh > 256 || hlen == 0) {
    munmap(map, (size_t)fsize);
    close(fd);
    free(pq);
    free(pnl);
    return comm_agree(sc_fail(SC_EINPUT, "%s line 1: the header cannot be read (%s): check the file", label,
                              hlen == 0 ? "empty header" : csv_error_text(hc != CSV_OK ? hc : CSV_E_FIELD_COUNT)));
  }
  int idx[CSVR_MAXCOLS];
  for (int c = 0; c < ncols; c++) {
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
    if (idx[c] < 0 && cols[c].required && !s)
      s = sc_fail(SC_EINPUT, "%s line 1: missing required column %s: the header must name it", label, cols[c].names[0]);
  }
  if (s) {
    munmap(map, (size_t)fsize);
    close(fd);
    free(pq);
    free(pnl);
    return comm_agree(s);
  }

  /* 3. this rank's first record start, then every rank's */
  int64_t start = hi, line0 = 0, head_nl = 0, head_q = 0; /* newlines and quotes in [lo, start) */
  int found = 0;
  if (rank == 0) {
    start = hskip;
    found = 1;
    line0 = 2 + hnl;
    uint64_t q, n;
    csv_count(buf, (size_t)hskip, &q, &n);
    head_nl = (int64_t)n;
    head_q = (int64_t)q;
  } else if (hi > lo) {
    char prev = map[lo - 1];
    int parity = (int)(q_before & 1);
    int64_t off = first_start(buf, hi - lo, parity, prev == '\n' && parity == 0);
    if (off < hi - lo) {
      found = 1;
      start = lo + off;
      uint64_t q, n;
      csv_count(buf, (size_t)off, &q, &n);
      line0 = 1 + nl_before + (int64_t)n;
      head_nl = (int64_t)n;
      head_q = (int64_t)q;
    }
  }
  SC_TRY(comm_agree(s));
  int64_t mine[3] = {start, found, line0}, *all = NULL;
  SC_TRY(sc_alloc(&all, sizeof mine * (size_t)size));
  comm_allgather(mine, sizeof mine, all);
  int64_t end = fsize;
  for (int r = rank + 1; r < size; r++)
    if (all[3 * r + 1]) {
      end = all[3 * r];
      break;
    }
  free(all);
  if (!found) end = start;
  /* the tail: the last record's part past the blocks, [hi, end) (a record
   * that starts here ends at the next rank's first record, so end >= hi) */
  int64_t tail_q = 0, tail_nl = 0;
  if (found && end >= hi) {
    uint64_t q, n;
    csv_count(map + hi, (size_t)(end - hi), &q, &n);
    tail_q = (int64_t)q;
    tail_nl = (int64_t)n;
  }

  /* 4. the last record may run past our blocks: the map holds it */
  close(fd);

  /* 5. threads: cut [start, end) at record boundaries */
  int T = omp_get_max_threads();
  const char *data = buf + (start - lo);
  int64_t dn = found ? end - start : 0;
  int64_t *tq = NULL, *tn = NULL, *ts = NULL, *tl = NULL, *pn = NULL, *cut = NULL;
  thread_out *to = NULL;
  s = sc_calloc(&tq, (size_t)T + 1, 8);
  if (!s) s = sc_calloc(&tn, (size_t)T + 1, 8);
  if (!s) s = sc_calloc(&cut, (size_t)T + 1, 8);
  if (!s) {
    /* thread k's share begins at a block boundary (or the range's start or
     * end), so its quotes and newlines are the blocks' counts from the
     * first pass: no second pass over the bytes. q_at/n_at: the counts
     * before a cut, from the rank's first byte */
    cut[T] = dn;
    for (int k = 1; k < T; k++) cut[k] = SC_MIN(dn, SC_MAX(0, (my_nb * k / T) * BLOCK - (start - lo)));
    int64_t q_at[2], n_at[2];
    for (int k = 0; k < T; k++) {
      for (int j = 0; j < 2; j++) {
        int64_t x = cut[k + j] + (start - lo); /* the cut's offset from lo */
        if (cut[k + j] == 0) q_at[j] = head_q, n_at[j] = head_nl;
        else if (cut[k + j] == dn) q_at[j] = pq[my_nb] + tail_q, n_at[j] = pnl[my_nb] + tail_nl;
        else q_at[j] = pq[x / BLOCK], n_at[j] = pnl[x / BLOCK];
      }
      tq[k] = q_at[1] - q_at[0];
      tn[k] = n_at[1] - n_at[0];
    }
  }
  if (!s) s = sc_calloc(&ts, (size_t)T + 1, 8);
  if (!s) s = sc_calloc(&tl, (size_t)T + 1, 8);
  if (!s) s = sc_calloc(&pn, (size_t)T + 1, 8);
  if (!s) s = sc_calloc(&to, (size_t)T, sizeof *to);
  if (!s) {
#pragma omp parallel num_threads(T)
    {
      int t = omp_get_thread_num();
#pragma omp single
      {
        /* each thread's first record: exclusive prefix of quotes and newlines */
        int64_t qa = 0, na = 0;
        for (int k = 0; k < T; k++) {
          int64_t ca = cut[k], cb = cut[k + 1];
          int parity = (int)(qa & 1);
          int64_t off = k == 0 ? 0 : first_start(data + ca, cb - ca, parity, ca > 0 && data[ca - 1] == '\n' && parity == 0);
          /* no boundary inside the chunk: mark it, it yields to the next */
          ts[k] = (k == 0 || off < cb - ca) ? ca + off : -1;
          uint64_t q2, n2;
          csv_count(data + ca, (size_t)off, &q2, &n2);
          tl[k] = line0 + na + (int64_t)n2;
          qa += tq[k];
          na += tn[k];
        }
        ts[T] = dn;
        /* a thread whose chunk holds no boundary yields to the next; pn[k]:
         * the newlines before thread k's first record */
        pn[T] = na;
        for (int k = T - 1; k >= 0; k--) {
          if (ts[k] < 0) ts[k] = ts[k + 1];
          pn[k] = ts[k] == ts[k + 1] ? pn[k + 1] : tl[k] - line0;
        }
      }
      thread_out *me = &to[t];
      int64_t pos = ts[t], stop = ts[t + 1], line = tl[t];
      if (rfn) {
        /* records <= newlines in the range, + 1 when its last byte is not
         * one (every record but the range's last ends with a newline in
         * it): the outputs are sized once, in thread order, before any
         * thread writes. A bound one row too large left a gap that read_file
         * closed by moving the next thread's rows (half a table at 2 threads) */
        tq[t] = stop > pos ? pn[t + 1] - pn[t] + (data[stop - 1] != '\n') : 0;
#pragma omp barrier
#pragma omp single
        for (int k = 0; k < T; k++)
          if (!to[k].s) to[k].s = rfn(ctx, k, tq[k]);
      }
      /* the status and count live in registers while the loop runs: the
       * threads' thread_out entries share cache lines, and a store per
       * record there made two threads slower than one (false sharing) */
      sc_status st = me->s;
      int64_t nread = 0;
      size_t scap = 4096;
      char *scratch = malloc(scap);
      int fcap = nh + 2;
      csv_field *fld = malloc(sizeof(csv_field) * (size_t)fcap);
      if (!scratch || !fld) st = sc_fail(SC_ENOMEM, "out of memory parsing %s", label);
      csv_window win = {0};
      while (pos < stop && !st) {
        /* the common record (no quote, ASCII) in one pass; any other
         * through the general boundary, text and field functions */
        uint32_t rnl = 0;
        int open_q = 0, nf = 0;
        size_t plen = 0;
        const char *rec = data + pos;
        int64_t e = (int64_t)csv_plain_record(data, (size_t)dn, (size_t)pos, &win, fld, fcap, &nf, &plen);
        int plain = e != (int64_t)CSV_NOT_PLAIN;
        int64_t len = (int64_t)plen;
        if (!plain) {
          e = (int64_t)csv_record_end(rec, (size_t)(dn - pos), &rnl, &open_q);
          len = e;
          /* a quote left open runs to the end of the file: the file's last
           * line ending is still a line ending, not part of the raw text */
          if (open_q && len > 0 && rec[len - 1] == '\n') len--;
          if (len > 0 && rec[len - 1] == '\r') len--;
        }
        int64_t rline = line;
        line += rnl + 1;
        int64_t roff = start + pos;
        pos += e + 1;
        if (len == 0) continue; /* blank line */
        nread++;
        csv_code c = CSV_OK;
        int bad = -1;
        if (!plain) {
          c = csv_check_text(rec, (size_t)len);
          if (c == CSV_OK && open_q) c = CSV_E_UNCLOSED_QUOTE;
          if (c == CSV_OK) {
            if ((size_t)len > scap) {
              scap = (size_t)len;
              char *ns = realloc(scratch, scap);
              if (!ns) {
                st = sc_fail(SC_ENOMEM, "out of memory parsing %s", label);
                break;
              }
              scratch = ns;
            }
            c = csv_split(rec, (size_t)len, fld, fcap, &nf, scratch);
          }
        }
        if (c == CSV_OK && nf != nh) c = CSV_E_FIELD_COUNT;
        if (c == CSV_OK) {
          csvr_row row = {fld, idx, rline, roff, t};
          c = fn(ctx, &row, &bad);
        }
        if (c != CSV_OK) {
          char reason[160];
          if (c == CSV_E_FIELD_COUNT)
            snprintf(reason, sizeof reason, "%s (%d, header has %d)", csv_error_text(c), nf, nh);
          else if (bad >= 0)
            snprintf(reason, sizeof reason, "%s in %s", csv_error_text(c), res->header_names[bad]);
          else
            snprintf(reason, sizeof reason, "%s", csv_error_text(c));
          st = csvr_add_reject(&me->rej, rline, reason, rec, (size_t)len);
        }
      }
      /* the newlines this thread passed are the ones its share was sized
       * by (one more when the file's last record has no line end): a
       * counting slip is an error, not a short or silent result */
      if (!st && line - tl[t] != pn[t + 1] - pn[t] + (pos > dn ? 1 : 0))
        st = sc_fail(SC_EINTERNAL, "%s: the reader's line count disagrees with its newline count", label);
      me->s = st;
      me->read = nread;
      free(scratch);
      free(fld);
    }
  }
  /* 6. merge thread results in thread (= line) order */
  for (int t = 0; !s && t < T; t++) {
    if (to[t].s) s = to[t].s;
    res->read += to[t].read;
    for (int64_t i = 0; !s && i < to[t].rej.n_rejects; i++) {
      if (res->n_rejects == res->cap_rejects) {
        int64_t c2 = res->cap_rejects ? 2 * res->cap_rejects : 64;
        s = sc_realloc(&res->rejects, (size_t)c2 * sizeof *res->rejects);
        res->cap_rejects = c2;
      }
      if (!s) {
        res->rejects[res->n_rejects++] = to[t].rej.rejects[i];
        to[t].rej.rejects[i].text = NULL;
        res->rejected++;
      }
    }
  }
  for (int t = 0; to && t < T; t++) csvr_free(&to[t].rej);
  res->loaded = res->read - res->rejected;
  free(tq);
  free(tn);
  free(cut);
  free(pq);
  free(pnl);
  free(ts);
  free(tl);
  free(pn);
  free(to);
  munmap(map, (size_t)fsize);
  s = comm_agree(s);
  if (!s && need_rows && comm_sum1_i64(res->read) == 0)
    s = comm_agree(sc_fail(SC_EINPUT, "%s: the file has a header but no data rows", label));
  return s;
}
