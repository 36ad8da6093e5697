/* Shared main() of every CUnit test executable.
 *
 * Each test file defines `void register_tests(void)` that adds its suites;
 * this runs them with the basic interface and returns non-zero when any
 * assertion failed, so CTest sees the failure. Tests that need MPI call
 * comm_init themselves through the helpers in test_util.h. */
#include <CUnit/Basic.h>
#include <stdio.h>

void register_tests(void);

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  register_tests();
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
