using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Data.Segments;
using Crucible.Evaluation;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible evaluate --real FILE --synthetic FILE [--train FILE [--privacy-rows N]] [--alpha A] [--thresholds FILE] [--segments FILE|default]
/// [--fail-on-threshold] [--sensitive COL,…] [--model DIR --shadow-models K [--shadow-steps N]] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out report.json [--html report.html]</c>: the evaluation report of METRICS.md, and an
/// <c>evaluation.completed</c> entry (input and report hashes, threshold verdict) in the audit log of the home folder,
/// followed by the <c>run.completed</c> entry that pins the run manifest (<c>HOME/runs/RUN_ID.json</c>).
/// Exit 0 on success, 2 on bad input (file, line, column and rule named), 3 when <c>--fail-on-threshold</c> is given
/// and a declared threshold failed (the report is still written).
/// </summary>
internal static class EvaluateCommand
{
    /// <summary>The options of one <c>evaluate</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Real = new("--real")
        {
            Description = "Real returns (the holdout): CSV with a header, an optional date column, one column per series",
            Required = true,
        };

        public readonly Option<string> Synthetic = new("--synthetic")
        {
            Description = "Synthetic returns: the same columns, or a scenario CSV (scenario,step,<series…>)",
            Required = true,
        };

        public readonly Option<string> Train = new("--train")
        {
            Description = "The generator's train set (same columns): enables privacy (DCR) and utility, and fits the regime threshold",
        };

        public readonly Option<int?> PrivacyRows = new("--privacy-rows")
        {
            Description = "Measure the privacy section on at most N rows of each of the train, holdout and synthetic sets, drawn uniformly without replacement from the evaluation's seed (needs --train; at least 2; default: every row); the other sections use every row",
        };

        public readonly Option<string> Alpha = new("--alpha") { Description = "Confidence of VaR, ES and CDaR, in (0, 1) (default 0.99)" };

        public readonly Option<int?> RegimeWindow = new("--regime-window")
        {
            Description = "Steps of the trailing realised volatility that defines the regimes, at least 2 (default 20); transitions need paths longer than it (H-step scenarios: at most H − 1, e.g. H/2)",
        };

        public readonly Option<string> Thresholds = new("--thresholds")
        {
            Description = "JSON of declared thresholds, e.g. {\"ks_max\": {\"max\": 0.1}}; verdicts go into the report",
        };

        public readonly Option<string> Segments = new("--segments")
        {
            Description = "JSON of declared market segments ({\"asset_class\": {\"SPY\": \"equity\", …}, \"region\": {…}, \"tolerance\": 0.2}): adds the coverage audit; 'default' uses the built-in map",
        };

        public readonly Option<bool> FailOnThreshold = new("--fail-on-threshold") { Description = "Exit 3 when a declared threshold fails" };

        public readonly Option<string> Sensitive = new("--sensitive")
        {
            Description = "Series to run the attribute-inference attack on, comma-separated (needs --train)",
        };

        public readonly Option<string> LinkabilitySeries = new("--linkability-series")
        {
            Description = "The linkability attack's two datasets, e.g. 'SPY,QQQ|TLT,HYG' (needs --train; default: the first half of the series and the rest)",
        };

        public readonly Option<string> Model = new("--model")
        {
            Description = "The model folder that produced --synthetic: its config trains the shadow generators of --shadow-models, and its DP statement (epsilon, delta), when it has one, adds the DP-12 bound to the membership gates",
        };

        public readonly Option<int> ShadowModels = new("--shadow-models")
        {
            Description = "Run the shadow-model membership attack with this many shadow generators (needs --train and --model; default 0: off)",
            DefaultValueFactory = _ => 0,
        };

        public readonly Option<int?> ShadowSteps = new("--shadow-steps") { Description = "Training steps of each shadow generator (default: the model's)" };

        public readonly Option<string> Out = new("--out") { Description = "Where to write report.json", Required = true };

        public readonly Option<string> Html = new("--html") { Description = "Also write a self-contained report.html here" };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>The <c>evaluate</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("evaluate", "Evaluate synthetic data against real data (fidelity, temporal, tails, risk, privacy, utility)")
        {
            o.Real, o.Synthetic, o.Train, o.PrivacyRows, o.Alpha, o.RegimeWindow, o.Thresholds, o.Segments, o.FailOnThreshold, o.Sensitive, o.LinkabilitySeries, o.Model, o.ShadowModels, o.ShadowSteps,
            o.Out, o.Html, o.Home, o.Store, o.Json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Runs the evaluation for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var result = output;
        output = JsonResult.SummaryWriter(json, output);
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var alpha = ParseAlpha(parse.GetValue(o.Alpha));
        var regimeWindow = parse.GetValue(o.RegimeWindow) ?? new EvaluationOptions().RegimeWindow;
        if (regimeWindow < 2) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--regime-window takes a number of steps of at least 2 (a volatility needs two returns), got {regimeWindow}"));
        var privacyRows = parse.GetValue(o.PrivacyRows);
        if (privacyRows is { } limit)
        {
            if (limit < PrivacySubsample.MinimumLimit)
                throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--privacy-rows takes a number of rows of at least {PrivacySubsample.MinimumLimit} (a nearest other row and a standard deviation need two), got {limit}"));
            if (parse.GetValue(o.Train) is null) throw new InvalidInputException("OPT-E", "--privacy-rows needs --train FILE (without it there is no privacy section)");
        }
        var failOnThreshold = parse.GetValue(o.FailOnThreshold);
        var thresholdsPath = parse.GetValue(o.Thresholds);
        if (failOnThreshold && thresholdsPath is null)
            throw new InvalidInputException("OPT-E", "--fail-on-threshold needs --thresholds FILE");
        var request = new EvaluationRequest(parse.GetValue(o.Real)!, parse.GetValue(o.Synthetic)!, parse.GetValue(o.Train), thresholdsPath,
            parse.GetValue(o.Segments), parse.GetValue(o.Sensitive)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parse.GetValue(o.ShadowModels), parse.GetValue(o.ShadowSteps), parse.GetValue(o.Model), alpha, regimeWindow, privacyRows,
            ParseLinkabilitySeries(parse.GetValue(o.LinkabilitySeries)));
        var prepared = request.Prepare();
        foreach (var warning in prepared.Warnings) Console.Error.WriteLine($"warning: {warning} ({Path.GetFullPath(request.RealPath)})");
        if (privacyRows is null && prepared.Train is { } train && PrivacySubsample.LargeSetsAdvice(train.RowCount, prepared.Real.RowCount, "--privacy-rows") is { } advice)
            output.WriteLine($"note:       {advice}"); // before the section runs: the user can stop it and run it again with the limit

        // the run manifest: every file read (each was read above), in the order input_roles names, and the options that shape the report
        var inputs = new List<(string Role, string Path)> { ("real", request.RealPath), ("synthetic", request.SyntheticPath) };
        if (request.TrainPath is { } trainPath) inputs.Add(("train", trainPath));
        if (thresholdsPath is not null) inputs.Add(("thresholds", thresholdsPath));
        if (request.SegmentsPath is { } segmentsFile and not "default") inputs.Add(("segments", segmentsFile));
        if (prepared.ModelPath is { } modelPath)
        {
            inputs.Add(("model_weights", Path.Combine(modelPath, DiffusionGenerator.WeightsFileName)));
            inputs.Add(("model_manifest", Path.Combine(modelPath, DiffusionGenerator.ManifestFileName)));
        }

        if (ScenarioSidecar.PriceMetadataOf(request.SyntheticPath) is { } priceMeta) inputs.Add(("synthetic_metadata", priceMeta)); // it says which columns are prices
        else if (prepared.DpMetadata is { } dpMeta) inputs.Add(("synthetic_metadata", dpMeta)); // it gave the gates' epsilon and delta
        if (prepared.DpWarning is { } dpWarning) Console.Error.WriteLine($"warning: {dpWarning}");

        var sensitive = request.Sensitive;
        var config = new JsonObject
        {
            ["command"] = "evaluate", ["alpha"] = alpha, ["regime_window"] = regimeWindow,
            ["segments"] = request.SegmentsPath switch { null => null, "default" => "default", _ => "file" },
            ["sensitive"] = sensitive is { Length: > 0 } ? new JsonArray([.. sensitive.Select(c => (JsonNode?)c)]) : null,
            ["shadow_models"] = request.ShadowModels, ["shadow_steps"] = prepared.Shadow is null ? null : request.ShadowSteps,
            ["fail_on_threshold"] = failOnThreshold,
            ["input_roles"] = new JsonArray([.. inputs.Select(i => (JsonNode?)i.Role)]),
        };
        if (privacyRows is not null) config["privacy_rows"] = privacyRows; // only when given: the configs of runs without it stay as they were
        if (request.Linkability is { } datasets) // only when given, as privacy_rows
            config["linkability_series"] = new JsonObject { ["first"] = JsonResult.Strings(datasets.First), ["second"] = JsonResult.Strings(datasets.Second) };
        var run = RunManifests.Start(home, RunKind.Evaluate, config, new EvaluationOptions().Seed);
        foreach (var (_, path) in inputs) run.AddInput(path);
        run.CheckOutput("--out", parse.GetValue(o.Out)!);
        if (parse.GetValue(o.Html) is { } html)
        {
            DistinctOutputs.Check("--html", html, "--out", parse.GetValue(o.Out)!);
            run.CheckOutput("--html", html);
        }
        run.ModelId = prepared.ModelId;

        var realSha256 = prepared.RealSha256;
        var (report, verdicts, dateOrder) = prepared.Evaluate();
        foreach (var (warning, path) in dateOrder) Console.Error.WriteLine($"warning: {warning} ({Path.GetFullPath(path)})");
        foreach (var warning in report.Warnings.Except(prepared.Warnings).Except(dateOrder.Select(w => w.Text)))
            Console.Error.WriteLine($"warning: {warning}"); // the library's (SampleSize)

        var outPath = parse.GetValue(o.Out)!;
        ReportJson.Write(report, outPath, verdicts);
        var htmlPath = parse.GetValue(o.Html);
        if (htmlPath is not null) ReportHtml.Write(report, htmlPath, verdicts);

        var passed = verdicts is null || ThresholdCheck.AllPassed(verdicts);
        var payload = RunAudit.Evaluated(
            [("real_sha256", realSha256), ("synthetic_sha256", FileHash.Sha256(request.SyntheticPath)),
             ("train_sha256", request.TrainPath is null ? null : FileHash.Sha256(request.TrainPath)),
             .. request.SegmentsPath is null or "default" ? [] : new[] { ("segments_sha256", (string?)FileHash.Sha256(request.SegmentsPath)) }],
            outPath, thresholdsPath is null ? null : FileHash.Sha256(thresholdsPath), verdicts is null ? null : passed);
        run.AddOutput(outPath);
        if (htmlPath is not null) run.AddOutput(htmlPath);
        if (verdicts is not null) run.Outcome = new JsonObject { ["thresholds_passed"] = passed };
        // RELIABILITY.md PRIV-9: the privacy report in the audit log with its hash (the privacy object's bytes in report.json)
        if (PrivacyAuditEntry.Of(report, File.ReadAllBytes(outPath)) is { } privacy) payload["privacy"] = privacy;
        var (manifest, receipts) = RunAudit.Complete(store, run,
            new JsonObject { ["command"] = "evaluate", ["report_sha256"] = payload["report_sha256"]!.DeepClone() },
            (AuditKind.EvaluationCompleted, payload));

        foreach (var file in prepared.Reordered)
            output.WriteLine($"columns:    the {file} series are in another order, matched by name to the real order: {string.Join(", ", prepared.Real.Names)}");
        WriteSummary(output, report, verdicts, outPath, htmlPath);
        output.WriteLine($"manifest:   {manifest}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"audit:      entries {receipts[0].Seq} and {receipts[^1].Seq} in {store.AuditPlace}"));
        if (json)
        {
            var document = EvaluateResult(report, verdicts, outPath, htmlPath, run.RunId, manifest, failOnThreshold);
            document["model_id"] = prepared.ModelId;
            document["audit_seqs"] = new JsonArray(receipts[0].Seq, receipts[^1].Seq);
            document["audit_database"] = store.AuditDatabase;
            JsonResult.Write(result, document);
        }

        return passed || !failOnThreshold ? ExitCode.Success : ExitCode.ThresholdFailed;
    }

    /// <summary>
    /// A <c>crucible evaluate</c> run evaluated again from its recorded inputs (by the <c>input_roles</c> this command
    /// records) and options: report.json and report.html are functions of them, so both must come out byte-identical.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "evaluate")
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible evaluate runs again; run {m.RunId} is '{c["command"]}' (the demo's evaluation step composes more sections)", where);
        var roles = RunRecompute.Strings(c, "input_roles");
        if (roles is null || roles.Length != m.Inputs.Count)
            throw new InvalidInputException(RunRecompute.Rule, "the manifest does not name its inputs' roles (input_roles): it was written by an earlier version", where);
        var byRole = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < roles.Length; i++) byRole[roles[i]] = full(m.Inputs[i].Path);
        string? Role(string role) => byRole.TryGetValue(role, out var p) ? p : null;
        var segments = RunRecompute.Value<string>(c, "segments") switch { "default" => "default", "file" => Role("segments"), _ => null };
        var request = new EvaluationRequest(Role("real")!, Role("synthetic")!, Role("train"), Role("thresholds"), segments, RunRecompute.Strings(c, "sensitive"),
            RunRecompute.Value<int>(c, "shadow_models"), RunRecompute.Value<int?>(c, "shadow_steps"),
            Role("model_weights") is { } w ? Path.GetDirectoryName(w) : null, RunRecompute.Value<double>(c, "alpha"),
            RunRecompute.Value<int?>(c, "regime_window") ?? new EvaluationOptions().RegimeWindow, // runs recorded before the option used the default
            RunRecompute.Value<int?>(c, "privacy_rows"), // recorded only when given
            c["linkability_series"] is JsonObject link && RunRecompute.Strings(link, "first") is { } first && RunRecompute.Strings(link, "second") is { } second
                ? new LinkabilityDatasets(first, second) : null);
        var (report, verdicts, _) = request.Prepare().Evaluate();
        var results = new List<Recomputed>();
        foreach (var output in m.Outputs.Where(o => o.IsFile))
        {
            string? text = output.Path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) ? ReportHtml.ToHtml(report, verdicts)
                : output.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ReportJson.ToJson(report, verdicts) : null;
            if (text is not null) results.Add(new(output.Path, output.Sha256, RunRecompute.Sha256(new System.Text.UTF8Encoding(false).GetBytes(text))));
        }

        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no report to compare with", where);
    }

    /// <summary>
    /// One evaluation as <c>evaluate</c> runs it (and <c>verify-run --recompute</c> runs it again from a run manifest):
    /// the files, the options that shape the report.
    /// </summary>
    internal sealed record EvaluationRequest(
        string RealPath, string SyntheticPath, string? TrainPath, string? ThresholdsPath, string? SegmentsPath, string[]? Sensitive,
        int ShadowModels, int? ShadowSteps, string? ModelPath, double Alpha, int RegimeWindow, int? PrivacyRows = null,
        LinkabilityDatasets? Linkability = null)
    {
        /// <summary>Reads and checks every input (thresholds first: a bad file stops the run before any work).</summary>
        public PreparedEvaluation Prepare()
        {
            var thresholds = ThresholdsPath is null ? null : ThresholdCheck.Load(ThresholdsPath);
            var segments = SegmentsPath switch
            {
                null => null,
                "default" => SegmentMap.Default,
                _ => SegmentMap.Load(SegmentsPath),
            };
            var real = SeriesSetCsv.Read(RealPath, null, out _, out var realDates);
            // matched by name (SeriesNameMatch): the same series in another order are read in the real order
            var synthetic = SeriesSetCsv.Read(SyntheticPath, real.Names, out var syntheticOrder, out var syntheticDates);
            IReadOnlyList<string>? trainOrder = null;
            DateOrderBreak? trainDates = null;
            var train = TrainPath is null ? null : SeriesSetCsv.Read(TrainPath, real.Names, out trainOrder, out trainDates);
            var reordered = new List<string>();
            if (!syntheticOrder.SequenceEqual(real.Names, StringComparer.Ordinal)) reordered.Add("synthetic");
            if (trainOrder is not null && !trainOrder.SequenceEqual(real.Names, StringComparer.Ordinal)) reordered.Add("train");
            if (Sensitive is { Length: > 0 } && train is null) throw new InvalidInputException("OPT-E", "--sensitive needs --train FILE");
            if (Linkability is { } datasets)
            {
                if (train is null) throw new InvalidInputException("OPT-E", "--linkability-series needs --train FILE");
                if (datasets.WhyNot(real.Names) is { } why) throw new InvalidInputException("OPT-E", "--linkability-series: " + why);
            }
            if (ShadowModels < 0) throw new InvalidInputException("OPT-E", "--shadow-models must be 0 or more");
            ShadowGenerator? shadow = null;
            string? modelPath = null, modelId = null;
            DpGuarantee? dp = null;
            if (ShadowModels > 0)
            {
                if (train is null) throw new InvalidInputException("OPT-E", "--shadow-models needs --train FILE");
                if (ModelPath is null) throw new InvalidInputException("OPT-E", "--shadow-models needs --model DIR (the generator whose training the shadows repeat)");
            }
            if (ModelPath is not null)
            {
                modelPath = ModelPath;
                // PRIV-7/DP-12: a model trained with DP carries its (ε, δ); the membership gates check TPR ≤ e^ε·FPR + δ.
                // A sequence model gives its statement; shadows repeat a tabular model's training only.
                PrivacyManifest? statement;
                if (ShadowModels == 0 && Directory.Exists(modelPath) && SequenceGenerator.ReadKind(modelPath) == ModelKind.Sequence)
                {
                    var sequence = SequenceGenerator.Load(modelPath);
                    (modelId, statement) = (sequence.ModelId, sequence.Manifest.Privacy);
                }
                else
                {
                    var model = DiffusionGenerator.Load(modelPath);
                    (modelId, statement) = (model.ModelId, model.Manifest.Privacy);
                    if (ShadowModels > 0) shadow = ShadowGenerators.FromModel(model.Manifest, ShadowSteps);
                }

                if (statement is not null) dp = new DpGuarantee(statement.Epsilon, statement.Delta);
            }

            // DP-12 without --model: the statement the scenario file's metadata carries, when it is this file's (csv_sha256)
            var sidecar = ModelPath is null ? ScenarioSidecar.DpStatementOf(SyntheticPath) : null;
            if (sidecar?.Dp is { } fromSidecar) dp = fromSidecar;

            return new PreparedEvaluation(this, real, synthetic, train, thresholds, segments, shadow, modelPath, modelId, FileHash.Sha256(RealPath))
            {
                Dp = dp,
                DpMetadata = sidecar?.Dp is null ? null : sidecar.MetadataPath,
                DpWarning = sidecar?.Warning,
                Reordered = reordered,
                DateOrder = [.. new[] { (EvaluationInputRole.Real, RealPath, realDates), (EvaluationInputRole.Synthetic, SyntheticPath, syntheticDates), (EvaluationInputRole.Train, TrainPath ?? "", trainDates) }
                    .Where(d => d.Item3 is not null).Select(d => (d.Item1, d.Item2, d.Item3!))],
                // the same file on both sides (in full and through symbolic links, as the output checks compare): allowed, but
                // every fidelity metric compares it with itself
                Warnings = Governance.Manifests.OutputGuard.SameFile(RealPath, SyntheticPath) ? [SameFileWarning] : [],
            };
        }
    }

    /// <summary>The warning of an evaluation whose real and synthetic files are one file (compared by full path).</summary>
    internal const string SameFileWarning = "real and synthetic are the same file: every fidelity metric is trivially perfect";

    /// <summary>An evaluation whose inputs are read and checked.</summary>
    internal sealed record PreparedEvaluation(
        EvaluationRequest Request, SeriesSet Real, SeriesSet Synthetic, SeriesSet? Train, IReadOnlyList<Threshold>? Thresholds, SegmentMap? Segments,
        ShadowGenerator? Shadow, string? ModelPath, string? ModelId, string RealSha256)
    {
        /// <summary>The files ("synthetic", "train") whose series were in another order than the real file's, matched by name.</summary>
        public IReadOnlyList<string> Reordered { get; init; } = [];

        /// <summary>Warnings about the input files (<see cref="SameFileWarning"/>), carried into the report's <c>warnings</c> before the library's.</summary>
        public IReadOnlyList<string> Warnings { get; init; } = [];

        /// <summary>The DP statement of the --model folder's manifest, when it has one (the membership gates' DP-12 check).</summary>
        public DpGuarantee? Dp { get; init; }

        /// <summary>The scenario metadata file <see cref="Dp"/> was read from (without --model), else null.</summary>
        public string? DpMetadata { get; init; }

        /// <summary>Why the scenario metadata's DP statement was not used (stale or unreadable), for stderr; else null.</summary>
        public string? DpWarning { get; init; }

        /// <summary>
        /// The input files (role, path) whose dates are not strictly increasing, and where (<see cref="DateOrderBreak"/>):
        /// their rows are used in file order all the same.
        /// </summary>
        public IReadOnlyList<(EvaluationInputRole Role, string Path, DateOrderBreak Break)> DateOrder { get; init; } = [];

        /// <summary>
        /// The report; with declared thresholds, their verdicts; and the warnings of <see cref="DateOrder"/> (text, file), which
        /// the report's <c>warnings</c> start with (after <see cref="Warnings"/>) and stderr shows with the file's path: one for
        /// each such file, naming the report's figures that follow its row order (<see cref="DateOrderWarning.TimeOrderFigures"/>:
        /// every report has some for each file it reads, at least the drawdowns and regimes, or train's regime threshold);
        /// nothing is refused and no figure changes. The text names the file by its option (<c>--real</c>), not its path, so a
        /// recomputed report has the same bytes.
        /// </summary>
        public (EvaluationReport Report, IReadOnlyList<ThresholdVerdict>? Verdicts, IReadOnlyList<(string Text, string Path)> DateOrder) Evaluate()
        {
            var report = Evaluator.Evaluate(new EvaluationInput(Real, Synthetic, Train), new EvaluationOptions
            {
                HoldoutSha256 = RealSha256, Alpha = Request.Alpha, Segments = Segments, SensitiveColumns = Request.Sensitive, ShadowGenerator = Shadow,
                ShadowModels = Math.Max(1, Request.ShadowModels), Dp = Dp, RegimeWindow = Request.RegimeWindow, PrivacyRows = Request.PrivacyRows,
                LinkabilityColumns = Request.Linkability,
            });
            // the inputs' warnings first (the same file, dates out of order), then the library's own (a set too small for its
            // metrics, SampleSize)
            (string Text, string Path)[] dateOrder = [.. DateOrder.Select(d => (DateOrderWarning.Text(report, d.Role, $"the --{d.Role.WireName()} file", d.Break), d.Path))];
            if (Warnings.Count > 0 || dateOrder.Length > 0) report = report with { Warnings = [.. Warnings, .. dateOrder.Select(w => w.Text), .. report.Warnings] };
            return (report, Thresholds is null ? null : ThresholdCheck.Evaluate(report, Thresholds), dateOrder);
        }
    }

    // --linkability-series 'A,B|C,D': the attacker's two datasets, each a comma-separated list of series
    private static LinkabilityDatasets? ParseLinkabilitySeries(string? text)
    {
        if (text is null) return null;
        var halves = text.Split('|');
        string[] Names(string half) => half.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (halves.Length != 2 || Names(halves[0]).Length == 0 || Names(halves[1]).Length == 0)
            throw new InvalidInputException("OPT-E", $"--linkability-series takes two comma-separated lists of series joined by '|', e.g. 'SPY,QQQ|TLT,HYG'; got '{text}'");
        return new LinkabilityDatasets(Names(halves[0]), Names(halves[1]));
    }

    // an attack's summary: "success train A, holdout C, baseline B; risk R" and "(untrusted)" when it did no better than guessing
    private static string Outcome(SuccessRate attack, SuccessRate control, SuccessRate baseline, SuccessRate risk, bool trusted) =>
        string.Create(CultureInfo.InvariantCulture,
            $"success train {attack.Value:G4}, holdout {control.Value:G4}, baseline {baseline.Value:G4}; risk {Math.Clamp(risk.Value, 0, 1):G4}{(trusted ? "" : " (untrusted)")}");

    private static double ParseAlpha(string? text)
    {
        if (text is null) return new EvaluationOptions().Alpha;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var alpha) || !(alpha > 0 && alpha < 1))
            throw new InvalidInputException("OPT-E", $"--alpha takes a number in (0, 1), got '{text}'");
        return alpha;
    }

    // an attack's PRIV-7 gate on the summary line: its bound(s) and passed/FAILED
    // a figure that report.json writes as null (undefined; the warnings say why) reads "n/a" in the summary, not "NaN"
    private static string Figure(double value, string format) =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string GateSummary(MembershipGate? gate) =>
        gate is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; gate (PRIV-7) TPR ≤ {gate.Bound:G4}{(gate.DpBoundFpr10 is { } b10 ? string.Create(CultureInfo.InvariantCulture, $", DP-12 ≤ {b10:G4} / {gate.DpBoundFpr01:G4} at epsilon {gate.Dp!.Epsilon:G4}{(gate.Dp.Source is { } source ? $" from {source}" : "")}") : "")}: {(gate.Passed ? "passed" : "FAILED")}");

    // evaluate --json: the files, the run, the threshold verdicts and the headline figures of report.json (the summary's)
    private static JsonObject EvaluateResult(EvaluationReport r, IReadOnlyList<ThresholdVerdict>? verdicts, string outPath, string? htmlPath,
        string runId, string runManifest, bool failOnThreshold)
    {
        var document = new JsonObject
        {
            ["command"] = "evaluate",
            ["report"] = JsonResult.Full(outPath),
            ["html"] = JsonResult.Full(htmlPath),
            ["run_id"] = runId,
            ["run_manifest"] = JsonResult.Full(runManifest),
            ["fail_on_threshold"] = failOnThreshold,
            // null without --thresholds; passed is what --fail-on-threshold turns into exit 3
            ["thresholds"] = verdicts is null ? null : new JsonObject
            {
                ["passed"] = ThresholdCheck.AllPassed(verdicts),
                ["checked"] = verdicts.Count,
                ["failed"] = new JsonArray([.. verdicts.Where(v => !v.Passed).Select(v => (JsonNode?)new JsonObject
                {
                    ["key"] = v.Threshold.Key,
                    ["bound"] = v.Threshold.Kind == ThresholdKind.Max ? "max" : "min",
                    ["limit"] = JsonResult.Number(v.Threshold.Limit),
                    ["actual"] = JsonResult.Number(v.Actual),
                })]),
            },
            ["rows"] = new JsonObject { ["real"] = r.Rows.Real, ["synthetic"] = r.Rows.Synthetic, ["train"] = r.Rows.Train },
            ["alpha"] = r.Alpha,
            ["ks_mean"] = JsonResult.Number(r.KsMean),
            ["ks_max"] = JsonResult.Number(r.KsMax),
            ["wasserstein_mean"] = JsonResult.Number(r.WassersteinMean),
            ["corr_distance"] = JsonResult.Number(r.CorrDistance),
            ["portfolio_var"] = new JsonObject { ["real"] = JsonResult.Number(r.Portfolio.Var.Real), ["synthetic"] = JsonResult.Number(r.Portfolio.Var.Synthetic) },
            ["portfolio_es"] = new JsonObject { ["real"] = JsonResult.Number(r.Portfolio.Es.Real), ["synthetic"] = JsonResult.Number(r.Portfolio.Es.Synthetic) },
            ["share_closer_to_train"] = r.Privacy is { } p ? JsonResult.Number(p.ShareCloserToTrain) : null,
            // null when the privacy section used every row (or there is none); else what the audit entry records as privacy.subsample
            ["privacy_subsample"] = r.Privacy?.Subsample is { } sub ? PrivacyAuditEntry.Subsample(sub) : null,
            ["under_stressed"] = r.Coverage is { } c ? new JsonArray([.. c.UnderStressed.Select(s => (JsonNode?)(s.Dimension + "=" + s.Segment))]) : null,
        };
        return document;
    }

    private static void WriteSummary(TextWriter o, EvaluationReport r, IReadOnlyList<ThresholdVerdict>? verdicts, string outPath, string? htmlPath)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"report:     {outPath}{(htmlPath is null ? "" : ", " + htmlPath)}");
        o.WriteLine(string.Create(inv,
            $"rows:       real {r.Rows.Real} ({r.Rows.RealPaths} path(s)), synthetic {r.Rows.Synthetic} ({r.Rows.SyntheticPaths} path(s)){(r.Rows.Train is { } t ? string.Create(CultureInfo.InvariantCulture, $", train {t}") : "")}"));
        o.WriteLine(string.Create(inv,
            $"marginals:  ks_mean {r.KsMean:G6}, ks_max {r.KsMax:G6}, wasserstein_mean {r.WassersteinMean:G6}, corr_distance {Figure(r.CorrDistance, "G6")}"));
        o.WriteLine(string.Create(inv,
            $"portfolio:  VaR {r.Alpha:G6} real {r.Portfolio.Var.Real:G6} / synthetic {r.Portfolio.Var.Synthetic:G6}, ES {r.Portfolio.Es.Real:G6} / {r.Portfolio.Es.Synthetic:G6}"));
        if (r.Privacy is { } p)
            o.WriteLine(string.Create(inv,
                $"privacy:    dcr_train_median {p.DcrTrainMedian:G6}, dcr_holdout_median {p.DcrHoldoutMedian:G6}, share_closer_to_train {p.ShareCloserToTrain:G6}"));
        if (r.Privacy?.Subsample is { } sub)
            o.WriteLine(string.Create(inv,
                $"subsample:  privacy measured on {sub.Train.Drawn} of {sub.Train.Rows} train, {sub.Holdout.Drawn} of {sub.Holdout.Rows} holdout and {sub.Synthetic.Drawn} of {sub.Synthetic.Rows} synthetic rows (at most {sub.Limit} each, drawn with seed {sub.Seed}){(sub.Windows is { } w ? string.Create(CultureInfo.InvariantCulture, $"; windows {w.Train.Drawn} of {w.Train.Rows} train, {w.Holdout.Drawn} of {w.Holdout.Rows} holdout, {w.Synthetic.Drawn} of {w.Synthetic.Rows} synthetic") : "")}"));
        if (r.Privacy?.Audit is { } pa)
        {
            o.WriteLine(string.Create(inv,
                $"split:      DCR share {pa.DcrShare.Share:G4} on {pa.DcrShare.N} synthetic / {pa.Split.N}+{pa.Split.N} reference rows, bound {pa.DcrShare.Bound:G4} ({(pa.DcrShare.WithinBound ? "within" : "ABOVE")}); IMS train {pa.Ims.SyntheticToTraining:G4} / holdout {pa.Ims.SyntheticToHoldout:G4} ({(pa.Ims.WithinMargin ? "within margin" : "ABOVE margin")}); NNDR10 syn→train {pa.Nndr.SyntheticToTraining:G4}, train→holdout {pa.Nndr.TrainingToHoldout:G4}"));
            foreach (var warning in pa.Warnings) o.WriteLine($"  WARNING {warning}");
        }
        if (r.Privacy?.Membership is { } mia)
            o.WriteLine(string.Create(inv, $"membership: DOMIAS AUC {mia.Auc:G4}, TPR {mia.TprAtFpr10:G4} at FPR 0.1{GateSummary(mia.Gate)}"));
        if (r.Privacy?.Shadow is { } sh)
            o.WriteLine(string.Create(inv, $"shadow MIA: AUC {sh.Auc:G4}, TPR {sh.TprAtFpr10:G4} at FPR 0.1, {sh.TprAtFpr01:G4} at FPR 0.01 ({sh.ShadowModels} shadows){GateSummary(sh.Gate)}"));
        foreach (var a in r.Privacy?.AttributeInference ?? [])
            o.WriteLine(string.Create(inv,
                $"attribute:  {a.Column}: {Outcome(a.Attack, a.Control, a.Baseline, a.Risk, a.Trusted)}"));
        foreach (var so in r.Privacy?.SinglingOut ?? [])
            o.WriteLine(string.Create(inv,
                $"singling:   {so.Mode.WireName()}: {so.Queries} queries, {Outcome(so.Attack, so.Control, so.Baseline, so.Risk, so.Trusted)}"));
        if (r.Privacy?.Linkability is { } lk)
            o.WriteLine(string.Create(inv,
                $"linkable:   {lk.Targets} records, k {lk.Neighbours}: {Outcome(lk.Attack, lk.Control, lk.Baseline, lk.Risk, lk.Trusted)}"));
        if (r.Privacy?.OutlierRisk is { } or)
            o.WriteLine(string.Create(inv,
                $"outliers:   {or.Records.Count} most isolated train rows: median DCR ratio {or.MedianRatioOutliers:G4} (all {or.MedianRatioAll:G4}), max score percentile {or.MaxScorePercentile:G4}"));
        if (r.Utility is { } u)
        {
            foreach (var (name, task) in new[] { ("next return", u.Return), ("next |return|", u.Volatility) })
                o.WriteLine(string.Create(inv,
                    $"utility:    {name}: R² TSTR {Figure(task.Tstr.R2, "G4")}, TRTR {Figure(task.Trtr.R2, "G4")}, TRTS {Figure(task.Trts.R2, "G4")}; MSE ratio {Figure(task.MseRatio, "G4")}; importance ρ {Figure(task.ImportanceSpearman, "G3")}"));
        }
        else if (r.UtilitySkipped is { } why)
        {
            o.WriteLine($"utility:    not computed: {why}");
        }
        if (r.Coverage is { } c)
        {
            o.WriteLine(string.Create(inv, $"coverage:   {c.Segments.Count} segment(s), tolerance {c.Tolerance:G3}; under-stressed: {(c.UnderStressed.Count == 0 ? "none" : string.Join(", ", c.UnderStressed.Select(s => s.Dimension + "=" + s.Segment)))}"));
            foreach (var warning in c.Warnings) o.WriteLine($"  WARNING {warning}");
        }
        if (verdicts is null) return;
        var failed = verdicts.Where(v => !v.Passed).ToArray();
        o.WriteLine(string.Create(inv, $"thresholds: {verdicts.Count - failed.Length} of {verdicts.Count} passed"));
        foreach (var v in failed)
        {
            var (value, limit) = ThresholdCheck.Display(v);
            o.WriteLine(string.Create(inv, $"  FAIL {v.Threshold.Key} = {value} ({(v.Threshold.Kind == ThresholdKind.Max ? "max" : "min")} {limit})"));
        }
    }
}
