using System.Globalization;
using System.Text;

namespace Crucible.Evaluation.Reporting;

/// <summary>A square matrix as an inline-SVG heatmap with a diverging blue–white–red colour scale and its legend bar.</summary>
public static class SvgHeatmap
{
    /// <summary>
    /// Renders <paramref name="matrix"/> (values clamped to [<paramref name="min"/>, <paramref name="max"/>]; NaN grey)
    /// with row/column <paramref name="labels"/>. <paramref name="id"/> becomes both <c>id</c> and <c>data-chart</c>.
    /// </summary>
    public static string Render(string id, string title, double[][] matrix, IReadOnlyList<string> labels, double min = -1, double max = 1)
    {
        var n = matrix.Length;
        const double labelWidth = 86, top = 28, scaleWidth = 54;
        var cell = Math.Clamp(300.0 / Math.Max(1, n), 8, 40);
        var width = labelWidth + n * cell + scaleWidth;
        var height = top + n * cell + 60;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{SvgChart.E(id)}\" data-chart=\"{SvgChart.E(id)}\" width=\"{SvgChart.F(width)}\" height=\"{SvgChart.F(height)}\" viewBox=\"0 0 {SvgChart.F(width)} {SvgChart.F(height)}\" role=\"img\" aria-label=\"{SvgChart.E(title)}\" font-family=\"sans-serif\" font-size=\"10\">");
        sb.Append(inv, $"<title>{SvgChart.E(title)}</title><text x=\"{SvgChart.F(labelWidth)}\" y=\"16\" class=\"ct\">{SvgChart.E(title)}</text>");
        var fontSize = Math.Min(11, cell * 0.8);
        for (var i = 0; i < n; i++)
        {
            var y = top + i * cell;
            sb.Append(inv, $"<text x=\"{SvgChart.F(labelWidth - 4)}\" y=\"{SvgChart.F(y + cell * 0.7)}\" text-anchor=\"end\" font-size=\"{SvgChart.F(fontSize)}\">{SvgChart.E(labels[i])}</text>");
            for (var j = 0; j < n; j++)
            {
                var v = matrix[i][j];
                sb.Append(inv, $"<rect x=\"{SvgChart.F(labelWidth + j * cell)}\" y=\"{SvgChart.F(y)}\" width=\"{SvgChart.F(cell)}\" height=\"{SvgChart.F(cell)}\" fill=\"{Colour(v, min, max)}\"><title>{SvgChart.E(labels[i])} / {SvgChart.E(labels[j])}: {(double.IsNaN(v) ? "NaN" : v.ToString("0.###", inv))}</title></rect>");
            }
        }
        for (var j = 0; j < n; j++)
        {
            var x = labelWidth + j * cell + cell * 0.6;
            var y = top + n * cell + 4;
            sb.Append(inv, $"<text transform=\"translate({SvgChart.F(x)} {SvgChart.F(y)}) rotate(60)\" font-size=\"{SvgChart.F(fontSize)}\">{SvgChart.E(labels[j])}</text>");
        }
        // colour scale bar
        var sx = labelWidth + n * cell + 14;
        const int steps = 20;
        var barHeight = n * cell;
        for (var k = 0; k < steps; k++)
        {
            var v = max - (max - min) * (k + 0.5) / steps;
            sb.Append(inv, $"<rect class=\"scale\" x=\"{SvgChart.F(sx)}\" y=\"{SvgChart.F(top + barHeight * k / steps)}\" width=\"10\" height=\"{SvgChart.F(barHeight / steps + 0.5)}\" fill=\"{Colour(v, min, max)}\"/>");
        }
        sb.Append(inv, $"<text x=\"{SvgChart.F(sx + 13)}\" y=\"{SvgChart.F(top + 8)}\" font-size=\"10\">{max.ToString("0.##", inv)}</text>");
        sb.Append(inv, $"<text x=\"{SvgChart.F(sx + 13)}\" y=\"{SvgChart.F(top + barHeight)}\" font-size=\"10\">{min.ToString("0.##", inv)}</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>
    /// The matrix as a table (the heatmap's text alternative: its colours alone carry no number), folded in a
    /// <c>&lt;details class="figures"&gt;</c>: a header row of the column labels, a row header per row, three decimals.
    /// </summary>
    public static string FiguresTable(string title, double[][] matrix, IReadOnlyList<string> labels)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<details class=\"figures\"><summary>Figures: ").Append(SvgChart.E(title)).Append("</summary><table><caption>")
          .Append(SvgChart.E(title)).Append("</caption><tr><td></td>");
        foreach (var label in labels) sb.Append("<th scope=\"col\">").Append(SvgChart.E(label)).Append("</th>");
        sb.Append("</tr>");
        for (var i = 0; i < matrix.Length; i++)
        {
            sb.Append("<tr><th scope=\"row\">").Append(SvgChart.E(labels[i])).Append("</th>");
            foreach (var v in matrix[i]) sb.Append("<td>").Append(double.IsNaN(v) ? "NaN" : v.ToString("0.000", inv)).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</table></details>");
        return sb.ToString();
    }

    /// <summary>Diverging colour: blue at <paramref name="min"/>, white at the midpoint, red at <paramref name="max"/>; grey for NaN.</summary>
    public static string Colour(double v, double min, double max)
    {
        if (double.IsNaN(v)) return "#bbbbbb";
        var t = Math.Clamp((v - min) / (max - min), 0, 1) * 2 - 1; // −1 .. 1
        (int R, int G, int B) lo = (33, 102, 172), mid = (247, 247, 247), hi = (178, 24, 43);
        var (a, b, f) = t < 0 ? (mid, lo, -t) : (mid, hi, t);
        int Mix(int x, int y) => (int)Math.Round(x + (y - x) * f);
        return string.Create(CultureInfo.InvariantCulture, $"#{Mix(a.R, b.R):x2}{Mix(a.G, b.G):x2}{Mix(a.B, b.B):x2}");
    }
}
