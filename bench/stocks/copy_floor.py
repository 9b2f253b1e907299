# The correlational score of an exact copy of the Stocks windows under Diffusion-TS's own protocol code path
# (numpy randint draws of N // 5 with replacement, torch cacf at lag 0, sum |diff| / 10), 1,000 draws: the
# expected score of a perfect generator and how often a 5-draw mean reaches <= 0.004.
# Usage: /usr/bin/python3 bench/stocks/copy_floor.py NUMPY_SEED [DATA.csv]
import numpy as np, torch, sys
data = sys.argv[2] if len(sys.argv) > 2 else '/work/shared/data/stocks_goog_timegan.csv'
raw = np.loadtxt(data, delimiter=',', skiprows=1, usecols=range(1,7))
mn, mx = raw.min(0), raw.max(0); d = (raw-mn)/(mx-mn)
W = np.stack([d[i:i+24] for i in range(len(d)-23)])
print(W.shape)
def cacf(x):
    ind = torch.tril_indices(x.shape[2], x.shape[2])
    x = (x - x.mean((0,1), keepdim=True)) / x.std((0,1), keepdim=True)
    return torch.mean(x[..., ind[0]] * x[..., ind[1]], 1).mean(0)
x = torch.from_numpy(W)
np.random.seed(int(sys.argv[1]))
size = len(W)//5
sc=[]
for k in range(1000):
    ri = np.random.randint(0, len(W), size); fi = np.random.randint(0, len(W), size)
    sc.append(float(torch.abs(cacf(x[fi]) - cacf(x[ri])).sum()/10))
sc=np.array(sc); m5 = sc.reshape(-1,5).mean(1)
print("copy expected %.5f se %.5f; 5-run means <=0.004: %.3f; mean of 5-run means %.5f sd %.5f" % (sc.mean(), sc.std(ddof=1)/np.sqrt(len(sc)), (m5<=0.004).mean(), m5.mean(), m5.std(ddof=1)))
