using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>The small sequence data the CLI tests train on.</summary>
internal static class SequenceTestFiles
{
    /// <summary>
    /// Writes DIR/prices.csv, two random-walk prices (A, B), and DIR/state.csv, a VIX-like state with DGS10 and DGS3MO (for
    /// TERM), on <paramref name="rows"/> weekdays from 2020-01-01 (fixed seed); returns their paths.
    /// </summary>
    public static (string Prices, string State) Write(string dir, int rows = 120)
    {
        string prices = Path.Combine(dir, "prices.csv"), state = Path.Combine(dir, "state.csv");
        var rng = new System.Random(4);
        var p = new StringBuilder("Date,A,B\n");
        var s = new StringBuilder("Date,VIXCLS,DGS10,DGS3MO\n");
        double a = 100, b = 50;
        var date = new DateOnly(2020, 1, 1);
        for (int i = 0; i < rows; i++)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            a *= Math.Exp(0.02 * (rng.NextDouble() - 0.5));
            b *= Math.Exp(0.01 * (rng.NextDouble() - 0.5));
            p.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{a:F4},{b:F4}\n");
            s.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{15 + (10 * rng.NextDouble()):F2},1.5,0.5\n");
            date = date.AddDays(1);
        }

        File.WriteAllText(prices, p.ToString());
        File.WriteAllText(state, s.ToString());
        return (prices, state);
    }
}
