# Unit tests of the CSV kernel (kernels/csv.c).
segcast_unit_test(test_csv ${CMAKE_SOURCE_DIR}/tests/unit/test_csv.c)
