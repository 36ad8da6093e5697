# Slurm tests (issue 5): the job scripts of jobs/ on a real single-node Slurm
# stood up by scripts/slurm-local.sh in a private folder (root, no systemd,
# as on the CI machine). Each test bounds every wait and tears its cluster
# down on any exit; RESOURCE_LOCK keeps the two from loading the 2 cores at
# the same time (their timings are bounded, not measured).
segcast_script_test(slurm_pipeline_retrain ${CMAKE_SOURCE_DIR}/tests/e2e/test_slurm.sh)
set_tests_properties(slurm_pipeline_retrain PROPERTIES TIMEOUT 900 RESOURCE_LOCK slurm LABELS "e2e;slurm")

segcast_script_test(slurm_checkpoint_requeue ${CMAKE_SOURCE_DIR}/tests/e2e/test_slurm_checkpoint.sh)
set_property(TEST slurm_checkpoint_requeue APPEND PROPERTY ENVIRONMENT "SEGCAST_CHECKPOINT_DRIVER=$<TARGET_FILE:checkpoint_driver>")
set_tests_properties(slurm_checkpoint_requeue PROPERTIES TIMEOUT 300 RESOURCE_LOCK slurm LABELS "e2e;slurm")

segcast_script_test(slurm_segcast_checkpoint ${CMAKE_SOURCE_DIR}/tests/e2e/test_slurm_segcast_checkpoint.sh)
set_tests_properties(slurm_segcast_checkpoint PROPERTIES TIMEOUT 600 RESOURCE_LOCK slurm LABELS "e2e;slurm")
