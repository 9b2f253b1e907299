using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation;
using Crucible.Evaluation.Statistics;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Ensembles;

/// <summary>
/// Declared disagreement thresholds of an ensemble. The ES spread is (max − min) of the members' ES_α divided by the
/// larger of |median ES_α| and the P&amp;L scale s; the P&amp;L distance is the largest pairwise Wasserstein-1 distance
/// between members' horizon P&amp;L distributions, divided by s (so both are scale-free). s is the median of the members'
/// P&amp;L standard deviations; when that median is 0 (half the members or more have a constant P&amp;L: collapsed), the
/// largest member standard deviation; when every member is constant, a distance is 0 between members at the same value
/// and +∞ otherwise (flagged). s keeps ES near 0 (small, or of mixed sign) from inflating the spread of members that
/// agree. An ES spread whose members' ES are all equal is 0, also when its denominator is 0.
/// </summary>
public sealed record EnsembleThresholds
{
    /// <summary>Flag when the relative ES spread exceeds this.</summary>
    public double MaxEsSpread { get; init; } = 0.35;

    /// <summary>Flag when the largest normalised pairwise Wasserstein-1 distance exceeds this.</summary>
    public double MaxWasserstein { get; init; } = 0.25;
}

/// <summary>One member's result in an ensemble.</summary>
/// <param name="Name">The member's name (its generator's name, made unique with a suffix when repeated).</param>
/// <param name="Stress">The portfolio's risk under the member's scenarios.</param>
public sealed record EnsembleMember(string Name, StressResult Stress);

/// <summary>The outcome of an ensemble request.</summary>
/// <param name="Alpha">The α the ES spread is measured at.</param>
/// <param name="Members">Each member's stress result, in request order.</param>
/// <param name="EsSpread">(max − min) of the members' ES_α / max(|median ES_α|, the P&amp;L scale, <see cref="EnsembleThresholds"/>).</param>
/// <param name="Wasserstein">Pairwise normalised Wasserstein-1 distances between the members' horizon P&amp;L (symmetric, zero diagonal).</param>
/// <param name="MaxWasserstein">The largest entry of <paramref name="Wasserstein"/>.</param>
/// <param name="Thresholds">The declared thresholds.</param>
/// <param name="Flagged">Whether a threshold was exceeded: the members disagree (model inadequacy or manipulation).</param>
/// <param name="Reasons">Why it was flagged, naming the outlying member.</param>
public sealed record EnsembleResult(
    double Alpha,
    IReadOnlyList<EnsembleMember> Members,
    double EsSpread,
    double[][] Wasserstein,
    double MaxWasserstein,
    EnsembleThresholds Thresholds,
    bool Flagged,
    IReadOnlyList<string> Reasons);

/// <summary>
/// Several generators on one request (the same portfolio, count, window and α): each member's scenarios are stressed
/// and their disagreement measured and flagged above the declared thresholds (issue #8: disagreement "may signal
/// manipulation or model inadequacy").
/// </summary>
public static class Ensemble
{
    /// <summary>
    /// Samples <paramref name="count"/> windows of <paramref name="window"/> steps from every member (member m with
    /// its own Philox-derived seed from <paramref name="seed"/>), stresses <paramref name="portfolio"/> with each at
    /// <paramref name="alpha"/>, and measures the disagreement.
    /// </summary>
    public static EnsembleResult Run(IReadOnlyList<IFittedScenarioGenerator> members, Portfolio portfolio, int count, int window,
        double alpha, ulong seed, EnsembleThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count < 2) throw new ArgumentException("an ensemble needs at least two members", nameof(members));
        var seeds = new Philox(seed, stream: 0xE5);
        var names = UniqueNames(members.Select(m => m.Name));
        var results = new List<EnsembleMember>();
        for (int i = 0; i < members.Count; i++)
        {
            var windows = members[i].Sample(count, window, seeds.NextUInt64());
            results.Add(new EnsembleMember(names[i], StressAnalysis.Run(windows.ToSeriesSet(), portfolio, [alpha])));
        }

        return Measure(results, alpha, thresholds ?? new EnsembleThresholds());
    }

    /// <summary>
    /// An ensemble of scenario files (<c>crucible ensemble</c>): each <c>scenario,step,…</c> CSV of log returns is a
    /// member named after its file, stressed with the portfolio at <paramref name="alpha"/>, and their disagreement
    /// measured. Every file must hold the portfolio's series and scenarios of one horizon, the same for all members.
    /// </summary>
    /// <exception cref="InvalidInputException">Fewer than two files, a bad file, members of different horizons, or a file of
    /// fewer than 2 scenarios.</exception>
    public static EnsembleResult RunFiles(IReadOnlyList<string> scenarioPaths, string portfolioPath, double alpha, EnsembleThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(scenarioPaths);
        if (scenarioPaths.Count < 2) throw new InvalidInputException("ensemble-members", "an ensemble needs at least two scenario files");
        var portfolio = Portfolio.Load(portfolioPath);
        var names = UniqueNames(scenarioPaths.Select(Path.GetFileNameWithoutExtension).Select(n => n ?? "member"));
        var members = new List<EnsembleMember>();
        for (int i = 0; i < scenarioPaths.Count; i++)
        {
            var result = StressFiles.Stress(SeriesSetCsv.Read(scenarioPaths[i]), scenarioPaths[i], portfolio, [alpha]);
            if (result.Steps.Min != result.Steps.Max)
                throw new InvalidInputException("ensemble-horizon", string.Create(CultureInfo.InvariantCulture, $"the scenarios have {result.Steps.Min} to {result.Steps.Max} steps; an ensemble member needs one horizon"), new InputLocation(scenarioPaths[i], 0, 0));
            if (members.Count > 0 && result.Steps.Min != members[0].Stress.Steps.Min)
                throw new InvalidInputException("ensemble-horizon", string.Create(CultureInfo.InvariantCulture, $"{result.Steps.Min}-step scenarios, but {names[0]} has {members[0].Stress.Steps.Min}-step scenarios: members must share the horizon"), new InputLocation(scenarioPaths[i], 0, 0));
            members.Add(new EnsembleMember(names[i], result));
        }

        return Measure(members, alpha, thresholds ?? new EnsembleThresholds());
    }

    // the members' names, a repeated one made unique with #2, #3, …
    private static string[] UniqueNames(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = new List<string>();
        foreach (var n in names)
        {
            var name = n;
            for (var k = 2; !seen.Add(name); k++) name = string.Create(CultureInfo.InvariantCulture, $"{n}#{k}");
            unique.Add(name);
        }

        return [.. unique];
    }

    /// <summary>Measures the disagreement of already stressed members (each stressed at <paramref name="alpha"/>).</summary>
    /// <exception cref="InvalidInputException">Fewer than two members, or a member with fewer than 2 scenarios (<c>ensemble-members</c>).</exception>
    public static EnsembleResult Measure(IReadOnlyList<EnsembleMember> members, double alpha, EnsembleThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(thresholds);
        // one member agrees with itself (spread 0, distance 0: never flagged), and none has no ES to compare
        if (members.Count < 2)
            throw new InvalidInputException("ensemble-members", string.Create(CultureInfo.InvariantCulture,
                $"an ensemble needs at least two members, got {members.Count}"));
        // the distances' scale is the members' P&L standard deviations: one scenario has none, and its NaN made every
        // distance NaN, which no threshold flags (a member of 1 scenario far from the others passed as agreeing)
        if (members.FirstOrDefault(m => m.Stress.HorizonReturns.Length < 2) is { } single)
            throw new InvalidInputException("ensemble-members", string.Create(CultureInfo.InvariantCulture,
                $"member {single.Name} has {single.Stress.HorizonReturns.Length} scenario(s); each member needs at least 2 (the P&L distance is scaled by the members' P&L standard deviations)"));
        var es = members.Select(m => m.Stress.Levels.Single(l => l.Alpha == alpha).ExpectedShortfall).ToArray();
        var median = Median(es);
        var sd = members.Select(m => Math.Sqrt(Descriptive(m.Stress.HorizonReturns))).ToArray();
        // the median standard deviation is 0 when half the members or more are collapsed to a constant P&L: a distance
        // divided by it was NaN (0/0) or +∞, and one NaN made the largest NaN, so a collapsed majority passed as
        // agreeing. The largest member's spread scales them then; with none at all, any positive distance is +∞
        var scale = Median(sd) is var m && m > 0 ? m : sd.Max();
        // equal ES everywhere is no spread, also at a denominator of 0 (0/0 was NaN, which no threshold flags). The ES
        // range is divided by |median ES| or, where that is smaller, the P&L scale: ES near 0 (small, or of mixed sign)
        // made the spread of agreeing members explode
        var range = es.Max() - es.Min();
        var spread = range == 0 ? 0 : range / Math.Max(Math.Abs(median), scale);
        var n = members.Count;
        var w = new double[n][];
        for (var i = 0; i < n; i++) w[i] = new double[n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var d = Distances.Wasserstein1(members[i].Stress.HorizonReturns, members[j].Stress.HorizonReturns);
                w[i][j] = w[j][i] = scale > 0 ? d / scale : d > 0 ? double.PositiveInfinity : 0;
            }
        }

        // LINQ's Max skips NaN: a 0/0 distance (constant P&L everywhere) must make the largest one undefined too
        var maxW = w.Any(row => row.Any(double.IsNaN)) ? double.NaN : w.Max(row => row.Max());
        var reasons = new List<string>();
        if (spread > thresholds.MaxEsSpread)
        {
            var outlier = members[Enumerable.Range(0, n).MaxBy(i => Math.Abs(es[i] - median))].Name;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"ES spread {spread:G4} > {thresholds.MaxEsSpread:G4} (furthest from the median: {outlier})"));
        }

        if (maxW > thresholds.MaxWasserstein)
        {
            // the member farthest on average from the others
            var outlier = members[Enumerable.Range(0, n).MaxBy(i => w[i].Sum())].Name;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"P&L Wasserstein {maxW:G4} > {thresholds.MaxWasserstein:G4} (farthest from the others: {outlier})"));
        }

        return new EnsembleResult(alpha, members, spread, w, maxW, thresholds, reasons.Count > 0, reasons);
    }

    private static double Median(double[] values) => Evaluation.Statistics.Descriptive.Percentile(values, 50);

    private static double Descriptive(double[] x)
    {
        // a constant P&L has no spread: exactly 0, not the rounding of its mean (0.01 × 200 gave a standard deviation of
        // about 1e-18, and distances of 1e15 against it)
        if (Array.TrueForAll(x, v => v == x[0])) return 0;
        var mean = x.Average();
        return x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
    }
}
