using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>Small price files for the CLI tests.</summary>
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
}
