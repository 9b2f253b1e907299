using System.Security.Cryptography;
using System.Text;
using Crucible.Data;
using Crucible.Governance.Cards;
using Crucible.Governance.Registry;

namespace Crucible.Governance.Tests.Cards;

public sealed class ModelCardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-card-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A model folder: some weight bytes and a manifest in the shape of Crucible.Diffusion's (optionally with a DP statement).</summary>
    private string Model(bool dp = false)
    {
        var folder = Path.Combine(_dir, dp ? "dp-model" : "model");
        Directory.CreateDirectory(folder);
        var weights = Encoding.UTF8.GetBytes("not really safetensors, but hashed all the same");
        File.WriteAllBytes(Path.Combine(folder, "weights.safetensors"), weights);
        var sha = Convert.ToHexStringLower(SHA256.HashData(weights));
        // a DP model's manifest withholds the exact hashes of the private data (DP-11): null, as Crucible.Diffusion writes them
        string inputHash = dp ? "null" : $"\"{new string('a', 64)}\"", trainHash = dp ? "null" : $"\"{new string('b', 64)}\"";
        var privacy = dp ? """, "privacy": {"epsilon": 2.97, "delta": 1e-05, "noise_multiplier": 1.1, "max_grad_norm": 1, "sample_rate": 0.01, "steps": 500, "accountant": "rdp", "unit": "record", "covers": "all checkpoints"}""" : "";
        File.WriteAllText(Path.Combine(folder, "manifest.json"), $$$"""
            {"format": "crucible-model/1", "kind": "tabular", "library_version": "0.1.0", "seed": 7,
             "columns": ["SPY", "TLT|x", "A&B<c>"],
             "config": {"transform": "quantile_normal", "hidden": 64, "strata": {"SPY": "equity", "TLT|x": "bond"}, "training": {"steps": 300, "batch_size": 64}},
             "data": {"input_file": "prices.csv", "input_sha256": {{{inputHash}}}, "input_kind": "Prices",
                      "train_matrix_sha256": {{{trainHash}}}, "train_rows": 1234, "train_start": "2010-01-04", "train_end": "2017-12-29"},
             "training": {"steps": 300, "final_loss": 0.41},
             "weights": {"file": "weights.safetensors", "sha256": "{{{sha}}}", "parameters": 4242}{{{privacy}}}}
            """);
        return folder;
    }

    private string Report(bool withThresholds, bool passed = true)
    {
        var path = Path.Combine(_dir, $"report-{withThresholds}-{passed}.json");
        var thresholds = withThresholds
            ? $$""", "thresholds": {"passed": {{(passed ? "true" : "false")}}, "verdicts": [{"key": "ks_max", "bound": "max", "limit": 0.1, "value": 0.05, "passed": {{(passed ? "true" : "false")}}}]}"""
            : "";
        File.WriteAllText(path, $$$"""
            {"columns": ["SPY", "TLT|x", "A&B<c>"], "alpha": 0.99, "ks_mean": 0.031, "ks_max": 0.05, "wasserstein_mean": 0.001, "corr_distance": 0.04,
             "privacy": {"dcr_train_median": 1.2, "dcr_holdout_median": 1.3, "share_closer_to_train": 0.51, "membership_inference": {"auc": 0.52}},
             "portfolio": {"var": [0.03, 0.028], "es": [0.05, 0.041], "cdar": [0.2, 0.1], "backtest": {"observations": 250, "exceptions": 3, "traffic_light": "green"}},
             "rows": {"real": 900, "synthetic": 5000},
             "coverage": {"tolerance": 0.2, "horizon": 1, "levels": [0.01, 0.05], "under_stressed": ["asset_class=bond"],
               "segments": [{"dimension": "asset_class", "segment": "bond", "series": ["TLT|x"], "events": {"real": 900, "synthetic": 5000}, "under_stressed": true,
                 "levels": [{"level": 0.01, "threshold": -0.02, "tail_frequency": [0.01, 0.002], "es": [0.025, 0.012], "under_stressed": true}]}],
               "unassigned": {"asset_class": []}}{{{thresholds}}}}
            """);
        return path;
    }

    // a library caller holds a ModelRecord.Status: its ToString() ("Validated") gave another card than the CLI's
    // "validated" for the same model, and any text ("approved") went in as a registry status
    [Fact]
    public void Build_TheRegistryStatus_IsAModelStatus_WrittenAsTheLogWritesIt()
    {
        var folder = Model();
        var cli = ModelCard.Build(folder, null, "validated").ToMarkdown();
        Assert.Contains("| registry status | validated |", cli, StringComparison.Ordinal);
        Assert.Equal(cli, ModelCard.Build(folder, null, ModelStatus.Validated).ToMarkdown());
        Assert.Equal(cli, ModelCard.Build(folder, null, ModelStatus.Validated.ToString()).ToMarkdown());
        var e = Assert.Throws<ArgumentException>(() => ModelCard.Build(folder, null, "approved"));
        Assert.Equal("status", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelCard.Build(folder, null, (ModelStatus)42));
        Assert.DoesNotContain("registry status", ModelCard.Build(folder).ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutAReport_HasEveryRequiredSection_FromTheManifest()
    {
        var card = ModelCard.Build(Model(), status: "candidate");
        Assert.Equal(["details", "intended-use", "data", "training", "privacy", "validation", "coverage", "limitations"], card.Sections.Select(s => s.Id));
        var md = card.ToMarkdown();
        Assert.StartsWith("# Model card: Crucible tabular generator ", md, StringComparison.Ordinal);
        Assert.Contains("| train rows | 1234 |", md, StringComparison.Ordinal);
        Assert.Contains("| train period | 2010-01-04 .. 2017-12-29 |", md, StringComparison.Ordinal);
        Assert.Contains("| input SHA-256 | " + new string('a', 64) + " |", md, StringComparison.Ordinal);
        Assert.Contains("| training.steps | 300 |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.SPY | equity |", md, StringComparison.Ordinal);
        Assert.Contains("| registry status | candidate |", md, StringComparison.Ordinal);
        Assert.Contains("Series, in model order: SPY, TLT\\|x, A&amp;B&lt;c&gt;.", md, StringComparison.Ordinal);
        Assert.Contains("| strata.TLT\\|x | bond |", md, StringComparison.Ordinal); // a '|' in a cell is escaped
        Assert.Contains("Not trained with differential privacy", md, StringComparison.Ordinal);
        Assert.Contains("No evaluation report was given", md, StringComparison.Ordinal);
        Assert.Contains("No coverage audit", md, StringComparison.Ordinal);

        // the limitations are the README's Limits bullets, verbatim
        var limits = ModelCard.ReadmeLimits();
        Assert.True(limits.Count >= 3);
        var section = Assert.Single(card.Section("limitations")!.Blocks.OfType<CardBullets>());
        Assert.Equal(limits, section.Items);
        Assert.Contains("- " + limits[0], md, StringComparison.Ordinal);
    }

    // a model whose manifest names its series, and a stratum of each, by the names given (names a data file can carry)
    private string ModelNamed(string[] names)
    {
        var folder = Model();
        var path = Path.Combine(folder, "manifest.json");
        var m = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        m["columns"] = new System.Text.Json.Nodes.JsonArray(names.Select(n => (System.Text.Json.Nodes.JsonNode?)n).ToArray());
        var strata = new System.Text.Json.Nodes.JsonObject();
        foreach (var n in names) strata[n] = n;
        m["config"]!["strata"] = strata;
        File.WriteAllText(path, m.ToJsonString());
        return folder;
    }

    [Fact]
    public void ToHtml_HostileSeriesAndStrataNames_ComeBackAsText_NoElementCreated()
    {
        // session 24, the application-security review: names a data file or a manifest can carry, in the HTML card
        string[] names = ["<img src=x onerror=alert(1)>", "\"; alert(2); \"", "</td></tr></table><script>alert(3)</script>", "a' onmouseover='alert(4)"];
        var folder = ModelNamed(names);
        var html = ModelCard.Build(folder).ToHtml();

        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("' onmouseover", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(3)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&quot;; alert(2); &quot;", html, StringComparison.Ordinal);
        Assert.Contains("a&#39; onmouseover=&#39;alert(4)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToMarkdown_EscapesSeriesNames_SoTheyCannotBreakATableOrInjectHtml()
    {
        // series names with a pipe, HTML, emphasis and code markers, a backslash and line breaks that would open a heading
        string[] names = ["a|b<script>alert(1)</script>", "x*y*_z_", "`tick`", "c\n# d", "e\r\n- f", "back\\slash|", "g&lt;h"];
        var folder = ModelNamed(names);
        var md = ModelCard.Build(folder).ToMarkdown();

        Assert.DoesNotContain("<script", md, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("&lt;h", md, StringComparison.Ordinal); // the literal "&lt;" is itself escaped, not decoded to '<'
        Assert.Contains("g&amp;lt;h", md, StringComparison.Ordinal);
        var lines = md.Split('\n');
        Assert.Single(lines, l => l.StartsWith("# ", StringComparison.Ordinal));           // only the title is a top heading
        Assert.DoesNotContain(lines, l => l.StartsWith("- f", StringComparison.Ordinal));   // no list item smuggled in
        // every table line has as many unescaped pipes as its header (a cell cannot split)
        var table = lines.SkipWhile(l => !l.StartsWith("| setting | value |", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.True(table.Count > names.Length);
        Assert.All(table, l => Assert.Equal(3, UnescapedPipes(l)));
        Assert.Contains("| strata.a\\|b&lt;script&gt;alert(1)&lt;/script&gt; | a\\|b&lt;script&gt;alert(1)&lt;/script&gt; |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.x\\*y\\*\\_z\\_ |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.\\`tick\\` |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.c # d | c # d |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.back\\\\slash\\| |", md, StringComparison.Ordinal);
        Assert.Contains("Series, in model order: a\\|b&lt;script&gt;alert(1)&lt;/script&gt;, x\\*y\\*\\_z\\_, \\`tick\\`, c # d, e - f, back\\\\slash\\|, g&amp;lt;h.", md, StringComparison.Ordinal);

        static int UnescapedPipes(string line)
        {
            int n = 0;
            for (int i = 0; i < line.Length; i++)
            {
                if (line[i] == '\\') i++;
                else if (line[i] == '|') n++;
            }

            return n;
        }
    }

    [Theory]
    [InlineData("ks_mean", "ks_mean")]
    [InlineData("_a_", "\\_a\\_")]
    [InlineData("# heading", "\\# heading")]
    [InlineData("- item", "\\- item")]
    [InlineData("12. item", "12\\. item")]
    [InlineData("0.031", "0.031")]
    [InlineData("-0.02", "-0.02")]
    [InlineData("#tag", "#tag")]
    [InlineData("---", "\\---")]
    [InlineData("    code", "&#32;   code")]
    [InlineData("2010-01-04 .. 2017-12-29", "2010-01-04 .. 2017-12-29")]
    [InlineData("[x](http://e)", "\\[x\\](http://e)")]
    public void MarkdownText_EscapesWhatMarkdownWouldInterpret(string text, string expected) => Assert.Equal(expected, ModelCard.MarkdownText(text));

    [Theory]
    [InlineData(null)]        // no kind: the card was titled "unknown generator" and its intended use spoke of paths
    [InlineData("Tabular")]   // not the wire name: intended use said paths, privacy said quantile knots
    [InlineData("diffusion")]
    public void Build_AManifestWhoseKindIsNoModelKind_IsCardEModel_NotACardThatContradictsItself(string? kind)
    {
        var folder = Model();
        var path = Path.Combine(folder, "manifest.json");
        var m = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        if (kind is null) m.Remove("kind");
        else m["kind"] = kind;
        File.WriteAllText(path, m.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => ModelCard.Build(folder));
        Assert.Equal("CARD-E-MODEL", e.Rule);
        Assert.Contains("kind", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.Location!.File);
    }

    [Fact]
    public void Build_AManifestWhoseOptionalFieldsAreNull_SaysUnknown_NotNull()
    {
        var folder = Model();
        var path = Path.Combine(folder, "manifest.json");
        var m = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        m["seed"] = null;
        m["data"]!["train_rows"] = null;
        m["training"]!["final_loss"] = null;
        m["weights"]!["parameters"] = null;
        File.WriteAllText(path, m.ToJsonString());
        var md = ModelCard.Build(folder, status: null).ToMarkdown();
        Assert.DoesNotContain("null", md, StringComparison.Ordinal);
        Assert.Contains("| train rows | (unknown) |", md, StringComparison.Ordinal);
        Assert.Contains("| seed | unknown |", md, StringComparison.Ordinal);
        Assert.Contains("final loss (mean of the last tenth of the steps) unknown.", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithAReportOfScenarios_NamesThePortfolioHorizon_AndTheBacktestsOneDayVaR()
    {
        // evaluate against 20-step scenarios: portfolio.var/es/cdar are 20-day figures, the backtest tests the one-day VaR
        var path = Report(withThresholds: false);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node["portfolio"]!["horizon"] = 20;
        node["portfolio"]!["backtest"]!["var"] = 0.0173;
        File.WriteAllText(path, node.ToJsonString());
        var md = ModelCard.Build(Model(), path).ToMarkdown();
        Assert.Contains("| portfolio.var at α 0.99, 20-step horizon (real / synthetic) | 0.03 / 0.028 |", md, StringComparison.Ordinal);
        Assert.Contains("| portfolio.es at α 0.99, 20-step horizon (real / synthetic) | 0.05 / 0.041 |", md, StringComparison.Ordinal);
        Assert.Contains("| VaR backtest of the one-step VaR 0.0173, last 250 real rows (exceptions, Basel zone) | 3 of 250, green |", md, StringComparison.Ordinal);
        Assert.DoesNotContain("| portfolio.var (real / synthetic)", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ShowsTheWholePeriodAndHorizonBacktests_BesideTheLast250Days_WhoseCalmTailReadsGreen()
    {
        // the report of a model whose one-day VaR the calm last 250 real days pass (green) and the whole 1000-day period
        // fails (red), and whose 20-day VaR 7 of 46 non-overlapping 20-day windows exceed: the card shows all three,
        // each with its α, horizon and count, and no colour for the 20-day one
        var path = Report(withThresholds: false);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node["portfolio"]!["horizon"] = 20;
        node["portfolio"]!["backtest"]!["var"] = 0.0198;
        node["portfolio"]!["backtest_all_days"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"var": 0.0198, "paths": 1, "observations": 1000, "exceptions": 150, "expected_exceptions": 10, "kupiec_lr": 553.2, "kupiec_p_value": 2.5e-122,
             "traffic_light": "red", "zone_bounds": {"yellow_from": 15, "red_from": 24, "text": "green 0–14, yellow 15–23, red ≥24 for 1000 observations at 99%"},
             "christoffersen": {"n00": 700, "n01": 149, "n10": 150, "n11": 0, "independence_lr": 52.9, "independence_p": 3.5e-13, "conditional_coverage_lr": 606.1, "conditional_coverage_p": 2.4e-132}}
            """);
        node["portfolio"]!["backtest_horizon"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"horizon": 20, "var": 0.118, "observations": 46, "exceptions": 7, "expected_exceptions": 0.46, "kupiec_lr": 25.1, "kupiec_p_value": 5.4e-7,
             "p_at_most": 0.9999998, "p_at_least": 1.2e-7, "note": "n"}
            """);
        File.WriteAllText(path, node.ToJsonString());
        var md = ModelCard.Build(Model(), path).ToMarkdown();
        Assert.Contains("| VaR backtest of the one-step VaR 0.0198, last 250 real rows (exceptions, Basel zone) | 3 of 250, green |", md, StringComparison.Ordinal);
        Assert.Contains("| VaR backtest of the one-step VaR 0.0198 at α 0.99, every real row (1000 rows; exceptions, Basel zone for that many rows) | "
            + "150 of 1000 (expected 10), red (green 0–14, yellow 15–23, red ≥24 for 1000 observations at 99%); Kupiec p 2.5E-122, Christoffersen conditional coverage p 2.4E-132 |",
            md, StringComparison.Ordinal);
        Assert.Contains("| VaR backtest of the 20-step VaR 0.118 at α 0.99, non-overlapping real 20-step windows (46 windows; exceptions, binomial probability) | "
            + "7 of 46 (expected 0.46); Kupiec p 5.4E-07; P(X ≥ 7) 1.2E-07 for a correct VaR; no Basel colour (its zones are defined for daily data) |",
            md, StringComparison.Ordinal);

        // a report written before these fields shows only the last-250-days row
        Assert.DoesNotContain("every real row", ModelCard.Build(Model(), Report(withThresholds: false)).ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithAReport_GivesValidationThresholdsAndCoverage()
    {
        var report = Report(withThresholds: true);
        var md = ModelCard.Build(Model(), report).ToMarkdown();
        Assert.Contains("From the evaluation report with SHA-256 " + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(report))), md, StringComparison.Ordinal);
        Assert.Contains("| ks_mean | 0.031 |", md, StringComparison.Ordinal);
        Assert.Contains("| portfolio.es (real / synthetic) | 0.05 / 0.041 |", md, StringComparison.Ordinal);
        Assert.Contains("| VaR backtest, last 250 real rows (exceptions, Basel zone) | 3 of 250, green |", md, StringComparison.Ordinal);
        Assert.Contains("| privacy.membership_inference.auc | 0.52 |", md, StringComparison.Ordinal);
        Assert.Contains("Every predeclared threshold passed.", md, StringComparison.Ordinal);
        Assert.Contains("| ks_max | ≤ 0.1 | 0.05 | pass |", md, StringComparison.Ordinal);
        Assert.Contains("Under-stressed: asset_class=bond.", md, StringComparison.Ordinal);
        Assert.Contains("| asset_class | bond | 0.01 | 0.01 / 0.002 | 0.025 / 0.012 | under-stressed |", md, StringComparison.Ordinal);

        var noThresholds = ModelCard.Build(Model(), Report(withThresholds: false)).ToMarkdown();
        Assert.Contains("declares no acceptance thresholds, so it is not a PASS record", noThresholds, StringComparison.Ordinal);
        Assert.Contains("At least one predeclared threshold FAILED.", ModelCard.Build(Model(), Report(true, passed: false)).ToMarkdown(), StringComparison.Ordinal);
    }

    // A validator reads the card, not the report: a failed PRIV-7 membership gate or a DCR share above its bound is no
    // declared threshold, so "Every predeclared threshold passed" with only the attack's AUC read clean while the report
    // recorded both findings (the demo's report flags two, README).
    [Fact]
    public void Build_QuotesTheReportsPrivacyFindings_FailedGateAndDcrBound_BesideThePassedThresholds()
    {
        var path = Path.Combine(_dir, "report-findings.json");
        File.WriteAllText(path, """
            {"columns": ["SPY", "TLT|x", "A&B<c>"], "alpha": 0.99, "ks_mean": 0.031, "ks_max": 0.05, "wasserstein_mean": 0.001, "corr_distance": 0.04,
             "privacy": {"dcr_train_median": 1.2, "dcr_holdout_median": 1.3, "share_closer_to_train": 0.81, "share_bound": 0.527, "share_within_bound": false,
               "dcr_share": {"n": 924, "share_closer_to_train": 0.606, "bound": 0.527, "within_bound": false},
               "holdout_exchangeability": {"n": 924, "share_closer_to_train": 0.59, "bound": 0.551, "exchangeable": false},
               "membership_inference": {"attack": "domias-kde", "auc": 0.52, "tpr_at_fpr_10pct": 0.294, "tpr_at_fpr_1pct": 0.04,
                 "gate": {"bound": 0.127, "passed": false, "rule": "r", "members": 462, "within_chance": false}},
               "shadow_membership_inference": {"attack": "shadow", "auc": 0.5, "tpr_at_fpr_10pct": 0.09, "tpr_at_fpr_1pct": 0.01,
                 "gate": {"bound": 0.127, "passed": true, "rule": "r", "members": 462, "within_chance": true}},
               "warnings": ["membership inference (domias-kde) gate failed (PRIV-7): TPR 0.294 at FPR 0.1 is above the chance bound 0.127"]},
             "portfolio": {"horizon": 20, "var": [0.03, 0.028], "es": [0.05, 0.041], "cdar": [0.2, 0.1], "backtest": {"var": 0.012, "observations": 250, "exceptions": 3, "traffic_light": "green"}},
             "rows": {"real": 900, "synthetic": 5000},
             "coverage": {"tolerance": 0.2, "horizon": 1, "levels": [0.01], "under_stressed": [], "segments": [], "warnings": ["dimension sector names none of the data's series"]},
             "warnings": ["top-level note"],
             "thresholds": {"passed": true, "verdicts": [{"key": "ks_max", "bound": "max", "limit": 0.1, "value": 0.05, "passed": true}]}}
            """);
        var card = ModelCard.Build(Model(), path);
        var md = card.ToMarkdown();
        // the bound beside the share it bounds (dcr_share's equal-size sample), not beside the top-level share of all train rows
        Assert.Contains("| privacy.dcr_share gate (PRIV-3: share closer to train, equal-size reference, ≤ bound) | 0.606 ≤ 0.527: FAIL |", md, StringComparison.Ordinal);
        // and its control: the real train rows' own share against the same holdout, which a shifted holdout lifts
        Assert.Contains("| privacy.holdout_exchangeability (control: the same share for the real train rows themselves; 0.5 when the holdout is not shifted) | 0.59 (bound 0.551): the holdout is shifted; read the DCR share against this share |", md, StringComparison.Ordinal);
        Assert.DoesNotContain("holdout_exchangeability", ModelCard.Build(Model(), Report(withThresholds: true)).ToMarkdown(), StringComparison.Ordinal);
        Assert.Contains("| privacy.membership_inference.gate (PRIV-7: TPR at FPR 0.1 ≤ bound) | 0.294 ≤ 0.127: FAIL |", md, StringComparison.Ordinal);
        Assert.Contains("| privacy.shadow_membership_inference.auc | 0.5 |", md, StringComparison.Ordinal);
        Assert.Contains("| privacy.shadow_membership_inference.gate (PRIV-7: TPR at FPR 0.1 ≤ bound) | 0.09 ≤ 0.127: pass |", md, StringComparison.Ordinal);
        Assert.Contains("The report flags 3 finding(s):", md, StringComparison.Ordinal);
        Assert.Contains("- privacy: membership inference (domias-kde) gate failed (PRIV-7): TPR 0.294 at FPR 0.1 is above the chance bound 0.127\n", md, StringComparison.Ordinal);
        Assert.Contains("- coverage: dimension sector names none of the data's series\n", md, StringComparison.Ordinal);
        Assert.Contains("- top-level note\n", md, StringComparison.Ordinal);
        Assert.Contains("Every predeclared threshold passed.", md, StringComparison.Ordinal);
        Assert.Contains("gate failed (PRIV-7)", card.ToHtml(), StringComparison.Ordinal);
        // the VaR, ES and CDaR figures with the level and horizon they are read at, and the backtested one-day VaR
        Assert.Contains("| portfolio.cdar at α 0.99, 20-step horizon (real / synthetic) | 0.2 / 0.1 |", md, StringComparison.Ordinal);
        Assert.Contains("| VaR backtest of the one-step VaR 0.012, last 250 real rows (exceptions, Basel zone) | 3 of 250, green |", md, StringComparison.Ordinal);

        // a report without findings adds no findings paragraph
        Assert.DoesNotContain("finding(s)", ModelCard.Build(Model(), Report(withThresholds: true)).ToMarkdown(), StringComparison.Ordinal);
    }

    // A conditional sequence model has a second input, the economic state: the card named only the returns file, so a
    // validator could not trace the state file, its period, the features or the reference state that a relative stress
    // request such as vol=+2sd moves from.
    [Fact]
    public void Build_ConditionalSequenceModel_NamesItsStateFileFeaturesWindowsAndReferenceState_AndClaimsNoQuantileKnots()
    {
        var folder = Path.Combine(_dir, "seq-model");
        Directory.CreateDirectory(folder);
        var weights = Encoding.UTF8.GetBytes("sequence weights");
        File.WriteAllBytes(Path.Combine(folder, "weights.safetensors"), weights);
        var sha = Convert.ToHexStringLower(SHA256.HashData(weights));
        File.WriteAllText(Path.Combine(folder, "manifest.json"), $$$"""
            {"format": "crucible-model/1", "kind": "sequence", "library_version": "0.1.0", "seed": 0, "columns": ["NoDur", "HiTec"],
             "config": {"window": 20}, "conditions": {"names": ["DFF", "TERM", "RV20"], "mean": [1, 2, 3], "std": [1, 1, 1],
               "reference": {"DFF": 1.16, "TERM": 1.05, "RV20": 5.9}, "reference_date": "2017-12-01", "archetypes": {}},
             "data": {"input_file": "returns.csv", "input_sha256": "{{{new string('a', 64)}}}", "input_kind": "PercentReturns",
                      "train_matrix_sha256": "{{{new string('b', 64)}}}", "train_rows": 4528, "train_start": "2000-01-03", "train_end": "2017-12-29"},
             "state_data": {"input_file": "state.csv", "input_sha256": "{{{new string('c', 64)}}}", "input_kind": null,
                      "train_matrix_sha256": "{{{new string('d', 64)}}}", "train_rows": 4508, "train_start": "2000-02-01", "train_end": "2017-12-29"},
             "windows": {"count": 4509, "conditioned": 4489, "condition_matrix_sha256": "{{{new string('e', 64)}}}"},
             "training": {"steps": 10, "final_loss": 0.7},
             "weights": {"file": "weights.safetensors", "sha256": "{{{sha}}}", "parameters": 12}}
            """);
        var md = ModelCard.Build(folder).ToMarkdown();
        Assert.Contains("| training windows (with a known state) | 4509 (4489) |", md, StringComparison.Ordinal);
        Assert.Contains("| condition features (lagged one day) | DFF, TERM, RV20 |", md, StringComparison.Ordinal);
        Assert.Contains("| state file | state.csv |", md, StringComparison.Ordinal);
        Assert.Contains($"| state SHA-256 | {new string('c', 64)} |", md, StringComparison.Ordinal);
        Assert.Contains("| state rows | 4508 |", md, StringComparison.Ordinal);
        Assert.Contains("| state period | 2000-02-01 .. 2017-12-29 |", md, StringComparison.Ordinal);
        Assert.Contains($"| condition matrix SHA-256 (the windows' standardised states) | {new string('e', 64)} |", md, StringComparison.Ordinal);
        Assert.Contains("| reference state (relative stress moves from it) | DFF = 1.16, TERM = 1.05, RV20 = 5.9 (2017-12-01) |", md, StringComparison.Ordinal);

        // a tabular model has none of these rows
        var tabular = ModelCard.Build(Model()).ToMarkdown();
        Assert.DoesNotContain("state file", tabular, StringComparison.Ordinal);

        // nor has a sequence model quantile knots: the card says what it did fit on the training windows
        Assert.DoesNotContain("quantile knots", md, StringComparison.Ordinal);
        Assert.Contains("per-series noise scales and affine map", md, StringComparison.Ordinal);
        Assert.Contains("the quantile knots are train order statistics", tabular, StringComparison.Ordinal);
    }

    // RELIABILITY DP-10
    [Fact]
    public void Build_CarriesTheDpStatement_WhenTheManifestHasOne()
    {
        var card = ModelCard.Build(Model(dp: true));
        var md = card.ToMarkdown();
        Assert.Contains("This model was trained with DP-SGD", md, StringComparison.Ordinal);
        foreach (var row in new[] { "| epsilon | 2.97 |", "| delta | 1E-05 |", "| noise_multiplier | 1.1 |", "| max_grad_norm | 1 |", "| sample_rate | 0.01 |", "| steps | 500 |", "| accountant | rdp |", "| covers | all checkpoints |" })
            Assert.Contains(row, md, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DpModel_SaysTheHashesOfThePrivateDataAreWithheld_OthersWithoutHashSayNone()
    {
        var md = ModelCard.Build(Model(dp: true)).ToMarkdown();
        Assert.Contains("| input SHA-256 | " + ModelCard.Withheld + " |", md, StringComparison.Ordinal);
        Assert.Contains("| train matrix SHA-256 (log returns, float64 LE, row-major) | " + ModelCard.Withheld + " |", md, StringComparison.Ordinal);
        Assert.StartsWith("withheld (DP-11", ModelCard.Withheld, StringComparison.Ordinal);
        Assert.Contains("| train rows | 1234 |", md, StringComparison.Ordinal);   // N stays: it is part of the DP statement

        // a manifest without a DP statement and without hashes (not trained from a file): "(none)", not "withheld"
        var folder = Model();
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace($"\"{new string('a', 64)}\"", "null", StringComparison.Ordinal));
        var plain = ModelCard.Build(folder).ToMarkdown();
        Assert.Contains("| input SHA-256 | (none) |", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("withheld", plain, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_IsSelfContained_AndEscapesText()
    {
        var html = ModelCard.Build(Model(), Report(true)).ToHtml();
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        foreach (var id in new[] { "details", "intended-use", "data", "training", "privacy", "validation", "coverage", "limitations" })
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http", html, StringComparison.Ordinal);
        Assert.Contains("<td>2010-01-04 .. 2017-12-29</td>", html, StringComparison.Ordinal);
        Assert.Contains("A&amp;B&lt;c&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("A&B<c>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RefusesAChangedModelFolder_AndUnreadableInputs()
    {
        var folder = Model();
        File.AppendAllText(Path.Combine(folder, "weights.safetensors"), "!");
        Assert.Equal("CARD-E-MODEL", Assert.Throws<InvalidInputException>(() => ModelCard.Build(folder)).Rule);
        Assert.Equal("CARD-E-MODEL", Assert.Throws<InvalidInputException>(() => ModelCard.Build(Path.Combine(_dir, "nothing"))).Rule);
        var bad = Path.Combine(_dir, "bad.json");
        File.WriteAllText(bad, "{ not json");
        Assert.Equal("CARD-E-REPORT", Assert.Throws<InvalidInputException>(() => ModelCard.Build(Model(dp: true), bad)).Rule);
    }

    [Fact]
    public void Build_AManifestThatIsNoObject_IsCardEModel_NotACrash()
    {
        var folder = Model();
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, """["kind", "tabular"]""");
        var e = Assert.Throws<InvalidInputException>(() => ModelCard.Build(folder));
        Assert.Equal("CARD-E-MODEL", e.Rule);
        Assert.Equal(manifest, e.Location?.File);
    }

    [Fact]
    public void Build_ColumnsAndUnderStressedSegmentsThatAreNotStrings_AreShownAsText_NotACrash()
    {
        var folder = Model();
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"columns\": [\"SPY\", \"TLT|x\", \"A&B<c>\"]", "\"columns\": [\"SPY\", 7]", StringComparison.Ordinal));
        Assert.Contains("Series, in model order: SPY, 7.", ModelCard.Build(folder).ToMarkdown(), StringComparison.Ordinal);

        var report = Report(true);
        File.WriteAllText(report, File.ReadAllText(report).Replace("\"under_stressed\": [\"asset_class=bond\"]", "\"under_stressed\": [3]", StringComparison.Ordinal)
            .Replace("\"segments\": [{", "\"segments\": [5, {", StringComparison.Ordinal).Replace("\"levels\": [{\"level\"", "\"levels\": [true, {\"level\"", StringComparison.Ordinal)
            .Replace("\"columns\": [\"SPY\", \"TLT|x\", \"A&B<c>\"]", "\"columns\": [\"SPY\"]", StringComparison.Ordinal));
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"columns\": [\"SPY\", 7]", "\"columns\": [\"SPY\"]", StringComparison.Ordinal));
        Assert.Contains("Under-stressed: 3.", ModelCard.Build(folder, report).ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AThresholdVerdictThatIsNoObject_IsAFailedRow_NotACrash()
    {
        var report = Report(true);
        File.WriteAllText(report, File.ReadAllText(report).Replace("\"verdicts\": [{", "\"verdicts\": [7, {", StringComparison.Ordinal));
        var md = ModelCard.Build(Model(), report).ToMarkdown();
        Assert.Contains("| ks_max | ≤ 0.1 | 0.05 | pass |", md, StringComparison.Ordinal);
        Assert.Contains("|  | ≥  | null | FAIL |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ASeedBeyondTheInt64Range_IsShownWithAllItsDigits()
    {
        // a ulong seed (crucible train --seed 18446744073709551615) is written as a JSON number: it was shown as 1.84467E+19
        var folder = Model();
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"seed\": 7", "\"seed\": 18446744073709551615", StringComparison.Ordinal)
            .Replace("\"hidden\": 64", "\"hidden\": 64, \"seed\": 9223372036854775808", StringComparison.Ordinal));
        var md = ModelCard.Build(folder).ToMarkdown();
        Assert.Contains("| seed | 18446744073709551615 |", md, StringComparison.Ordinal);
        Assert.Contains("| seed | 9223372036854775808 |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_IsTheSameBytesForTheSameInputs()
    {
        var report = Report(true);
        Assert.Equal(ModelCard.Build(Model(), report).ToMarkdown(), ModelCard.Build(Model(), report).ToMarkdown());
    }

    [Fact]
    public void LimitsOf_ReadsTheBulletsOfTheLimitsSectionOnly()
    {
        const string readme = "# X\n\n## Limits\n\n- one\n  continued\n- two\n\n## Next\n\n- not this\n";
        Assert.Equal(["one continued", "two"], ModelCard.LimitsOf(readme));
        Assert.Empty(ModelCard.LimitsOf("# X\n\n## Other\n- a\n"));
    }

    [Fact]
    public void ValidationEvidence_TheReportItselfNeedsNonEmptyVerdictsThatAllPassed()
    {
        var good = Report(true);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(good))), ValidationEvidence.CheckVerdicts(good));
        Assert.Equal("REG-E-EVIDENCE", Assert.Throws<InvalidInputException>(() => ValidationEvidence.CheckVerdicts(Report(false))).Rule);
        Assert.Contains("failed", Assert.Throws<InvalidInputException>(() => ValidationEvidence.CheckVerdicts(Report(true, passed: false))).Message, StringComparison.Ordinal);
        Assert.Equal("REG-E-EVIDENCE", Assert.Throws<InvalidInputException>(() => ValidationEvidence.CheckVerdicts(Path.Combine(_dir, "missing.json"))).Rule);
        // "passed" with no verdicts (a thresholds file that declares nothing), or one failed verdict under a true flag
        var empty = Path.Combine(_dir, "empty-verdicts.json");
        File.WriteAllText(empty, """{"thresholds": {"passed": true, "verdicts": []}}""");
        Assert.Contains("no threshold verdicts", Assert.Throws<InvalidInputException>(() => ValidationEvidence.CheckVerdicts(empty)).Message, StringComparison.Ordinal);
        var lying = Path.Combine(_dir, "lying.json");
        File.WriteAllText(lying, """{"thresholds": {"passed": true, "verdicts": [{"key": "ks_max", "passed": true}, {"key": "corr_distance", "passed": false}]}}""");
        Assert.Contains("threshold corr_distance failed", Assert.Throws<InvalidInputException>(() => ValidationEvidence.CheckVerdicts(lying)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RefusesAReportThatIsNotAnEvaluationOfTheModelsSeries()
    {
        // `crucible model-card --report thresholds.json` built a card "from the evaluation report" with an empty table, and
        // a report of another model (other series) gave this model its metrics and "Every predeclared threshold passed."
        var model = Model();
        var thresholds = Path.Combine(_dir, "thresholds.json");
        File.WriteAllText(thresholds, """{"ks_max": {"max": 0.5}}""");
        var e = Assert.Throws<InvalidInputException>(() => ModelCard.Build(model, thresholds));
        Assert.Equal("CARD-E-REPORT", e.Rule);
        Assert.Contains("not an evaluation report", e.Message, StringComparison.Ordinal);

        var other = Path.Combine(_dir, "other-report.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Report(true)))!.AsObject();
        node["columns"] = System.Text.Json.Nodes.JsonNode.Parse("""["SPY", "GLD"]""");
        File.WriteAllText(other, node.ToJsonString());
        e = Assert.Throws<InvalidInputException>(() => ModelCard.Build(model, other));
        Assert.Equal("CARD-E-REPORT", e.Rule);
        Assert.Contains("not in the report: TLT|x, A&B<c>; not in the model: GLD", e.Message, StringComparison.Ordinal);

        // the same series in another order (the real file's) are the model's
        node["columns"] = System.Text.Json.Nodes.JsonNode.Parse("""["A&B<c>", "SPY", "TLT|x"]""");
        File.WriteAllText(other, node.ToJsonString());
        Assert.Contains("Every predeclared threshold passed.", ModelCard.Build(model, other).ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RefusesACardWithAnEmptyRequiredSection()
    {
        // a manifest with neither "config" nor "training": the training section would be an empty table (MRM-7)
        var folder = Model();
        var manifest = Path.Combine(folder, "manifest.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        Assert.True(node.Remove("config") && node.Remove("training"));
        File.WriteAllText(manifest, node.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => ModelCard.Build(folder, Report(true)));
        Assert.Equal("CARD-E-EMPTY", e.Rule);
        Assert.Contains("'Training configuration' is empty", e.Message, StringComparison.Ordinal);
        // with either one back, the card builds
        node["training"] = System.Text.Json.Nodes.JsonNode.Parse("""{"steps": 10, "final_loss": 0.5}""");
        File.WriteAllText(manifest, node.ToJsonString());
        Assert.Contains("Trained for 10 optimiser steps", ModelCard.Build(folder).ToMarkdown(), StringComparison.Ordinal);
    }
}
