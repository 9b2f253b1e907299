using System.Globalization;
using System.Xml.Linq;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>The inline-SVG charts of report.html on the values a real run can hand them: NaN, infinities, wide ranges.</summary>
public sealed class SvgChartTests
{
    private static readonly string[] Geometry = ["x", "y", "width", "height", "x1", "x2", "y1", "y2", "cx", "cy", "r"];

    /// <summary>Every coordinate of every element is a finite number and no axis label reads NaN or Infinity.</summary>
    internal static void AssertFiniteGeometry(string svg)
    {
        var root = XElement.Parse(svg);
        foreach (var e in root.DescendantsAndSelf())
        {
            foreach (var name in Geometry)
            {
                if (e.Attribute(name) is { } a)
                    Assert.True(double.TryParse(a.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), $"{e.Name.LocalName} {name}=\"{a.Value}\" in {root.Attribute("id")?.Value}");
            }
            if (e.Attribute("points") is { } points)
            {
                foreach (var p in points.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
                    Assert.True(double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), $"points \"{points.Value}\" in {root.Attribute("id")?.Value}");
            }
            if (e.Name.LocalName == "text") Assert.DoesNotMatch("NaN|Infinity|∞", e.Value);
        }
    }

    [Fact]
    public void NonFiniteBinsAndHeights_AreLeftOut_NoCoordinateIsNaN()
    {
        // NaN edges (a histogram of NaN values) and a NaN and an infinite height (bins of no width: counts / 0)
        var chart = new SvgChart("h", "histogram", "x", "density")
            .Histogram([double.NaN, double.NaN, double.NaN], [double.NaN, 0.5], "#1f5fa8", "real")
            .Histogram([0, 1, 2, 2], [double.PositiveInfinity, 1, double.NaN], "#d9622b", "synthetic");
        var svg = chart.ToString();
        AssertFiniteGeometry(svg);
        Assert.Single(XElement.Parse(svg).Descendants(), e => e.Name.LocalName == "rect" && e.Parent?.Attribute("class")?.Value == "hist"); // the one finite bar
    }

    [Fact]
    public void PriceLevelsEvaluatedAsReturns_GiveChartsWithFiniteCoordinates()
    {
        // a file of price levels (about 105,000) read as log returns: the portfolio's drawdowns overflow to NaN, and the
        // drawdown chart was written with x="NaN" width="NaN" bars and a "NaN" tick, which a browser does not draw
        string[] names = ["BTC", "ETH"];
        SeriesSet Levels(int rows, double phase) => new(names,
            [.. names.Select((_, j) => Enumerable.Range(0, rows).Select(t => 105_000 + (4_000 * Math.Sin((0.37 * (j + 1) * t) + phase))).ToArray())]);
        var report = Evaluator.Evaluate(new EvaluationInput(Levels(200, 0), Levels(300, 0.4)), new EvaluationOptions { Utility = false });
        var html = ReportHtml.ToHtml(report);
        var start = 0;
        var count = 0;
        while ((start = html.IndexOf("<svg", start, StringComparison.Ordinal)) >= 0)
        {
            var end = html.IndexOf("</svg>", start, StringComparison.Ordinal) + "</svg>".Length;
            AssertFiniteGeometry(html[start..end]);
            start = end;
            count++;
        }
        Assert.Equal((4 * names.Length) + 5, count);
    }
}
