# The unit and MPI tests again under AddressSanitizer + UBSan and valgrind
# (issue 17 item 1), counted in the same CTest summary as every test:
#  - sanitize_build (fixture): a second build tree, <build>/sanitize, with
#    SEGCAST_SANITIZE (every UBSan finding fatal: -fno-sanitize-recover=all),
#    built with only the targets below;
#  - sanitize_<test>: each unit test (segcast_unit_test) and MPI test
#    (segcast_mpi_test, at its rank count) run from that tree; leaks are
#    findings (LeakSanitizer), except Open MPI's, HDF5's and the OpenMP
#    runtime's own (tests/sanitize/lsan.supp);
#  - sanitize_e2e_*: the sanitized segcast on whole runs (tests/sanitize/
#    test_e2e.sh: a generated marketplace at 2 ranks, the same bytes as the
#    normal build; the hostile-cells test, every stage and predict; the
#    limits test, empty ranks and edge cases);
#  - valgrind_<test>: each unit test of the normal build under memcheck, zero
#    errors and no definite leaks (tests/sanitize/valgrind.supp: Open MPI's).
# Included from CMakeLists.txt after every tests/*.cmake so that the lists
# are complete. Label: sanitize. Off with -DSEGCAST_TEST_SANITIZE=OFF.
option(SEGCAST_TEST_SANITIZE "Run the unit and MPI tests again under ASan+UBSan (a second build tree) and valgrind" ON)
if(SEGCAST_SANITIZE OR NOT SEGCAST_TEST_SANITIZE)
  return()
endif()

set(san_dir ${CMAKE_BINARY_DIR}/sanitize)
set(san_src ${CMAKE_SOURCE_DIR}/tests/sanitize)
get_property(san_units GLOBAL PROPERTY SEGCAST_UNIT_TESTS)
get_property(san_mpis GLOBAL PROPERTY SEGCAST_MPI_TESTS)
set(san_targets segcast ${san_units})
foreach(rec ${san_mpis})
  string(REPLACE "|" ";" r "${rec}")
  list(GET r 2 exe)
  list(APPEND san_targets ${exe})
endforeach()
list(REMOVE_DUPLICATES san_targets)

add_test(NAME sanitize_build COMMAND bash ${san_src}/build.sh ${CMAKE_SOURCE_DIR} ${san_dir} ${san_targets})
set_tests_properties(sanitize_build PROPERTIES FIXTURES_SETUP sanitize LABELS sanitize TIMEOUT 900)

# Halt on the first report; a leak is a finding; UBSan prints its stack.
# intercept_tls_get_addr=0: up to GCC 13 the runtime's __tls_get_addr
# interceptor takes a dynamic-TLS block whose start is 16 bytes past a page
# boundary for a pre-2.25 glibc header and reads a bogus range from the two
# words before it; LeakSanitizer's tracer then dies on it at exit ("Tracer
# caught signal 11", no leak reported, exit code 1), at random, since the
# offset is a coincidence of malloc (CI, sanitize_e2e_hostile_cells, once in
# about twenty runs). segcast keeps no heap pointer in dynamic TLS (it is
# linked into the executable; only Open MPI's dlopen'ed components have
# dynamic TLS, and their leaks are suppressed), so nothing is lost.
# Programs that start MPI record their allocation stacks with the slow
# unwinder (fast_unwind_on_malloc=0) and keep Open MPI's components loaded
# (no dlclose): Open MPI is built without frame pointers, and only then do
# its frames have names for lsan.supp to match. The slow unwinder costs
# little there and minutes in the allocation-heavy unit tests (test_csvrec:
# 15 s fast, over 4 min slow), which do not start MPI and keep the fast one.
set(san_env_base "${SEGCAST_TEST_ENV};SEGCAST_BIN=${san_dir}/segcast;OMPI_MCA_mca_base_component_disable_dlclose=1"
    "LSAN_OPTIONS=suppressions=${san_src}/lsan.supp:print_suppressions=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=67")
set(san_asan "ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0:halt_on_error=1:exitcode=66")
set(san_env "${san_env_base};${san_asan}:fast_unwind_on_malloc=0")
set(san_env_fast "${san_env_base};${san_asan}")
# the unit tests that start MPI (the others never call comm_init)
set(san_unit_mpi unit_checkpoint)
function(san_props name)
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${san_env}" FIXTURES_REQUIRED sanitize LABELS sanitize
                       TIMEOUT 600 ${ARGN})
endfunction()

foreach(t ${san_units})
  add_test(NAME sanitize_${t} COMMAND ${san_dir}/${t})
  san_props(sanitize_${t})
  if(NOT t IN_LIST san_unit_mpi)
    set_property(TEST sanitize_${t} PROPERTY ENVIRONMENT "${san_env_fast}")
  endif()
endforeach()
foreach(rec ${san_mpis})
  string(REPLACE "|" ";" r "${rec}")
  list(POP_FRONT r name ranks exe)
  add_test(NAME sanitize_${name} COMMAND ${SEGCAST_MPIEXEC} -np ${ranks} ${san_dir}/${exe} ${r})
  san_props(sanitize_${name} PROCESSORS ${ranks})
endforeach()
add_test(NAME sanitize_e2e_marketplace COMMAND bash ${san_src}/test_e2e.sh marketplace $<TARGET_FILE:segcast>)
san_props(sanitize_e2e_marketplace PROCESSORS 2)
add_test(NAME sanitize_e2e_hostile_cells COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e/test_hostile_cells.sh)
san_props(sanitize_e2e_hostile_cells PROCESSORS 2)
set_property(TEST sanitize_e2e_hostile_cells APPEND PROPERTY ENVIRONMENT
             "SEGCAST_MPIRUN=${MPIEXEC_EXECUTABLE} --oversubscribe")
set_property(TEST sanitize_e2e_marketplace APPEND PROPERTY ENVIRONMENT
             "SEGCAST_MPIRUN=${MPIEXEC_EXECUTABLE} --oversubscribe")
# The limits (empty ranks, one customer, 10 MB fields, ids near 2^63) under
# ASan + UBSan, leaks included: several cases end in an error, and the
# error paths free what they took.
add_test(NAME sanitize_e2e_limits COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e/test_limits.sh)
san_props(sanitize_e2e_limits PROCESSORS 2)
set_property(TEST sanitize_e2e_limits APPEND PROPERTY ENVIRONMENT
             "SEGCAST_MPIRUN=${MPIEXEC_EXECUTABLE} --oversubscribe")

find_program(SEGCAST_VALGRIND valgrind)
# Tests left out under valgrind (SEGCAST_CUNIT_SKIP, tests/unit/cunit_main.c),
# each for a reason valgrind has and the sanitizers do not; the
# sanitize_* runs keep them:
#  - their references compute in x87 long double, which valgrind emulates
#    with 64-bit doubles (its documented limitation): the numbers differ;
#  - 145 s under valgrind (2 cores) for the random damaged files, 15 s
#    under ASan.
set(vg_skip_test_csv "parse_decimal halfway and long")
set(vg_skip_unit_clv "BG/NBD log-likelihood, P(alive), gradient and Hessian")
set(vg_skip_test_csvrec "random damaged CSVs against the reference")
if(SEGCAST_VALGRIND)
  foreach(t ${san_units})
    add_test(NAME valgrind_${t}
             COMMAND ${SEGCAST_VALGRIND} --tool=memcheck --error-exitcode=68 --leak-check=full
                     --errors-for-leak-kinds=definite --show-leak-kinds=definite
                     --suppressions=${san_src}/valgrind.supp --gen-suppressions=all -q $<TARGET_FILE:${t}>)
    set_tests_properties(valgrind_${t} PROPERTIES LABELS "sanitize;valgrind" TIMEOUT 600 ENVIRONMENT
                         "${SEGCAST_TEST_ENV};OMPI_MCA_mca_base_component_disable_dlclose=1;SEGCAST_CUNIT_SKIP=${vg_skip_${t}}")
  endforeach()
else() # a check that silently vanishes proves nothing: say so as a failing test
  add_test(NAME valgrind_missing COMMAND sh -c "echo 'valgrind not found: apt-get install valgrind (scripts/setup.sh)'; exit 1")
  set_tests_properties(valgrind_missing PROPERTIES LABELS "sanitize;valgrind")
endif()
