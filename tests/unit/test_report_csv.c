/* test_report_csv.c: unit tests of the report's CSV reader and of the local
 * building blocks of the insights stage (calendar, fixed-point text, record
 * compaction). Expected values are written out by hand, not computed with
 * the code under test.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "insights_core.h"
#include "report_csv.h"

static char *write_tmp(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/segcast-rcsv-XXXXXX");
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void test_read_quotes_crlf(void) {
  rtable t;
  int ex = 0;
  char *p = write_tmp("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2,,\"two\nlines\"\r\n3,z,");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_OK);
  unlink(p);
  CU_ASSERT_EQUAL(ex, 1);
  CU_ASSERT_EQUAL(t.ncol, 3);
  CU_ASSERT_EQUAL(t.nrow, 3);
  CU_ASSERT_STRING_EQUAL(t.cols[2], "c");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 0, 1), "x, y");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 0, 2), "say \"hi\"");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 1, 1), "");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 1, 2), "two\nlines");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 2, 0), "3");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 2, 2), "");
  rtable_free(&t);
}

/* Regression: the terminator written over a record's newline made the
 * reader see one more, empty record ("line 15: 1 fields"). */
static void test_read_trailing_newline(void) {
  rtable t;
  int ex = 0;
  char *p = write_tmp("month,revenue\n2011-01-01,10.5\n2011-02-01,7\n");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_OK);
  unlink(p);
  CU_ASSERT_EQUAL(t.nrow, 2);
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 1, 0), "2011-02-01");
  CU_ASSERT_STRING_EQUAL(rtable_cell(&t, 1, 1), "7");
  CU_ASSERT_EQUAL(rtable_col(&t, "revenue"), 1);
  CU_ASSERT_EQUAL(rtable_col(&t, "nope"), -1);
  static const char *const w[] = {"ven", NULL};
  CU_ASSERT_EQUAL(rtable_col_like(&t, w), 1);
  rtable_free(&t);
}

static void test_read_errors(void) {
  rtable t;
  int ex = 1;
  sc_clear();
  CU_ASSERT_EQUAL(rtable_read("/nonexistent/segcast.csv", &t, &ex), SC_OK);
  CU_ASSERT_EQUAL(ex, 0);
  char *p = write_tmp("a,b\n1,2\n3\n");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_EINPUT);
  unlink(p);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "line 3"));
  sc_clear();
  p = write_tmp("a,b\n1,\"2\n");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_EINPUT);
  unlink(p);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "quote"));
  sc_clear();
  p = write_tmp("a,b\n\"1\"x,2\n");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_EINPUT);
  unlink(p);
  sc_clear();
  p = write_tmp("");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_EINPUT);
  unlink(p);
  sc_clear();
}

static void test_numbers_and_json(void) {
  CU_ASSERT_TRUE(report_is_number("12"));
  CU_ASSERT_TRUE(report_is_number("-0.5"));
  CU_ASSERT_TRUE(report_is_number(".5"));
  CU_ASSERT_TRUE(report_is_number("1e-3"));
  CU_ASSERT_TRUE(report_is_number("2.5E+10"));
  CU_ASSERT_FALSE(report_is_number(""));
  CU_ASSERT_FALSE(report_is_number("-"));
  CU_ASSERT_FALSE(report_is_number("nan"));
  CU_ASSERT_FALSE(report_is_number("1,5"));
  CU_ASSERT_FALSE(report_is_number("2011-01-01"));
  CU_ASSERT_FALSE(report_is_number("1e"));
  rtable t;
  int ex;
  char *p = write_tmp("sku_id,units,share,name\n00123,4,0.25,x\n");
  CU_ASSERT_EQUAL(rtable_read(p, &t, &ex), SC_OK);
  unlink(p);
  json_t *j = rtable_json(&t);
  json_t *row = json_array_get(json_object_get(j, "rows"), 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(row, 0)), "00123"); /* ids stay text */
  CU_ASSERT_EQUAL(json_integer_value(json_array_get(row, 1)), 4);
  CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_array_get(row, 2)), 0.25, 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(row, 3)), "x");
  json_decref(j);
  rtable_free(&t);
}

static void test_calendar(void) {
  int y, m, d;
  char b[16];
  civil_from_days(0, &y, &m, &d);
  CU_ASSERT(y == 1970 && m == 1 && d == 1);
  civil_from_days(-1, &y, &m, &d);
  CU_ASSERT(y == 1969 && m == 12 && d == 31);
  /* 2011-12-09 is day 15317; 2000-02-29 is day 11016 */
  CU_ASSERT_STRING_EQUAL(ins_iso_day(15317, b), "2011-12-09");
  CU_ASSERT_STRING_EQUAL(ins_iso_day(11016, b), "2000-02-29");
  CU_ASSERT_EQUAL(ins_month_index(15317), 2011 * 12 + 11);
  CU_ASSERT_STRING_EQUAL(ins_iso_month(2011 * 12 + 11, b), "2011-12-01");
  CU_ASSERT_EQUAL(ins_weekday(0), 3);      /* Thursday */
  CU_ASSERT_EQUAL(ins_weekday(15317), 4);  /* 2011-12-09 was a Friday */
  CU_ASSERT_EQUAL(ins_weekday(-1), 2);     /* Wednesday */
}

static void test_fixed_point(void) {
  char b[32];
  CU_ASSERT_EQUAL(ins_fx(6 * 2.55), 15300000);  /* 15.299999999999999 in binary */
  CU_ASSERT_EQUAL(ins_fx(-0.0000005), -1);
  CU_ASSERT_STRING_EQUAL(ins_fx_text(15300000, b), "15.3");
  CU_ASSERT_STRING_EQUAL(ins_fx_text(-2000000, b), "-2");
  CU_ASSERT_STRING_EQUAL(ins_fx_text(125, b), "0.000125");
  CU_ASSERT_STRING_EQUAL(ins_fx_text(0, b), "0");
  CU_ASSERT_STRING_EQUAL(ins_fx_text(-999999, b), "-0.999999");
  CU_ASSERT_STRING_EQUAL(ins_fx_text(9747747930000LL, b), "9747747.93");
}

static void test_compact(void) {
  ins_recs a = {.min_mask = 2};
  CU_ASSERT_EQUAL(ins_recs_push(&a, 5, 0, 0, 10, 700, 1, 0), SC_OK);
  CU_ASSERT_EQUAL(ins_recs_push(&a, 3, 1, 0, 1, 900, 1, 0), SC_OK);
  CU_ASSERT_EQUAL(ins_recs_push(&a, 5, 0, 0, 5, 650, 1, 0), SC_OK);
  CU_ASSERT_EQUAL(ins_recs_push(&a, 3, 0, 0, 2, 100, 1, 0), SC_OK);
  CU_ASSERT_EQUAL(ins_recs_compact(&a), SC_OK); /* pushes append; compaction merges */
  CU_ASSERT_EQUAL(a.n, 3);
  CU_ASSERT(a.r[0].k[0] == 3 && a.r[0].k[1] == 0 && a.r[0].v[0] == 2);
  CU_ASSERT(a.r[1].k[0] == 3 && a.r[1].k[1] == 1 && a.r[1].v[0] == 1);
  CU_ASSERT(a.r[2].k[0] == 5 && a.r[2].v[0] == 15 && a.r[2].v[1] == 650 && a.r[2].v[2] == 2);
  ins_recs_free(&a);
  /* a full array is compacted before it grows: few keys, few records */
  ins_recs b = {0};
  for (int i = 0; i < 3000000; i++) CU_ASSERT_EQUAL_FATAL(ins_recs_push(&b, i % 7, 0, 0, 1, 0, 0, 0), SC_OK);
  CU_ASSERT(b.cap <= 1024);
  CU_ASSERT_EQUAL(ins_recs_compact(&b), SC_OK);
  CU_ASSERT_EQUAL(b.n, 7);
  int64_t tot = 0;
  for (int64_t i = 0; i < b.n; i++) tot += b.r[i].v[0];
  CU_ASSERT_EQUAL(tot, 3000000);
  ins_recs_free(&b);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("report_csv", NULL, NULL);
  CU_add_test(s, "quotes, CRLF, blank lines, quoted newline", test_read_quotes_crlf);
  CU_add_test(s, "trailing newline (regression)", test_read_trailing_newline);
  CU_add_test(s, "missing file, bad rows", test_read_errors);
  CU_add_test(s, "numbers and JSON", test_numbers_and_json);
  CU_pSuite c = CU_add_suite("insights_core", NULL, NULL);
  CU_add_test(c, "calendar", test_calendar);
  CU_add_test(c, "fixed point", test_fixed_point);
  CU_add_test(c, "record compaction", test_compact);
}
