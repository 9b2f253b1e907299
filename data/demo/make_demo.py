#!/usr/bin/env python3
"""Rebuilds ff10_treasury_demo.csv from ../shared/data (Python standard library only).

Usage (from the repository root):  python3 data/demo/make_demo.py [SHARED_DATA_DIR]
Inner-joins the 10 Kenneth French industry portfolios (value-weighted daily returns, in %) from
2000-01-03 to 2021-09-30 with the FRED series DGS3MO, DGS10 and DFF on the same dates. Values are
copied as text, unchanged. The state columns are as of the same day; Crucible applies the one-day
lag when it builds condition vectors (Join.AsOfLagged / WindowBuilder.Build with lagDays = 1).
"""
import csv
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ff10_treasury_demo.csv")
FIRST, LAST = "2000-01-03", "2021-09-30"
STATE = ["DGS3MO", "DGS10", "DFF"]

with open(os.path.join(shared, "us_conditioning_daily.csv"), newline="") as f:
    reader = csv.DictReader(f)
    state = {row["Date"]: [row[c] for c in STATE] for row in reader}

with open(os.path.join(shared, "ff10_industry_vw_daily.csv"), newline="") as f, \
        open(out, "w", newline="") as g:
    reader = csv.reader(f)
    header = next(reader)
    writer = csv.writer(g, lineterminator="\n")
    writer.writerow(header + STATE)
    rows = 0
    for row in reader:
        if FIRST <= row[0] <= LAST and row[0] in state:
            writer.writerow(row + state[row[0]])
            rows += 1
print(f"wrote {out}: {rows} rows, {os.path.getsize(out)} bytes")
