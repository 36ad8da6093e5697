# Limits (issue 17 item 5, docs/operations.md "Limits"): long lines and
# fields, dates before 1970 and after 2100, ids near 2^63, a million lines
# of one customer, a single customer / day / SKU, k above the customers,
# 16 ranks on 10 lines: a correct result or one clear error line each.
# The row-count arithmetic past 2^31 is in unit_core and mpi_core_*; the
# same script runs under the sanitizers as sanitize_e2e_limits.
segcast_script_test(limits ${CMAKE_SOURCE_DIR}/tests/e2e/test_limits.sh)
set_tests_properties(limits PROPERTIES PROCESSORS 2 TIMEOUT 300)
