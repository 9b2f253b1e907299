using System.Text.Json;
using Crucible.Evaluation;
using Crucible.Evaluation.Risk;
using Crucible.Evaluation.Statistics;
using Crucible.Stress.Ensembles;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reverse;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Tests.References;

/// <summary>
/// The stress layer against independent numpy/scipy computations (TestData/s14_ref.py writes s14_ref.json; its
/// docstring states every formula): a levered long/short book, Kupiec's test at 0 and all exceedances, Wasserstein-1
/// on unequal samples, an ensemble's disagreement, and reverse stress on Gaussian candidates with a closed form.
/// </summary>
public sealed class IndependentReferenceTests
{
    private static readonly Lazy<JsonElement> Reference = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(TestPaths.Data("s14_ref.json"))).RootElement);

    private static double[] Doubles(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];

    private static double[][] Rows(JsonElement e) => [.. e.EnumerateArray().Select(Doubles)];

    private static SeriesSet Scenarios(double[][] rows, int steps, string[] names)
    {
        var columns = new double[names.Length][];
        for (var i = 0; i < names.Length; i++) columns[i] = [.. rows.Select(r => r[i])];
        return new SeriesSet(names, columns, [.. Enumerable.Range(0, rows.Length).Select(t => (t / steps) + 1)]);
    }

    private static (SeriesSet Set, Portfolio Book, JsonElement Ref) Levered()
    {
        var lev = Reference.Value.GetProperty("levered");
        var names = lev.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var w = Doubles(lev.GetProperty("weights"));
        var set = Scenarios(Rows(lev.GetProperty("returns")), lev.GetProperty("steps").GetInt32(), names);
        var book = new Portfolio("levered", [.. names.Select((n, i) => new Holding(n, w[i]))], lev.GetProperty("leverage").GetDouble(),
            lev.GetProperty("capital").GetDouble());
        return (set, book, lev);
    }

    private static void Close(double expected, double actual, double relative, string what) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Max(1e-300, Math.Abs(expected)) + 1e-15,
            $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void LeveredLongShortBook_MatchesNumpy_VaREsCdarMoneyAndEulerParts()
    {
        var (set, book, lev) = Levered();
        var levels = lev.GetProperty("levels").EnumerateArray().ToArray();
        var alphas = levels.Select(l => l.GetProperty("alpha").GetDouble()).ToArray();
        var result = StressAnalysis.Run(set, book, alphas);
        var horizon = Doubles(lev.GetProperty("horizon"));
        var mdd = Doubles(lev.GetProperty("max_drawdowns"));
        for (var s = 0; s < horizon.Length; s++)
        {
            Close(horizon[s], result.HorizonReturns[s], 1e-12, $"horizon {s}");
            Close(mdd[s], result.MaxDrawdowns[s], 1e-12, $"mdd {s}");
        }

        for (var j = 0; j < levels.Length; j++)
        {
            var e = levels[j];
            var got = result.Levels[j];
            Assert.Equal(e.GetProperty("k").GetInt32(), got.TailCount);
            Close(e.GetProperty("var").GetDouble(), got.ValueAtRisk, 1e-12, "VaR");
            Close(e.GetProperty("es").GetDouble(), got.ExpectedShortfall, 1e-12, "ES");
            Close(e.GetProperty("cdar").GetDouble(), got.ConditionalDrawdown, 1e-12, "CDaR");
            Close(e.GetProperty("var_amount").GetDouble(), got.ValueAtRiskAmount!.Value, 1e-12, "VaR amount");
            Close(e.GetProperty("es_amount").GetDouble(), got.ExpectedShortfallAmount!.Value, 1e-12, "ES amount");
            var contributions = Doubles(e.GetProperty("contributions"));
            for (var i = 0; i < contributions.Length; i++) Close(contributions[i], got.SeriesContributions[i], 1e-10, $"contribution {i}");
            Close(got.ExpectedShortfall, got.SeriesContributions.Sum(), 1e-12, "Σ contributions = ES");
        }
    }

    [Theory]
    [InlineData(1.0)]  // the levered long/short book as declared (Σ w = 1.5)
    [InlineData(0.5)]  // half of it: Σ w = 0.75, the other 25 % in cash
    public void EvaluatorPortfolioRisk_OfALeveredOrPartlyCashBook_AgreesWithTheStressTest(double scale)
    {
        // crucible compare hands a portfolio's weights to the evaluator: its portfolio VaR/ES/CDaR must be the stress
        // test's (cash 1 − Σ w earns nothing), not log Σ w e^r, which books ln Σ w as a P&L on a day nothing moves
        var (set, book, lev) = Levered();
        var weights = book.WeightsFor(set.Names).Select(w => w * scale).ToArray();
        var scaled = new Portfolio("scaled", [.. set.Names.Select((n, i) => new Holding(n, weights[i]))], weights.Sum());
        var stress = StressAnalysis.Run(set, scaled, [0.95]).Levels[0];
        var report = Evaluator.Evaluate(new EvaluationInput(set, set),
            new EvaluationOptions { Alpha = 0.95, PortfolioWeights = weights, Utility = false, MembershipInference = false });
        Close(stress.ValueAtRisk, report.Portfolio.Var.Synthetic, 1e-12, "VaR");
        Close(stress.ExpectedShortfall, report.Portfolio.Es.Synthetic, 1e-12, "ES");
        Close(stress.ConditionalDrawdown, report.Portfolio.Cdar.Synthetic, 1e-12, "CDaR");
        if (scale == 1.0) Close(lev.GetProperty("levels")[1].GetProperty("var").GetDouble(), report.Portfolio.Var.Real, 1e-12, "VaR vs numpy");
    }

    [Fact]
    public void VarEsAndPathCdar_OnTinyTiedSamples_MatchNumpy_WithTheExactDecimalTailCount()
    {
        var differsFromNumpy = 0;
        foreach (var c in Reference.Value.GetProperty("small").EnumerateArray())
        {
            var r = Doubles(c.GetProperty("returns"));
            var alpha = c.GetProperty("alpha").GetDouble();
            var what = $"n={r.Length} α={alpha}";
            Assert.Equal(c.GetProperty("k").GetInt32(), RiskMeasures.TailCount(r.Length, alpha));
            var (var, es) = RiskMeasures.ValueAtRiskAndExpectedShortfall(r, alpha);
            Close(c.GetProperty("var").GetDouble(), var, 1e-15, "VaR " + what);
            Close(c.GetProperty("es").GetDouble(), es, 1e-14, "ES " + what);
            Close(c.GetProperty("cdar").GetDouble(), RiskMeasures.ConditionalDrawdownAtRisk(r, alpha), 1e-12, "CDaR " + what);
            if (c.GetProperty("numpy_var").GetDouble() != var) differsFromNumpy++;
        }

        // numpy's float n·(1 − α) (100 × 0.05 = 5.000000000000004) takes one observation less in the tail (documented)
        Assert.Equal(1, differsFromNumpy);
    }

    [Fact]
    public void Kupiec_MatchesScipyChi2_FromNoToAllExceedances()
    {
        foreach (var c in Reference.Value.GetProperty("kupiec").EnumerateArray())
        {
            var t = c.GetProperty("t").GetInt32();
            var x = c.GetProperty("x").GetInt32();
            var alpha = c.GetProperty("alpha").GetDouble();
            var lr = VarBacktest.KupiecStatistic(x, t, alpha);
            Close(c.GetProperty("lr").GetDouble(), lr, 1e-9, $"LR T={t} x={x} α={alpha}");
            var p = c.GetProperty("p").GetDouble();
            Close(p, VarBacktest.ChiSquareOneSurvival(lr), p < 1e-250 ? 1e-6 : 1e-8, $"p T={t} x={x} α={alpha}");

            // the same through Run, with x losses strictly above a VaR of 0.05 and the rest at exactly the VaR (not exceptions)
            var returns = Enumerable.Range(0, t).Select(i => i < x ? -0.06 : -0.05).ToArray();
            var run = VarBacktest.Run(returns, 0.05, alpha);
            Assert.Equal(x, run.Exceptions);
            Assert.Equal(lr, run.KupiecStatistic);
        }
    }

    [Fact]
    public void Christoffersen_MatchesScipy_OnIidClusteredEmptyFullAndEdgeSequences()
    {
        foreach (var c in Reference.Value.GetProperty("christoffersen").EnumerateArray())
        {
            var e = c.GetProperty("exceptions").EnumerateArray().Select(v => v.GetInt32() == 1).ToArray();
            var alpha = c.GetProperty("alpha").GetDouble();
            var result = VarBacktest.Christoffersen(e, alpha);
            var n = c.GetProperty("n").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            Assert.Equal((n[0], n[1], n[2], n[3]), result.Transitions);
            var what = $"T={e.Length} x={e.Count(b => b)}";
            Close(c.GetProperty("ind").GetDouble(), result.IndependenceStatistic, 1e-10, "LR_ind " + what);
            Close(c.GetProperty("p_ind").GetDouble(), result.IndependencePValue, 1e-9, "p_ind " + what);
            Close(c.GetProperty("cc").GetDouble(), result.ConditionalCoverageStatistic, 1e-10, "LR_cc " + what);
            Close(c.GetProperty("p_cc").GetDouble(), result.ConditionalCoveragePValue, 1e-9, "p_cc " + what);
        }

        Assert.True(double.IsNaN(VarBacktest.Christoffersen([true], 0.99).IndependenceStatistic));
    }

    [Fact]
    public void Wasserstein1_OfUnequalSamples_MatchesScipy()
    {
        var c = Reference.Value.GetProperty("wasserstein");
        Close(c.GetProperty("w1").GetDouble(), Distances.Wasserstein1(Doubles(c.GetProperty("a")), Doubles(c.GetProperty("b"))), 1e-12, "W1");
    }

    [Fact]
    public void Ensemble_SpreadDistancesAndFlag_MatchAHandComputation()
    {
        var (set, book, lev) = Levered();
        var e = Reference.Value.GetProperty("ensemble");
        var steps = lev.GetProperty("steps").GetInt32();
        var sets = new List<SeriesSet> { set };
        sets.AddRange(e.GetProperty("members").EnumerateArray().Select(m => Scenarios(Rows(m), steps, set.Names)));
        var members = sets.Select((s, i) => new EnsembleMember("m" + i, StressAnalysis.Run(s, book, [0.95]))).ToList();
        var result = Ensemble.Measure(members, 0.95, new EnsembleThresholds());
        var es = Doubles(e.GetProperty("es"));
        for (var i = 0; i < es.Length; i++) Close(es[i], members[i].Stress.Levels[0].ExpectedShortfall, 1e-12, $"ES {i}");
        Close(e.GetProperty("es_spread").GetDouble(), result.EsSpread, 1e-12, "ES spread");
        var w = Rows(e.GetProperty("wasserstein"));
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++) Close(w[i][j], result.Wasserstein[i][j], 1e-10, $"W[{i},{j}]");
        }

        var maxW = e.GetProperty("max_wasserstein").GetDouble();
        Close(maxW, result.MaxWasserstein, 1e-10, "max W");
        Assert.Equal(e.GetProperty("es_spread").GetDouble() > 0.35 || maxW > 0.25, result.Flagged);
        Assert.True(result.Flagged);
        Assert.Contains(result.Reasons, r => r.Contains("m1", StringComparison.Ordinal)); // the scaled member is the outlier
    }

    [Fact]
    public void ObjectiveGuidance_WithTheCovarianceMetric_OnThePortfolioLoss_LandsOnTheMostLikelyBreachingPoint()
    {
        // from x = 0, iterated minimum-Mahalanobis projections onto the exact loss surface ln-loss = ℓ (margin 0)
        var r = Reference.Value.GetProperty("reverse");
        var cov = Rows(r.GetProperty("cov"));
        var w = Doubles(r.GetProperty("weights"));
        var ell = -Math.Log(1 - r.GetProperty("threshold").GetDouble());
        var guidance = new ObjectiveGuidance(new PortfolioLossObjective(w), 3, 1, 1, ell, [0, 0, 0], [1, 1, 1], [.. cov.SelectMany(c => c)],
            new ObjectiveGuidanceOptions(Iterations: 50, Margin: 0));
        var x = new double[3];
        Assert.True(guidance.Ascend(x, 1.0));
        Close(ell, guidance.ObjectiveAt(x), 1e-10, "on the threshold");
        // the steps project from where they are, not from 0, so they stop on the surface near (not at) the exact most
        // likely point (SLSQP): measured 0.007 σ away, with a log density within 0.1 % of the maximum
        var exact = Doubles(r.GetProperty("exact_map"));
        for (var i = 0; i < 3; i++) Assert.True(Math.Abs(exact[i] - x[i]) < 0.01 * Math.Sqrt(cov[i][i]), $"most likely breaching point {i}: {x[i]} vs {exact[i]}");
        var score = new GaussianPlausibility(cov);
        var (guided, best) = (score.Score(new ScenarioWindows(["X", "Y", "Z"], 1, 1, x))[0], r.GetProperty("exact_map_score").GetDouble());
        Assert.True(guided <= best + 1e-9 && guided >= best - (1e-3 * Math.Abs(best)), $"log density {guided} vs the most likely {best}");
    }

    /// <summary>The log density of N(0, Σ) as the plausibility score (Σ from the fixture), for one-step windows.</summary>
    private sealed class GaussianPlausibility(double[][] cov) : IPlausibilityScore
    {
        public string Method => "gaussian";

        public double[] Score(ScenarioWindows windows)
        {
            var d = cov.Length;
            var l = new double[d, d];
            for (var i = 0; i < d; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    var s = cov[i][j];
                    for (var k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                    l[i, j] = i == j ? Math.Sqrt(s) : s / l[j, j];
                }
            }

            var logDet = 0.0;
            for (var i = 0; i < d; i++) logDet += 2 * Math.Log(l[i, i]);
            var scores = new double[windows.Count];
            var z = new double[d];
            for (var c = 0; c < windows.Count; c++)
            {
                double q = 0;
                for (var i = 0; i < d; i++)
                {
                    var s = windows[c, 0, i];
                    for (var k = 0; k < i; k++) s -= l[i, k] * z[k];
                    z[i] = s / l[i, i];
                    q += z[i] * z[i];
                }

                scores[c] = -0.5 * (q + logDet + (d * Math.Log(2 * Math.PI)));
            }

            return scores;
        }
    }

    [Fact]
    public void ReverseStress_OnGaussianCandidates_MatchesBruteForce_AndApproachesTheClosedForm()
    {
        var r = Reference.Value.GetProperty("reverse");
        var cov = Rows(r.GetProperty("cov"));
        var w = Doubles(r.GetProperty("weights"));
        var candidates = Rows(r.GetProperty("candidates"));
        string[] names = ["X", "Y", "Z"];
        var windows = new ScenarioWindows(names, candidates.Length, 1, [.. candidates.SelectMany(c => c)]);
        var book = new Portfolio("g", [.. names.Select((n, i) => new Holding(n, w[i]))]);
        var request = new ReverseStressRequest { Portfolio = book, LossThreshold = r.GetProperty("threshold").GetDouble(), Horizon = 1, Top = 5 };
        var result = ReverseStress.Evaluate(windows, request, new GaussianPlausibility(cov), "fixture", "rejection");
        Assert.Equal(r.GetProperty("breaching").GetInt32(), result.Breaching);
        var top = r.GetProperty("top").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(top, result.Top.Select(b => b.Index).ToArray());
        var loss = Doubles(r.GetProperty("top_loss"));
        var score = Doubles(r.GetProperty("top_score"));
        for (var j = 0; j < top.Length; j++)
        {
            Close(loss[j], result.Top[j].Loss, 1e-12, "loss");
            Close(score[j], result.Top[j].Plausibility, 1e-10, "score");
            Assert.True(result.Top[j].Loss >= request.LossThreshold);
            Close(-Math.Log(1 - result.Top[j].Loss), result.Top[j].AttributionLog.Sum(), 1e-12, "Σ attribution_log = log loss");
            Close(result.Top[j].Loss, result.Top[j].Attribution.Sum(), 1e-12, "Σ attribution = loss");
        }

        // no breaching point is more plausible than the exact most likely breaching point (SLSQP, close to the linear
        // closed form −ℓ Σw / (wᵀΣw)), and with 3000 candidates around it the most plausible breach lies within 0.2 σ
        Assert.True(result.Top[0].Plausibility <= r.GetProperty("exact_map_score").GetDouble() + 1e-12);
        var exact = Doubles(r.GetProperty("exact_map"));
        var linear = Doubles(r.GetProperty("linear_map"));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(Math.Abs(exact[i] - linear[i]) < 0.05 * Math.Abs(exact[i]), $"closed form {i}");
            Assert.True(Math.Abs(result.Top[0].SeriesReturns[i] - exact[i]) < 0.2 * Math.Sqrt(cov[i][i]),
                $"top scenario {i}: {result.Top[0].SeriesReturns[i]} vs {exact[i]}");
        }
    }
}
