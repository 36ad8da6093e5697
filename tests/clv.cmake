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
