using Crucible.Data.Csv;

namespace Crucible.Data;

/// <summary>
/// The bundled demo data set (the <c>crucible demo</c> default), embedded in this assembly: the 10 Kenneth French
/// industry portfolios (daily value-weighted returns in percent, 2000-01-03 to 2021-09-30) and the FRED series
/// DGS3MO, DGS10 and DFF on the same dates (as of the same day: apply the lag with <see cref="Join.AsOfLagged"/> or
/// <see cref="Windows.WindowBuilder.Build"/>). See <c>data/demo/README.md</c> for sources and credits.
/// </summary>
public static class DemoData
{
    /// <summary>The file name of the demo CSV.</summary>
    public const string FileName = "ff10_treasury_demo.csv";

    /// <summary>The industry return columns (percent returns).</summary>
    public static IReadOnlyList<string> ReturnColumns { get; } =
        ["NoDur", "Durbl", "Manuf", "Enrgy", "HiTec", "Telcm", "Shops", "Hlth", "Utils", "Other"];

    /// <summary>The economic-state columns (percent per annum, as of the same day).</summary>
    public static IReadOnlyList<string> StateColumns { get; } = ["DGS3MO", "DGS10", "DFF"];

    /// <summary>The read options for the demo file: percent returns, rate columns allowed any finite value.</summary>
    public static CsvReadOptions Options { get; } = new()
    {
        Input = InputKind.PercentReturns,
        ColumnDomains = StateColumns.ToDictionary(c => c, _ => ColumnDomain.AnyFinite),
    };

    /// <summary>Opens the embedded CSV.</summary>
    public static Stream OpenCsv() =>
        typeof(DemoData).Assembly.GetManifestResourceStream(FileName)
        ?? throw new InvalidOperationException($"the embedded resource {FileName} is missing from Crucible.Data");

    /// <summary>
    /// Reads the demo data: <c>Returns</c> holds the ten industry columns (percent returns, as in the file) and
    /// <c>State</c> the three rate columns, both on the same dates.
    /// </summary>
    public static (TimeSeriesFrame Returns, TimeSeriesFrame State) Load()
    {
        using var stream = OpenCsv();
        var frame = CsvSeriesReader.Load(stream, FileName, Options);
        return (frame.SelectColumns(ReturnColumns), frame.SelectColumns(StateColumns));
    }
}
