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

    // the tick labels of the x axis (under the plot, centred) and of the y axis (left of it, right-aligned)
    private static (string[] X, string[] Y) TickLabels(string svg)
    {
        var grid = XElement.Parse(svg).Descendants().First(e => e.Attribute("class")?.Value == "grid");
        string[] Of(string anchor) => [.. grid.Elements().Where(e => e.Name.LocalName == "text" && e.Attribute("text-anchor")?.Value == anchor).Select(e => e.Value)];
        return (Of("middle"), Of("end"));
    }

    [Theory]
    [InlineData(100_000, 110_000)] // a price near 1E5: ticks 2,000 apart were all "1E5" or "1.1E5"
    [InlineData(0.00101, 0.00106)] // ticks 0.00001 apart at four decimals: "0.001" four times
    [InlineData(1e15, 1e15 + 1)]
    [InlineData(-3e-7, 2e-7)]
    public void TickLabels_TellEveryTickApart(double lo, double hi)
    {
        var (x, y) = TickLabels(new SvgChart("c", "chart", "x", "y").Scatter([lo, hi], [lo, hi], "#000000", "points").ToString());
        Assert.True(x.Length >= 3, string.Join(" | ", x));
        Assert.Equal(x.Length, x.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(y.Length, y.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(x, y);
    }

    [Fact]
    public void TickLabels_ThatWereDistinct_AreAsBefore()
    {
        Assert.Equal(["-0.02", "-0.01", "0", "0.01", "0.02", "0.03"], TickLabels(new SvgChart("c", "chart").Scatter([-0.013, 0.021], [0, 1], "#000000", "p").ToString()).X);
        Assert.Equal(["1E5", "1.5E5", "2E5", "2.5E5", "3E5"], TickLabels(new SvgChart("c", "chart").Scatter([100_000, 300_000], [0, 1], "#000000", "p").ToString()).X);
        Assert.Equal(["0", "2E-4", "4E-4", "6E-4"], TickLabels(new SvgChart("c", "chart").Scatter([0, 1], [0, 0.0006], "#000000", "p").ToString()).Y);
    }
}
