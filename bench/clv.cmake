# Lifetime-value benchmarks (run by hand, see docs/clv.md):
#   bench_clv [CUSTOMERS]: the BG/NBD and Gamma-Gamma sums, the tables, the
#     conditional expectation and the clv.csv number formatter, one thread;
#   bench/clv_vs_scipy.py DATA_DIR: the whole clv stage against a scipy
#     L-BFGS-B implementation of the same likelihoods, in one run.
add_executable(bench_clv ${CMAKE_SOURCE_DIR}/bench/bench_clv.c)
target_link_libraries(bench_clv PRIVATE segcast_core)
