/* bench_csv.c: single-thread throughput of the CSV kernel, beside a peer.
 *
 * Generates an orders.csv-like buffer in memory (marketplace layout:
 * order_id,user_id,sku_id,order_time,quantity,original_unit_price,
 * final_unit_price,dc_ori; about 200 MB by default) and times, best of
 * three, each step the ingest does per byte:
 *
 *   count       csv_count (quotes and newlines)        vs a plain byte loop
 *   split       the ingest's record reader:             vs a byte-at-a-time
 *               csv_plain_record (one pass, 64 bytes      RFC 4180 state machine
 *               at a time) for a record without quotes
 *               or non-ASCII bytes, else csv_record_end
 *               + csv_check_text + csv_split
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
 * mismatch shows. With --file PATH the count, split and check steps run on
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

static uint64_t seg_count(const char *b, size_t n) {
  uint64_t q, nl;
  csv_count(b, n, &q, &nl);
  return q * 1000003u + nl;
}

/// One record as the ingest reads it: csv_plain_record when the record is
/// plain, else csv_record_end + csv_check_text + csv_split. Returns the
/// offset of the record's end; *ok is 0 when the record is malformed.
static size_t seg_record(const char *b, size_t n, size_t pos, csv_window *w, csv_field *f, int max, int *nf,
                         char *scratch, size_t cap, int *ok) {
  size_t len;
  size_t e = csv_plain_record(b, n, pos, w, f, max, nf, &len);
  if (e != CSV_NOT_PLAIN) {
    *ok = 1;
    return e;
  }
  const char *rec = b + pos;
  n -= pos;
  uint32_t inner;
  int open;
  e = csv_record_end(rec, n, &inner, &open);
  len = e;
  if (len && rec[len - 1] == '\r') len--;
  *ok = !open && len <= cap && csv_check_text(rec, len) == CSV_OK && csv_split(rec, len, f, max, nf, scratch) == CSV_OK;
  return e;
}

static uint64_t seg_split(const char *b, size_t n) {
  csv_field f[32];
  char scratch[1 << 16];
  uint64_t sum = 0;
  size_t pos = 0;
  csv_window w = {0};
  while (pos < n) {
    int nf = 0, ok;
    size_t e = seg_record(b, n, pos, &w, f, 32, &nf, scratch, sizeof scratch, &ok);
    if (ok)
      for (int k = 0; k < nf && k < 32; k++) sum += f[k].len;
    sum += (uint64_t)nf << 32;
    pos += e + 1;
  }
  return sum;
}

static uint64_t seg_check(const char *b, size_t n) { return (uint64_t)csv_check_text(b, n); }

static uint64_t seg_parse(const char *b, size_t n) {
  csv_field f[8];
  char scratch[4096];
  uint64_t sum = 0;
  double money = 0;
  size_t pos = (size_t)((const char *)memchr(b, '\n', n) - b) + 1; /* skip the header */
  csv_window w = {0};
  while (pos < n) {
    int nf = 0, ok;
    size_t e = seg_record(b, n, pos, &w, f, 8, &nf, scratch, sizeof scratch, &ok);
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

static uint64_t peer_count(const char *b, size_t n) {
  uint64_t q = 0, nl = 0;
  for (size_t i = 0; i < n; i++) {
    if (b[i] == '"') q++;
    else if (b[i] == '\n') nl++;
  }
  return q * 1000003u + nl;
}

/// RFC 4180 state machine, one byte at a time; field lengths as unquoted.
static uint64_t peer_split(const char *b, size_t n) {
  uint64_t sum = 0;
  size_t i = 0;
  while (i < n) {
    int nf = 0, bad = 0;
    uint64_t lens = 0;
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
        while (i < n && b[i] != ',' && b[i] != '\n' && b[i] != '"') {
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
    if (!bad) sum += lens;
    sum += (uint64_t)nf << 32;
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
  report("count", n, time_it("count", seg_count, buf, n), time_it("count", peer_count, buf, n));
  report("split", n, time_it("split", seg_split, buf, n), time_it("split", peer_split, buf, n));
  report("check", n, time_it("check", seg_check, buf, n), time_it("check", peer_check, buf, n));
  if (!file) report("parse", n, time_it("parse", seg_parse, buf, n), time_it("parse", peer_parse, buf, n));
  free(buf);
  return 0;
}
