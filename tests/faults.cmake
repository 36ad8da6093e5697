# Fault tests (issue 17 item 3): missing or unreadable input, an output
# folder that is unwritable or full, a rank killed during ingest, k-means
# and boosting, a damaged or old store, a foreign or damaged checkpoint,
# and the output folder's lock and staging (item 2). docs/operations.md,
# "Faults", lists what each checks.
foreach(t input output kill store checkpoint)
  segcast_script_test(faults_${t} ${CMAKE_SOURCE_DIR}/tests/e2e/test_faults_${t}.sh)
  set_tests_properties(faults_${t} PROPERTIES TIMEOUT 240 LABELS "e2e;faults")
endforeach()
