#!/usr/bin/env bash
# The documentation cannot drift from the program (issue 18):
#  - docs/config.md's key tables are byte for byte `segcast keys --format
#    markdown` (src/config.c's key table), and the config-docs rewrite
#    (packaging/config_docs.cmake) mends a file whose table was edited by hand
#    while keeping its prose;
#  - the built manual page segcast.1 lists every key of `segcast keys` once,
#    with its default; describes every command of `segcast --help` in its own
#    .SS and every option of each command's --help; names the build's commit;
#    and groff formats it without a warning.
set -euo pipefail
source "$(dirname "$0")/test_install_lib.sh"
: "${SEGCAST_BIN:?set by CTest}" "${SEGCAST_ROOT:?set by CTest}" "${SEGCAST_BUILD:?set by CTest}"
man="$SEGCAST_BUILD/segcast.1"
[ -s "$man" ] || fail "no manual page at $man (the build writes it)"
T=$(mktemp -d /tmp/segcast-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- docs/config.md = the key table -------------------------------------
"$SEGCAST_BIN" keys --format markdown >"$T/tables.md"
/usr/bin/python3 - "$SEGCAST_ROOT/docs/config.md" "$T/tables.md" <<'PY' || fail "docs/config.md's key tables differ from segcast keys --format markdown: run cmake --build build --target config-docs"
import sys
doc, tables = open(sys.argv[1]).read(), open(sys.argv[2]).read()
b, e = doc.find("<!-- keys: begin"), doc.find("<!-- keys: end -->")
if b < 0 or e < b:
    sys.exit("docs/config.md has no keys: begin / keys: end markers")
block = doc[doc.index("-->\n", b) + 4:e]
if block != "\n" + tables + "\n":
    import difflib
    sys.stdout.writelines(difflib.unified_diff(("\n" + tables + "\n").splitlines(True), block.splitlines(True),
                                               "segcast keys --format markdown", "docs/config.md"))
    sys.exit(1)
print(f"docs/config.md: {tables.count(chr(10) + '| `')} key rows, the same as the key table")
PY
cp "$SEGCAST_ROOT/docs/config.md" "$T/config.md"
sed -i 's/^| `run.seed` | integer in \[0, 9.2e18\] | `42` |/| `run.seed` | integer | `43` |/' "$T/config.md"
cmp -s "$T/config.md" "$SEGCAST_ROOT/docs/config.md" && fail "the test's edit of config.md changed nothing"
cmake -DSEGCAST="$SEGCAST_BIN" -DDOC="$T/config.md" -P "$SEGCAST_ROOT/packaging/config_docs.cmake" >/dev/null
cmp "$T/config.md" "$SEGCAST_ROOT/docs/config.md" || fail "config-docs did not mend a hand-edited row"
echo "ok: config-docs mends a hand-edited row and keeps the prose"

# ---- the manual page: every key --------------------------------------------
# keys and defaults from the ini form: "[section]" then "key = default"
"$SEGCAST_BIN" keys --format ini >"$T/keys.ini"
nkeys=0
section=""
while IFS= read -r line; do
  case "$line" in
    \[*\]) section=${line#[}; section=${section%]} ;;
    *" = "*)
      key=${line%% = *} def=${line#* = }
      nkeys=$((nkeys + 1))
      want="\\fB$section.$key\\fR"
      [ "$(grep -cF "$want" "$man")" = 1 ] || fail "segcast.1 does not list $section.$key exactly once"
      entry=$(grep -F "$want" "$man")
      if [ -n "$def" ]; then
        esc=${def//-/\\-}
        case "$entry" in *"default \\fB\\&$esc\\fR"*) ;; *) fail "segcast.1: $section.$key's default is not $def: $entry" ;; esac
      else
        case "$entry" in *"default empty"*) ;; *) fail "segcast.1: $section.$key should say default empty: $entry" ;; esac
      fi
      ;;
  esac
done <"$T/keys.ini"
[ "$nkeys" -gt 40 ] || fail "segcast keys listed only $nkeys keys"
[ "$(grep -c '^\\fB[a-z_]*\.[a-z_]*\\fR \\(em' "$man")" = "$nkeys" ] || fail "segcast.1 lists other keys than segcast keys"
echo "ok: segcast.1 lists the $nkeys keys of segcast keys with their defaults"

# ---- the manual page: every command and option ----------------------------
cmds=$("$SEGCAST_BIN" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z|]*\) .*/\1/p' | tr '|' ' ')
[ "$(echo $cmds | wc -w)" -ge 8 ] || fail "could not read the commands from segcast --help: $cmds"
for c in $cmds; do
  grep -Eq "^\.SS .*\b$c\b" "$man" || fail "segcast.1 has no section (.SS) for the command $c"
  # the command's own options, from its --help (MPI starts for most commands)
  opts=$("$SEGCAST_BIN" "$c" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
  [ -n "$opts" ] || fail "segcast $c --help names no option"
  sect=$(awk -v c="$c" '/^\.SS /{on = ($0 ~ ("(^|[ ,])" c "([ ,]|$)"))} on' "$man")
  for o in $opts; do
    [ "$o" = --help ] && continue
    grep -qF -- "${o//-/\\-}" <<<"$sect" || fail "segcast.1's section for $c does not describe $o"
  done
done
echo "ok: segcast.1 describes the commands $(echo $cmds) and each one's options"

# ---- the manual page: the version and clean formatting --------------------
commit=$(expected_commit)
grep -qF "built from commit ${commit//-/\\-}." "$man" || fail "segcast.1 does not name the commit $commit"
warnings=$(groff -ww -z -man "$man" 2>&1)
[ -z "$warnings" ] || fail "groff warns about segcast.1: $warnings"
MANWIDTH=80 man -l "$man" 2>"$T/man.err" | col -b >"$T/man.txt"
[ ! -s "$T/man.err" ] || fail "man -l segcast.1 complained: $(cat "$T/man.err")"
for want in "^NAME" "^COMMANDS" "^CONFIGURATION" "forecast.lead_time_days" "SEGCAST_SHARE"; do
  grep -q -- "$want" "$T/man.txt" || fail "the rendered page has no '$want'"
done
echo "ok: segcast.1 names commit $commit and formats cleanly ($(wc -l <"$T/man.txt") lines)"
echo PASS
