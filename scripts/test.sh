#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine (as root): install the
# packages, build with warnings as errors, and run CTest (unit tests, MPI tests
# at 1, 2 and 4 ranks, end-to-end tests). .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DSEGCAST_WERROR=ON >/dev/null
cmake --build build-test -j"$(nproc)"
cd build-test
# CTest prints its label times and total after the summary line; repeat the
# summary line last so that it closes the output (CI reads the last lines).
set +e
ctest --output-on-failure --timeout 900 "$@" 2>&1 | tee ctest.log
rc=${PIPESTATUS[0]}
grep -E '^[0-9]+% tests passed' ctest.log | tail -n 1
exit "$rc"
