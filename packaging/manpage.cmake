# manpage.cmake: writes segcast.1 from packaging/segcast.1.in at build time.
#
#   cmake -DSEGCAST=<built program> -DTEMPLATE=<segcast.1.in> -DOUTPUT=<segcast.1> -P manpage.cmake
#
# The key list is the program's own `segcast keys --format man`, printed from
# src/config.c's key table (the table docs/config.md is generated from), and
# the version line is its `segcast --version`: the page cannot drift from the
# program it is built with. The date honours SOURCE_DATE_EPOCH.
cmake_minimum_required(VERSION 3.18) # @NAME@ placeholders are text, not variables
foreach(v SEGCAST TEMPLATE OUTPUT)
  if(NOT ${v})
    message(FATAL_ERROR "manpage.cmake: set -D${v}=...")
  endif()
endforeach()

execute_process(COMMAND "${SEGCAST}" keys --format man OUTPUT_VARIABLE keys RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR keys STREQUAL "")
  message(FATAL_ERROR "manpage.cmake: `${SEGCAST} keys --format man` failed (${rc}): ${err}")
endif()
execute_process(COMMAND "${SEGCAST}" --version OUTPUT_VARIABLE ver RESULT_VARIABLE rc ERROR_VARIABLE err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR NOT ver MATCHES "^segcast ([^ ]+) \\(commit ([^)]+)\\)$")
  message(FATAL_ERROR "manpage.cmake: `${SEGCAST} --version` printed '${ver}' (${rc}): ${err}")
endif()
set(version "${CMAKE_MATCH_1}")
set(commit "${CMAKE_MATCH_2}")
string(REPLACE "-" "\\-" commit "${commit}")
string(TIMESTAMP date "%Y-%m-%d" UTC)

file(READ "${TEMPLATE}" page)
string(REGEX REPLACE "\n$" "" keys "${keys}")
# (the key text holds semicolons, so no CMake lists here)
function(fill name value)
  string(FIND "${page}" "${name}" at)
  if(at LESS 0)
    message(FATAL_ERROR "manpage.cmake: ${TEMPLATE} has no ${name}")
  endif()
  string(REPLACE "${name}" "${value}" page "${page}")
  set(page "${page}" PARENT_SCOPE)
endfunction()
fill("@SEGCAST_KEYS@" "${keys}")
fill("@SEGCAST_VERSION@" "${version}")
fill("@SEGCAST_COMMIT@" "${commit}")
fill("@SEGCAST_DATE@" "${date}")
file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
