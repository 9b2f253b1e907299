using System.Globalization;

namespace Crucible.Evaluation;

/// <summary>
/// The warning of an evaluation input whose dates are not strictly increasing (<see cref="DateOrderBreak"/>, from
/// <see cref="SeriesSetCsv.Read(string, IReadOnlyList{string}?, out IReadOnlyList{string}, out DateOrderBreak?)"/>):
/// nothing is refused and no figure changes, but the figures computed along the rows follow the file's order. It goes in
/// the report's <c>warnings</c> before the library's own; <c>crucible evaluate</c> names the file by its option
/// (<c>the --real file</c>), <c>POST /v1/evaluations</c> by its request member (<c>the real_csv file</c>).
/// </summary>
public static class DateOrderWarning
{
    /// <summary>
    /// The warning for the <paramref name="role"/> set, read from the file
    /// <paramref name="file"/> names (e.g. <c>the --real file</c>), whose dates stop increasing at <paramref name="at"/>: it
    /// names that line and the figures of <paramref name="report"/> that follow the rows' order (<see cref="TimeOrderFigures"/>).
    /// </summary>
    public static string Text(EvaluationReport report, EvaluationInputRole role, string file, DateOrderBreak at)
    {
        ArgumentNullException.ThrowIfNull(at);
        var figures = TimeOrderFigures(report, role);
        string list = figures.Count == 1 ? figures[0] : string.Join(", ", figures.Take(figures.Count - 1)) + " and " + figures[^1];
        string where = at.Date == at.Previous
            ? string.Create(CultureInfo.InvariantCulture, $"line {at.Line} repeats the date {at.Date:yyyy-MM-dd} of line {at.PreviousLine}")
            : string.Create(CultureInfo.InvariantCulture, $"line {at.Line} is dated {at.Date:yyyy-MM-dd}, before line {at.PreviousLine}'s {at.Previous:yyyy-MM-dd}");
        return $"{file}'s dates are not strictly increasing: {where}; its rows are used in file order, so {list} "
            + "follow that order (sort the file by date and drop duplicate dates first)";
    }

    /// <summary>
    /// The figures of <paramref name="report"/> computed along the rows of the <paramref name="role"/> set (real,
    /// synthetic or train) in their order: the real and synthetic sets' ACF, ACF of |r| (volatility clustering), PACF and
    /// leverage (where any is defined), drawdowns and CDaR and regimes, the real set's VaR backtest, the train set's regime
    /// threshold, and utility's lagged forecasts on every set when computed. Every report has some for each set it reads.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="role"/> is not a defined role.</exception>
    public static IReadOnlyList<string> TimeOrderFigures(EvaluationReport report, EvaluationInputRole role)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Enum.IsDefined(role)) throw new ArgumentOutOfRangeException(nameof(role), role, "not an evaluation input role");
        var figures = new List<string>();
        if (role == EvaluationInputRole.Train)
        {
            figures.Add("the regime threshold");
        }
        else
        {
            bool real = role == EvaluationInputRole.Real;
            if (report.PerSeries.Any(s => (real ? s.Acf.Real : s.Acf.Synthetic).Any(double.IsFinite)))
                figures.Add("its ACF, ACF of |r| (volatility clustering), PACF and leverage");
            figures.Add("drawdowns and CDaR");
            figures.Add("regimes");
            if (real) figures.Add("the VaR backtest");
        }

        if (report.Utility is not null) figures.Add("utility's lagged forecasts");
        return figures;
    }
}
