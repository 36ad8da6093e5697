# Forecast tests (issue 4): kernels and the demand table against independent
# computations; the distributed trainer identical at 1-4 ranks and 1-2
# threads, loadable by XGBoost with the same predictions; the whole stage on
# generated data and Online Retail against pandas and the seasonal-naive
# baseline.
segcast_unit_test(unit_gbdt ${CMAKE_SOURCE_DIR}/tests/unit/test_gbdt.c)

add_executable(test_gbdt_mpi ${CMAKE_SOURCE_DIR}/tests/unit/test_gbdt_mpi.c)
target_link_libraries(test_gbdt_mpi PRIVATE segcast_core)
segcast_script_test(forecast_trainer_ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_forecast_ranks.sh $<TARGET_FILE:test_gbdt_mpi>)
segcast_script_test(forecast_generated ${CMAKE_SOURCE_DIR}/tests/e2e/test_forecast_generated.sh)
segcast_script_test(forecast_online_retail ${CMAKE_SOURCE_DIR}/tests/e2e/test_forecast_real.sh 2)
# Checkpoint and restart of boosting: stopped at 2 ranks, resumed at 1 and 3
# with identical outputs; a stale checkpoint is ignored.
segcast_script_test(forecast_checkpoint ${CMAKE_SOURCE_DIR}/tests/e2e/test_forecast_checkpoint.sh)
segcast_script_test(forecast_resume_full ${CMAKE_SOURCE_DIR}/tests/e2e/test_forecast_resume_full.sh)

# results.h5's deflate coder (ISA-L's igzip) against zlib and HDF5's filter.
segcast_unit_test(unit_h5deflate ${CMAKE_SOURCE_DIR}/tests/unit/test_h5deflate.c)
# results.h5's byte shuffle (kernels/shuffle.c) against HDF5's filter.
segcast_unit_test(unit_shuffle ${CMAKE_SOURCE_DIR}/tests/unit/test_shuffle.c)
