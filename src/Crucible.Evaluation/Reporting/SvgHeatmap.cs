using System.Globalization;
using System.Text;

namespace Crucible.Evaluation.Reporting;

/// <summary>A square matrix as an inline-SVG heatmap with a diverging blue–white–red colour scale and its legend bar.</summary>
public static class SvgHeatmap
{
    /// <summary>
    /// The most rows (and columns) drawn cell by cell. A larger matrix is drawn in blocks of consecutive series (see
    /// <see cref="Render"/>): 500 series cell by cell were 250,000 cells with a tooltip each, about 27 MB per heatmap and
    /// a 120 MB page that a browser cannot open.
    /// </summary>
    public const int MaxCells = 50;

    /// <summary>
    /// Renders <paramref name="matrix"/> (values clamped to [<paramref name="min"/>, <paramref name="max"/>]; NaN grey)
    /// with row/column <paramref name="labels"/>. <paramref name="id"/> becomes both <c>id</c> and <c>data-chart</c>.
    /// A matrix of more than <paramref name="maxCells"/> rows is drawn as a grid of at most <paramref name="maxCells"/>
    /// blocks a side, each of b = ⌈n / maxCells⌉ consecutive series (the last may be shorter): a block's colour is the mean
    /// of its entries off the diagonal (NaN left out), its tooltip names its first and last series with that mean, the
    /// minimum and the maximum, and the title says so; the full matrix stays in report.json.
    /// </summary>
    public static string Render(string id, string title, double[][] matrix, IReadOnlyList<string> labels, double min = -1, double max = 1, int maxCells = MaxCells)
    {
        var drawn = Drawn(title, matrix, labels, maxCells);
        return RenderCells(id, drawn.Title, drawn.Matrix, drawn.Labels, drawn.Tips, min, max);
    }

    // what a heatmap of at most maxCells rows a side draws: the matrix itself, or its block means with their labels,
    // tooltips and a title that says so
    private static (string Title, double[][] Matrix, IReadOnlyList<string> Labels, string[][]? Tips) Drawn(
        string title, double[][] matrix, IReadOnlyList<string> labels, int maxCells)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCells, 1);
        if (matrix.Length <= maxCells) return (title, matrix, labels, null);
        var (blocks, blockLabels, tips, size) = Blocks(matrix, labels, maxCells);
        return ($"{title} (means over blocks of {size} series)", blocks, blockLabels, tips);
    }

    /// <summary>
    /// Block means of <paramref name="matrix"/> (n × n) over blocks of b = ⌈n / <paramref name="maxCells"/>⌉ consecutive
    /// series: m = ⌈n / b⌉ ≤ maxCells blocks a side. Diagonal entries (i = j) and NaN are left out of a block's statistics;
    /// a block with nothing left (a one-series diagonal block, or all NaN) is NaN.
    /// </summary>
    internal static (double[][] Means, string[] Labels, string[][] Tips, int BlockSize) Blocks(double[][] matrix, IReadOnlyList<string> labels, int maxCells)
    {
        var n = matrix.Length;
        var b = (n + maxCells - 1) / maxCells;
        var m = (n + b - 1) / b;
        var inv = CultureInfo.InvariantCulture;
        var names = new string[m];
        for (var k = 0; k < m; k++)
        {
            int first = k * b, last = Math.Min(n, first + b) - 1;
            names[k] = first == last ? labels[first] : labels[first] + "…" + labels[last];
        }
        var means = new double[m][];
        var tips = new string[m][];
        for (var bi = 0; bi < m; bi++)
        {
            means[bi] = new double[m];
            tips[bi] = new string[m];
            for (var bj = 0; bj < m; bj++)
            {
                double sum = 0, lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                var count = 0;
                for (var i = bi * b; i < Math.Min(n, (bi + 1) * b); i++)
                {
                    for (var j = bj * b; j < Math.Min(n, (bj + 1) * b); j++)
                    {
                        var v = matrix[i][j];
                        if (i == j || double.IsNaN(v)) continue;
                        sum += v;
                        lo = Math.Min(lo, v);
                        hi = Math.Max(hi, v);
                        count++;
                    }
                }
                means[bi][bj] = count == 0 ? double.NaN : sum / count;
                tips[bi][bj] = count == 0
                    ? $"{names[bi]} / {names[bj]}: no off-diagonal value"
                    : $"{names[bi]} / {names[bj]}: mean {means[bi][bj].ToString("0.###", inv)} of {count} pairs, min {lo.ToString("0.###", inv)}, max {hi.ToString("0.###", inv)}";
            }
        }
        return (means, names, tips, b);
    }

    /// <summary>The widest a row label (and a column label's run) is drawn, in px; a longer name is cut with "…".</summary>
    private const double MaxLabelWidth = 180;

    private static string RenderCells(string id, string title, double[][] matrix, IReadOnlyList<string> labels, string[][]? tips, double min, double max)
    {
        var n = matrix.Length;
        const double top = 28;
        var cell = Math.Clamp(300.0 / Math.Max(1, n), 8, 40);
        var fontSize = Math.Min(11, cell * 0.8);
        // the margins fit the longest label as drawn (86 px beside the cells, 60 under them, 54 right of them at least:
        // labels of up to about ten characters); a longer label ran off the chart's left or bottom edge and was cut
        // there ("r Discretionary", "Consumer D"). A column label hangs from 4 px under the cells at 60°: its far end
        // reaches 0.866 of its width down, its descent a little more; its top end 0.5 of its width right.
        var drawn = labels.Select(l => Fitted(l, fontSize)).ToArray();
        var longest = drawn.Select(d => d.Width).DefaultIfEmpty(0).Max();
        var labelWidth = Math.Max(86, Math.Ceiling(longest + 5));
        var scaleWidth = Math.Max(54, Math.Ceiling((0.5 * longest) + (0.7 * fontSize) - (0.4 * cell) + 1));
        var width = labelWidth + n * cell + scaleWidth;
        var height = top + n * cell + Math.Max(60, Math.Ceiling(4.5 + (0.866 * longest) + (0.12 * fontSize)));
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{SvgChart.E(id)}\" data-chart=\"{SvgChart.E(id)}\" width=\"{SvgChart.F(width)}\" height=\"{SvgChart.F(height)}\" viewBox=\"0 0 {SvgChart.F(width)} {SvgChart.F(height)}\" role=\"img\" aria-label=\"{SvgChart.E(title)}\" font-family=\"sans-serif\" font-size=\"10\">");
        sb.Append(inv, $"<title>{SvgChart.E(title)}</title><text x=\"{SvgChart.F(labelWidth)}\" y=\"16\" class=\"ct\">{SvgChart.E(title)}</text>");
        for (var i = 0; i < n; i++)
        {
            var y = top + i * cell;
            sb.Append(inv, $"<text x=\"{SvgChart.F(labelWidth - 4)}\" y=\"{SvgChart.F(y + cell * 0.7)}\" text-anchor=\"end\" font-size=\"{SvgChart.F(fontSize)}\">{drawn[i].Html}</text>");
            for (var j = 0; j < n; j++)
            {
                var v = matrix[i][j];
                sb.Append(inv, $"<rect x=\"{SvgChart.F(labelWidth + j * cell)}\" y=\"{SvgChart.F(y)}\" width=\"{SvgChart.F(cell)}\" height=\"{SvgChart.F(cell)}\" fill=\"{Colour(v, min, max)}\"><title>{(tips is null ? $"{SvgChart.E(labels[i])} / {SvgChart.E(labels[j])}: {(double.IsNaN(v) ? "NaN" : v.ToString("0.###", inv))}" : SvgChart.E(tips[i][j]))}</title></rect>");
            }
        }
        for (var j = 0; j < n; j++)
        {
            var x = labelWidth + j * cell + cell * 0.6;
            var y = top + n * cell + 4;
            sb.Append(inv, $"<text transform=\"translate({SvgChart.F(x)} {SvgChart.F(y)}) rotate(60)\" font-size=\"{SvgChart.F(fontSize)}\">{drawn[j].Html}</text>");
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

    // a label as drawn and its width: the whole name when it is at most MaxLabelWidth wide, else cut to fit with "…" and
    // the whole name as its tooltip (the cells' tooltips and the figures table have it whole too)
    private static (string Html, double Width) Fitted(string label, double fontSize)
    {
        var width = Ems(label) * fontSize;
        if (width <= MaxLabelWidth) return (SvgChart.E(label), width);
        var cut = new StringBuilder();
        var used = Ems("…") * fontSize;
        foreach (var rune in label.EnumerateRunes())
        {
            var w = Ems(rune) * fontSize;
            if (used + w > MaxLabelWidth) break;
            cut.Append(rune.ToString());
            used += w;
        }
        return ($"<title>{SvgChart.E(label)}</title>{SvgChart.E(cut + "…")}", used);
    }

    // the width of text in em, as DejaVu Sans draws it (the widest of the usual sans-serif fonts: Arial and Helvetica
    // draw narrower): its advance widths for printable ASCII, 1 for an East Asian wide character, an emoji or "…", and
    // 0.7 for any other character
    private static double Ems(string text)
    {
        double ems = 0;
        foreach (var rune in text.EnumerateRunes()) ems += Ems(rune);
        return ems;
    }

    private static double Ems(Rune rune) => rune.Value switch
    {
        >= 0x20 and <= 0x7E => AsciiWidths[rune.Value - 0x20] / 1000.0,
        0x2026 or (>= 0x1100 and <= 0x115F) or (>= 0x2E80 and <= 0xA4CF) or (>= 0xAC00 and <= 0xD7A3) or (>= 0xF900 and <= 0xFAFF)
            or (>= 0xFE30 and <= 0xFE4F) or (>= 0xFF00 and <= 0xFF60) or (>= 0xFFE0 and <= 0xFFE6) or (>= 0x1F300 and <= 0x1FAFF)
            or (>= 0x20000 and <= 0x3FFFD) => 1,
        _ => 0.7,
    };

    // DejaVu Sans's advance widths of ' ' to '~' in thousandths of an em (its hmtx table, 2048 units an em)
    private static readonly short[] AsciiWidths =
    [
        318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636,
        636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
        603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
        634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
    ];

    /// <summary>
    /// The heatmap of <see cref="Render"/> and its <see cref="FiguresTable"/> in a <c>&lt;figure&gt;</c>, the blocks of a
    /// matrix of more than <paramref name="maxCells"/> rows computed once for both: the table gives what the picture
    /// draws (block means, their labels and title), as 500 series cell by cell would add 250,000 cells per heatmap to a
    /// page the blocks keep small (the full matrix stays in report.json).
    /// </summary>
    public static string Figure(string id, string title, double[][] matrix, IReadOnlyList<string> labels, double min = -1, double max = 1, int maxCells = MaxCells)
    {
        var drawn = Drawn(title, matrix, labels, maxCells);
        return "<figure>" + RenderCells(id, drawn.Title, drawn.Matrix, drawn.Labels, drawn.Tips, min, max)
            + FiguresTable(drawn.Title, drawn.Matrix, drawn.Labels) + "</figure>";
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
