namespace Crucible.Data.Statistics;

/// <summary>
/// The standard normal distribution: <see cref="Cdf"/> Φ and its inverse <see cref="InvCdf"/> Φ⁻¹, in double precision.
/// </summary>
public static class NormalDistribution
{
    private const double Sqrt2Pi = 2.50662827463100050242;

    /// <summary>
    /// Φ(x) = ½ erfc(−x/√2), the standard normal cumulative distribution function, with the relative accuracy of
    /// <see cref="Erfc"/> in both tails (about 1e-15). Returns 0 far below −38, 1 above 9, NaN for NaN.
    /// </summary>
    public static double Cdf(double x) => double.IsNaN(x) ? double.NaN : 0.5 * Erfc(-x / Math.Sqrt(2.0));

    /// <summary>
    /// The complementary error function erfc(z) = 2/√π ∫_z^∞ e^{−t²} dt, to near double precision relative accuracy:
    /// the Maclaurin series of erf for |z| &lt; 2, the Laplace continued fraction (modified Lentz) above, and
    /// erfc(−z) = 2 − erfc(z) for negative z. 0 at +∞, 2 at −∞, NaN for NaN.
    /// </summary>
    public static double Erfc(double z)
    {
        if (double.IsNaN(z)) return double.NaN;
        if (z < 0) return 2.0 - Erfc(-z);
        if (double.IsPositiveInfinity(z)) return 0;     // the continued fraction would compute ∞ · 0
        if (z < 2)
        {
            // erf(z) = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1))
            double sum = 0, term = z, z2 = z * z;
            for (var n = 0; n < 200; n++)
            {
                var add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -z2 / (n + 1);
            }

            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }

        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / LaplaceFraction(z);
    }

    /// <summary>
    /// ln erfc(x) without underflow: ln of <see cref="Erfc"/> below 2, and above it −x² − ½ ln π − ln F(x) with F the
    /// Laplace continued fraction of <see cref="Erfc"/> (erfc(x) = e^{−x²}/(√π F(x))). −∞ at +∞, NaN for NaN.
    /// </summary>
    public static double LogErfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (double.IsPositiveInfinity(x)) return double.NegativeInfinity;
        if (x < 2) return Math.Log(Erfc(x));
        return -x * x - 0.5 * Math.Log(Math.PI) - Math.Log(LaplaceFraction(x));
    }

    // F(z) = z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …)))), so that erfc(z) = exp(−z²)/(√π F(z)); modified Lentz, z ≥ 2
    private static double LaplaceFraction(double z)
    {
        const double tiny = 1e-300;
        var f = z;
        var c = z;
        var d = 0.0;
        for (var k = 1; k < 500; k++)
        {
            var a = k / 2.0;
            d = z + a * d;
            d = d == 0 ? tiny : d;
            c = z + a / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }

        return f;
    }

    /// <summary>The standard normal density φ(x).</summary>
    public static double Pdf(double x) => Math.Exp(-0.5 * x * x) / Sqrt2Pi;

    /// <summary>
    /// Φ⁻¹(p), the standard normal quantile. P. J. Acklam's rational approximation (relative error 1.15e-9) refined by
    /// one Halley step on <see cref="Cdf"/>: about 1e-13 absolute for p in [1e-6, 1 − 1e-6], and in the far tails
    /// limited by the relative accuracy of <see cref="Cdf"/>.
    /// Returns −∞ at 0, +∞ at 1, NaN outside [0, 1].
    /// Symmetric: for p &gt; 0.5 it returns −Φ⁻¹(1 − p), so upper-tail accuracy is limited by the rounding of 1 − p.
    /// </summary>
    public static double InvCdf(double p)
    {
        if (double.IsNaN(p) || p < 0.0 || p > 1.0) return double.NaN;
        if (p == 0.0) return double.NegativeInfinity;
        if (p == 1.0) return double.PositiveInfinity;
        if (p > 0.5) return -InvCdf(1.0 - p);

        const double pLow = 0.02425;
        double x;
        if (p < pLow)
        {
            var q = Math.Sqrt(-2.0 * Math.Log(p));
            x = (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                    - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                    + 3.754408661907416e+00) * q + 1.0);
        }
        else
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
                    + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                    + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0);
        }

        // One step of Halley's method on f(x) = Φ(x) − p. Below p ≈ 1e-310, exp(x²/2) overflows and the step is ∞/∞: the
        // approximation is returned unrefined there.
        var err = Cdf(x) - p;
        var u = err * Sqrt2Pi * Math.Exp(x * x / 2.0);
        var refined = x - u / (1.0 + x * u / 2.0);
        return double.IsFinite(refined) ? refined : x;
    }
}
