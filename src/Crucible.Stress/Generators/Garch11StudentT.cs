using Crucible.Evaluation.Statistics;

namespace Crucible.Stress.Generators;

/// <summary>
/// A fitted GARCH(1,1) with standardised Student-t innovations:
/// r_t = μ + ε_t, ε_t = σ_t z_t, σ²_t = ω + α ε²_{t−1} + β σ²_{t−1}, z_t ~ t_ν scaled to unit variance;
/// σ²_1 is the sample variance of r (n − 1). The per-observation log-likelihood is
/// ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν − 2)) − ½ ln σ²_t − ((ν + 1)/2) ln(1 + ε²_t / ((ν − 2) σ²_t)).
/// </summary>
/// <param name="Mu">μ.</param>
/// <param name="Omega">ω &gt; 0.</param>
/// <param name="AlphaArch">α ≥ 0 (the ARCH term).</param>
/// <param name="Beta">β ≥ 0, α + β &lt; 1.</param>
/// <param name="Nu">ν &gt; 2, the degrees of freedom.</param>
public sealed record Garch11StudentT(double Mu, double Omega, double AlphaArch, double Beta, double Nu)
{
    /// <summary>The unconditional variance ω / (1 − α − β).</summary>
    public double UnconditionalVariance => Omega / (1 - AlphaArch - Beta);

    /// <summary>Filters <paramref name="returns"/>: the conditional variances σ²_t and the one-step-ahead σ²_{n+1}.</summary>
    public (double[] Variances, double Next) Filter(ReadOnlySpan<double> returns)
    {
        var n = returns.Length;
        var variances = new double[n];
        var s2 = SampleVariance(returns);
        for (var t = 0; t < n; t++)
        {
            variances[t] = s2;
            var e = returns[t] - Mu;
            s2 = Omega + (AlphaArch * e * e) + (Beta * s2);
        }

        return (variances, s2);
    }

    /// <summary>The log-likelihood of <paramref name="returns"/> under this model (−∞ outside the parameter space).</summary>
    public double LogLikelihood(ReadOnlySpan<double> returns) => LogLikelihood(returns, Mu, Omega, AlphaArch, Beta, Nu);

    /// <summary>The log-likelihood for explicit parameters (−∞ outside ω &gt; 0, α, β ≥ 0, α + β &lt; 1, ν &gt; 2).</summary>
    public static double LogLikelihood(ReadOnlySpan<double> returns, double mu, double omega, double alpha, double beta, double nu)
    {
        if (!(omega > 0 && alpha >= 0 && beta >= 0 && alpha + beta < 1 && nu > 2)) return double.NegativeInfinity;
        var n = returns.Length;
        var constant = StudentT.LogGamma((nu + 1) / 2) - StudentT.LogGamma(nu / 2) - (0.5 * Math.Log(Math.PI * (nu - 2)));
        var s2 = SampleVariance(returns);
        double ll = 0;
        for (var t = 0; t < n; t++)
        {
            var e = returns[t] - mu;
            ll += -(0.5 * Math.Log(s2)) - ((nu + 1) / 2 * Math.Log(1 + (e * e / ((nu - 2) * s2))));
            s2 = omega + (alpha * e * e) + (beta * s2);
        }

        return (n * constant) + ll;
    }

    /// <summary>
    /// Maximum-likelihood fit by Nelder–Mead on an unconstrained parametrisation (μ/s, ln(ω/s²), logit(α + β),
    /// logit(α/(α + β)), ln(ν − 2)) of the data scaled by its standard deviation s, from a fixed start
    /// (α + β = 0.95, α = 0.05, ν = 8, ω from the sample variance).
    /// </summary>
    public static Garch11StudentT Fit(ReadOnlySpan<double> returns)
    {
        if (returns.Length < 10) throw new ArgumentException("GARCH needs at least 10 observations", nameof(returns));
        var sd = Math.Sqrt(SampleVariance(returns));
        if (!(sd > 0)) throw new ArgumentException("GARCH needs a series that varies", nameof(returns));
        var x = new double[returns.Length];
        for (var t = 0; t < x.Length; t++) x[t] = returns[t] / sd;
        var mean = x.Average();
        double[] start = [mean, Math.Log(0.05), Logit(0.95), Logit(0.05 / 0.95), Math.Log(6)];
        double Objective(double[] p)
        {
            var (mu, omega, alpha, beta, nu) = Unpack(p);
            var ll = LogLikelihood(x, mu, omega, alpha, beta, nu);
            return double.IsFinite(ll) ? -ll : double.MaxValue;
        }

        var (best, _) = NelderMead.Minimize(Objective, start, step: 0.5, tolerance: 1e-12);
        var (m, o, a, b, v) = Unpack(best);
        return new Garch11StudentT(m * sd, o * sd * sd, a, b, v);
    }

    private static (double Mu, double Omega, double Alpha, double Beta, double Nu) Unpack(double[] p)
    {
        var persistence = Sigmoid(p[2]);
        var share = Sigmoid(p[3]);
        return (p[0], Math.Exp(p[1]), persistence * share, persistence * (1 - share), 2 + Math.Exp(p[4]));
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Logit(double p) => Math.Log(p / (1 - p));

    internal static double SampleVariance(ReadOnlySpan<double> x)
    {
        // a constant series has no variance: exactly 0, not the rounding of its mean (0.01 × 200 gave about 5e-35, which
        // passed the "does it vary" checks and fitted a GARCH to noise of 1e-18)
        if (x.Length > 0 && !x.ContainsAnyExcept(x[0])) return 0;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= x.Length;
        double ss = 0;
        foreach (var v in x) ss += (v - mean) * (v - mean);
        return ss / (x.Length - 1);
    }
}
