# Segmentation tests (issue 3): kernels, distributed selection and k-means,
# the stage at 1-4 ranks and 1-2 threads (identical bytes), features and
# scores against an independent pandas computation, predict.
add_executable(segment_driver ${CMAKE_SOURCE_DIR}/tests/mpi/segment_driver.c)
target_link_libraries(segment_driver PRIVATE segcast_core)

# Kernels and rules (CUnit).
segcast_unit_test(test_kmeans ${CMAKE_SOURCE_DIR}/tests/unit/test_kmeans.c)

# Distributed selection against brute force; k-means on one rank vs spread.
add_executable(test_segment_select ${CMAKE_SOURCE_DIR}/tests/mpi/test_segment_select.c)
target_link_libraries(test_segment_select PRIVATE segcast_core)
foreach(n 1 2 3 4)
  segcast_mpi_test(segment_select_${n}ranks ${n} test_segment_select)
endforeach()

# The stage at 1-4 ranks and 1-2 threads on in-memory data: identical
# bytes, pandas reference, as_of, predict, empty ranks, errors.
segcast_script_test(segment_ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_segment_ranks.sh)
set_property(TEST segment_ranks APPEND PROPERTY ENVIRONMENT "SEGCAST_SEGMENT_DRIVER=$<TARGET_FILE:segment_driver>")

# Online Retail and CDNOW end to end: pandas and scikit-learn references,
# predict, identical outputs at 1-4 ranks.
segcast_script_test(segment_real ${CMAKE_SOURCE_DIR}/tests/e2e/test_segment_real.sh)

# A generated marketplace data set end to end (all ten features).
segcast_script_test(segment_generated ${CMAKE_SOURCE_DIR}/tests/e2e/test_segment_generated.sh)

# Checkpoint and restart of the sweep (issue 5 item 3): `segcast segment`
# and `segcast run` stopped at exact steps (SEGCAST_TEST_SIGNAL_AT), resumed
# at other rank counts, identical outputs; foreign checkpoints ignored.
segcast_script_test(segment_checkpoint ${CMAKE_SOURCE_DIR}/tests/e2e/test_segment_checkpoint.sh)
set_tests_properties(segment_checkpoint PROPERTIES TIMEOUT 300)
