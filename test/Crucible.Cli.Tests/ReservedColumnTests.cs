using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// A series named like a column a scenario file reserves (<c>scenario</c>, <c>step</c>) is refused by <c>train</c>
/// (<c>reserved-column</c>, exit 2) at its header cell, as every other CSV error is located: the refusal used to come from
/// the fit, naming no file, line or column.
/// </summary>
public sealed class ReservedColumnTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-reserved-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    // 60 weekday rows of two price walks under the header given (the date column named Date, wherever it stands)
    private string File60(string header, string lead = "")
    {
        var names = header.Split(',');
        var sb = new StringBuilder(lead + header + "\n");
        var date = new DateOnly(2021, 1, 4);
        double p = 100, q = 50;
        for (int i = 0; i < 60; i++, date = date.AddDays(date.DayOfWeek == DayOfWeek.Friday ? 3 : 1))
        {
            p *= Math.Exp(0.01 * Math.Sin(1.3 * i));
            q *= Math.Exp(0.02 * Math.Cos(0.7 * i));
            var values = new Queue<double>([p, q]);
            sb.AppendJoin(',', names.Select(n => n.Trim() == "Date" ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                : values.Dequeue().ToString("F4", CultureInfo.InvariantCulture))).Append('\n');
        }

        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    [Theory]
    [InlineData("tabular", "Date,SPY,step", "", "", 1, 3, "step")]
    [InlineData("sequence", "Date,SPY,step", "", "", 1, 3, "step")]
    [InlineData("tabular", "SPY,Date,scenario", "", "", 1, 3, "scenario")]
    [InlineData("tabular", "Date, step ,SPY", "", "SPY,step", 1, 2, "step")]   // read through --columns, in another order
    [InlineData("tabular", "Date,SPY,step", "\n\n", "", 3, 3, "step")]        // the header after blank lines
    public void Train_RefusesAReservedSeriesName_AtItsHeaderCell(string kind, string header, string lead, string columns, int line, int column, string name)
    {
        string path = File60(header, lead);
        string model = Path.Combine(_dir, "m");
        string[] kindArgs = kind == "sequence" ? ["--kind", "sequence", "--window", "5"] : [];
        string[] columnArgs = columns.Length > 0 ? ["--columns", columns] : [];
        var train = Crucible(["train", "--data", path, "--steps", "2", .. kindArgs, .. columnArgs, "--out", model]);
        Assert.True(train.Exit == 2, train.Stdout + train.Stderr);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{path}:{line}:{column}: error [reserved-column]: series '{name}' has the name of a scenario file's own column"),
            train.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));
    }
}
