"""A wide price panel for the scale checks in README "Limits" (wide data): N series built from the 26 series of
shared/data/multi_asset_daily_prices.csv (not committed). Series c follows series c mod 26's daily log return plus
u·(another series' log return), u ~ U(−0.5, 0.5), plus N(0, s²) noise, s ~ U(0.001, 0.01), all seeded; it starts at 100.

    python3 bench/wide/make_wide.py 500 wide500.csv [path/to/multi_asset_daily_prices.csv]
"""
import csv
import math
import random
import sys

ncol, out = int(sys.argv[1]), sys.argv[2]
source = sys.argv[3] if len(sys.argv) > 3 else "../shared/data/multi_asset_daily_prices.csv"
rows = list(csv.reader(open(source)))
hdr, data = rows[0], rows[1:]
dates = [r[0] for r in data]
prices = [[float(x) for x in r[1:]] for r in data]
k = len(hdr) - 1
returns = [[math.log(prices[t][j] / prices[t - 1][j]) for j in range(k)] for t in range(1, len(prices))]
rng = random.Random(42)
mix = []
for c in range(ncol):
    a = [0.0] * k
    a[c % k] = 1.0
    a[rng.randrange(k)] += rng.uniform(-0.5, 0.5)
    mix.append((a, rng.uniform(0.001, 0.01)))
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Date"] + [f"S{c:03d}_{hdr[1 + c % k]}" for c in range(ncol)])
    level = [100.0] * ncol
    w.writerow([dates[0]] + [f"{p:.6f}" for p in level])
    for t in range(len(returns)):
        for c in range(ncol):
            a, s = mix[c]
            level[c] *= math.exp(sum(a[j] * returns[t][j] for j in range(k) if a[j] != 0) + rng.gauss(0, s))
        w.writerow([dates[t + 1]] + [f"{p:.6f}" for p in level])
