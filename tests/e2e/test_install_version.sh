#!/usr/bin/env bash
# `segcast --version` names the version and the git commit of the build, and
# packaging/version.cmake (which finds the commit at every build) falls back
# to "unknown" where there is no commit to name (issue 18):
#  - the built program prints "segcast <version> (commit <HEAD>)", HEAD as git
#    itself reports it for this checkout (-dirty when tracked files changed);
#  - a fresh repository: its commit; a tracked file changed: "<commit>-dirty";
#    a new commit: the new one (the file is rewritten, else left untouched);
#  - the same sources without .git: "unknown"; and unpacked inside another
#    repository (whose HEAD is not theirs): "unknown" too.
set -euo pipefail
source "$(dirname "$0")/test_install_lib.sh"
: "${SEGCAST_BIN:?set by CTest}" "${SEGCAST_ROOT:?set by CTest}"
script="$SEGCAST_ROOT/packaging/version.cmake"
T=$(mktemp -d /tmp/segcast-version.XXXXXX)
trap 'rm -rf "$T"' EXIT

want="segcast $(sed -n 's/^project(segcast VERSION \([0-9.]*\).*/\1/p' "$SEGCAST_ROOT/CMakeLists.txt") (commit $(expected_commit))"
got=$("$SEGCAST_BIN" --version)
[ "$got" = "$want" ] || fail "segcast --version printed '$got', expected '$want'"
echo "ok: $got"

commit_of() { # the commit version.cmake writes for the sources in $1
  cmake -DSOURCE_DIR="$1" -DOUTPUT="$T/commit.c" -P "$script"
  sed -n 's/^const char sc_commit\[\] = "\(.*\)";$/\1/p' "$T/commit.c"
}
g() { git -C "$T/repo" -c user.name=t -c user.email=t@localhost "$@"; }
mkdir "$T/repo"
g init -q
echo one >"$T/repo/a.txt"
g add a.txt
g commit -qm one
c1=$(g rev-parse HEAD)
[ "$(commit_of "$T/repo")" = "$c1" ] || fail "a fresh repository: $(commit_of "$T/repo"), expected $c1"
echo two >"$T/repo/a.txt"
[ "$(commit_of "$T/repo")" = "$c1-dirty" ] || fail "a changed tracked file: $(commit_of "$T/repo"), expected $c1-dirty"
touch -d '2000-01-01' "$T/commit.c"
g commit -qam two
c2=$(g rev-parse HEAD)
[ "$(commit_of "$T/repo")" = "$c2" ] || fail "after a new commit: $(commit_of "$T/repo"), expected $c2"
before=$(stat -c %Y "$T/commit.c")
commit_of "$T/repo" >/dev/null
[ "$(stat -c %Y "$T/commit.c")" = "$before" ] || fail "the same commit rewrote the file (everything would rebuild)"
echo "ok: a repository's commit, -dirty, a new commit; an unchanged commit leaves the file alone"

mkdir "$T/copy"
cp -r "$T/repo/a.txt" "$T/copy/"
[ "$(commit_of "$T/copy")" = unknown ] || fail "sources without .git: $(commit_of "$T/copy"), expected unknown"
mkdir "$T/repo/vendored"
cp "$T/repo/a.txt" "$T/repo/vendored/"
[ "$(commit_of "$T/repo/vendored")" = unknown ] || fail "sources inside another repository: $(commit_of "$T/repo/vendored"), expected unknown"
echo "ok: unknown without .git and inside another repository"
echo PASS
