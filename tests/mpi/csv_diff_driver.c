/* csv_diff_driver.c: the parallel CSV reader (src/csvread.c) against the
 * sequential reference reader (tests/ref/csvref.c), under mpirun.
 *
 * usage: csv_diff_driver DIR FILES SEED
 * FILES random damaged CSVs (tests/unit/csv_gen: stray quotes in every
 * position, quoted newlines, "", CRLF and CRs, junk after closing quotes,
 * quotes opened mid-file and at the end, invalid UTF-8, NUL, blank lines,
 * wrong field counts, bad values, no final newline) are written by rank 0
 * into DIR and read by csvr_read at the launch's rank count, at 1, 2 and 3
 * OpenMP threads, each time with a random block size (1 byte to 4 KiB) and
 * now and then a small input.max_record_lines, so rank and thread cuts fall
 * everywhere. Rank 0 gathers every rank's rows (line, fields) and rejects
 * (line and rejects.csv text) and compares them, and the line accounting,
 * with the reference's. Every random choice comes from SEED, the same on
 * every rank. A difference is printed with the file kept as
 * DIR/diff_<n>.csv (the regression cases of tests/data/csv_diff/ come from
 * there) and the exit status is 1.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "csv_sim.h"
#include "csvread.h"

/* per thread: rows as they come, serialized (line, nf, then len + bytes per field) */
typedef struct {
  char *p;
  size_t n, cap;
  char pad[64];
} blob;

typedef struct {
  const csvref_schema *schema;
  blob *out; /* one per thread */
} drv_ctx;

static void put(blob *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 256;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

static csv_code drv_conv(void *ctx, const csvr_row *r, int *bad) {
  drv_ctx *x = ctx;
  csv_code k = csv_sim_check(x->schema, r, bad);
  if (k != CSV_OK || r->check) return k;
  blob *b = &x->out[r->tid];
  int32_t nf = r->nf;
  put(b, &r->line, 8);
  put(b, &nf, 4);
  for (int k = 0; k < nf; k++) {
    uint32_t l = r->f[k].len;
    put(b, &l, 4);
    put(b, r->f[k].p, l);
  }
  return CSV_OK;
}

/* the reference's outcome in the same serialized forms: rows as above,
 * rejects as (line, text) where text is what rejects.csv holds */
static void ref_blobs(const csvref_result *ref, blob *rows, blob *rej) {
  for (int64_t i = 0; i < ref->n; i++) {
    const csvref_rec *x = &ref->rec[i];
    if (x->kind == REF_ROW) {
      int32_t nf = x->nf;
      put(rows, &x->line, 8);
      put(rows, &nf, 4);
      for (int k = 0; k < nf; k++) {
        uint32_t l = (uint32_t)x->flen[k];
        put(rows, &l, 4);
        put(rows, x->field[k], l);
      }
    } else {
      char *t = csvr_format_reject(x->reason, x->raw, x->rawlen);
      put(rej, &x->line, 8);
      put(rej, t, strlen(t) + 1);
      free(t);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: csv_diff_driver DIR FILES SEED\n");
    return 2;
  }
  comm_init(&argc, &argv);
  int rank = comm_rank(), size = comm_size();
  int files = atoi(argv[2]);
  rng r = {strtoull(argv[3], NULL, 10)};
  enum { CAP = 1 << 16 };
  char *buf = malloc(CAP), path[4096];
  snprintf(path, sizeof path, "%s/in.csv", argv[1]);
  int bad = 0, reads = 0;
  int64_t rows_seen = 0, rejects_seen = 0;
  for (int f = 0; f < files && !bad; f++) {
    csvref_schema sch;
    size_t n = csv_gen(&r, buf, CAP, 200 + rng_below(&r, 3000), &sch);
    int64_t max_lines = rng_below(&r, 3) ? 10000 : 1 + rng_below(&r, 5);
    if (rank == 0) {
      FILE *fp = fopen(path, "wb");
      if (!fp || fwrite(buf, 1, n, fp) != n || fclose(fp)) {
        fprintf(stderr, "csv_diff_driver: cannot write %s\n", path);
        comm_abort(2);
      }
    }
    comm_barrier();
    csvref_result ref;
    int ref_err = csvref_read(buf, n, &sch, max_lines, &ref);
    csvr_col cols[16];
    for (int c = 0; c < sch.ncols; c++) cols[c] = (csvr_col){{sch.col[c].name, NULL, NULL}, 1};
    for (int t = 1; t <= 3 && !bad; t++) {
      int64_t block = rng_below(&r, 4) ? 1 + rng_below(&r, 96) : 256 + rng_below(&r, 4096);
      csvr_set_block(block);
      omp_set_num_threads(t);
      blob out[3] = {{0}};
      drv_ctx x = {&sch, out};
      csvr_result res;
      sc_clear();
      sc_status s = csvr_read(path, "in.csv", cols, sch.ncols, drv_conv, NULL, &x, 0, max_lines, &res);
      reads++;
      /* rows and rejects of every rank, in rank order */
      blob mine = {0}, rj = {0};
      for (int k = 0; k < t; k++) put(&mine, out[k].p, out[k].n);
      for (int64_t i = 0; !s && i < res.n_rejects; i++) {
        put(&rj, &res.rejects[i].line, 8);
        put(&rj, res.rejects[i].text, strlen(res.rejects[i].text) + 1);
      }
      char *all_rows = NULL, *all_rej = NULL;
      size_t nrows = 0, nrej = 0;
      comm_allgatherv(mine.p, mine.n, (void **)&all_rows, &nrows, NULL);
      comm_allgatherv(rj.p, rj.n, (void **)&all_rej, &nrej, NULL);
      int64_t c[4] = {s ? 0 : res.read, s ? 0 : res.rejected, s ? 0 : res.blank, s ? 0 : res.cont};
      comm_sum_i64(c, 4);
      if (rank == 0) {
        char why[256] = "";
        if (!!s != !!ref_err) {
          snprintf(why, sizeof why, "reader %s, reference %s", s ? sc_message() : "ok", ref_err ? ref.error : "ok");
        } else if (!s) {
          blob wr = {0}, wj = {0};
          ref_blobs(&ref, &wr, &wj);
          if (c[0] != ref.read || c[1] != ref.rejected || c[2] != ref.blank || c[3] != ref.cont || res.lines != ref.lines)
            snprintf(why, sizeof why, "counts: read %lld/%lld rejected %lld/%lld blank %lld/%lld cont %lld/%lld lines %lld/%lld",
                     (long long)c[0], (long long)ref.read, (long long)c[1], (long long)ref.rejected, (long long)c[2],
                     (long long)ref.blank, (long long)c[3], (long long)ref.cont, (long long)res.lines, (long long)ref.lines);
          else if (nrows != wr.n || memcmp(all_rows, wr.p, nrows))
            snprintf(why, sizeof why, "rows differ (%zu bytes against %zu)", nrows, wr.n);
          else if (nrej != wj.n || memcmp(all_rej, wj.p, nrej))
            snprintf(why, sizeof why, "rejects differ (%zu bytes against %zu)", nrej, wj.n);
          free(wr.p);
          free(wj.p);
        }
        if (why[0]) {
          char keep[4200];
          snprintf(keep, sizeof keep, "%s/diff_%d.csv", argv[1], f);
          FILE *fp = fopen(keep, "wb");
          if (fp) {
            fwrite(buf, 1, n, fp);
            fclose(fp);
          }
          printf("csv_diff_driver: file %d (%zu bytes, kept as %s) at %d rank(s) x %d thread(s), %lld-byte blocks, "
                 "max_record_lines %lld: %s\n",
                 f, n, keep, size, t, (long long)block, (long long)max_lines, why);
          bad = 1;
        }
      }
      rows_seen += c[0] - c[1];
      rejects_seen += c[1];
      comm_bcast(&bad, sizeof bad, 0);
      free(all_rows);
      free(all_rej);
      free(mine.p);
      free(rj.p);
      for (int k = 0; k < 3; k++) free(out[k].p);
      if (!s) csvr_free(&res);
    }
    csvref_free(&ref);
  }
  if (rank == 0 && !bad)
    printf("csv_diff_driver: %d files read %d times at %d rank(s), every time as the reference: %lld rows, %lld rejects\n",
           files, reads, size, (long long)rows_seen, (long long)rejects_seen);
  /* a corpus that reaches every outcome, or the test proves nothing */
  if (!bad && (rows_seen < 1000 || rejects_seen < 100)) bad = 2;
  free(buf);
  comm_finalize();
  return bad;
}
