# install_prefixed.cmake: the installed files that must name the prefix they
# are installed under, which is known only at install time
# (`cmake --install build --prefix P`, or /usr inside `cpack`):
#   - share/modulefiles/segcast/<version>.lua, the Lmod modulefile;
#   - share/segcast/jobs/{pipeline,retrain}.sbatch: Slurm runs a copy of a
#     batch script from its spool folder, so a script cannot find the helpers
#     beside it; the repository's scripts look in <submit folder>/jobs, and
#     the installed ones get the line that says so replaced by the installed
#     jobs folder (a user's copy of an installed script keeps working).
# Run by install(SCRIPT) with SEGCAST_SOURCE_DIR, SEGCAST_BINARY_DIR and
# SEGCAST_VERSION set; file(INSTALL) adds DESTDIR (cpack stages with it).
cmake_policy(PUSH)
cmake_policy(VERSION 3.18) # @NAME@ placeholders are text, not variables
get_filename_component(prefix "${CMAKE_INSTALL_PREFIX}" ABSOLUTE)
set(gen "${SEGCAST_BINARY_DIR}/install-prefixed")
file(MAKE_DIRECTORY "${gen}")

file(READ "${SEGCAST_SOURCE_DIR}/packaging/segcast.lua.in" module)
string(REPLACE "@SEGCAST_VERSION@" "${SEGCAST_VERSION}" module "${module}")
string(REPLACE "@SEGCAST_PREFIX@" "${prefix}" module "${module}")
file(WRITE "${gen}/${SEGCAST_VERSION}.lua" "${module}")
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/share/modulefiles/segcast" TYPE FILE
     FILES "${gen}/${SEGCAST_VERSION}.lua")

set(repo_line [[SEGCAST_JOBS=${SEGCAST_JOBS:-${SEGCAST_ROOT:-${SLURM_SUBMIT_DIR:-.}}/jobs}]])
set(installed_line "SEGCAST_JOBS=\${SEGCAST_JOBS:-${prefix}/share/segcast/jobs}")
foreach(job pipeline.sbatch retrain.sbatch)
  file(READ "${SEGCAST_SOURCE_DIR}/jobs/${job}" text)
  string(FIND "${text}" "\n${repo_line}\n" at)
  if(at LESS 0)
    message(FATAL_ERROR "install: jobs/${job} has no line '${repo_line}' to point at the installed jobs folder")
  endif()
  string(REPLACE "\n${repo_line}\n" "\n${installed_line}\n" text "${text}")
  file(WRITE "${gen}/${job}" "${text}")
endforeach()
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/share/segcast/jobs" TYPE PROGRAM
     FILES "${gen}/pipeline.sbatch" "${gen}/retrain.sbatch")
cmake_policy(POP)
