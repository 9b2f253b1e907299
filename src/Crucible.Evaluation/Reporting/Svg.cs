using System.Globalization;
using System.Net;
using System.Text;

namespace Crucible.Evaluation.Reporting;

/// <summary>
/// A small inline-SVG chart: a plot area with axes, "nice" ticks (1, 2, 5 × 10^k), and histogram, line and scatter
/// layers. The output is a standalone <c>&lt;svg&gt;</c> element with <c>id</c> and <c>data-chart</c> attributes and no
/// external references.
/// </summary>
public sealed class SvgChart
{
    private const double Left = 56, Right = 12, Top = 28, Bottom = 40;
    private readonly List<Action<StringBuilder, Func<double, double>, Func<double, double>>> _layers = [];
    private readonly List<(string Label, string Colour)> _legend = [];
    private readonly List<Figures> _figures = [];
    private readonly string _id;
    private readonly string _title;
    private readonly string _xLabel;
    private readonly string _yLabel;
    private readonly double _width;
    private readonly double _height;
    private double _x0 = double.NaN, _x1 = double.NaN, _y0 = double.NaN, _y1 = double.NaN;

    /// <summary>A chart of the given pixel size; <paramref name="id"/> becomes both <c>id</c> and <c>data-chart</c>.</summary>
    public SvgChart(string id, string title, string xLabel = "", string yLabel = "", double width = 420, double height = 260)
    {
        _id = id;
        _title = title;
        _xLabel = xLabel;
        _yLabel = yLabel;
        _width = width;
        _height = height;
    }

    /// <summary>Fixes the data range of the axes (otherwise each layer widens it); nice ticks may widen it further.</summary>
    public SvgChart Range(double x0, double x1, double y0, double y1)
    {
        (_x0, _x1, _y0, _y1) = (x0, x1, y0, y1);
        return this;
    }

    /// <summary>
    /// Adds bars over <paramref name="edges"/> (one more than <paramref name="heights"/>); a bar whose height or edges are
    /// not finite (NaN values, a bin of no width) is left out, as lines and scatters leave out such points.
    /// </summary>
    public SvgChart Histogram(IReadOnlyList<double> edges, IReadOnlyList<double> heights, string colour, string label, double opacity = 0.45)
    {
        var finite = heights.Where(double.IsFinite).ToArray();
        Widen(edges[0], edges[^1], 0, finite.Length == 0 ? 1 : finite.Max());
        _legend.Add((label, colour));
        var e = edges.ToArray();
        var h = heights.ToArray();
        _figures.Add(new Figures(label, e, true, h));
        _layers.Add((sb, px, py) =>
        {
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"hist\" fill=\"{colour}\" fill-opacity=\"{F(opacity)}\">");
            for (var i = 0; i < h.Length; i++)
            {
                if (!(h[i] > 0) || !double.IsFinite(h[i]) || !double.IsFinite(e[i]) || !double.IsFinite(e[i + 1])) continue;
                double x0 = px(e[i]), x1 = px(e[i + 1]), top = py(h[i]), bottom = py(0);
                sb.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{F(x0)}\" y=\"{F(top)}\" width=\"{F(Math.Max(0.5, x1 - x0 - 0.5))}\" height=\"{F(Math.Max(0, bottom - top))}\"/>");
            }
            sb.Append("</g>");
        });
        return this;
    }

    /// <summary>Adds a polyline through the finite points.</summary>
    public SvgChart Line(IReadOnlyList<double> xs, IReadOnlyList<double> ys, string colour, string label, bool dashed = false)
    {
        Widen(xs, ys);
        if (label.Length > 0) _legend.Add((label, colour));
        var xv = xs.ToArray();
        var yv = ys.ToArray();
        if (label.Length > 0) _figures.Add(new Figures(label, xv, false, yv));
        _layers.Add((sb, px, py) =>
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<polyline class=\"line\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"{(dashed ? " stroke-dasharray=\"4 3\"" : "")} points=\"");
            for (var i = 0; i < xv.Length; i++)
            {
                if (double.IsFinite(xv[i]) && double.IsFinite(yv[i])) sb.Append(CultureInfo.InvariantCulture, $"{F(px(xv[i]))},{F(py(yv[i]))} ");
            }
            sb.Append("\"/>");
        });
        return this;
    }

    /// <summary>Adds points.</summary>
    public SvgChart Scatter(IReadOnlyList<double> xs, IReadOnlyList<double> ys, string colour, string label)
    {
        Widen(xs, ys);
        _legend.Add((label, colour));
        var xv = xs.ToArray();
        var yv = ys.ToArray();
        _figures.Add(new Figures(label, xv, false, yv));
        _layers.Add((sb, px, py) =>
        {
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"scatter\" fill=\"{colour}\">");
            for (var i = 0; i < xv.Length; i++)
            {
                if (double.IsFinite(xv[i]) && double.IsFinite(yv[i]))
                    sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(px(xv[i]))}\" cy=\"{F(py(yv[i]))}\" r=\"2.2\"/>");
            }
            sb.Append("</g>");
        });
        return this;
    }

    /// <summary>The finished SVG element; layers are drawn in the order they were added.</summary>
    public override string ToString()
    {
        if (!double.IsFinite(_x0) || !double.IsFinite(_x1)) (_x0, _x1) = (0, 1);
        if (!double.IsFinite(_y0) || !double.IsFinite(_y1)) (_y0, _y1) = (0, 1);
        var xt = NiceTicks(_x0, _x1, 6);
        var yt = NiceTicks(_y0, _y1, 5);
        double x0 = Math.Min(_x0, xt[0]), x1 = Math.Max(_x1, xt[^1]), y0 = Math.Min(_y0, yt[0]), y1 = Math.Max(_y1, yt[^1]);
        double pw = _width - Left - Right, ph = _height - Top - Bottom;
        double Px(double x) => Left + (x - x0) / (x1 - x0) * pw;
        double Py(double y) => Top + ph - (y - y0) / (y1 - y0) * ph;
        string[] xl = TickLabels(xt), yl = TickLabels(yt);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{E(_id)}\" data-chart=\"{E(_id)}\" width=\"{F(_width)}\" height=\"{F(_height)}\" viewBox=\"0 0 {F(_width)} {F(_height)}\" role=\"img\" aria-label=\"{E(_title)}\" font-family=\"sans-serif\" font-size=\"10\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{E(_title)}</title><text x=\"{F(Left)}\" y=\"16\" class=\"ct\">{E(_title)}</text>");
        sb.Append("<g class=\"grid\">");
        for (var i = 0; i < xt.Length; i++)
            sb.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{F(Px(xt[i]))}\" x2=\"{F(Px(xt[i]))}\" y1=\"{F(Top)}\" y2=\"{F(Top + ph)}\" stroke=\"#e8e8e8\"/><text x=\"{F(Px(xt[i]))}\" y=\"{F(Top + ph + 14)}\" text-anchor=\"middle\">{xl[i]}</text>");
        for (var i = 0; i < yt.Length; i++)
            sb.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{F(Left)}\" x2=\"{F(Left + pw)}\" y1=\"{F(Py(yt[i]))}\" y2=\"{F(Py(yt[i]))}\" stroke=\"#e8e8e8\"/><text x=\"{F(Left - 4)}\" y=\"{F(Py(yt[i]) + 4)}\" text-anchor=\"end\">{yl[i]}</text>");
        sb.Append("</g>");
        sb.Append(CultureInfo.InvariantCulture,
            $"<rect class=\"frame\" x=\"{F(Left)}\" y=\"{F(Top)}\" width=\"{F(pw)}\" height=\"{F(ph)}\" fill=\"none\" stroke=\"#999999\"/>");
        foreach (var layer in _layers) layer(sb, Px, Py);
        if (_xLabel.Length > 0)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + pw / 2)}\" y=\"{F(_height - 6)}\" text-anchor=\"middle\">{E(_xLabel)}</text>");
        if (_yLabel.Length > 0)
            sb.Append(CultureInfo.InvariantCulture,
                $"<text transform=\"translate(12 {F(Top + ph / 2)}) rotate(-90)\" text-anchor=\"middle\">{E(_yLabel)}</text>");
        var lx = Left + pw - 6;
        var ly = Top + 12.0;
        foreach (var (label, colour) in _legend.DistinctBy(l => l.Label))
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<g class=\"legend\"><rect x=\"{F(lx - 10)}\" y=\"{F(ly - 8)}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{F(lx - 14)}\" y=\"{F(ly + 1)}\" text-anchor=\"end\">{E(label)}</text></g>");
            ly += 14;
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>
    /// The chart's figures as tables (its full text alternative, WCAG 1.1.1, and what tells its series apart without
    /// colour, 1.4.1), folded in a <c>&lt;details class="figures"&gt;</c> under the chart: one table when every labelled
    /// layer has the same x values (a histogram's bins, an ACF's lags), one per layer otherwise. Histograms give each
    /// bin's edges, lines and scatters their points; unlabelled layers (a reference diagonal) are left out.
    /// </summary>
    public string FiguresTable()
    {
        if (_figures.Count == 0) return "";
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<details class=\"figures\"><summary>Figures: {E(_title)}</summary>");
        string xName = _xLabel.Length > 0 ? _xLabel : "x", yName = _yLabel.Length > 0 ? _yLabel : "y";
        var first = _figures[0];
        var groups = _figures.All(f => f.Bins == first.Bins && f.Xs.SequenceEqual(first.Xs)) ? [[.. _figures]] : _figures.Select(f => new[] { f }).ToArray();
        foreach (var group in groups)
        {
            var lead = group[0];
            sb.Append("<table><caption>").Append(E(group.Length == 1 ? $"{lead.Label}: {yName} by {xName}" : $"{yName} by {xName}")).Append("</caption><tr>");
            foreach (var h in lead.Bins ? new[] { xName + " from", xName + " to" } : [xName]) sb.Append("<th scope=\"col\">").Append(E(h)).Append("</th>");
            foreach (var f in group) sb.Append("<th scope=\"col\">").Append(E(group.Length == 1 ? yName : f.Label)).Append("</th>");
            sb.Append("</tr>");
            var rows = lead.Bins ? lead.Xs.Length - 1 : lead.Xs.Length;
            for (var i = 0; i < rows; i++)
            {
                sb.Append("<tr><td>").Append(Value(lead.Xs[i]));
                if (lead.Bins) sb.Append("</td><td>").Append(Value(lead.Xs[i + 1]));
                sb.Append("</td>");
                foreach (var f in group) sb.Append("<td>").Append(i < f.Ys.Length ? Value(f.Ys[i]) : "").Append("</td>");
                sb.Append("</tr>");
            }
            sb.Append("</table>");
        }
        sb.Append("</details>");
        return sb.ToString();
    }

    /// <summary>The chart and its <see cref="FiguresTable"/> in a <c>&lt;figure&gt;</c>.</summary>
    public string ToFigure() => "<figure>" + this + FiguresTable() + "</figure>";

    // a table cell's number: six significant digits, invariant, "NaN" for a missing value
    private static string Value(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G6", CultureInfo.InvariantCulture);

    // one labelled layer's data: a histogram's edges (Bins) and heights, or a line's or scatter's points
    private sealed record Figures(string Label, double[] Xs, bool Bins, double[] Ys);

    /// <summary>
    /// Evenly spaced ticks at a step of 1, 2 or 5 × 10^k covering [lo, hi] with about <paramref name="count"/> intervals.
    /// A degenerate range is widened by ±0.5 (or ±10 % of its value).
    /// </summary>
    public static double[] NiceTicks(double lo, double hi, int count)
    {
        if (!(hi > lo))
        {
            var pad = lo == 0 ? 0.5 : Math.Abs(lo) * 0.1;
            (lo, hi) = (lo - pad, hi + pad);
        }
        var raw = (hi - lo) / Math.Max(1, count);
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var norm = raw / mag;
        var step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
        var first = Math.Floor(lo / step + 1e-9) * step;
        var last = Math.Ceiling(hi / step - 1e-9) * step;
        var n = (int)Math.Round((last - first) / step);
        var ticks = new double[n + 1];
        for (var i = 0; i <= n; i++)
        {
            var t = first + i * step;
            ticks[i] = Math.Abs(t) < step * 1e-9 ? 0 : t;
        }
        return ticks;
    }

    // a non-finite bound (a NaN bin edge) widens nothing
    private void Widen(double x0, double x1, double y0, double y1)
    {
        _x0 = !double.IsFinite(x0) ? _x0 : double.IsFinite(_x0) ? Math.Min(_x0, x0) : x0;
        _x1 = !double.IsFinite(x1) ? _x1 : double.IsFinite(_x1) ? Math.Max(_x1, x1) : x1;
        _y0 = !double.IsFinite(y0) ? _y0 : double.IsFinite(_y0) ? Math.Min(_y0, y0) : y0;
        _y1 = !double.IsFinite(y1) ? _y1 : double.IsFinite(_y1) ? Math.Max(_y1, y1) : y1;
    }

    private void Widen(IReadOnlyList<double> xs, IReadOnlyList<double> ys)
    {
        var fx = xs.Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var fy = ys.Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        Widen(fx.Min(), fx.Max(), fy.Min(), fy.Max());
    }

    internal static string F(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    internal static string E(string s) => WebUtility.HtmlEncode(s);

    // the ticks' labels: Tick's short form, or, where it gives two neighbours one label (ticks 2,000 apart near 1E5 were
    // all "1E5" or "1.1E5"; 0.00001 apart near 0.001 all "0.001"), as many more digits as tell every neighbour apart;
    // past the 15 digits a custom format shows, the shortest round-trip form
    private static string[] TickLabels(double[] ticks)
    {
        static bool Apart(string[] labels) => labels.Zip(labels.Skip(1)).All(p => p.First != p.Second);
        for (var extra = 0; extra < 14; extra++)
        {
            var labels = ticks.Select(t => Tick(t, extra)).ToArray();
            if (Apart(labels)) return labels;
        }
        return [.. ticks.Select(t => t.ToString("R", CultureInfo.InvariantCulture))];
    }

    // a tick in 1.5E5 form below 0.001 and from 100,000 on, else with at most four decimals; extra digits added to both
    private static string Tick(double t, int extra)
    {
        var a = Math.Abs(t);
        return a != 0 && (a < 1e-3 || a >= 1e5)
            ? t.ToString("0." + new string('#', 1 + extra) + "E0", CultureInfo.InvariantCulture)
            : t.ToString("0." + new string('#', 4 + extra), CultureInfo.InvariantCulture);
    }
}
