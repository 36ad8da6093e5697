#!/usr/bin/env bash
# The Debian package (issue 18): `cpack -G DEB` in the build folder, then
# `dpkg -i` into a throwaway root whose package database is a copy of this
# machine's (so dpkg checks the Depends against what is really installed,
# and the package's files land outside the system), then from an empty
# folder with nothing of the build tree:
#  - Depends names the package of every library the built segcast links
#    (dpkg -S of each NEEDED entry, found with ldd), among them Open MPI, HDF5
#    for Open MPI, libinih, jansson and xxhash, plus openmpi-bin and
#    libjs-chart.js; into an empty database dpkg refuses it for exactly those;
#  - the package holds /usr/bin/segcast, the configs, jobs, docs, the manual
#    page and the modulefile, and its files name /usr, not the build tree;
#  - the installed segcast: --version names this checkout's commit; a small
#    run gives outputs that hold up; `man` renders its page;
#  - `dpkg -r` removes every file it installed.
set -euo pipefail
source "$(dirname "$0")/test_install_lib.sh"
: "${SEGCAST_BIN:?set by CTest}" "${SEGCAST_ROOT:?set by CTest}" "${SEGCAST_BUILD:?set by CTest}"
[ "$(id -u)" = 0 ] || fail "dpkg -i needs root: run CTest as root (as CI does)"
T=$(mktemp -d /tmp/segcast-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
version=$(sed -n 's/^project(segcast VERSION \([0-9.]*\).*/\1/p' "$SEGCAST_ROOT/CMakeLists.txt")
commit=$(expected_commit)

# ---- build the package -------------------------------------------------------
(cd "$SEGCAST_BUILD" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 || fail "cpack -G DEB failed: $(tail -n 5 "$T/cpack.log")"
deb=$(ls "$T/pkg"/segcast_"$version"_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
echo "built $(basename "$deb"): Depends: $depends"
has_dep() { tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -qx "$1"; }
needed_pkgs=""
for lib in $(readelf -d "$SEGCAST_BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  path=$(ldd "$SEGCAST_BIN" | awk -v l="$lib" '$1 == l {print $3}')
  [ -n "$path" ] || fail "ldd does not resolve $lib"
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path") || fail "no package owns $path"
  pkg=${pkg%%:*}
  has_dep "$pkg" || fail "Depends lacks $pkg, which ships $lib"
  case " $needed_pkgs " in *" $pkg "*) ;; *) needed_pkgs="$needed_pkgs $pkg" ;; esac
done
for pkg in libopenmpi3 libhdf5-openmpi-103-1 libinih1 libjansson4 libxxhash0 openmpi-bin libjs-chart.js; do
  has_dep "$pkg" || fail "Depends lacks $pkg"
done
echo "ok: Depends names the packages of every linked library:$needed_pkgs, openmpi-bin, libjs-chart.js"
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/contents"
for f in ./usr/bin/segcast ./usr/share/segcast/configs/small.ini ./usr/share/segcast/jobs/pipeline.sbatch \
  ./usr/share/segcast/jobs/segcast-job.sh ./usr/share/segcast/docs/config.md ./usr/share/man/man1/segcast.1 \
  "./usr/share/modulefiles/segcast/$version.lua"; do
  grep -qx -- "$f" "$T/contents" || fail "the package has no $f"
done
if grep -v '^\./usr/' "$T/contents" | grep -qv '^\./$'; then fail "the package has files outside /usr"; fi

# ---- dpkg -i into a throwaway root -------------------------------------------
mkroot() { # DIR [STATUS_FILE]: an empty dpkg database, or a copy of one
  mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates"
  if [ -n "${2:-}" ]; then cp "$2" "$1/var/lib/dpkg/status"; else : >"$1/var/lib/dpkg/status"; fi
  : >"$1/var/lib/dpkg/available"
}
mkroot "$T/bare"
if dpkg --root="$T/bare" --log=/dev/null -i "$deb" >"$T/bare.log" 2>&1; then
  fail "dpkg -i succeeded with no package installed: the Depends check is not real"
fi
grep -q "depends on libhdf5-openmpi-103-1" "$T/bare.log" || fail "dpkg on an empty database did not stop at HDF5: $(tail -n 5 "$T/bare.log")"
R="$T/root"
mkroot "$R" /var/lib/dpkg/status
dpkg --root="$R" --log="$T/dpkg.log" -i "$deb" >"$T/install.log" 2>&1 || fail "dpkg -i failed: $(grep -v 'files list file' "$T/install.log" | tail -n 8)"
[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' segcast)" = "install ok installed" ] || fail "segcast is not installed in $R"
grep -qx "SEGCAST_JOBS=\${SEGCAST_JOBS:-/usr/share/segcast/jobs}" "$R/usr/share/segcast/jobs/pipeline.sbatch" ||
  fail "the packaged pipeline.sbatch does not look in /usr/share/segcast/jobs"
grep -qx 'local prefix = "/usr"' "$R/usr/share/modulefiles/segcast/$version.lua" || fail "the packaged modulefile does not name /usr"
if grep -rqF "$SEGCAST_BUILD" "$R/usr/share"; then fail "an installed file names the build tree $SEGCAST_BUILD"; fi
if readelf -d "$R/usr/bin/segcast" | grep -qE 'RPATH|RUNPATH'; then fail "the packaged segcast has a run path"; fi
echo "ok: dpkg -i into $R, Depends met by this machine; an empty database refuses it"

# ---- the installed program, from an empty folder -----------------------------
mkdir "$T/project"
cd "$T/project"
got=$("$R/usr/bin/segcast" --version)
[ "$got" = "segcast $version (commit $commit)" ] || fail "the packaged segcast --version: '$got'"
write_tiny_config tiny.ini
"$R/usr/bin/segcast" run --config tiny.ini >run.log 2>&1 || fail "the packaged segcast run failed: $(tail -n 5 run.log)"
check_tiny_outputs "$T/project/out/tiny" 1 "$commit"
MANWIDTH=80 MANPATH="$R/usr/share/man" man segcast 2>"$T/man.err" | col -b >"$T/man.txt"
[ ! -s "$T/man.err" ] || fail "man segcast complained: $(cat "$T/man.err")"
grep -q "^SEGCAST(1)" "$T/man.txt" && grep -q "input.max_reject_fraction" "$T/man.txt" || fail "man segcast did not render the page"
echo "ok: the packaged segcast: $got; a run's outputs hold up; man segcast renders"

# ---- dpkg -r -------------------------------------------------------------------
dpkg --root="$R" --log="$T/dpkg.log" -r segcast >"$T/remove.log" 2>&1 || fail "dpkg -r failed: $(tail -n 5 "$T/remove.log")"
left=$(find "$R" -path "$R/var" -prune -o -type f -print | head -n 3)
[ -z "$left" ] || fail "dpkg -r left files: $left"
echo "ok: dpkg -r removed every file"
echo PASS
