# Unit tests of the CSV kernel (kernels/csv.c).
segcast_unit_test(test_csv ${CMAKE_SOURCE_DIR}/tests/unit/test_csv.c)
# The record kernel (kernels/csvrec.c) against the sequential reference
# reader (tests/ref/csvref.c) on random damaged CSVs at simulated rank x
# thread splits (tests/unit/csv_sim.c).
segcast_unit_test(test_csvrec ${CMAKE_SOURCE_DIR}/tests/unit/test_csvrec.c ${CMAKE_SOURCE_DIR}/tests/unit/csv_sim.c
                  ${CMAKE_SOURCE_DIR}/tests/ref/csvref.c)
target_include_directories(test_csvrec PRIVATE ${CMAKE_SOURCE_DIR}/tests/ref)
