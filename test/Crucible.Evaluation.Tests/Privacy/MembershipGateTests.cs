using System.Text.Json;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The PRIV-7 gate of the membership attacks: the chance bound 0.1 + Wilson half-width, the DP-12 bound e^ε·FPR + δ
/// (plus the same half-width), and their place in the report (gate object, privacy.warnings, gate_passed metric).
/// </summary>
public sealed class MembershipGateTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 9, ["a", "b", "c", "d"], 0.7, 0.7);

    private static SeriesSet Copies(SeriesSet train, int count, ulong seed, double jitter = 0.05) => CorrelatedPopulation.Copies(train, count, seed, jitter);

    // RELIABILITY PRIV-7
    [Fact]
    public void ChanceBound_IsPointOnePlusTheWilsonHalfWidth_AtTheMemberCount()
    {
        // by hand, z = 1.959964, z² = 3.841459, n = 100, p = 0.1:
        // z/(n + z²)·√(n·p(1 − p) + z²/4) = 1.959964/103.841459·√(9 + 0.960365) = 0.0188746·3.155996 = 0.0595683
        Assert.Equal(0.05956826222211919, MembershipGate.HalfWidth(100, 0.1), 12);
        var gate = MembershipGate.Check(100, 0.159, 0.02);
        Assert.Equal(0.1595682622221192, gate.Bound, 12);
        Assert.True(gate.Passed);
        Assert.Null(gate.Dp);
        Assert.Null(gate.WithinDp);
        Assert.False(MembershipGate.Check(100, 0.16, 0.02).Passed); // just above 0.15957
        Assert.Contains("n = 100", gate.Rule, StringComparison.Ordinal);
        // the half-width is the project's Wilson interval's: at a whole count it equals SuccessRate.Wilson's
        Assert.Equal(SuccessRate.Wilson(500, 50).Error, MembershipGate.HalfWidth(500, 0.1), 15);
        // more targets, a tighter bound
        Assert.True(MembershipGate.Check(1000, 0, 0).Bound < MembershipGate.Check(100, 0, 0).Bound);
        Assert.False(MembershipGate.Check(100, double.NaN, double.NaN).Passed); // an unreadable ROC is no pass
    }

    // RELIABILITY PRIV-7, DP-12
    [Fact]
    public void DpBound_IsEToTheEpsilonTimesFprPlusDelta_PlusTheHalfWidth_AndASmallEpsilonCatchesALeak()
    {
        // ε = 1, δ = 1e-5, FPR 0.1: b = e·0.1 + 1e-5 = 0.2718382; h(100, b) = 1.959964/103.841459·√(100·b(1 − b) + 0.960365) = 0.0859873
        var dp = new DpGuarantee(1, 1e-5);
        Assert.Equal(0.3578254841000857, MembershipGate.DpBound(dp, 0.1, 100), 12);
        // FPR 0.01: b = 0.0271928, + h(100, b) = 0.0630332
        Assert.Equal(0.06303316492715927, MembershipGate.DpBound(dp, 0.01, 100), 12);

        // an attack within the chance bound at FPR 0.1 (0.12 ≤ 0.1275 at n = 500) but with TPR 0.08 at FPR 0.01:
        // at ε = 0.01 the DP-12 bound at FPR 0.01 is 0.0101 + h = 0.0196, so the model's statement cannot hold
        var tight = MembershipGate.Check(500, 0.12, 0.08, new DpGuarantee(0.01, 0));
        Assert.True(tight.WithinChance);
        Assert.Equal(0.019596987957790604, tight.DpBoundFpr01!.Value, 12);
        Assert.False(tight.WithinDp);
        Assert.False(tight.Passed);
        Assert.Contains("DP-12", tight.Warning("domias-kde", 0.12, 0.08), StringComparison.Ordinal);
        // at ε = 3 the same attack is within e³·0.01 = 0.2: the statement explains it
        var loose = MembershipGate.Check(500, 0.12, 0.08, new DpGuarantee(3, 0));
        Assert.True(loose.WithinDp);
        Assert.True(loose.Passed);
        Assert.Null(loose.Warning("domias-kde", 0.12, 0.08));
        // e^ε·FPR + δ past 1 is clamped to 1 (no TPR breaks it)
        Assert.True(MembershipGate.DpBound(new DpGuarantee(3, 0), 0.1, 500) >= 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.DpBound(new DpGuarantee(-1, 0), 0.1, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => MembershipGate.DpBound(new DpGuarantee(1, 1), 0.1, 100));
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
            Assert.False(gate.TryGetProperty("epsilon", out _)); // no DP statement given
            Assert.False(doc.RootElement.GetProperty("privacy").GetProperty("shadow_membership_inference").GetProperty("gate").GetProperty("passed").GetBoolean());
        }

        var html = ReportHtml.ToHtml(leaky);
        Assert.Contains("Gate (PRIV-7): tpr_at_fpr_10pct &lt;= 0.1 + ", html, StringComparison.Ordinal);
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
