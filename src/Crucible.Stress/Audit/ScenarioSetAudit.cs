using System.Globalization;
using Crucible.Evaluation;
using Crucible.Evaluation.Statistics;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Audit;

/// <summary>
/// The risk profile of a scenario set for a portfolio: what a request's output is compared with.
/// </summary>
/// <param name="Volatility">Per series, the standard deviation (n − 1) of all steps' log returns, pooled.</param>
/// <param name="MeanCorrelation">The mean pairwise Pearson correlation of the series over all steps (NaN for one series).</param>
/// <param name="ExpectedShortfall">The portfolio's horizon ES_α.</param>
/// <param name="ConditionalDrawdown">The portfolio's CDaR_α.</param>
public sealed record RiskProfile(double[] Volatility, double MeanCorrelation, double ExpectedShortfall, double ConditionalDrawdown)
{
    /// <summary>The profile of <paramref name="scenarios"/> for <paramref name="portfolio"/> at <paramref name="alpha"/>.</summary>
    public static RiskProfile Of(SeriesSet scenarios, Portfolio portfolio, double alpha)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        var stress = StressAnalysis.Run(scenarios, portfolio, [alpha]).Levels[0];
        var d = scenarios.SeriesCount;
        var vol = scenarios.Columns.Select(c => Math.Sqrt(Generators.Garch11StudentT.SampleVariance(c))).ToArray();
        double sum = 0;
        var pairs = 0;
        for (var i = 0; i < d; i++)
        {
            for (var j = i + 1; j < d; j++)
            {
                sum += Descriptive.Correlation(scenarios.Columns[i], scenarios.Columns[j]);
                pairs++;
            }
        }

        return new RiskProfile(vol, pairs == 0 ? double.NaN : sum / pairs, stress.ExpectedShortfall, stress.ConditionalDrawdown);
    }
}

/// <summary>
/// Where the reference profile for a request's conditions comes from: historical periods whose conditioning series
/// match the conditions, or the generator's own samples at those conditions without guidance or stress
/// (<see cref="ModelReferenceProfile"/>).
/// </summary>
public interface IReferenceProfileSource
{
    /// <summary>The reference profile of <paramref name="portfolio"/> over windows of <paramref name="window"/> steps under <paramref name="conditions"/>.</summary>
    RiskProfile For(IReadOnlyDictionary<string, double> conditions, Portfolio portfolio, int window, double alpha);
}

/// <summary>Declared audit thresholds: how far a set's profile may sit from the reference's, as log ratios.</summary>
public sealed record AuditThresholds
{
    /// <summary>Flag as implausibly benign when ES, CDaR or a series' volatility is below the reference by more than this log ratio (0.5: ×0.61).</summary>
    public double MaxBenignLogRatio { get; init; } = 0.5;

    /// <summary>Flag as out of support when any of them is off by more than this log ratio in either direction (1.0: ×2.7).</summary>
    public double MaxLogRatio { get; init; } = 1.0;

    /// <summary>Flag when the mean correlation differs by more than this.</summary>
    public double MaxCorrelationShift { get; init; } = 0.5;
}

/// <summary>One audit finding.</summary>
/// <param name="Metric">The profile entry (<c>es</c>, <c>cdar</c>, <c>volatility.NAME</c>, <c>mean_correlation</c>).</param>
/// <param name="Set">The set's value.</param>
/// <param name="Reference">The reference value.</param>
/// <param name="Deviation">ln(set / reference) (0 for zero against zero), or the difference for the correlation; NaN when not applicable.</param>
/// <param name="Verdict">
/// <c>benign</c>, <c>out-of-support</c>, or <c>not-applicable</c>: the comparison cannot be made (an ES ≤ 0, whose log
/// ratio means nothing), for the reason in <paramref name="Reason"/>.
/// </param>
/// <param name="Reason">Why the comparison is not applicable; null otherwise.</param>
public sealed record AuditFinding(string Metric, double Set, double Reference, double Deviation, string Verdict, string? Reason = null);

/// <summary>
/// The scenario-set audit (issue #8): a request whose output is implausibly benign, or outside the support, for its
/// conditions is flagged by the distance of its risk profile from the reference profile for those conditions.
/// </summary>
public static class ScenarioSetAudit
{
    /// <summary>
    /// Compares <paramref name="set"/>'s profile with <paramref name="reference"/>; an empty list means it passes. An ES ≤ 0
    /// (either's) is not compared: its finding is <c>not-applicable</c>, with the reason.
    /// </summary>
    public static IReadOnlyList<AuditFinding> Compare(RiskProfile set, RiskProfile reference, IReadOnlyList<string> series, AuditThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(thresholds);
        var findings = new List<AuditFinding>();
        void Ratio(string metric, double s, double r)
        {
            if (metric == "es" && !(s > 0 && r > 0))
            {
                // ES ≤ 0 is a tail of gains: ln(ES/ES_ref) would read two gains as a risk ratio, or be NaN or ±∞
                findings.Add(new AuditFinding(metric, s, r, double.NaN, "not-applicable",
                    "ES ≤ 0 (the tail is not a loss): the log ratio of ES compares losses only"));
                return;
            }

            // equal zeros (no drawdown, a constant series, on both sides) are a ratio of 1, where ln(0/0) is NaN
            var deviation = s == 0 && r == 0 ? 0 : Math.Log(s / r);
            if (!double.IsFinite(deviation) || Math.Abs(deviation) > thresholds.MaxLogRatio)
                findings.Add(new AuditFinding(metric, s, r, deviation, "out-of-support"));
            else if (deviation < -thresholds.MaxBenignLogRatio)
                findings.Add(new AuditFinding(metric, s, r, deviation, "benign"));
        }

        Ratio("es", set.ExpectedShortfall, reference.ExpectedShortfall);
        Ratio("cdar", set.ConditionalDrawdown, reference.ConditionalDrawdown);
        for (var i = 0; i < series.Count; i++) Ratio(string.Create(CultureInfo.InvariantCulture, $"volatility.{series[i]}"), set.Volatility[i], reference.Volatility[i]);
        var shift = set.MeanCorrelation - reference.MeanCorrelation;
        if (Math.Abs(shift) > thresholds.MaxCorrelationShift)
            findings.Add(new AuditFinding("mean_correlation", set.MeanCorrelation, reference.MeanCorrelation, shift, "out-of-support"));
        return findings;
    }
}
