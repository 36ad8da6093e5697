# Ingest and store tests (issue 2): real data sets against pandas, rank-count
# independence of the store, loading at another rank count.
add_executable(test_store_load ${CMAKE_SOURCE_DIR}/tests/mpi/test_store_load.c)
target_link_libraries(test_store_load PRIVATE segcast_core)

foreach(n 1 2 4)
  segcast_script_test(ingest_real_${n}ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_real.sh ${n})
endforeach()
segcast_script_test(ingest_store_ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_ranks.sh)
set_property(TEST ingest_store_ranks APPEND PROPERTY ENVIRONMENT "SEGCAST_TEST_STORE_LOAD=$<TARGET_FILE:test_store_load>")

segcast_unit_test(unit_core ${CMAKE_SOURCE_DIR}/tests/unit/test_core.c)

add_executable(test_mpi_core ${CMAKE_SOURCE_DIR}/tests/unit/test_mpi_core.c)
target_link_libraries(test_mpi_core PRIVATE segcast_core)
foreach(n 1 2 4)
  segcast_mpi_test(mpi_core_${n}ranks ${n} test_mpi_core ${CMAKE_BINARY_DIR})
endforeach()

foreach(n 1 2 4)
  segcast_script_test(ingest_marketplace_${n}ranks ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh ${n})
endforeach()
# the delivery join's two ways of choosing the rank that answers for an
# order (by order-id range, by hash), with lines on every rank
segcast_script_test(ingest_marketplace_ranged ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh 3 as-generated 40000)
segcast_script_test(ingest_marketplace_shuffled_orders ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh 3 shuffled-orders 40000)
segcast_script_test(ingest_marketplace_shuffled_delivery ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh 3 shuffled-delivery 40000)
# lines out of order-id order on one rank: every question answered at home
# through a sort (answer_sorted over the lines' own order ids)
segcast_script_test(ingest_marketplace_shuffled_orders_1rank ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh 1 shuffled-orders)
# one rank, three threads: the join's galloping loop split over threads
segcast_script_test(ingest_marketplace_1rank_3threads ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_market.sh 1 as-generated 3000 3)

# The store's integer coder against HDF5's own scale-offset filter.
segcast_unit_test(unit_sopack ${CMAKE_SOURCE_DIR}/tests/unit/test_sopack.c)

# Record boundaries across the reader's blocks, ranks and threads.
segcast_script_test(ingest_blocks ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_blocks.sh)
# The whole job's outputs do not depend on the order of the input rows
# (as generated, in time order, shuffled; three ranks).
segcast_script_test(run_row_order ${CMAKE_SOURCE_DIR}/tests/e2e/test_run_row_order.sh)
# A generated marketplace with 0.5 % of its lines damaged (issue 14): rejects
# and line counts as the sequential reference's at 1, 2, 4 ranks x 1-3
# threads, features as pandas computes them on the reference's rows.
add_executable(csvref_clean ${CMAKE_SOURCE_DIR}/tests/ref/csvref_main.c ${CMAKE_SOURCE_DIR}/tests/ref/csvref.c)
target_link_libraries(csvref_clean PRIVATE m)
segcast_script_test(ingest_damaged ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_damaged.sh $<TARGET_FILE:csvref_clean>)
set_tests_properties(ingest_damaged PROPERTIES TIMEOUT 600)
# Files segcast's generator did not write (issue 15): bench/gen_independent.py's
# marketplace (time-ordered exports, sparse ids, quoted commas; and a damaged
# one) at 1, 2 ranks and 1 rank x 2 threads, against the generator's manifest
# and the pandas reference.
segcast_script_test(ingest_foreign ${CMAKE_SOURCE_DIR}/tests/e2e/test_ingest_foreign.sh)

# The store's Fletcher-32 checksum against HDF5's own.
segcast_unit_test(unit_fletcher32 ${CMAKE_SOURCE_DIR}/tests/unit/test_fletcher32.c)
