# The malformed-input corpus (tests/data/malformed/, issue 2): exact
# rejects.csv lines or one clear error line with no output left behind, at
# 1 rank (1 and 2 threads), 2 and 4 ranks.
foreach(rt "1;1" "1;2" "2;1" "4;1")
  list(GET rt 0 r)
  list(GET rt 1 t)
  segcast_script_test(malformed_${r}ranks_${t}threads ${CMAKE_SOURCE_DIR}/tests/e2e/test_malformed.sh ${r} ${t})
  set_tests_properties(malformed_${r}ranks_${t}threads PROPERTIES PROCESSORS ${r} TIMEOUT 600)
endforeach()
