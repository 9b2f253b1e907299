using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Scenarios;

namespace Crucible.Diffusion.Tests.Scenarios;

public sealed class ScenarioCsvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-scenario-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // the naive oracle: one string for the whole file, each cell formatted as text, then encoded
    private static byte[] Oracle(TimeSeriesFrame values, int steps)
    {
        var sb = new StringBuilder("scenario,step");
        foreach (var c in values.Columns) sb.Append(',').Append(CsvExport.EscapeTextCell(c));
        sb.Append('\n');
        for (int r = 0; r < values.RowCount; r++)
        {
            sb.Append(((r / steps) + 1).ToString(CultureInfo.InvariantCulture)).Append(',').Append(((r % steps) + 1).ToString(CultureInfo.InvariantCulture));
            foreach (double v in values.Row(r)) sb.Append(',').Append(CsvExport.FormatNumber(v));
            sb.Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static TimeSeriesFrame Values(int rows, int columns, int seed)
    {
        var rng = new System.Random(seed);
        double[] special = [0.0, -0.0, 1.0, -1.0, double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue, 1e-300, -1.2345678901234567e-308, 0.1, 1.0 / 3.0, 123456789012345678.0];
        var v = new double[rows * columns];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = rng.Next(5) == 0 ? special[rng.Next(special.Length)] : (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-12, 4));
        }

        string[] names = [.. Enumerable.Range(0, columns).Select(c => c switch { 0 => "=SUM(A1)", 1 => "a,b", 2 => "ÖL €", _ => $"S{c}" })];
        return new TimeSeriesFrame([], names, v, rows);
    }

    [Theory]
    [InlineData(1, 3, 1)]
    [InlineData(7, 5, 1)]
    [InlineData(4000, 40, 1)] // several 64 KiB buffers
    [InlineData(600, 12, 20)] // 30 windows of 20 steps
    public void Format_And_WriteTo_GiveTheOraclesBytes_AndWriteToHashesThem(int rows, int columns, int steps)
    {
        var values = Values(rows, columns, rows + columns);
        var expected = Oracle(values, steps);
        Assert.Equal(expected, ScenarioCsv.Format(values, steps));
        using var stream = new MemoryStream();
        string sha = ScenarioCsv.WriteTo(stream, values, steps);
        Assert.Equal(expected, stream.ToArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected)), sha);
    }

    [Fact]
    public void Write_StreamsTheCsv_WithTheMetadataNamingItsHash_AndLeavesNoTemporaryFile()
    {
        var values = Values(3000, 26, 3);
        var set = new ScenarioSet(values, new ScenarioMetadata { ModelId = "m", StepsPerScenario = 1 });
        string path = Path.Combine(_dir, "out", "s.csv");
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.GetDirectoryName(path)!).FullName, "s.csv"), "old");
        var meta = ScenarioCsv.Write(path, set, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(Oracle(values, 1), bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), meta.CsvSha256);
        Assert.Equal(ScenarioCsv.ToJson(ScenarioCsv.Describe(set, bytes, "s.csv", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero))), ScenarioCsv.ToJson(meta));
        Assert.Equal(ScenarioCsv.ToJson(meta), File.ReadAllText(ScenarioCsv.MetadataPath(path)));
        Assert.Equal(["s.csv", "s.meta.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
