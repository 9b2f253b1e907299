using System.Globalization;
using System.Text;
using Crucible.Data.IO;
using Crucible.Evaluation.Risk;

namespace Crucible.Evaluation.Reporting;

/// <summary>
/// Writes the report as one self-contained <c>report.html</c> that opens offline: inline CSS and SVG, no JavaScript,
/// no external URLs. Sections: summary and threshold verdicts, marginals (histogram and QQ plot per series),
/// dependence (correlation and lower-tail heatmaps, real vs synthetic), temporal (ACF and ACF of |r| per series),
/// risk (VaR/ES table, drawdown distribution), regimes, privacy (DCR histogram when a train set was given), utility
/// (TSTR / TRTR / TRTS table and importance charts when a train set was given), coverage by segment (when segments
/// were declared).
/// A wide set stays readable: heatmaps of more than <see cref="SvgHeatmap.MaxCells"/> series are drawn in blocks (with a
/// table of the pairs whose correlations differ most), and per-series charts are drawn for at most
/// <see cref="MaxSeriesCharts"/> series, those with the largest KS; the tables list every series.
/// Every chart carries a stable <c>id</c> and <c>data-chart</c>: <c>hist-NAME</c>, <c>qq-NAME</c>, <c>acf-NAME</c>,
/// <c>acf-abs-NAME</c>, <c>corr-real</c>, <c>corr-synthetic</c>, <c>tail-real</c>, <c>tail-synthetic</c>,
/// <c>drawdowns</c>, <c>dcr</c>, <c>importance-return</c>, <c>importance-volatility</c> (NAME with characters other
/// than letters, digits, '-' and '_' replaced by '_'), a text alternative (<c>role="img"</c>, <c>aria-label</c>, <c>title</c>)
/// and its figures as a table folded under it (<c>details.figures</c>). The content sits in one <c>&lt;main&gt;</c>.
/// </summary>
public static class ReportHtml
{
    private const string RealColour = "#1f5fa8";
    private const string SynthColour = "#d9622b";

    /// <summary>Writes the page atomically (temporary file beside <paramref name="path"/>, then rename).</summary>
    public static void Write(EvaluationReport report, string path, IReadOnlyList<ThresholdVerdict>? verdicts = null, IReadOnlyList<ReportSection>? sections = null)
    {
        AtomicFile.WriteAllText(path, ToHtml(report, verdicts, sections));
    }

    /// <summary>The page as text; <paramref name="sections"/>' HTML fragments follow the report's own sections.</summary>
    public static string ToHtml(EvaluationReport report, IReadOnlyList<ThresholdVerdict>? verdicts = null, IReadOnlyList<ReportSection>? sections = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Crucible evaluation report</title>\n<style>")
          .Append(Css).Append("</style></head><body>\n<main>\n<h1>Crucible evaluation report</h1>\n");
        if (report.Warnings.Count > 0)
        {
            sb.Append("<ul id=\"warnings\">");
            foreach (var warning in report.Warnings) sb.Append("<li class=\"fail\">").Append(E(warning)).Append("</li>");
            sb.Append("</ul>\n");
        }

        sb.Append(inv, $"<p class=\"meta\">{report.Rows.Real} real rows ({report.Rows.RealPaths} path(s)), {report.Rows.Synthetic} synthetic rows ({report.Rows.SyntheticPaths} path(s))");
        if (report.Rows.Train is { } tr) sb.Append(inv, $", {tr} train rows");
        sb.Append(inv, $"; α = {N(report.Alpha)}, {report.Lags} lags, tail level u = {N(report.TailLevel)}.</p>\n");

        sb.Append("<section id=\"summary\"><h2>Summary</h2>");
        if (verdicts is { Count: > 0 })
        {
            var failed = verdicts.Count(v => !v.Passed);
            sb.Append(inv, $"<p class=\"{(failed == 0 ? "pass" : "fail")}\" id=\"verdict\">{(failed == 0 ? "All thresholds passed" : $"{failed} of {verdicts.Count} thresholds failed")}</p>");
            sb.Append("<table id=\"verdicts\"><tr><th>metric</th><th>bound</th><th>value</th><th>verdict</th></tr>");
            foreach (var v in verdicts)
            {
                var (value, limit) = ThresholdCheck.Display(v);
                var bound = (v.Threshold.Kind == ThresholdKind.Max ? "≤ " : "≥ ") + limit;
                sb.Append(inv, $"<tr><td>{E(v.Threshold.Key)}</td><td>{bound}</td><td>{value}</td><td class=\"{(v.Passed ? "pass" : "fail")}\">{(v.Passed ? "pass" : "FAIL")}</td></tr>");
            }
            sb.Append("</table>");
        }
        else
        {
            sb.Append("<p>No thresholds were declared for this run.</p>");
        }
        sb.Append("<table id=\"headline\"><tr><th>metric</th><th>value</th></tr>");
        foreach (var (k, v) in new[] { ("ks_mean", report.KsMean), ("ks_max", report.KsMax), ("wasserstein_mean", report.WassersteinMean), ("corr_distance", report.CorrDistance) })
            sb.Append(inv, $"<tr><td>{k}</td><td>{N(v)}</td></tr>");
        if (report.Privacy is { } p)
        {
            foreach (var (k, v) in new[] { ("dcr_train_median", p.DcrTrainMedian), ("dcr_train_p05", p.DcrTrainP05), ("dcr_holdout_median", p.DcrHoldoutMedian), ("share_closer_to_train", p.ShareCloserToTrain) })
                sb.Append(inv, $"<tr><td>privacy.{k}</td><td>{N(v)}</td></tr>");
        }
        sb.Append("</table></section>\n");

        sb.Append("<section id=\"marginals\"><h2>Marginals</h2><table><tr><th>series</th><th>KS</th><th>W1</th><th>mean (real / synth)</th><th>std</th><th>skewness</th><th>excess kurtosis</th></tr>");
        foreach (var s in report.PerSeries)
            sb.Append(inv, $"<tr><td>{E(s.Name)}</td><td>{N(s.Ks)}</td><td>{N(s.Wasserstein)}</td><td>{P(s.Mean)}</td><td>{P(s.Std)}</td><td>{P(s.Skewness)}</td><td>{P(s.ExcessKurtosis)}</td></tr>");
        sb.Append("</table>");
        var charted = ChartedSeries(report);
        var slugs = UniqueSlugs(report.PerSeries.Select(x => x.Name));
        if (charted.Length < report.PerSeries.Count)
            sb.Append(inv, $"<p id=\"charted-series\">Charts (histogram, QQ plot, ACF) for the {charted.Length} series with the largest KS of {report.PerSeries.Count}, in column order; the tables list every series and report.json holds every figure.</p>");
        sb.Append("<div class=\"grid\">");
        foreach (var i in charted)
        {
            var name = report.PerSeries[i].Name;
            var h = report.Charts.Histograms[i];
            sb.Append(new SvgChart("hist-" + slugs[i], name + ": histogram (0.1%–99.9%)", "return", "density")
                .Histogram(h.Edges, Density(h.Real, h.Edges), RealColour, "real")
                .Histogram(h.Edges, Density(h.Synthetic, h.Edges), SynthColour, "synthetic").ToFigure());
            var q = report.Charts.Quantiles[i];
            var lo = Math.Min(q.Real[0], q.Synthetic[0]);
            var hi = Math.Max(q.Real[^1], q.Synthetic[^1]);
            sb.Append(new SvgChart("qq-" + slugs[i], name + ": QQ plot (0.5%–99.5%)", "real quantile", "synthetic quantile")
                .Line([lo, hi], [lo, hi], "#888888", "", dashed: true)
                .Scatter(q.Real, q.Synthetic, SynthColour, "quantiles").ToFigure());
        }
        sb.Append("</div></section>\n");

        var labels = report.Columns;
        sb.Append("<section id=\"dependence\"><h2>Dependence</h2>");
        sb.Append(inv, $"<p>corr_distance = {N(report.CorrDistance)} (‖C_real − C_synth‖_F / ‖C_real‖_F).</p><div class=\"grid\">");
        Heatmap(sb, "corr-real", "Correlation, real", report.Correlation.Real, labels);
        Heatmap(sb, "corr-synthetic", "Correlation, synthetic", report.Correlation.Synthetic, labels);
        Heatmap(sb, "tail-real", "Lower-tail dependence λ_L, real", report.LowerTailDependence.Real, labels, 0, 1);
        Heatmap(sb, "tail-synthetic", "Lower-tail dependence λ_L, synthetic", report.LowerTailDependence.Synthetic, labels, 0, 1);
        sb.Append("</div>");
        if (labels.Length > SvgHeatmap.MaxCells) LargestCorrelationDifferences(sb, report);
        sb.Append("</section>\n");

        sb.Append("<section id=\"temporal\"><h2>Temporal</h2><div class=\"grid\">");
        var lags = Enumerable.Range(1, report.Lags).Select(l => (double)l).ToArray();
        foreach (var (s, slug) in charted.Select(i => (report.PerSeries[i], slugs[i])))
        {
            sb.Append(new SvgChart("acf-" + slug, s.Name + ": ACF", "lag", "autocorrelation")
                .Line(lags, s.Acf.Real, RealColour, "real").Line(lags, s.Acf.Synthetic, SynthColour, "synthetic").ToFigure());
            sb.Append(new SvgChart("acf-abs-" + slug, s.Name + ": ACF of |r|", "lag", "autocorrelation")
                .Line(lags, s.AcfAbs.Real, RealColour, "real").Line(lags, s.AcfAbs.Synthetic, SynthColour, "synthetic").ToFigure());
        }
        sb.Append("</div></section>\n");

        sb.Append("<section id=\"risk\"><h2>Risk</h2>");
        sb.Append(inv, $"<table id=\"var-es\"><tr><th>series</th><th>VaR {N(report.Alpha)} real</th><th>VaR synth</th><th>ES real</th><th>ES synth</th><th>max drawdown real</th><th>max drawdown synth</th><th>CDaR real</th><th>CDaR synth</th></tr>");
        foreach (var s in report.PerSeries)
            sb.Append(inv, $"<tr><td>{E(s.Name)}</td><td>{N(s.Var.Real)}</td><td>{N(s.Var.Synthetic)}</td><td>{N(s.Es.Real)}</td><td>{N(s.Es.Synthetic)}</td><td>{N(s.MaxDrawdown.Real)}</td><td>{N(s.MaxDrawdown.Synthetic)}</td><td>{N(s.Cdar.Real)}</td><td>{N(s.Cdar.Synthetic)}</td></tr>");
        var pf = report.Portfolio;
        sb.Append(inv, $"<tr class=\"portfolio\"><td>portfolio{(pf.Horizon is { } steps ? $" ({steps}-step horizon)" : "")}</td><td>{N(pf.Var.Real)}</td><td>{N(pf.Var.Synthetic)}</td><td>{N(pf.Es.Real)}</td><td>{N(pf.Es.Synthetic)}</td><td></td><td></td><td>{N(pf.Cdar.Real)}</td><td>{N(pf.Cdar.Synthetic)}</td></tr></table>");
        var bt = report.Portfolio.Backtest;
        sb.Append(inv, $"<p id=\"backtest\">VaR backtest: the synthetic one-step portfolio VaR {N(bt.ValueAtRisk)} was exceeded on {bt.Result.Exceptions} of the last {bt.Result.Observations} real rows (Kupiec LR {N(bt.Result.KupiecStatistic)}, p = {N(bt.Result.KupiecPValue)}; Basel zone <span class=\"zone-{bt.Result.Zone.WireName()}\">{bt.Result.Zone.WireName()}</span>: {E(Risk.VarBacktest.Bounds(bt.Result.Observations, report.Alpha).ToString())}).</p>");
        if (bt.AllDays is { } all)
        {
            var c = all.Christoffersen;
            var zone = all.Result.Zone.WireName();
            sb.Append(inv, $"<p id=\"backtest-all-days\">Over every real row: the same VaR was exceeded on {all.Result.Exceptions} of {all.Result.Observations} rows ({all.Paths} path(s); {N(all.Result.Observations * (1 - report.Alpha))} expected at α {N(report.Alpha)}; Kupiec LR {N(all.Result.KupiecStatistic)}, p = {N(all.Result.KupiecPValue)}{(c is null ? "" : $"; Christoffersen independence p = {N(c.IndependencePValue)}, conditional coverage p = {N(c.ConditionalCoveragePValue)}")}; Basel zone <span class=\"zone-{zone}\">{zone}</span>: {E(Risk.VarBacktest.Bounds(all.Result.Observations, report.Alpha).ToString())}).</p>");
        }
        if (bt.Horizon is { } hb)
        {
            sb.Append(inv, $"<p id=\"backtest-horizon\">At the scenarios' horizon: the synthetic {hb.Horizon}-step VaR {N(hb.ValueAtRisk)} was exceeded in {hb.Exceptions} of {hb.Observations} non-overlapping real {hb.Horizon}-step windows ({N(hb.Observations * (1 - report.Alpha))} expected at α {N(report.Alpha)}; Kupiec LR {N(hb.KupiecStatistic)}, p = {N(hb.KupiecPValue)}; for a correct VaR P(X ≤ {hb.Exceptions}) = {N(hb.ProbabilityAtMost)}, P(X ≥ {hb.Exceptions}) = {N(hb.ProbabilityAtLeast)}, X ~ Binomial({hb.Observations}, {N(1 - report.Alpha)}); {E(ReportJson.HorizonBacktestNote)}).</p>");
        }
        var dd = report.Charts.Drawdowns;
        sb.Append(new SvgChart("drawdowns", "Portfolio drawdown distribution (all steps of all paths)", "drawdown", "density", 560, 280)
            .Histogram(dd.Edges, Density(dd.Real, dd.Edges), RealColour, "real")
            .Histogram(dd.Edges, Density(dd.Synthetic, dd.Edges), SynthColour, "synthetic").ToFigure()).Append("</section>\n");

        var rg = report.Regimes;
        sb.Append(inv, $"<section id=\"regimes\"><h2>Regimes</h2><p>Stressed: {rg.Window}-step realised volatility of the portfolio above {N(rg.Threshold)} (the {N(rg.Percentile)}th percentile of the fitting set).</p>");
        sb.Append(inv, $"<table><tr><th></th><th>real</th><th>synthetic</th></tr><tr><td>share of time stressed</td><td>{N(rg.HighVolatilityShare.Real)}</td><td>{N(rg.HighVolatilityShare.Synthetic)}</td></tr><tr><td>P(calm → stressed)</td><td>{N(rg.CalmToStressed.Real)}</td><td>{N(rg.CalmToStressed.Synthetic)}</td></tr><tr><td>P(stressed → calm)</td><td>{N(rg.StressedToCalm.Real)}</td><td>{N(rg.StressedToCalm.Synthetic)}</td></tr></table>");
        if (rg.TransitionsUnavailable is { } noTransitions) sb.Append("<p id=\"regimes-transitions-unavailable\">").Append(E(noTransitions)).Append("</p>");
        sb.Append("</section>\n");

        if (report.Charts.Dcr is { } dcr)
        {
            sb.Append("<section id=\"privacy\"><h2>Privacy</h2><p>Distance from each synthetic row to its closest train row and closest holdout (real) row, standardised with train's statistics. Train distances clearly below holdout distances indicate memorisation.</p>");
            if (report.Privacy is { } pv)
            {
                if (pv.Subsample is { } sub) SubsampleParagraph(sb, sub);
                sb.Append(inv, $"<p id=\"share-closer\">Share of synthetic rows closer to train than to holdout: {N(pv.ShareCloserToTrain)}");
                // the rows the share was measured on: the drawn ones under a subsample
                var (train, holdout, synthetic) = pv.Subsample is { } drawn
                    ? (drawn.Train.Drawn, drawn.Holdout.Drawn, drawn.Synthetic.Drawn)
                    : (report.Rows.Train, report.Rows.Real, report.Rows.Synthetic);
                if (train == holdout)
                {
                    // METRICS.md: with train and holdout of equal size a non-leaking generator stays at most this high
                    var bound = 0.5 + (1.645 * Math.Sqrt(0.25 / synthetic));
                    sb.Append(inv, $" (a non-leaking generator stays ≤ 0.5 + 1.645·√(0.25/n) = {N(bound)}: <span class=\"{(pv.ShareCloserToTrain <= bound ? "pass" : "fail")}\">{(pv.ShareCloserToTrain <= bound ? "within" : "above")}</span>)");
                }
                sb.Append(".</p>");
                if (pv.Audit is { } audit) AuditParagraphs(sb, audit);
                if (pv.Membership is { } mia)
                    sb.Append(inv, $"<p id=\"membership\">Membership inference (DOMIAS-style density ratio, Gaussian KDE; {mia.Members} train rows as members against {mia.NonMembers} holdout rows, reference density on {mia.Reference} other holdout rows, synthetic density on {mia.SyntheticUsed} rows): ROC AUC {N(mia.Auc)} (0.5: no leakage), TPR {N(mia.TprAtFpr10)} at FPR 0.1, {N(mia.TprAtFpr01)} at FPR 0.01.{GateText(mia.Gate)}</p>");
                else if (pv.MembershipSkipped is { } why)
                    sb.Append("<p id=\"membership\">Membership inference not run: ").Append(E(why)).Append(".</p>");
                Attacks(sb, pv);
            }
            sb.Append(new SvgChart("dcr", "Distance to closest record", "distance", "density", 560, 280)
                .Histogram(dcr.Edges, Density(dcr.Real, dcr.Edges), RealColour, "to train")
                .Histogram(dcr.Edges, Density(dcr.Synthetic, dcr.Edges), SynthColour, "to holdout").ToFigure()).Append("</section>\n");
        }
        if (report.Utility is { } u) UtilitySection(sb, u, report.Columns);
        else if (report.UtilitySkipped is { } why) sb.Append("<section id=\"utility\"><h2>Utility</h2><p>Not computed: ").Append(E(why)).Append(".</p></section>\n");
        if (report.Coverage is { } coverage) CoverageSection(sb, coverage);
        foreach (var section in sections ?? []) sb.Append(section.Html).Append('\n');
        sb.Append("</main></body></html>\n");
        return sb.ToString();
    }

    // the split-disciplined DCR share gate, IMS and NNDR (PRIV-1/3/4/5) and the split's warnings
    /// <summary>The most series charted one by one (histogram, QQ plot, ACF, ACF of |r|): four charts a series.</summary>
    public const int MaxSeriesCharts = 50;

    /// <summary>How many pairs the largest-correlation-difference table lists when the heatmaps are drawn in blocks.</summary>
    public const int CorrelationPairsListed = 20;

    /// <summary>
    /// Indices (in column order) of the series charted one by one: every series up to <see cref="MaxSeriesCharts"/>,
    /// else the <see cref="MaxSeriesCharts"/> with the largest KS (NaN last, ties by column order).
    /// </summary>
    internal static int[] ChartedSeries(EvaluationReport report)
    {
        var n = report.PerSeries.Count;
        if (n <= MaxSeriesCharts) return [.. Enumerable.Range(0, n)];
        return [.. Enumerable.Range(0, n)
            .OrderByDescending(i => double.IsNaN(report.PerSeries[i].Ks) ? double.NegativeInfinity : report.PerSeries[i].Ks)
            .ThenBy(i => i)
            .Take(MaxSeriesCharts)
            .Order()];
    }

    /// <summary>
    /// The <see cref="CorrelationPairsListed"/> pairs with the largest |C_real − C_synth| (ties by position), the
    /// pair-level view that the block heatmaps of a wide set average away.
    /// </summary>
    private static void LargestCorrelationDifferences(StringBuilder sb, EvaluationReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var real = report.Correlation.Real;
        var syn = report.Correlation.Synthetic;
        var pairs = new List<(int I, int J, double Diff)>();
        for (var i = 0; i < real.Length; i++)
        {
            for (var j = i + 1; j < real.Length; j++)
            {
                var d = Math.Abs(real[i][j] - syn[i][j]);
                if (!double.IsNaN(d)) pairs.Add((i, j, d));
            }
        }
        var top = pairs.OrderByDescending(p => p.Diff).ThenBy(p => p.I).ThenBy(p => p.J).Take(CorrelationPairsListed).ToList();
        sb.Append(inv, $"<p>The heatmaps average blocks of series; the {top.Count} pairs whose correlations differ most:</p>");
        sb.Append("<table id=\"corr-largest-differences\"><tr><th>series</th><th>series</th><th>real</th><th>synthetic</th><th>|difference|</th></tr>");
        foreach (var (i, j, d) in top)
            sb.Append(inv, $"<tr><td>{E(report.Columns[i])}</td><td>{E(report.Columns[j])}</td><td>{N(real[i][j])}</td><td>{N(syn[i][j])}</td><td>{N(d)}</td></tr>");
        sb.Append("</table>");
    }

    // a privacy section measured on drawn rows says so before its figures
    private static void SubsampleParagraph(StringBuilder sb, Privacy.PrivacySubsample sub)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<p id=\"privacy-subsample\">Measured on a subsample (at most {sub.Limit} rows of each set, drawn uniformly without replacement, seed {sub.Seed}, Philox stream {Privacy.PrivacySubsample.Stream}): {sub.Train.Drawn} of {sub.Train.Rows} train rows, {sub.Holdout.Drawn} of {sub.Holdout.Rows} holdout rows, {sub.Synthetic.Drawn} of {sub.Synthetic.Rows} synthetic rows");
        if (sub.Windows is { } w)
            sb.Append(inv, $"; the window DCR on {w.Train.Drawn} of {w.Train.Rows} train windows, {w.Holdout.Drawn} of {w.Holdout.Rows} holdout windows, {w.Synthetic.Drawn} of {w.Synthetic.Rows} synthetic paths");
        sb.Append(". The DCR share's null of 0.5 and its bound hold on the drawn rows; a copy of a train row that was not drawn is invisible to every measure below. The other sections use every row.</p>");
    }

    private static void AuditParagraphs(StringBuilder sb, Privacy.PrivacyAuditReport a)
    {
        var inv = CultureInfo.InvariantCulture;
        var d = a.DcrShare;
        sb.Append(inv, $"<p id=\"share-balanced\">Split-disciplined DCR share ({d.N} synthetic rows against {a.Split.N} train and {a.Split.N} holdout rows): {N(d.Share)}, bound 0.5 + 1.645·√(0.25/n) = {N(d.Bound)}: <span class=\"{(d.WithinBound ? "pass" : "fail")}\">{(d.WithinBound ? "within" : "above")}</span>; a share within the bound is a smoke test, not proof of privacy.</p>");
        if (a.HoldoutExchangeability is { } x)
            sb.Append(inv, $"<p id=\"holdout-exchangeability\">Control, no generator involved: each of {x.N} real train rows is closer to another train row than to the {x.ReferenceRows} holdout rows {N(x.Share)} of the time (95% CI {N(x.Ci.Lower)}–{N(x.Ci.Upper)}; 0.5 when train and holdout come from one distribution, bound {N(x.Bound)}): <span class=\"{(x.Exchangeable ? "pass" : "fail")}\">{(x.Exchangeable ? "no sign of a shifted holdout" : "the holdout is shifted from train; read the DCR share against this share, not against 0.5 alone")}</span>.</p>");
        var i = a.Ims;
        sb.Append(inv, $"<p id=\"ims\">Identical matches (every value within {N(i.Tolerance * 100)}%): share of synthetic rows matching a train row {N(i.SyntheticToTraining)}, a holdout row {N(i.SyntheticToHoldout)} (margin {N(i.Margin)}): <span class=\"{(i.WithinMargin ? "pass" : "fail")}\">{(i.WithinMargin ? "within" : "above")}</span>.</p>");
        var r = a.Nndr;
        sb.Append(inv, $"<p id=\"nndr\">{r.Rank}th-smallest nearest/second-nearest distance ratio: synthetic→train {N(r.SyntheticToTraining)}, synthetic→holdout {N(r.SyntheticToHoldout)}, train→holdout {N(r.TrainingToHoldout)}{(r.SyntheticBelowTraining ? " (synthetic→train below train→holdout: for a generator that copies nothing this happens about half the time; a ratio near 0 is the sign of a copy)" : "")}. Holdout SHA-256 {a.Split.HoldoutSha256}.</p>");
        if (a.Warnings.Count == 0) return;
        sb.Append("<ul id=\"privacy-warnings\">");
        foreach (var warning in a.Warnings) sb.Append("<li class=\"fail\">").Append(E(warning)).Append("</li>");
        sb.Append("</ul>");
    }

    // the shadow-model attack, attribute inference and isolated-record risk; "DCR passed" is never the whole story
    private static void Attacks(StringBuilder sb, PrivacyReport pv)
    {
        var inv = CultureInfo.InvariantCulture;
        if (pv.Shadow is { } sh)
            sb.Append(inv, $"<p id=\"shadow\">Shadow-model membership inference ({sh.ShadowModels} shadow generators of the same kind, each trained on {sh.ShadowTrainRows} holdout rows of known membership; a logistic classifier on each record's distances to its 1st–10th nearest synthetic rows, fitted on {sh.ClassifierRows} shadow examples, training AUC {N(sh.ClassifierTrainAuc)}), applied to {sh.Members} train rows against {sh.NonMembers} holdout rows: ROC AUC {N(sh.Auc)} (0.5: no leakage), TPR {N(sh.TprAtFpr10)} at FPR 0.1, {N(sh.TprAtFpr01)} at FPR 0.01.{GateText(sh.Gate)}</p>");
        else if (pv.ShadowSkipped is { } why)
            sb.Append("<p id=\"shadow\">Shadow-model attack not run: ").Append(E(why)).Append(".</p>");
        if (pv.AttributeInference is { Count: > 0 } list)
        {
            sb.Append("<p>Attribute inference: the attacker knows every other series of a record and guesses the sensitive one from the nearest synthetic row. A guess succeeds within the tolerance; the risk is (train − holdout)/(1 − holdout), 95% interval; \"untrusted\" means the attack did no better than a random synthetic value, so the risk says nothing.</p>");
            sb.Append("<table id=\"attribute-inference\"><tr><th>series</th><th>targets</th><th>tolerance</th><th>MAE train</th><th>MAE holdout</th><th>MAE baseline</th><th>success train</th><th>success holdout</th><th>success baseline</th><th>risk (95% CI)</th></tr>");
            foreach (var a in list)
            {
                sb.Append(inv, $"<tr><td>{E(a.Column)}</td><td>{a.Targets}</td><td>{N(a.Tolerance)}</td><td>{N(a.MaeTrain)}</td><td>{N(a.MaeHoldout)}</td><td>{N(a.MaeBaseline)}</td><td>{N(a.Attack.Value)}</td><td>{N(a.Control.Value)}</td><td>{N(a.Baseline.Value)}</td>");
                sb.Append(RiskCell(a.Risk, a.Trusted)).Append("</tr>");
            }
            sb.Append("</table>");
        }
        if (pv.SinglingOut is { Count: > 0 } || pv.Linkability is not null)
        {
            sb.Append("<p>Singling out and linkability (the Article 29 Working Party's other two criteria): the success on train records is read against the same attack on holdout records the generator never saw; the risk is (train − holdout)/(1 − holdout) with its 95% interval, \"untrusted\" when the attack did no better than random guessing (then it says nothing; it is not \"safe\").</p>");
            sb.Append("<table id=\"anonymity-attacks\"><tr><th>attack</th><th>attempts</th><th>success train</th><th>success holdout</th><th>success baseline</th><th>risk (95% CI)</th></tr>");
            foreach (var so in pv.SinglingOut ?? [])
            {
                var what = so.Mode == Privacy.SinglingOutMode.Univariate ? "singling out, one series" : $"singling out, {so.ColumnsPerQuery} series";
                var correction = so.ControlCorrection == 1 ? "" : $" (×{N(so.ControlCorrection)} for the holdout's size)";
                sb.Append(inv, $"<tr><td>{what}</td><td>{so.Queries} of {so.Requested} queries found in {so.Attempts} tries</td><td>{N(so.Attack.Value)}</td><td>{N(so.Control.Value)}{correction}</td><td>{N(so.Baseline.Value)}</td>");
                sb.Append(RiskCell(so.Risk, so.Trusted)).Append("</tr>");
            }
            if (pv.Linkability is { } lk)
            {
                sb.Append(inv, $"<tr><td>linkability: {E(string.Join(", ", lk.FirstColumns))} | {E(string.Join(", ", lk.SecondColumns))}, k = {lk.Neighbours}</td><td>{lk.Targets} records</td><td>{N(lk.Attack.Value)}</td><td>{N(lk.Control.Value)}</td><td>{N(lk.Baseline.Value)}</td>");
                sb.Append(RiskCell(lk.Risk, lk.Trusted)).Append("</tr>");
            }
            sb.Append("</table>");
        }
        else if (pv.LinkabilitySkipped is { } skipped)
        {
            sb.Append("<p id=\"linkability\">Linkability attack not run: ").Append(E(skipped)).Append(".</p>");
        }
        if (pv.OutlierRisk is { } o)
        {
            sb.Append(inv, $"<p id=\"outlier-risk\">The {o.Records.Count} most isolated train records (top {N(o.Fraction * 100)}% by distance to their nearest other train record): median ratio of distance to the nearest synthetic row over distance to the nearest holdout row {N(o.MedianRatioOutliers)} (all train records: {N(o.MedianRatioAll)}), {N(o.ShareRatioBelowOne)} of them below 1; their membership scores rank at a median percentile of {N(o.MedianScorePercentile)} among holdout scores (highest {N(o.MaxScorePercentile)}; 0.5 for a generator that does not single them out).</p>");
        }
    }

    // a residual risk's cell: the value and its 95% interval clamped to [0, 1], "untrusted" when the attack did no better than guessing
    private static string RiskCell(Privacy.SuccessRate risk, bool trusted) => string.Create(CultureInfo.InvariantCulture,
        $"<td>{N(Math.Clamp(risk.Value, 0, 1))} ({N(Math.Clamp(risk.Value - risk.Error, 0, 1))}–{N(Math.Clamp(risk.Value + risk.Error, 0, 1))}){(trusted ? "" : " untrusted")}</td>");

    private static void UtilitySection(StringBuilder sb, Utility.UtilityReport u, IReadOnlyList<string> columns)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<section id=\"utility\"><h2>Utility</h2><p>A linear forecaster of every series' next step from its last {u.Lags} steps, fitted on synthetic data ({u.SyntheticSamples} samples) or on real train data ({u.TrainSamples}), scored on the real holdout ({u.RealSamples}); TRTS scores the train-fitted forecaster on synthetic data. Ratios are TSTR / TRTR (1: synthetic data is as useful as real data).</p>");
        sb.Append("<table id=\"utility-table\"><tr><th>target</th><th>TSTR R²</th><th>TRTR R²</th><th>TRTS R²</th><th>TSTR MSE</th><th>TRTR MSE</th><th>TRTS MSE</th><th>MSE ratio</th><th>R² ratio</th><th>importance ρ</th></tr>");
        foreach (var (name, t) in new[] { ("next return", u.Return), ("next |return|", u.Volatility) })
            sb.Append(inv, $"<tr><td>{name}</td><td>{N(t.Tstr.R2)}</td><td>{N(t.Trtr.R2)}</td><td>{N(t.Trts.R2)}</td><td>{N(t.Tstr.Mse)}</td><td>{N(t.Trtr.Mse)}</td><td>{N(t.Trts.Mse)}</td><td>{N(t.MseRatio)}</td><td>{N(t.R2Ratio)}</td><td>{N(t.ImportanceSpearman)}</td></tr>");
        sb.Append("</table><div class=\"grid\">");
        foreach (var (id, title, t) in new[] { ("importance-return", "Permutation importance, next return", u.Return), ("importance-volatility", "Permutation importance, next |return|", u.Volatility) })
        {
            var all = t.ImportanceTrtr.Concat(t.ImportanceTstr).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
            double lo = Math.Min(0, all.Min()), hi = Math.Max(0, all.Max());
            var chart = new SvgChart(id, $"{title} (Spearman ρ = {N(t.ImportanceSpearman)})", "importance, real-trained (TRTR)", "importance, synthetic-trained (TSTR)")
                .Line([lo, hi], [lo, hi], "#888888", "", dashed: true)
                .Scatter(t.ImportanceTrtr, t.ImportanceTstr, SynthColour, "series");
            sb.Append("<figure>").Append(chart).Append(chart.FiguresTable()).Append("<figcaption>");
            for (var i = 0; i < columns.Count; i++)
                sb.Append(inv, $"{(i == 0 ? "" : ", ")}{Isolated(columns[i])} {N(t.ImportanceTrtr[i])} / {N(t.ImportanceTstr[i])}");
            sb.Append("</figcaption></figure>");
        }
        sb.Append("</div></section>\n");
    }

    private static void CoverageSection(StringBuilder sb, Coverage.CoverageReport c)
    {
        var inv = CultureInfo.InvariantCulture;
        var flagged = c.UnderStressed;
        sb.Append(inv, $"<section id=\"coverage\"><h2>Coverage by segment</h2><p>Each segment's equal-weight portfolio return, per {(c.Horizon == 1 ? "row" : c.Horizon.ToString(inv) + "-step window")}: the share of events below the real 1% and 5% quantiles and the ES beyond them, real vs synthetic. A segment is under-stressed when a synthetic frequency or ES falls below (1 − {N(c.Tolerance)}) × the real one.</p>");
        sb.Append(inv, $"<p id=\"coverage-verdict\" class=\"{(flagged.Count == 0 ? "pass" : "fail")}\">{(flagged.Count == 0 ? "No segment is under-stressed" : $"Under-stressed: {E(string.Join(", ", flagged.Select(s => s.Dimension + "=" + s.Segment)))}")}</p>");
        if (c.Warnings.Count > 0)
        {
            sb.Append("<ul id=\"coverage-warnings\">");
            foreach (var warning in c.Warnings) sb.Append("<li class=\"fail\">").Append(E(warning)).Append("</li>");
            sb.Append("</ul>");
        }
        sb.Append("<table id=\"coverage-table\"><tr><th>dimension</th><th>segment</th><th>series</th><th>level</th><th>threshold</th><th>tail freq. real</th><th>tail freq. synth</th><th>ES real</th><th>ES synth</th><th>verdict</th></tr>");
        foreach (var s in c.Segments)
        {
            foreach (var l in s.Levels)
            {
                sb.Append(inv, $"<tr><td>{E(s.Dimension)}</td><td>{E(s.Segment)}</td><td>{E(string.Join(" ", s.Series))}</td><td>{N(l.Level)}</td><td>{N(l.Threshold)}</td><td>{N(l.TailFrequency.Real)}</td><td>{N(l.TailFrequency.Synthetic)}</td><td>{N(l.Es.Real)}</td><td>{N(l.Es.Synthetic)}</td>");
                sb.Append(l.UnderStressed ? "<td class=\"fail\">under-stressed</td></tr>" : "<td class=\"pass\">ok</td></tr>");
            }
        }
        sb.Append("</table></section>\n");
    }

    // a heatmap and its figures as a table in one <figure>
    private static void Heatmap(StringBuilder sb, string id, string title, double[][] matrix, IReadOnlyList<string> labels, double min = -1, double max = 1) =>
        sb.Append(SvgHeatmap.Figure(id, title, matrix, labels, min, max));

    /// <summary>The chart id suffix of a series name.</summary>
    public static string Slug(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray();
        return new string(chars);
    }

    // each series' chart id suffix s (ids hist-s, qq-s, acf-s, acf-abs-s), in column order: its Slug, unless an earlier
    // series' suffix t would give a chart the same id (s = t: 日経 and 株価 are both "__"; s = "abs-" + t or t = "abs-" + s:
    // acf-abs-X is both X's ACF of |r| and abs-X's ACF), then that Slug and ".k" with the first k that clashes with none
    private static string[] UniqueSlugs(IEnumerable<string> names)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        bool Clashes(string s) => taken.Contains(s) || taken.Contains("abs-" + s) || (s.StartsWith("abs-", StringComparison.Ordinal) && taken.Contains(s[4..]));
        return [.. names.Select(name =>
        {
            var slug = Slug(name);
            var candidate = slug;
            for (var k = 1; Clashes(candidate); k++) candidate = string.Create(CultureInfo.InvariantCulture, $"{slug}.{k}");
            taken.Add(candidate);
            return candidate;
        })];
    }

    private static double[] Density(int[] counts, double[] edges)
    {
        var total = counts.Sum();
        var result = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++) result[i] = total == 0 ? 0 : counts[i] / (total * (edges[i + 1] - edges[i]));
        return result;
    }

    // an attack's PRIV-7 gate as a sentence: its rule and pass/fail
    private static string GateText(Privacy.MembershipGate? gate) =>
        gate is null ? "" : $" Gate (PRIV-7): {E(gate.Rule)}: <span class=\"{(gate.Passed ? "pass" : "fail")}\">{(gate.Passed ? "passed" : "failed")}</span>.";

    private static string N(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G6", CultureInfo.InvariantCulture);

    private static string P(Pair p) => N(p.Real) + " / " + N(p.Synthetic);

    private static string E(string s) => SvgChart.E(s);

    // a name in running text, escaped, in a <bdi> when it holds a right-to-left letter or a bidi control: the bidi
    // algorithm took the numbers after a Hebrew name into its run and showed "NAME 1.04 / 0.67" as "0.67 / 1.04 NAME",
    // TSTR before TRTR, and an open U+202E reversed the rest of the line; other names are written as they were
    private static string Isolated(string name) =>
        name.EnumerateRunes().Any(r => r.Value is (>= 0x0590 and <= 0x08FF) or (>= 0xFB1D and <= 0xFDFF) or (>= 0xFE70 and <= 0xFEFF)
            or (>= 0x10800 and <= 0x10FFF) or (>= 0x1E800 and <= 0x1EFFF) or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069))
            ? "<bdi>" + E(name) + "</bdi>"
            : E(name);

    private const string Css =
        "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}" +
        "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}" +
        "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}" +
        "td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}" +
        ".meta{color:#555}.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:4px}" +
        "svg{font-size:10px;background:#fff}svg .ct{font-size:12px;font-weight:600}svg .grid line{stroke:#eee}" +
        "svg .grid text{fill:#555}svg .frame{stroke:#999}figcaption{font-size:11px;color:#555;max-width:420px}.zone-green{color:#1a7f37}.zone-yellow{color:#7d6300}.zone-red{color:#c62828}" +
        // WCAG 2.2 AA: the yellow zone's text at 5.7:1 (#b08800 was 3.3:1), a 3 px focus outline, charts that shrink and
        // sections that scroll inside themselves at 320 CSS px (400% zoom), each chart's figures folded under it, and a
        // print stylesheet that keeps charts and tables whole and leaves the folded figures out
        ":focus-visible{outline:3px solid #1a5fb4;outline-offset:1px}svg{max-width:100%;height:auto}section{overflow-x:auto}" +
        "p,li{overflow-wrap:break-word}details.figures{font-size:12px;max-width:560px}summary{cursor:pointer}caption{text-align:left;color:#555}" +
        "@media (max-width:640px){body{margin:8px}}" +
        "@media print{body{margin:0;max-width:none}details.figures{display:none}figure,table,svg{break-inside:avoid}h2{break-after:avoid}section{overflow:visible}}";
}
