using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>A price history for the stress tests' plausibility reference, rebuilt from a scenario fixture's returns.</summary>
internal static class StressHistoryFixture
{
    /// <summary>
    /// Writes <paramref name="path"/>: prices of A, B, C from 100 on 2010-01-04, one day per row of the first 600 data rows
    /// of <paramref name="scenariosCsv"/> (columns scenario, step, A, B, C), and returns the path.
    /// </summary>
    public static string Write(string scenariosCsv, string path)
    {
        var lines = File.ReadAllLines(scenariosCsv).Skip(1).Take(600).Select(l => l.Split(',')).ToArray();
        var history = new StringBuilder("Date,A,B,C\n");
        double[] price = [100, 100, 100];
        var day = new DateOnly(2010, 1, 4);
        history.Append(CultureInfo.InvariantCulture, $"{day:yyyy-MM-dd},100,100,100\n");
        foreach (var cells in lines)
        {
            day = day.AddDays(1);
            for (var i = 0; i < 3; i++) price[i] *= Math.Exp(double.Parse(cells[2 + i], CultureInfo.InvariantCulture));
            history.Append(CultureInfo.InvariantCulture, $"{day:yyyy-MM-dd},{price[0]:R},{price[1]:R},{price[2]:R}\n");
        }

        File.WriteAllText(path, history.ToString());
        return path;
    }
}
