/* Shared main() of every CUnit test executable.
 *
 * Each test file defines `void register_tests(void)` that adds its suites;
 * this runs them with the basic interface and returns non-zero when any
 * assertion failed, so CTest sees the failure. Tests that need MPI call
 * comm_init themselves through the helpers in test_util.h.
 *
 * SEGCAST_CUNIT_SKIP="test name|other test name" leaves the named tests out
 * (each name must exist: a typo fails the run). Only the valgrind_* tests
 * use it, for the tests whose references compute in x87 long double, which
 * valgrind emulates with 64-bit doubles (tests/sanitize/sanitize.cmake). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void register_tests(void);

/* Deactivates every test named in `list` ('|'-separated); returns the
 * number of names that matched no test. */
static int skip_tests(const char *list) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  int unknown = 0;
  for (char *save = NULL, *name = strtok_r(buf, "|", &save); name; name = strtok_r(NULL, "|", &save)) {
    int found = 0;
    for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext)
      for (CU_pTest t = s->pTest; t; t = t->pNext)
        if (!strcmp(t->pName, name)) {
          CU_set_test_active(t, CU_FALSE);
          found = 1;
          printf("cunit_main: skipping \"%s\" (SEGCAST_CUNIT_SKIP)\n", name);
        }
    if (!found) {
      fprintf(stderr, "cunit_main: SEGCAST_CUNIT_SKIP names no test \"%s\"\n", name);
      unknown++;
    }
  }
  return unknown;
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  register_tests();
  const char *skip = getenv("SEGCAST_CUNIT_SKIP");
  if (skip && *skip && skip_tests(skip)) {
    CU_cleanup_registry();
    return 2;
  }
  CU_set_fail_on_inactive(CU_FALSE);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
