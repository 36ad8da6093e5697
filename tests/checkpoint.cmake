# Checkpoint and restart tests (issue 5 item 3): the state container and
# signal handling (CUnit, one rank), and save / signal / resume at another
# rank count with byte-identical results, under mpirun (checkpoint_driver).
add_executable(checkpoint_driver ${CMAKE_SOURCE_DIR}/tests/mpi/checkpoint_driver.c)
target_link_libraries(checkpoint_driver PRIVATE segcast_core)

segcast_unit_test(unit_checkpoint ${CMAKE_SOURCE_DIR}/tests/unit/test_checkpoint.c)

segcast_script_test(checkpoint_resume ${CMAKE_SOURCE_DIR}/tests/e2e/test_checkpoint_resume.sh)
set_property(TEST checkpoint_resume APPEND PROPERTY ENVIRONMENT "SEGCAST_CHECKPOINT_DRIVER=$<TARGET_FILE:checkpoint_driver>")
set_tests_properties(checkpoint_resume PROPERTIES TIMEOUT 300)
