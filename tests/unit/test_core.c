/* test_core.c: unit tests of the core modules that need no MPI peers:
 * tables (init, sort, permute, append), string dictionaries, the
 * configuration (defaults, INI parsing, --set, unknown keys, bad values)
 * and the reject formatting of csvread. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "csvread.h"
#include "csvtext.h"
#include "dict.h"
#include "search.h"
#include "table.h"
#include "test_rng.h"

static void test_table_sort_permute(void) {
  sc_table t;
  CU_ASSERT_EQUAL(table_init(&t, "t", "a:i64,b:i64,v:f64,f:u8,w:i32"), SC_OK);
  CU_ASSERT_EQUAL(t.ncols, 5);
  CU_ASSERT_EQUAL(table_resize(&t, 1000), SC_OK);
  int64_t *a = table_i64(&t, "a"), *b = table_i64(&t, "b");
  double *v = table_f64(&t, "v");
  uint8_t *f = table_u8(&t, "f");
  int32_t *w = table_i32(&t, "w");
  for (int i = 0; i < 1000; i++) {
    a[i] = (i * 7919) % 13; /* many ties on a */
    b[i] = 1000 - i;
    v[i] = i * 0.5;
    f[i] = (uint8_t)i;
    w[i] = -i;
  }
  CU_ASSERT_EQUAL(table_sort(&t, "a", "b", NULL), SC_OK);
  a = table_i64(&t, "a");
  b = table_i64(&t, "b");
  v = table_f64(&t, "v");
  w = table_i32(&t, "w");
  f = table_u8(&t, "f");
  int ordered = 1, consistent = 1;
  for (int i = 0; i < 1000; i++) {
    if (i && (a[i] < a[i - 1] || (a[i] == a[i - 1] && b[i] <= b[i - 1]))) ordered = 0;
    int orig = 1000 - (int)b[i]; /* rows keep their columns together */
    if (v[i] != orig * 0.5 || w[i] != -orig || f[i] != (uint8_t)orig || a[i] != (orig * 7919) % 13) consistent = 0;
  }
  CU_ASSERT(ordered);
  CU_ASSERT(consistent);
  int64_t sel[3] = {5, 0, 999};
  int64_t expect_b[3] = {b[5], b[0], b[999]};
  CU_ASSERT_EQUAL(table_permute(&t, sel, 3), SC_OK);
  CU_ASSERT_EQUAL(t.n, 3);
  for (int i = 0; i < 3; i++) CU_ASSERT_EQUAL(table_i64(&t, "b")[i], expect_b[i]);
  CU_ASSERT_PTR_NULL(table_col(&t, "missing"));
  CU_ASSERT_PTR_NULL(table_f64(&t, "a")); /* wrong type */
  sc_clear();
  table_free(&t);
}

/* reference order for test_table_sort_paths: the keys, then the original row */
static const int64_t *ref_k[3];
static int ref_cmp(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  for (int j = 0; j < 3; j++)
    if (ref_k[j][a] != ref_k[j][b]) return ref_k[j][a] < ref_k[j][b] ? -1 : 1;
  return a < b ? -1 : a > b;
}

/* Both ways table_sort orders rows (a merge sort for few falls, radix sorts
 * key by key for many) against qsort by (keys, original row): ties on all
 * keys keep their rows' order, negative and extreme keys included. */
static void test_table_sort_paths(void) {
  enum { N = 6000 };
  for (int shape = 0; shape < 3; shape++) {
    sc_table t;
    CU_ASSERT_EQUAL_FATAL(table_init(&t, "t", "k1:i64,k2:i64,k3:i64,orig:i64"), SC_OK);
    CU_ASSERT_EQUAL_FATAL(table_resize(&t, N), SC_OK);
    int64_t *k[3] = {table_i64(&t, "k1"), table_i64(&t, "k2"), table_i64(&t, "k3")}, *orig = table_i64(&t, "orig");
    rng r = {88172645463325252ull + (uint64_t)shape};
    for (int i = 0; i < N; i++) {
      uint64_t x = rng_next(&r);
      if (shape == 0) { /* random, many ties, extremes */
        k[0][i] = (int64_t)(x % 7) - 3;
        k[1][i] = (x >> 8) % 5 == 0 ? INT64_MIN : (x >> 8) % 5 == 1 ? INT64_MAX : (int64_t)((x >> 16) % 50) - 25;
        k[2][i] = (int64_t)((x >> 32) % 3);
      } else { /* shape 1: two ascending runs (one fall: merged); 2: 120 runs of 50 (radix) */
        int run = shape == 1 ? N / 2 : 50;
        k[0][i] = (int64_t)((i % run) / 4) * 1000 - 500;
        k[1][i] = (int64_t)(i % 4 / 2);
        k[2][i] = 0; /* ties on every key: the rows keep their order */
      }
      orig[i] = i;
    }
    int64_t *want = malloc(sizeof *want * N);
    int64_t *ref[3];
    for (int j = 0; j < 3; j++) {
      ref[j] = malloc(sizeof(int64_t) * N);
      memcpy(ref[j], k[j], sizeof(int64_t) * N);
      ref_k[j] = ref[j];
    }
    for (int i = 0; i < N; i++) want[i] = i;
    qsort(want, N, sizeof *want, ref_cmp);
    CU_ASSERT_EQUAL(table_sort(&t, "k1", "k2", "k3"), SC_OK);
    orig = table_i64(&t, "orig");
    int64_t *k1 = table_i64(&t, "k1"), *k3 = table_i64(&t, "k3");
    int same = 1;
    for (int i = 0; i < N; i++) same &= orig[i] == want[i] && k1[i] == ref[0][want[i]] && k3[i] == ref[2][want[i]];
    CU_ASSERT(same);
    for (int j = 0; j < 3; j++) free(ref[j]);
    free(want);
    table_free(&t);
  }
}

static void test_table_append(void) {
  sc_table x, y;
  table_init(&x, "x", "k:i64,v:i32");
  table_init(&y, "y", "k:i64,v:i32");
  table_resize(&x, 2);
  table_resize(&y, 3);
  for (int i = 0; i < 2; i++) table_i64(&x, "k")[i] = i, table_i32(&x, "v")[i] = 10 + i;
  for (int i = 0; i < 3; i++) table_i64(&y, "k")[i] = 100 + i, table_i32(&y, "v")[i] = 20 + i;
  CU_ASSERT_EQUAL(table_append(&x, &y), SC_OK);
  CU_ASSERT_EQUAL(x.n, 5);
  CU_ASSERT_EQUAL(table_i64(&x, "k")[4], 102);
  CU_ASSERT_EQUAL(table_i32(&x, "v")[2], 20);
  table_free(&x);
  table_free(&y);
}

static void test_dict(void) {
  sc_dict d;
  dict_init(&d);
  int64_t id, id2;
  char buf[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(buf, sizeof buf, "code%d", i % 1234);
    CU_ASSERT_EQUAL(dict_intern(&d, buf, strlen(buf), &id), SC_OK);
    CU_ASSERT_EQUAL(id, i % 1234);
  }
  CU_ASSERT_EQUAL(d.n, 1234);
  CU_ASSERT_EQUAL(dict_intern(&d, "", 0, &id), SC_OK); /* the empty text is a value too */
  CU_ASSERT_EQUAL(dict_intern(&d, "", 0, &id2), SC_OK);
  CU_ASSERT_EQUAL(id, id2);
  CU_ASSERT_STRING_EQUAL(d.str[5], "code5");
  dict_free(&d);
}

static void test_config(void) {
  sc_config c;
  config_defaults(&c);
  CU_ASSERT_STRING_EQUAL(c.layout, "marketplace");
  CU_ASSERT_EQUAL(c.rounds, 300);
  CU_ASSERT_DOUBLE_EQUAL(c.eta, 0.1, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(c.max_reject_fraction, 0.01, 1e-15);
  CU_ASSERT_STRING_EQUAL(c.k, "auto");
  CU_ASSERT_EQUAL(config_set(&c, "forecast.rounds=12"), SC_OK);
  CU_ASSERT_EQUAL(c.rounds, 12);
  CU_ASSERT_EQUAL(config_set(&c, "input.layout=online-retail"), SC_OK);
  CU_ASSERT_STRING_EQUAL(c.layout, "online-retail");
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "forecast.roundz=12"), SC_EUSAGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "forecast.roundz"));
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "forecast.eta=fast"), SC_EUSAGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "forecast.eta"));
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "input.layout=excel"), SC_EUSAGE);
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "segment.k_min=-1"), SC_EUSAGE);
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "forecast.enabled=maybe"), SC_EUSAGE);
  sc_clear();
  CU_ASSERT_EQUAL(config_set(&c, "noequals"), SC_EUSAGE);
  sc_clear();
  /* INI file: a good key, then an unknown one on line 4 */
  char path[] = "/tmp/segcast_cfg_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fputs("[segment]\nk = 5\n; comment\nbogus = 1\n", f);
  fclose(f);
  config_defaults(&c);
  CU_ASSERT_EQUAL(config_load(&c, path), SC_EUSAGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "line 4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "segment.bogus"));
  CU_ASSERT_STRING_EQUAL(c.k, "5");
  sc_clear();
  f = fopen(path, "w");
  fputs("[segment]\nk_min = 6\nk_max = 3\n", f);
  fclose(f);
  config_defaults(&c);
  CU_ASSERT_EQUAL(config_load(&c, path), SC_OK);
  CU_ASSERT_EQUAL(config_validate(&c), SC_EUSAGE);
  sc_clear();
  config_defaults(&c);
  CU_ASSERT_EQUAL(config_set(&c, "input.layout=transactions"), SC_OK);
  CU_ASSERT_EQUAL(config_validate(&c), SC_EUSAGE); /* transactions need column names */
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "input.user"));
  sc_clear();
  unlink(path);
}

static void count_key(void *ctx, const char *s, const char *k, const char *v, const char *doc) {
  (void)v;
  (void)doc;
  FILE *f = ((void **)ctx)[0];
  int *missing = ((void **)ctx)[1];
  char want[128];
  snprintf(want, sizeof want, "`%s.%s`", s, k);
  char line[1024];
  int found = 0;
  rewind(f);
  while (fgets(line, sizeof line, f))
    if (strstr(line, want)) found = 1;
  if (!found) {
    printf("docs/config.md does not document %s\n", want);
    (*missing)++;
  }
}

static void test_config_documented(void) {
  char p[1024];
  snprintf(p, sizeof p, "%s/docs/config.md", getenv("SEGCAST_ROOT") ? getenv("SEGCAST_ROOT") : ".");
  FILE *f = fopen(p, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  int missing = 0;
  void *ctx[2] = {f, &missing};
  sc_config c;
  config_defaults(&c);
  config_each(&c, count_key, ctx);
  fclose(f);
  CU_ASSERT_EQUAL(missing, 0);
}

/* `segcast keys` (format ini) is a configuration: read back, it gives every
 * default; one changed value read back changes only that key. An unknown
 * format is a usage error. */
static void test_config_keys_ini(void) {
  char path[] = "/tmp/segcast_keys_XXXXXX";
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  FILE *f = fdopen(fd, "w");
  CU_ASSERT_EQUAL(config_write_keys(f, "ini"), SC_OK);
  fclose(f);
  sc_config def, got;
  config_defaults(&def);
  config_defaults(&got);
  got.max_iter = 7; /* the file must set it back */
  strcpy(got.k, "3");
  CU_ASSERT_EQUAL(config_load(&got, path), SC_OK);
  static char a[16384], b[16384];
  size_t na = config_dump(&def, a, sizeof a), nb = config_dump(&got, b, sizeof b);
  CU_ASSERT(na < sizeof a && nb < sizeof b);
  CU_ASSERT_STRING_EQUAL(a, b);
  CU_ASSERT_EQUAL(got.max_iter, 300);
  CU_ASSERT_STRING_EQUAL(got.k, "auto");
  /* an installed segcast has no docs/config.md beside it: point at the command */
  CU_ASSERT_EQUAL(config_set(&got, "run.nope=1"), SC_EUSAGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "segcast keys"));
  sc_clear();
  f = fopen("/dev/null", "w");
  CU_ASSERT_EQUAL(config_write_keys(f, "html"), SC_EUSAGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "html"));
  sc_clear();
  fclose(f);
  unlink(path);
}

/* gallop_lower_bound_i64 = lower_bound_i64 from any hint: random sorted
 * arrays with runs of equal keys, keys inside, between and outside the
 * values, hints anywhere in [0, n] (and past it). */
static void test_gallop(void) {
  uint64_t seed = 99;
  int wrong = 0;
  for (int round = 0; round < 2000; round++) {
    int64_t n = (int64_t)(round % 300);
    int64_t *a = malloc(sizeof(int64_t) * (size_t)(n + 1));
    int64_t v = -50;
    for (int64_t i = 0; i < n; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      v += (int64_t)(seed >> 61); /* steps of 0..7: runs of equal keys */
      a[i] = v;
    }
    for (int q = 0; q < 50; q++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      int64_t key = -60 + (int64_t)(seed >> 40) % (v + 80);
      int64_t hint = (int64_t)(seed >> 20) % (n + 3);
      if (gallop_lower_bound_i64(a, n, key, hint) != lower_bound_i64(a, n, key)) wrong++;
    }
    free(a);
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

static void test_reject_format(void) {
  char *s = csvr_format_reject("bad number in Quantity", "a,\"b\",\xff\x00z", 9);
  CU_ASSERT_STRING_EQUAL(s, "bad number in Quantity,\"a,\"\"b\"\",\\xFF\\x00z\"");
  free(s);
  s = csvr_format_reject("wrong field count (7, header has 8)", "caf\xc3\xa9", 5);
  CU_ASSERT_STRING_EQUAL(s, "\"wrong field count (7, header has 8)\",\"caf\xc3\xa9\"");
  free(s);
  /* the raw text is the input's: the formula guard of every text cell
   * (csvtext.h) inside csv_quote_raw's quotes; a number is not guarded */
  s = csvr_format_reject("bad number in Quantity", "=1+1,x", 6);
  CU_ASSERT_STRING_EQUAL(s, "bad number in Quantity,\"'=1+1,x\"");
  free(s);
  s = csvr_format_reject("bad id", "-3.5", 4);
  CU_ASSERT_STRING_EQUAL(s, "bad id,\"-3.5\"");
  free(s);
}

/* OWASP's formula guard of CSV text cells (csvtext.h), with RFC 4180
 * quoting around it, in the buffer form and the FILE form alike. */
static void test_csv_text_cells(void) {
  static const char *const cases[][2] = {
      {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
      {"+1", "'+1"},
      {"-cmd", "'-cmd"},
      {"@SUM(A1)", "'@SUM(A1)"},
      {"\tTAB", "'\tTAB"},
      {"\rCR", "\"'\rCR\""},
      {"-3.5", "-3.5"},     /* a number: not a formula */
      {"-12", "-12"},
      {"-.5", "-.5"},
      {"-", "'-"},
      {"-1e5", "'-1e5"},    /* not a DATA.md decimal: guarded */
      {"-2+3", "'-2+3"},
      {"A=B", "A=B"},
      {"a,b", "\"a,b\""},
      {"'=x", "'=x"},       /* already text to a spreadsheet */
      {"", ""},
      {"United Kingdom", "United Kingdom"},
  };
  char buf[256], fbuf[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = csvtext_cell(buf, cases[i][0]);
    CU_ASSERT(n < CSVTEXT_MAX(strlen(cases[i][0])));
    buf[n] = 0;
    CU_ASSERT_STRING_EQUAL(buf, cases[i][1]);
    memset(fbuf, 0, sizeof fbuf);
    FILE *f = fmemopen(fbuf, sizeof fbuf, "w");
    out_csv_field(f, cases[i][0]);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(fbuf, cases[i][1]);
  }
  /* the worst case (a guard, then quotes) fills CSVTEXT_MAX but for the NUL */
  CU_ASSERT_EQUAL(csvtext_cell(buf, "=\"\"\""), CSVTEXT_MAX(4) - 1);
  /* output.csv_raw_text = true: the text as it came */
  csvtext_set_raw(1);
  size_t n = csvtext_cell(buf, "=1+1");
  buf[n] = 0;
  CU_ASSERT_STRING_EQUAL(buf, "=1+1");
  char *s = csvr_format_reject("bad id", "@x", 2);
  CU_ASSERT_STRING_EQUAL(s, "bad id,\"@x\"");
  free(s);
  csvtext_set_raw(0);
}

/* The share and position arithmetic over row counts past 2^31 (and past
 * 2^63 / 100 in the product): exact against a 128-bit reference, and the
 * values the stages rely on (a rank's rows, RFM quintile starts, Lorenz
 * points, the reader's block split of a 5 TB file). */
static void test_count_arithmetic(void) {
  const int64_t big[] = {(int64_t)1 << 31, ((int64_t)1 << 31) + 1, 3000000000LL, (int64_t)1 << 40,
                         ((int64_t)1 << 62) + 12345, INT64_MAX / 3, INT64_MAX};
  const int64_t parts[] = {1, 2, 3, 4, 5, 7, 16, 100, 1000, 65536};
  int bad = 0;
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
    for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
      int64_t n = big[i], c = parts[j];
      for (int64_t b = 0; b <= c; b++) {
        __int128 p = (__int128)n * b;
        int64_t f = sc_muldiv(n, b, c), e = sc_muldiv_ceil(n, b, c);
        if ((__int128)f != p / c || (__int128)e != (p + c - 1) / c) bad++;
        if (f > n || e > n || (b == c && (f != n || e != n))) bad++; /* a share never exceeds the whole */
      }
    }
  CU_ASSERT_EQUAL(bad, 0);
  /* 3e9 rows over 16 ranks: the parts tile the rows exactly */
  int64_t n = 3000000000LL, sum = 0;
  for (int r = 0; r < 16; r++) sum += sc_muldiv(n, r + 1, 16) - sc_muldiv(n, r, 16);
  CU_ASSERT_EQUAL(sum, n);
  CU_ASSERT_EQUAL(sc_muldiv(n, 1, 16), 187500000);
  /* RFM quintile starts ceil(q N / 5) for N = 2^31 + 3 */
  CU_ASSERT_EQUAL(sc_muldiv_ceil(1, 2147483651LL, 5), 429496731);
  CU_ASSERT_EQUAL(sc_muldiv_ceil(4, 2147483651LL, 5), 1717986921);
  /* Lorenz point i = 99 of 2^62 customers: 99 * 2^62 overflows int64 */
  CU_ASSERT_EQUAL(sc_muldiv(99, (int64_t)1 << 62, 100), (int64_t)(((__int128)99 << 62) / 100));
  /* the reader's split of a 5 TB file into 1 MiB blocks over 7 ranks:
   * rank 6 ends at the last block */
  int64_t nb = (5000000000000LL + (1 << 20) - 1) >> 20;
  CU_ASSERT_EQUAL(sc_muldiv_ceil(nb, 7, 7), nb);
  CU_ASSERT(sc_muldiv_ceil(nb, 6, 7) * ((int64_t)1 << 20) > (int64_t)1 << 31);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("core", NULL, NULL);
  CU_add_test(s, "table sort and permute", test_table_sort_permute);
  CU_add_test(s, "table sort, both ways", test_table_sort_paths);
  CU_add_test(s, "table append", test_table_append);
  CU_add_test(s, "dictionary", test_dict);
  CU_add_test(s, "configuration", test_config);
  CU_add_test(s, "every key documented", test_config_documented);
  CU_add_test(s, "segcast keys reads back as the defaults", test_config_keys_ini);
  CU_add_test(s, "reject formatting", test_reject_format);
  CU_add_test(s, "CSV text cells: quoting and the formula guard", test_csv_text_cells);
  CU_add_test(s, "row-count arithmetic past 2^31", test_count_arithmetic);
  CU_add_test(s, "galloping lower bound", test_gallop);
}
