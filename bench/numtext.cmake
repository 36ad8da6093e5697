# Benchmark of kernels/numtext.c against snprintf (run by hand:
# build/bench_numtext [millions]); an executable, not a test.
add_executable(bench_numtext ${CMAKE_SOURCE_DIR}/bench/bench_numtext.c)
target_link_libraries(bench_numtext PRIVATE segcast_kernels)
