using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Evaluation;
using Crucible.Evaluation.Reporting;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Reporting;

/// <summary>One generator's line of the comparison table (all measured on the same holdout windows).</summary>
/// <param name="Generator">The generator's name.</param>
/// <param name="KsMean">Fidelity: mean KS statistic over series.</param>
/// <param name="WassersteinMean">Fidelity: mean 1-D Wasserstein-1 over series.</param>
/// <param name="CorrDistance">Fidelity: ‖C_real − C_synth‖_F / ‖C_real‖_F.</param>
/// <param name="AcfError">Temporal: mean over series and lags of |ACF_real − ACF_synth|.</param>
/// <param name="AcfAbsError">Temporal: the same for the ACF of |r| (volatility clustering).</param>
/// <param name="KurtosisError">Tail: mean over series of |excess kurtosis real − synthetic|.</param>
/// <param name="TailDependenceError">Tail: mean over pairs i ≠ j of |λ_L real − synthetic|.</param>
/// <param name="Var">Risk: the portfolio's horizon VaR_α, real and synthetic.</param>
/// <param name="Es">Risk: the portfolio's horizon ES_α, real and synthetic.</param>
/// <param name="Cdar">Risk: the portfolio's CDaR_α, real and synthetic.</param>
/// <param name="MeanAcfAbs">Mean over series of the ACF of |r| per lag, real and synthetic (for the chart).</param>
public sealed record ComparisonRow(
    string Generator, double KsMean, double WassersteinMean, double CorrDistance, double AcfError, double AcfAbsError,
    double KurtosisError, double TailDependenceError, Pair Var, Pair Es, Pair Cdar, VectorPair MeanAcfAbs)
{
    /// <summary>|ES_synth − ES_real| / ES_real.</summary>
    public double EsRelativeError => Math.Abs(Es.Synthetic - Es.Real) / Math.Abs(Es.Real);
}

/// <summary>The comparison table: every generator fitted on the same train set and scored on the same holdout.</summary>
/// <param name="Window">Steps per window W.</param>
/// <param name="Count">Windows sampled per generator.</param>
/// <param name="HoldoutWindows">Real windows (the holdout's W-step windows with stride 1: the temporal and risk metrics' real side; the marginal ones use the holdout's rows).</param>
/// <param name="Alpha">The risk confidence.</param>
/// <param name="Portfolio">The portfolio of the risk columns.</param>
/// <param name="Rows">One row per generator.</param>
public sealed record GeneratorComparisonTable(int Window, int Count, int HoldoutWindows, double Alpha, string Portfolio, IReadOnlyList<ComparisonRow> Rows);

/// <summary>
/// Builds the comparison table of issue #8 (fidelity, temporal, tail and risk metrics per generator on the same data
/// and holdout), with the metrics of <see cref="Evaluator"/> (METRICS.md), and writes it as JSON and as an HTML section
/// built from Crucible.Evaluation's report pieces (<see cref="SvgChart"/>).
/// </summary>
public static class GeneratorComparison
{
    /// <summary>
    /// Fits every generator on <paramref name="train"/> (seeded from <paramref name="seed"/>), samples
    /// <paramref name="count"/> windows of <paramref name="window"/> steps, and evaluates them against
    /// <paramref name="holdout"/>'s W-step windows with stride 1 (ACF lags 1..min(20, W − 1), within windows; horizon VaR,
    /// ES and CDaR over the windows), with the marginal metrics on the holdout's rows, each day once; the risk columns
    /// use <paramref name="portfolio"/>.
    /// </summary>
    public static GeneratorComparisonTable Build(IReadOnlyList<IScenarioGenerator> generators, TimeSeriesFrame train, TimeSeriesFrame holdout,
        Portfolio portfolio, int count, int window, double alpha, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(generators);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        ArgumentNullException.ThrowIfNull(portfolio);
        if (!train.Columns.SequenceEqual(holdout.Columns))
            throw new InvalidInputException("column-mismatch", "train and holdout must have the same series in the same order");
        if (window < 3) throw new InvalidInputException("window", "the comparison needs windows of at least 3 steps (its temporal metrics are within windows)");
        if (holdout.RowCount < window + 1) throw new InvalidInputException("too-few-rows", string.Create(CultureInfo.InvariantCulture,
            $"the holdout is shorter than one window: it has {holdout.RowCount} rows, the comparison's windows of {window} steps need at least {window + 1}"));
        // the holdout as one path of rows: the Evaluator measures its temporal and risk statistics within every W-step
        // window (stride 1), the windows the synthetic W-step scenarios are compared with, and its pooled marginal ones
        // (KS, Wasserstein, kurtosis, correlation, tail dependence) on each holdout day once. The holdout pre-cut into
        // overlapping windows pooled a middle day W times and the first and last days once: a crash at either end of the
        // holdout weighed up to W times less in its marginals than the same crash in the middle
        foreach (var g in generators) GeneratorCatalog.CheckWindow(g, window); // before any generator is fitted
        var real = SeriesSet.FromFrame(holdout);
        // the held series' weights: a zero-weight holding or a group's series need not be among the compared series
        var weights = portfolio.HeldWeightsFor(train.Columns);
        // temporal statistics are computed within each window: lags 1..min(20, W − 1)
        var options = new EvaluationOptions
        {
            Alpha = alpha, Lags = Math.Min(20, window - 1), PortfolioWeights = weights, Utility = false, MembershipInference = false, Seed = seed,
        };
        var seeds = new Philox(seed, stream: 0xC0);
        var rows = new List<ComparisonRow>();
        foreach (var g in generators)
        {
            var (fitSeed, sampleSeed) = (seeds.NextUInt64(), seeds.NextUInt64());
            var synthetic = g.Fit(train, fitSeed).Sample(count, window, sampleSeed).ToSeriesSet();
            var report = Evaluator.Evaluate(new EvaluationInput(real, synthetic), options);
            rows.Add(Row(g.Name, report));
        }

        return new GeneratorComparisonTable(window, count, holdout.RowCount - window + 1, alpha, portfolio.Name, rows);
    }

    /// <summary>
    /// The frame cut into windows of <paramref name="window"/> steps with stride 1, as a scenario set. A window of no
    /// steps, or longer than the frame, is an <see cref="ArgumentException"/>.
    /// </summary>
    public static SeriesSet Windows(TimeSeriesFrame frame, int window)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (window < 1 || window > frame.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, string.Create(CultureInfo.InvariantCulture,
                $"a window of {window} steps does not fit the frame's {frame.RowCount} rows (1 to {frame.RowCount} steps)"));
        }

        var n = frame.RowCount - window + 1;
        var d = frame.ColumnCount;
        var columns = new double[d][];
        for (var i = 0; i < d; i++) columns[i] = new double[n * window];
        var ids = new int[n * window];
        for (var s = 0; s < n; s++)
        {
            for (var t = 0; t < window; t++)
            {
                var row = (s * window) + t;
                ids[row] = s + 1;
                for (var i = 0; i < d; i++) columns[i][row] = frame[s + t, i];
            }
        }

        return new SeriesSet([.. frame.Columns], columns, ids);
    }

    private static ComparisonRow Row(string name, EvaluationReport r)
    {
        var series = r.PerSeries;
        double acf = 0, acfAbs = 0, kurt = 0;
        var lags = series[0].AcfAbs.Real.Length;
        var meanReal = new double[lags];
        var meanSynth = new double[lags];
        foreach (var s in series)
        {
            acf += MeanAbsDiff(s.Acf.Real, s.Acf.Synthetic);
            acfAbs += MeanAbsDiff(s.AcfAbs.Real, s.AcfAbs.Synthetic);
            kurt += Math.Abs(s.ExcessKurtosis.Real - s.ExcessKurtosis.Synthetic);
            for (var l = 0; l < lags; l++)
            {
                meanReal[l] += s.AcfAbs.Real[l] / series.Count;
                meanSynth[l] += s.AcfAbs.Synthetic[l] / series.Count;
            }
        }

        double tail = 0;
        var pairs = 0;
        var d = r.Columns.Length;
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j < d; j++)
            {
                if (i == j) continue;
                tail += Math.Abs(r.LowerTailDependence.Real[i][j] - r.LowerTailDependence.Synthetic[i][j]);
                pairs++;
            }
        }

        return new ComparisonRow(name, r.KsMean, r.WassersteinMean, r.CorrDistance, acf / series.Count, acfAbs / series.Count,
            kurt / series.Count, pairs == 0 ? double.NaN : tail / pairs, r.Portfolio.Var, r.Portfolio.Es, r.Portfolio.Cdar,
            new VectorPair(meanReal, meanSynth));
    }

    private static double MeanAbsDiff(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum / a.Length;
    }

    /// <summary>The table as JSON: window, count, holdout_windows, alpha, portfolio, and one object per generator.</summary>
    public static string ToJson(GeneratorComparisonTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteNumber("window", table.Window);
            w.WriteNumber("count", table.Count);
            w.WriteNumber("holdout_windows", table.HoldoutWindows);
            StressJson.Number(w, "alpha", table.Alpha);
            w.WriteString("portfolio", table.Portfolio);
            w.WriteStartArray("generators");
            foreach (var row in table.Rows)
            {
                w.WriteStartObject();
                w.WriteString("name", row.Generator);
                w.WriteStartObject("fidelity");
                StressJson.Number(w, "ks_mean", row.KsMean);
                StressJson.Number(w, "wasserstein_mean", row.WassersteinMean);
                StressJson.Number(w, "corr_distance", row.CorrDistance);
                w.WriteEndObject();
                w.WriteStartObject("temporal");
                StressJson.Number(w, "acf_error", row.AcfError);
                StressJson.Number(w, "acf_abs_error", row.AcfAbsError);
                w.WriteEndObject();
                w.WriteStartObject("tail");
                StressJson.Number(w, "excess_kurtosis_error", row.KurtosisError);
                StressJson.Number(w, "lower_tail_dependence_error", row.TailDependenceError);
                w.WriteEndObject();
                w.WriteStartObject("risk");
                PairJson(w, "var", row.Var);
                PairJson(w, "es", row.Es);
                PairJson(w, "cdar", row.Cdar);
                StressJson.Number(w, "es_relative_error", row.EsRelativeError);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void PairJson(Utf8JsonWriter w, string name, Pair pair)
    {
        w.WriteStartArray(name);
        StressJson.Value(w, pair.Real);
        StressJson.Value(w, pair.Synthetic);
        w.WriteEndArray();
    }

    private static readonly string[] Colours = ["#d9622b", "#2b8a3e", "#7b2bd9", "#c2255c", "#868e96", "#5c940d", "#e0a800"];

    /// <summary>
    /// The table as an HTML <c>&lt;section id="generator-comparison"&gt;</c> for a report page: the table and a chart of
    /// the mean ACF of |r| by lag, real against each generator.
    /// </summary>
    public static string ToHtmlSection(GeneratorComparisonTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<section id=\"generator-comparison\"><h2>Generator comparison</h2><p>Every generator fitted on the same train set; {table.Count} windows of {table.Window} steps each, scored against the {table.HoldoutWindows} holdout windows (stride 1) for the temporal and risk metrics and the holdout's days, each once, for the marginal ones. Risk: portfolio {E(table.Portfolio)}, α = {N(table.Alpha)}, horizon log returns.</p>");
        sb.Append("<table id=\"comparison-table\"><tr><th>generator</th><th>KS mean</th><th>W1 mean</th><th>corr distance</th><th>ACF error</th><th>ACF |r| error</th><th>kurtosis error</th><th>λ_L error</th><th>VaR real / synth</th><th>ES real / synth</th><th>CDaR real / synth</th><th>ES rel. error</th></tr>");
        foreach (var r in table.Rows)
        {
            sb.Append(inv, $"<tr><td>{E(r.Generator)}</td><td>{N(r.KsMean)}</td><td>{N(r.WassersteinMean)}</td><td>{N(r.CorrDistance)}</td><td>{N(r.AcfError)}</td><td>{N(r.AcfAbsError)}</td><td>{N(r.KurtosisError)}</td><td>{N(r.TailDependenceError)}</td>");
            sb.Append(inv, $"<td>{N(r.Var.Real)} / {N(r.Var.Synthetic)}</td><td>{N(r.Es.Real)} / {N(r.Es.Synthetic)}</td><td>{N(r.Cdar.Real)} / {N(r.Cdar.Synthetic)}</td><td>{N(r.EsRelativeError)}</td></tr>");
        }

        sb.Append("</table>");
        if (table.Rows.Count > 0)
        {
            var lags = Enumerable.Range(1, table.Rows[0].MeanAcfAbs.Real.Length).Select(l => (double)l).ToArray();
            var chart = new SvgChart("comparison-acf-abs", "Mean ACF of |r| by lag", "lag", "autocorrelation", 560, 300)
                .Line(lags, table.Rows[0].MeanAcfAbs.Real, "#1f5fa8", "real");
            for (var i = 0; i < table.Rows.Count; i++)
                chart.Line(lags, table.Rows[i].MeanAcfAbs.Synthetic, Colours[i % Colours.Length], table.Rows[i].Generator);
            sb.Append(chart.ToFigure()); // the chart and its figures as a table: the generators' lines differ by colour
        }

        sb.Append("</section>\n");
        return sb.ToString();
    }

    /// <summary>Writes <c>PATH.json</c>-style JSON and a standalone HTML page with the section (<see cref="ToHtmlPage"/>), atomically.</summary>
    public static void Write(GeneratorComparisonTable table, string jsonPath, string? htmlPath)
    {
        AtomicFile.WriteAllText(jsonPath, ToJson(table));
        if (htmlPath is null) return;
        AtomicFile.WriteAllText(htmlPath, ToHtmlPage(table));
    }

    /// <summary>
    /// The standalone HTML page of the comparison (the section of <see cref="ToHtmlSection"/> with a title and style), in
    /// one <c>&lt;main&gt;</c>; at 320 CSS px (WCAG 1.4.10) the chart shrinks and the wide table scrolls inside its
    /// section, as in report.html (the page was 879 px wide there, and had no main landmark).
    /// </summary>
    public static string ToHtmlPage(GeneratorComparisonTable table) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Crucible generator comparison</title>"
            + "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
            + "svg{max-width:100%;height:auto}section{overflow-x:auto}p{overflow-wrap:break-word}@media (max-width:640px){body{margin:8px}}</style>"
            + "</head><body>\n<main>\n" + ToHtmlSection(table) + "</main></body></html>\n";

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string N(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "–";
}
