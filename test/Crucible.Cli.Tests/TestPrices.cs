using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>Small price and return files for the CLI tests.</summary>
internal static class TestPrices
{
    /// <summary>
    /// Writes <paramref name="path"/>: a price CSV of three random walks A, B, C on weekdays from 2020-01-01 (B correlated
    /// with A), <paramref name="rows"/> rows, from a fixed seed; returns the path.
    /// </summary>
    public static string Write(string path, int rows)
    {
        var rng = new System.Random(4);
        var sb = new StringBuilder("Date,A,B,C\n");
        double a = 100, b = 50, c = 20;
        var date = new DateOnly(2020, 1, 1);
        for (int i = 0; i < rows; i++)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            double z = rng.NextDouble() - 0.5;
            a *= Math.Exp(0.02 * z);
            b *= Math.Exp((0.01 * z) + (0.01 * (rng.NextDouble() - 0.5)));
            c *= Math.Exp(0.03 * (rng.NextDouble() - 0.5));
            sb.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{a:F4},{b:F4},{c:F4}\n");
            date = date.AddDays(1);
        }

        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>
    /// Writes <paramref name="path"/>: a CSV of daily returns of two series A (±0.5%) and B (±1%), uniform, on
    /// <paramref name="rows"/> weekdays from 2020-01-01, from <paramref name="seed"/>; returns the path.
    /// </summary>
    public static string Returns(string path, int rows, int seed = 5)
    {
        var rng = new System.Random(seed);
        var sb = new StringBuilder("Date,A,B\n");
        var date = new DateOnly(2020, 1, 1);
        for (var i = 0; i < rows; i++)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            sb.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{0.01 * (rng.NextDouble() - 0.5):F6},{0.02 * (rng.NextDouble() - 0.5):F6}\n");
            date = date.AddDays(1);
        }

        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>
    /// Writes DIR/prices.csv, two random-walk prices (A, B), and DIR/state.csv, a VIX-like state with DGS10 and DGS3MO (for
    /// TERM, which varies between 0.5 and 1.5), on <paramref name="rows"/> weekdays from 2020-01-01 (fixed seed); returns their paths.
    /// </summary>
    public static (string Prices, string State) Sequence(string dir, int rows = 120)
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
            // DGS10 moves (so TERM = DGS10 − DGS3MO varies and a TERM condition is within the training states), without
            // drawing from rng (the other series stay as they were)
            s.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{15 + (10 * rng.NextDouble()):F2},{1.5 + (0.5 * Math.Sin(i / 7.0)):F2},0.5\n");
            date = date.AddDays(1);
        }

        File.WriteAllText(prices, p.ToString());
        File.WriteAllText(state, s.ToString());
        return (prices, state);
    }
}
