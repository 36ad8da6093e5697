# Benchmark of the CSV kernel against a plain C peer (run by hand:
# build/bench_csv [MB] [--file PATH]); an executable, not a test.
add_executable(bench_csv ${CMAKE_SOURCE_DIR}/bench/bench_csv.c)
target_link_libraries(bench_csv PRIVATE segcast_kernels)
