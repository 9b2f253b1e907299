using Crucible.Data;

namespace Crucible.Evaluation.Tests;

public class EvaluatorTests
{
    private static SeriesSet Set(params double[][] columns) =>
        new(columns.Select((_, i) => $"S{i}").ToArray(), columns);

    [Fact]
    public void Evaluate_RejectsMismatchedNames()
    {
        var real = Set([0.01, 0.02, -0.01]);
        var synth = new SeriesSet(["other"], [[0.01, 0.0, 0.02]]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synth)));
        Assert.Equal("column-mismatch", e.Rule);
    }

    [Fact]
    public void Evaluate_MatchesSeriesByName_TheSameNamesInAnotherOrderGiveTheSameReport()
    {
        double[] a = [0.01, 0.02, -0.01, 0.005, -0.02, 0.0], b = [0.0, -0.01, 0.02, 0.01, -0.005, 0.003], c = [0.02, 0.0, -0.02, 0.01, 0.0, -0.01];
        var real = new SeriesSet(["A", "B", "C"], [a, b, c]);
        var synth = new SeriesSet(["A", "B", "C"], [b, c, a]);
        var shuffled = new SeriesSet(["C", "A", "B"], [a, b, c]); // the same series as synth, in another order
        var options = new EvaluationOptions { MembershipInference = false, Utility = false };
        var expected = Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(real, synth), options));
        Assert.Equal(expected, Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(real, shuffled), options)));
        Assert.Equal(["A", "B", "C"], shuffled.InOrderOf(real.Names, "synthetic").Names);
        Assert.Same(synth, synth.InOrderOf(real.Names, "synthetic"));
    }

    [Fact]
    public void Evaluate_ADifferentSetOfNames_NamesTheMissingAndExtraSeries()
    {
        var real = new SeriesSet(["A", "B", "C"], [[0.01, 0.02], [0.0, 0.01], [0.02, 0.0]]);
        var synth = new SeriesSet(["B", "D", "A", "E"], [[0.01, 0.02], [0.0, 0.01], [0.02, 0.0], [0.0, 0.0]]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synth)));
        Assert.Equal("column-mismatch", e.Rule);
        Assert.Contains("synthetic: series 'D', 'E' are not in the real data; series 'C' is missing", e.Message, StringComparison.Ordinal);
        var train = new SeriesSet(["A", "B"], [[0.01, 0.02], [0.0, 0.01]]);
        var t = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, real, train)));
        Assert.Contains("train: series 'C' is missing", t.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Evaluate_RejectsNonFiniteValues(double bad)
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(Set([0.01, bad, 0.0]), Set([0.01, 0.0, 0.02]))));
        Assert.Equal("non-finite", e.Rule);
    }

    [Fact]
    public void Evaluate_RejectsRaggedColumns()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(Set([0.01, 0.02], [0.0]), Set([0.01, 0.0], [0.0, 0.1]))));
        Assert.Equal("shape", e.Rule);
    }

    [Fact]
    public void Evaluate_ConstantSeries_GivesNaNMomentsAndCorrelations_WithoutThrowing()
    {
        var rng = new Random(3);
        var noise = Enumerable.Range(0, 120).Select(_ => rng.NextDouble() * 0.02 - 0.01).ToArray();
        var constant = Enumerable.Repeat(0.001, 120).ToArray();
        var report = Evaluator.Evaluate(new EvaluationInput(Set(noise, constant), Set(noise, noise)));
        var c = report.PerSeries[1];
        Assert.True(double.IsNaN(c.Skewness.Real));
        Assert.True(double.IsNaN(c.ExcessKurtosis.Real));
        Assert.Equal(0.0, c.Std.Real);
        Assert.True(double.IsNaN(c.Acf.Real[0]));
        Assert.True(double.IsNaN(report.Correlation.Real[0][1]));
        Assert.True(double.IsNaN(report.CorrDistance));
    }

    [Fact]
    public void Evaluate_ScenarioIds_AverageTemporalStatisticsOverPaths()
    {
        // two scenarios that are the same path: the averages equal the single-path values, marginals pool both copies
        var rng = new Random(9);
        var path = Enumerable.Range(0, 80).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var twice = path.Concat(path).ToArray();
        var ids = Enumerable.Range(0, 160).Select(i => i / 80).ToArray();
        var single = Evaluator.Evaluate(new EvaluationInput(Set(path), Set(path)));
        var scen = Evaluator.Evaluate(new EvaluationInput(Set(path), new SeriesSet(["S0"], [twice], ids)));
        Assert.Equal(single.PerSeries[0].Acf.Synthetic, scen.PerSeries[0].Acf.Synthetic);
        Assert.Equal(single.PerSeries[0].MaxDrawdown.Synthetic, scen.PerSeries[0].MaxDrawdown.Synthetic);
        Assert.Equal(0.0, scen.PerSeries[0].Ks);
        Assert.Equal(2, scen.Rows.SyntheticPaths);
    }
}
