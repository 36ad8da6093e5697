#!/usr/bin/env bash
# The sanitizer tests' fixture: configures and builds a second tree with
# AddressSanitizer + UBSan (SEGCAST_SANITIZE, -O1 -g, no LTO) holding only
# the targets the sanitize_* tests run. Incremental: a second run rebuilds
# what changed.
#   build.sh SOURCE_DIR BUILD_DIR TARGET...
set -euo pipefail
src=$1 dir=$2
shift 2
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DSEGCAST_SANITIZE=ON -DSEGCAST_WERROR=ON -DSEGCAST_LTO=OFF > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
else # an existing tree learns of targets added since it was configured
  cmake "$dir" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
fi
t0=$(date +%s)
cmake --build "$dir" -j"$(nproc)" --target "$@" > "$dir.build.log" 2>&1 || { tail -40 "$dir.build.log"; exit 1; }
echo "sanitizer build: $# targets in $(( $(date +%s) - t0 )) s ($dir)"
