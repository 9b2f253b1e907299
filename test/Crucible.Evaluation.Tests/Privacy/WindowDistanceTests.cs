using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>DCR over flattened windows against a plain-loop oracle written from METRICS.md's definition.</summary>
public class WindowDistanceTests
{
    private static SeriesSet Paths(System.Random rng, int d, int[] lengths, double scale)
    {
        var n = lengths.Sum();
        var columns = Enumerable.Range(0, d).Select(_ => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * scale).ToArray()).ToArray();
        var ids = lengths.SelectMany((len, p) => Enumerable.Repeat(p + 1, len)).ToArray();
        return new SeriesSet([.. Enumerable.Range(0, d).Select(i => $"s{i}")], columns, ids);
    }

    // the oracle: standardise with train's mean and n − 1 std, enumerate windows by hand, brute-force the minimum
    private static double[] Oracle(SeriesSet synth, SeriesSet reference, SeriesSet train, int w)
    {
        var d = train.SeriesCount;
        var mean = new double[d];
        var sd = new double[d];
        for (var i = 0; i < d; i++)
        {
            var c = train.Columns[i];
            mean[i] = c.Average();
            sd[i] = Math.Sqrt(c.Sum(v => (v - mean[i]) * (v - mean[i])) / (c.Length - 1));
        }
        double Z(SeriesSet s, int row, int i) => (s.Columns[i][row] - mean[i]) / sd[i];
        var refWindows = new List<int>();
        var ids = reference.ScenarioIds!;
        for (var start = 0; start + w <= ids.Length; start++)
        {
            if (ids[start] == ids[start + w - 1]) refWindows.Add(start);   // rows of one path are contiguous here
        }
        var sIds = synth.ScenarioIds!;
        var result = new List<double>();
        for (var start = 0; start < sIds.Length; start += w)
        {
            var best = double.PositiveInfinity;
            foreach (var r in refWindows)
            {
                double sum = 0;
                for (var k = 0; k < w; k++)
                {
                    for (var i = 0; i < d; i++)
                    {
                        var diff = Z(synth, start + k, i) - Z(reference, r + k, i);
                        sum += diff * diff;
                    }
                }
                best = Math.Min(best, sum);
            }
            result.Add(Math.Sqrt(best));
        }
        return [.. result];
    }

    [Fact]
    public void WindowDistances_MatchThePlainLoopOracle()
    {
        var rng = new System.Random(7);
        const int w = 4;
        var synth = Paths(rng, 3, [w, w, w, w, w], 0.02);
        var train = Paths(rng, 3, [10, 7, 3], 0.03);
        var holdout = Paths(rng, 3, [9, 5], 0.01);
        var (toTrain, toHoldout) = DistanceToClosestRecord.WindowDistances(synth, train, holdout, w);
        var expectTrain = Oracle(synth, train, train, w);
        var expectHoldout = Oracle(synth, holdout, train, w);
        Assert.Equal(expectTrain.Length, toTrain.Length);
        for (var i = 0; i < toTrain.Length; i++)
        {
            Assert.Equal(expectTrain[i], toTrain[i], 1e-12);
            Assert.Equal(expectHoldout[i], toHoldout[i], 1e-12);
        }
    }

    [Fact]
    public void CommonPathLength_IsZeroForRowsOrUnequalPaths()
    {
        var rng = new System.Random(1);
        Assert.Equal(5, DistanceToClosestRecord.CommonPathLength(Paths(rng, 2, [5, 5, 5], 1)));
        Assert.Equal(0, DistanceToClosestRecord.CommonPathLength(Paths(rng, 2, [5, 4], 1)));
        Assert.Equal(0, DistanceToClosestRecord.CommonPathLength(Paths(rng, 2, [1, 1, 1], 1)));
        var rows = new SeriesSet(["a"], [[1.0, 2.0, 3.0]]);
        Assert.Equal(0, DistanceToClosestRecord.CommonPathLength(rows));
    }

    [Fact]
    public void Evaluator_ReportsWindowDcrForEqualLengthScenarioPaths_AndNotForRows()
    {
        var rng = new System.Random(3);
        var real = Paths(rng, 2, [300], 0.01);
        var train = Paths(rng, 2, [300], 0.01);
        var scenarios = Paths(rng, 2, Enumerable.Repeat(20, 30).ToArray(), 0.01);
        var withPaths = Evaluator.Evaluate(new EvaluationInput(real, scenarios, train), new EvaluationOptions());
        Assert.NotNull(withPaths.Privacy?.Windows);
        Assert.Equal(20, withPaths.Privacy!.Windows!.Window);
        Assert.Contains("\"windows\"", ReportJson.ToJson(withPaths), StringComparison.Ordinal);

        var rows = new SeriesSet(scenarios.Names, scenarios.Columns);
        var withRows = Evaluator.Evaluate(new EvaluationInput(real, rows, train), new EvaluationOptions());
        Assert.Null(withRows.Privacy?.Windows);
    }
}
