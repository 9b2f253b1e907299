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
    /// <summary>μ of T steps of the Poisson-subsampled Gaussian mechanism.</summary>
    public static double Mu(double noiseMultiplier, double sampleRate, long steps) =>
        sampleRate * Math.Sqrt(steps * Numeric.ExpM1(1 / (noiseMultiplier * noiseMultiplier)));

    /// <summary>δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2).</summary>
    public static double Delta(double mu, double epsilon) =>
        NormalDistribution.Cdf(-epsilon / mu + mu / 2) - Math.Exp(epsilon) * NormalDistribution.Cdf(-epsilon / mu - mu / 2);

    /// <summary>ε of μ-GDP at <paramref name="delta"/>, by bisection on the decreasing δ(ε) to 1e-12.</summary>
    public static double Epsilon(double mu, double delta)
    {
        if (Delta(mu, 0) <= delta) return 0;
        double lo = 0, hi = 1;
        while (Delta(mu, hi) > delta) hi *= 2;
        for (var i = 0; i < 200 && hi - lo > 1e-12; i++)
        {
            var mid = (lo + hi) / 2;
            if (Delta(mu, mid) > delta) lo = mid;
            else hi = mid;
        }

        return hi;
    }
}
