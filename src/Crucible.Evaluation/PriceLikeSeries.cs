using System.Globalization;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation;

/// <summary>
/// Series that cannot be the log returns the evaluator compares: every value positive and the median above 1 (a log
/// return of 1 is a 172% gain, and half the rows would be larger), the shape of prices or levels (an index, a yield in
/// percent) read as returns. Such a set is still evaluated, with a warning in the report's <c>warnings</c>, as
/// <see cref="SampleSize"/> does: its figures compare prices with returns (KS 1, a "VaR" of minus the price level).
/// </summary>
public static class PriceLikeSeries
{
    /// <summary>Whether <paramref name="values"/> look like prices or levels: non-empty, every value &gt; 0, median &gt; 1.</summary>
    public static bool LooksLikePrices(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty) return false;
        foreach (var v in values)
        {
            if (!(v > 0)) return false;
        }

        return Descriptive.Median(values) > 1;
    }

    /// <summary>
    /// One warning per set (real, synthetic, then train when given) naming its series that <see cref="LooksLikePrices"/>;
    /// empty when every series can be returns.
    /// </summary>
    public static IReadOnlyList<string> Warnings(SeriesSet real, SeriesSet synthetic, SeriesSet? train = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        var warnings = new List<string>();
        foreach (var (name, set) in new[] { ("real", real), ("synthetic", synthetic), ("train", train) })
        {
            if (set is null) continue;
            var named = Enumerable.Range(0, set.SeriesCount).Where(i => LooksLikePrices(set.Columns[i]))
                .Select(i => string.Create(CultureInfo.InvariantCulture, $"'{set.Names[i]}' (median {Descriptive.Median(set.Columns[i]):G6})")).ToArray();
            if (named.Length == 0) continue;
            warnings.Add($"the {name} set's series {string.Join(", ", named)} {(named.Length == 1 ? "has" : "have")} only positive values with a median above 1: "
                + "they look like prices or levels, not the log returns evaluate compares, and every figure on them compares prices with returns "
                + "(evaluate reads log returns: give it ln(P_t / P_{t−1}), as generate writes them)");
        }

        return warnings;
    }
}
