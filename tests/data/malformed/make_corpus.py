#!/usr/bin/python3
"""make_corpus.py: writes the malformed-input corpus of tests/data/malformed/.

Each case is a folder holding its input (retail.csv for the online-retail
layout, or users.csv + orders.csv for the marketplace layout), a case.conf
read by tests/e2e/test_malformed.sh, and either the exact expected
rejects.csv or, for a whole-file error, an ERROR pattern in case.conf.

The expectations are written here by hand from DATA.md 2 and 7 and the
rejects.csv contract (issues 2 and 14): for every rejected row the case lists
its first physical line and its reason, and the counts of rows and lines;
only the raw column is computed, by rule: the bytes of that first physical
line without its line ending (a rejected row costs only its first line, and
reading resumes at the next one), as one quoted CSV field
('"' doubled), every byte that is not part of a valid UTF-8 sequence (NUL
included) written as \\xNN. Python's own strict UTF-8 decoder decides what
is valid, independently of segcast's C code.

Run it from anywhere; it rewrites the case folders (byte-identical output
for the same script). The multi-megabyte case is not here: the test script
generates it in a temporary folder.
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def row(inv=b"536365", code=b"85123A", desc=b"WHITE HANGING HEART T-LIGHT HOLDER", qty=b"6",
        date=b"2010-12-01 08:26:00", price=b"2.55", cust=b"17850.0", country=b"United Kingdom"):
    """One online-retail record (bytes, no line ending)."""
    return b",".join([inv, code, desc, qty, date, price, cust, country])


def utf8_len(b, i):
    """Length of the valid UTF-8 sequence at b[i], 0 when none (NUL too)."""
    if b[i] == 0:
        return 0
    for k in (1, 2, 3, 4):
        try:
            b[i:i + k].decode("utf-8", errors="strict")
            return k
        except UnicodeDecodeError:
            continue
    return 0


def raw_field(rec):
    out = bytearray(b'"')
    i = 0
    while i < len(rec):
        k = utf8_len(rec, i)
        if k == 0:
            out += b"\\x%02X" % rec[i]
            i += 1
            continue
        if rec[i:i + 1] == b'"':
            out += b'"'
        out += rec[i:i + k]
        i += k
    out += b'"'
    return bytes(out)


def reason_field(reason):
    r = reason.encode()
    if b"," in r or b'"' in r or b"\n" in r:
        return b'"' + r.replace(b'"', b'""') + b'"'
    return r


def rejects(entries):
    """entries: (file, line, reason, raw record bytes), in file order."""
    out = [b"file,line,reason,raw\n"]
    for f, line, reason, rec in entries:
        out.append(b"%s,%d,%s,%s\n" % (f.encode(), line, reason_field(reason), raw_field(rec)))
    return b"".join(out)


class Case:
    def __init__(self, name, layout="online-retail", comment=""):
        self.name, self.layout, self.comment = name, layout, comment
        self.files = {}       # file name -> bytes
        self.rejects = None   # list of (file, line, reason, record)
        self.counts = []      # (file, read, loaded, rejected)
        self.error = None     # ERE on the single stderr line
        self.limit = "1"      # input.max_reject_fraction; None = the default
        self.path = None      # input.path relative to the case folder
        self.sets = []        # more --set section.key=value

    def write(self):
        d = os.path.join(HERE, self.name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for f, data in self.files.items():
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(data)
        path = self.path or ("retail.csv" if self.layout == "online-retail" else ".")
        conf = ["# %s" % line for line in self.comment.strip().splitlines()]
        conf += ["LAYOUT=%s" % self.layout, "INPUT=%s" % path, "LIMIT=%s" % (self.limit or "")]
        if self.sets:
            conf.append("SETS='%s'" % " ".join(self.sets))
        if self.error:
            conf.append("ERROR='%s'" % self.error)
        else:
            conf.append("COUNTS='%s'" % ";".join(" ".join(str(x) for x in c) for c in self.counts))
            with open(os.path.join(d, "expected_rejects.csv"), "wb") as fh:
                fh.write(rejects(self.rejects))
        with open(os.path.join(d, "case.conf"), "w") as fh:
            fh.write("\n".join(conf) + "\n")


def lines_file(records, nl=b"\n", final=True):
    body = nl.join(records)
    return body + (nl if final else b"")


def physical_lines(data):
    """The file's physical lines (DATA.md 7: a line ends at \\n), each
    without its line end (the \\n and every \\r before it)."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.rstrip(b"\r") for p in parts]


def retail(name, records, bad, comment, final=True, nl=b"\n", counts=None):
    """A retail.csv case: records after the header (one row per record
    unless counts says otherwise); bad = {line: reason} by hand. The lines
    are counted from the file; counts = (read, rejected, continuation
    lines) by hand where a rejected record of several lines makes its
    later lines rows of their own."""
    c = Case(name, comment=comment)
    data = lines_file([HEADER] + records, nl, final)
    c.files["retail.csv"] = data
    phys = physical_lines(data)
    c.rejects = [("retail.csv", ln, why, phys[ln - 1]) for ln, why in sorted(bad.items())]
    blank = sum(1 for r in records if r in (b"", b"\r"))
    if counts is None:
        read = len(records) - blank
        cont = sum(r.count(b"\n") for r in records)
    else:
        read, rej, cont = counts
        assert rej == len(bad)
    c.counts = [("retail.csv", read, read - len(bad), len(bad), len(phys), blank, cont)]
    return c


cases = []

# ---- wrong field count ------------------------------------------------
cases.append(retail("field_count", [
    row(),
    row(code=b"71053", desc=b"WHITE METAL LANTERN", price=b"3.39").rsplit(b",", 1)[0],
    row(code=b"84406B", desc=b"CREAM CUPID HEARTS COAT HANGER", qty=b"8", price=b"2.75") + b",",
    row(code=b"84029G") + b",extra,more",
    row(code=b"84029E", desc=b"RED WOOLLY HOTTIE WHITE HEART."),
    row(inv=b"536366", code=b"22633", desc=b"HAND WARMER, UNION JACK", date=b"2010-12-01 08:28:00", price=b"1.85"),
    b"536366",
    row(inv=b"536367", code=b"84879", desc=b"ASSORTED COLOUR BIRD ORNAMENT", qty=b"32", price=b"1.69", cust=b"13047.0"),
    row(inv=b"536367", code=b"22745", desc=b'"POPPY\'S PLAYHOUSE BEDROOM, 2 ""QUOTED"""', cust=b"13047.0"),
    row(inv=b"536367", code=b"22748", desc=b"POPPY'S PLAYHOUSE KITCHEN", country=b'"United Kingdom",bad'),
], {3: "wrong field count (7, header has 8)", 4: "wrong field count (9, header has 8)",
    5: "wrong field count (10, header has 8)", 7: "wrong field count (9, header has 8)",
    8: "wrong field count (1, header has 8)", 11: "wrong field count (9, header has 8)"},
    "Rows with 7, 9 (trailing comma, unquoted comma, extra quoted field), 10 and 1 fields;\n"
    "a quoted comma inside a field is not a separator."))

# ---- quotes -----------------------------------------------------------
# DATA.md 7 (Quotes): only a field whose first byte is '"' is quoted; a '"'
# anywhere else is an ordinary byte. A quoting error, or a record of several
# lines that is malformed, costs only its first physical line; reading
# resumes at the next line.
cases.append(retail("unclosed_quote_mid", [
    row(),
    row(inv=b"536366", code=b"22633", desc=b'"HAND WARMER UNION JACK', date=b"2010-12-01 08:28:00", price=b"1.85"),
    row(inv=b"536366", code=b"22632", desc=b"HAND WARMER RED POLKA DOT", date=b"2010-12-01 08:28:00", price=b"1.85"),
    row(inv=b"536367", code=b"84879", desc=b"ASSORTED COLOUR BIRD ORNAMENT", qty=b"32", price=b"1.69", cust=b"13047.0"),
    row(inv=b"536367", code=b"22745", desc=b'POPPY\'S PLAYHOUSE 12" BEDROOM', price=b"2.1", cust=b"13047.0"),
    row(inv=b"536367", code=b"22748", desc=b"POPPY'S PLAYHOUSE KITCHEN", price=b"2.1", cust=b"13047.0"),
    row(inv=b"536367", code=b"22749", desc=b"FELTCRAFT PRINCESS CHARLOTTE DOLL", qty=b"8", price=b"3.75"),
], {3: "text after closing quote across 4 lines"},
    "A quote opens a Description on line 3 and is not closed on that line: read\n"
    "as one record, the quoted field would run on to the inch mark of line 6,\n"
    "which closes it with text after it: a quoting error. Only line 3 is\n"
    "rejected; lines 4-8 are read as they are (the inch mark on line 6 is an\n"
    "ordinary byte of an unquoted field)."))

cases.append(retail("unclosed_quote_swallow", [
    row(),
    row(inv=b"536366", code=b"22633", desc=b'"HAND WARMER UNION JACK', date=b"2010-12-01 08:28:00", price=b"1.85"),
    row(inv=b"536366", code=b"22632", desc=b"HAND WARMER RED POLKA DOT", date=b"2010-12-01 08:28:00", price=b"1.85"),
    row(inv=b"536367", code=b"84879", desc=b"ASSORTED COLOUR BIRD ORNAMENT", qty=b"32", price=b"1.69", cust=b"13047.0"),
], {3: "unclosed quote across 3 lines"},
    "A quote opened on line 3 that nothing closes: to the end of the file it\n"
    "is one unclosed quoted field, so line 3 alone is rejected and lines 4-5\n"
    "are read (before issue 14 the rest of the file was one rejected record)."))

cases.append(retail("unclosed_quote_eof", [
    row(),
    row(code=b"71053", desc=b"WHITE METAL LANTERN", price=b"3.39"),
    row(inv=b"536367", code=b"22745", desc=b'"POPPY\'S PLAYHOUSE BEDROOM', price=b"2.1", cust=b"13047.0"),
], {4: "unclosed quote"},
    "The last record opens a quote that the file never closes (the file ends with\n"
    "a newline, which is the last line's ending, not part of the raw text)."))

cases.append(retail("quote_errors", [
    row(),
    row(code=b"21730", desc=b'GLASS STAR FROSTED T-LIGHT HOLDER 12" X 8"', price=b"4.25"),
    row(code=b"22752", desc=b"SET 7 BABUSHKA NESTING BOXES", qty=b"2", price=b"7.65"),
    row(inv=b"536366", code=b"22633", desc=b'HAND "WARMER" UNION JACK', price=b"1.85"),
    row(inv=b"536367", code=b'"84879"A', desc=b"ASSORTED COLOUR BIRD ORNAMENT", price=b"1.69"),
    row(inv=b"536367", code=b"84879", desc=b'"ASSORTED COLOUR" BIRD ORNAMENT', price=b"1.69"),
    row(inv=b"536367", code=b"22745", desc=b'"POPPY\'S PLAYHOUSE BEDROOM" ', price=b"2.1"),
    row(inv=b"536367", code=b"22748", desc=b'""', price=b"2.1"),
    row(inv=b'"536367"', code=b'"22749"', desc=b"FELTCRAFT DOLL", qty=b'"8"', date=b'"2010-12-01 08:34:00"',
        price=b'"3.75"', cust=b'"13047.0"', country=b'"United Kingdom"'),
    row(inv=b"536368", code=b"22960", desc=b'JAM MAKING SET 5" JARS 2"', price=b"4.25"),
    row(inv=b"536368", code=b"22961", qty=b'1"2', price=b"1.45"),
    row(inv=b"536368", code=b"22962", price=b'2"', cust=b'1785"0.0'),
], {6: "text after closing quote", 7: "text after closing quote", 8: "text after closing quote",
    12: "bad integer in Quantity", 13: "bad number in UnitPrice"},
    "Quotes inside unquoted fields are ordinary bytes: the inch marks of lines 3\n"
    "and 11 and the quoted word of line 5 load as text; 1\"2 in Quantity and 2\" in\n"
    "UnitPrice are bad numbers (line 13's CustomerID is not reached). A quoted field\n"
    "followed by text (\"1\"x, a space) is a quoting error. An empty quoted\n"
    "Description and a fully quoted row read fine."))

cases.append(retail("quote_multiline_bad", [
    row(),
    b'536365,71053,EXTRA,"WHITE METAL',
    row(code=b"71054", desc=b'LANTERN"'),
    row(code=b"71055", desc=b'"TWO\nLINE"', qty=b"2"),
    row(code=b"71056", desc=b"PLAIN"),
], {3: "wrong field count (9, header has 8) across 2 lines"},
    "Line 3 opens a quoted field that the quote after LANTERN on line 4 closes: as\n"
    "one record, lines 3-4 are well quoted but have 9 fields, so only line 3 is\n"
    "rejected and line 4 is read on its own, where that quote is an ordinary\n"
    "byte: a good row. Lines 5-6 are one well-formed row; line 7 reads fine.",
    counts=(5, 1, 1)))

# ---- values -----------------------------------------------------------
cases.append(retail("bad_number", [
    row(),
    row(qty=b"6.0"), row(qty=b"+6"), row(qty=b" 6"), row(qty=b"1e3"), row(qty=b"99999999999"),
    row(price=b"2.55.1"), row(price=b"1e5"), row(price=b"+2.55"), row(price=b"2.55 "), row(price=b"\xc2\xa32.55"),
    row(price=b".55"), row(price=b"2."),
    row(inv=b"A563185", code=b"B", desc=b"Adjust bad debt", qty=b"1", price=b"-11062.06", cust=b"", country=b"United Kingdom"),
    row(qty=b"-0"), row(qty=b"0", price=b"0"),
    row(inv=b"C536379", code=b"D", desc=b"Discount", qty=b"-1", price=b"27.50", cust=b"14527.0"),
    row(inv=b"536370", code=b"POST", desc=b"POSTAGE", qty=b"3", price=b"18.00", cust=b"12583.0", country=b"France"),
    row(price=b"-"), row(price=b"0x10"),
], {3: "bad integer in Quantity", 4: "bad integer in Quantity", 5: "bad integer in Quantity",
    6: "bad integer in Quantity", 7: "value out of range in Quantity", 8: "bad number in UnitPrice",
    9: "bad number in UnitPrice", 10: "bad number in UnitPrice", 11: "bad number in UnitPrice",
    12: "bad number in UnitPrice", 20: "bad number in UnitPrice", 21: "bad number in UnitPrice"},
    "Quantity is an integer (-?[0-9]+, and it must fit the store's 32-bit column),\n"
    "UnitPrice a decimal (-?([0-9]+(.[0-9]*)?|.[0-9]+)): no '+', spaces, exponents,\n"
    "currency signs. .55, 2., -0, zero price, a negative adjustment price, a\n"
    "cancellation and a non-product code are valid values: loaded, not rejected."))

cases.append(retail("bad_date", [
    row(), row(date=b"12/1/2010 8:26"),
    row(date=b"2010-02-30 08:26:00"), row(date=b"12/32/2010 8:26"), row(date=b"2/29/2011 8:26"),
    row(date=b"2/29/2012 8:26"), row(date=b"2010-12-01T08:26:00"), row(date=b"2010-12-01 08:26"),
    row(date=b"12/1/10 8:26"), row(date=b"13/1/2011 10:00"), row(date=b"12/1/2010 24:00"),
    row(date=b"2010-12-01 08:60:00"), row(date=b""), row(date=b"1/12/2011 17:05"),
    row(date=b"12/01/2010 08:26"), row(date=b"2010-12-1 08:26:00"),
], {4: "bad date in InvoiceDate", 5: "bad date in InvoiceDate", 6: "bad date in InvoiceDate",
    8: "bad date in InvoiceDate", 9: "bad date in InvoiceDate", 10: "bad date in InvoiceDate",
    11: "bad date in InvoiceDate", 12: "bad date in InvoiceDate", 13: "bad date in InvoiceDate",
    14: "empty required value in InvoiceDate", 17: "bad date in InvoiceDate"},
    "InvoiceDate: YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM (1-2 digit month, day,\n"
    "hour), real dates only (2010-02-30 and 2/29/2011 are not)."))

cases.append(retail("bad_id", [
    row(), row(cust=b"17850"), row(cust=b"17850.00"), row(cust=b"17850."), row(cust=b"0"),
    row(cust=b"-17850"), row(cust=b" 17850"), row(cust=b"17850.5"), row(cust=b""),
    row(inv=b"53636X"), row(inv=b"C536379", qty=b"-1"), row(inv=b""), row(cust=b"1e4"),
    row(cust=b"00017850"),
], {5: "bad id in CustomerID", 6: "bad id in CustomerID", 7: "bad id in CustomerID",
    8: "bad id in CustomerID", 9: "bad id in CustomerID", 11: "bad id in InvoiceNo",
    13: "empty required value in InvoiceNo", 14: "bad id in CustomerID"},
    "CustomerID: a positive integer, optionally with a zero fraction (17850.0,\n"
    "17850.00); 17850., 0, negatives, spaces, 17850.5, 1e4 are malformed; empty\n"
    "means a line without a customer. InvoiceNo: an optional letter, then digits."))

cases.append(retail("invalid_utf8", [
    row(desc=b"CAF\xc3\x89 CR\xc3\x88ME MUG"),
    row(desc=b"CAF\xe9 MUG"),
    row(desc=b"SLASH \xc0\xaf OVERLONG"),
    row(desc=b"SURROGATE \xed\xa0\x80 HALF"),
    row(desc=b"BEYOND \xf4\x90\x80\x80 U+10FFFF"),
    row(country=b"United Kingdom\xe2\x82"),
    row(desc=b"LATIN1 \xe9 AND SEVEN FIELDS").rsplit(b",", 1)[0],
    row(desc=b"GIFT \xf0\x9f\x8e\x81 BOX"),
    row(desc=b'"GIFT, \xff BOX"'),
    row(desc=b"LONE \x80 CONTINUATION"),
], {3: "invalid UTF-8", 4: "invalid UTF-8", 5: "invalid UTF-8", 6: "invalid UTF-8", 7: "invalid UTF-8",
    8: "invalid UTF-8", 10: "invalid UTF-8", 11: "invalid UTF-8"},
    "Invalid UTF-8 anywhere in a record, even in the Description that is not\n"
    "stored, and before a field count error: Latin-1, an overlong, a surrogate,\n"
    "a code point above U+10FFFF, a truncated sequence at the end of the line, a\n"
    "lone continuation byte. Valid 2- and 4-byte sequences read fine."))

cases.append(retail("nul_byte", [
    row(), row(desc=b"WHITE\x00METAL LANTERN"), row(qty=b"\x00"), row(country=b"United Kingdom\x00"),
    row(desc=b"BAD \xff THEN NUL \x00"), row(code=b"71053"),
], {3: "NUL byte", 4: "NUL byte", 5: "NUL byte", 6: "invalid UTF-8"},
    "NUL bytes in a Description, as a whole Quantity and at the end of a line;\n"
    "in raw they are written \\x00. A record with invalid UTF-8 before a NUL\n"
    "names the first one."))

cases.append(retail("empty_required", [
    row(), row(inv=b""), row(code=b""), row(qty=b""), row(date=b""), row(price=b""),
    row(desc=b""), row(cust=b""), row(country=b""),
    row(qty=b"", price=b"x"), row(qty=b"x", price=b""), b",,,,,,,", row(inv=b'""'),
], {3: "empty required value in InvoiceNo", 4: "empty required value in StockCode",
    5: "empty required value in Quantity", 6: "empty required value in InvoiceDate",
    7: "empty required value in UnitPrice", 11: "empty required value in Quantity",
    12: "bad integer in Quantity", 13: "empty required value in InvoiceNo",
    14: "empty required value in InvoiceNo"},
    "Each required value empty in turn; an empty Description, CustomerID (no\n"
    "customer) or Country (a region of its own) is fine. With two bad values\n"
    "the leftmost column names the reason."))

# ---- whole-file errors -------------------------------------------------
c = Case("empty_file", comment="A file of zero bytes: no header.")
c.files["retail.csv"] = b""
c.error = r"retail\.csv.*empty"
cases.append(c)

c = Case("header_only", comment="A header and no data rows.")
c.files["retail.csv"] = HEADER + b"\n"
c.error = r"retail\.csv.*no data rows"
cases.append(c)

c = Case("header_blank_lines", comment="A header followed only by blank lines: still no data rows.")
c.files["retail.csv"] = HEADER + b"\n\n\r\n\n"
c.error = r"retail\.csv.*no data rows"
cases.append(c)

c = Case("missing_column", comment="The header lacks UnitPrice (the rows have 7 fields).")
c.files["retail.csv"] = lines_file([HEADER.replace(b"UnitPrice,", b""), row().replace(b",2.55", b"")])
c.error = r"retail\.csv.*missing required column.*UnitPrice"
cases.append(c)

c = Case("missing_file", comment="input.path names a file that does not exist.")
c.path = "no_such_file.csv"
c.error = r"no_such_file\.csv"
cases.append(c)

c = Case("reject_limit", comment="1 malformed row of 20 (5 %) with the default limit (1 %): the run stops,\n"
                                 "naming the file and the limit, and leaves no output.")
c.files["retail.csv"] = lines_file([HEADER] + [row(code=b"%05d" % (20000 + k)) for k in range(19)] + [row(qty=b"x")])
c.limit = None
c.error = r"retail\.csv.*max_reject_fraction"
cases.append(c)

c = retail("reject_limit_ok", [row(code=b"%05d" % (20000 + k)) for k in range(99)] + [row(price=b"y")],
           {101: "bad number in UnitPrice"},
           "1 malformed row of 100 (1 %) with the default limit (1 %): at the limit, not\n"
           "above it, so the run goes on.")
c.limit = None
cases.append(c)

# ---- line endings and layout of the file ------------------------------
c = retail("crlf", [
    row(), row(price=b"abc"),
    row(code=b"71053", desc=b'"WHITE METAL\r\nLANTERN"', price=b"3.39"),
    row(code=b"84406B").rsplit(b",", 1)[0],
    b"",
    row(code=b"84029G", qty=b"x"),
    row(code=b"84029E"),
], {3: "bad number in UnitPrice", 6: "wrong field count (7, header has 8)", 8: "bad integer in Quantity"},
    "CRLF line endings throughout: the \\r belongs to the line ending (not to raw\n"
    "or the last field), a quoted CRLF is data, a CRLF blank line is not a row.",
    nl=b"\r\n")
cases.append(c)

c = retail("bom", [row(), row(qty=b"six"), row(code=b"71053")], {3: "bad integer in Quantity"},
           "A UTF-8 byte-order mark before the header is skipped: the first column is\n"
           "still InvoiceNo, and line numbers are unchanged.")
c.files["retail.csv"] = b"\xef\xbb\xbf" + c.files["retail.csv"]
cases.append(c)

cases.append(retail("quoted", [
    row(desc=b'"WHITE HANGING HEART, T-LIGHT HOLDER"'),
    row(code=b"71053", desc=b'"WHITE METAL\nLANTERN"', price=b"3.39"),
    row(code=b"84406B", desc=b'"CREAM ""CUPID"" HEARTS\nCOAT, HANGER\n"', qty=b"8", price=b"abc"),
    row(code=b"84029G", desc=b'"KNITTED ""UNION"" FLAG"', country=b'"United Kingdom"'),
    b",".join(b'"%s"' % f for f in row(code=b"84029E", desc=b"RED WOOLLY HOTTIE WHITE HEART.").split(b",")),
    row(inv=b"536366", code=b"22633", country=b'"United\nKingdom"'),
    row(inv=b"536366", code=b"22632", price=b"x"),
    row(inv=b"536366", code=b"22634", desc=b'"A, B\n\nC"""'),
    row(inv=b"536366", code=b"22635", qty=b"-"),
], {5: "bad number in UnitPrice across 3 lines", 6: "wrong field count (2, header has 8)",
    7: "text after closing quote across 2 lines", 12: "bad number in UnitPrice", 16: "bad integer in Quantity"},
    "Quoted commas, newlines (one record over several physical lines, numbered by\n"
    "its first line; later lines keep their physical numbers) and \"\" escapes.\n"
    "The record of lines 5-7 is malformed (a bad UnitPrice): only line 5 is\n"
    "rejected, and lines 6 and 7 are read on their own: line 6 has 2 fields, line\n"
    "7 opens a quoted field that line 8's first quote closes with text after it.\n"
    "Lines 8 to 16 read as before.", counts=(11, 5, 4)))

cases.append(retail("no_final_newline", [row(), row(qty=b"x"), row(code=b"71053")], {3: "bad integer in Quantity"},
                    "The last record has no line ending: it is still a row, and it reads fine.",
                    final=False))

cases.append(retail("no_final_newline_bad", [row(), row(code=b"71053"), row(qty=b"1.5")],
                    {4: "bad integer in Quantity"},
                    "The last record has no line ending and is malformed.", final=False))

c = Case("blank_lines", comment="Blank lines (LF and CRLF) count as lines but are not rows; a line of\n"
                                "spaces is a row (with one field).")
recs = [HEADER, b"", row(), b"", b"", row(qty=b"x"), row(code=b"71053"), b"   ", b"\r", row(code=b"84406B"),
        b"", b""]
c.files["retail.csv"] = b"\n".join(recs) + b"\n"
c.rejects = [("retail.csv", 6, "bad integer in Quantity", row(qty=b"x")),
             ("retail.csv", 8, "wrong field count (1, header has 8)", b"   ")]
c.counts = [("retail.csv", 5, 3, 2, 12, 6, 0)]
cases.append(c)

# ---- marketplace -------------------------------------------------------
USERS_H = b"user_id,created_at,age,gender,city_level"
ORDERS_H = b"order_id,user_id,sku_id,order_time,quantity,original_unit_price,final_unit_price,dc_ori,note"

c = Case("market_values", layout="marketplace",
         comment="Marketplace users.csv and orders.csv: a 2023-02-30 date, age 130, gender X,\n"
                 "city level 0, a duplicate user_id (the later row is rejected), bad ids; in\n"
                 "orders a date without time, 24:00, a fractional quantity, a bad price, an\n"
                 "empty sku, a wrong field count. An unknown user, a return, zero quantity,\n"
                 "a negative price and an unknown DC are loaded. The extra column is ignored.")
users = [USERS_H,
         b"1,2022-01-15,34,F,2",
         b"2,2023-02-30,40,M,1",
         b"3,2022-03-01,130,M,3",
         b"4,2022-03-01,25,X,3",
         b"5,2022-03-01,25,M,0",
         b"6,,,,",
         b"1,2022-05-05,50,F,1",
         b"abc,2022-01-01,30,F,1",
         b"7,2022-01-01,-1,F,1",
         b"8,2022-01-01,12.5,F,1",
         b"0,2022-01-01,30,F,1",
         b"9,2022-01-01,130,X,9",
         b"10,2022-01-01,120,U,5",
         b"11,2022-01-01,0,,1"]
orders = [ORDERS_H,
          b"100,1,501,2023-03-01 10:00:00,2,10.00,9.50,1,ok",
          b"101,1,502,2023-02-30 12:00:00,1,5.00,5.00,1,x",
          b"102,6,503,2023-03-02 24:00:00,1,5.00,5.00,1,",
          b"103,6,503,2023-03-02 10:00:00,1.5,5.00,5.00,1,",
          b"104,6,503,2023-03-02 10:00:00,1,5.00,abc,1,",
          b"105,6,,2023-03-02 10:00:00,1,5.00,5.00,1,",
          b"x106,6,503,2023-03-02 10:00:00,,5.00,5.00,1,",
          b"107,999,503,2023-03-02 10:00:00,-1,5.00,5.00,1,",
          b"108,6,503,2023-03-02 10:00:00,0,0,0,77,",
          b"109,6,503,2023-03-02,1,5.00,5.00,1,",
          b"110,6,503,2023-03-02 10:00:00,1,5.00,5.00,1",
          b"111,6,503,2023-03-02 10:00:00,1,-5.00,5.00,1,"]
c.files["users.csv"] = lines_file(users)
c.files["orders.csv"] = lines_file(orders)
u_bad = {3: "bad date in created_at", 4: "value out of range in age", 5: "value out of range in gender",
         6: "value out of range in city_level", 8: "duplicate user_id", 9: "bad id in user_id",
         10: "value out of range in age", 11: "bad integer in age", 12: "bad id in user_id",
         13: "value out of range in age"}
o_bad = {3: "bad date in order_time", 4: "bad date in order_time", 5: "bad integer in quantity",
         6: "bad number in final_unit_price", 7: "empty required value in sku_id", 8: "bad id in order_id",
         11: "bad date in order_time", 12: "wrong field count (8, header has 9)"}
c.rejects = [("users.csv", ln, why, users[ln - 1]) for ln, why in sorted(u_bad.items())] + \
            [("orders.csv", ln, why, orders[ln - 1]) for ln, why in sorted(o_bad.items())]
c.counts = [("users.csv", 14, 14 - len(u_bad), len(u_bad), 15, 0, 0),
            ("orders.csv", 12, 12 - len(o_bad), len(o_bad), 13, 0, 0)]
cases.append(c)

c = Case("market_missing_column", layout="marketplace",
         comment="orders.csv lacks the required final_unit_price column.")
c.files["users.csv"] = lines_file([USERS_H, b"1,2022-01-15,34,F,2"])
c.files["orders.csv"] = lines_file([ORDERS_H.replace(b"final_unit_price,", b""),
                                    b"100,1,501,2023-03-01 10:00:00,2,10.00,1,ok"])
c.error = r"orders\.csv.*missing required column.*final_unit_price"
cases.append(c)

c = Case("market_header_only", layout="marketplace", comment="orders.csv holds only its header.")
c.files["users.csv"] = lines_file([USERS_H, b"1,2022-01-15,34,F,2"])
c.files["orders.csv"] = lines_file([ORDERS_H])
c.error = r"orders\.csv.*no data rows"
cases.append(c)

c = Case("market_users_header_only", layout="marketplace", comment="users.csv holds only its header.")
c.files["users.csv"] = lines_file([USERS_H])
c.files["orders.csv"] = lines_file([ORDERS_H, b"100,1,501,2023-03-01 10:00:00,2,10.00,9.50,1,ok"])
c.error = r"users\.csv.*no data rows"
cases.append(c)

c = Case("market_empty_users", layout="marketplace", comment="users.csv is empty (zero bytes).")
c.files["users.csv"] = b""
c.files["orders.csv"] = lines_file([ORDERS_H, b"100,1,501,2023-03-01 10:00:00,2,10.00,9.50,1,ok"])
c.error = r"users\.csv.*empty"
cases.append(c)

if __name__ == "__main__":
    for c in cases:
        c.write()
    print("wrote %d cases into %s" % (len(cases), HERE))
