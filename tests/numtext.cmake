# numtext: printf-exact number text (kernels/numtext.c), the numbers of
# forecast.csv, gbdt_model.json and the other text outputs.
#  - unit_numtext: every conversion against snprintf on random and edge
#    values (NUMTEXT_TEST_N=20000000 for a long run by hand).
segcast_unit_test(unit_numtext ${CMAKE_SOURCE_DIR}/tests/unit/test_numtext.c)
