using System.Collections.Concurrent;
using System.Globalization;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Privacy;

/// <summary>The (ε, δ) differential-privacy statement of the evaluated model (its manifest's <c>privacy</c>), for the DP-12 check.</summary>
/// <param name="Epsilon">ε spent, ≥ 0.</param>
/// <param name="Delta">δ, in [0, 1).</param>
public sealed record DpGuarantee(double Epsilon, double Delta)
{
    /// <summary>
    /// Where the statement was read when not from the evaluated model's folder (<c>evaluate --model DIR</c>): the scenario
    /// file's metadata (<c>FILE.meta.json</c>, <see cref="ScenarioSidecar.DpStatementOf"/>), by file name; null for the model's
    /// manifest. Named in the gate's rule and report.json's <c>gate.dp_source</c>.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>Checks that ε is finite and ≥ 0 and δ in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">ε or δ is out of range.</exception>
    public DpGuarantee Validated()
    {
        if (!(double.IsFinite(Epsilon) && Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "ε must be finite and ≥ 0");
        if (!(Delta is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Delta), Delta, "δ must be in [0, 1)");
        return this;
    }
}

/// <summary>
/// The RELIABILITY.md PRIV-7 gate of one membership attack: <paramref name="Passed"/> when TPR@FPR0.1 ≤
/// <paramref name="Bound"/>, the exact 97.5% quantile of TPR@FPR0.1 for an attack no better than chance at
/// <paramref name="Members"/> members and <see cref="NonMembers"/> non-members, and, when the model carries a DP statement,
/// TPR@FPR0.1 and TPR@FPR0.01 within the same quantile (at 98.75% each) for the strongest attack that (ε, δ)-DP allows
/// (DP-12). Each check fails an attack that sits on its null at most <see cref="Alpha"/> of the time
/// (<see cref="NullLaw"/>).
/// </summary>
/// <param name="Members">n, the member targets the attack's TPR is a proportion of.</param>
/// <param name="Bound">c/n, the chance bound on TPR@FPR0.1 (<see cref="ChanceBound"/>).</param>
/// <param name="WithinChance">TPR@FPR0.1 ≤ <paramref name="Bound"/>.</param>
/// <param name="Dp">The model's DP statement, or null when none is known (no DP check).</param>
/// <param name="DpBoundFpr10"><see cref="DpBound"/> at FPR 0.1, or null without <paramref name="Dp"/>.</param>
/// <param name="DpBoundFpr01"><see cref="DpBound"/> at FPR 0.01, or null without <paramref name="Dp"/>.</param>
/// <param name="WithinDp">Both TPRs within their DP bounds, or null without <paramref name="Dp"/>.</param>
/// <param name="Passed"><paramref name="WithinChance"/> and (without a DP statement) or <paramref name="WithinDp"/>.</param>
/// <param name="Rule">The rule with its numbers, in words (report.json's <c>gate.rule</c>).</param>
public sealed record MembershipGate(int Members, double Bound, bool WithinChance, DpGuarantee? Dp, double? DpBoundFpr10, double? DpBoundFpr01,
    bool? WithinDp, bool Passed, string Rule)
{
    /// <summary>The FPR of the gate's main operating point.</summary>
    public const double Fpr10 = 0.1;

    /// <summary>The FPR of the low operating point (checked against DP-12 only).</summary>
    public const double Fpr01 = 0.01;

    /// <summary>
    /// The false-fail rate each check allows at its null: 0.025 (one-sided), the chance gate's and the DP-12 check's
    /// (Bonferroni: 0.0125 at each of its two operating points).
    /// </summary>
    public const double Alpha = 0.025;

    /// <summary>m, the non-member targets the attack's FPR threshold was set on.</summary>
    public int NonMembers { get; init; }

    /// <summary>
    /// The chance null's p-value of the observed TPR@FPR0.1: P(X ≥ observed count) under <see cref="NullLaw"/> for an
    /// attack no better than chance (NaN when the TPR is not a count of the members).
    /// </summary>
    public double PValue { get; init; } = double.NaN;

    private static readonly ConcurrentDictionary<(int N, int M, int K, double Epsilon, double Delta), double[]> Tails = new();

    /// <summary>
    /// k: the most non-members a ROC point may count above its threshold and still have FPR ≤ <paramref name="fpr"/>
    /// (the largest k with k/m ≤ fpr in floating point, the comparison <see cref="MembershipInference"/>'s ROC makes).
    /// </summary>
    public static int FprCount(int nonMembers, double fpr)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nonMembers);
        var k = (int)Math.Floor(fpr * nonMembers);
        while (k + 1 <= nonMembers && (double)(k + 1) / nonMembers <= fpr) k++;
        while (k > 0 && (double)k / nonMembers > fpr) k--;
        return Math.Clamp(k, 0, nonMembers - 1);
    }

    /// <summary>
    /// The law of X, the number of the n members whose score is above the threshold of the ROC point the gate reads
    /// (the highest TPR with FPR ≤ <paramref name="fpr"/>), for the strongest attack an (ε, δ)-DP model allows; ε = δ = 0
    /// is an attack no better than chance. Returns P(X = x) for x = 0..n.
    /// </summary>
    /// <remarks>
    /// <para>With continuous scores, the ROC point is the one just above the (k + 1)-th highest of the m non-member scores
    /// (k = <see cref="FprCount"/>), and X counts the members above that order statistic. Whatever the score's
    /// distribution, the true FPR of that threshold is F ~ Beta(k + 1, m − k) (the probability integral transform of an
    /// order statistic), and, given the non-members, the n members are i.i.d., so X | F ~ Binomial(n, T(F)) with T the
    /// attack's true ROC. Under chance T(F) = F and X is beta-binomial(n, k + 1, m − k): the distribution-free law of the
    /// number of exceedances of an order statistic (Gumbel and von Schelling, "The distribution of the number of
    /// exceedances", Ann. Math. Statist. 21(2), 1950). It accounts for both samples: the members' binomial error and the
    /// threshold's own (its variance is the binomial's times 1 + (n − 1)/(m + 2)), so a Wilson half-width at n alone
    /// (the gate before session 22) fails a chance-level attack 7–18% of the time instead of 2.5%.</para>
    /// <para>Under (ε, δ)-DP every membership test has TPR ≤ 1 − f(FPR) with the trade-off
    /// f(α) = max(0, 1 − δ − e^ε·α, e^−ε·(1 − δ − α)) (Kairouz, Oh and Viswanath, ICML 2015; Dong, Roth and Su,
    /// "Gaussian differential privacy", JRSS B 84(1), 2022), so T(F) ≤ min(1, e^ε·F + δ, 1 − e^−ε·(1 − δ − F)) and X is
    /// stochastically at most the mixture ∫ Binomial(n, that bound) dBeta(k + 1, m − k), which the attack on the
    /// boundary attains: its quantile is the exact critical value (not a normal approximation in the FPR's error).</para>
    /// <para>Taking the highest TPR over the ROC points with FPR ≤ fpr is no further selection: TPR only grows as the
    /// threshold falls, so the highest is the last point, the one above. Tied scores (DOMIAS and shadow scores can tie)
    /// only remove ROC points, so X is at most the count of the same scores with ties broken at random, whose law is the
    /// above: with ties the checks are conservative.</para>
    /// <para>Numerics: composite Simpson's rule over F on the mean ± 30 standard deviations of the beta (12,000
    /// intervals), the binomial within ±(12 sd + 12) of its mean, the mixture normalised to sum 1; against the closed
    /// beta-binomial the error is below 1e-9 (MembershipGateTests).</para>
    /// </remarks>
    public static double[] NullLaw(int members, int nonMembers, double fpr, double epsilon = 0, double delta = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(members);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nonMembers);
        new DpGuarantee(epsilon, delta).Validated();
        int n = members, m = nonMembers, k = FprCount(nonMembers, fpr);
        double a = k + 1, b = m - k; // Beta(a, b) of the threshold's true FPR
        var mean = a / (a + b);
        var sd = Math.Sqrt(mean * (1 - mean) / (a + b + 1));
        double lo = Math.Max(0, mean - (30 * sd)), hi = Math.Min(1, mean + (30 * sd));
        const int intervals = 12000;
        var step = (hi - lo) / intervals;
        var logBeta = StudentT.LogGamma(a) + StudentT.LogGamma(b) - StudentT.LogGamma(a + b);
        var logChoose = new double[n + 1];
        for (var x = 0; x < n; x++) logChoose[x + 1] = logChoose[x] + Math.Log(n - x) - Math.Log(x + 1);
        var eEps = Math.Exp(epsilon);
        var pmf = new double[n + 1];
        for (var j = 0; j <= intervals; j++)
        {
            var f = lo + (j * step);
            var logDensity = (a == 1 ? 0 : (a - 1) * LogOrMinus(f)) + (b == 1 ? 0 : (b - 1) * LogOrMinus(1 - f)) - logBeta;
            if (double.IsNegativeInfinity(logDensity)) continue;
            var weight = (j == 0 || j == intervals ? 1 : j % 2 == 1 ? 4 : 2) * step / 3 * Math.Exp(logDensity);
            if (weight == 0) continue;
            // T(F) on the (ε, δ) trade-off's boundary (F itself for ε = δ = 0)
            var p = Math.Clamp(Math.Min(Math.Min((eEps * f) + delta, 1 - ((1 - delta - f) / eEps)), 1), 0, 1);
            if (p == 0) pmf[0] += weight;
            else if (p == 1) pmf[n] += weight;
            else
            {
                double lp = Math.Log(p), lq = Math.Log(1 - p), centre = n * p, spread = (12 * Math.Sqrt(n * p * (1 - p))) + 12;
                var x0 = (int)Math.Max(0, Math.Floor(centre - spread));
                var x1 = (int)Math.Min(n, Math.Ceiling(centre + spread));
                for (var x = x0; x <= x1; x++) pmf[x] += weight * Math.Exp(logChoose[x] + (x * lp) + ((n - x) * lq));
            }
        }

        var total = pmf.Sum();
        for (var x = 0; x <= n; x++) pmf[x] /= total;
        return pmf;
    }

    private static double LogOrMinus(double v) => v > 0 ? Math.Log(v) : double.NegativeInfinity;

    // P(X ≥ x) for x = 0..n + 1 under NullLaw, cached per (n, m, k, ε, δ): the simulation tests call the gate thousands of times
    private static double[] UpperTails(int members, int nonMembers, double fpr, double epsilon, double delta)
    {
        if (Tails.Count > 4096) Tails.Clear(); // a bound on a long-running service's memory
        return Tails.GetOrAdd((members, nonMembers, FprCount(nonMembers, fpr), epsilon, delta), _ =>
        {
            var pmf = NullLaw(members, nonMembers, fpr, epsilon, delta);
            var tail = new double[members + 2];
            for (var x = members; x >= 0; x--) tail[x] = tail[x + 1] + pmf[x];
            return tail;
        });
    }

    /// <summary>
    /// The critical count c: the least c with P(X &gt; c) ≤ <paramref name="alpha"/> under <see cref="NullLaw"/>, so a
    /// check that fails when more than c members are above the threshold fails an attack on its null at most α of the time.
    /// </summary>
    public static int CriticalCount(int members, int nonMembers, double fpr, double alpha, double epsilon = 0, double delta = 0)
    {
        if (!(alpha is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be in (0, 1)");
        var tail = UpperTails(members, nonMembers, fpr, epsilon, delta);
        var c = 0;
        while (c < members && tail[c + 1] > alpha) c++;
        return c;
    }

    /// <summary>
    /// The chance bound on TPR@FPR0.1 at <paramref name="members"/> members and <paramref name="nonMembers"/> non-members:
    /// c/n with c the <see cref="CriticalCount"/> at <see cref="Alpha"/> of an attack no better than chance (the 97.5%
    /// quantile of beta-binomial(n, k + 1, m − k), k = <see cref="FprCount"/>(m, 0.1)).
    /// </summary>
    public static double ChanceBound(int members, int nonMembers) =>
        (double)CriticalCount(members, nonMembers, Fpr10, Alpha) / members;

    /// <summary>
    /// The DP-12 bound on TPR at <paramref name="fpr"/> for a model with <paramref name="dp"/>: c/n with c the
    /// <see cref="CriticalCount"/> at α = <see cref="Alpha"/>/2 of the strongest attack (ε, δ)-DP allows (its ROC on the
    /// trade-off curve, TPR = min(1, e^ε·FPR + δ, 1 − e^−ε·(1 − δ − FPR))). A TPR above it is one no (ε, δ)-DP model
    /// explains by the sampling of either set, so a model on the bound is not flagged for noise.
    /// </summary>
    public static double DpBound(DpGuarantee dp, double fpr, int members, int nonMembers)
    {
        ArgumentNullException.ThrowIfNull(dp);
        dp.Validated();
        return (double)CriticalCount(members, nonMembers, fpr, Alpha / 2, dp.Epsilon, dp.Delta) / members;
    }

    /// <summary>
    /// The gate for an attack with <paramref name="tprAtFpr10"/> and <paramref name="tprAtFpr01"/> on
    /// <paramref name="members"/> member and <paramref name="nonMembers"/> non-member targets; <paramref name="dp"/> adds
    /// the DP-12 check.
    /// </summary>
    public static MembershipGate Check(int members, int nonMembers, double tprAtFpr10, double tprAtFpr01, DpGuarantee? dp = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(members);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nonMembers);
        var inv = CultureInfo.InvariantCulture;
        var k10 = FprCount(nonMembers, Fpr10);
        var c = CriticalCount(members, nonMembers, Fpr10, Alpha);
        var bound = (double)c / members;
        // NaN (no ROC) fails: a gate that cannot be read is not a pass
        var withinChance = tprAtFpr10 <= bound;
        var count = tprAtFpr10 * members;
        var pValue = double.IsFinite(count) && Math.Abs(count - Math.Round(count)) < 1e-6 && count is >= 0 && count <= members
            ? UpperTails(members, nonMembers, Fpr10, 0, 0)[(int)Math.Round(count)]
            : double.NaN;
        var rule = string.Create(inv,
            $"tpr_at_fpr_10pct <= {c}/{members} = {bound:G4} (an attack no better than chance exceeds it with probability <= {Alpha:G4}: the count of n = {members} members above the ROC point's threshold, at most {k10} of m = {nonMembers} non-members above it, is beta-binomial(n, {k10 + 1}, {nonMembers - k10}), which counts the threshold's own sampling error)");
        if (dp is null) return new MembershipGate(members, bound, withinChance, null, null, null, null, withinChance, rule) { NonMembers = nonMembers, PValue = pValue };
        var dp10 = DpBound(dp, Fpr10, members, nonMembers);
        var dp01 = DpBound(dp, Fpr01, members, nonMembers);
        var withinDp = tprAtFpr10 <= dp10 && tprAtFpr01 <= dp01;
        rule += string.Create(inv,
            $"; DP-12 at epsilon = {dp.Epsilon:G4}, delta = {dp.Delta:G4}{(dp.Source is null ? "" : $" (from {dp.Source}, the scenario file's metadata, its csv_sha256 checked)")}: tpr_at_fpr_10pct <= {dp10:G4} and tpr_at_fpr_1pct <= {dp01:G4} (an attack on the (epsilon, delta) trade-off min(1, e^eps*FPR + delta, 1 - e^-eps*(1 - delta - FPR)) exceeds either with probability <= {Alpha:G4})");
        return new MembershipGate(members, bound, withinChance, dp, dp10, dp01, withinDp, withinChance && withinDp, rule) { NonMembers = nonMembers, PValue = pValue };
    }

    /// <summary>The FPR levels <see cref="EmpiricalEpsilon"/> sets its thresholds at (on the non-member scores).</summary>
    public static IReadOnlyList<double> AuditFprs { get; } = [0, 0.01, 0.05, 0.1, 0.25, 0.5];

    /// <summary>
    /// The empirical ε of a membership attack (DP-12): a lower confidence bound on the ε of any (ε, δ)-DP statement the
    /// model could carry, at level 1 − <paramref name="alpha"/> simultaneously over its thresholds, so that for a model
    /// that is (ε, δ)-DP it exceeds ε with probability at most α (and exceeds 0 at most α for an attack no better than
    /// chance). 0 when no threshold proves any leak.
    /// </summary>
    /// <remarks>
    /// One threshold per FPR level of <see cref="AuditFprs"/>: the (k + 1)-th highest non-member score, k =
    /// <see cref="FprCount"/>(m, level), with X the members strictly above it. The largest ε at which
    /// P(X ≥ x) ≤ α/L under <see cref="NullLaw"/> (L distinct thresholds, Bonferroni) is found by bisection (the tail grows
    /// with ε). The thresholds are set on the non-members at levels fixed in advance, the exact law counts the
    /// threshold's own error, and Bonferroni the choice among them: the earlier estimate, max over every member score of
    /// ln((TPR_lo − δ)/FPR_hi) with Wilson 95% ends, exceeded 0 for 5–15% of chance-level attacks (bench/privacy).
    /// </remarks>
    /// <param name="members">The attack's scores of the members (higher: more likely a member).</param>
    /// <param name="nonMembers">Its scores of the non-members.</param>
    /// <param name="delta">The δ of the statement the bound is on, in [0, 1).</param>
    /// <param name="alpha">The error rate, in (0, 1); <see cref="Alpha"/> by default.</param>
    public static EmpiricalEpsilonBound EmpiricalEpsilon(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers, double delta, double alpha = Alpha)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        if (members.Count == 0 || nonMembers.Count == 0) throw new ArgumentException("the attack needs member and non-member scores");
        if (!(alpha is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be in (0, 1)");
        new DpGuarantee(0, delta).Validated();
        if (members.Any(double.IsNaN) || nonMembers.Any(double.IsNaN)) throw new ArgumentException("a score is NaN");
        int n = members.Count, m = nonMembers.Count;
        var descending = nonMembers.OrderByDescending(v => v).ToArray();
        var levels = AuditFprs.GroupBy(f => FprCount(m, f)).Select(g => g.First()).ToArray();
        var perLevel = alpha / levels.Length;
        var best = new EmpiricalEpsilonBound(0, double.NaN, double.NaN, levels.Length);
        foreach (var fpr in levels)
        {
            var threshold = descending[FprCount(m, fpr)];
            var x = members.Count(v => v > threshold);
            // the bisection's points are dyadic (0, 1, 2, 4, …, their midpoints): the cached laws serve repeated audits
            double Tail(double epsilon) => UpperTails(n, m, fpr, epsilon, delta)[x];
            if (x == 0 || Tail(0) > perLevel) continue;
            double lo = 0, hi = 1;
            while (hi < 64 && Tail(hi) <= perLevel) (lo, hi) = (hi, hi * 2);
            while (hi - lo > 1e-3)
            {
                var mid = 0.5 * (lo + hi);
                if (Tail(mid) <= perLevel) lo = mid;
                else hi = mid;
            }

            if (lo > best.Epsilon || double.IsNaN(best.Tpr))
                best = new EmpiricalEpsilonBound(lo, (double)x / n, (double)nonMembers.Count(v => v > threshold) / m, levels.Length);
        }

        return best;
    }

    /// <summary>The privacy warning of a failed gate for the attack <paramref name="attack"/>, else null.</summary>
    public string? Warning(string attack, double tprAtFpr10, double tprAtFpr01)
    {
        if (Passed) return null;
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        if (!WithinChance) parts.Add(string.Create(inv, $"TPR {tprAtFpr10:G4} at FPR 0.1 is above the chance bound {Bound:G4}"));
        if (WithinDp == false && Dp is { } dp)
            parts.Add(string.Create(inv,
                $"TPR {tprAtFpr10:G4} / {tprAtFpr01:G4} at FPR 0.1 / 0.01 breaks the DP-12 bound {DpBoundFpr10:G4} / {DpBoundFpr01:G4} of the model's epsilon {dp.Epsilon:G4}, delta {dp.Delta:G4} (an implementation bug, or a statement that does not cover this release)"));
        return $"membership inference ({attack}) gate failed (PRIV-7): " + string.Join("; ", parts);
    }
}

/// <summary>The empirical ε of a membership attack (<see cref="MembershipGate.EmpiricalEpsilon"/>).</summary>
/// <param name="Epsilon">The lower confidence bound on ε (0: no threshold proves a leak).</param>
/// <param name="Tpr">The TPR at the threshold that proved it (NaN when none did).</param>
/// <param name="Fpr">The observed FPR at that threshold (NaN when none did).</param>
/// <param name="Thresholds">The thresholds tried (the Bonferroni divisor).</param>
public sealed record EmpiricalEpsilonBound(double Epsilon, double Tpr, double Fpr, int Thresholds);
