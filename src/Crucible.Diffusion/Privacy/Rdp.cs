using Crucible.Data;
using Crucible.Data.Statistics;

namespace Crucible.Diffusion.Privacy;

/// <summary>How Rényi-DP is converted to (ε, δ)-DP.</summary>
public enum RdpConversion
{
    /// <summary>
    /// Balle et al. 2020 (arXiv 2004.00010, Prop. 12 / Thm 21), as Opacus and dp_accounting compute it:
    /// ε = min_α [RDP(α) + ln(1 − 1/α) − ln(δ·α)/(α − 1)] (orders α ≤ 1.01 excluded; ε = 0 when δ² + e^{−RDP} − 1 &gt; 0).
    /// </summary>
    Balle2020,

    /// <summary>Mironov 2017, Prop. 3: ε = min_α [RDP(α) + ln(1/δ)/(α − 1)] (TF Privacy's older tutorials).</summary>
    Classic,
}

/// <summary>Which published implementation's formula the RDP of fractional orders follows.</summary>
public enum RdpFormula
{
    /// <summary>
    /// Opacus (<c>opacus/accountants/analysis/rdp.py</c>): the signed series of Mironov et al. 2019 §3.3, the exact
    /// A_α; <c>ln(1 − q)</c> as written there.
    /// </summary>
    Opacus,

    /// <summary>
    /// Google's dp_accounting ≥ 0.4.4, used by TF Privacy: every term of the fractional-order series is added in absolute
    /// value (an upper bound on A_α, never below <see cref="Opacus"/>), and <c>log1p(−q)</c>. Integer orders agree with
    /// <see cref="Opacus"/> up to rounding.
    /// </summary>
    DpAccounting,
}

/// <summary>An (ε, δ) guarantee and the Rényi order that gave it.</summary>
/// <param name="Epsilon">ε.</param>
/// <param name="Delta">δ.</param>
/// <param name="BestOrder">The order α at which the minimum was reached.</param>
/// <param name="OrderOnBoundary">
/// True when <paramref name="BestOrder"/> is the smallest or the largest order tried: the orders should be widened
/// (Opacus warns in this case).
/// </param>
public sealed record PrivacySpent(double Epsilon, double Delta, double BestOrder, bool OrderOnBoundary);

/// <summary>
/// Rényi differential privacy of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi
/// Differential Privacy of the Sampled Gaussian Mechanism", §3.3), computed as Opacus's
/// <c>opacus/accountants/analysis/rdp.py</c> and Google's <c>dp_accounting</c> compute it: integer orders by the
/// binomial expansion of A_α, fractional orders by the two-sided series with erfc tails, all in log space.
/// Add/remove-one adjacency.
/// </summary>
public static class Rdp
{
    /// <summary>Opacus's <c>RDPAccountant.DEFAULT_ALPHAS</c>: 1.1, 1.2, …, 10.9, then 12, 13, …, 63.</summary>
    public static IReadOnlyList<double> OpacusOrders { get; } =
        Enumerable.Range(1, 99).Select(x => 1 + x / 10.0).Concat(Enumerable.Range(12, 52).Select(x => (double)x)).ToArray();

    /// <summary>TF Privacy's <c>compute_dp_sgd_privacy</c> orders: 1.25, 1.5, …, 4.5, then 5..63, then 128, 256, 512.</summary>
    public static IReadOnlyList<double> TfPrivacyOrders { get; } =
        new[] { 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5 }.Concat(Enumerable.Range(5, 59).Select(x => (double)x))
            .Concat([128.0, 256.0, 512.0]).ToArray();

    /// <summary>
    /// The RDP at order <paramref name="alpha"/> of one step of the sampled Gaussian mechanism with sampling rate
    /// <paramref name="q"/> and noise multiplier <paramref name="sigma"/> (noise std / L2 sensitivity).
    /// q = 0 gives 0; σ = 0 or α = ∞ gives ∞; q = 1 gives α/(2σ²) (the plain Gaussian mechanism). A σ so small that
    /// the series' exponents (i² − i)/(2σ²) leave double precision (σ below about 1e-150: 1/(2σ²) near 1e300) gives ∞
    /// too: no finite bound can be computed, and ∞ is the true bound's only safe stand-in (ε = ∞, no guarantee).
    /// </summary>
    public static double SampledGaussian(double q, double sigma, double alpha, RdpFormula formula = RdpFormula.Opacus)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "sampling rate must be in [0, 1]");
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "noise multiplier must be ≥ 0");
        if (!(alpha >= 1) || (alpha == 1 && q != 1 && q != 0))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Rényi order must be > 1 (or 1 for q = 1, the KL divergence)");
        if (q == 0) return 0;
        if (sigma == 0 || !double.IsFinite(1 / (2 * sigma * sigma))) return double.PositiveInfinity;
        if (q == 1.0) return alpha / (2 * sigma * sigma);
        if (double.IsPositiveInfinity(alpha)) return double.PositiveInfinity;
        var logA = LogA(q, sigma, alpha, formula);
        // an exponent past double precision (tiny σ): ∞ − ∞ in the series is NaN, the sum itself is unbounded
        if (double.IsNaN(logA)) return double.PositiveInfinity;
        var rdp = logA / (alpha - 1);
        // A large σ (about 1e6 and up) makes A_α = 1 + O(q²/σ²), below the rounding of its terms: the sum then comes out
        // below 0, above the bound below, or the signed series subtracts a term larger than what it holds. That is
        // rounding, not the RDP. The plain Gaussian mechanism's α/(2σ²) bounds the sampled one's (x^α is convex, so
        // A_α ≤ (1 − q) + q·e^{α(α−1)/(2σ²)}) and stands in, an upper bound as the accountant promises; for any σ an
        // accountant meets in training the series lies far below it and is returned as computed.
        var gaussian = alpha / (2 * sigma * sigma);
        if (logA > ReliableLogA) return rdp <= gaussian ? rdp : gaussian; // above it only by rounding (or ∞ for a tiny σ)
        // log A_α near or below the series' rounding (≈ 1e-16 per term): its value, even a plain 0, is no bound, and
        // times a huge step count an under-estimate grows into a wrong ε. The RDP is non-decreasing in α, so the
        // integer order ⌈α⌉, summed stably as A − 1 = Σ_{i≥2} C(n, i) qⁱ (1 − q)ⁿ⁻ⁱ (e^{(i²−i)/(2σ²)} − 1), bounds it.
        // (an order past 10,000 would cost that many terms: the Gaussian bound alone stands in, still an upper bound)
        var order = Math.Ceiling(alpha);
        return order > 10_000 ? gaussian : Math.Min(gaussian, IntegerOrderNearZero(q, sigma, (int)order));
    }

    // Below this log A_α the series' terms (of order 1) have cancelled to within a few thousand roundings.
    private const double ReliableLogA = 1e-12;

    private static double IntegerOrderNearZero(double q, double sigma, int n)
    {
        double logQ = Math.Log(q), log1MinusQ = Numeric.Log1P(-q), excess = 0;
        for (var i = 2; i <= n; i++)
        {
            var logCoef = LogBinomial(n, i) + i * logQ + (n - i) * log1MinusQ;
            var exponent = ((double)i * i - i) / (2 * sigma * sigma);
            var growth = Numeric.ExpM1(exponent);
            // e^{exponent} past double range (a tiny q with a small σ): the product would be 0 · ∞ = NaN, the term itself is
            // e^{logCoef + exponent} (e^{−exponent} is far below rounding there)
            excess += double.IsPositiveInfinity(growth) ? Math.Exp(logCoef + exponent) : Math.Exp(logCoef) * growth;
        }

        return Numeric.Log1P(excess) / (n - 1);
    }

    /// <summary>The RDP at each order of <paramref name="steps"/> compositions of the sampled Gaussian mechanism.</summary>
    public static double[] Compute(double q, double sigma, long steps, IReadOnlyList<double> orders, RdpFormula formula = RdpFormula.Opacus)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var rdp = new double[orders.Count];
        for (var i = 0; i < rdp.Length; i++) rdp[i] = steps == 0 ? 0 : SampledGaussian(q, sigma, orders[i], formula) * steps;
        return rdp;
    }

    /// <summary>
    /// The smallest ε over the orders for which the mechanism with RDP curve <paramref name="rdp"/> is (ε, δ)-DP.
    /// </summary>
    public static PrivacySpent Epsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta,
        RdpConversion conversion = RdpConversion.Balle2020)
    {
        if (orders.Count != rdp.Count || orders.Count == 0) throw new ArgumentException("orders and rdp must have the same, non-zero length");
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1)");
        var best = double.PositiveInfinity;
        var bestIndex = 0;
        for (var i = 0; i < orders.Count; i++)
        {
            var a = orders[i];
            var r = rdp[i];
            if (!(a >= 1)) throw new ArgumentOutOfRangeException(nameof(orders), a, "Rényi orders must be ≥ 1");
            if (r < 0 || double.IsNaN(r)) throw new ArgumentOutOfRangeException(nameof(rdp), r, "RDP must be ≥ 0");
            double eps;
            if (conversion == RdpConversion.Classic)
            {
                eps = a > 1 ? r - Math.Log(delta) / (a - 1) : double.PositiveInfinity;
            }
            else if (delta * delta + Numeric.ExpM1(-r) > 0)
            {
                eps = 0; // δ ≥ √(1 − e^{−KL}): the KL bound already gives ε = 0
            }
            else if (a > 1.01)
            {
                eps = r + Numeric.Log1P(-1 / a) - Math.Log(delta * a) / (a - 1);
            }
            else
            {
                eps = double.PositiveInfinity; // not numerically stable as α → 1
            }

            if (eps < best)
            {
                best = eps;
                bestIndex = i;
            }
        }

        return new PrivacySpent(Math.Max(0, best), delta, orders[bestIndex], bestIndex == 0 || bestIndex == orders.Count - 1);
    }

    /// <summary>
    /// The smallest δ over the orders for which the mechanism is (<paramref name="epsilon"/>, δ)-DP (dp_accounting's
    /// <c>compute_delta</c>: the Balle et al. 2020 bound, or with <see cref="RdpConversion.Classic"/> Mironov's, each
    /// also bounded by the KL bound √(1 − e^{−RDP})).
    /// </summary>
    public static (double Delta, double BestOrder) Delta(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double epsilon,
        RdpConversion conversion = RdpConversion.Balle2020)
    {
        if (orders.Count != rdp.Count || orders.Count == 0) throw new ArgumentException("orders and rdp must have the same, non-zero length");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be ≥ 0");
        var best = double.PositiveInfinity;
        var bestIndex = 0;
        for (var i = 0; i < orders.Count; i++)
        {
            var a = orders[i];
            var r = rdp[i];
            if (!(a >= 1)) throw new ArgumentOutOfRangeException(nameof(orders), a, "Rényi orders must be ≥ 1");
            if (r < 0 || double.IsNaN(r)) throw new ArgumentOutOfRangeException(nameof(rdp), r, "RDP must be ≥ 0");
            var logDelta = r == 0 ? double.NegativeInfinity : 0.5 * Numeric.Log1P(-Math.Exp(-r));
            if (conversion == RdpConversion.Classic && a > 1)
            {
                logDelta = Math.Min(logDelta, (a - 1) * (r - epsilon)); // ε = r + ln(1/δ)/(α − 1) solved for δ
            }
            else if (a > 1.01)
            {
                logDelta = Math.Min(logDelta, (a - 1) * (r - epsilon + Numeric.Log1P(-1 / a)) - Math.Log(a));
            }

            if (logDelta < best)
            {
                best = logDelta;
                bestIndex = i;
            }
        }

        return (Math.Min(Math.Exp(best), 1.0), orders[bestIndex]);
    }

    /// <summary>log A_α (Mironov et al. 2019, §3.3): integer α by the binomial sum, fractional α by the two-sided series.</summary>
    internal static double LogA(double q, double sigma, double alpha, RdpFormula formula) =>
        alpha == Math.Floor(alpha) && alpha < int.MaxValue
            ? LogAIntegerOrder(q, sigma, (int)alpha, formula)
            : LogAFractionalOrder(q, sigma, alpha, formula);

    // ln(1 − q) exactly as each reference writes it: the published golden values carry its rounding.
    private static double Log1MinusQ(double q, RdpFormula formula) => formula == RdpFormula.Opacus ? Math.Log(1 - q) : Numeric.Log1P(-q);

    private static double LogAIntegerOrder(double q, double sigma, int alpha, RdpFormula formula)
    {
        var logA = double.NegativeInfinity;
        var logQ = Math.Log(q);
        var log1MinusQ = Log1MinusQ(q, formula);
        for (var i = 0; i <= alpha; i++)
        {
            var logCoef = LogBinomial(alpha, i) + i * logQ + (alpha - i) * log1MinusQ;
            var s = logCoef + ((double)i * i - i) / (2 * sigma * sigma);
            logA = LogAdd(logA, s);
        }

        return logA;
    }

    private static double LogAFractionalOrder(double q, double sigma, double alpha, RdpFormula formula)
    {
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        var z0 = sigma * sigma * Math.Log(1 / q - 1) + 0.5;
        var logQ = Math.Log(q);
        var log1MinusQ = Log1MinusQ(q, formula);
        // |binom(α, i)| and its sign, updated term by term: binom(α, i+1) = binom(α, i)·(α − i)/(i + 1).
        var logAbsCoef = 0.0;
        var coefSign = 1;
        for (var i = 0; ; i++)
        {
            if (i > 0)
            {
                var factor = (alpha - (i - 1)) / i;
                if (factor == 0) break; // cannot happen for fractional α
                logAbsCoef += Math.Log(Math.Abs(factor));
                if (factor < 0) coefSign = -coefSign;
            }

            var j = alpha - i;
            var logT0 = logAbsCoef + i * logQ + j * log1MinusQ;
            var logT1 = logAbsCoef + j * logQ + i * log1MinusQ;
            var logE0 = Math.Log(0.5) + NormalDistribution.LogErfc((i - z0) / (Math.Sqrt(2) * sigma));
            var logE1 = Math.Log(0.5) + NormalDistribution.LogErfc((z0 - j) / (Math.Sqrt(2) * sigma));
            var logS0 = logT0 + ((double)i * i - i) / (2 * sigma * sigma) + logE0;
            var logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
            // a term past double precision (σ so small that (i² − i)/(2σ²) overflows against the erfc tail): unbounded
            if (double.IsNaN(logS0) || double.IsNaN(logS1) || double.IsPositiveInfinity(logS0) || double.IsPositiveInfinity(logS1)) return double.NaN;
            if (coefSign > 0 || formula == RdpFormula.DpAccounting)
            {
                logA0 = LogAdd(logA0, logS0);
                logA1 = LogAdd(logA1, logS1);
            }
            else
            {
                // a term above the running sum: the series has cancelled to within rounding (large σ, see SampledGaussian)
                if (logA0 < logS0 || logA1 < logS1) return double.NegativeInfinity;
                logA0 = LogSub(logA0, logS0);
                logA1 = LogSub(logA1, logS1);
            }

            if (Math.Max(logS0, logS1) < -30) break;
            if (i > 1_000_000) throw new InvalidOperationException("the fractional-order series did not converge");
        }

        return LogAdd(logA0, logA1);
    }

    /// <summary>ln C(n, k) by the log-gamma-free product Σ ln((n − k + j)/j), exact for the small n used here.</summary>
    internal static double LogBinomial(int n, int k)
    {
        if (k < 0 || k > n) return double.NegativeInfinity;
        k = Math.Min(k, n - k);
        var s = 0.0;
        for (var j = 1; j <= k; j++) s += Math.Log((double)(n - k + j) / j);
        return s;
    }

    /// <summary>ln(e^x + e^y) without overflow.</summary>
    internal static double LogAdd(double x, double y)
    {
        var a = Math.Min(x, y);
        var b = Math.Max(x, y);
        if (double.IsNegativeInfinity(a)) return b;
        return Numeric.Log1P(Math.Exp(a - b)) + b;
    }

    /// <summary>ln(e^x − e^y) for x ≥ y (Opacus's <c>_log_sub</c>).</summary>
    internal static double LogSub(double x, double y)
    {
        if (x < y) throw new ArithmeticException("the result of ln(e^x − e^y) would be complex (x < y)");
        if (double.IsNegativeInfinity(y)) return x;
        if (x == y) return double.NegativeInfinity;
        var d = x - y;
        return d > 700 ? x : Math.Log(Numeric.ExpM1(d)) + y;
    }
}
