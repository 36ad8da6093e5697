# The libFuzzer target over the CSV record splitter and field parser
# (tests/fuzz/fuzz_csv.c, issue 14): built with clang (Debian's clang-14 and
# libfuzzer-14-dev, which scripts/setup.sh installs) beside the gcc build,
# and run by the test fuzz_csv for SEGCAST_FUZZ_SECONDS (60) from the seeds
# in tests/fuzz/corpus/, with the sequential reference as its oracle.
find_program(SEGCAST_CLANG NAMES clang-14 clang)
set(SEGCAST_FUZZ_SECONDS 60 CACHE STRING "seconds the fuzz_csv test fuzzes")
if(SEGCAST_CLANG)
  set(fuzz_src ${CMAKE_SOURCE_DIR}/kernels/csv.c ${CMAKE_SOURCE_DIR}/kernels/csvrec.c
      ${CMAKE_SOURCE_DIR}/tests/unit/csv_sim.c ${CMAKE_SOURCE_DIR}/tests/ref/csvref.c
      ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_csv.c)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/fuzz_csv
    COMMAND ${SEGCAST_CLANG} -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -Wall -Wextra -Werror -D_DEFAULT_SOURCE -I${CMAKE_SOURCE_DIR}/kernels -I${CMAKE_SOURCE_DIR}/src
            -I${CMAKE_SOURCE_DIR}/tests/unit -I${CMAKE_SOURCE_DIR}/tests/ref ${fuzz_src} -lm -o ${CMAKE_BINARY_DIR}/fuzz_csv
    DEPENDS ${fuzz_src} ${CMAKE_SOURCE_DIR}/kernels/csv.h ${CMAKE_SOURCE_DIR}/kernels/csvrec.h
            ${CMAKE_SOURCE_DIR}/tests/unit/csv_sim.h ${CMAKE_SOURCE_DIR}/tests/ref/csvref.h
    COMMENT "Building the libFuzzer target fuzz_csv with ${SEGCAST_CLANG}")
  add_custom_target(fuzz_csv ALL DEPENDS ${CMAKE_BINARY_DIR}/fuzz_csv)
  segcast_script_test(fuzz_csv ${CMAKE_SOURCE_DIR}/tests/e2e/test_fuzz.sh ${CMAKE_BINARY_DIR}/fuzz_csv ${SEGCAST_FUZZ_SECONDS})
  set_tests_properties(fuzz_csv PROPERTIES TIMEOUT 400)
else()
  message(WARNING "clang not found: the fuzz_csv test is not built (apt-get install clang-14 libfuzzer-14-dev)")
endif()
