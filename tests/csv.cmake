# Unit tests of the CSV kernel (kernels/csv.c).
segcast_unit_test(test_csv ${CMAKE_SOURCE_DIR}/tests/unit/test_csv.c)
# The record kernel (kernels/csvrec.c) against the sequential reference
# reader (tests/ref/csvref.c) on random damaged CSVs at simulated rank x
# thread splits (tests/unit/csv_sim.c).
segcast_unit_test(test_csvrec ${CMAKE_SOURCE_DIR}/tests/unit/test_csvrec.c ${CMAKE_SOURCE_DIR}/tests/unit/csv_sim.c
                  ${CMAKE_SOURCE_DIR}/tests/ref/csvref.c)
target_include_directories(test_csvrec PRIVATE ${CMAKE_SOURCE_DIR}/tests/ref)
# src/csvread.c itself against the reference under mpirun: 300 random
# damaged CSVs at each of 1-4 ranks, each read at 1, 2 and 3 threads with a
# random block size (tests/mpi/csv_diff_driver.c).
add_executable(csv_diff_driver ${CMAKE_SOURCE_DIR}/tests/mpi/csv_diff_driver.c ${CMAKE_SOURCE_DIR}/tests/unit/csv_sim.c
               ${CMAKE_SOURCE_DIR}/tests/ref/csvref.c)
target_link_libraries(csv_diff_driver PRIVATE segcast_core)
target_include_directories(csv_diff_driver PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit ${CMAKE_SOURCE_DIR}/tests/ref)
foreach(n 1 2 3 4)
  segcast_script_test(csv_diff_${n}ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_csv_diff.sh $<TARGET_FILE:csv_diff_driver> ${n} 300)
  set_tests_properties(csv_diff_${n}ranks PROPERTIES PROCESSORS ${n})
endforeach()
