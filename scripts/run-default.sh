#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): install the packages,
# build, and run `segcast run` on configs/default.ini (a generated data set of
# 1,000,000 users) under mpirun with one rank per core.
# Usage: bash scripts/run-default.sh [extra segcast options, e.g. --set run.out=/tmp/x]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1 OMPI_MCA_io=romio321 OMPI_MCA_mpi_yield_when_idle=1
ranks=${SEGCAST_RANKS:-$(nproc)}
exec mpirun --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS=1 build/segcast run --config configs/default.ini "$@"
