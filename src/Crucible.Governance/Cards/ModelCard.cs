using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Governance.Cards;

/// <summary>A block of a model-card section: a paragraph, a bullet list or a table.</summary>
public abstract record CardBlock;

/// <summary>A paragraph of plain text.</summary>
public sealed record CardParagraph(string Text) : CardBlock;

/// <summary>
/// A bullet list of plain-text items; with <paramref name="Markdown"/> the items are Markdown source from a trusted
/// document (the embedded README's Limits), passed through to the Markdown card (the HTML card shows them as text).
/// </summary>
public sealed record CardBullets(IReadOnlyList<string> Items, bool Markdown = false) : CardBlock;

/// <summary>A table: a header row and body rows of plain-text cells.</summary>
public sealed record CardTable(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : CardBlock;

/// <summary>One section of the card: a stable id (the HTML anchor), a title and its blocks.</summary>
public sealed record CardSection(string Id, string Title, IReadOnlyList<CardBlock> Blocks);

/// <summary>
/// The model card (MRM-7, SR 11-7 "parties unfamiliar with a model"): generated from a model folder's
/// <c>manifest.json</c> (checked against <c>weights.safetensors</c>), optionally an evaluation <c>report.json</c> and the
/// model's registry status, with the sections: model details, intended use, data, training configuration,
/// differential privacy (the DP statement when the manifest carries one, DP-10), validation results, coverage audit,
/// and limitations (the README's "Limits", embedded in the library). Plain text in, Markdown or self-contained HTML out;
/// no time stamp, so the same inputs give the same bytes. A required section left empty is an error.
/// </summary>
public sealed class ModelCard
{
    /// <summary>The logical name of the embedded README whose "Limits" section the card quotes.</summary>
    public const string ReadmeResourceName = "crucible-README.md";

    private ModelCard(string title, IReadOnlyList<CardSection> sections)
    {
        Title = title;
        Sections = sections;
    }

    /// <summary>The card's title.</summary>
    public string Title { get; }

    /// <summary>The sections, in order.</summary>
    public IReadOnlyList<CardSection> Sections { get; }

    /// <summary>The section with id <paramref name="id"/>, or null.</summary>
    public CardSection? Section(string id) => Sections.FirstOrDefault(s => s.Id == id);

    /// <summary>
    /// Builds the card of the model folder <paramref name="modelFolder"/>, with the validation and coverage sections from
    /// the evaluation report <paramref name="reportPath"/> when given, and the registry <paramref name="status"/>
    /// (<see cref="Registry.ModelRecord.Status"/>, e.g. from <see cref="Registry.ModelRegistry.Find"/>).
    /// </summary>
    /// <exception cref="InvalidInputException">As <see cref="Build(string, string?, string?)"/>.</exception>
    public static ModelCard Build(string modelFolder, string? reportPath, Registry.ModelStatus status) =>
        Build(modelFolder, reportPath, Registry.ModelStatuses.WireName(status)); // ArgumentOutOfRangeException: not a status

    /// <summary>
    /// Builds the card of the model folder <paramref name="modelFolder"/>, with the validation and coverage sections from
    /// the evaluation report <paramref name="reportPath"/> when given, and the registry <paramref name="status"/> when known:
    /// a <see cref="Registry.ModelStatus"/> name (<c>candidate</c>, <c>validated</c>, <c>promoted</c>, <c>retired</c>, in any
    /// case; the card writes it in lower case, as the registry's log does), or null when the model is not registered.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="status"/> is not the name of a <see cref="Registry.ModelStatus"/>.</exception>
    /// <exception cref="InvalidInputException">
    /// <c>CARD-E-MODEL</c> (missing or malformed files, weights that do not match the manifest), <c>CARD-E-REPORT</c>
    /// (an unreadable report), <c>CARD-E-EMPTY</c> (a required section has no content).
    /// </exception>
    public static ModelCard Build(string modelFolder, string? reportPath = null, string? status = null)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        // the card's bytes hold the status: "Validated" (ModelStatus.ToString()) and "validated" (the CLI's) gave two
        // cards of the same model, and any other text went in as a registry status
        if (status is not null)
        {
            status = Registry.ModelStatuses.All.Select(Registry.ModelStatuses.WireName).FirstOrDefault(n => string.Equals(n, status, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"'{status}' is not a model status (candidate, validated, promoted, retired)", nameof(status));
        }

        var manifestPath = Path.Combine(modelFolder, "manifest.json");
        var weightsPath = Path.Combine(modelFolder, "weights.safetensors");
        foreach (var f in new[] { manifestPath, weightsPath })
        {
            if (!File.Exists(f)) throw new InvalidInputException("CARD-E-MODEL", "a model folder needs weights.safetensors and manifest.json", new InputLocation(f, 0, 0));
        }

        using var manifest = ParseJson(manifestPath, "CARD-E-MODEL");
        var m = manifest.RootElement;
        if (m.ValueKind != JsonValueKind.Object) // the sections read its members: an array or a scalar has none
            throw new InvalidInputException("CARD-E-MODEL", "manifest.json is not a JSON object", new InputLocation(manifestPath, 0, 0));
        var id = FileHash.Sha256(weightsPath);
        if (Str(m, "weights", "sha256") is { } recorded && !string.Equals(recorded, id, StringComparison.Ordinal))
            throw new InvalidInputException("CARD-E-MODEL", $"weights SHA-256 {id[..16]}… is not the manifest's {recorded[..Math.Min(16, recorded.Length)]}…: the folder was changed", new InputLocation(weightsPath, 0, 0));

        using var report = reportPath is null ? null : ParseJson(reportPath, "CARD-E-REPORT");
        var r = report?.RootElement;
        if (r is { } evaluated) CheckReportSeries(evaluated, m, reportPath!);
        // the wire names of Crucible.Diffusion's ModelKind (a project this one does not reference): the sections below say
        // what the model generates and what it fitted by its kind, so a manifest without one is not described at all
        var kind = Str(m, "kind") is { } k && ModelKindNames.Contains(k, StringComparer.Ordinal)
            ? k
            : throw new InvalidInputException("CARD-E-MODEL",
                $"manifest.json's kind must be one of {string.Join(", ", ModelKindNames)}, got {(Str(m, "kind") is { } other ? "'" + other + "'" : "none")}",
                new InputLocation(manifestPath, 0, 0));
        var sections = new List<CardSection>
        {
            Details(m, kind, id, FileHash.Sha256(manifestPath), status),
            IntendedUse(kind),
            Data(m),
            Training(m),
            Privacy(m, kind),
            Validation(r, reportPath is null ? null : FileHash.Sha256(reportPath)),
            Coverage(r),
            Limitations(),
        };
        foreach (var s in sections)
        {
            if (!s.Blocks.Any(HasContent)) throw new InvalidInputException("CARD-E-EMPTY", $"the model card's required section '{s.Title}' is empty");
        }

        return new ModelCard($"Model card: Crucible {kind} generator {id[..12]}", sections);
    }

    /// <summary>
    /// The card as Markdown (LF line ends, trailing newline). Plain text (titles, paragraphs, cells, and bullets not marked
    /// <see cref="CardBullets.Markdown"/>) goes through <see cref="MarkdownText"/>, so a series name such as
    /// <c>a|b&lt;script&gt;</c> stays text: it can neither break a table nor inject HTML or formatting.
    /// </summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(MarkdownText(Title)).Append("\n\n");
        foreach (var s in Sections)
        {
            sb.Append("## ").Append(MarkdownText(s.Title)).Append("\n\n");
            foreach (var b in s.Blocks)
            {
                switch (b)
                {
                    case CardParagraph p:
                        sb.Append(MarkdownText(p.Text)).Append("\n\n");
                        break;
                    case CardBullets l:
                        foreach (var item in l.Items) sb.Append("- ").Append(l.Markdown ? item.Replace("\n", "\n  ", StringComparison.Ordinal) : MarkdownText(item)).Append('\n');
                        sb.Append('\n');
                        break;
                    case CardTable t:
                        sb.Append("| ").Append(string.Join(" | ", t.Header.Select(MarkdownText))).Append(" |\n");
                        sb.Append('|').Append(string.Concat(t.Header.Select(_ => "---|"))).Append('\n');
                        foreach (var row in t.Rows) sb.Append("| ").Append(string.Join(" | ", row.Select(MarkdownText))).Append(" |\n");
                        sb.Append('\n');
                        break;
                }
            }
        }

        return sb.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>
    /// <paramref name="text"/> as one line of literal Markdown text, for a paragraph, a heading, a list item or a table cell:
    /// a line break (CR, LF, CR LF, U+2028/U+2029) becomes a space; <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c> become entities
    /// (no raw HTML, no entity smuggled in); a backslash, backtick, <c>*</c>, <c>[</c>, <c>]</c>, <c>|</c> and <c>~</c> are
    /// backslash-escaped, and <c>_</c> too unless it sits between two letters or digits (where it cannot emphasise:
    /// <c>ks_mean</c> stays readable); a leading block marker (<c>#</c>, <c>+</c>, <c>-</c>, <c>=</c>, an ordered-list
    /// number, a space) is escaped so the text cannot open a heading, a list or a code block.
    /// </summary>
    public static string MarkdownText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\r':
                    if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                    sb.Append(' ');
                    break;
                case '\n' or '\u2028' or '\u2029':
                    sb.Append(' ');
                    break;
                case '&':
                    sb.Append("&amp;");
                    break;
                case '<':
                    sb.Append("&lt;");
                    break;
                case '>':
                    sb.Append("&gt;");
                    break;
                case '\\' or '`' or '*' or '[' or ']' or '|' or '~':
                    sb.Append('\\').Append(c);
                    break;
                case '_':
                    bool intraword = i > 0 && char.IsLetterOrDigit(text[i - 1]) && i + 1 < text.Length && char.IsLetterOrDigit(text[i + 1]);
                    if (!intraword) sb.Append('\\');
                    sb.Append(c);
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        // a block marker at the start of the line (CommonMark): "# x" (ATX heading), "- x" / "+ x" (list item), a line of
        // only '-' / '=' (thematic break, setext underline), "1. x" / "1) x" (ordered list), leading spaces (indented code);
        // "-0.02" or "0.031" are no markers and stay as they are
        if (sb.Length > 0)
        {
            var line = sb.ToString();
            int hashes = 0, digits = 0;
            while (hashes < line.Length && line[hashes] == '#') hashes++;
            while (digits < line.Length && char.IsAsciiDigit(line[digits])) digits++;
            if ((hashes > 0 && EndsMarker(line, hashes)) || (line[0] is '+' or '-' && EndsMarker(line, 1))
                || (line[0] is '-' or '=' && line.All(ch => ch == line[0] || ch == ' ')))
            {
                sb.Insert(0, '\\');
            }
            else if (digits is > 0 and <= 9 && digits < line.Length && line[digits] is '.' or ')' && EndsMarker(line, digits + 1))
            {
                sb.Insert(digits, '\\');
            }
            else if (line[0] is ' ' or '\t')
            {
                sb.Remove(0, 1).Insert(0, line[0] == ' ' ? "&#32;" : "&#9;");
            }
        }

        return sb.ToString();

        static bool EndsMarker(string line, int at) => at >= line.Length || line[at] is ' ' or '\t';
    }

    /// <summary>The card as one self-contained HTML page (inline CSS, no script, no external URL).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(Title)).Append("</title>\n<style>")
          .Append(Css).Append("</style></head><body>\n<main>\n<h1>").Append(E(Title)).Append("</h1>\n");
        foreach (var s in Sections)
        {
            sb.Append("<section id=\"").Append(E(s.Id)).Append("\"><h2>").Append(E(s.Title)).Append("</h2>\n");
            foreach (var b in s.Blocks)
            {
                switch (b)
                {
                    case CardParagraph p:
                        sb.Append("<p>").Append(E(p.Text)).Append("</p>\n");
                        break;
                    case CardBullets l:
                        sb.Append("<ul>");
                        foreach (var item in l.Items) sb.Append("<li>").Append(E(item)).Append("</li>");
                        sb.Append("</ul>\n");
                        break;
                    case CardTable t:
                        sb.Append("<table><tr>");
                        foreach (var h in t.Header) sb.Append("<th>").Append(E(h)).Append("</th>");
                        sb.Append("</tr>");
                        foreach (var row in t.Rows)
                        {
                            sb.Append("<tr>");
                            foreach (var c in row) sb.Append("<td>").Append(E(c)).Append("</td>");
                            sb.Append("</tr>");
                        }

                        sb.Append("</table>\n");
                        break;
                }
            }

            sb.Append("</section>\n");
        }

        sb.Append("</main></body></html>\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToMarkdown"/> to <paramref name="markdownPath"/> and, when given, <see cref="ToHtml"/> to <paramref name="htmlPath"/>, atomically.</summary>
    public void Write(string markdownPath, string? htmlPath = null)
    {
        AtomicFile.WriteAllText(markdownPath, ToMarkdown());
        if (htmlPath is not null) AtomicFile.WriteAllText(htmlPath, ToHtml());
    }

    /// <summary>The bullets of the README's "## Limits" section (each bullet's lines joined), from the embedded README.</summary>
    public static IReadOnlyList<string> ReadmeLimits()
    {
        using var stream = typeof(ModelCard).Assembly.GetManifestResourceStream(ReadmeResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ReadmeResourceName} is missing");
        using var reader = new StreamReader(stream);
        return LimitsOf(reader.ReadToEnd());
    }

    /// <summary>The bullets of the "## Limits" section of the Markdown <paramref name="readme"/> (up to the next "## " heading).</summary>
    internal static IReadOnlyList<string> LimitsOf(string readme)
    {
        var lines = readme.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimEnd() == "## Limits");
        if (start < 0) return [];
        var items = new List<string>();
        StringBuilder? current = null;
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal) && !lines[i].StartsWith("# ", StringComparison.Ordinal); i++)
        {
            var line = lines[i];
            if (line.StartsWith("- ", StringComparison.Ordinal))
            {
                if (current is not null) items.Add(current.ToString());
                current = new StringBuilder(line[2..].Trim());
            }
            else if (current is not null && line.Trim().Length > 0)
            {
                current.Append(' ').Append(line.Trim());
            }
        }

        if (current is not null) items.Add(current.ToString());
        return items;
    }

    private static CardSection Details(JsonElement m, string kind, string id, string manifestSha, string? status)
    {
        var rows = new List<IReadOnlyList<string>>
        {
            Row("model id (SHA-256 of weights.safetensors)", id),
            Row("manifest.json SHA-256", manifestSha),
            Row("kind", kind),
            Row("format", Str(m, "format") ?? "unknown"),
            Row("library version", Str(m, "library_version") ?? "unknown"),
            Row("parameters", Known(m, "weights", "parameters") ?? "unknown"),
            Row("seed", Known(m, "seed") ?? "unknown"),
        };
        if (status is not null) rows.Add(Row("registry status", status));
        return new CardSection("details", "Model details", [new CardTable(["field", "value"], rows)]);
    }

    private static readonly string[] ModelKindNames = ["tabular", "sequence"];

    private static CardSection IntendedUse(string kind)
    {
        var what = kind == "tabular"
            ? "one-day joint log returns of the trained series, drawn independently (no time structure),"
            : "paths of joint log returns of the trained series,";
        return new CardSection("intended-use", "Intended use",
        [
            new CardParagraph($"Generates synthetic {what} which keep the marginals and cross-sectional dependence of the training period, for "
                + "stress testing and scenario analysis (portfolio VaR, ES and drawdown under generated scenarios), for the validation and "
                + "challenge of risk models, for augmenting scarce crisis data, and for sharing data in place of the real rows when the "
                + "privacy evaluation supports it."),
            new CardParagraph("Out of scope: forecasting returns or prices, pricing or trading decisions, series or frequencies it was not "
                + "trained on, and any use that assumes moves beyond the training history (see Limitations). Every use should cite this "
                + "model id and a validation report; results outside the declared thresholds need recalibration or redevelopment (SR 11-7)."),
        ]);
    }

    /// <summary>
    /// What the card shows for a hash of the private data that a DP-SGD model's manifest withholds (RELIABILITY.md DP-11:
    /// an exact hash would confirm a candidate dataset outside the accounted mechanism).
    /// </summary>
    public const string Withheld = "withheld (DP-11: no exact hash of the private data in a DP model's artifacts)";

    private static CardSection Data(JsonElement m)
    {
        // a DP-SGD model's manifest withholds the exact hashes of the private data (RELIABILITY.md DP-11): said so, not "(none)"
        string missing = m.TryGetProperty("privacy", out var dp) && dp.ValueKind == JsonValueKind.Object ? Withheld : "(none)";
        var rows = new List<IReadOnlyList<string>>
        {
            Row("input file", Str(m, "data", "input_file") ?? "(not from a file)"),
            Row("input SHA-256", Str(m, "data", "input_sha256") ?? missing),
            Row("input values", Str(m, "data", "input_kind") ?? "(unknown)"),
            Row("train matrix SHA-256 (log returns, float64 LE, row-major)", Str(m, "data", "train_matrix_sha256") ?? missing),
            Row("train rows", Known(m, "data", "train_rows") ?? "(unknown)"),
            Row("train period", Str(m, "data", "train_start") is { } a ? $"{a} .. {Str(m, "data", "train_end")}" : "(undated)"),
        };
        var columns = m.TryGetProperty("columns", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.EnumerateArray().Select(Text).ToArray() // a name that is no string (an edited manifest) is shown as written
            : [];
        rows.Add(Row("series", columns.Length.ToString(CultureInfo.InvariantCulture)));
        // a sequence model's windows, and a conditional one's second input: the economic state it is conditioned on, and
        // the reference state that relative stress requests (vol=+2sd, BAA10Y=+300bp) move from
        if (Known(m, "windows", "count") is { } windowCount)
            rows.Add(Row("training windows (with a known state)", $"{windowCount} ({Known(m, "windows", "conditioned") ?? "0"})"));
        if (TryGet(m, ["conditions", "names"], out var names) && names.ValueKind == JsonValueKind.Array)
            rows.Add(Row("condition features (lagged one day)", string.Join(", ", names.EnumerateArray().Select(Text))));
        if (TryGet(m, ["state_data"], out var state) && state.ValueKind == JsonValueKind.Object)
        {
            rows.Add(Row("state file", Str(state, "input_file") ?? "(not from a file)"));
            rows.Add(Row("state SHA-256", Str(state, "input_sha256") ?? missing));
            rows.Add(Row("state rows", Known(state, "train_rows") ?? "(unknown)"));
            rows.Add(Row("state period", Str(state, "train_start") is { } s0 ? $"{s0} .. {Str(state, "train_end")}" : "(undated)"));
            rows.Add(Row("condition matrix SHA-256 (the windows' standardised states)", Str(m, "windows", "condition_matrix_sha256") ?? missing));
        }

        if (TryGet(m, ["conditions", "reference"], out var reference) && reference.ValueKind == JsonValueKind.Object)
        {
            rows.Add(Row("reference state (relative stress moves from it)",
                string.Join(", ", reference.EnumerateObject().Select(p => $"{p.Name} = {Text(p.Value)}")) + $" ({Str(m, "conditions", "reference_date") ?? "undated"})"));
        }

        return new CardSection("data", "Data",
        [
            new CardTable(["field", "value"], rows),
            new CardParagraph("Series, in model order: " + (columns.Length == 0 ? "(none recorded)" : string.Join(", ", columns)) + "."),
        ]);
    }

    private static CardSection Training(JsonElement m)
    {
        var rows = new List<IReadOnlyList<string>>();
        if (m.TryGetProperty("config", out var config)) Flatten(config, "", rows);
        var blocks = new List<CardBlock> { new CardTable(["setting", "value"], rows) };
        if (Known(m, "training", "steps") is { } steps)
        {
            blocks.Add(new CardParagraph(string.Create(CultureInfo.InvariantCulture,
                $"Trained for {steps} optimiser steps; final loss (mean of the last tenth of the steps) {Known(m, "training", "final_loss") ?? "unknown"}.")));
        }

        return new CardSection("training", "Training configuration", blocks);
    }

    private static CardSection Privacy(JsonElement m, string kind)
    {
        if (m.TryGetProperty("privacy", out var dp) && dp.ValueKind == JsonValueKind.Object)
        {
            var rows = new List<IReadOnlyList<string>>();
            Flatten(dp, "", rows);
            var blocks = new List<CardBlock>
            {
                new CardParagraph("This model was trained with DP-SGD. The statement below (DP-10) holds every number needed to re-derive ε."),
                new CardTable(["field", "value"], rows),
            };
            return new CardSection("privacy", "Differential privacy", blocks);
        }

        // what of the training data the folder carries besides the weights: a tabular model's quantile knots are train order
        // statistics; a sequence model has no quantile transform (its manifest's affine map, noise scales and condition
        // statistics are what it fitted), so the tabular sentence would be a claim its artifacts do not support
        var fitted = kind == "sequence"
            ? "Its weights, per-series noise scales and affine map (the train means and standard deviations under transform "
                + "standardize) and its condition statistics (mean, standard deviation, reference state) are fitted on the training windows."
            : "Its transform and weights are fitted on the training rows (the quantile knots are train order statistics).";
        return new CardSection("privacy", "Differential privacy",
        [
            new CardParagraph("Not trained with differential privacy: the model carries no formal privacy guarantee. " + fitted
                + " Judge disclosure risk from the privacy section of the validation report (distance to closest record, membership inference)."),
        ]);
    }

    private static CardSection Validation(JsonElement? r, string? reportSha)
    {
        if (r is not { } report)
        {
            return new CardSection("validation", "Validation results",
                [new CardParagraph("No evaluation report was given: this card records no validation. Validate with crucible evaluate "
                    + "--thresholds FILE against a time holdout and regenerate the card with --report.")]);
        }

        var rows = new List<IReadOnlyList<string>>();
        foreach (var key in new[] { "ks_mean", "ks_max", "wasserstein_mean", "corr_distance" })
        {
            if (Raw(report, key) is { } v) rows.Add(Row(key, v));
        }

        // the portfolio's VaR, ES and CDaR are at the report's horizon (20 days for 20-step scenarios) while its backtest
        // tests the one-day VaR: the labels say which, so a 20-day VaR is not read beside 250 one-day exceptions as one figure
        var horizon = Raw(report, "portfolio", "horizon");
        var alpha = Raw(report, "alpha");
        var at = horizon is null ? "" : alpha is null ? $", {horizon}-step horizon" : $" at α {alpha}, {horizon}-step horizon";
        foreach (var key in new[] { "var", "es", "cdar" })
        {
            if (PairText(report, "portfolio", key) is { } v) rows.Add(Row($"portfolio.{key}{at} (real / synthetic)", v));
        }

        // backtest reads the last 250 real rows only (the card cannot know they are days), which can be the calm end of the period: the label says so, and the
        // whole period (backtest_all_days) and the scenarios' own horizon (backtest_horizon) are shown beside it
        var atAlpha = alpha is null ? "" : $" at α {alpha}";
        if (Str(report, "portfolio", "backtest", "traffic_light") is { } zone)
        {
            var oneDay = horizon is null ? "" : Raw(report, "portfolio", "backtest", "var") is { } v ? $" of the one-step VaR {v}" : " of the one-step VaR";
            var observations = Raw(report, "portfolio", "backtest", "observations");
            rows.Add(Row($"VaR backtest{oneDay}, last {observations} real rows (exceptions, Basel zone)", $"{Raw(report, "portfolio", "backtest", "exceptions")} of {observations}, {zone}"));
        }
        if (Str(report, "portfolio", "backtest_all_days", "traffic_light") is { } allZone)
        {
            var all = new[] { "portfolio", "backtest_all_days" };
            var cc = Raw(report, [.. all, "christoffersen", "conditional_coverage_p"]) is { } ccp ? $", Christoffersen conditional coverage p {ccp}" : "";
            rows.Add(Row($"VaR backtest of the one-step VaR {Raw(report, [.. all, "var"])}{atAlpha}, every real row ({Raw(report, [.. all, "observations"])} rows; exceptions, Basel zone for that many rows)",
                $"{Raw(report, [.. all, "exceptions"])} of {Raw(report, [.. all, "observations"])} (expected {Raw(report, [.. all, "expected_exceptions"])}), {allZone} "
                + $"({Str(report, [.. all, "zone_bounds", "text"])}); Kupiec p {Raw(report, [.. all, "kupiec_p_value"]) ?? "null"}{cc}"));
        }
        if (Raw(report, "portfolio", "backtest_horizon", "exceptions") is { } hx)
        {
            var hb = new[] { "portfolio", "backtest_horizon" };
            var h = Raw(report, [.. hb, "horizon"]);
            rows.Add(Row($"VaR backtest of the {h}-step VaR {Raw(report, [.. hb, "var"])}{atAlpha}, non-overlapping real {h}-step windows ({Raw(report, [.. hb, "observations"])} windows; exceptions, binomial probability)",
                $"{hx} of {Raw(report, [.. hb, "observations"])} (expected {Raw(report, [.. hb, "expected_exceptions"])}); Kupiec p {Raw(report, [.. hb, "kupiec_p_value"]) ?? "null"}; "
                + $"P(X ≥ {hx}) {Raw(report, [.. hb, "p_at_least"]) ?? "null"} for a correct VaR; no Basel colour (its zones are defined for daily data)"));
        }
        foreach (var key in new[] { "dcr_train_median", "dcr_holdout_median", "share_closer_to_train" })
        {
            if (Raw(report, "privacy", key) is { } v) rows.Add(Row("privacy." + key, v));
        }

        // the PRIV-3 gate is read on privacy.dcr_share's equal-size reference sample, whose share can differ widely from the
        // top-level share above (all train rows against a smaller holdout): the bound is shown beside the share it bounds
        if (Raw(report, "privacy", "dcr_share", "bound") is { } shareBound)
        {
            rows.Add(Row("privacy.dcr_share gate (PRIV-3: share closer to train, equal-size reference, ≤ bound)",
                $"{Raw(report, "privacy", "dcr_share", "share_closer_to_train") ?? "null"} ≤ {shareBound}: {(Flag(report, "privacy", "dcr_share", "within_bound") ? "pass" : "FAIL")}"));
        }
        // the gate's control: a shifted holdout (a later period) lifts every generator's share, a copying one's or not
        if (Raw(report, "privacy", "holdout_exchangeability", "share_closer_to_train") is { } controlShare)
        {
            rows.Add(Row("privacy.holdout_exchangeability (control: the same share for the real train rows themselves; 0.5 when the holdout is not shifted)",
                $"{controlShare} (bound {Raw(report, "privacy", "holdout_exchangeability", "bound") ?? "null"}): "
                + (Flag(report, "privacy", "holdout_exchangeability", "exchangeable") ? "no sign of a shifted holdout" : "the holdout is shifted; read the DCR share against this share")));
        }
        foreach (var attack in new[] { "membership_inference", "shadow_membership_inference" })
        {
            if (Raw(report, "privacy", attack, "auc") is { } auc) rows.Add(Row($"privacy.{attack}.auc", auc));
            if (Raw(report, "privacy", attack, "gate", "bound") is { } gateBound)
            {
                rows.Add(Row($"privacy.{attack}.gate (PRIV-7: TPR at FPR 0.1 ≤ bound)",
                    $"{Raw(report, "privacy", attack, "tpr_at_fpr_10pct") ?? "null"} ≤ {gateBound}: {(Flag(report, "privacy", attack, "gate", "passed") ? "pass" : "FAIL")}"));
            }
        }

        if (Raw(report, "utility", "return", "mse_ratio") is { } mse) rows.Add(Row("utility.return.mse_ratio (TSTR / TRTR)", mse));
        if (Raw(report, "rows", "real") is { } nReal)
            rows.Add(Row("rows (real / synthetic)", $"{nReal} / {Raw(report, "rows", "synthetic")}"));

        var blocks = new List<CardBlock>
        {
            new CardParagraph($"From the evaluation report with SHA-256 {reportSha}."),
            new CardTable(["metric", "value"], rows),
        };
        // the report's own findings (a failed privacy gate, a DCR share above its bound, a holdout too small, …) are no
        // declared thresholds, so the verdicts below cannot show them: they are quoted here, or the card would read clean
        var findings = Strings(report, "privacy", "warnings").Select(w => "privacy: " + w).Concat(Strings(report, "coverage", "warnings").Select(w => "coverage: " + w)).Concat(Strings(report, "warnings")).ToList();
        if (findings.Count > 0)
        {
            blocks.Add(new CardParagraph(string.Create(CultureInfo.InvariantCulture, $"The report flags {findings.Count} finding(s):")));
            blocks.Add(new CardBullets(findings));
        }

        if (report.TryGetProperty("thresholds", out var th) && th.ValueKind == JsonValueKind.Object)
        {
            var passed = th.TryGetProperty("passed", out var p) && p.ValueKind == JsonValueKind.True;
            var verdicts = new List<IReadOnlyList<string>>();
            if (th.TryGetProperty("verdicts", out var vs) && vs.ValueKind == JsonValueKind.Array)
            {
                foreach (var v in vs.EnumerateArray())
                {
                    verdicts.Add([Str(v, "key") ?? "", $"{(Str(v, "bound") == "max" ? "≤" : "≥")} {Raw(v, "limit")}", Raw(v, "value") ?? "null",
                        Flag(v, "passed") ? "pass" : "FAIL"]); // a verdict that is no object has no pass
                }
            }

            blocks.Add(new CardParagraph(passed ? "Every predeclared threshold passed." : "At least one predeclared threshold FAILED."));
            blocks.Add(new CardTable(["threshold", "bound", "value", "verdict"], verdicts));
        }
        else
        {
            blocks.Add(new CardParagraph("The report declares no acceptance thresholds, so it is not a PASS record (MRM-5)."));
        }

        return new CardSection("validation", "Validation results", blocks);
    }

    private static CardSection Coverage(JsonElement? r)
    {
        if (r is not { } report || !report.TryGetProperty("coverage", out var c) || c.ValueKind != JsonValueKind.Object)
        {
            return new CardSection("coverage", "Coverage audit",
                [new CardParagraph("No coverage audit: evaluate with --segments FILE (or --segments default) to audit the tail coverage of "
                    + "each declared market segment.")]);
        }

        var rows = new List<IReadOnlyList<string>>();
        if (c.TryGetProperty("segments", out var segments) && segments.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in segments.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Object || !s.TryGetProperty("levels", out var levels) || levels.ValueKind != JsonValueKind.Array) continue;
                foreach (var l in levels.EnumerateArray())
                {
                    if (l.ValueKind != JsonValueKind.Object) continue;
                    rows.Add([Str(s, "dimension") ?? "", Str(s, "segment") ?? "", Raw(l, "level") ?? "", PairText(l, "tail_frequency") ?? "",
                        PairText(l, "es") ?? "", l.TryGetProperty("under_stressed", out var u) && u.ValueKind == JsonValueKind.True ? "under-stressed" : "ok"]);
                }
            }
        }

        var flagged = c.TryGetProperty("under_stressed", out var us) && us.ValueKind == JsonValueKind.Array
            ? us.EnumerateArray().Select(Text).ToArray()
            : [];
        return new CardSection("coverage", "Coverage audit",
        [
            new CardParagraph(string.Create(CultureInfo.InvariantCulture,
                $"Tail coverage per declared segment: share of events below the real 1% and 5% quantiles of the segment's equal-weight return, and ES beyond them, real / synthetic (tolerance {Raw(c, "tolerance")}, {Raw(c, "horizon")}-step events). ")
                + (flagged.Length == 0 ? "No segment is under-stressed." : $"Under-stressed: {string.Join(", ", flagged)}.")),
            new CardTable(["dimension", "segment", "level", "tail frequency (real / synthetic)", "ES (real / synthetic)", "verdict"], rows),
        ]);
    }

    private static CardSection Limitations()
    {
        var limits = ReadmeLimits();
        return new CardSection("limitations", "Limitations and assumptions",
        [
            new CardParagraph("Known limitations of this version of Crucible (the README's Limits):"),
            new CardBullets(limits, Markdown: true),
        ]);
    }

    // every scalar under e as "a.b.c" → value rows, in document order
    private static void Flatten(JsonElement e, string prefix, List<IReadOnlyList<string>> rows)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + "." + p.Name, rows);
                break;
            case JsonValueKind.Array:
                rows.Add(Row(prefix, e.GetArrayLength() <= 8 ? string.Join(", ", e.EnumerateArray().Select(Text)) : string.Create(CultureInfo.InvariantCulture, $"({e.GetArrayLength()} values)")));
                break;
            default:
                rows.Add(Row(prefix, Text(e)));
                break;
        }
    }

    private static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Number => Number(e),
        JsonValueKind.Null => "null",
        _ => e.GetRawText(),
    };

    // numbers as G6, invariant culture (the report keeps full precision); integers exactly, up to a ulong seed's 2^64 − 1
    private static string Number(JsonElement e) =>
        e.TryGetInt64(out var i) ? i.ToString(CultureInfo.InvariantCulture)
        : e.TryGetUInt64(out var u) ? u.ToString(CultureInfo.InvariantCulture)
        : e.GetDouble().ToString("G6", CultureInfo.InvariantCulture);

    private static bool TryGet(JsonElement root, string[] path, out JsonElement value)
    {
        value = root;
        foreach (var key in path)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(key, out value)) return false;
        }

        return true;
    }

    private static string? Str(JsonElement root, params string[] path) =>
        TryGet(root, path, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Raw(JsonElement root, params string[] path) =>
        TryGet(root, path, out var v) && v.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined) ? Text(v) : null;

    // a manifest field as text; absent or JSON null (a field the writer did not know, or an edited manifest): null
    private static string? Known(JsonElement root, params string[] path) =>
        TryGet(root, path, out var v) && v.ValueKind != JsonValueKind.Null ? Raw(root, path) : null;

    private static string? PairText(JsonElement root, params string[] path) =>
        TryGet(root, path, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2
            ? $"{Text(v[0])} / {Text(v[1])}"
            : null;

    private static IReadOnlyList<string> Row(string a, string b) => [a, b];

    private static bool Flag(JsonElement root, params string[] path) => TryGet(root, path, out var v) && v.ValueKind == JsonValueKind.True;

    // the strings of an array at path (absent or not an array: none)
    private static IEnumerable<string> Strings(JsonElement root, params string[] path) =>
        TryGet(root, path, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)
            : [];

    private static bool HasContent(CardBlock b) => b switch
    {
        CardParagraph p => !string.IsNullOrWhiteSpace(p.Text),
        CardBullets l => l.Items.Count > 0,
        CardTable t => t.Rows.Count > 0,
        _ => false,
    };

    // The card cites the report as the model's validation, so it must be an evaluation report ("columns": the series it
    // evaluated, as crucible evaluate writes it) of this model's series: a thresholds file or another model's report
    // (whose verdicts would read as this model's) is refused. A manifest without "columns" has nothing to compare with.
    private static void CheckReportSeries(JsonElement report, JsonElement manifest, string reportPath)
    {
        var where = new InputLocation(reportPath, 0, 0);
        if (report.ValueKind != JsonValueKind.Object || !report.TryGetProperty("columns", out var rc) || rc.ValueKind != JsonValueKind.Array
            || rc.GetArrayLength() == 0 || rc.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw new InvalidInputException("CARD-E-REPORT", "not an evaluation report: it has no \"columns\" list of the series it evaluated (give the report.json that crucible evaluate --out wrote)", where);
        if (!manifest.TryGetProperty("columns", out var mc) || mc.ValueKind != JsonValueKind.Array) return;
        var evaluated = rc.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        var generated = mc.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        if (evaluated.SetEquals(generated)) return;
        var missing = generated.Where(c => !evaluated.Contains(c)).ToList();
        var extra = evaluated.Where(c => !generated.Contains(c)).ToList();
        throw new InvalidInputException("CARD-E-REPORT",
            "the report evaluates other series than the model generates, so it is not this model's validation"
            + (missing.Count > 0 ? $"; not in the report: {string.Join(", ", missing)}" : "")
            + (extra.Count > 0 ? $"; not in the model: {string.Join(", ", extra)}" : "")
            + " (give the report of an evaluation of this model's scenarios)", where);
    }

    private static JsonDocument ParseJson(string path, string rule)
    {
        Crucible.Data.IO.InputFile.ThrowIfFolder(path, Crucible.Data.IO.InputFile.NotAFileRule); // a folder exists: not "does not exist"
        if (!File.Exists(path)) throw new InvalidInputException(rule, $"{path} does not exist", new InputLocation(path, 0, 0));
        try
        {
            return JsonDocument.Parse(Crucible.Data.IO.InputFile.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(rule, $"not valid JSON: {e.Message}", new InputLocation(path, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private const string Css =
        "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1100px}" +
        "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}" +
        "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}" +
        "li{margin:4px 0}" +
        // WCAG 2.2 AA reflow at 320 CSS px (400% zoom): long values (hashes, paths) wrap, a wide table scrolls inside its
        // section; printed, a table row is not cut across pages
        "p,li,td,th{overflow-wrap:anywhere}section{overflow-x:auto}@media (max-width:640px){body{margin:8px}}" +
        "@media print{body{margin:0;max-width:none}section{overflow:visible}tr{break-inside:avoid}h2{break-after:avoid}}";
}
