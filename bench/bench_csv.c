/* bench_csv.c: single-thread throughput of the CSV kernel, beside a peer.
 *
 * Generates an orders.csv-like buffer in memory (marketplace layout:
 * order_id,user_id,sku_id,order_time,quantity,original_unit_price,
 * final_unit_price,dc_ori; about 200 MB by default) and times, best of
 * three, each step the ingest does per byte:
 *
 *   scan        csvrec_scan (newlines, and the lines   vs a byte-at-a-time
 *               that end inside a quoted field)          state machine per line
 *   split       the ingest's record reader,            vs a byte-at-a-time
 *               csvrec_read_range: csv_plain_record       RFC 4180 state machine
 *               (one pass, 64 bytes at a time) for a
 *               record without quotes, CR or non-ASCII
 *               bytes, else csv_split + csv_check_text
 *   check       csv_check_text on the whole buffer     vs a byte-at-a-time
 *                                                        UTF-8 decoder
 *   parse       the whole record: boundaries, UTF-8,   vs strtoll / strtod /
 *               split, ids, timestamp, int, decimals      sscanf + timegm
 *
 * MB/s are input megabytes (10^6 bytes) per second of the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID): per core, and steady on a shared
 * machine; on an idle one it equals wall time. The peer columns are
 * what a straightforward C loader would do; both sides compute the same
 * checksums, printed so the work cannot be optimised away and so a
 * mismatch shows. With --file PATH the scan, split and check steps run on
 * that file instead (e.g. the real Online Retail CSV, which has quoted
 * descriptions); the typed parse needs the generated layout.
 *
 * Usage: bench_csv [MB] [--file PATH]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "csv.h"
#include "csvrec.h"

/// Orders-like rows until about `bytes` are written; returns the length.
static size_t make_orders(char *buf, size_t bytes) {
  size_t n = (size_t)sprintf(buf, "order_id,user_id,sku_id,order_time,quantity,original_unit_price,"
                                  "final_unit_price,dc_ori\n");
  uint64_t s = 42;
  long order = 1000000;
  while (n + 128 < bytes) {
    uint64_t r = rng_next(&s);
    if (r % 3 == 0) order++;
    int y = 2023, mo = 1 + (int)((r >> 8) % 12), d = 1 + (int)((r >> 16) % 28);
    int h = (int)((r >> 24) % 24), mi = (int)((r >> 32) % 60), se = (int)((r >> 40) % 60);
    int cents = 99 + (int)((r >> 20) % 20000);
    int disc = (int)((r >> 44) % 5) == 0 ? cents / 10 : 0;
    int qty = (r >> 50) % 40 == 0 ? -1 : 1 + (int)((r >> 52) % 4);
    n += (size_t)sprintf(buf + n, "%ld,%lu,%lu,%04d-%02d-%02d %02d:%02d:%02d,%d,%d.%02d,%d.%02d,%lu\n", order,
                         (unsigned long)(1 + (r >> 3) % 1000000), (unsigned long)(1 + (r >> 13) % 30000), y, mo,
                         d, h, mi, se, qty, cents / 100, cents % 100, (cents - disc) / 100, (cents - disc) % 100,
                         (unsigned long)(1 + (r >> 56) % 60));
  }
  return n;
}

typedef struct {
  const char *name;
  double best;
  uint64_t check;
} timing;

/* ---- segcast side ---- */

static uint64_t seg_scan(const char *b, size_t n) {
  csvrec_openers o = {0};
  if (csvrec_scan(b, n, 0, n, 10000, &o)) return 0;
  uint64_t sum = csv_newlines(b, n) * 1000003u + o.n;
  csvrec_openers_free(&o);
  return sum;
}

/* the split step's converter and reject callback: sums of what they see */
static csv_code sum_fields(void *ctx, const csv_row *r, int *bad) {
  (void)bad;
  uint64_t *sum = ctx;
  int nf = r->nf;
  for (int k = 0; k < nf; k++) *sum += r->f[k].len;
  *sum += (uint64_t)nf << 32;
  return CSV_OK;
}

static int sum_reject(void *ctx, int tid, int64_t line, const char *reason, const char *raw, size_t len) {
  (void)tid, (void)line, (void)reason, (void)raw, (void)len;
  *(uint64_t *)ctx += 1u << 20;
  return 0;
}

/// The records of a buffer whose first line says how many fields each has,
/// read as csvrec_read_range reads a thread's range (openers found, checked
/// and resolved first, untimed in the ingest's accounting: a whole pass of
/// its own in bench "scan").
static uint64_t seg_split(const char *b, size_t n) {
  uint64_t sum = 0;
  int nf = 1;
  for (const char *p = b; p < b + n && *p != '\n'; p++) nf += *p == ',';
  int idx[1] = {0};
  csvrec_file f = {b, n, nf, idx, NULL, 10000, sum_fields, &sum};
  csvrec_openers o = {0};
  csvrec_scratch sc = {0};
  if (csvrec_scan(b, n, 0, n, 10000, &o)) return 0;
  for (size_t i = 0; i < o.n; i++) csvrec_check(&f, &o.v[i], 0, &sc);
  csvrec_resolve(o.v, o.n, 0);
  sum = 0; /* the checks' calls are not the reader's */
  csvrec_counts c = {0};
  csvrec_read_range(&f, o.v, o.n, 0, (int64_t)n, 1, 0, sum_reject, &sum, &c, &sc);
  csvrec_scratch_free(&sc);
  csvrec_openers_free(&o);
  return sum;
}

static uint64_t seg_check(const char *b, size_t n) { return (uint64_t)csv_check_text(b, n); }

/// One line as the ingest reads a record of one line: csv_plain_record
/// when it is plain, else csv_check_text + csv_split. Returns the offset of
/// its line end; *ok is 0 when the record is malformed.
static size_t seg_line(const char *b, size_t n, size_t pos, csv_window *w, csv_field *f, int max, int *nf,
                       char *scratch, size_t cap, int *ok) {
  size_t len;
  size_t e = csv_plain_record(b, n, pos, w, f, max, nf, &len);
  if (e != CSV_NOT_PLAIN) {
    *ok = 1;
    return e;
  }
  const char *rec = b + pos, *nl = memchr(rec, '\n', n - pos);
  e = nl ? (size_t)(nl - rec) : n - pos;
  len = csvrec_text_len(rec, e);
  *ok = len <= cap && csv_check_text(rec, len) == CSV_OK && csv_split(rec, len, f, max, nf, scratch) == CSV_OK;
  return e;
}

static uint64_t seg_parse(const char *b, size_t n) {
  csv_field f[8];
  char scratch[4096];
  uint64_t sum = 0;
  double money = 0;
  size_t pos = (size_t)((const char *)memchr(b, '\n', n) - b) + 1; /* skip the header */
  csv_window w = {0};
  while (pos < n) {
    int nf = 0, ok;
    size_t e = seg_line(b, n, pos, &w, f, 8, &nf, scratch, sizeof scratch, &ok);
    pos += e + 1;
    int64_t ord, user, sku, dc, qty;
    int32_t day, sec;
    double orig, fin;
    if (!ok || nf != 8 ||
        parse_id(f[0].p, f[0].len, &ord) || parse_id(f[1].p, f[1].len, &user) ||
        parse_id(f[2].p, f[2].len, &sku) || parse_datetime(f[3].p, f[3].len, &day, &sec) ||
        parse_i64(f[4].p, f[4].len, &qty) || parse_decimal(f[5].p, f[5].len, &orig) ||
        parse_decimal(f[6].p, f[6].len, &fin) || parse_id(f[7].p, f[7].len, &dc)) {
      sum += 1u << 20; /* a reject */
      continue;
    }
    sum += (uint64_t)(ord + user + sku + dc + qty + day) + (uint64_t)sec;
    money += (double)qty * fin + orig;
  }
  return sum ^ (uint64_t)(money * 100.0);
}

/* ---- peer side: what a straightforward C loader does ---- */

/// Per line, the state machine from the line's start: newlines, and the
/// lines that end inside a quoted field.
static uint64_t peer_scan(const char *b, size_t n) {
  uint64_t nl = 0, open = 0;
  int inq = 0, start = 1; /* in a quoted field; at a field start */
  for (size_t i = 0; i < n; i++) {
    char c = b[i];
    if (c == '\n') {
      nl++;
      open += inq;
      inq = 0;
      start = 1;
    } else if (inq) {
      if (c == '"') {
        if (i + 1 < n && b[i + 1] == '"') i++;
        else inq = 0;
      }
    } else if (start && c == '"') {
      inq = 1;
      start = 0;
    } else {
      start = c == ',';
    }
  }
  return nl * 1000003u + open + (uint64_t)inq;
}

/// RFC 4180 state machine, one byte at a time ('"' opens a quoted field
/// only at a field's start); field lengths as unquoted. The sums of
/// seg_split: a well-formed record adds its fields' lengths and its field
/// count << 32, a malformed one 2^20 (none has a header other than its own
/// first line's field count).
static uint64_t peer_split(const char *b, size_t n) {
  uint64_t sum = 0;
  size_t i = 0;
  int want = 1;
  for (size_t k = 0; k < n && b[k] != '\n'; k++) want += b[k] == ',';
  while (i < n) {
    int nf = 0, bad = 0;
    uint64_t lens = 0;
    size_t start = i;
    for (;;) { /* one field */
      size_t flen = 0;
      if (i < n && b[i] == '"') {
        i++;
        for (;;) {
          if (i >= n) {
            bad = 1;
            break;
          }
          if (b[i] == '"') {
            if (i + 1 < n && b[i + 1] == '"') {
              flen++;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          flen++;
          i++;
        }
      } else {
        while (i < n && b[i] != ',' && b[i] != '\n') {
          flen++;
          i++;
        }
        if (flen && (i == n || b[i] == '\n') && b[i - 1] == '\r') flen--; /* CRLF */
      }
      if (i < n && b[i] == '\r' && (i + 1 == n || b[i + 1] == '\n')) i++;
      nf++;
      lens += flen;
      if (i < n && b[i] == ',') {
        i++;
        continue;
      }
      if (i < n && b[i] != '\n') { /* malformed: skip to the line end */
        bad = 1;
        while (i < n && b[i] != '\n') i++;
      }
      i++;
      break;
    }
    if (i - start == 1 || (i - start == 2 && b[start] == '\r')) continue; /* blank */
    if (!bad && nf == want) sum += lens + ((uint64_t)nf << 32);
    else sum += 1u << 20;
  }
  return sum;
}

/// Byte-at-a-time UTF-8 decoder (no ASCII fast path).
static uint64_t peer_check(const char *buf, size_t n) {
  const unsigned char *b = (const unsigned char *)buf;
  for (size_t i = 0; i < n;) {
    unsigned c = b[i];
    if (c == 0) return CSV_E_NUL;
    if (c < 0x80) {
      i++;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!len || i + (size_t)len > n) return CSV_E_UTF8;
    uint32_t cp = c & (0x7Fu >> len);
    for (int k = 1; k < len; k++) {
      if ((b[i + (size_t)k] & 0xC0) != 0x80) return CSV_E_UTF8;
      cp = (cp << 6) | (b[i + (size_t)k] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return CSV_E_UTF8;
    i += (size_t)len;
  }
  return CSV_OK;
}

/// Line by line as with fgets: each line copied into a NUL-terminated
/// buffer (sscanf would otherwise strlen the whole rest of the input).
static uint64_t peer_parse(const char *b, size_t n) {
  uint64_t sum = 0;
  double money = 0;
  char line[4096];
  const char *p = (const char *)memchr(b, '\n', n) + 1, *end = b + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    size_t len = (size_t)(nl - p);
    if (len >= sizeof line || peer_check(p, len) != CSV_OK) {
      sum += 1u << 20;
      p = nl + 1;
      continue;
    }
    memcpy(line, p, len);
    line[len] = '\0';
    p = nl + 1;
    char *q;
    long long ord = strtoll(line, &q, 10);
    long long user = strtoll(q + 1, &q, 10);
    long long sku = strtoll(q + 1, &q, 10);
    struct tm tm = {0};
    int used = 0;
    if (sscanf(q + 1, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &used) != 6) {
      sum += 1u << 20;
      continue;
    }
    int sec = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    long long day = (long long)(timegm(&tm) / 86400);
    q += 1 + used;
    long long qty = strtoll(q + 1, &q, 10);
    double orig = strtod(q + 1, &q);
    double fin = strtod(q + 1, &q);
    long long dc = strtoll(q + 1, &q, 10);
    sum += (uint64_t)(ord + user + sku + dc + qty + day) + (uint64_t)sec;
    money += (double)qty * fin + orig;
  }
  return sum ^ (uint64_t)(money * 100.0);
}

/// Best of three runs of f over the buffer.
static timing time_it(const char *name, uint64_t (*f)(const char *, size_t), const char *b, size_t n) {
  timing t = {name, 1e30, 0};
  for (int r = 0; r < 3; r++) {
    double t0 = now_s();
    uint64_t c = f(b, n);
    double dt = now_s() - t0;
    if (dt < t.best) t.best = dt;
    t.check = c;
  }
  return t;
}

static void report(const char *step, size_t n, timing seg, timing peer) {
  printf("%-8s segcast %8.0f MB/s   peer %8.0f MB/s   x%5.1f   checks %s\n", step, (double)n / 1e6 / seg.best,
         (double)n / 1e6 / peer.best, peer.best / seg.best, seg.check == peer.check ? "agree" : "DIFFER");
}

int main(int argc, char **argv) {
  size_t mb = 200;
  const char *file = NULL;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--file") && a + 1 < argc) {
      file = argv[++a];
    } else if (atol(argv[a]) > 0) {
      mb = (size_t)atol(argv[a]);
    } else {
      fprintf(stderr, "usage: bench_csv [MB] [--file PATH]\n");
      return 2;
    }
  }
  char *buf;
  size_t n;
  if (file) {
    FILE *fp = fopen(file, "rb");
    if (!fp) {
      fprintf(stderr, "bench_csv: cannot open %s\n", file);
      return 1;
    }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)sz + 1);
    n = fread(buf, 1, (size_t)sz, fp);
    fclose(fp);
    printf("bench_csv: %s, %.1f MB, 1 thread, best of 3, MB per CPU second\n", file, (double)n / 1e6);
  } else {
    buf = malloc(mb * 1000000 + 256);
    n = make_orders(buf, mb * 1000000);
    printf("bench_csv: generated orders.csv, %.1f MB, 1 thread, best of 3, MB per CPU second\n", (double)n / 1e6);
  }
  if (!buf) return 1;
  report("scan", n, time_it("scan", seg_scan, buf, n), time_it("scan", peer_scan, buf, n));
  report("split", n, time_it("split", seg_split, buf, n), time_it("split", peer_split, buf, n));
  report("check", n, time_it("check", seg_check, buf, n), time_it("check", peer_check, buf, n));
  if (!file) report("parse", n, time_it("parse", seg_parse, buf, n), time_it("parse", peer_parse, buf, n));
  free(buf);
  return 0;
}
