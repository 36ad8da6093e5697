#!/usr/bin/env bash
# Installs everything segcast needs from Debian 12's archive (run as root).
# Idempotent: re-running only checks that the packages are present.
# lmod, man-db, dpkg-dev (dpkg-shlibdeps for cpack -G DEB) and file: the
# install tests (module load, man segcast, the .deb); valgrind: the
# valgrind_* tests (tests/sanitize/sanitize.cmake).
set -euo pipefail
PKGS="cmake make gcc libc6-dev pkg-config openmpi-bin libopenmpi-dev
      libhdf5-openmpi-dev hdf5-tools libinih-dev libcunit1-dev libjansson-dev libxxhash-dev libisal-dev
      zlib1g-dev xz-utils clang-14 libfuzzer-14-dev python3 python3-numpy python3-pandas python3-sklearn
      python3-xgboost python3-h5py-mpi python3-scipy python3-mpmath
      slurmctld slurmd slurm-client munge
      libjs-chart.js chromium
      lmod man-db groff-base dpkg-dev file valgrind"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
