using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// A backtest whose exception days are known by construction: 2020 (training) is +0.1 % or +0.3 % every day, so the
/// bootstrap's one-day VaR is a gain of 0.1 % at any α; 2021 (the 250 test days) is +0.5 % except a loss of 2 % on the
/// given test days (the exceptions). Two series A and B with the same returns, and a 50/50 portfolio of them.
/// </summary>
internal static class BacktestFixture
{
    /// <summary>Writes <c>returns.csv</c> (log returns) and <c>p.json</c> into <paramref name="dir"/>; returns their paths.</summary>
    public static (string Data, string Portfolio) Write(string dir, int[] exceptionDays)
    {
        var sb = new StringBuilder("Date,A,B\n");
        var date = new DateOnly(2020, 1, 1);
        int test = 0;
        for (int i = 0; test < 250; i++)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            double r = date.Year == 2020 ? (i % 2 == 0 ? 0.001 : 0.003) : exceptionDays.Contains(test++) ? -0.02 : 0.005;
            sb.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{r},{r}\n");
            date = date.AddDays(1);
        }

        string data = Path.Combine(dir, "returns.csv"), portfolio = Path.Combine(dir, "p.json");
        File.WriteAllText(data, sb.ToString());
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.5, "B": 0.5}}""");
        return (data, portfolio);
    }
}
