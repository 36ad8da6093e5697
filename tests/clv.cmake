# Lifetime-value tests (issue 16).
#  - unit_clv: the kernels (special functions, BG/NBD and Gamma-Gamma
#    terms against direct formulas and finite differences, exact grouped
#    and threaded sums, customer summaries) and the Newton maximiser;
segcast_unit_test(unit_clv ${CMAKE_SOURCE_DIR}/tests/unit/test_clv.c)
#  - clv_special_mpmath: ψ, ψ', 2F1 and the BG/NBD conditional expectation
#    (large x, z near 1) against mpmath at 50 digits;
add_executable(clv_special_driver ${CMAKE_SOURCE_DIR}/tests/unit/clv_special_driver.c)
target_link_libraries(clv_special_driver PRIVATE segcast_kernels)
add_test(NAME clv_special_mpmath COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/ref/clv_special_ref.py
         $<TARGET_FILE:clv_special_driver>)
set_tests_properties(clv_special_mpmath PROPERTIES LABELS unit)
#  - clv_real: CDNOW through the transactions layout against the scipy
#    reference (tests/ref/clv_ref.py) with and without a holdout and with
#    every x > 0, the published estimates, the same bytes at 1-4 ranks and
#    2 threads, CLV by segment from segcast run;
segcast_script_test(clv_real ${CMAKE_SOURCE_DIR}/tests/e2e/test_clv_real.sh)
set_tests_properties(clv_real PROPERTIES TIMEOUT 300)
#  - clv_cases: one customer, no repeat customers, no finite maximum,
#    holdouts as long as the data, discounting, clv.enabled = false;
segcast_script_test(clv_cases ${CMAKE_SOURCE_DIR}/tests/e2e/test_clv_cases.sh)
#  - clv_checkpoint: the fits stopped at exact steps (SEGCAST_TEST_SIGNAL_AT
#    = clv:<step>) during BG/NBD, during Gamma-Gamma, after both and inside
#    segcast run, resumed at other rank counts: identical outputs.
segcast_script_test(clv_checkpoint ${CMAKE_SOURCE_DIR}/tests/e2e/test_clv_checkpoint.sh)
set_tests_properties(clv_checkpoint PROPERTIES TIMEOUT 300)
#  - clv_generated: P(alive) against the generator's truth.csv (ROC AUC),
#    the churned flag and a holdout's totals on 20,000 generated users;
segcast_script_test(clv_generated ${CMAKE_SOURCE_DIR}/tests/e2e/test_clv_generated.sh)
