using System.Globalization;

namespace Crucible.Evaluation;

/// <summary>
/// The smallest real or synthetic set whose report means anything, and the warnings of an evaluation under it. Such a
/// set is still evaluated (every metric is computed or NaN): the report says so in its <c>warnings</c> rather than
/// failing, as a synthetic set smaller than the privacy references is a warning (PRIV-1), not an error.
/// </summary>
public static class SampleSize
{
    /// <summary>
    /// The fewest rows a set needs at confidence <paramref name="alpha"/>: max(4, ⌈1/(1 − α)⌉). Below ⌈1/(1 − α)⌉ rows the
    /// empirical α-VaR and ES have no observation beyond the quantile (n(1 − α) &lt; 1: the "tail" is at most the sample
    /// minimum); at α = 0.99 that is 100 rows, at 0.95, 20. It is the fewest n with n(1 − α) ≥ 1 in the decimal arithmetic
    /// of <see cref="Risk.RiskMeasures.TailCount"/> (α as written: 10,000 rows at 0.9999, where 1/(1 − α) in binary is
    /// 10000.000000000655), so the warning and the estimator's tail agree at every α; int.MaxValue where it is larger.
    /// Below 4 rows the sample skewness and excess kurtosis are undefined (NaN, <see cref="Statistics.Descriptive"/>), a
    /// Pearson correlation of 2 rows is ±1 whatever the data (so <c>corr_distance</c> is noise), and the KS statistic
    /// moves in steps of 1/n.
    /// </summary>
    public static int MinimumRows(double alpha)
    {
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1)");
        var tail = Risk.RiskMeasures.TailFraction(alpha);
        // ⌈1/(1 − α)⌉, checked by multiplying back (exact: n(1 − α) is about 1, with no more decimals than 1 − α) in case
        // the 28-digit quotient rounded across an integer
        var n = Math.Ceiling(1 / tail);
        if (n * tail < 1) n++;
        else if ((n - 1) * tail >= 1) n--;
        return n >= int.MaxValue ? int.MaxValue : Math.Max(4, (int)n);
    }

    /// <summary>
    /// A warning for each of the real and synthetic sets with fewer than <see cref="MinimumRows"/>(<paramref name="alpha"/>)
    /// rows (real first), a synthetic scenario set counted by its scenarios (its portfolio VaR/ES rests on one value per
    /// scenario); empty when both have enough.
    /// </summary>
    public static IReadOnlyList<string> Warnings(SeriesSet real, SeriesSet synthetic, double alpha)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        int minimum = MinimumRows(alpha);
        var warnings = new List<string>();
        foreach (var (name, set) in new[] { ("real", real), ("synthetic", synthetic) })
        {
            // a synthetic scenario set's portfolio VaR/ES rests on one horizon return per scenario: its scenarios count
            // (said as rows when each scenario is one row, as it always was)
            if (name == "synthetic" && set.ScenarioIds is not null && set.PathRows().Count is var scenarios && scenarios < set.RowCount)
            {
                if (scenarios >= minimum) continue;
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the {name} set has {scenarios} scenarios, fewer than the {minimum} its metrics need to mean anything (its portfolio VaR/ES rests on one horizon return per scenario, and an α = {alpha} VaR/ES needs ⌈1/(1 − α)⌉ of them for one observation in the tail): its risk figures are noise"));
                continue;
            }

            if (set.RowCount >= minimum) continue;
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"the {name} set has {set.RowCount} rows, fewer than the {minimum} its metrics need to mean anything (an α = {alpha} VaR/ES needs ⌈1/(1 − α)⌉ rows for one observation in the tail, skewness and kurtosis at least 4): its fidelity, tail and risk figures are noise"));
        }

        return warnings;
    }
}
