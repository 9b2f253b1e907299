using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Crucible.Tests.Accessibility;

/// <summary>
/// WCAG 2.2 checks on a page rendered in Chromium, shared by the browser tests of the scenario explorer, the evaluation
/// report and the model card (linked into each test project): text contrast from the rendered (computed) styles
/// (SC 1.4.3), the focus indicator of the focused control (SC 2.4.7, 1.4.11) and horizontal scrolling (SC 1.4.10).
/// The contrast ratio is computed here, in C#, with WCAG's relative-luminance formula, not taken from a library.
/// </summary>
internal static class Wcag
{
    /// <summary>An sRGB colour with channels 0..255 and alpha 0..1.</summary>
    public readonly record struct Rgba(double R, double G, double B, double A = 1)
    {
        /// <summary>This colour composited over an opaque <paramref name="below"/> (source-over).</summary>
        public Rgba Over(Rgba below) => new(R * A + below.R * (1 - A), G * A + below.G * (1 - A), B * A + below.B * (1 - A));

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"rgb({R:0.#},{G:0.#},{B:0.#}{(A < 1 ? $",{A:0.##}" : "")})");
    }

    /// <summary>A hex colour <c>#rrggbb</c>.</summary>
    public static Rgba Hex(string hex) => new(
        int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    /// <summary>
    /// WCAG 2.2 relative luminance: each sRGB channel c/255 linearised (c/12.92 at or below 0.04045, else
    /// ((c + 0.055)/1.055)^2.4), then L = 0.2126 R + 0.7152 G + 0.0722 B.
    /// </summary>
    public static double RelativeLuminance(Rgba c)
    {
        static double Linear(double channel)
        {
            var s = channel / 255;
            return s <= 0.04045 ? s / 12.92 : Math.Pow((s + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Linear(c.R)) + (0.7152 * Linear(c.G)) + (0.0722 * Linear(c.B));
    }

    /// <summary>The contrast ratio (L_lighter + 0.05) / (L_darker + 0.05) of two opaque colours, 1 to 21.</summary>
    public static double ContrastRatio(Rgba a, Rgba b)
    {
        double la = RelativeLuminance(a), lb = RelativeLuminance(b);
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }

    /// <summary>A computed CSS colour as Chromium serialises it: <c>rgb(r, g, b)</c> or <c>rgba(r, g, b, a)</c>.</summary>
    public static Rgba Css(string css)
    {
        var open = css.IndexOf('(', StringComparison.Ordinal);
        var parts = css[(open + 1)..css.LastIndexOf(')')].Split([',', ' ', '/'], StringSplitOptions.RemoveEmptyEntries)
            .Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new Rgba(parts[0], parts[1], parts[2], parts.Length > 3 ? parts[3] : 1);
    }

    /// <summary>One piece of visible text, its colour and what lies behind it, as the page rendered them.</summary>
    public sealed record TextSample(string Text, string Where, Rgba Foreground, Rgba Background, double FontPx, int Weight)
    {
        /// <summary>WCAG's large text: at least 18 pt (24 px), or 14 pt (18.66 px) bold.</summary>
        public bool Large => FontPx >= 24 || (FontPx >= 18.66 && Weight >= 700);

        /// <summary>The contrast ratio of the text (its colour composited over the background) with the background.</summary>
        public double Ratio => ContrastRatio(Foreground.Over(Background), Background);

        /// <summary>SC 1.4.3's minimum: 4.5:1, or 3:1 for large text.</summary>
        public double Required => Large ? 3 : 4.5;
    }

    // Every visible element with its own text (text nodes, a form control's value or placeholder, SVG <text>), skipping
    // disabled controls (SC 1.4.3 exempts inactive components). The background is the first opaque one found walking up
    // the ancestors (semi-transparent ones composited on the way); for SVG text it is the topmost filled <rect> of the
    // same <svg> under the text's centre (a heatmap cell), else the <svg>'s own background, else its ancestors'.
    private const string CollectScript = """
        () => {
          const parse = c => { const m = c.match(/[\d.]+/g); if (!m) return [0,0,0,0]; const v = m.map(Number); return v.length > 3 ? v : [v[0],v[1],v[2],c.startsWith('rgba') ? v[3] : 1]; };
          const over = (top, below) => { const a = top[3]; return [top[0]*a+below[0]*(1-a), top[1]*a+below[1]*(1-a), top[2]*a+below[2]*(1-a), 1]; };
          const htmlBackground = el => {
            const layers = [];
            for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
              const c = parse(getComputedStyle(e).backgroundColor);
              if (c[3] > 0) layers.push(c);
              if (c[3] >= 1) break;
            }
            let bg = [255,255,255,1];
            for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
            return bg;
          };
          const visible = el => {
            if (!el.getClientRects().length) return false;
            const s = getComputedStyle(el);
            if (s.visibility !== 'visible' || Number(s.opacity) === 0) return false;
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.height > 0;
          };
          const inactive = el => el.closest(':disabled, [aria-disabled=true], [hidden]') !== null;
          const where = el => { let p = el, path = []; while (p && p.nodeType === 1 && path.length < 4) { path.unshift(p.tagName.toLowerCase() + (p.id ? '#' + p.id : '')); if (p.id) break; p = p.parentElement; } return path.join('>'); };
          const out = [];
          const push = (el, text, fg, bg, s) => out.push({ text: text.slice(0, 60), where: where(el), fg, bg, size: parseFloat(s.fontSize), weight: Number(s.fontWeight) || 400 });
          for (const el of document.querySelectorAll('body *')) {
            if (['SCRIPT','STYLE','TITLE','OPTION','svg'].includes(el.tagName) || !visible(el) || inactive(el)) continue;
            const s = getComputedStyle(el);
            if (el instanceof SVGElement) {
              if (el.tagName !== 'text') continue;
              const text = el.textContent.trim();
              if (!text) continue;
              const svg = el.ownerSVGElement, box = el.getBoundingClientRect(), cx = box.x + box.width / 2, cy = box.y + box.height / 2;
              let bg = null;
              for (const r of svg.querySelectorAll('rect')) {
                const rb = r.getBoundingClientRect(), fill = getComputedStyle(r).fill;
                if (fill === 'none' || !fill.startsWith('rgb') || rb.width < box.width) continue;
                if (cx >= rb.left && cx <= rb.right && cy >= rb.top && cy <= rb.bottom && (r.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) {
                  const c = parse(fill); c[3] *= Number(getComputedStyle(r).fillOpacity);
                  bg = over(c, htmlBackground(svg));
                }
              }
              const fill = parse(s.fill); fill[3] *= Number(s.fillOpacity);
              push(el, text, fill, bg || htmlBackground(svg), s);
              continue;
            }
            if (el.matches('input:not([type=range]):not([type=checkbox]):not([type=radio]), select, textarea')) {
              const text = el.tagName === 'SELECT' ? (el.selectedOptions[0] || {}).textContent || '' : el.value;
              if (text.trim()) push(el, text.trim(), parse(s.color), htmlBackground(el), s);
              if (el.placeholder && !el.value) {
                const p = getComputedStyle(el, '::placeholder');
                push(el, 'placeholder: ' + el.placeholder, parse(p.color), htmlBackground(el), p);
              }
              continue;
            }
            const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
            if (own) push(el, own, parse(s.color), htmlBackground(el), s);
          }
          return out;
        }
        """;

    /// <summary>Every visible piece of text on the page with its rendered colours (see the script above).</summary>
    public static async Task<IReadOnlyList<TextSample>> TextSamplesAsync(IPage page)
    {
        var json = await page.EvaluateAsync<JsonElement>(CollectScript);
        return [.. json.EnumerateArray().Select(e => new TextSample(
            e.GetProperty("text").GetString()!, e.GetProperty("where").GetString()!,
            Channels(e.GetProperty("fg")), Channels(e.GetProperty("bg")), e.GetProperty("size").GetDouble(), e.GetProperty("weight").GetInt32()))];

        static Rgba Channels(JsonElement a) => new(a[0].GetDouble(), a[1].GetDouble(), a[2].GetDouble(), a[3].GetDouble());
    }

    /// <summary>
    /// Asserts that every visible text meets SC 1.4.3 (and that there is text to check: at least
    /// <paramref name="atLeast"/> samples); the message lists each failure with its colours and ratio.
    /// </summary>
    public static async Task AssertTextContrastAsync(IPage page, int atLeast)
    {
        var samples = await TextSamplesAsync(page);
        Assert.True(samples.Count >= atLeast, $"only {samples.Count} text samples were found");
        var failures = samples.Where(s => s.Ratio < s.Required - 1e-9)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Where} \"{s.Text}\": {s.Foreground} on {s.Background} = {s.Ratio:0.00}:1 < {s.Required}:1"))
            .Distinct().ToList();
        Assert.True(failures.Count == 0, "text below the WCAG 2.2 AA contrast minimum:\n" + string.Join("\n", failures));
    }

    /// <summary>The focused element's outline as rendered: style, width (px), colour and the background around it.</summary>
    public sealed record FocusRing(string Element, string Style, double Width, Rgba Colour, Rgba Background);

    /// <summary>The outline of <c>document.activeElement</c> (SC 2.4.7) and the background it is drawn on.</summary>
    public static async Task<FocusRing> FocusRingAsync(IPage page)
    {
        var e = await page.EvaluateAsync<JsonElement>("""
            () => {
              const el = document.activeElement, s = getComputedStyle(el);
              let bg = [255,255,255,1];
              for (let p = el.parentElement; p; p = p.parentElement) {
                const m = getComputedStyle(p).backgroundColor.match(/[\d.]+/g).map(Number);
                if (m.length === 3 || m[3] >= 1) { bg = [m[0], m[1], m[2], 1]; break; }
              }
              return { el: el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor, bg };
            }
            """);
        var bg = e.GetProperty("bg");
        return new FocusRing(e.GetProperty("el").GetString()!, e.GetProperty("style").GetString()!, e.GetProperty("width").GetDouble(),
            Css(e.GetProperty("colour").GetString()!), new Rgba(bg[0].GetDouble(), bg[1].GetDouble(), bg[2].GetDouble()));
    }

    /// <summary>
    /// Asserts a visible focus indicator on the focused element: a solid outline at least 2 px wide whose colour has at
    /// least 3:1 against the background it is drawn on (SC 2.4.7, and 1.4.11 for the indicator as a UI part).
    /// </summary>
    public static async Task AssertVisibleFocusAsync(IPage page)
    {
        var ring = await FocusRingAsync(page);
        Assert.True(ring.Style is "solid" or "double" or "dashed" or "dotted" && ring.Width >= 2,
            $"{ring.Element} has no visible focus outline: outline-style {ring.Style}, width {ring.Width}px");
        var ratio = ContrastRatio(ring.Colour.Over(ring.Background), ring.Background);
        Assert.True(ratio >= 3, string.Create(CultureInfo.InvariantCulture, $"{ring.Element}'s focus outline {ring.Colour} on {ring.Background} has {ratio:0.00}:1 < 3:1"));
    }

    /// <summary>
    /// SC 1.4.10 at the current viewport: the page does not scroll sideways (the document is no wider than the viewport)
    /// and no paragraph, heading or list item sticks out of it.
    /// </summary>
    public static async Task AssertReflowsAsync(IPage page)
    {
        var e = await page.EvaluateAsync<JsonElement>("""
            () => {
              const w = document.documentElement.clientWidth;
              const wide = Array.from(document.querySelectorAll('p, h1, h2, h3, li, label, legend, summary, figcaption'))
                .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > w + 0.5)
                .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' right ' + Math.round(el.getBoundingClientRect().right));
              return { viewport: w, scroll: document.documentElement.scrollWidth, wide };
            }
            """);
        int viewport = e.GetProperty("viewport").GetInt32(), scroll = e.GetProperty("scroll").GetInt32();
        Assert.True(scroll <= viewport, $"the page scrolls sideways at {viewport} CSS px: it is {scroll} px wide");
        var wide = e.GetProperty("wide").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.True(wide.Count == 0, $"text wider than the {viewport} px viewport: " + string.Join(", ", wide));
    }
}
