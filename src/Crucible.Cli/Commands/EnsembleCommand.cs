using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Manifests;
using Crucible.Stress.Ensembles;
using Crucible.Stress.Reporting;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible ensemble --scenarios A.csv --scenarios B.csv [...] --portfolio FILE.json [--alpha A] [--max-es-spread X]
/// [--max-wasserstein X] --out FILE.json</c>: the portfolio stressed under every member's scenario file (each from
/// another generator or model), their disagreement measured (relative ES spread, pairwise normalised Wasserstein-1
/// between the horizon P&amp;L distributions) and flagged above the declared thresholds (<see cref="Ensemble"/>). Exit 3
/// when flagged; the report is written either way.
/// </summary>
internal static class EnsembleCommand
{
    /// <summary>The options of one <c>ensemble</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string[]> Scenarios = new("--scenarios")
        {
            Description = "Scenario CSVs (scenario,step,<series…> log returns), one per member, at least two; repeatable",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<string> Portfolio = new("--portfolio") { Description = "Portfolio JSON", Required = true };

        public readonly Option<double> Alpha = new("--alpha") { Description = "The ES level the spread is measured at (default 0.975)", DefaultValueFactory = _ => 0.975 };

        public readonly Option<double> MaxEsSpread = new("--max-es-spread")
        {
            Description = "Flag when (max − min) of the members' ES over the larger of |median ES| and the median P&L sd exceeds this (default 0.35)",
            DefaultValueFactory = _ => new EnsembleThresholds().MaxEsSpread,
        };

        public readonly Option<double> MaxWasserstein = new("--max-wasserstein")
        {
            Description = "Flag when the largest pairwise Wasserstein-1 distance of the P&L, over the median P&L sd, exceeds this (default 0.25)",
            DefaultValueFactory = _ => new EnsembleThresholds().MaxWasserstein,
        };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the ensemble JSON", Required = true };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>
    /// An ensemble run done again from its manifest: the members' scenario files and the portfolio (its inputs, in the
    /// order the command records them), the recorded α and thresholds, through the library entry point the command
    /// calls (<see cref="Ensemble.RunFiles"/>); the report's recomputed bytes against the recorded hash. The members are
    /// named by their files' names, which the manifest keeps.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "ensemble")
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible ensemble runs again; run {m.RunId} was not recorded by crucible ensemble", where);
        // the command records the members' files, the portfolio, then any members' price metadata (input_roles, where
        // recorded, says so; the metadata is read from beside each file, its hash checked with the other inputs')
        var roles = RunRecompute.Strings(c, "input_roles");
        int portfolio = roles is null ? m.Inputs.Count - 1 : Array.IndexOf(roles, "portfolio");
        if (m.Inputs.Count < 3 || portfolio < 2 || roles is not null && (roles.Length != m.Inputs.Count
            || roles.Take(portfolio).Any(r => r != "scenarios") || roles.Skip(portfolio + 1).Any(r => r != "scenarios_metadata")))
            throw new InvalidInputException(RunRecompute.Rule, "the manifest does not list at least two scenario files then the portfolio as its inputs", where);
        var files = m.Inputs.Take(portfolio).Select(i => full(i.Path)).ToArray();
        var thresholds = new EnsembleThresholds
        {
            MaxEsSpread = RunRecompute.Required<double>(c, "max_es_spread", where), MaxWasserstein = RunRecompute.Required<double>(c, "max_wasserstein", where),
        };
        var result = Ensemble.RunFiles(files, full(m.Inputs[portfolio].Path), RunRecompute.Required<double>(c, "alpha", where), thresholds);
        var text = EnsembleJson.ToJson(result);
        var results = m.Outputs.Where(o => o.IsFile).Select(o => RunRecompute.Compare(o, text)).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no ensemble report to compare with", where);
    }

    /// <summary>The <c>ensemble</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("ensemble", "Stress a portfolio under several generators' scenario files and flag their disagreement")
        {
            o.Scenarios, o.Portfolio, o.Alpha, o.MaxEsSpread, o.MaxWasserstein, o.Out, o.Home, o.Store, o.Json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>
    /// Refuses one scenario file named twice in <c>--scenarios</c> (the same path, or two paths to it: compared by full path,
    /// <see cref="Path.GetFullPath(string)"/>, and through a symbolic link's final target, as outputs are checked against
    /// inputs, <see cref="Governance.Manifests.OutputGuard.SameFile"/>): it was accepted as members <c>a</c> and
    /// <c>a#2</c>, and a member that agrees with itself understates the ensemble's disagreement.
    /// </summary>
    private static void RefuseAFileNamedTwice(string[] files)
    {
        var seen = new List<string>();
        foreach (var file in files)
        {
            try
            {
                if (seen.FirstOrDefault(s => Governance.Manifests.OutputGuard.SameFile(s, file)) is { } first)
                {
                    string how = Path.GetFullPath(first) == Path.GetFullPath(file) ? "compared by full path" : "compared by full path and through symbolic links";
                    throw new InvalidInputException("OPT-E", $"--scenarios names {Path.GetFullPath(first)} twice ({(first == file ? file : $"as {first} and {file}")}; "
                        + $"{how}): a member agreeing with itself understates the disagreement; name each scenario file once");
                }
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException)
            {
                continue; // reading it reports the bad path
            }

            seen.Add(file);
        }
    }

    // ensemble --json: the report and the summary's figures under the report's names (each member's scenarios, var and es
    // at alpha; es_spread and max_wasserstein against the thresholds; flagged and its reasons, exit 3 when flagged)
    private static JsonObject EnsembleResultJson(EnsembleResult result, string outPath) => new()
    {
        ["command"] = "ensemble",
        ["report"] = JsonResult.Full(outPath),
        ["portfolio"] = result.Members[0].Stress.Portfolio.Name,
        ["alpha"] = result.Alpha,
        ["members"] = new JsonArray([.. result.Members.Select(m =>
        {
            var level = m.Stress.Levels.Single(l => l.Alpha == result.Alpha);
            return (JsonNode?)new JsonObject
            {
                ["name"] = m.Name, ["scenarios"] = m.Stress.Scenarios,
                ["var"] = JsonResult.Number(level.ValueAtRisk), ["es"] = JsonResult.Number(level.ExpectedShortfall),
            };
        })]),
        ["es_spread"] = JsonResult.Number(result.EsSpread),
        ["max_wasserstein"] = JsonResult.Number(result.MaxWasserstein),
        ["thresholds"] = new JsonObject { ["max_es_spread"] = result.Thresholds.MaxEsSpread, ["max_wasserstein"] = result.Thresholds.MaxWasserstein },
        ["flagged"] = result.Flagged,
        ["reasons"] = JsonResult.Strings(result.Reasons),
    };

    /// <summary>Runs the ensemble for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        output = JsonResult.SummaryWriter(json, output);
        var files = parse.GetValue(o.Scenarios) ?? [];
        double alpha = parse.GetValue(o.Alpha);
        if (!(alpha > 0 && alpha < 1)) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--alpha takes a number in (0, 1), got {alpha}"));
        var thresholds = new EnsembleThresholds { MaxEsSpread = parse.GetValue(o.MaxEsSpread), MaxWasserstein = parse.GetValue(o.MaxWasserstein) };
        if (!(thresholds.MaxEsSpread > 0) || !(thresholds.MaxWasserstein > 0) || double.IsInfinity(thresholds.MaxEsSpread) || double.IsInfinity(thresholds.MaxWasserstein))
            throw new InvalidInputException("OPT-E", "--max-es-spread and --max-wasserstein must be positive and finite");
        RefuseAFileNamedTwice(files); // before any file is read
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var metadata = files.Select(Evaluation.ScenarioSidecar.PriceMetadataOf).OfType<string>().ToArray();
        var run = RunManifests.Start(home, RunKind.Ensemble, new JsonObject
        {
            ["command"] = "ensemble", ["alpha"] = alpha,
            ["max_es_spread"] = thresholds.MaxEsSpread, ["max_wasserstein"] = thresholds.MaxWasserstein,
            // the members' scenario files, then the portfolio, then the price metadata of members that declare price
            // columns (what verify-run --recompute reads back)
            ["input_roles"] = new JsonArray([.. files.Select(_ => (JsonNode?)"scenarios"), "portfolio", .. metadata.Select(_ => (JsonNode?)"scenarios_metadata")]),
        }, seed: 0);
        foreach (var f in files) run.AddInput(f);
        run.AddInput(parse.GetValue(o.Portfolio)!);
        foreach (var priceMeta in metadata) run.AddInput(priceMeta); // it says which columns are prices
        run.CheckOutput("--out", parse.GetValue(o.Out)!);
        foreach (var f in files) if (Evaluation.ScenarioSidecar.Warning(f) is { } warning) Console.Error.WriteLine("warning: " + warning);

        var result = Ensemble.RunFiles(files, parse.GetValue(o.Portfolio)!, alpha, thresholds);
        var outPath = parse.GetValue(o.Out)!;
        EnsembleJson.Write(result, outPath);
        run.Outcome = EnsembleJson.Outcome(result); // a degenerate ensemble's 0/0 spread or distance is null
        var (manifest, receipts) = RunAudit.Complete(store, run.AddOutput(outPath), new JsonObject
        {
            ["command"] = "ensemble", ["flagged"] = result.Flagged, ["report_sha256"] = Governance.FileHash.Sha256(outPath),
        });

        var inv = CultureInfo.InvariantCulture;
        foreach (var m in result.Members)
        {
            var level = m.Stress.Levels.Single(l => l.Alpha == alpha);
            output.WriteLine(string.Create(inv, $"{m.Name}: {m.Stress.Scenarios} scenarios, VaR {level.ValueAtRisk:G6}, ES {level.ExpectedShortfall:G6}"));
        }

        output.WriteLine(string.Create(inv, $"ES spread {result.EsSpread:G4} (max {thresholds.MaxEsSpread:G4}), P&L Wasserstein {result.MaxWasserstein:G4} (max {thresholds.MaxWasserstein:G4})"));
        output.WriteLine(result.Flagged ? $"FLAGGED: {string.Join("; ", result.Reasons)}" : "agreement: within the declared thresholds");
        output.WriteLine($"report:   {outPath}");
        output.WriteLine($"manifest: {manifest}");
        output.WriteLine(string.Create(inv, $"audit:    entry {receipts[^1].Seq} in {store.AuditPlace}"));
        if (json) JsonResult.Write(document, JsonResult.WithRun(EnsembleResultJson(result, outPath), run.RunId, manifest, receipts[^1], store));
        return result.Flagged ? ExitCode.ThresholdFailed : ExitCode.Success;
    }
}
