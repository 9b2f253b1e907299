using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Cli.Progress;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Data.Segments;
using Crucible.Data.Splits;
using Crucible.Diffusion;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Evaluation;
using Crucible.Evaluation.Reporting;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance.Cards;
using Crucible.Governance.Manifests;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible demo [--out DIR] [--steps N] [--count N] [--seed S] [--home HOME]</c>: the main job on the bundled data (ten
/// industry portfolios and three FRED rates, 2000–2021): train a conditional sequence generator on 20-day windows of the
/// daily log returns up to <see cref="TrainEnd"/>, conditioned on the economic state (the fed funds rate, the term spread
/// and the realised volatility, lagged one day); generate baseline scenarios and scenarios under a stress specification
/// (<see cref="DemoStress"/>); evaluate the baseline against the later rows (the time holdout, with the coverage audit of
/// the default segments); stress an equal-weight portfolio under the baseline and stressed scenarios, the holdout's and
/// the 2008 crisis's 20-day windows; compare the model with the bootstrap and FHS-GARCH baselines on the holdout; and
/// write <c>report.html</c>, <c>report.json</c>, <c>model-card.md</c> + <c>model-card.html</c>,
/// <c>scenarios.csv</c> and <c>scenarios-stressed.csv</c> (each with its <c>.meta.json</c>) and the model folder into DIR
/// (default <c>./crucible-demo</c>). Each step is a run with its own run manifest in <c>HOME/runs/</c> (train, the two
/// generations, the evaluation with its stress and comparison sections, the model card) and appends the audit entries
/// of the command it stands for (train: <c>run.completed</c> and <c>model.registered</c>; generate:
/// <c>scenarios.generated</c>; evaluate: <c>evaluation.completed</c> and the <c>run.completed</c> that pins its manifest;
/// model card: <c>run.completed</c>) to the audit log of HOME, which is DIR itself unless <c>--home</c> is given: DIR
/// then holds <c>audit.db</c>, the checkpoints and the checkpoint key, and <c>crucible audit verify --home DIR</c> checks them.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The last train date; later rows are the holdout.</summary>
    public static readonly DateOnly TrainEnd = new(2017, 12, 31);

    /// <summary>The condition features built from the demo's state columns and returns (<see cref="EconomicState.Build"/>).</summary>
    public static IReadOnlyList<string> DemoFeatures { get; } = ["DFF", "TERM", "RV20"];

    /// <summary>The stressed request: realised volatility two standard deviations above the last training state, amplified by guidance.</summary>
    public const string DemoStress = "vol=+2sd";

    /// <summary>The classifier-free guidance weight of the stressed scenarios (1 = the plain conditional model).</summary>
    public const double DemoGuidance = 2.0;

    /// <summary>
    /// The demo's generator settings: the library defaults with a training length that fits a few minutes on 2 cores,
    /// without condition noise and with guidance 1 by default. The library's condition noise (1.5) and default
    /// guidance (4) were set by rules on the multi-asset panel (bench/sequence/README.md); on the demo's three state
    /// variables and 1,500 steps that noise flattens the response to the stress (measured: 20-day ES 99% stressed
    /// 0.149 against baseline 0.147, where no noise gives 0.224 against 0.153).
    /// </summary>
    public static SequenceGeneratorOptions GeneratorOptions { get; } = new()
    {
        Window = 20,
        ConditionNoise = 0,
        GuidanceScale = 1,
        Training = new SequenceGeneratorOptions().Training with { Steps = 1500 },
    };

    /// <summary>
    /// The demo's sampler: DPM-Solver++(2M) with 50 steps, DDIM plus a second-order correction at the same cost, because
    /// plain DDIM-50 contracts the spread of the samples by a few percent (README "Limits") and so understates VaR.
    /// </summary>
    public static SamplerOptions DemoSampler { get; } = new(SamplerKind.DpmSolver2M, 50);

    /// <summary>The options of one <c>demo</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Out = new("--out")
        {
            Description = "The folder to write into (default ./crucible-demo)",
            DefaultValueFactory = _ => "crucible-demo",
        };

        public readonly Option<int?> Steps = new("--steps") { Description = "Training steps (default 1500)" };

        public readonly Option<int> Count = new("--count") { Description = "Scenarios of 20 days to generate per request (default 2000)", DefaultValueFactory = _ => 2_000 };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed of training and sampling (default 0)" };

        public readonly Option<string> Home = new("--home")
        {
            Description = "The state folder that receives the audit log (default: the --out folder itself)",
        };
    }

    /// <summary>The <c>demo</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("demo",
            "Train a conditional sequence generator on the bundled data, generate baseline and stressed scenarios, evaluate them against a time holdout, and write report.html, report.json and the scenarios")
        {
            o.Out, o.Steps, o.Count, o.Seed, o.Home,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    // the files the demo writes in its folder beside the model (the scenarios with their sidecars, the report, the card)
    private static IEnumerable<string> DemoOutputs(string dir)
    {
        foreach (var csv in new[] { "scenarios.csv", "scenarios-stressed.csv" })
        {
            yield return Path.Combine(dir, csv);
            yield return ScenarioCsv.MetadataPath(Path.Combine(dir, csv));
        }

        foreach (var file in new[] { "report.json", "report.html", "model-card.md", "model-card.html" }) yield return Path.Combine(dir, file);
    }

    /// <summary>Runs the demo; writes progress lines and a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        string dir = Path.GetFullPath(parse.GetValue(o.Out)!);
        var home = HomeOption.ForRun(CrucibleHome.Resolve(parse.GetValue(o.Home) ?? dir));
        var store = RunStore.Sqlite(home); // the demo records into its home's SQLite log
        int count = parse.GetValue(o.Count);
        if (count < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--count must be at least 1, got {count}"));
        // the output folder and the home are made before the minutes of training: a path the system refuses fails now
        OutputPathException.CreateFolder(dir);
        home.EnsureExists();
        // every file the demo writes in it is checked too, so that none of them is written when one cannot be
        DiffusionGenerator.CheckSaveFolder(Path.Combine(dir, "model"));
        foreach (var file in DemoOutputs(dir)) AtomicFile.CheckWritable(file);
        ulong seed = parse.GetValue(o.Seed);
        var options = GeneratorOptions with { Seed = seed };
        if (parse.GetValue(o.Steps) is { } steps)
        {
            if (steps < 1) throw new InvalidInputException("OPT-E", "--steps must be at least 1");
            options = options with { Training = options.Training with { Steps = steps } };
        }

        var clock = Stopwatch.StartNew();
        var inv = CultureInfo.InvariantCulture;

        // 1. data: the bundled industry returns (percent) as daily log returns, split by time; the economic state
        //    (fed funds, term spread, realised volatility) lagged one day; crisis archetypes from the whole history
        var data = DemoDataSet.Load(options.Window);
        var (demoCsv, returns, train, holdout) = (data.Csv, data.Returns, data.Train, data.Holdout);
        output.WriteLine(string.Create(inv,
            $"data:       {DemoData.FileName}: {returns.ColumnCount} industry portfolios, train {Iso(train.Dates[0])}..{Iso(train.Dates[^1])} ({train.RowCount} days), holdout {Iso(holdout.Dates[0])}..{Iso(holdout.Dates[^1])} ({holdout.RowCount} days); state {string.Join(", ", DemoFeatures)}"));

        // 2. train and save the model
        var trainRun = RunManifests.Start(home, RunKind.Train, new JsonObject
        {
            ["command"] = "demo.train", ["kind"] = ModelKind.Sequence.WireName(),
            ["generator"] = JsonNode.Parse(JsonSerializer.Serialize(options, DiffusionJson.Options)),
            ["input"] = InputKind.PercentReturns.ToString(), ["train_end"] = Iso(TrainEnd), ["embargo_rows"] = options.Window,
            ["state_columns"] = string.Join(",", DemoFeatures),
        }, options.Seed).AddInput(demoCsv);
        var generator = data.Fit(options, TrainingProgressBar.ForStandardError());
        string model = Path.Combine(dir, "model");
        generator.Save(model);
        trainRun.ModelId = generator.ModelId;
        trainRun.AddOutput(Path.Combine(model, DiffusionGenerator.WeightsFileName)).AddOutput(Path.Combine(model, DiffusionGenerator.ManifestFileName));
        var (registered, _) = RunAudit.Register(store, model);          // so that `crucible generate --home DIR --model ID` finds it
        var manifests = new List<(string Step, string Path)> { ("train", RunAudit.Complete(store, trainRun, RunAudit.Trained(model, generator.Manifest)).Manifest) };
        output.WriteLine(string.Create(inv,
            $"model:      {model} ({generator.Manifest.Training.Steps} steps, {generator.Manifest.Windows.Count} windows of {options.Window} days, final loss {generator.Manifest.Training.FinalLoss:F4}, {clock.Elapsed.TotalSeconds:F0} s); registered as {registered.Id[..16]}… ({registered.Status.WireName()})"));

        // 3. generate: baseline (the unconditional model) and stressed (the stress specification under guidance)
        string csv = Path.Combine(dir, "scenarios.csv"), stressedCsv = Path.Combine(dir, "scenarios-stressed.csv");
        var baselineRun = StartGenerate(home, model, generator.ModelId, count, seed, guidance: null, stress: null);
        var set = generator.Generate(count, seed, new SequenceSampleRequest(Sampler: DemoSampler));
        var standing = RunAudit.StandingOf(store, model);              // one model for both generations
        var meta = ScenarioCsv.Write(csv, RunAudit.WithStanding(set, standing), DateTimeOffset.UtcNow);
        manifests.Add(("generate baseline", RunAudit.Complete(store, baselineRun.AddOutput(csv).AddOutput(ScenarioCsv.MetadataPath(csv)),
            RunAudit.GenerateCompleted("demo.generate", meta), (AuditKind.ScenariosGenerated, RunAudit.Generated(meta))).Manifest));
        var stressedRun = StartGenerate(home, model, generator.ModelId, count, seed + 1, DemoGuidance, DemoStress);
        var stressed = generator.Generate(count, seed + 1, new SequenceSampleRequest(GuidanceScale: DemoGuidance, Sampler: DemoSampler, Stress: DemoStress));
        var stressedMeta = ScenarioCsv.Write(stressedCsv, RunAudit.WithStanding(stressed, standing), DateTimeOffset.UtcNow);
        stressedRun.AddOutput(stressedCsv).AddOutput(ScenarioCsv.MetadataPath(stressedCsv));
        manifests.Add(("generate stressed", RunAudit.Complete(store, stressedRun,
            RunAudit.GenerateCompleted("demo.generate", stressedMeta), (AuditKind.ScenariosGenerated, RunAudit.Generated(stressedMeta))).Manifest));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scenarios:  {csv} ({count.ToString(inv)} baseline scenarios of {options.Window} days, DPM-Solver++(2M), 50 steps) + {Path.GetFileName(ScenarioCsv.MetadataPath(csv))}"));
        output.WriteLine(string.Create(inv,
            $"stressed:   {stressedCsv} (\"{DemoStress}\": {string.Join(", ", stressedMeta.Conditions.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}={c.Value:G4}")))}, guidance {DemoGuidance}) + {Path.GetFileName(ScenarioCsv.MetadataPath(stressedCsv))}"));

        // 4. evaluate the baseline against the holdout; privacy distances use an equal-size random subset of the train
        //    windows' days (rows), as the holdout is days. Steps 4 to 6 are one run, the evaluation: they write the report
        var evaluateRun = RunManifests.Start(home, RunKind.Evaluate, new JsonObject
        {
            ["command"] = "demo.evaluate", ["alpha"] = new EvaluationOptions().Alpha, ["segments"] = "default",
            ["train_end"] = Iso(TrainEnd), ["embargo_rows"] = options.Window, ["window"] = options.Window, ["regime_window"] = RegimeWindow(options.Window),
            ["stress_alphas"] = new JsonArray(0.95, 0.99), ["comparison"] = new JsonArray("diffusion", "bootstrap", "fhs-longrun"),
            ["comparison_count"] = count, ["comparison_alpha"] = 0.99,
        }, seed).AddInput(demoCsv).AddInput(csv).AddInput(stressedCsv);
        evaluateRun.ModelId = generator.ModelId;
        ModelInputs(evaluateRun, model); // the comparison samples from the model
        var (report, portfolio, risk, comparison, trainSubset, sections) =
            EvaluateStep(data, generator, ToPaths(set.Values, options.Window), ToPaths(stressed.Values, options.Window), count, options.Window, seed);
        ReportJson.Write(report, Path.Combine(dir, "report.json"), sections: sections);
        ReportHtml.Write(report, Path.Combine(dir, "report.html"), sections: sections);
        var evaluated = RunAudit.Evaluated(
            [("input_sha256", generator.Manifest.Data.InputSha256), ("real_matrix_sha256", DiffusionGenerator.TrainMatrixSha256(holdout)),
             ("synthetic_sha256", meta.CsvSha256), ("train_matrix_sha256", DiffusionGenerator.TrainMatrixSha256(trainSubset))],
            Path.Combine(dir, "report.json"), thresholdsSha256: null, thresholdsPassed: null);
        // RELIABILITY.md PRIV-9, as crucible evaluate records it: the privacy report in the audit log with its hash
        if (PrivacyAuditEntry.Of(report, File.ReadAllBytes(Path.Combine(dir, "report.json"))) is { } privacy) evaluated["privacy"] = privacy;
        evaluateRun.AddOutput(Path.Combine(dir, "report.json")).AddOutput(Path.Combine(dir, "report.html"));
        var (evaluateManifest, _) = RunAudit.Complete(store, evaluateRun,
            new JsonObject { ["command"] = "demo.evaluate", ["report_sha256"] = evaluated["report_sha256"]!.DeepClone() },
            (AuditKind.EvaluationCompleted, evaluated));
        manifests.Add(("evaluate", evaluateManifest));
        output.WriteLine(string.Create(inv,
            $"evaluation: ks_mean {report.KsMean:F4}, corr_distance {report.CorrDistance:F4}, share_closer_to_train {report.Privacy!.ShareCloserToTrain:F3} (vs the {Iso(holdout.Dates[0])}.. holdout)"));
        var es = risk.Select(r => $"{r.Name} {r.Result.Levels[^1].ExpectedShortfall.ToString("F4", inv)}");
        output.WriteLine($"stress:     {portfolio.Name}, 20-day ES 99%: {string.Join(", ", es)}");
        output.WriteLine($"compare:    {string.Join(", ", comparison.Rows.Select(r => $"{r.Generator} ks {r.KsMean.ToString("F3", inv)} ES err {r.EsRelativeError.ToString("F2", inv)}"))}");
        output.WriteLine($"report:     {Path.Combine(dir, "report.html")}, {Path.Combine(dir, "report.json")}");

        // 7. the model card: data, training, validation results and the coverage audit of the report, limitations
        var cardRun = ModelCardCommand.StartRun(home, "demo.model-card", model, Path.Combine(dir, "report.json"), status: null);
        ModelCard.Build(model, Path.Combine(dir, "report.json")).Write(Path.Combine(dir, "model-card.md"), Path.Combine(dir, "model-card.html"));
        var (cardManifest, last) = ModelCardCommand.Complete(store, cardRun, "demo.model-card",
            Path.Combine(dir, "model-card.md"), Path.Combine(dir, "model-card.html"));
        manifests.Add(("model card", cardManifest));
        output.WriteLine($"model card: {Path.Combine(dir, "model-card.md")}, {Path.Combine(dir, "model-card.html")}");
        foreach (var (step, path) in manifests) output.WriteLine($"manifest:   {path} ({step})");
        output.WriteLine(string.Create(inv,
            $"audit:      {last.Seq} entries in {home.AuditDatabase} (check: crucible audit verify --home {home.Root}; a run: crucible verify-run MANIFEST)"));
        output.WriteLine(string.Create(inv, $"done in {clock.Elapsed.TotalSeconds:F0} s"));
        return ExitCode.Success;
    }

    /// <summary>
    /// Steps 4 to 6 of the demo, one run (the evaluation), as the demo runs them and <c>verify-run --recompute</c> runs them
    /// again: the baseline paths evaluated against the holdout (privacy distances against an equal-size random subset of
    /// the train days), the stress table of an equal-weight portfolio, and the comparison of the model with the bootstrap
    /// and FHS-GARCH baselines; the report's two extra sections in order (stress, comparison).
    /// </summary>
    /// <summary>
    /// The regime window of the demo's evaluation: half the scenarios' <paramref name="window"/> (10 days for 20-day
    /// scenarios), so each scenario path has consecutive full windows and the report counts regime transitions in the
    /// synthetic set (at the evaluator's default of 20 a 20-day path has one window and no transition:
    /// <see cref="Crucible.Evaluation.Regimes.RegimeStatistics.WhyNoTransitions"/>).
    /// </summary>
    internal static int RegimeWindow(int window) => Math.Max(2, window / 2);

    internal static (EvaluationReport Report, Portfolio Portfolio, IReadOnlyList<ScenarioRiskRow> Risk, GeneratorComparisonTable Comparison,
        TimeSeriesFrame TrainSubset, ReportSection[] Sections) EvaluateStep(DemoDataSet data, SequenceGenerator generator, SeriesSet baselinePaths,
        SeriesSet stressedPaths, int count, int window, ulong seed)
    {
        var (returns, train, holdout) = (data.Returns, data.Train, data.Holdout);
        var inv = CultureInfo.InvariantCulture;
        var trainSubset = RandomRows(train, holdout.RowCount, seed);
        var report = Evaluator.Evaluate(new EvaluationInput(ToSet(holdout), baselinePaths, ToSet(trainSubset)),
            new EvaluationOptions { Segments = SegmentMap.Default, RegimeWindow = RegimeWindow(window) });

        // 5. stress an equal-weight portfolio of the industries: baseline and stressed scenarios against the 20-day
        //    windows of the holdout and of the 2008 crisis (Lehman to the market low)
        var portfolio = new Portfolio("equal-weight industries", [.. returns.Columns.Select(c => new Holding(c, 1.0 / returns.ColumnCount))]);
        var gfc = Slice(returns, new DateOnly(2008, 9, 15), new DateOnly(2009, 3, 9));
        var risk = ScenarioRiskTable.Build(portfolio, [0.95, 0.99],
        [
            ("baseline", "unconditional model", baselinePaths),
            ("stressed", $"{DemoStress}, guidance {DemoGuidance.ToString(inv)}", stressedPaths),
            ("holdout", string.Create(CultureInfo.InvariantCulture, $"{window}-day windows {Iso(holdout.Dates[0])}..{Iso(holdout.Dates[^1])}"), GeneratorComparison.Windows(holdout, window)),
            ("gfc-2008", string.Create(CultureInfo.InvariantCulture, $"{window}-day windows {Iso(gfc.Dates[0])}..{Iso(gfc.Dates[^1])}"), GeneratorComparison.Windows(gfc, window)),
        ]);
        var stressSection = ScenarioRiskTable.ToSection(risk);

        // 6. the comparison table: the diffusion model against the bootstrap and FHS-GARCH baselines, fitted on the same
        //    train rows and scored on the same holdout windows
        var comparison = GeneratorComparison.Build(
            [new PreFittedScenarioGenerator(new FittedSequenceDiffusion(generator, new SequenceSampleRequest(Sampler: DemoSampler))),
             GeneratorCatalog.Create("bootstrap"), GeneratorCatalog.Create("fhs-longrun")],
            train, holdout, portfolio, count, window, alpha: 0.99, seed);
        var comparisonSection = new ReportSection("generator_comparison", GeneratorComparison.ToJson(comparison), GeneratorComparison.ToHtmlSection(comparison));
        return (report, portfolio, risk, comparison, trainSubset, [stressSection, comparisonSection]);
    }

    /// <summary>
    /// The demo's evaluation step done again from its run manifest: the embedded data (refused unless it is the recorded
    /// named input), the model of its recorded files, the baseline and stressed scenarios of its recorded CSVs (written
    /// with round-trip numbers: the same values), the recorded window, comparison count and seed, through
    /// <see cref="EvaluateStep"/>; report.json and report.html against the recorded hashes. A run whose fixed settings
    /// (train end, embargo, α levels, compared generators) are not this build's demo's is refused.
    /// </summary>
    internal static IReadOnlyList<Recomputed> RecomputeEvaluation(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "demo.evaluate")
            throw new InvalidInputException(RunRecompute.Rule, $"run {m.RunId} was not recorded by the demo's evaluation step", where);
        int window = RunRecompute.Required<int>(c, "window", where), count = RunRecompute.Required<int>(c, "comparison_count", where);
        if (RunRecompute.Value<string>(c, "train_end") != Iso(TrainEnd) || RunRecompute.Value<int>(c, "embargo_rows") != window
            || RunRecompute.Value<string>(c, "segments") != "default" || RunRecompute.Value<double>(c, "alpha") != new EvaluationOptions().Alpha
            || RunRecompute.Value<int>(c, "regime_window") != RegimeWindow(window)
            || RunRecompute.Value<double>(c, "comparison_alpha") != 0.99
            || c["stress_alphas"]?.ToJsonString() != new JsonArray(0.95, 0.99).ToJsonString()
            || c["comparison"]?.ToJsonString() != new JsonArray("diffusion", "bootstrap", "fhs-longrun").ToJsonString())
            throw new InvalidInputException(RunRecompute.Rule, "the run's fixed settings (train end, embargo, α levels, segments, compared generators) are not this build's demo's: it cannot be evaluated again here", where);
        var data = DemoDataSet.Load(window);
        if (m.Inputs is not [{ IsFile: false } named, { } baseline, { } stressed, { } weights, _] || named.Sha256 != data.Csv.Sha256)
            throw new InvalidInputException(RunRecompute.Rule, $"the demo data embedded in this build ({data.Csv.Sha256[..16]}…) is not the data the run read, or the manifest does not list the demo's evaluation inputs", where);
        var generator = SequenceGenerator.Load(Path.GetDirectoryName(full(weights.Path))!);
        SeriesSet Paths(ManifestFile csv)
        {
            var read = SeriesSetCsv.Read(full(csv.Path));
            return new SeriesSet(read.Names, read.Columns, [.. Enumerable.Range(0, read.RowCount).Select(r => 1 + (r / window))]);
        }

        var (report, _, _, _, _, sections) = EvaluateStep(data, generator, Paths(baseline), Paths(stressed), count, window, m.Seed);
        var results = new List<Recomputed>();
        foreach (var output in m.Outputs.Where(o => o.IsFile))
        {
            string? text = output.Path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) ? ReportHtml.ToHtml(report, sections: sections)
                : output.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ReportJson.ToJson(report, sections: sections) : null;
            if (text is not null) results.Add(RunRecompute.Compare(output, text));
        }

        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no report to compare with", where);
    }

    private static DataProvenance DemoProvenance(ManifestFile demoCsv) => new(DemoData.FileName, demoCsv.Sha256, InputKind.PercentReturns.ToString());

    /// <summary>
    /// The demo's data as its steps read it (and <c>verify-run --recompute</c> reads it again): the embedded CSV (a named
    /// input), its daily log returns split at <see cref="TrainEnd"/> with an embargo of one window, the condition features
    /// over the train rows and the crisis archetypes over the whole history.
    /// </summary>
    internal sealed record DemoDataSet(ManifestFile Csv, TimeSeriesFrame Returns, TimeSeriesFrame Train, TimeSeriesFrame Holdout, TimeSeriesFrame Features,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Archetypes)
    {
        /// <summary>Reads the embedded data for windows of <paramref name="window"/> days.</summary>
        public static DemoDataSet Load(int window)
        {
            var (percent, state) = DemoData.Load();
            var returns = percent.ToLogReturns(InputKind.PercentReturns);
            var split = TimeSplitter.TrainHoldout(returns, TrainEnd, embargoRows: window, window: window); // MRM-4: embargo ≥ one window
            var train = split.Train(returns);
            return new DemoDataSet(DemoCsv(), returns, train, split.Holdout(returns), EconomicState.Build(state, train, DemoFeatures),
                CrisisArchetypes.Compute(EconomicState.Build(state, returns, DemoFeatures)));
        }

        /// <summary>Trains the demo's generator with <paramref name="options"/> on the train rows and their features.</summary>
        public SequenceGenerator Fit(SequenceGeneratorOptions options, IProgress<Crucible.Diffusion.Training.TrainingProgress>? progress) =>
            // the state columns come from the same embedded file: recorded as the state input (levels), so the manifest and
            // the model card name and hash it as for a state file given to train --state
            new SequenceGenerator(options).Fit(Train, Features, Archetypes, DemoProvenance(Csv),
                stateProvenance: DemoProvenance(Csv) with { Input = SequenceState.InputKindName }, progress: progress);
    }

    /// <summary>
    /// The demo's train step done again from its run manifest: the recorded generator options (seed and steps included) on
    /// the demo data embedded in this build, refused unless those are the bytes the run read (its named input's hash) and
    /// the split and features are this build's (<c>train_end</c>, <c>embargo_rows</c>, <c>state_columns</c>); the weights
    /// and model manifest (under the recorded library version) against the recorded hashes.
    /// </summary>
    internal static IReadOnlyList<Recomputed> RecomputeTrain(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "demo.train" || c["generator"] is not JsonObject recorded)
            throw new InvalidInputException(RunRecompute.Rule, $"run {m.RunId} was not recorded by the demo's train step", where);
        var options = recorded.Deserialize<SequenceGeneratorOptions>(DiffusionJson.Options)
            ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest's generator options are empty", where);
        if (RunRecompute.Value<string>(c, "train_end") != Iso(TrainEnd) || RunRecompute.Value<int>(c, "embargo_rows") != options.Window
            || RunRecompute.Value<string>(c, "state_columns") != string.Join(",", DemoFeatures))
            throw new InvalidInputException(RunRecompute.Rule, "the run's train_end, embargo_rows or state_columns are not this build's demo's: it cannot be trained again here", where);
        var data = DemoDataSet.Load(options.Window);
        if (m.Inputs is not [{ IsFile: false } named] || named.Sha256 != data.Csv.Sha256)
            throw new InvalidInputException(RunRecompute.Rule, $"the demo data embedded in this build ({data.Csv.Sha256[..16]}…) is not the data the run read", where);
        var trained = data.Fit(options, progress: null);
        return RunRecompute.ModelOutputs(m, full, trained.WeightsBytes(),
            version => DiffusionJson.FileBytes(trained.Manifest with { LibraryVersion = version }), where);
    }

    // the embedded demo CSV as a named input: bytes the demo reads that are no file of the user's
    private static ManifestFile DemoCsv()
    {
        using var stream = DemoData.OpenCsv();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return ManifestFile.Named(DemoData.FileName, bytes.ToArray());
    }

    // a generate step's run manifest, as crucible generate writes it: the request, the model's files, the model id
    private static RunManifestBuilder StartGenerate(CrucibleHome home, string model, string modelId, int count, ulong seed,
        double? guidance, string? stress)
    {
        var spacing = DemoSampler.Spacing == DdimSpacing.UniformAngle ? "angle" : "linear";
        var run = RunManifests.Start(home, RunKind.Generate, GenerateCommand.RunConfig("demo.generate", count, DemoSampler, spacing, conditions: null,
            guidance, guidanceMinNoise: null, regimeGuidance: null, stress), seed);
        run.ModelId = modelId;
        return ModelInputs(run, model);
    }

    private static RunManifestBuilder ModelInputs(RunManifestBuilder run, string model) =>
        run.AddInput(Path.Combine(model, DiffusionGenerator.WeightsFileName)).AddInput(Path.Combine(model, DiffusionGenerator.ManifestFileName));

    private static TimeSeriesFrame RandomRows(TimeSeriesFrame frame, int count, ulong seed)
    {
        var rows = Enumerable.Range(0, frame.RowCount).ToArray();
        new Philox(seed, stream: 7).Shuffle(rows.AsSpan());
        var pick = rows.Take(Math.Min(count, rows.Length)).Order().ToArray();
        int d = frame.ColumnCount;
        var values = new double[pick.Length * d];
        for (int i = 0; i < pick.Length; i++) frame.Row(pick[i]).CopyTo(values.AsSpan(i * d, d));
        return new TimeSeriesFrame([], frame.Columns, values, pick.Length);
    }

    private static SeriesSet ToSet(TimeSeriesFrame frame) => new([.. frame.Columns], [.. Enumerable.Range(0, frame.ColumnCount).Select(frame.Column)]);

    // the rows of a dated frame within [from, to]
    private static TimeSeriesFrame Slice(TimeSeriesFrame frame, DateOnly from, DateOnly to)
    {
        int first = frame.IndexAtOrBefore(from.AddDays(-1)) + 1, last = frame.IndexAtOrBefore(to);
        return frame.Slice(first, last + 1);
    }

    // scenario windows of `window` rows each as paths (scenario ids 1, 2, …)
    private static SeriesSet ToPaths(TimeSeriesFrame frame, int window) =>
        ToSet(frame) with { ScenarioIds = [.. Enumerable.Range(0, frame.RowCount).Select(r => 1 + (r / window))] };

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
