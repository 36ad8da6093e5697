# Generator tests (issue 2 item 5): the same bytes at 1, 3 and 4 ranks and
# at 1 or 2 threads; the data set's shape checked with pandas; bad options.
# The formatting helpers are unit-tested against the C library.
foreach(mode ranks shape errors)
  segcast_script_test(generate_${mode} ${CMAKE_SOURCE_DIR}/tests/e2e/test_generate.sh ${mode})
  set_tests_properties(generate_${mode} PROPERTIES TIMEOUT 300)
endforeach()
segcast_unit_test(unit_generate ${CMAKE_SOURCE_DIR}/tests/unit/test_generate.c)
