using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// The economic state a sequence model is conditioned on, by date and lagged one day: the row dated d holds what was
/// known at the close of the previous day (the latest state row dated before d, and the returns before d), so a
/// window that starts on d is conditioned only on information available before it.
/// </summary>
/// <remarks>
/// The standard features (<see cref="FeatureNames"/>), from FRED's series as in <c>us_conditioning_daily.csv</c>:
/// <list type="bullet">
/// <item><c>VIXCLS</c>: the VIX close.</item>
/// <item><c>DFF</c>: the effective fed funds rate (the short rate), %.</item>
/// <item><c>TERM</c>: the term spread DGS10 − DGS3MO, percentage points.</item>
/// <item><c>BAA10Y</c>: Moody's Baa yield minus the 10-year Treasury yield, percentage points.</item>
/// <item><c>BAMLH0A0HYM2</c>: the ICE BofA US high-yield option-adjusted spread, percentage points.</item>
/// <item><c>RV20</c>: the trailing realised volatility of the equal-weight (daily rebalanced) portfolio of the return
/// series, annualised, in %: 100 · √(252 / n · Σ p_s²) over the n = 20 portfolio log returns p_s = ln(1/D Σ_i e^{r_s,i})
/// of the days before d (not demeaned, as realised volatility usually is).</item>
/// </list>
/// Any other column of the state frame may be named too; it is carried over as it is, lagged the same way.
/// </remarks>
public static class EconomicState
{
    /// <summary>The standard condition features, in order.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = ["VIXCLS", "DFF", "TERM", "BAA10Y", "BAMLH0A0HYM2", "RV20"];

    /// <summary>
    /// The condition features for every date of <paramref name="logReturns"/> on which all of them are known:
    /// a state row dated before it exists and is at most <paramref name="maxStalenessDays"/> calendar days older than
    /// the date, and (for <c>RV20</c>) <paramref name="volatilityWindow"/> earlier return rows exist.
    /// </summary>
    /// <param name="state">The state series by date (e.g. <c>us_conditioning_daily.csv</c>).</param>
    /// <param name="logReturns">The log returns whose dates the features are given for (and whose equal-weight
    /// portfolio gives RV20).</param>
    /// <param name="features">The features to build (default <see cref="FeatureNames"/>): standard names or columns of
    /// <paramref name="state"/>.</param>
    /// <param name="volatilityWindow">n of RV20 (the feature keeps its name whatever n is).</param>
    /// <param name="maxStalenessDays">The oldest a state row may be, in calendar days before the date it serves.</param>
    /// <exception cref="InvalidInputException">Undated frames, a feature whose source columns are missing, <c>RV20</c> on
    /// returns that are not daily (rule <see cref="RowFrequencyRule"/>: a median gap between their dates above
    /// <see cref="MaxDailyMedianGapDays"/> calendar days: a <see cref="SequenceOptionException"/>, whose advice names the
    /// condition features as each shell does), or no date with every feature known.</exception>
    public static TimeSeriesFrame Build(
        TimeSeriesFrame state, TimeSeriesFrame logReturns, IReadOnlyList<string>? features = null, int volatilityWindow = 20, int maxStalenessDays = 7)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(logReturns);
        ArgumentOutOfRangeException.ThrowIfLessThan(volatilityWindow, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxStalenessDays, 1);
        features ??= FeatureNames;
        if (features.Count == 0) throw new InvalidInputException(CsvRules.Join, "no condition feature was named");
        if (!state.HasDates || !logReturns.HasDates || state.Dates.Length == 0 || logReturns.Dates.Length == 0)
            throw new InvalidInputException(CsvRules.Join, "economic-state features need dated state and return frames");
        if (features.Distinct(StringComparer.Ordinal).Count() != features.Count)
            throw new InvalidInputException(CsvRules.Join, "a condition feature is named twice");

        var sources = features.Select(f => Source(state, f)).ToArray();
        bool needsVolatility = features.Contains("RV20", StringComparer.Ordinal);
        if (needsVolatility && MedianGapDays(logReturns.Dates) is var gap and > MaxDailyMedianGapDays)
        {
            string why = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"condition feature RV20 is the realised volatility of the {volatilityWindow} daily returns before each date, annualised with √252, but these returns' dates are {gap} calendar days apart (the median): on weekly or monthly rows it would be a {volatilityWindow}-week or -month volatility scaled as if daily; name the condition features without RV20");
            string[] stateOnly = [.. FeatureNames.Where(f => !IsReturnDerived(f))];
            throw new SequenceOptionException(RowFrequencyRule, $"{why} (e.g. {string.Join(", ", stateOnly)})", n => $"{why} ({n.Given(SequenceOption.StateColumns, stateOnly)})");
        }

        double[] portfolio = needsVolatility ? EqualWeightPortfolio(logReturns) : [];
        var dates = new List<DateOnly>();
        var values = new List<double>();
        for (int r = 0; r < logReturns.RowCount; r++)
        {
            if (needsVolatility && r < volatilityWindow) continue;
            var d = logReturns.Dates[r];
            int s = state.IndexDaysBefore(d, 1);
            if (s < 0 || d.DayNumber - state.Dates[s].DayNumber > maxStalenessDays) continue;
            dates.Add(d);
            foreach (var source in sources) values.Add(source(s, r, portfolio, volatilityWindow));
        }

        if (dates.Count == 0 && needsVolatility && logReturns.RowCount <= volatilityWindow)
        {
            // every date was left out for RV20's window, whatever the state: not a question of overlap
            throw new InvalidInputException(CsvRules.Join, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"no return date has condition feature RV20: it is the realised volatility of the {volatilityWindow} returns before each date, and these returns have "
                + $"{logReturns.RowCount} rows, so none has {volatilityWindow} before it; give at least {volatilityWindow + 1} rows of returns, or name the condition features without RV20"));
        }

        if (dates.Count == 0)
            throw new InvalidInputException(CsvRules.Join, "no return date has the economic state of the day before it (do the state and return files overlap in time?)");
        return new TimeSeriesFrame([.. dates], [.. features], [.. values]);
    }

    /// <summary>The rule of a return-derived feature asked of returns that are not daily (<c>RV20</c> on weekly or monthly rows).</summary>
    public const string RowFrequencyRule = "condition-frequency";

    /// <summary>
    /// The largest median calendar-day gap between consecutive return dates that <c>RV20</c> accepts as daily rows: 1 for
    /// trading days (weekends are a minority of gaps), up to 4 for a daily file with every other day missing; weekly rows
    /// have 7, monthly about 30.
    /// </summary>
    public const int MaxDailyMedianGapDays = 4;

    /// <summary>The median of the calendar-day gaps between consecutive <paramref name="dates"/> (0 for fewer than two).</summary>
    public static int MedianGapDays(IReadOnlyList<DateOnly> dates)
    {
        if (dates.Count < 2) return 0;
        var gaps = new int[dates.Count - 1];
        for (int i = 1; i < dates.Count; i++) gaps[i - 1] = dates[i].DayNumber - dates[i - 1].DayNumber;
        Array.Sort(gaps);
        return gaps[gaps.Length / 2];
    }

    /// <summary>
    /// The standard features derived from the return series rather than from the state file (<c>RV20</c>): under DP with
    /// a public state (<see cref="Tabular.DpTrainingOptions.PublicState"/>) they are refused, since they are statistics of
    /// the private returns.
    /// </summary>
    public static IReadOnlyList<string> ReturnDerivedFeatures { get; } = ["RV20"];

    /// <summary>Whether <paramref name="feature"/> is computed from the return series (<see cref="ReturnDerivedFeatures"/>).</summary>
    public static bool IsReturnDerived(string feature) => ReturnDerivedFeatures.Contains(feature, StringComparer.Ordinal);

    /// <summary>
    /// The condition features from the state file alone, on the state's own calendar: one row per state row dated up to
    /// <paramref name="stateEnd"/> (all of them when null), holding that row's features and dated the next day (the first
    /// day a window could see it, as <see cref="Build"/> lags them). No return is read, so everything computed from this
    /// frame (the conditions' standardisation, the reference state, the crisis archetypes) is a statistic of public data.
    /// </summary>
    /// <param name="state">The state series by date.</param>
    /// <param name="features">The features (default <see cref="FeatureNames"/>); none may be return-derived.</param>
    /// <param name="stateEnd">The last state date to use (e.g. the declared train end), or null for the whole file.</param>
    /// <exception cref="InvalidInputException">A return-derived feature (rule <c>DP-E-PREPROCESS</c>, naming it: a
    /// <see cref="SequenceOptionException"/>, whose advice names the state features as each shell does), a feature
    /// whose source columns are missing, or no state row up to <paramref name="stateEnd"/>.</exception>
    public static TimeSeriesFrame BuildPublic(TimeSeriesFrame state, IReadOnlyList<string>? features = null, DateOnly? stateEnd = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        features ??= FeatureNames;
        foreach (var f in features)
        {
            if (IsReturnDerived(f)) throw ReturnDerivedUnderDp(f);
        }

        if (!state.HasDates || state.RowCount == 0) throw new InvalidInputException(CsvRules.Join, "economic-state features need a dated state frame");
        int rows = stateEnd is { } end ? state.IndexAtOrBefore(end) + 1 : state.RowCount;
        if (rows < 1)
        {
            throw new InvalidInputException(CsvRules.Join,
                $"the state file has no row dated on or before {stateEnd!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}");
        }
        var calendar = new DateOnly[rows];
        for (int r = 0; r < rows; r++) calendar[r] = state.Dates[r].AddDays(1);
        return Build(state, new TimeSeriesFrame(calendar, [], []), features);
    }

    /// <summary>
    /// The refusal (<c>DP-E-PREPROCESS</c>) of the return-derived <paramref name="feature"/> under DP with a public state, its
    /// advice naming the state features in each shell's words (<see cref="SequenceOptionException.Worded"/>);
    /// <paramref name="byDefault"/> when it is one of the default features, no feature having been named.
    /// </summary>
    internal static SequenceOptionException ReturnDerivedUnderDp(string feature, bool byDefault = false)
    {
        string why = $"condition feature {feature} is computed from the private returns (the equal-weight portfolio's realised volatility), not from the public state: "
            + "under DP it would be a statistic of the private data outside DP-SGD's accounting; name state features only";
        string[] stateOnly = [.. FeatureNames.Where(f => !IsReturnDerived(f))];
        string defaults = byDefault ? "; the default features include it" : "";
        return new SequenceOptionException("DP-E-PREPROCESS", $"{why} (e.g. {string.Join(", ", stateOnly)}){defaults}",
            n => $"{why} ({n.Given(SequenceOption.StateColumns, stateOnly)}){defaults}");
    }

    private delegate double FeatureSource(int stateRow, int returnRow, double[] portfolio, int window);

    private static FeatureSource Source(TimeSeriesFrame state, string feature)
    {
        int Column(string name)
        {
            int c = IndexOf(state, name);
            if (c < 0) throw new InvalidInputException(CsvRules.Join, $"feature {feature} needs the state column {name}, which the state file lacks (it has {string.Join(", ", state.Columns)})");
            return c;
        }

        switch (feature)
        {
            case "TERM":
            {
                int ten = Column("DGS10"), threeMonth = Column("DGS3MO");
                return (s, _, _, _) => state[s, ten] - state[s, threeMonth];
            }

            case "RV20":
                return (_, r, p, n) =>
                {
                    double sum = 0;
                    for (int q = r - n; q < r; q++) sum += p[q] * p[q];
                    return 100.0 * Math.Sqrt(252.0 / n * sum);
                };

            default:
            {
                int c = Column(feature);
                return (s, _, _, _) => state[s, c];
            }
        }
    }

    private static int IndexOf(TimeSeriesFrame frame, string name)
    {
        for (int c = 0; c < frame.ColumnCount; c++)
        {
            if (string.Equals(frame.Columns[c], name, StringComparison.Ordinal)) return c;
        }

        return -1;
    }

    /// <summary>ln(1/D Σ_i e^{r_t,i}) for every row: the log return of the equal-weight, daily rebalanced portfolio.</summary>
    public static double[] EqualWeightPortfolio(TimeSeriesFrame logReturns)
    {
        ArgumentNullException.ThrowIfNull(logReturns);
        int d = logReturns.ColumnCount;
        var p = new double[logReturns.RowCount];
        for (int r = 0; r < p.Length; r++)
        {
            double s = 0;
            foreach (double v in logReturns.Row(r)) s += Math.Exp(v);
            p[r] = Math.Log(s / d);
        }

        return p;
    }

    /// <summary>
    /// The expected shortfall at <paramref name="alpha"/> of the W-day log returns of the equal-weight portfolio
    /// (<see cref="EqualWeightPortfolio"/>) over <paramref name="count"/> windows of <paramref name="window"/> rows starting
    /// every <paramref name="stride"/> rows: the mean of the k = max(1, ⌈count (1 − α)⌉) worst sums, as a positive loss
    /// (the definition of Crucible.Evaluation's <c>RiskMeasures.ExpectedShortfall</c>). Stride W reads scenario windows
    /// laid end to end; stride 1 the overlapping windows of a history.
    /// </summary>
    public static double EqualWeightWindowExpectedShortfall(TimeSeriesFrame logReturns, int window, int count, int stride, double alpha)
    {
        ArgumentNullException.ThrowIfNull(logReturns);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (((long)(count - 1) * stride) + window > logReturns.RowCount)
            throw new ArgumentException($"{count} windows of {window} rows every {stride} need more than {logReturns.RowCount} rows");
        var daily = EqualWeightPortfolio(logReturns);
        var totals = new double[count];
        for (int b = 0; b < count; b++)
        {
            double s = 0;
            for (int t = 0; t < window; t++) s += daily[(b * stride) + t];
            totals[b] = s;
        }

        Array.Sort(totals);
        int k = Math.Max(1, (int)Math.Ceiling((count * (1 - alpha)) - 1e-9));
        double sum = 0;
        for (int i = 0; i < k; i++) sum -= totals[i];
        return sum / k;
    }
}
