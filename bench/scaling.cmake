# Scaling measurements (run by hand, see docs/scaling.md):
#   bench/scaling.sh: the pipeline at 1, 2 and 4 ranks, strong and weak,
#     with per-stage compute / communication / I/O seconds from the PMPI
#     library below (LD_PRELOAD; segcast itself is not rebuilt);
#   bench/scaling_model.py: the latency + bandwidth projection to 64, 1,024
#     and 4,096 ranks from those measurements.
add_library(scaling_mpiprof SHARED ${CMAKE_SOURCE_DIR}/bench/scaling_mpiprof.c)
target_link_libraries(scaling_mpiprof PRIVATE MPI::MPI_C ${CMAKE_DL_LIBS})
