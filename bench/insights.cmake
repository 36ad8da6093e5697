# Benchmark of the insights stage's sort-based group-by (kernels/groupby.c)
# against qsort (run by hand: build/bench_groupby [ROWS]); an executable,
# not a test.
add_executable(bench_groupby ${CMAKE_SOURCE_DIR}/bench/bench_groupby.c)
target_link_libraries(bench_groupby PRIVATE segcast_kernels)
