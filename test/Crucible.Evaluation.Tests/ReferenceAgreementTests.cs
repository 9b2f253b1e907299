using System.Text.Json;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests;

/// <summary>
/// Every number of the report against the reference scripts' output on the committed fixtures
/// (TestData/README.md says how the expected JSON was produced).
/// </summary>
public class ReferenceAgreementTests
{
    // Every key agrees to 1e-9 relative (METRICS.md would allow 1e-6 where summation order differs; it is not needed).
    private const double Rel = 1e-9;

    private static JsonElement Actual(string real, string synthetic, string? train, double alpha = 0.99)
    {
        var input = new EvaluationInput(Fixtures.Load(real), Fixtures.Load(synthetic), train is null ? null : Fixtures.Load(train));
        var report = Evaluator.Evaluate(input, new EvaluationOptions { Alpha = alpha });
        return JsonDocument.Parse(ReportJson.ToJson(report)).RootElement;
    }

    [Theory]
    [InlineData("real.csv", "synthetic.csv", "train.csv", "expected_eval_ref.json")]
    [InlineData("ties_real.csv", "ties_synthetic.csv", null, "expected_eval_ref_ties.json")]
    [InlineData("real.csv", "scenarios.csv", "train.csv", "expected_eval_ref_scenarios.json")]
    public void Report_AgreesWithEvalRef(string real, string synthetic, string? train, string expected)
    {
        var actual = Actual(real, synthetic, train);
        // eval_ref.py pools rows, so for a scenario file its temporal keys are not the scenario-averaged ones:
        // those are checked against reference_extra.py in Report_AgreesWithReferenceExtra.
        var skip = synthetic == "scenarios.csv" ? new HashSet<string> { "acf", "acf_abs", "max_drawdown" } : null;
        var compared = Fixtures.AssertAgrees(Fixtures.Expected(expected), actual, Rel, skip: skip);
        Assert.True(compared > (skip is null ? 500 : 100), $"only {compared} values compared");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void Report_AgreesWithEvalRef_AtTheEdges(double alpha)
    {
        // make_edge_fixtures.py: 22 real rows (ACF to lag 20, one row in the 5% rank tail, fewer rows than 1/(1 − α)),
        // heavy ties, an exactly constant synthetic series (KS 1, correlations and its tail dependence NaN), a rising and
        // a falling path (max drawdown 0 and at the last step), and 8 synthetic rows copied from train (DCR 0); the
        // report's other sections (membership inference, utility, outlier risk) run on these tiny sets without failing
        var a = alpha.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var actual = Actual("edge_real.csv", "edge_synthetic.csv", "edge_train.csv", alpha);
        var compared = Fixtures.AssertAgrees(Fixtures.Expected($"expected_eval_ref_edge_{a}.json"), actual, Rel);
        Assert.True(compared > 400, $"only {compared} values compared");
    }

    [Theory]
    [InlineData("real.csv", "synthetic.csv", "train.csv", "expected_extra.json")]
    [InlineData("ties_real.csv", "ties_synthetic.csv", null, "expected_extra_ties.json")]
    [InlineData("real.csv", "scenarios.csv", "train.csv", "expected_extra_scenarios.json")]
    public void Report_AgreesWithReferenceExtra(string real, string synthetic, string? train, string expected)
    {
        var actual = Actual(real, synthetic, train);
        var compared = Fixtures.AssertAgrees(Fixtures.Expected(expected), actual, Rel);
        Assert.True(compared > 500, $"only {compared} values compared");
    }

    [Fact]
    public void Report_AgreesWithReferenceExtra_WhereAFlatStretchLeavesWindowsOut()
    {
        // flat_real.csv: 30 flat days of RATE_CHG; flat_scenarios.csv: scenario 7 flat. reference_extra.py averages each
        // lag over the windows that define it, as the report does (all NaN before: one constant window nulled the series)
        var input = new EvaluationInput(Fixtures.Load("flat_real.csv"), Fixtures.Load("flat_scenarios.csv"));
        var report = Evaluator.Evaluate(input, new EvaluationOptions { Lags = 9 });
        var actual = JsonDocument.Parse(ReportJson.ToJson(report)).RootElement;
        var compared = Fixtures.AssertAgrees(Fixtures.Expected("expected_extra_flat.json"), actual, Rel);
        Assert.True(compared > 100, $"only {compared} values compared");
        var rate = actual.GetProperty("per_series").GetProperty("RATE_CHG");
        Assert.All(rate.GetProperty("acf")[0].EnumerateArray(), v => Assert.Equal(JsonValueKind.Number, v.ValueKind));
        // of the 281 real 20-day windows, those with a constant side of the lag-9 leverage pairs: (x_0..x_10) inside the
        // flat days 100..129 for starts 100..119, (x²_9..x²_19) for starts 91..110: 29
        Assert.Equal(29, rate.GetProperty("temporal_left_out").GetProperty("real").GetInt32());
    }

    [Fact]
    public void Evaluate_SameReportForAnyDegreeOfParallelism()
    {
        var input = new EvaluationInput(Fixtures.Load("real.csv"), Fixtures.Load("synthetic.csv"), Fixtures.Load("train.csv"));
        var one = ReportJson.ToJson(Evaluator.Evaluate(input, new EvaluationOptions { MaxDegreeOfParallelism = 1 }));
        var many = ReportJson.ToJson(Evaluator.Evaluate(input, new EvaluationOptions { MaxDegreeOfParallelism = 8 }));
        Assert.Equal(one, many);
    }

    [Fact]
    public void Evaluate_CancelledToken_Throws_ALiveTokenGivesTheSameReport()
    {
        // a library caller (a batch job, a service request) must be able to stop an evaluation: Evaluate took no token
        var input = new EvaluationInput(Fixtures.Load("real.csv"), Fixtures.Load("synthetic.csv"), Fixtures.Load("train.csv"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Evaluator.Evaluate(input, new EvaluationOptions { Cancellation = cancelled.Token }));
        using var live = new CancellationTokenSource();
        Assert.Equal(ReportJson.ToJson(Evaluator.Evaluate(input)),
            ReportJson.ToJson(Evaluator.Evaluate(input, new EvaluationOptions { Cancellation = live.Token })));
    }

    [Fact]
    public void Evaluate_NullInput_IsAnArgumentNullException()
    {
        // it was a NullReferenceException from inside Evaluate
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => Evaluator.Evaluate(null!)).ParamName);
    }
}
