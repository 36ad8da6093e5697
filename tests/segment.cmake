# Segmentation tests (issue 3): kernels, distributed selection and k-means,
# the stage at 1-4 ranks and 1-2 threads (identical bytes), features and
# scores against an independent pandas computation, predict.
add_executable(segment_driver ${CMAKE_SOURCE_DIR}/tests/mpi/segment_driver.c)
target_link_libraries(segment_driver PRIVATE segcast_core)
