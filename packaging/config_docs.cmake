# config_docs.cmake: rewrites the key tables of docs/config.md from the
# program's `segcast keys --format markdown` (src/config.c's key table),
# between the two marker lines; the prose around them is kept.
#
#   cmake --build build --target config-docs
#
# The test config_docs_generated fails when the file and the table differ.
cmake_minimum_required(VERSION 3.18) # @NAME@ placeholders are text, not variables
foreach(v SEGCAST DOC)
  if(NOT ${v})
    message(FATAL_ERROR "config_docs.cmake: set -D${v}=...")
  endif()
endforeach()
set(begin_marker "<!-- keys: begin")
set(end_marker "<!-- keys: end -->")
execute_process(COMMAND "${SEGCAST}" keys --format markdown OUTPUT_VARIABLE tables RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR tables STREQUAL "")
  message(FATAL_ERROR "config_docs.cmake: `${SEGCAST} keys --format markdown` failed (${rc}): ${err}")
endif()
file(READ "${DOC}" doc)
string(FIND "${doc}" "${begin_marker}" b)
string(FIND "${doc}" "${end_marker}" e)
if(b LESS 0 OR e LESS b)
  message(FATAL_ERROR "config_docs.cmake: ${DOC} lacks the lines '${begin_marker} ... -->' and '${end_marker}'")
endif()
# keep the begin marker's whole comment, up to its "-->" and the newline
string(SUBSTRING "${doc}" ${b} -1 rest)
string(FIND "${rest}" "-->\n" close)
if(close LESS 0)
  message(FATAL_ERROR "config_docs.cmake: the '${begin_marker}' comment of ${DOC} does not end with '-->'")
endif()
math(EXPR cut "${b} + ${close} + 4")
string(SUBSTRING "${doc}" 0 ${cut} head)
string(SUBSTRING "${doc}" ${e} -1 tail)
set(new "${head}\n${tables}\n${tail}")
if(NOT new STREQUAL doc)
  file(WRITE "${DOC}" "${new}")
  message(STATUS "config_docs.cmake: rewrote the key tables of ${DOC}")
else()
  message(STATUS "config_docs.cmake: ${DOC} already matches the key table")
endif()
