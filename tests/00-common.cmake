# Helpers every tests/*.cmake file uses to register its tests.
#
# segcast_unit_test(NAME SOURCES...): a CUnit executable linked with the
#   program's core; runs as one process.
# segcast_mpi_test(NAME RANKS EXECUTABLE ARGS...): runs under mpirun at RANKS.
# segcast_script_test(NAME SCRIPT ARGS...): a shell script (end-to-end);
#   sees SEGCAST_BIN, SEGCAST_ROOT, SEGCAST_SHARED and the MPI settings.
# The first two also record their tests (global properties
# SEGCAST_UNIT_TESTS, SEGCAST_MPI_TESTS) for tests/sanitize/sanitize.cmake,
# which runs them again under AddressSanitizer + UBSan and valgrind.
function(segcast_unit_test name)
  add_executable(${name} ${ARGN} ${CMAKE_SOURCE_DIR}/tests/unit/cunit_main.c)
  target_link_libraries(${name} PRIVATE segcast_core ${CUNIT_LIBRARY})
  target_include_directories(${name} PRIVATE ${CUNIT_INCLUDE_DIR} ${CMAKE_SOURCE_DIR}/tests/unit)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEGCAST_TEST_ENV}" LABELS unit)
  set_property(GLOBAL APPEND PROPERTY SEGCAST_UNIT_TESTS ${name})
endfunction()

function(segcast_mpi_test name ranks exe)
  add_test(NAME ${name} COMMAND ${SEGCAST_MPIEXEC} -np ${ranks} $<TARGET_FILE:${exe}> ${ARGN})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEGCAST_TEST_ENV}" PROCESSORS ${ranks} LABELS mpi)
  string(REPLACE ";" "|" rec "${name};${ranks};${exe};${ARGN}") # one list element: name|ranks|exe|args...
  set_property(GLOBAL APPEND PROPERTY SEGCAST_MPI_TESTS "${rec}")
endfunction()

function(segcast_script_test name script)
  add_test(NAME ${name} COMMAND bash ${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEGCAST_TEST_ENV};SEGCAST_MPIRUN=${MPIEXEC_EXECUTABLE} --oversubscribe"
                       LABELS e2e)
endfunction()
