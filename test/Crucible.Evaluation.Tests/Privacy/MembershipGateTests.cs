using System.Text.Json;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The PRIV-7 gate of the membership attacks: the chance bound (the exact quantile of the count of members above the
/// non-member threshold), the DP-12 bound (the same for the strongest (ε, δ)-DP attack), their false-fail rates
/// simulated under their nulls, and their place in the report (gate object, privacy.warnings, gate_passed metric).
/// </summary>
public sealed class MembershipGateTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 9, ["a", "b", "c", "d"], 0.7, 0.7);

    private static SeriesSet Copies(SeriesSet train, int count, ulong seed, double jitter = 0.05) => CorrelatedPopulation.Copies(train, count, seed, jitter);

    // RELIABILITY PRIV-7: the null law is the beta-binomial of Gumbel and von Schelling (1950), checked against its closed
    // form C(x + k, k)·C(n − x + m − k − 1, m − k − 1)/C(n + m, m) (the negative-hypergeometric way of writing it)
    [Theory]
    [InlineData(100, 100)]
    [InlineData(462, 462)]
    [InlineData(300, 600)]
    [InlineData(500, 200)]
    [InlineData(40, 30)]
    public void NullLaw_AtChance_IsTheBetaBinomialOfTheExceedances(int n, int m)
    {
        foreach (var fpr in new[] { MembershipGate.Fpr10, MembershipGate.Fpr01 })
        {
            var k = MembershipGate.FprCount(m, fpr);
            Assert.True((double)k / m <= fpr && (k + 1.0) / m > fpr);
            var law = MembershipGate.NullLaw(n, m, fpr);
            Assert.Equal(n + 1, law.Length);
            for (var x = 0; x <= n; x++)
            {
                var exact = Math.Exp(LogChoose(x + k, k) + LogChoose(n - x + m - k - 1, m - k - 1) - LogChoose(n + m, m));
                Assert.True(Math.Abs(law[x] - exact) <= 1e-9, $"n {n}, m {m}, fpr {fpr}, x {x}: {law[x]} vs {exact}");
            }
        }
    }

    private static double LogChoose(int a, int b)
    {
        double s = 0;
        for (var i = 1; i <= b; i++) s += Math.Log(a - b + i) - Math.Log(i);
        return s;
    }

    // RELIABILITY PRIV-7: the chance bound is the 97.5% quantile of that law (values from scipy.stats.betabinom)
    [Fact]
    public void ChanceBound_IsTheExactQuantileOfTheCountAboveTheNonMemberThreshold()
    {
        // scipy: betabinom(100, 11, 90).sf(19) = 0.0367 > 0.025 ≥ sf(20) = 0.0247
        var gate = MembershipGate.Check(100, 100, 0.2, 0.02);
        Assert.Equal(0.2, gate.Bound, 15);
        Assert.True(gate.Passed);
        Assert.Equal(100, gate.NonMembers);
        Assert.Null(gate.Dp);
        Assert.Null(gate.WithinDp);
        Assert.False(MembershipGate.Check(100, 100, 0.21, 0.02).Passed); // one member more
        Assert.Contains("20/100", gate.Rule, StringComparison.Ordinal);
        Assert.Contains("beta-binomial(n, 11, 90)", gate.Rule, StringComparison.Ordinal);
        // P(X ≥ 20) = betabinom(100, 11, 90).sf(19)
        Assert.Equal(0.03671379486062132, gate.PValue, 8);
        // 462 and 462, the demo's DOMIAS: betabinom(462, 47, 416) sf(65) = 0.0275, sf(66) = 0.0221
        Assert.Equal(66.0 / 462, MembershipGate.ChanceBound(462, 462), 15);
        // 300 members against 600 non-members (the positive control's DOMIAS): sf(43) = 0.0267, sf(44) = 0.0194
        Assert.Equal(44.0 / 300, MembershipGate.ChanceBound(300, 600), 15);
        Assert.Equal(0.128, MembershipGate.ChanceBound(1000, 1000), 15);
        Assert.Equal(0.1195, MembershipGate.ChanceBound(2000, 2000), 15);
        // more targets, a tighter bound; fewer non-members, a looser one (the threshold's own error)
        Assert.True(MembershipGate.ChanceBound(1000, 1000) < MembershipGate.ChanceBound(100, 100));
        Assert.True(MembershipGate.ChanceBound(500, 200) > MembershipGate.ChanceBound(500, 500));
        Assert.False(MembershipGate.Check(100, 100, double.NaN, double.NaN).Passed); // an unreadable ROC is no pass
        Assert.True(double.IsNaN(MembershipGate.Check(100, 100, double.NaN, double.NaN).PValue));
    }

    // RELIABILITY PRIV-7, DP-12: the bound of the strongest (ε, δ)-DP attack, values from scipy (quad of the binomial tail
    // over the beta of the threshold's FPR)
    [Fact]
    public void DpBound_IsTheQuantileOfTheTradeOffBoundaryAttack_AndASmallEpsilonCatchesALeak()
    {
        var dp = new DpGuarantee(1, 1e-5);
        // n = m = 100: P(X > 53) = 0.01256 > 0.0125 ≥ P(X > 54) = 0.01014 at FPR 0.1; 0.01332 / 0.00992 at 18 / 19 at FPR 0.01
        Assert.Equal(0.54, MembershipGate.DpBound(dp, 0.1, 100, 100), 15);
        Assert.Equal(0.19, MembershipGate.DpBound(dp, 0.01, 100, 100), 15);
        Assert.Equal(175.0 / 462, MembershipGate.DpBound(dp, 0.1, 462, 462), 15);
        Assert.Equal(33.0 / 462, MembershipGate.DpBound(dp, 0.01, 462, 462), 15);

        // an attack within the chance bound at FPR 0.1 (0.12 ≤ 0.142 at n = m = 500) but with TPR 0.08 at FPR 0.01:
        // at ε = 0.01 the DP-12 bound at FPR 0.01 is 16/500 = 0.032, so the model's statement cannot hold
        var tight = MembershipGate.Check(500, 500, 0.12, 0.08, new DpGuarantee(0.01, 0));
        Assert.True(tight.WithinChance);
        Assert.Equal(0.032, tight.DpBoundFpr01!.Value, 15);
        Assert.Equal(0.15, tight.DpBoundFpr10!.Value, 15);
        Assert.False(tight.WithinDp);
        Assert.False(tight.Passed);
        Assert.Contains("DP-12", tight.Warning("domias-kde", 0.12, 0.08), StringComparison.Ordinal);
        // at ε = 3 the same attack is within the bound (256/500 at FPR 0.01): the statement explains it
        var loose = MembershipGate.Check(500, 500, 0.12, 0.08, new DpGuarantee(3, 0));
        Assert.Equal(0.512, loose.DpBoundFpr01!.Value, 15);
        Assert.Equal(0.974, loose.DpBoundFpr10!.Value, 15); // the trade-off's second piece, 1 − e^−3·0.9 = 0.955, not 1
        Assert.True(loose.WithinDp);
        Assert.True(loose.Passed);
        Assert.Null(loose.Warning("domias-kde", 0.12, 0.08));
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.DpBound(new DpGuarantee(-1, 0), 0.1, 100, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.DpBound(new DpGuarantee(1, 1), 0.1, 100, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.Check(100, 0, 0.1, 0.01));
    }

    // the scores of an attack no better than chance (one distribution for members and non-members), continuous or with
    // ties (20 levels), and of the strongest attack (ε, 0)-DP allows: non-members U(0, 1), members with likelihood ratio
    // e^ε above 1 − a and e^−ε below, a = 1/(1 + e^ε), so its ROC is the trade-off min(e^ε·FPR, 1 − e^−ε·(1 − FPR))
    private static (double[] Members, double[] NonMembers) NullScores(Philox rng, int n, int m, double? boundaryEpsilon, bool ties)
    {
        var members = new double[n];
        var nonMembers = new double[m];
        for (var i = 0; i < m; i++) nonMembers[i] = ties ? rng.NextInt(20) : rng.NextDouble();
        if (boundaryEpsilon is not { } eps)
        {
            for (var i = 0; i < n; i++) members[i] = ties ? rng.NextInt(20) : rng.NextDouble();
            return (members, nonMembers);
        }

        var a = 1 / (1 + Math.Exp(eps));
        for (var i = 0; i < n; i++)
            members[i] = rng.NextDouble() < Math.Exp(eps) * a ? 1 - a + (a * rng.NextDouble()) : (1 - a) * rng.NextDouble();
        return (members, nonMembers);
    }

    // RELIABILITY PRIV-7: simulated with the product's ROC (MembershipInference.Roc) and gate, an attack no better than
    // chance fails at most 2.5% of the time at the member/non-member counts the product uses (the demo's 462/462, the
    // shadow attack's cap 500, n = 100 and 2,000), with ties only less; the Wilson half-width at n alone failed 7–18%
    [Theory]
    [InlineData(100, 100, false)]
    [InlineData(462, 462, false)]
    [InlineData(300, 500, false)]
    [InlineData(2000, 2000, false)]
    [InlineData(462, 462, true)]
    public void ChanceGate_UnderTheNull_FailsAtMostAlpha(int n, int m, bool ties)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reps = n * m > 1_000_000 ? 1000 : 4000;
        var rng = new Philox(22, (ulong)n);
        var fails = 0;
        for (var r = 0; r < reps; r++)
        {
            var (members, nonMembers) = NullScores(rng, n, m, null, ties);
            var (_, tpr10, tpr01) = MembershipInference.Roc(members, nonMembers);
            if (!MembershipGate.Check(n, m, tpr10, tpr01).Passed) fails++;
        }

        var rate = (double)fails / reps;
        // the exact rate of continuous scores: P(X > c) under the law
        var c = MembershipGate.CriticalCount(n, m, MembershipGate.Fpr10, MembershipGate.Alpha);
        var exact = MembershipGate.NullLaw(n, m, MembershipGate.Fpr10).Skip(c + 1).Sum();
        var sd = Math.Sqrt(exact * (1 - exact) / reps);
        output.WriteLine($"n {n}, m {m}, ties {ties}: {fails}/{reps} = {rate:F4} false fails (exact for continuous scores {exact:F4} ± {sd:F4}; {clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(exact <= MembershipGate.Alpha);
        Assert.True(rate <= 0.05, $"false-fail rate {rate}");
        Assert.True(rate <= exact + (4 * sd), $"false-fail rate {rate} above the law's {exact}");
        if (!ties) Assert.True(rate >= exact - (4 * sd), $"false-fail rate {rate} below the law's {exact}: the law does not describe the ROC");
    }

    // DP-12: a model exactly on its (ε, 0) trade-off curve is a legal model; the DP-12 check fails it at most 2.5% of the
    // time (both operating points together); the e^ε·FPR + δ + Wilson h(n) rule failed it 22–60% of the time
    [Theory]
    [InlineData(462, 462, 1.0)]
    [InlineData(462, 462, 0.5)]
    [InlineData(100, 100, 3.0)]
    public void DpCheck_OnTheTradeOffBoundary_FailsAtMostAlpha(int n, int m, double epsilon)
    {
        const int reps = 3000;
        var rng = new Philox(23, (ulong)(n + (int)(epsilon * 10)));
        var dp = new DpGuarantee(epsilon, 0);
        var fails = 0;
        for (var r = 0; r < reps; r++)
        {
            var (members, nonMembers) = NullScores(rng, n, m, epsilon, ties: false);
            var (_, tpr10, tpr01) = MembershipInference.Roc(members, nonMembers);
            if (MembershipGate.Check(n, m, tpr10, tpr01, dp).WithinDp != true) fails++;
        }

        var rate = (double)fails / reps;
        output.WriteLine($"n {n}, m {m}, epsilon {epsilon}: {fails}/{reps} = {rate:F4} DP-12 false fails");
        Assert.True(rate <= 0.05, $"DP-12 false-fail rate {rate}");
        Assert.True(rate <= MembershipGate.Alpha + (4 * Math.Sqrt(MembershipGate.Alpha * (1 - MembershipGate.Alpha) / reps)), $"DP-12 false-fail rate {rate}");
    }

    // DP-12: the empirical ε is a 97.5% lower confidence bound: for a chance-level attack it exceeds 0, and for an attack on
    // the (1, 0) trade-off it exceeds 1, at most 2.5% of the time (the sequence audit's 41 members against 600
    // non-members, the demo's 462/462); the Wilson max over thresholds it replaces exceeded 0 for 5–15% of chance attacks
    [Theory]
    [InlineData(41, 600, null)]
    [InlineData(462, 462, null)]
    [InlineData(100, 100, 1.0)]
    public void EmpiricalEpsilon_OnItsNull_ExceedsTheTrueEpsilonAtMostAlpha(int n, int m, double? epsilon)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reps = epsilon is null ? 2000 : 1000;
        var rng = new Philox(24, (ulong)n);
        var above = 0;
        double largest = 0;
        for (var r = 0; r < reps; r++)
        {
            var (members, nonMembers) = NullScores(rng, n, m, epsilon, ties: r % 2 == 0 && epsilon is null);
            var bound = MembershipGate.EmpiricalEpsilon(members, nonMembers, epsilon is null ? 1e-3 : 0);
            largest = Math.Max(largest, bound.Epsilon);
            if (bound.Epsilon > (epsilon ?? 0)) above++;
        }

        var rate = (double)above / reps;
        output.WriteLine($"n {n}, m {m}, true epsilon {epsilon ?? 0}: empirical epsilon above it in {above}/{reps} = {rate:F4} (largest {largest:F3}; {clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(rate <= 0.05, $"rate {rate}");
        Assert.True(rate <= MembershipGate.Alpha + (4 * Math.Sqrt(MembershipGate.Alpha * (1 - MembershipGate.Alpha) / reps)), $"rate {rate}");
    }

    // DP-12: a clear leak is proved; the bound is monotone in the evidence and 0 without any
    [Fact]
    public void EmpiricalEpsilon_ProvesALeak_AndIsZeroWithoutEvidence()
    {
        // 41 members of which 30 score above every one of 600 non-members (the overfit sequence model's pattern):
        // P(X ≥ 30) at the top threshold is ≤ 0.025/6 only for e^ε·F with F ~ Beta(1, 600) far above chance
        var nonMembers = Enumerable.Range(0, 600).Select(i => i / 600.0).ToArray();
        var members = Enumerable.Range(0, 41).Select(i => i < 30 ? 2.0 + i : i / 41.0).ToArray();
        var leak = MembershipGate.EmpiricalEpsilon(members, nonMembers, 1e-3);
        output.WriteLine($"leak: epsilon >= {leak.Epsilon:F3} (TPR {leak.Tpr:F3} at FPR {leak.Fpr:F4}, {leak.Thresholds} thresholds)");
        Assert.True(leak.Epsilon > 3, $"{leak.Epsilon}");
        Assert.Equal(30.0 / 41, leak.Tpr, 12);
        Assert.Equal(0, leak.Fpr);
        Assert.Equal(6, leak.Thresholds);
        // at that ε the top threshold's tail is at most α/6, just above it more
        var tail = MembershipGate.NullLaw(41, 600, 0, leak.Epsilon, 1e-3).Skip(30).Sum();
        var above = MembershipGate.NullLaw(41, 600, 0, leak.Epsilon + 0.002, 1e-3).Skip(30).Sum();
        Assert.True(tail <= MembershipGate.Alpha / 6 && above > MembershipGate.Alpha / 6, $"{tail} {above}");
        // fewer members above: a smaller bound; the same scores for both sets: no evidence at all
        var weaker = MembershipGate.EmpiricalEpsilon([.. members.Select((v, i) => i < 15 ? v : i / 41.0)], nonMembers, 1e-3);
        Assert.True(weaker.Epsilon < leak.Epsilon);
        var none = MembershipGate.EmpiricalEpsilon(nonMembers, nonMembers, 1e-3);
        Assert.Equal(0, none.Epsilon);
        Assert.True(double.IsNaN(none.Tpr));
        Assert.Throws<ArgumentException>(() => MembershipGate.EmpiricalEpsilon([], nonMembers, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.EmpiricalEpsilon(members, nonMembers, 1));
    }

    // RELIABILITY PRIV-7: the positive control fails the gate (a privacy warning, gate_passed 0), a fresh sample passes
    [Fact]
    public void Evaluate_MemorisingGeneratorFailsTheGate_FreshSamplePasses()
    {
        var train = Population(300, 1);
        var holdout = Population(1200, 2);
        ShadowGenerator memorise = (set, seed, count) => Copies(set, count, seed);
        var options = new EvaluationOptions { Utility = false, ShadowGenerator = memorise, ShadowModels = 2, Seed = 3 };
        var leaky = Evaluator.Evaluate(new EvaluationInput(holdout, Copies(train, 1500, 77), train), options);
        var (mia, sh) = (leaky.Privacy!.Membership!, leaky.Privacy.Shadow!);
        output.WriteLine($"memorising: DOMIAS TPR@0.1 {mia.TprAtFpr10:F3} (bound {mia.Gate!.Bound:F4}), shadow TPR@0.1 {sh.TprAtFpr10:F3} (bound {sh.Gate!.Bound:F4})");
        Assert.False(mia.Gate.Passed);
        Assert.False(sh.Gate.Passed);
        Assert.Equal(300, mia.Gate.Members);
        Assert.Equal(600, mia.Gate.NonMembers);
        Assert.Equal(44.0 / 300, mia.Gate.Bound, 15);
        Assert.True(mia.Gate.PValue < 1e-6);
        var warnings = leaky.Privacy.Audit!.Warnings;
        Assert.Contains(warnings, w => w.StartsWith("membership inference (domias-kde) gate failed (PRIV-7)", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("membership inference (shadow-knn-logistic) gate failed (PRIV-7)", StringComparison.Ordinal));
        var metrics = leaky.ScalarMetrics().ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal(0, metrics["privacy.membership_inference.gate_passed"]);
        Assert.Equal(0, metrics["privacy.shadow_membership_inference.gate_passed"]);
        Assert.Equal(warnings.Count, metrics["privacy.warning_count"]);
        // declared as a threshold, the gate is what --fail-on-threshold reads
        var declared = ThresholdCheck.Parse(
            """{"privacy.membership_inference.gate_passed": {"min": 1}, "privacy.shadow_membership_inference.gate_passed": {"min": 1}}""");
        Assert.All(ThresholdCheck.Evaluate(leaky, declared), v => Assert.False(v.Passed));
        using (var doc = JsonDocument.Parse(ReportJson.ToJson(leaky)))
        {
            var gate = doc.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate");
            Assert.False(gate.GetProperty("passed").GetBoolean());
            Assert.Equal(mia.Gate.Bound, gate.GetProperty("bound").GetDouble());
            Assert.Equal(mia.Gate.Rule, gate.GetProperty("rule").GetString());
            Assert.Equal(600, gate.GetProperty("non_members").GetInt32());
            Assert.Equal(MembershipGate.Alpha, gate.GetProperty("alpha").GetDouble());
            Assert.Equal(mia.Gate.PValue, gate.GetProperty("p_value").GetDouble());
            Assert.False(gate.TryGetProperty("epsilon", out _)); // no DP statement given
            Assert.False(doc.RootElement.GetProperty("privacy").GetProperty("shadow_membership_inference").GetProperty("gate").GetProperty("passed").GetBoolean());
        }

        var html = ReportHtml.ToHtml(leaky);
        Assert.Contains("Gate (PRIV-7): tpr_at_fpr_10pct &lt;= ", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"fail\">failed</span>", html, StringComparison.Ordinal);

        // a generator that ignores its data: both gates pass, no membership warning
        ulong calls = 100;
        ShadowGenerator fresh = (_, _, count) => Population(count, calls++);
        var safe = Evaluator.Evaluate(new EvaluationInput(holdout, Population(1500, 99), train), options with { ShadowGenerator = fresh });
        var (smia, ssh) = (safe.Privacy!.Membership!, safe.Privacy.Shadow!);
        output.WriteLine($"fresh: DOMIAS TPR@0.1 {smia.TprAtFpr10:F3} (bound {smia.Gate!.Bound:F4}), shadow TPR@0.1 {ssh.TprAtFpr10:F3} (bound {ssh.Gate!.Bound:F4})");
        Assert.True(smia.Gate.Passed);
        Assert.True(ssh.Gate.Passed);
        Assert.DoesNotContain(safe.Privacy.Audit!.Warnings, w => w.Contains("PRIV-7", StringComparison.Ordinal));
        Assert.Equal(1, safe.ScalarMetrics().Single(k => k.Key == "privacy.membership_inference.gate_passed").Value);
        Assert.True(ThresholdCheck.AllPassed(ThresholdCheck.Evaluate(safe, declared)));
    }

    // RELIABILITY PRIV-7, DP-12: the model's ε reaches the gate; a leak its ε cannot explain is a finding
    [Fact]
    public void Evaluate_WithTheModelsEpsilon_ReportsTheDpBound_AndASmallEpsilonIsBreachedByALeak()
    {
        var train = Population(300, 1);
        var holdout = Population(1200, 2);
        var options = new EvaluationOptions { Utility = false, Seed = 3, Dp = new DpGuarantee(0.01, 1e-5) };
        var leaky = Evaluator.Evaluate(new EvaluationInput(holdout, Copies(train, 1500, 77), train), options);
        var gate = leaky.Privacy!.Membership!.Gate!;
        Assert.Equal(0.01, gate.Dp!.Epsilon);
        Assert.False(gate.WithinDp);
        Assert.Contains(leaky.Privacy.Audit!.Warnings, w => w.Contains("DP-12 bound", StringComparison.Ordinal));
        using (var doc = JsonDocument.Parse(ReportJson.ToJson(leaky)))
        {
            var g = doc.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate");
            Assert.Equal(0.01, g.GetProperty("epsilon").GetDouble());
            Assert.Equal(1e-5, g.GetProperty("delta").GetDouble());
            Assert.Equal(gate.DpBoundFpr10!.Value, g.GetProperty("dp_bound_fpr_10pct").GetDouble());
            Assert.Equal(gate.DpBoundFpr01!.Value, g.GetProperty("dp_bound_fpr_1pct").GetDouble());
            Assert.False(g.GetProperty("within_dp").GetBoolean());
        }

        var safe = Evaluator.Evaluate(new EvaluationInput(holdout, Population(1500, 99), train), options with { Dp = new DpGuarantee(1, 1e-5) });
        Assert.True(safe.Privacy!.Membership!.Gate!.WithinDp);
        Assert.True(safe.Privacy.Membership.Gate.Passed);
        Assert.Throws<Crucible.Data.InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(holdout, Population(1500, 99), train), options with { Dp = new DpGuarantee(double.NaN, 0) }));
    }
}
