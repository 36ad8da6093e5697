#!/usr/bin/env bash
# Record boundaries across the reader's 1 MiB blocks and its threads: an
# invoice-line file of 12 MB (12 blocks) whose rank boundaries (6 MiB at 2
# ranks, 4 and 8 MiB at 3) and thread boundaries (blocks too: 4 and 8 MiB at
# 1 rank x 3 threads) each fall inside a quoted description of 2,000 lines,
# with CRLF line ends in part of the file. Every row must be read once and loaded, at 1, 2
# and 3 ranks x 1 thread and at 1 rank x 3 threads: the readers size their
# outputs from newline counts (with one thread, from the blocks' counts less
# the head before the first record plus the last record's part past the
# blocks), so a wrong count is a refused run, a wrong boundary a wrong count.
# Usage: test_ingest_blocks.sh
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=$(/usr/bin/python3 - "$tmp/lines.csv" <<'PY'
import sys
out = open(sys.argv[1], "w", newline="")
header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
out.write(header)
# each split point gets a quoted field of about 44 KB that begins 5,000 bytes
# before it
splits = [4 << 20, 6 << 20, 8 << 20]
todo, spans = list(splits), []
n, size = 0, len(header)
while size < 12_000_000:
    if todo and size > todo[0] - 5000:
        desc = '"' + "\n".join("line %d, with a comma" % k for k in range(2000)) + '"'
        todo.pop(0)
        spans.append((size, size + 60 + len(desc)))
    else:
        desc = "WHITE HANGING HEART T-LIGHT HOLDER"
    end = "\r\n" if n % 7 == 0 else "\n"
    line = "%d,85123A,%s,%d,2010-12-01 08:26:00,2.55,%d.0,United Kingdom%s" % (536365 + n // 5, desc, 1 + n % 9, 12000 + n % 4000, end)
    out.write(line)
    size += len(line)
    n += 1
# the test is only as good as this: every split point inside a quoted field
for x in splits:
    assert any(a + 100 < x < b - 100 for a, b in spans), x
print(n)
PY
)
run() {
  local ranks=$1 threads=$2
  rm -rf "$tmp/out"
  if [ "$ranks" = 1 ]; then OMP_NUM_THREADS=$threads "$SEGCAST_BIN" "${@:3}"
  else $SEGCAST_MPIRUN -np "$ranks" -x OMP_NUM_THREADS="$threads" "$SEGCAST_BIN" "${@:3}"; fi
}
for rt in "1 1" "2 1" "3 1" "1 3"; do
  set -- $rt
  run "$1" "$2" ingest --set input.layout=online-retail --set input.path="$tmp/lines.csv" --set run.out="$tmp/out" \
    > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
  got=$(/usr/bin/python3 -c "import json; f = json.load(open('$tmp/out/summary.json'))['input']['files']['lines.csv']; print(f['read'], f['loaded'], f['rejected'])")
  [ "$got" = "$rows $rows 0" ] || { echo "$1 rank(s) x $2 thread(s): read/loaded/rejected $got, want $rows $rows 0"; exit 1; }
done
echo "record boundaries across blocks, ranks and threads: $rows rows read at every split"
