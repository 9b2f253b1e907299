using System.Globalization;
using System.Text;
using Crucible.Data;

namespace Crucible.Evaluation.Tests;

/// <summary>
/// <see cref="SeriesSet.FromFrame"/>: the library user's way from a frame (a history or a generator's draws) to the
/// evaluator's and the stress library's input. It must be the set a scenario file of the same frame reads back as.
/// </summary>
public sealed class SeriesSetFromFrameTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-fromframe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 6 rows × 2 series, distinct values so a transposition or an off-by-one shows
    private static TimeSeriesFrame Frame() =>
        new([], ["A", "B"], [0.01, -0.02, 0.03, -0.04, 0.05, -0.06, 0.07, -0.08, 0.09, -0.1, 0.11, -0.12], 6);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Scenarios_AreWhatTheScenarioFileOfTheFrameReadsBackAs(int steps)
    {
        var frame = Frame();
        var text = new StringBuilder("scenario,step,A,B\n");
        for (var r = 0; r < frame.RowCount; r++)
            text.Append(CultureInfo.InvariantCulture, $"{1 + (r / steps)},{1 + (r % steps)},{frame[r, 0]:R},{frame[r, 1]:R}\n");
        var path = Path.Combine(_dir, "s.csv");
        File.WriteAllText(path, text.ToString());
        var read = SeriesSetCsv.Read(path);

        var set = SeriesSet.FromFrame(frame, steps);

        Assert.Equal(read.Names, set.Names);
        Assert.Equal(read.ScenarioIds, set.ScenarioIds);
        Assert.Equal(read.Columns.Length, set.Columns.Length);
        for (var i = 0; i < set.Columns.Length; i++) Assert.Equal(read.Columns[i], set.Columns[i]);
        Assert.Equal(frame.RowCount / steps, set.PathRows().Count);
    }

    [Fact]
    public void WithoutSteps_TheFrameIsOnePath()
    {
        var set = SeriesSet.FromFrame(Frame());
        Assert.Null(set.ScenarioIds);
        Assert.Equal(["A", "B"], set.Names);
        Assert.Equal([0.01, 0.03, 0.05, 0.07, 0.09, 0.11], set.Columns[0]);
        Assert.Equal([-0.02, -0.04, -0.06, -0.08, -0.1, -0.12], set.Columns[1]);
        Assert.Single(set.PathRows());
    }

    [Fact]
    public void RowsThatAreNotWholeScenarios_AreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => SeriesSet.FromFrame(Frame(), 4));
        Assert.Contains("6 rows are not a whole number of 4-step scenarios", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesSet.FromFrame(Frame(), 0));
    }
}
