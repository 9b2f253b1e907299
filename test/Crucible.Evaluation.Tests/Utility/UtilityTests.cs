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
}
