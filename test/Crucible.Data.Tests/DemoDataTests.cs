using System.Security.Cryptography;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests;

public class DemoDataTests
{
    private const string ExpectedSha256 = "0ff0984690ff8ec33d4969913e0774fcee961770443e9c08feb476807193e519";

    [Fact]
    public void Demo_LoadsCleanly_WithExpectedShape()
    {
        var (returns, state) = DemoData.Load();
        Assert.Equal(5472, returns.RowCount);
        Assert.Equal(new DateOnly(2000, 1, 3), returns.Dates[0]);
        Assert.Equal(new DateOnly(2021, 9, 30), returns.Dates[^1]);
        Assert.Equal(DemoData.ReturnColumns, returns.Columns);
        Assert.Equal(DemoData.StateColumns, state.Columns);
        Assert.Equal(-1.65, returns[0, 0]);
        Assert.Equal(5.48, state[0, 0]);
        using var stream = DemoData.OpenCsv();
        var report = CsvSeriesReader.Validate(stream, DemoData.FileName, DemoData.Options);
        Assert.True(report.Usable);
        Assert.True(report.Reconciles);
    }

    [Fact]
    public void Demo_EmbeddedFile_MatchesCommittedFileAndReadme()
    {
        using var stream = DemoData.OpenCsv();
        var embedded = Convert.ToHexStringLower(SHA256.HashData(stream));
        Assert.Equal(ExpectedSha256, embedded);
        var committed = Path.Combine(TestFiles.RepoRoot(), "data", "demo", DemoData.FileName);
        Assert.Equal(ExpectedSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(committed))));
        var size = new FileInfo(committed).Length;
        Assert.InRange(size, 100_000, 600_000);
        Assert.Contains(ExpectedSha256, File.ReadAllText(Path.Combine(TestFiles.RepoRoot(), "data", "demo", "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_EqualsInnerJoinOfSharedSources()
    {
        var ff10 = CsvSeriesReader.Load(TestFiles.SharedData("ff10_industry_vw_daily.csv"), new CsvReadOptions { Input = InputKind.PercentReturns });
        var us = CsvSeriesReader.Load(TestFiles.SharedData("us_conditioning_daily.csv"), new CsvReadOptions
        {
            Input = InputKind.LogReturns, // levels that may be negative: any finite value
        });
        var first = ff10.IndexAtOrBefore(new DateOnly(2000, 1, 3));
        var last = ff10.IndexAtOrBefore(new DateOnly(2021, 9, 30));
        var expected = Join.Inner(ff10.Slice(first, last + 1), us.SelectColumns(DemoData.StateColumns));
        var (returns, state) = DemoData.Load();
        Assert.Equal(expected.Dates, returns.Dates);
        Assert.Equal(expected.SelectColumns(DemoData.ReturnColumns).Values, returns.Values);
        Assert.Equal(expected.SelectColumns(DemoData.StateColumns).Values, state.Values);
    }
}
