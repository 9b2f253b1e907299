using System.Text.Json;
using Crucible.Evaluation.Learned;

namespace Crucible.Evaluation.Tests.Learned;

public class StocksBenchmarkTests
{
    private static WindowSet Windows(int count, int length, int features, int seed)
    {
        var rng = new System.Random(seed);
        var values = new double[count * length * features];
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextDouble();
        return new WindowSet(values, count, length, features);
    }

    [Fact]
    public void SeriesMajorLayoutRoundTripsAndPutsFeatureRowsFirst()
    {
        var w = Windows(3, 4, 2, 1);
        var sm = StocksBenchmark.ToSeriesMajor(w);
        Assert.Equal((float)w[1, 2, 1], sm[(((1 * 2) + 1) * 4) + 2]);
        var back = StocksBenchmark.FromSeriesMajor(sm, 3, 4, 2);
        Assert.Equal(w.Values.Select(v => (double)(float)v), back.Values);
    }

    [Fact]
    public void RunCallsTheGeneratorOnceOnAllWindowsAndScoresItsWindows()
    {
        var real = Windows(40, 6, 3, 2);
        int calls = 0;
        var small = new StocksOptions
        {
            Runs = 2, Seed = 1,
            Discriminative = new DiscriminativeOptions { Iterations = 5, BatchSize = 8 },
            Predictive = new PredictiveOptions { Iterations = 5, BatchSize = 8 },
            ContextFid = new ContextFidOptions { Iterations = 3, HiddenDims = 8, OutputDims = 16, Depth = 2 },
        };
        var result = StocksBenchmark.Run(real, w =>
        {
            calls++;
            Assert.Same(real, w);
            return Windows(45, 6, 3, 3);
        }, small, () => [new("name", "test"), new("steps", 7), new("rate", 0.5)]);
        Assert.Equal(1, calls);
        var direct = StocksProtocol.Evaluate(real, Windows(45, 6, 3, 3), small);
        Assert.Equal(direct.Discriminative.Runs, result.Discriminative.Summary.Runs);
        Assert.Equal(direct.Predictive.Runs, result.Predictive.Summary.Runs);
        Assert.Equal(direct.Correlational.Runs, result.Correlational.Summary.Runs);
        Assert.Equal(direct.ContextFid!.Runs, result.ContextFid!.Runs);
        Assert.Equal(ContextFid.Runs(real, Windows(45, 6, 3, 3).Take(40), 1, 2, small.ContextFid), result.ContextFid.Runs);
        Assert.Equal((40, 2, 0.05, 0.067), (result.Windows, result.Runs, result.Discriminative.Target, result.Discriminative.Published));
        Assert.Equal(result.Discriminative.Summary.Mean <= 0.05 && result.Predictive.Summary.Mean <= 0.037 && result.Correlational.Summary.Mean <= 0.004, result.Passed);

        using var json = JsonDocument.Parse(StocksBenchmark.ToJson(result));
        var root = json.RootElement;
        Assert.Equal(40, root.GetProperty("windows").GetInt32());
        Assert.Equal(result.Predictive.Summary.Mean, root.GetProperty("predictive").GetProperty("mean").GetDouble());
        Assert.Equal(result.Predictive.Summary.HalfWidth, root.GetProperty("predictive").GetProperty("ci95").GetDouble());
        Assert.Equal(2, root.GetProperty("correlational").GetProperty("runs").GetArrayLength());
        Assert.Equal("test", root.GetProperty("generator").GetProperty("name").GetString());
        Assert.Equal(7, root.GetProperty("generator").GetProperty("steps").GetInt32());
        Assert.Equal(0.5, root.GetProperty("generator").GetProperty("rate").GetDouble());
        var fid = root.GetProperty("context_fid");
        Assert.Equal(result.ContextFid.Mean, fid.GetProperty("mean").GetDouble());
        Assert.Equal(2, fid.GetProperty("runs").GetArrayLength());
        Assert.Equal((0.147, 0.103), (fid.GetProperty("diffusion_ts").GetDouble(), fid.GetProperty("timegan").GetDouble()));
        Assert.False(fid.TryGetProperty("passed", out _)); // no target

        var without = StocksBenchmark.Run(real, _ => Windows(40, 6, 3, 3), small with { ContextFid = null });
        Assert.Null(without.ContextFid);
        using var plain = JsonDocument.Parse(StocksBenchmark.ToJson(without));
        Assert.False(plain.RootElement.TryGetProperty("context_fid", out _));
    }

    [Fact]
    public void RunRejectsWindowsOfAnotherShape()
    {
        var real = Windows(10, 6, 3, 2);
        Assert.Throws<InvalidOperationException>(() => StocksBenchmark.Run(real, _ => Windows(10, 5, 3, 1), new StocksOptions { Runs = 1 }));
    }

    [Fact]
    public void ToJson_WritesANaNScoreAsNull_NotAnException()
    {
        // a generator that collapses a feature to a constant has a zero standard deviation there, so its correlational
        // score is NaN (0/0); Utf8JsonWriter refuses NaN, so writing the benchmark's JSON threw ArgumentException
        var collapsed = Windows(20, 6, 3, 3);
        for (int k = 0; k < collapsed.Values.Length; k += 3) collapsed.Values[k] = 0.5;
        double nan = CorrelationalScore.Compute(Windows(20, 6, 3, 2), collapsed);
        Assert.True(double.IsNaN(nan));
        var score = new ScoreSummary([nan, 0.01], nan, nan);
        var fine = new ScoreSummary([0.01, 0.02], 0.015, 0.06);
        var result = new StocksBenchmarkResult(20, 2, 1, new BenchmarkScore(fine, 0.05, 0.067), new BenchmarkScore(fine, 0.037, 0.036),
            new BenchmarkScore(score, 0.004, 0.004), 1.0, 2.0, [new("loss", double.NaN)], score);
        Assert.False(result.Passed);
        using var json = JsonDocument.Parse(StocksBenchmark.ToJson(result));
        var correlational = json.RootElement.GetProperty("correlational");
        Assert.Equal(JsonValueKind.Null, correlational.GetProperty("mean").ValueKind);
        Assert.Equal(JsonValueKind.Null, correlational.GetProperty("runs")[0].ValueKind);
        Assert.Equal(0.01, correlational.GetProperty("runs")[1].GetDouble());
        Assert.False(correlational.GetProperty("passed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("context_fid").GetProperty("mean").ValueKind);
        Assert.Equal(0.015, json.RootElement.GetProperty("discriminative").GetProperty("mean").GetDouble());
    }
}
