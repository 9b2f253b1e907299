using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Governance.Manifests;
using Crucible.Stress;
using Crucible.Stress.Reporting;
using Crucible.Stress.Reverse;
using Crucible.Stress.Risk;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible stress --scenarios FILE --portfolio FILE.json [--alpha A …] --out FILE.json</c>: portfolio VaR, ES and
/// CDaR under a scenario set at each α (METRICS.md), and the Euler allocation of ES per series and factor group; with
/// <c>--reverse --loss-threshold X --history FILE</c> also the reverse stress test over the file's scenarios, or with
/// <c>--model DIR</c> over candidates drawn from a sequence model and guided toward the loss, under the state values of
/// <c>--condition NAME=VALUE</c>, the classifier-free guidance weight of <c>--guidance W</c> and the stress specification
/// of <c>--stress SPEC</c> when given (as <c>generate</c> takes them; a specification's moves only where the candidates
/// are drawn unguided, <c>--reverse --guidance-scale 0</c>).
/// Exit 0 on success, 2 on bad input (file, line, column and rule named).
/// </summary>
internal static class StressCommand
{
    /// <summary>The options of one <c>stress</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Scenarios = new("--scenarios")
        {
            Description = "Scenario CSV (scenario,step,<series…> log returns); a plain returns file is taken as one-step scenarios",
            Required = true,
        };

        public readonly Option<string> Portfolio = new("--portfolio")
        {
            Description = "Portfolio JSON: {\"name\": …, \"weights\": {SERIES: w}} or {\"positions\": {SERIES: value}}, optional leverage, capital, groups",
            Required = true,
        };

        public readonly Option<string[]> Alpha = new("--alpha")
        {
            Description = "Confidence levels in (0, 1), repeatable (default 0.95 0.975 0.99)",
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<bool> Reverse = new("--reverse")
        {
            Description = "Also reverse-stress: the scenarios losing at least --loss-threshold, most plausible first (needs --history)",
        };

        public readonly Option<double?> LossThreshold = new("--loss-threshold") { Description = "Reverse stress: loss as a fraction of capital over the horizon, e.g. 0.15" };

        /// <summary>How --history is read (<c>--history-delimiter</c>, …), as <c>data check</c> reads a file with the unprefixed options.</summary>
        public readonly CsvDialectOptions HistoryDialect = new("history", "--history");

        public readonly Option<string> History = new("--history") { Description = "Reverse stress: dated CSV of historical prices the plausibility is measured against" };

        public readonly Option<string> HistoryInput = new("--history-input")
        {
            Description = "What the history's values are: prices (default), returns, log-returns or percent",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<int> Top = new("--top") { Description = "Reverse stress: breaching scenarios to report (default 20)", DefaultValueFactory = _ => 20 };

        public readonly Option<string> Model = new("--model")
        {
            Description = "Reverse stress: draw the candidates from this sequence model (over its window), guided toward the loss, instead of the file's scenarios",
        };

        public readonly Option<int> Candidates = new("--candidates") { Description = "Reverse stress with --model: candidates drawn (default 10000)", DefaultValueFactory = _ => 10_000 };

        public readonly Option<double> Guidance = new("--guidance-scale")
        {
            Description = "Reverse stress with --model: guidance scale toward the loss (default 1; 0 draws unguided candidates and filters them)",
            DefaultValueFactory = _ => 1.0,
        };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Reverse stress with --model: seed of the draws (default 0)" };

        public readonly Option<string[]> Condition = new("--condition")
        {
            Description = "--reverse/--adversarial with --model: draw under a state value, NAME=VALUE (repeatable; names from the model's condition features, e.g. VIXCLS=40), as generate --condition",
        };

        public readonly Option<double?> ConditionGuidance = new("--guidance")
        {
            Description = "--reverse/--adversarial with --model: the classifier-free guidance weight w ≥ 0 of the draws (0 unconditional, 1 plain conditional, > 1 amplified; default: the model's guidance_scale), as generate --guidance; not --guidance-scale, the pull toward the loss",
        };

        public readonly Option<string> Stress = new("--stress")
        {
            Description = "--reverse/--adversarial with --model: draw under a stress specification, as generate --stress (conditions such as vol=+2sd or VIXCLS=45, "
                + "archetypes such as gfc-2008; moves such as SPY<=-20% only with --reverse --guidance-scale 0, since guidance toward the loss uses the slot that enforces them)",
        };

        public readonly Option<bool> Adversarial = new("--adversarial")
        {
            Description = "Also the adversarial scenarios of --model: the worst portfolio losses among its scenarios at least as plausible as 95% of its ordinary draws (needs --model and --history)",
        };

        public readonly Option<double?> MinBreachRate = new("--min-breach-rate")
        {
            Description = "Reverse stress with --model: the declared share of candidates that must breach; below it the guidance scale is doubled and the test rerun (up to 3 attempts, all recorded)",
        };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the stress report JSON", Required = true };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>The <c>stress</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("stress", "Portfolio VaR, ES and CDaR under a scenario set, with the Euler allocation of ES")
        {
            o.Scenarios, o.Portfolio, o.Alpha, o.Reverse, o.LossThreshold, o.History, o.HistoryInput, o.Top, o.Model, o.Candidates, o.Guidance, o.Seed, o.Condition, o.ConditionGuidance, o.Stress, o.MinBreachRate, o.Adversarial, o.Out, o.Home, o.Store, o.Json,
        };
        o.HistoryInput.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        foreach (var option in o.HistoryDialect.All) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Runs the stress test for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        output = JsonResult.SummaryWriter(json, output);
        var alphas = ParseAlphas(parse.GetValue(o.Alpha));
        if (parse.GetValue(o.Top) < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--top takes a count ≥ 1, got {parse.GetValue(o.Top)}"));
        if (parse.GetValue(o.Candidates) < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--candidates takes a count ≥ 1, got {parse.GetValue(o.Candidates)}"));
        string? historyPath = parse.GetValue(o.History), modelFolder = parse.GetValue(o.Model);
        bool adversarialAsked = parse.GetValue(o.Adversarial);
        string[]? conditions = parse.GetValue(o.Condition);
        double? conditionGuidance = parse.GetValue(o.ConditionGuidance);
        string? stress = parse.GetValue(o.Stress);
        var sampleRequest = SampleRequest(conditions, conditionGuidance, stress);
        if (sampleRequest is not null && (modelFolder is null || !(parse.GetValue(o.Reverse) || adversarialAsked)))
            throw new InvalidInputException("OPT-E", "--condition, --guidance and --stress set what --model draws under: they are for --reverse or --adversarial with --model DIR");
        ReverseOptions? reverse = null;
        TimeSeriesFrame? history = null;
        var historyDialect = o.HistoryDialect.ToConfig(parse);
        if (historyDialect is not null && historyPath is null)
            throw new InvalidInputException("OPT-E", "--history-delimiter, --history-decimal, … say how --history is read: give --history FILE");
        if (parse.GetValue(o.Reverse))
        {
            var threshold = parse.GetValue(o.LossThreshold)
                ?? throw new InvalidInputException("OPT-E", "--reverse needs --loss-threshold X (a fraction of capital, e.g. 0.15)");
            // checked here, before the history is read, so that the message names the option (the library's names the rule only)
            if (!(threshold > 0 && threshold < 1))
                throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--loss-threshold takes a fraction of capital in (0, 1), e.g. 0.15; got {threshold}"));
            if (historyPath is null) throw new InvalidInputException("OPT-E", "--reverse needs --history FILE (the plausibility reference)");
            history = LoadHistory(historyPath, parse.GetValue(o.HistoryInput), historyDialect);
            reverse = new ReverseOptions(threshold, history, parse.GetValue(o.Top), modelFolder, parse.GetValue(o.Candidates),
                parse.GetValue(o.Guidance), parse.GetValue(o.Seed), parse.GetValue(o.MinBreachRate), historyPath, modelFolder is null ? null : sampleRequest);
        }
        else if (modelFolder is not null && !adversarialAsked)
        {
            throw new InvalidInputException("OPT-E", "--model is for --reverse or --adversarial");
        }
        else if (parse.GetValue(o.LossThreshold) is not null)
        {
            throw new InvalidInputException("OPT-E", "--loss-threshold is for --reverse");
        }

        if (parse.GetValue(o.MinBreachRate) is not null && reverse?.Model is null)
            throw new InvalidInputException("OPT-E", "--min-breach-rate is for --reverse with --model");
        if (adversarialAsked)
        {
            if (modelFolder is null) throw new InvalidInputException("OPT-E", "--adversarial needs --model DIR (a sequence model)");
            if (historyPath is null) throw new InvalidInputException("OPT-E", "--adversarial needs --history FILE (the plausibility reference)");
            history ??= LoadHistory(historyPath, parse.GetValue(o.HistoryInput), historyDialect);
        }

        var request = new StressRun(parse.GetValue(o.Scenarios)!, parse.GetValue(o.Portfolio)!, alphas, reverse, adversarialAsked ? modelFolder : null, history,
            parse.GetValue(o.Candidates), parse.GetValue(o.Top), parse.GetValue(o.Guidance), parse.GetValue(o.Seed), historyPath, sampleRequest);
        // the inputs in order with their roles (what verify-run --recompute reads back): scenarios, portfolio, then the
        // history and the model's files when the reverse or adversarial test uses them, then the scenarios' price metadata
        var inputs = new List<(string Role, string Path)> { ("scenarios", request.Scenarios), ("portfolio", request.Portfolio) };
        if (history is not null) inputs.Add(("history", historyPath!));
        if (reverse?.Model is not null || request.AdversarialModel is not null)
        {
            inputs.Add(("model_weights", Path.Combine(modelFolder!, "weights.safetensors")));
            inputs.Add(("model_manifest", Path.Combine(modelFolder!, "manifest.json")));
        }
        // the scenario file's metadata when it declares price columns: it decides which columns are read (hash-checked)
        if (Evaluation.ScenarioSidecar.PriceMetadataOf(request.Scenarios) is { } priceMeta) inputs.Add(("scenarios_metadata", priceMeta));

        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var run = RunManifests.Start(home, RunKind.Stress, new JsonObject
        {
            ["command"] = "stress",
            ["alphas"] = new JsonArray([.. alphas.Select(a => (JsonNode?)a)]),
            ["reverse"] = reverse is null ? null : new JsonObject
            {
                ["loss_threshold"] = reverse.LossThreshold, ["top"] = reverse.Top, ["candidates"] = reverse.Candidates,
                ["guidance_scale"] = reverse.GuidanceScale, ["min_breach_rate"] = reverse.MinBreachRate, ["from_model"] = reverse.Model is not null,
            },
            ["adversarial"] = adversarialAsked,
            // what verify-run --recompute needs besides the above: the scenario path as the report names it, how the
            // history was read, the adversarial test's settings, and each input's role
            ["scenarios_file"] = request.Scenarios,
            ["history_input"] = history is null ? null : parse.GetValue(o.HistoryInput),
            ["top"] = request.Top, ["candidates"] = request.Candidates, ["guidance_scale"] = request.GuidanceScale,
            ["input_roles"] = new JsonArray([.. inputs.Select(i => (JsonNode?)i.Role)]),
        }, parse.GetValue(o.Seed));
        if (history is not null && historyDialect is not null) run.Config["history_csv"] = historyDialect; // only when given: earlier configs stay as they were
        // the model's request as generate records it (the arguments as given, the weight or null), only when given
        if (sampleRequest is not null)
        {
            run.Config["conditions"] = conditions is { Length: > 0 } given ? new JsonArray([.. given.Select(x => (JsonNode?)x)]) : null;
            run.Config["guidance"] = conditionGuidance;
            if (stress is not null) run.Config["stress"] = stress; // only when given: earlier configs stay as they were
        }
        foreach (var (_, path) in inputs) run.AddInput(path);
        run.CheckOutput("--out", parse.GetValue(o.Out)!);
        if (modelFolder is not null && inputs.Any(i => i.Role == "model_weights"))
            run.ModelId = Governance.Registry.ModelRegistry.IdOf(modelFolder);
        if (Evaluation.ScenarioSidecar.Warning(request.Scenarios) is { } warning) Console.Error.WriteLine("warning: " + warning);

        var (result, source, reverseResult, adversarial) = request.Compute();
        var outPath = parse.GetValue(o.Out)!;
        StressJson.Write(result, source, outPath, reverseResult, adversarial);
        if (reverseResult?.Calibration is { } attempts)
        {
            // the recalibration loop's attempts (issue #8): every guidance scale tried, its breach rate and verdict
            run.Outcome = new JsonObject
            {
                ["recalibration"] = new JsonArray([.. attempts.Select(a => (JsonNode?)new JsonObject
                {
                    ["guidance_scale"] = a.GuidanceScale, ["breach_rate"] = a.BreachRate,
                    ["median_plausibility"] = double.IsFinite(a.MedianPlausibility) ? a.MedianPlausibility : null, ["passed"] = a.Passed,
                })]),
            };
        }

        var (manifest, receipts) = RunAudit.Complete(store, run.AddOutput(outPath),
            new JsonObject { ["command"] = "stress", ["report_sha256"] = Governance.FileHash.Sha256(outPath) });
        var inv = CultureInfo.InvariantCulture;
        // one horizon is said once ("of 20 steps"), a range as a range ("of 5–20 steps")
        string steps = result.Steps.Min == result.Steps.Max ? string.Create(inv, $"{result.Steps.Min}") : string.Create(inv, $"{result.Steps.Min}–{result.Steps.Max}");
        output.WriteLine(string.Create(inv, $"portfolio:  {result.Portfolio.Name} ({result.Scenarios} scenarios of {steps} steps)"));
        foreach (var l in result.Levels)
            output.WriteLine(string.Create(inv, $"α {l.Alpha:G6}: VaR {l.ValueAtRisk:G6}, ES {l.ExpectedShortfall:G6}, CDaR {l.ConditionalDrawdown:G6} (tail {l.TailCount})"));
        if (reverseResult is { } rv)
        {
            // the drivers are the series that add to the loss: not a hedge's negative share, nor the 0 of a series the
            // portfolio does not hold (which ranked above the hedge and read as a driver)
            var drivers = Drivers(rv).Select(x => string.Create(inv, $"{x.Series} {x.Attribution:G3}")).ToList();
            output.WriteLine(string.Create(inv,
                $"reverse:    {rv.Breaching} of {rv.Candidates} {rv.Sampling} scenarios lose ≥ {reverse!.LossThreshold:P1}; drivers: {(drivers.Count > 0 ? string.Join(", ", drivers) : "none")}"));
        }

        if (reverseResult?.Calibration is { } tried)
        {
            output.WriteLine(string.Create(inv,
                $"recalibration: {string.Join(" → ", tried.Select(a => string.Create(CultureInfo.InvariantCulture, $"scale {a.GuidanceScale:G3}: {a.BreachRate:P1} {(a.Passed ? "pass" : "fail")}")))}"));
        }

        if (adversarial is { Worst.Count: > 0 } adv)
        {
            output.WriteLine(string.Create(inv,
                $"adversarial: worst plausible loss {adv.Worst[0].Loss:P1} ({adv.Plausible} of {adv.Candidates} candidates at or above the plausibility floor {adv.Floor:G4})"));
        }

        output.WriteLine($"report:     {outPath}");
        output.WriteLine($"manifest:   {manifest}");
        output.WriteLine(string.Create(inv, $"audit:      entry {receipts[^1].Seq} in {store.AuditPlace}"));
        if (json)
        {
            JsonResult.Write(document, JsonResult.WithRun(StressResultJson(result, outPath, run.ModelId, reverse?.LossThreshold, reverseResult, adversarial),
                run.RunId, manifest, receipts[^1], store));
        }

        return ExitCode.Success;
    }

    // stress --json: the report and the figures of the summary, under report.json's names (var, es, cdar and tail_count
    // keyed by α as there; reverse.mean_attribution, adversarial.floor, …), the drivers in the summary's order
    private static JsonObject StressResultJson(StressResult result, string outPath, string? modelId, double? lossThreshold, ReverseStressResult? reverse,
        AdversarialResult? adversarial)
    {
        JsonObject PerAlpha(Func<RiskLevel, JsonNode?> value)
        {
            var levels = new JsonObject();
            foreach (var l in result.Levels) levels[StressJson.AlphaKey(l.Alpha)] = value(l);
            return levels;
        }

        var document = new JsonObject
        {
            ["command"] = "stress",
            ["report"] = JsonResult.Full(outPath),
            ["model_id"] = modelId,
            ["portfolio"] = result.Portfolio.Name,
            ["scenarios"] = result.Scenarios,
            ["steps_min"] = result.Steps.Min,
            ["steps_max"] = result.Steps.Max,
            ["alphas"] = new JsonArray([.. result.Levels.Select(l => (JsonNode?)l.Alpha)]),
            ["var"] = PerAlpha(l => JsonResult.Number(l.ValueAtRisk)),
            ["es"] = PerAlpha(l => JsonResult.Number(l.ExpectedShortfall)),
            ["cdar"] = PerAlpha(l => JsonResult.Number(l.ConditionalDrawdown)),
            ["tail_count"] = PerAlpha(l => l.TailCount),
            ["reverse"] = null,
            ["adversarial"] = null,
        };
        if (reverse is { } rv)
        {
            var attribution = new JsonObject();
            for (int i = 0; i < rv.Series.Count; i++) attribution[rv.Series[i]] = JsonResult.Number(rv.MeanAttribution[i]);
            document["reverse"] = new JsonObject
            {
                ["loss_threshold"] = lossThreshold,
                ["sampling"] = rv.Sampling,
                ["candidates"] = rv.Candidates,
                ["breaching"] = rv.Breaching,
                ["mean_attribution"] = rv.Breaching == 0 ? null : attribution, // no breach, no mean: null, as in the report
                // the summary's drivers: the (at most three) series adding most to the loss, largest first
                ["drivers"] = JsonResult.Strings(Drivers(rv).Select(d => d.Series)),
                ["recalibration"] = rv.Calibration is { } attempts ? new JsonArray([.. attempts.Select(a => (JsonNode?)new JsonObject
                {
                    ["guidance_scale"] = a.GuidanceScale, ["breach_rate"] = JsonResult.Number(a.BreachRate),
                    ["median_plausibility"] = JsonResult.Number(a.MedianPlausibility), ["passed"] = a.Passed,
                })]) : null,
            };
        }

        if (adversarial is { } adv)
        {
            document["adversarial"] = new JsonObject
            {
                ["candidates"] = adv.Candidates,
                ["plausible"] = adv.Plausible,
                ["floor"] = JsonResult.Number(adv.Floor),
                // the largest loss among the plausible scenarios (adversarial.scenarios[0].loss), null when none is
                ["worst_loss"] = adv.Worst.Count > 0 ? JsonResult.Number(adv.Worst[0].Loss) : null,
            };
        }

        return document;
    }

    // the series that add to the reverse test's mean loss (not a hedge's negative share, nor the 0 of a series the
    // portfolio does not hold), the (at most three) largest first
    private static IEnumerable<(string Series, double Attribution)> Drivers(ReverseStressResult rv) =>
        rv.Series.Select((s, i) => (s, rv.MeanAttribution[i])).Where(x => x.Item2 > 0).OrderByDescending(x => x.Item2).Take(3);

    /// <summary>
    /// One stress test as <c>stress</c> runs it and <c>verify-run --recompute</c> runs it again: the portfolio under the
    /// scenario file at each α, the reverse test when <see cref="Reverse"/> is set, the adversarial scenarios of
    /// <see cref="AdversarialModel"/> when set (over <see cref="History"/>'s windows).
    /// </summary>
    internal sealed record StressRun(string Scenarios, string Portfolio, double[] Alphas, ReverseOptions? Reverse, string? AdversarialModel,
        TimeSeriesFrame? History, int Candidates, int Top, double GuidanceScale, ulong Seed, string? HistoryFile = null,
        Diffusion.Sequence.SequenceSampleRequest? SampleRequest = null)
    {
        /// <summary>Runs the library's stress analyses (StressFiles).</summary>
        public (StressResult Result, ScenarioSource Source, ReverseStressResult? Reverse, AdversarialResult? Adversarial) Compute()
        {
            var (result, source, reverseResult) = StressFiles.Run(Scenarios, Portfolio, Alphas, Reverse);
            var adversarial = AdversarialModel is null ? null
                : StressFiles.RunAdversarial(AdversarialModel, History!, result.Portfolio, Math.Max(10, Candidates / 5), Top, GuidanceScale > 0 ? GuidanceScale : 1.0, Seed, HistoryFile, SampleRequest);
            return (result, source, reverseResult, adversarial);
        }
    }

    /// <summary>
    /// A stress run done again from its manifest: the recorded inputs by role, the recorded α, reverse and adversarial
    /// settings and seed, through <see cref="StressRun"/>; the report's recomputed bytes against the recorded hash (the
    /// report names the scenario file as the command was given it: <c>scenarios_file</c>). A manifest written before these
    /// keys were recorded is refused naming the missing key.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "stress")
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible stress runs again; run {m.RunId} was not recorded by crucible stress", where);
        string scenariosFile = RunRecompute.Required<string>(c, "scenarios_file", where)!;
        var roles = RunRecompute.Roles(m, full, where);
        var alphas = c["alphas"] is JsonArray a ? a.Select(x => x!.GetValue<double>()).ToArray()
            : throw new InvalidInputException(RunRecompute.Rule, "the manifest's config has no 'alphas'", where);
        var history = roles.TryGetValue("history", out var historyPath)
            ? LoadHistory(historyPath, RunRecompute.Required<string>(c, "history_input", where), c["history_csv"])
            : null;
        string? model = roles.TryGetValue("model_weights", out var weights) ? Path.GetDirectoryName(weights) : null;
        var sampleRequest = SampleRequest(RunRecompute.Strings(c, "conditions"), RunRecompute.Value<double?>(c, "guidance"), RunRecompute.Value<string>(c, "stress"));
        ReverseOptions? reverse = null;
        if (c["reverse"] is JsonObject r)
        {
            reverse = new ReverseOptions(RunRecompute.Value<double>(r, "loss_threshold"),
                history ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest names no 'history' input for its reverse stress test", where),
                RunRecompute.Value<int>(r, "top"), RunRecompute.Value<bool>(r, "from_model") ? model : null, RunRecompute.Value<int>(r, "candidates"),
                RunRecompute.Value<double>(r, "guidance_scale"), m.Seed, RunRecompute.Value<double?>(r, "min_breach_rate"), historyPath,
                RunRecompute.Value<bool>(r, "from_model") ? sampleRequest : null);
        }

        bool adversarial = RunRecompute.Value<bool>(c, "adversarial");
        if (adversarial && (model is null || history is null))
            throw new InvalidInputException(RunRecompute.Rule, "the manifest names no model or history input for its adversarial test", where);
        var request = new StressRun(RunRecompute.Input(roles, "scenarios", where), RunRecompute.Input(roles, "portfolio", where), alphas, reverse,
            adversarial ? model : null, history, RunRecompute.Required<int>(c, "candidates", where), RunRecompute.Required<int>(c, "top", where),
            RunRecompute.Required<double>(c, "guidance_scale", where), m.Seed, historyPath, sampleRequest);
        var (result, source, reverseResult, adversarialResult) = request.Compute();
        // the report names the scenario file as the command was given it, not as the manifest records it
        var text = StressJson.ToJson(result, source with { File = scenariosFile }, reverseResult, adversarialResult);
        var results = m.Outputs.Where(o => o.IsFile && o.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)).Select(o => RunRecompute.Compare(o, text)).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no stress report to compare with", where);
    }

    // the request --condition, --guidance and --stress make (parsed as generate parses them; the specification is
    // resolved against the model by the library), null when none is given
    private static Diffusion.Sequence.SequenceSampleRequest? SampleRequest(string[]? conditions, double? guidance, string? stress)
    {
        if (conditions is not { Length: > 0 } && guidance is null && stress is null) return null;
        // a weight the library refuses (negative or not finite), refused here worded with generate's flag, before the model is read
        var request = new Diffusion.Sequence.SequenceSampleRequest(GuidanceScale: guidance);
        try
        {
            request.CheckOptions();
        }
        catch (Diffusion.Sequence.SequenceOptionException e)
        {
            throw e.Worded(GenerateFlagNames.Instance);
        }

        return request with { Conditions = GenerateCommand.ConditionsOf(conditions), Stress = stress };
    }

    // a history file read as --history-input says (prices by default) and in the --history-delimiter, … dialect, as log returns
    private static TimeSeriesFrame LoadHistory(string path, string? inputText, JsonNode? dialect)
    {
        var input = TrainCommand.InputKindOf(inputText);
        return CsvSeriesReader.Load(path, CsvDialectOptions.Apply(dialect, new CsvReadOptions { Input = input }, "history")).ToLogReturns(input);
    }

    private static double[] ParseAlphas(string[]? texts)
    {
        if (texts is null || texts.Length == 0) return [.. StressAnalysis.DefaultAlphas];
        var alphas = new List<double>();
        foreach (var given in texts)
        {
            foreach (var text in given.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var a) || !(a > 0 && a < 1))
                {
                    // "0,99" (a decimal comma) splits into 0 and 99: say where the '0' came from
                    var from = given.Contains(',', StringComparison.Ordinal)
                        ? $" (from '{given}': a comma separates levels; write decimals with a point, e.g. 0.99)"
                        : "";
                    throw new InvalidInputException("OPT-E", $"--alpha takes numbers in (0, 1), got '{text}'{from}");
                }

                if (!alphas.Contains(a)) alphas.Add(a);
            }
        }

        return [.. alphas];
    }
}
