# install.cmake: how segcast is installed on a cluster (issue 18), included
# by CMakeLists.txt after the program's targets.
#
#   - segcast_commit: at every build, the git commit into sc_commit[]
#     (packaging/version.cmake), for `segcast --version` and summary.json;
#   - segcast.1: the manual page, written at build time from
#     packaging/segcast.1.in and `segcast keys --format man`
#     (packaging/manpage.cmake); `config-docs` rewrites docs/config.md's key
#     tables from the same table (packaging/config_docs.cmake);
#   - `cmake --install build --prefix P`: P/bin/segcast,
#     P/share/segcast/{configs,jobs,docs}, P/share/man/man1/segcast.1 and the
#     Lmod modulefile P/share/modulefiles/segcast/<version>.lua; the
#     modulefile and the batch scripts get P written into them
#     (packaging/install_prefixed.cmake);
#   - `cpack -G DEB` (in the build folder): segcast_<version>_<arch>.deb for
#     /usr, its Depends from dpkg-shlibdeps plus the programs and files the
#     run needs besides its libraries.
set(SEGCAST_COMMIT_C ${CMAKE_BINARY_DIR}/generated/segcast_commit.c)
add_custom_target(segcast_commit ALL
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${SEGCAST_COMMIT_C}
          -P ${CMAKE_SOURCE_DIR}/packaging/version.cmake
  BYPRODUCTS ${SEGCAST_COMMIT_C}
  COMMENT "Naming the git commit of the build"
  VERBATIM)
target_sources(segcast_core PRIVATE ${SEGCAST_COMMIT_C})
add_dependencies(segcast_core segcast_commit)

set(SEGCAST_MAN ${CMAKE_BINARY_DIR}/segcast.1)
add_custom_command(OUTPUT ${SEGCAST_MAN}
  COMMAND ${CMAKE_COMMAND} -DSEGCAST=$<TARGET_FILE:segcast> -DTEMPLATE=${CMAKE_SOURCE_DIR}/packaging/segcast.1.in
          -DOUTPUT=${SEGCAST_MAN} -P ${CMAKE_SOURCE_DIR}/packaging/manpage.cmake
  DEPENDS segcast ${CMAKE_SOURCE_DIR}/packaging/segcast.1.in ${CMAKE_SOURCE_DIR}/packaging/manpage.cmake
  COMMENT "Writing the manual page segcast.1"
  VERBATIM)
add_custom_target(segcast_man ALL DEPENDS ${SEGCAST_MAN})
add_custom_target(config-docs
  COMMAND ${CMAKE_COMMAND} -DSEGCAST=$<TARGET_FILE:segcast> -DDOC=${CMAKE_SOURCE_DIR}/docs/config.md
          -P ${CMAKE_SOURCE_DIR}/packaging/config_docs.cmake
  DEPENDS segcast
  VERBATIM)

install(TARGETS segcast RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configs/ DESTINATION share/segcast/configs FILES_MATCHING PATTERN "*.ini")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION share/segcast/docs)
install(FILES ${CMAKE_SOURCE_DIR}/jobs/segcast-job.sh DESTINATION share/segcast/jobs)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/jobs/compare_runs.py DESTINATION share/segcast/jobs)
install(FILES ${SEGCAST_MAN} DESTINATION share/man/man1)
install(CODE "set(SEGCAST_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
set(SEGCAST_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
set(SEGCAST_VERSION \"${PROJECT_VERSION}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/packaging/install_prefixed.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME segcast)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "segcast maintainers <segcast@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "customer segments and demand forecasts from order data, as one MPI batch job")
set(CPACK_PACKAGE_DESCRIPTION "segcast turns a retailer's raw order data into RFM and k-means customer segments and
gradient-boosted demand forecasts, as one MPI program (Open MPI, parallel HDF5,
OpenMP) with Slurm batch scripts, an Lmod modulefile and a manual page.")
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr) # what the install scripts see as CMAKE_INSTALL_PREFIX under DESTDIR
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Libraries (Open MPI, HDF5 for Open MPI, libinih, jansson, xxhash, ISA-L, libgomp)
# come from dpkg-shlibdeps; besides them a run needs Open MPI's programs (a
# lone rank starts an orted) and Chart.js, which report.html inlines.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "openmpi-bin, libjs-chart.js")
# retrain.sbatch compares runs with pandas; the jobs need Slurm's commands
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-pandas, slurm-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "lmod")
include(CPack)
