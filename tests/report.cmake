# Insights and report tests (issue 6).
#  - unit_report: the report's CSV reader, calendar, fixed point, records;
#  - unit_groupby: kernels/groupby.c's sort-based group-by against qsort
#    (issue 15);
#  - insights_topk_N: exact distributed top-k sums and group-by against
#    brute force at 1-4 ranks;
#  - report_insights_fixture: insights on a lines fixture, same bytes at
#    1-4 ranks, equal to pandas (tests/ref/insights_ref.py);
#  - report_page: report.html from fixture outputs: numbers equal the
#    summary and CSVs, headless Chromium renders every chart with no console
#    error and no request, absent inputs are said, missing Chart.js is a
#    clear error;
#  - report_online_retail: the whole job on Online Retail, insights against
#    pandas, report numbers, Chromium;
#  - report_hostile_cells: formulas and markup in the input's text: guarded
#    with a leading ' in every CSV (raw with output.csv_raw_text), escaped in
#    every text column of report.html (issue 17 item 4).
segcast_unit_test(unit_report ${CMAKE_SOURCE_DIR}/tests/unit/test_report_csv.c)
segcast_unit_test(unit_groupby ${CMAKE_SOURCE_DIR}/tests/unit/test_groupby.c)

add_executable(test_insights_topk ${CMAKE_SOURCE_DIR}/tests/mpi/test_insights_topk.c)
target_link_libraries(test_insights_topk PRIVATE segcast_core)
foreach(n 1 2 3 4)
  segcast_mpi_test(insights_topk_${n}ranks ${n} test_insights_topk)
endforeach()

add_executable(insights_driver ${CMAKE_SOURCE_DIR}/tests/mpi/insights_driver.c)
target_link_libraries(insights_driver PRIVATE segcast_core)
segcast_script_test(report_insights_fixture ${CMAKE_SOURCE_DIR}/tests/e2e/test_report_insights.sh
                    $<TARGET_FILE:insights_driver>)
segcast_script_test(report_page ${CMAKE_SOURCE_DIR}/tests/e2e/test_report_page.sh $<TARGET_FILE:insights_driver>)
segcast_script_test(report_online_retail ${CMAKE_SOURCE_DIR}/tests/e2e/test_report_online_retail.sh)
set_tests_properties(report_page report_online_retail PROPERTIES TIMEOUT 300)
segcast_script_test(report_hostile_cells ${CMAKE_SOURCE_DIR}/tests/e2e/test_hostile_cells.sh)
