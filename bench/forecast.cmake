# Forecast benchmarks (run by hand, see docs/forecast.md):
#   bench_gbdt OUT_DIR [ROUNDS] [DEPTH] [BINS]: histogram, partition and
#     training times on the demand rows of a segcast output folder;
#   bench/forecast_vs_xgboost.py: the demand table against pandas and the
#     training against XGBoost 1.7 hist, on the same rows, in one run.
add_executable(bench_gbdt ${CMAKE_SOURCE_DIR}/bench/bench_gbdt.c)
target_link_libraries(bench_gbdt PRIVATE segcast_core)
