using System.Text.Json;
using Crucible.Evaluation.Reporting;
using Crucible.Evaluation.Utility;

namespace Crucible.Evaluation.Tests.Utility;

/// <summary>
/// The utility section against TestData/reference_utility.py (scikit-learn LinearRegression, r2_score,
/// mean_squared_error; scipy spearmanr) on the committed fixtures.
/// </summary>
public class UtilityTests
{
    private const double Rel = 1e-9;

    private static EvaluationReport Report(string synthetic) => Evaluator.Evaluate(new EvaluationInput(
        Fixtures.Load("real.csv"), Fixtures.Load(synthetic), Fixtures.Load("train.csv")));

    [Theory]
    [InlineData("synthetic.csv", "expected_utility.json")]
    [InlineData("scenarios.csv", "expected_utility_scenarios.json")]
    public void Utility_AgreesWithScikitLearn(string synthetic, string expected)
    {
        using var doc = JsonDocument.Parse(ReportJson.ToJson(Report(synthetic)));
        var compared = Fixtures.AssertAgrees(Fixtures.Expected(expected).GetProperty("utility"), doc.RootElement.GetProperty("utility"), Rel);
        Assert.Equal(1 + 3 + (2 * 8), compared);
    }

    [Theory]
    [InlineData("synthetic.csv", "expected_utility.json")]
    [InlineData("scenarios.csv", "expected_utility_scenarios.json")]
    public void PermutationImportance_AgreesWithTheReference_GivenItsPermutations(string synthetic, string expected)
    {
        var check = Fixtures.Expected(expected).GetProperty("importance_check");
        var (real, syn, train) = (Fixtures.Load("real.csv"), Fixtures.Load(synthetic), Fixtures.Load("train.csv"));
        foreach (var target in new[] { ForecastTarget.Return, ForecastTarget.Volatility })
        {
            var e = check.GetProperty(target == ForecastTarget.Return ? "return" : "volatility");
            var permutations = e.GetProperty("permutations").EnumerateArray()
                .Select(s => s.EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray()).ToArray();
            var dReal = LaggedDesign.Build(real, 5, target);
            var onSyn = LinearForecaster.Fit(LaggedDesign.Build(syn, 5, target));
            var onTrain = LinearForecaster.Fit(LaggedDesign.Build(train, 5, target));
            var tstr = UtilityEvaluation.Importance(onSyn, dReal, permutations);
            var trtr = UtilityEvaluation.Importance(onTrain, dReal, permutations);
            void Close(string key, double[] actual)
            {
                var want = e.GetProperty(key).EnumerateArray().Select(x => x.GetDouble()).ToArray();
                for (var i = 0; i < want.Length; i++)
                    Assert.True(Math.Abs(actual[i] - want[i]) <= (Rel * Math.Abs(want[i])) + 1e-13, $"{target} {key}[{i}]: {want[i]:R} vs {actual[i]:R}");
            }
            Close("tstr", tstr);
            Close("trtr", trtr);
            Assert.Equal(e.GetProperty("spearman").GetDouble(), UtilityEvaluation.Spearman(tstr, trtr), 12);
        }
    }

    [Theory]
    [InlineData(ForecastTarget.Return)]
    [InlineData(ForecastTarget.Volatility)]
    public void CrossProducts_EqualTheMaterialisedDesign_ForLongShortAndTooShortPaths(ForecastTarget target)
    {
        // paths of 3 (no samples), 7 and 10 (shorter than 2L + 1: summed directly), 11 and 40 steps (lagged sums)
        const int lags = 5, d = 3;
        var lengths = new[] { 40, 3, 7, 11, 10 };
        var rng = new System.Random(17);
        var ids = lengths.SelectMany((len, q) => Enumerable.Repeat(q, len)).ToArray();
        var columns = Enumerable.Range(0, d).Select(_ => ids.Select(_ => rng.NextDouble() - 0.4).ToArray()).ToArray();
        var set = new SeriesSet(["A", "B", "C"], columns, ids);
        var design = LaggedDesign.Build(set, lags, target);
        Assert.Equal(lengths.Sum(n => Math.Max(0, n - lags)), design.Rows);

        // the design materialised naively: features (l, i) = f(x[t − l + 1, i]), targets f(x[t + 1, j]), t = L − 1 .. n − 2
        var rows = new List<double[]>();
        foreach (var path in set.PathRows())
        {
            double F(int t, int i) => target == ForecastTarget.Volatility ? Math.Abs(columns[i][path[t]]) : columns[i][path[t]];
            for (var t = lags - 1; t < path.Length - 1; t++)
            {
                var row = new double[(lags * d) + d];
                for (var l = 1; l <= lags; l++)
                {
                    for (var i = 0; i < d; i++) row[((l - 1) * d) + i] = F(t - l + 1, i);
                }
                for (var j = 0; j < d; j++) row[(lags * d) + j] = F(t + 1, j);
                rows.Add(row);
            }
        }
        var centre = design.Centre;
        var m = (lags * d) + d;
        var cross = design.CrossProducts();
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++)
            {
                double naive = 0;
                foreach (var r in rows) naive += (r[a] - centre[a % d]) * (r[b] - centre[b % d]);
                Assert.True(Math.Abs(cross[a, b] - naive) <= 1e-12 * (1 + Math.Abs(naive)), $"({a}, {b}): {naive} vs {cross[a, b]}");
            }
        }
        for (var c = 0; c < m; c++)
        {
            var gathered = design.Gather(c < lags * d ? c : -1 - (c - (lags * d))); // back in original units
            for (var r = 0; r < rows.Count; r++) Assert.True(Math.Abs(gathered[r] - rows[r][c]) <= 1e-15, $"column {c} row {r}");
        }
    }

    [Theory]
    [InlineData("synthetic.csv", ForecastTarget.Return)]
    [InlineData("scenarios.csv", ForecastTarget.Volatility)]
    public void ScoreFromCrossProducts_EqualsScoreOfExplicitPredictions(string synthetic, ForecastTarget target)
    {
        var model = LinearForecaster.Fit(LaggedDesign.Build(Fixtures.Load("train.csv"), 5, target));
        foreach (var set in new[] { Fixtures.Load("real.csv"), Fixtures.Load(synthetic) })
        {
            var design = LaggedDesign.Build(set, 5, target);
            var fast = UtilityEvaluation.Score(model, design);
            var slow = UtilityEvaluation.Score(design, model.Predict(design));
            Assert.Equal(slow.Mse, fast.Mse, 1e-11 * slow.Mse);
            Assert.Equal(slow.R2, fast.R2, 1e-11);
        }
    }

    [Fact]
    public void Utility_IsInTheScalarMetrics_AndUsesTheSamePermutationsForBothModels()
    {
        var report = Report("synthetic.csv");
        var keys = report.ScalarMetrics().Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var k in new[] { "utility.volatility.tstr.r2", "utility.return.trts.mse", "utility.volatility.mse_ratio", "utility.return.importance.spearman" })
            Assert.Contains(k, keys);
        // the same forecaster on both sides gives identical importances, hence ρ = 1
        var real = Fixtures.Load("real.csv");
        var same = UtilityEvaluation.Evaluate(real, real, real, lags: 2, repeats: 2, seed: 9);
        Assert.Equal(same.Volatility.ImportanceTstr, same.Volatility.ImportanceTrtr);
        Assert.Equal(1.0, same.Volatility.ImportanceSpearman, 12);
        Assert.Equal(1.0, same.Volatility.MseRatio, 12);
    }

    // d series of n steps of an AR(1) x_t = φ x_{t−1} + ε_t, ε ~ N(0, 0.01²), from the seed's Philox stream
    private static SeriesSet Ar(ulong seed, int n, double phi, int d = 2)
    {
        var rng = new Crucible.Tensors.Random.Philox(seed);
        var columns = new double[d][];
        for (var i = 0; i < d; i++)
        {
            columns[i] = new double[n];
            double x = 0;
            for (var t = 0; t < n; t++) columns[i][t] = x = (phi * x) + (0.01 * rng.NextNormal());
        }
        return new SeriesSet([.. Enumerable.Range(0, d).Select(i => $"S{i}")], columns);
    }

    [Fact]
    public void R2Ratio_IsNull_WhenTheRealForecasterHasNoPositiveR2_SoAThresholdCannotPassAWorseSyntheticSet()
    {
        // white-noise holdout and train: the train-fitted forecaster only fits noise (TRTR R² < 0); synthetic data with
        // strong autocorrelation teaches a forecaster that is far worse on the holdout (TSTR R² well below TRTR's)
        var report = Evaluator.Evaluate(new EvaluationInput(Ar(1, 400, 0), Ar(3, 1000, 0.9), Ar(2, 300, 0)));
        var r = report.Utility!.Return;
        Assert.True(r.Trtr.R2 < 0, $"TRTR R² {r.Trtr.R2}");
        Assert.True(r.Tstr.R2 < r.Trtr.R2 - 0.1, $"TSTR R² {r.Tstr.R2} against TRTR {r.Trtr.R2}");
        // TSTR / TRTR would be far above 1, "better than real data", for the worse forecaster
        Assert.True(double.IsNaN(r.R2Ratio), $"r2_ratio {r.R2Ratio}");
        var verdict = Assert.Single(ThresholdCheck.Evaluate(report, ThresholdCheck.Parse("{\"utility.return.r2_ratio\": {\"min\": 0.8}}")));
        Assert.False(verdict.Passed);
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("utility").GetProperty("return").GetProperty("r2_ratio").ValueKind);
    }

    /// <summary>
    /// A real series that never moves (a pegged rate, a stale price: every return 0) is predicted exactly by the
    /// train-fitted forecaster, TRTR MSE 0, and mse_ratio = TSTR MSE / 0 was +∞ (0/0, NaN, when TSTR was exact too): the
    /// CLI printed "∞" and a min threshold on it passed. Like r2_ratio with no positive TRTR R², it is now NaN, null in
    /// report.json, with a warning saying why.
    /// </summary>
    [Fact]
    public void MseRatio_IsNullWithAReason_WhenTheRealForecasterIsExact()
    {
        var flat = new SeriesSet(["S0", "S1"], [new double[300], new double[300]]);
        var report = Evaluator.Evaluate(new EvaluationInput(flat, Ar(3, 1000, 0.5), flat), new EvaluationOptions { SinglingOut = false, Linkability = false });
        var r = report.Utility!.Return;
        Assert.Equal(0, r.Trtr.Mse);
        Assert.True(r.Tstr.Mse > 0, $"TSTR MSE {r.Tstr.Mse}");
        Assert.True(double.IsNaN(r.MseRatio), $"mse_ratio {r.MseRatio}");
        Assert.Contains(report.Warnings, w => w.StartsWith("utility.return.mse_ratio is undefined (null)", StringComparison.Ordinal));
        Assert.False(Assert.Single(ThresholdCheck.Evaluate(report, ThresholdCheck.Parse("{\"utility.return.mse_ratio\": {\"min\": 0}}"))).Passed);
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("utility").GetProperty("return").GetProperty("mse_ratio").ValueKind);

        // a forecaster that explains something keeps its ratio, and no warning
        var fine = Evaluator.Evaluate(new EvaluationInput(Ar(4, 400, 0.5), Ar(5, 1000, 0.1), Ar(6, 300, 0.5)));
        Assert.Equal(fine.Utility!.Return.Tstr.Mse / fine.Utility.Return.Trtr.Mse, fine.Utility.Return.MseRatio);
        Assert.DoesNotContain(fine.Warnings, w => w.Contains("mse_ratio", StringComparison.Ordinal));
    }

    [Fact]
    public void R2Ratio_IsTstrOverTrtr_WhenTheRealForecasterExplainsSomething()
    {
        // autocorrelated holdout and train (TRTR R² > 0), much weaker autocorrelation in the synthetic set (a worse forecaster)
        var report = Evaluator.Evaluate(new EvaluationInput(Ar(4, 400, 0.5), Ar(5, 1000, 0.1), Ar(6, 300, 0.5)));
        var r = report.Utility!.Return;
        Assert.True(r.Trtr.R2 > 0 && r.Tstr.R2 > 0, $"TSTR R² {r.Tstr.R2}, TRTR R² {r.Trtr.R2}");
        Assert.Equal(r.Tstr.R2 / r.Trtr.R2, r.R2Ratio);
        Assert.True(r.R2Ratio < 1, $"r2_ratio {r.R2Ratio}");
    }

    [Fact]
    public void Utility_IsSkipped_WithAReason_WhenASetIsTooShort_AndAbsentWithoutTrain()
    {
        var real = Fixtures.Load("real.csv");
        var shortTrain = new SeriesSet(real.Names, real.Columns.Select(c => c[..40]).ToArray());
        var report = Evaluator.Evaluate(new EvaluationInput(real, Fixtures.Load("synthetic.csv"), shortTrain));
        Assert.Null(report.Utility);
        Assert.Contains("train has 35 next-step samples", report.UtilitySkipped, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        Assert.StartsWith("train has", doc.RootElement.GetProperty("utility").GetProperty("skipped").GetString(), StringComparison.Ordinal);

        var noTrain = Evaluator.Evaluate(new EvaluationInput(real, Fixtures.Load("synthetic.csv")));
        Assert.Null(noTrain.Utility);
        Assert.Null(noTrain.UtilitySkipped);
    }

    [Fact]
    public void ConstantSyntheticSet_FitsTheConstant_NotAnException()
    {
        // a collapsed generator (every synthetic series constant) has an all-zero Gram matrix: its ridge of 1e-10 times
        // max(mean diagonal, double.Epsilon) underflowed to 0, the factorisation failed and Evaluate threw
        // InvalidOperationException; least squares (scikit-learn) fits zero coefficients and the constant as intercept
        static SeriesSet Of(int rows, double phase) => new(["A", "B"],
            [.. Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase) + (0.003 * Math.Cos(1.7 * t))).ToArray())]);
        var real = Of(120, 0.3);
        var synthetic = new SeriesSet(["A", "B"], [new double[200], new double[200]]);
        var utility = UtilityEvaluation.Evaluate(Of(150, 0.0), synthetic, real, lags: 2, repeats: 1);

        // TSTR predicts 0 for every real target r_{t+1}, t = 1..118: MSE = Σr²/(118·2), R² = 1 − Σr²/Σ(r − r̄)² per series
        double sse = 0, r2 = 0;
        foreach (var column in real.Columns)
        {
            var y = column[2..];
            var mean = y.Average();
            double ss = y.Sum(v => v * v), tot = y.Sum(v => (v - mean) * (v - mean));
            sse += ss;
            r2 += 1 - (ss / tot);
        }
        Assert.Equal(sse / (118 * 2), utility.Return.Tstr.Mse, 1e-15);
        Assert.Equal(r2 / 2, utility.Return.Tstr.R2, 1e-9);
        Assert.Equal([0.0, 0.0], utility.Return.ImportanceTstr);
        Assert.True(double.IsFinite(utility.Volatility.Tstr.Mse));
    }
}
