using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Evaluation;
using Crucible.Evaluation.Reporting;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Reporting;

/// <summary>One named scenario set of a <see cref="ScenarioRiskTable"/> and its stress result.</summary>
/// <param name="Name">e.g. <c>baseline</c>, <c>stressed</c>, <c>historical holdout</c>.</param>
/// <param name="Description">What the set is (a stress specification, a date range, …).</param>
/// <param name="Result">The portfolio's risk under the set (<see cref="StressAnalysis.Run"/>).</param>
public sealed record ScenarioRiskRow(string Name, string Description, StressResult Result);

/// <summary>
/// One portfolio's VaR, ES and CDaR (METRICS.md) under several scenario sets side by side — baseline against stressed
/// scenarios against history — as a report section (<c>stress</c> in report.json, <c>&lt;section id="stress"&gt;</c> in
/// report.html).
/// </summary>
public static class ScenarioRiskTable
{
    /// <summary>Stresses <paramref name="portfolio"/> with each named set at every α of <paramref name="alphas"/>.</summary>
    public static IReadOnlyList<ScenarioRiskRow> Build(Portfolio portfolio, IReadOnlyList<double> alphas, IEnumerable<(string Name, string Description, SeriesSet Scenarios)> sets)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(sets);
        return [.. sets.Select(s => new ScenarioRiskRow(s.Name, s.Description, StressAnalysis.Run(s.Scenarios, portfolio, alphas)))];
    }

    /// <summary>
    /// The rows as a report section: JSON <c>{"portfolio": {name, weights}, "sets": [{name, description, scenarios,
    /// steps, var, es, cdar (α → value), es_contributions (α → series → value)}]}</c> and an HTML table with one row per set
    /// and α.
    /// </summary>
    public static ReportSection ToSection(IReadOnlyList<ScenarioRiskRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("at least one scenario set is needed", nameof(rows));
        var portfolio = rows[0].Result.Portfolio;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("portfolio");
            w.WriteString("name", portfolio.Name);
            w.WriteStartObject("weights");
            foreach (var h in portfolio.Holdings) StressJson.Number(w, h.Series, h.Weight);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("sets");
            foreach (var row in rows)
            {
                var r = row.Result;
                w.WriteStartObject();
                w.WriteString("name", row.Name);
                w.WriteString("description", row.Description);
                w.WriteNumber("scenarios", r.Scenarios);
                w.WriteNumber("steps", r.Steps.Max);
                PerAlpha(w, "var", r, l => l.ValueAtRisk);
                PerAlpha(w, "es", r, l => l.ExpectedShortfall);
                PerAlpha(w, "cdar", r, l => l.ConditionalDrawdown);
                w.WriteStartObject("es_contributions");
                foreach (var l in r.Levels)
                {
                    w.WriteStartObject(StressJson.AlphaKey(l.Alpha));
                    for (int i = 0; i < r.Series.Count; i++)
                    {
                        if (r.Weights[i] != 0) StressJson.Number(w, r.Series[i], l.SeriesContributions[i]);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var inv = CultureInfo.InvariantCulture;
        var html = new StringBuilder();
        html.Append(inv, $"<section id=\"stress\"><h2>Portfolio stress</h2><p>Portfolio {E(portfolio.Name)}: the loss over each scenario's horizon (log return of the portfolio path, METRICS.md). VaR and ES of the horizon loss, CDaR of the path's maximum drawdown.</p>");
        html.Append("<table id=\"stress-table\"><tr><th>scenarios</th><th>what</th><th>count × steps</th><th>α</th><th>VaR</th><th>ES</th><th>CDaR</th></tr>");
        foreach (var row in rows)
        {
            foreach (var l in row.Result.Levels)
            {
                html.Append(inv, $"<tr><td>{E(row.Name)}</td><td>{E(row.Description)}</td><td>{row.Result.Scenarios} × {row.Result.Steps.Max}</td><td>{N(l.Alpha)}</td><td>{N(l.ValueAtRisk)}</td><td>{N(l.ExpectedShortfall)}</td><td>{N(l.ConditionalDrawdown)}</td></tr>");
            }
        }

        html.Append("</table></section>");
        return new ReportSection("stress", Encoding.UTF8.GetString(buffer.ToArray()), html.ToString());
    }

    private static void PerAlpha(Utf8JsonWriter w, string name, StressResult r, Func<RiskLevel, double> value)
    {
        w.WriteStartObject(name);
        foreach (var l in r.Levels) StressJson.Number(w, StressJson.AlphaKey(l.Alpha), value(l));
        w.WriteEndObject();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string N(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "–";
}
