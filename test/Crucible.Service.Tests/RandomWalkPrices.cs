using System.Globalization;
using System.Text;

namespace Crucible.Service.Tests;

/// <summary>
/// The training data of the service tests: a CSV of two random-walk prices, A from 100 and B from 50, with daily log
/// returns 0.02·(u − ½) and 0.01·(u − ½) (<paramref name="correlated"/>: B's return is 0.01·z + 0.01·(u − ½), z being A's
/// u − ½), one row a weekday or, with <paramref name="weekdaysOnly"/> false, one row a calendar day.
/// </summary>
internal static class RandomWalkPrices
{
    public static string Csv(int rows, int seed, DateOnly start, bool weekdaysOnly = true, bool correlated = false)
    {
        var rng = new System.Random(seed);
        var csv = new StringBuilder("Date,A,B\n");
        double a = 100, b = 50;
        var date = start;
        for (int i = 0; i < rows; i++, date = date.AddDays(1))
        {
            while (weekdaysOnly && date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            double z = rng.NextDouble() - 0.5;
            a *= Math.Exp(0.02 * z);
            b *= correlated ? Math.Exp((0.01 * z) + (0.01 * (rng.NextDouble() - 0.5))) : Math.Exp(0.01 * (rng.NextDouble() - 0.5));
            csv.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{a:F4},{b:F4}\n");
        }

        return csv.ToString();
    }
}
