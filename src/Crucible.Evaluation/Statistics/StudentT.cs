namespace Crucible.Evaluation.Statistics;

/// <summary>
/// Student's t distribution with ν degrees of freedom: the CDF through the regularised incomplete beta function,
/// and its inverse, for confidence intervals of a mean over a few runs (Diffusion-TS's <c>display_scores</c>:
/// mean ± t_{0.975, n−1} · s/√n).
/// </summary>
public static class StudentT
{
    /// <summary>P(T ≤ t) for ν &gt; 0 degrees of freedom: 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, by symmetry below 0.</summary>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), "degrees of freedom must be > 0");
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsInfinity(t)) return t > 0 ? 1 : 0;
        return CdfCore(t, degreesOfFreedom, LogGammaRatio(degreesOfFreedom / 2, 0.5));
    }

    // Cdf for finite t with ln Γ(ν/2 + ½) − ln Γ(ν/2) − ln Γ(½) given: the same operations as Cdf, so the same bits
    private static double CdfCore(double t, double degreesOfFreedom, double logGammaRatio)
    {
        var x = degreesOfFreedom / (degreesOfFreedom + (t * t));
        var tail = 0.5 * RegularizedIncompleteBeta(degreesOfFreedom / 2, 0.5, x, logGammaRatio);
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>
    /// The p-quantile (scipy <c>stats.t.ppf(p, ν)</c>), 0 &lt; p &lt; 1: bisection on <see cref="Cdf"/> to a bracket
    /// of a few ulps. The upper tail is solved as the lower tail of −t, so p close to 1 keeps its accuracy.
    /// </summary>
    public static double InverseCdf(double p, double degreesOfFreedom)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), "p must be in (0, 1)");
        if (p > 0.5) return -InverseCdf(1 - p, degreesOfFreedom);
        if (p == 0.5) return 0;
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), "degrees of freedom must be > 0");
        // lower tail: find t < 0 with Cdf(t) = p; widen the bracket until it holds the root. The ln Γ terms of I_x(ν/2, ½)
        // do not depend on t: computed once, they give every Cdf the bits it had when each call computed them
        var logGammaRatio = LogGammaRatio(degreesOfFreedom / 2, 0.5);
        double lo = -1, hi = 0;
        while (CdfCore(lo, degreesOfFreedom, logGammaRatio) > p) lo *= 2;
        for (var i = 0; i < 200 && hi - lo > 1e-15 * Math.Abs(lo); i++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (CdfCore(mid, degreesOfFreedom, logGammaRatio) > p) hi = mid;
            else lo = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// I_x(a, b), the regularised incomplete beta function, by the continued fraction of Numerical Recipes (modified
    /// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges faster.
    /// </summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x) =>
        RegularizedIncompleteBeta(a, b, x, LogGammaRatio(a, b));

    // (ln Γ(a + b) − ln Γ(a)) − ln Γ(b), the first terms of the front factor's exponent in their order
    private static double LogGammaRatio(double a, double b) => LogGamma(a + b) - LogGamma(a) - LogGamma(b);

    private static double RegularizedIncompleteBeta(double a, double b, double x, double logGammaRatio)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var front = Math.Exp(logGammaRatio + (a * Math.Log(x)) + (b * Math.Log(1 - x)));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(a, b, x) / a
            : 1 - (front * BetaContinuedFraction(b, a, 1 - x) / b);
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, nine coefficients; about 1e-15 relative).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x); // reflection
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++) sum += c[i] / (x + i);
        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double qab = a + b, qap = a + 1, qam = a - 1;
        double c = 1, d = 1 - (qab * x / qap);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        var h = d;
        for (var m = 1; m <= 10000; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + (aa * d);
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + (aa / c);
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + (aa * d);
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + (aa / c);
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return h;
    }
}
