# Install tests (issue 18): the documentation generated from the key table,
# the commit in --version, how the job scripts find segcast, an install into
# a prefix used through Lmod and a real Slurm, and the .deb. They read the
# build folder (SEGCAST_BUILD) for the manual page, cmake --install and cpack.
set(SEGCAST_INSTALL_TEST_ENV "SEGCAST_BUILD=${CMAKE_BINARY_DIR}")

segcast_script_test(install_docs ${CMAKE_SOURCE_DIR}/tests/e2e/test_install_docs.sh)
segcast_script_test(install_version ${CMAKE_SOURCE_DIR}/tests/e2e/test_install_version.sh)
segcast_script_test(install_jobs_find_program ${CMAKE_SOURCE_DIR}/tests/e2e/test_jobs_find_program.sh)
segcast_script_test(install_prefix_module_slurm ${CMAKE_SOURCE_DIR}/tests/e2e/test_install_prefix.sh)
set_tests_properties(install_prefix_module_slurm PROPERTIES TIMEOUT 600 RESOURCE_LOCK "slurm;install" LABELS "e2e;slurm;install")
segcast_script_test(install_deb ${CMAKE_SOURCE_DIR}/tests/e2e/test_install_deb.sh)
# both write the build folder's install-prefixed/ (packaging/install_prefixed.cmake)
set_tests_properties(install_deb PROPERTIES TIMEOUT 300 RESOURCE_LOCK install LABELS "e2e;install")
foreach(t install_docs install_version install_jobs_find_program install_prefix_module_slurm install_deb)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "${SEGCAST_INSTALL_TEST_ENV}")
endforeach()
