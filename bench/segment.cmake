# Segmentation benchmarks (run by hand, see docs/segmentation.md):
#   bench_kmeans [POINTS] [K]: one Lloyd iteration against streaming the
#     feature matrix from memory, plus the silhouette and seeding kernels;
#   bench/segment_vs_sklearn.py: inertia against scikit-learn's KMeans and
#     the whole features + scores + k-means + sweep against pandas/sklearn.
add_executable(bench_kmeans ${CMAKE_SOURCE_DIR}/bench/bench_kmeans.c)
target_link_libraries(bench_kmeans PRIVATE segcast_kernels)
