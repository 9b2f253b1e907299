using Crucible.Data;
using Crucible.Data.Statistics;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// The Gaussian-DP accountant by the central limit theorem (Bu, Dong, Long, Su 2020; Opacus's <c>GaussianAccountant</c>,
/// Poisson variant): μ = q·√(T·(e^{1/σ²} − 1)), then the ε at which the μ-GDP trade-off curve gives δ. An
/// <b>approximation</b>, not an upper bound: it can under-report ε for small T or large q. Reported for comparison only;
/// the privacy engine budgets with <see cref="RdpAccountant"/>.
/// </summary>
public static class GdpAccountant
{
    /// <summary>μ of T steps of the Poisson-subsampled Gaussian mechanism (∞ for σ = 0, or when e^{1/σ²} overflows).</summary>
    public static double Mu(double noiseMultiplier, double sampleRate, long steps)
    {
        if (!(noiseMultiplier >= 0)) throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "σ must be ≥ 0");
        if (!(sampleRate >= 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "q must be in [0, 1]");
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (sampleRate == 0 || steps == 0) return 0;
        return sampleRate * Math.Sqrt(steps * Numeric.ExpM1(1 / (noiseMultiplier * noiseMultiplier)));
    }

    /// <summary>δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2).</summary>
    public static double Delta(double mu, double epsilon) =>
        NormalDistribution.Cdf(-epsilon / mu + mu / 2) - Math.Exp(epsilon) * NormalDistribution.Cdf(-epsilon / mu - mu / 2);

    /// <summary>
    /// ε of μ-GDP at <paramref name="delta"/>, by bisection on the decreasing δ(ε) to 1e-12: 0 for μ = 0, ∞ for μ = ∞.
    /// Where δ(ε) cannot be evaluated (e^ε Φ(·) is ∞ · 0 past ε ≈ 709 for a huge μ) it counts as above δ, so such an ε is ∞,
    /// never understated.
    /// </summary>
    public static double Epsilon(double mu, double delta)
    {
        if (!(mu >= 0)) throw new ArgumentOutOfRangeException(nameof(mu), mu, "μ must be ≥ 0");
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1)");
        if (mu == 0) return 0;
        if (double.IsPositiveInfinity(mu)) return double.PositiveInfinity;
        if (Delta(mu, 0) <= delta) return 0;
        double lo = 0, hi = 1;
        while (!(Delta(mu, hi) <= delta))
        {
            hi *= 2;
            if (double.IsPositiveInfinity(hi)) return double.PositiveInfinity;
        }

        for (var i = 0; i < 200 && hi - lo > 1e-12; i++)
        {
            var mid = (lo + hi) / 2;
            if (!(Delta(mu, mid) <= delta)) lo = mid;
            else hi = mid;
        }

        return hi;
    }
}
