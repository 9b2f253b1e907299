"""Is the per-day epsilon of sequence DP-SGD loose? (bench/sequence/README.md, "DP-SGD").

A day lies in up to k = W stride-1 windows. Crucible states its guarantee by the Dwork-Roth group bound over the
per-window (RDP) epsilon. This script computes, for the same sigma, q, steps and delta:
  1. the Dwork-Roth route: per-window epsilon at delta_w = delta / (k e^{(k-1) eps_w}) (fixed point), times k;
  2. a tighter route: the Renyi divergence of the group's own per-step mechanism, a mixture of Gaussians
     sum_j Binomial(j; k, q) N(j, sigma^2) against N(0, sigma^2) (all k windows' clipped gradients aligned, the worst
     case: Ganesh 2024, arXiv 2401.10294), composed over the steps and converted with Balle et al. 2020;
  3. an alternative sampler: each step draws a random phase and Poisson-samples (rate k q) only the windows that
     start at that phase mod W, which are disjoint, so a day is in at most one sampled-from window per step (k = 1).
Usage: /usr/bin/python3 bench/sequence/group_accounting.py SIGMA Q STEPS DELTA K
"""
import sys

import numpy as np
from scipy.special import logsumexp
from scipy.stats import binom, norm

ALPHAS = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 64, 128]


def rdp_mixture(q, k, sigma, alpha):
    """RDP of order alpha, both directions, of sum_j Bin(j; k, q) N(j, sigma^2) against N(0, sigma^2) (sensitivity 1)."""
    x = np.linspace(-40 * sigma, 40 * sigma + k, 400_001)
    dx = x[1] - x[0]
    w = binom.pmf(np.arange(k + 1), k, q)
    log_p = logsumexp(np.stack([np.log(w[j] + 1e-300) + norm.logpdf(x, j, sigma) for j in range(k + 1)]), axis=0)
    log_q = norm.logpdf(x, 0, sigma)
    forward = logsumexp(alpha * log_p + (1 - alpha) * log_q) + np.log(dx)
    backward = logsumexp(alpha * log_q + (1 - alpha) * log_p) + np.log(dx)
    return max(forward, backward) / (alpha - 1)


def epsilon(q, k, sigma, steps, delta):
    """(epsilon, best order) by the Balle et al. 2020 conversion of the composed RDP."""
    best = (np.inf, None)
    for a in ALPHAS:
        r = steps * rdp_mixture(q, k, sigma, a)
        e = r + np.log1p(-1 / a) - (np.log(delta) + np.log(a)) / (a - 1)
        best = min(best, (e, a))
    return best


def main():
    sigma, q, steps, delta, k = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    eps_w, delta_w = 0.0, delta / k
    for _ in range(50):  # delta_w = delta / (k e^{(k-1) eps_w}) and eps_w(delta_w): a fixed point
        eps_w = epsilon(q, 1, sigma, steps, delta_w)[0]
        delta_w = delta / (k * np.exp((k - 1) * eps_w))
    print(f"sigma {sigma}, q {q}, {steps} steps, delta {delta}, k {k}")
    print(f"  Dwork-Roth group bound: eps per day {k * eps_w:.3f} (eps per window {eps_w:.4f} at delta_w {delta_w:.3g})")
    print(f"  mixture-of-Gaussians RDP of the group: eps per day {epsilon(q, k, sigma, steps, delta)[0]:.3f}")
    print(f"  phase sampler (rate k q, k = 1): eps per day {epsilon(min(1.0, k * q), 1, sigma, steps, delta)[0]:.3f}")


if __name__ == "__main__":
    main()
