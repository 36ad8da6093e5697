/* test_csvrec.c: unit tests of kernels/csvrec.c (record boundaries by the
 * RFC 4180 state machine, DATA.md 7).
 *
 * Hand-written cases of each step, the rules' own examples, and the
 * differential test: thousands of random damaged CSVs (csv_gen) read by
 * the simulated parallel reader (csv_sim: the kernel's steps at 1-4 ranks
 * x 1-3 threads and random block sizes) must give exactly the rows, rejects
 * and line counts of the sequential reference (tests/ref/csvref.c), which
 * shares no code with the kernel.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_sim.h"
#include "csvrec.h"
#include "csvref.h"

#define S(str) (str), strlen(str)

static void test_line_scan(void) {
  int64_t s;
  int cr;
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,b,c"), 0, &s, &cr), CSVREC_LINE_END);
  CU_ASSERT_EQUAL(s, 2);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("12\" VINYL,3"), 0, &s, &cr), CSVREC_LINE_END); /* an inch mark */
  CU_ASSERT_EQUAL(s, 1);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"b,c"), 0, &s, &cr), CSVREC_LINE_OPEN);
  CU_ASSERT_EQUAL(s, 1);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"b\"\"\",c"), 0, &s, &cr), CSVREC_LINE_END);
  CU_ASSERT_EQUAL(s, 2);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"b\"\""), 0, &s, &cr), CSVREC_LINE_OPEN); /* "" then the line end: still open */
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"1\"x"), 0, &s, &cr), CSVREC_LINE_ERR);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"1\"\r\r"), 0, &s, &cr), CSVREC_LINE_END); /* \r\r\n */
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a,\"1\"\rx"), 0, &s, &cr), CSVREC_LINE_ERR);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("\"a\r"), 0, &s, &cr), CSVREC_LINE_OPEN); /* a '\r' in quotes is data */
  CU_ASSERT_EQUAL(csvrec_line_scan("", 0, 0, &s, &cr), CSVREC_LINE_END);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("\""), 0, &s, &cr), CSVREC_LINE_OPEN);
  /* inside a quoted field */
  CU_ASSERT_EQUAL(csvrec_line_scan(S("no quote, here"), 1, &s, &cr), CSVREC_LINE_OPEN);
  CU_ASSERT_EQUAL(s, 0);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("end\",2,3"), 1, &s, &cr), CSVREC_LINE_END);
  CU_ASSERT_EQUAL(s, 2);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("end\""), 1, &s, &cr), CSVREC_LINE_END);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("end\",\"again"), 1, &s, &cr), CSVREC_LINE_OPEN);
  CU_ASSERT_EQUAL(s, 1);
  CU_ASSERT_EQUAL(csvrec_line_scan(S("12\" VINYL"), 1, &s, &cr), CSVREC_LINE_ERR); /* a close followed by text */
  CU_ASSERT_EQUAL(csvrec_line_scan(S("a\"\"b"), 1, &s, &cr), CSVREC_LINE_OPEN);
  /* '\r's: the run at the line end is the line end; one in quotes is data */
  csvrec_line_scan(S("a,b\r\r"), 0, &s, &cr);
  CU_ASSERT_EQUAL(cr, 0);
  csvrec_line_scan(S("a\rb,c"), 0, &s, &cr);
  CU_ASSERT_EQUAL(cr, 1);
  csvrec_line_scan(S("a,b\rc"), 0, &s, &cr);
  CU_ASSERT_EQUAL(cr, 1);
  csvrec_line_scan(S("\"a\rb\",c\r"), 0, &s, &cr);
  CU_ASSERT_EQUAL(cr, 0);
  csvrec_line_scan(S("x\r\",\r,\"y"), 1, &s, &cr);
  CU_ASSERT_EQUAL(cr, 1);
}

/* the openers of a whole buffer, one scan */
static csvrec_openers scan_all(const char *b, int64_t max_lines) {
  csvrec_openers o = {0};
  CU_ASSERT_EQUAL(csvrec_scan(b, strlen(b), 0, strlen(b), max_lines, &o), 0);
  return o;
}

static void test_scan_cases(void) {
  /* lines 0-1 one record of two lines; line 2 plain; line 3 opens and
   * line 4 closes with text after the quote; line 5 opens to the end */
  const char *b = "h,\"x\ny\",z\nplain\n\"p\nq\"r\n\"open\nmore\n";
  csvrec_openers o = scan_all(b, 100);
  CU_ASSERT_EQUAL(o.n, 3);
  if (o.n == 3) {
    CU_ASSERT(o.v[0].off == 0 && o.v[0].line == 0 && o.v[0].status == CSVREC_CLOSED && o.v[0].lines == 2);
    CU_ASSERT(o.v[0].end == 10 && o.v[0].fields == 3);
    CU_ASSERT(o.v[1].line == 3 && o.v[1].status == CSVREC_AFTER_QUOTE && o.v[1].lines == 2);
    CU_ASSERT(o.v[2].line == 5 && o.v[2].status == CSVREC_EOF && o.v[2].lines == 2 && o.v[2].end == (int64_t)strlen(b));
  }
  csvrec_openers_free(&o);
  /* overlapping candidates share their stopper: line 0 and line 1 both
   * open ("x","y: the quote closes and another opens), line 3 closes */
  b = "\"a\nx\",\"y\nz\nw\",end\n";
  o = scan_all(b, 100);
  CU_ASSERT_EQUAL(o.n, 2);
  if (o.n == 2) {
    CU_ASSERT(o.v[0].status == CSVREC_CLOSED && o.v[0].lines == 4 && o.v[0].fields == 3);
    CU_ASSERT(o.v[1].status == CSVREC_CLOSED && o.v[1].lines == 3 && o.v[1].fields == 3);
    CU_ASSERT(o.v[0].end == o.v[1].end);
  }
  csvrec_openers_free(&o);
  /* max_lines: a candidate of 3 lines is too long at 2 */
  b = "\"a\nb\nc\"\n";
  o = scan_all(b, 2);
  CU_ASSERT(o.n == 1 && o.v[0].status == CSVREC_LONG);
  csvrec_openers_free(&o);
  o = scan_all(b, 3);
  CU_ASSERT(o.n == 1 && o.v[0].status == CSVREC_CLOSED && o.v[0].lines == 3);
  csvrec_openers_free(&o);
  /* lines that start in [from, to) only: from inside line 0 starts at line 1 */
  b = "\"a\n\"b\n\"c\n";
  o = (csvrec_openers){0};
  CU_ASSERT_EQUAL(csvrec_scan(b, strlen(b), 1, 4, 100, &o), 0);
  CU_ASSERT(o.n == 1 && o.v[0].off == 3 && o.v[0].line == 1);
  csvrec_openers_free(&o);
}

static void test_extent(void) {
  int64_t end, lines;
  CU_ASSERT_EQUAL(csvrec_extent(S("a,b\nc"), 10, &end, &lines), CSVREC_CLOSED);
  CU_ASSERT(end == 4 && lines == 1);
  CU_ASSERT_EQUAL(csvrec_extent(S("a,\"b\nc\",d\r\nx"), 10, &end, &lines), CSVREC_CLOSED);
  CU_ASSERT(end == 11 && lines == 2);
  CU_ASSERT_EQUAL(csvrec_extent(S("a,\"b\"x\nc"), 10, &end, &lines), CSVREC_AFTER_QUOTE);
  CU_ASSERT(end == 7);
  CU_ASSERT_EQUAL(csvrec_extent(S("a,\"b\nc"), 10, &end, &lines), CSVREC_EOF);
  CU_ASSERT(end == 5 && lines == 2);
  CU_ASSERT_EQUAL(csvrec_text_len(S("ab\r\r\n")), 2);
  CU_ASSERT_EQUAL(csvrec_text_len(S("\r")), 0);
}

/* resolve and start on three openers: a record over lines 1-3 covering the
 * opener of line 2, then a rejected opener */
static void test_resolve_start(void) {
  csvrec_opener o[3] = {{.off = 10, .end = 40, .code = CSV_OK},
                        {.off = 20, .end = 50, .code = CSV_OK},
                        {.off = 60, .end = 70, .code = CSV_E_FIELD_COUNT}};
  CU_ASSERT_EQUAL(csvrec_resolve(o, 3, 0), 40);
  CU_ASSERT(o[0].fate == CSVREC_RECORD && o[1].fate == CSVREC_COVERED && o[2].fate == CSVREC_REJECT);
  CU_ASSERT_EQUAL(csvrec_start(o, 3, 0, 5), 5);
  CU_ASSERT_EQUAL(csvrec_start(o, 3, 0, 25), 40);   /* inside the record */
  CU_ASSERT_EQUAL(csvrec_start(o, 3, 0, 40), 40);
  CU_ASSERT_EQUAL(csvrec_start(o, 3, 0, 65), 65);   /* after a rejected opener */
  /* from an entry inside the first record (another rank's), the second
   * opener is a record start */
  CU_ASSERT_EQUAL(csvrec_resolve(o, 3, 15), 50);
  CU_ASSERT(o[0].fate == CSVREC_COVERED && o[1].fate == CSVREC_RECORD);
  CU_ASSERT_EQUAL(csvrec_start(o, 3, 15, 45), 50);
}

/* ---- whole files against the reference ---- */

static const csvref_schema int_text = {2, {{"n", REF_INT, 0, 1, 0, NULL}, {"t", REF_TEXT, 0, 1, 0, NULL}}};

static int same_as_reference(const char *b, size_t n, const csvref_schema *sch, const csv_sim_cfg *cfg, char *why,
                             size_t cap) {
  csvref_result want, got;
  csvref_read(b, n, sch, cfg->max_lines, &want);
  int rc = csv_sim_read(b, n, cfg, sch, &got);
  int d = rc < 0 ? (snprintf(why, cap, "the steps disagree: %s", got.error), 1) : csv_sim_compare(&got, &want, why, cap);
  csvref_free(&want);
  csvref_free(&got);
  return d == 0;
}

/* every split of a small file, for the rules' own examples */
static void check_all_splits(const char *b, const csvref_schema *sch, int64_t max_lines) {
  char why[512];
  int bad = 0;
  for (int64_t block = 1; block <= (int64_t)strlen(b) + 1 && !bad; block++)
    for (int r = 1; r <= 4 && !bad; r++)
      for (int t = 1; t <= 3 && !bad; t++) {
        csv_sim_cfg cfg = {block, r, t, max_lines};
        if (!same_as_reference(b, strlen(b), sch, &cfg, why, sizeof why)) {
          printf("\n%lld-byte blocks, %d ranks x %d threads: %s\n", (long long)block, r, t, why);
          bad = 1;
        }
      }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_rule_examples(void) {
  /* a 12" inch mark loads; 1"2 in a number column is a bad number; one
   * stray opening quote costs its own line; junk after a closing quote */
  const char *b = "n,t\n1,12\" VINYL\n1\"2,x\n3,\"open\n4,fine\n5,\"a\"b\n6,\"two\nlines\"\n";
  check_all_splits(b, &int_text, 10000);
  csvref_result ref;
  csvref_read(S(b), &int_text, 10000, &ref);
  CU_ASSERT_EQUAL(ref.read, 6);
  CU_ASSERT_EQUAL(ref.rejected, 3);
  CU_ASSERT_EQUAL(ref.cont, 1);
  CU_ASSERT(ref.n == 6 && ref.rec[0].kind == REF_ROW && !strcmp(ref.rec[0].field[1], "12\" VINYL"));
  CU_ASSERT(ref.n == 6 && ref.rec[2].kind == REF_REJECT && ref.rec[2].line == 4 &&
            !strcmp(ref.rec[2].reason, "text after closing quote across 3 lines"));
  CU_ASSERT(ref.n == 6 && ref.rec[3].kind == REF_ROW && ref.rec[3].line == 5);
  csvref_free(&ref);
  /* a quote opening a field and another stray quote 300 lines later: every
   * line between is read on its own */
  char big[8192];
  size_t n = (size_t)sprintf(big, "n,t\n1,\"stray\n");
  for (int k = 0; k < 300; k++) n += (size_t)sprintf(big + n, "%d,line %d\n", k, k);
  n += (size_t)sprintf(big + n, "9,\"stray again\n10,last\n");
  csvref_read(big, n, &int_text, 10000, &ref);
  CU_ASSERT_EQUAL(ref.read, 303);
  CU_ASSERT_EQUAL(ref.rejected, 2);
  csvref_free(&ref);
  csv_sim_cfg cfg = {64, 3, 2, 10000};
  char why[512];
  CU_ASSERT(same_as_reference(big, n, &int_text, &cfg, why, sizeof why));
  /* max_record_lines: a quoted field over 3 lines at a limit of 2 */
  check_all_splits("n,t\n1,\"a\nb\nc\"\n2,x\n", &int_text, 2);
  check_all_splits("n,t\n1,\"a\nb\nc\"\n2,x\n", &int_text, 3);
  /* a multi-line record that is malformed (a bad number) costs its first line */
  check_all_splits("n,t\nx,\"a\nb\"\n2,\"c\nd\"\n", &int_text, 10000);
  /* CRLF, \r\r\n, a stray CR, a quoted CRLF, a blank CRLF line */
  check_all_splits("n,t\r\n1,a\r\r\n2,b\rc\r\n3,\"x\r\ny\"\r\n\r\n4,d", &int_text, 10000);
}

static void test_random_against_reference(void) {
  rng r = {2026};
  enum { CAP = 1 << 16 };
  char *buf = malloc(CAP);
  int bad = 0, files = 0;
  int64_t rows = 0, rejects = 0, cont = 0;
  for (int round = 0; round < 3000 && !bad; round++) {
    csvref_schema sch;
    size_t n = csv_gen(&r, buf, CAP, 200 + rng_below(&r, 3000), &sch);
    int64_t max_lines = rng_below(&r, 3) ? 10000 : 1 + rng_below(&r, 5);
    csvref_result ref;
    csvref_read(buf, n, &sch, max_lines, &ref);
    rows += ref.read - ref.rejected;
    rejects += ref.rejected;
    cont += ref.cont;
    csvref_free(&ref);
    /* every rank x thread split of 1-4 x 1-3, each at a random block size */
    for (int ranks = 1; ranks <= 4 && !bad; ranks++)
      for (int threads = 1; threads <= 3 && !bad; threads++) {
        int64_t block = rng_below(&r, 4) ? 1 + rng_below(&r, 96) : 256 + rng_below(&r, 4096);
        csv_sim_cfg cfg = {block, ranks, threads, max_lines};
        char why[512];
        files++;
        if (!same_as_reference(buf, n, &sch, &cfg, why, sizeof why)) {
          char path[64];
          snprintf(path, sizeof path, "csvrec_diff_%d.csv", round);
          FILE *f = fopen(path, "wb");
          if (f) {
            fwrite(buf, 1, n, f);
            fclose(f);
          }
          printf("\nround %d (%zu bytes, written to %s), %lld-byte blocks, %d ranks x %d threads, max_lines %lld: %s\n",
                 round, n, path, (long long)block, ranks, threads, (long long)max_lines, why);
          bad = 1;
        }
      }
  }
  free(buf);
  CU_ASSERT_EQUAL(bad, 0);
  /* the corpus must exercise every outcome */
  CU_ASSERT(files >= 36000 && rows > 100000 && rejects > 3000 && cont > 1000);
}

/* tests/data/csv_diff/: inputs on which the readers once disagreed (its
 * README), each read at every split */
static int parse_conf(const char *path, csvref_schema *sch, int64_t *max_lines, char names[16][32]) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[512] = "";
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  fclose(f);
  memset(sch, 0, sizeof *sch);
  *max_lines = 10000;
  char *ml = strstr(line, "max_lines=");
  if (ml) *max_lines = atoll(ml + 10);
  char *p = strstr(line, "schema=");
  if (!p) return -1;
  p += 7;
  static const char *types[] = {"int", "text", "id", "dec", "date", "datetime"};
  static const int codes[] = {REF_INT, REF_TEXT, REF_ID, REF_DEC, REF_DATE, REF_DATETIME};
  while (*p && *p != ';' && *p != '\n' && sch->ncols < 16) {
    csvref_col *c = &sch->col[sch->ncols];
    size_t k = strcspn(p, ":");
    snprintf(names[sch->ncols], 32, "%.*s", (int)k, p);
    c->name = names[sch->ncols];
    p += k + (p[k] == ':');
    size_t t = strcspn(p, ",;?\n");
    c->type = -1;
    for (int i = 0; i < 6; i++)
      if (strlen(types[i]) == t && !strncmp(p, types[i], t)) c->type = codes[i];
    if (c->type < 0) return -1;
    p += t;
    if (*p == '?') c->optional = 1, p++;
    c->lo = 1, c->hi = 0;
    sch->ncols++;
    if (*p == ',') p++;
  }
  return 0;
}

static void test_regression_cases(void) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/data/csv_diff", getenv("SEGCAST_ROOT") ? getenv("SEGCAST_ROOT") : ".");
  DIR *d = opendir(dir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  int cases = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".csv")) continue;
    char path[2048], conf[2048], names[16][32];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    snprintf(conf, sizeof conf, "%s/%.*s.conf", dir, (int)(l - 4), e->d_name);
    csvref_schema sch;
    int64_t max_lines;
    CU_ASSERT_EQUAL_FATAL(parse_conf(conf, &sch, &max_lines, names), 0);
    FILE *f = fopen(path, "rb");
    char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    CU_ASSERT(n > 0 && strlen(buf) <= n);
    /* check_all_splits wants a C string: these cases hold no NUL */
    check_all_splits(buf, &sch, max_lines);
    cases++;
  }
  closedir(d);
  CU_ASSERT(cases >= 4);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("csvrec", NULL, NULL);
  CU_add_test(s, "csvrec_line_scan", test_line_scan);
  CU_add_test(s, "csvrec_scan openers and candidates", test_scan_cases);
  CU_add_test(s, "csvrec_extent and text_len", test_extent);
  CU_add_test(s, "csvrec_resolve and csvrec_start", test_resolve_start);
  CU_add_test(s, "the rules' examples at every split", test_rule_examples);
  CU_add_test(s, "random damaged CSVs against the reference", test_random_against_reference);
  CU_add_test(s, "regression cases (tests/data/csv_diff)", test_regression_cases);
}
