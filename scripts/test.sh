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
exec ctest --output-on-failure --timeout 900 "$@"
