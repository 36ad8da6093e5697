# Benchmark of the store's scale-offset coder against HDF5's own (run by
# hand: build/bench_sopack); an executable, not a test.
add_executable(bench_sopack ${CMAKE_SOURCE_DIR}/bench/bench_sopack.c)
target_link_libraries(bench_sopack PRIVATE segcast_core)

# Benchmark of the stable radix sort (the ingest's sorts and joins) against
# qsort (run by hand: build/bench_radix); an executable, not a test.
add_executable(bench_radix ${CMAKE_SOURCE_DIR}/bench/bench_radix.c)
target_link_libraries(bench_radix PRIVATE segcast_core)

# Benchmark of results.h5's double-column filters (kernels/shuffle.c and
# igzip's deflate) against HDF5's shuffle and zlib (run by hand:
# build/bench_shuffle); an executable, not a test.
add_executable(bench_shuffle ${CMAKE_SOURCE_DIR}/bench/bench_shuffle.c)
target_link_libraries(bench_shuffle PRIVATE segcast_core)
