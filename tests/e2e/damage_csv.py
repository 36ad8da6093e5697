#!/usr/bin/python3
"""damage_csv.py: damages a share of a CSV file's data lines, in place.

Usage: damage_csv.py FILE SEED FRACTION [TEXT_COLUMN]

Each data line is damaged with probability FRACTION, in one of the ways
real exports get damaged (issue 14), at a random field:
  stray quote inside a field (1"2: a bad number, or ordinary text), a quote
  opening a field that nothing closes on its line, junk after a closing
  quote ("12"x), a field too many or too few, an invalid UTF-8 byte, a NUL
  byte, a stray CR, a CRLF line end (harmless), and, in TEXT_COLUMN when
  given, a quoted value over two lines (a well-formed row of two lines) or a
  12" VINYL value (an inch mark: well-formed).
Prints how many lines got each damage. The same SEED gives the same bytes.
"""
import random
import sys

path, seed, frac = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
text_col = sys.argv[4] if len(sys.argv) > 4 else None
rng = random.Random(seed)
data = open(path, "rb").read()
lines = data.split(b"\n")
final = lines[-1] == b""
if final:
    lines.pop()
header = lines[0].split(b",")
tcol = header.index(text_col.encode()) if text_col else -1
kinds = ["quote_in_field", "open_quote", "junk_after_quote", "extra_field", "missing_field", "bad_utf8",
         "nul", "stray_cr", "crlf"] + (["two_line_text", "inch_mark"] if tcol >= 0 else [])
count = {k: 0 for k in kinds}
out = [lines[0]]
for line in lines[1:]:
    if not line or rng.random() >= frac:
        out.append(line)
        continue
    f = line.split(b",")
    k = rng.choice(kinds)
    i = rng.randrange(len(f))
    v = f[i]
    if k == "quote_in_field":
        at = rng.randrange(1, len(v)) if len(v) > 1 else len(v)
        f[i] = v[:at] + b'"' + v[at:]
    elif k == "open_quote":
        f[i] = b'"' + v
    elif k == "junk_after_quote":
        f[i] = b'"' + v + b'"x'
    elif k == "extra_field":
        f.insert(i, b"extra")
    elif k == "missing_field":
        del f[i]
    elif k == "bad_utf8":
        f[i] = v + b"\xff"
    elif k == "nul":
        f[i] = v[:1] + b"\x00" + v[1:]
    elif k == "stray_cr":
        f[i] = v[:1] + b"\r" + v[1:]
    elif k == "crlf":
        f[-1] = f[-1] + b"\r"
    elif k == "two_line_text":
        f[tcol] = b'"' + f[tcol] + b'\nsecond line, with a comma"'
    elif k == "inch_mark":
        f[tcol] = b'12" VINYL'
    count[k] += 1
    out.append(b",".join(f))
open(path, "wb").write(b"\n".join(out) + (b"\n" if final else b""))
print("%s: %s" % (path.split("/")[-1], ", ".join("%s %d" % kv for kv in count.items() if kv[1])))
