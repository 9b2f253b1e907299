using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Crucible.Cli.Progress;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.Segments;
using Crucible.Diffusion;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible train --data FILE [--columns A,B,…] [--input prices|returns|log-returns|percent] [--kind tabular|sequence]
/// [--window W] [--state FILE [--state-columns X,Y,…]] [--train-end DATE] [--steps N] [--seed S] [--config FILE]
/// [--checkpoint FILE [--checkpoint-every N]]
/// [--dp-epsilon E | --dp-noise-multiplier S] [--dp-delta D] [--dp-max-grad-norm C] [--dp-budget EMAX] [--dp-sample-rate Q] [--dp-secure] [--dp-unit record|window]
/// [--segments FILE|default --stratify DIMENSION] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out MODEL</c>: fits a generator on the log returns of the
/// rows dated up to DATE, writes the model folder, registers it in the home's model registry (<c>model.registered</c>, as
/// a candidate; a model already registered is left as it is, and one whose weights a registered model with another manifest
/// has stays unregistered, with a warning) and appends <c>run.completed</c> to the audit log in the home
/// folder (with <c>--store postgres:…</c>, that database's registry and log). With a <c>--dp-*</c> flag (or a <c>privacy</c> config section) it trains with DP-SGD (either kind; a sequence
/// model states the guarantee per day, <c>--dp-unit record</c>, by group privacy over the W windows that hold it, or per
/// window); a configuration whose projected ε exceeds the budget exits 2 before training.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The options of one <c>train</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "The CSV of prices or returns (first column a date)", Required = true };

        /// <summary>How --data is read, as <c>data check</c> reads it with the same options.</summary>
        public readonly CsvDialectOptions Dialect = new();

        public readonly Option<string> Columns = new("--columns") { Description = "The series to model, comma-separated (default: all)" };

        public readonly Option<string> Input = new("--input")
        {
            Description = "What the values are: prices, returns (simple, as fractions), log-returns, or percent (simple returns in %)",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<string> Kind = new("--kind")
        {
            Description = "The generator: tabular (rows) or sequence (windows of W days, optionally conditioned on an economic state)",
            DefaultValueFactory = _ => ModelKind.Tabular.WireName(),
            HelpName = "tabular|sequence", // the values in --help; an unknown one stays OPT-E-KIND (Execute)
        };

        public readonly Option<int?> Window = new("--window") { Description = "Sequence kind: the window length W in days (overrides the config; default 20)" };

        public readonly Option<string> State = new("--state")
        {
            Description = "Sequence kind: a CSV of economic-state series by date (e.g. FRED's VIXCLS, DFF, DGS3MO, DGS10, BAA10Y, BAMLH0A0HYM2); conditions are lagged one day",
        };

        public readonly Option<string> StateColumns = new("--state-columns")
        {
            Description = "Sequence kind: the condition features, comma-separated: VIXCLS, DFF, TERM (DGS10 − DGS3MO), BAA10Y, BAMLH0A0HYM2, RV20 (the data's realised volatility) or any state column (default: the first six)",
        };

        public readonly Option<string> StateMissing = new("--state-missing")
        {
            Description = "Sequence kind with --state: the state file's missing values: reject (default) or ffill (carry a series' previous value forward, at most --state-ffill-limit rows in a row; counted in the model manifest's state_data.missing)",
        };

        public readonly Option<int?> StateFfillLimit = new("--state-ffill-limit")
        {
            Description = string.Create(CultureInfo.InvariantCulture, $"With --state-missing ffill: the most consecutive missing rows of a state series to fill (default {StateMissingValues.Default.ForwardFillLimit})"),
        };

        public readonly Option<string[]> StateNa = new("--state-na")
        {
            Description = "Sequence kind with --state: tokens that mean 'missing' in the state file besides the empty field, e.g. --state-na . for FRED's downloads",
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<string> StateDateFormat = new("--state-date-format")
        {
            Description = "Sequence kind with --state: the state file's exact date format, e.g. MM/dd/yyyy (default yyyy-MM-dd; --date-format reads --data only)",
        };

        public readonly Option<string> StateDateColumn = new("--state-date-column")
        {
            Description = "Sequence kind with --state: the state file's date column header, wherever it stands, e.g. observation_date (default Date, any case; --date-column reads --data only)",
        };

        public readonly Option<string> CalibrateGuidance = new("--calibrate-guidance")
        {
            HelpName = SequenceTraining.EpisodeNames.Replace(", ", "|", StringComparison.Ordinal),
            Description = "Sequence kind with --state: set the model's default guidance from this training episode (gfc-2008, covid-2020 or rates-2022): by default w = 2 and the regime guidance that brings the ES under the state of the episode's record VIXCLS close to the episode's realised ES (--calibration-rule)",
        };

        public readonly Option<string> CalibrationRule = new("--calibration-rule")
        {
            HelpName = SequenceTraining.RuleNames.Replace(", ", "|", StringComparison.Ordinal),
            Description = "With --calibrate-guidance: regime (default: w = 2 and the regime guidance a that matches the realised ES), smallest-within (the smallest w in 1..8 within 25% of the realised ES) or closest (the w in 1..8 closest to it); at the model's guidance_min_noise (--config)",
        };

        public readonly Option<bool> WithholdPrices = new("--withhold-prices")
        {
            Description = "Record no last train prices in the model manifest (data.last_prices, the default start of generate --prices), e.g. for a confidential book: generate --prices then needs --start-prices",
        };

        public readonly Option<string> TrainEnd = new("--train-end") { Description = "Train on rows dated up to this date, YYYY-MM-DD (default: all rows)" };

        public readonly Option<int?> Steps = new("--steps") { Description = "Training steps (overrides the config)" };

        public readonly Option<ulong?> Seed = new("--seed") { Description = "Seed of initialisation and training (overrides the config; default 0)" };

        public readonly Option<string> Config = new("--config") { Description = "A JSON file of generator options (the manifest's \"config\" keys)" };

        public readonly Option<string> Checkpoint = new("--checkpoint")
        {
            Description = "Save the trainer's state to this file as training goes, and resume from it if it exists",
        };

        public readonly Option<int> CheckpointEvery = new("--checkpoint-every")
        {
            Description = "Steps between checkpoints (default 500)",
            DefaultValueFactory = _ => 500,
        };

        public readonly Option<double?> DpEpsilon = new("--dp-epsilon")
        {
            Description = "Train with DP-SGD, calibrating the noise multiplier for this target epsilon over all steps",
        };

        public readonly Option<double?> DpNoiseMultiplier = new("--dp-noise-multiplier") { Description = "Train with DP-SGD at this noise multiplier sigma" };

        public readonly Option<double?> DpDelta = new("--dp-delta") { Description = "DP delta (default 1e-5; must be below 1/N)" };

        public readonly Option<double?> DpMaxGradNorm = new("--dp-max-grad-norm") { Description = "DP-SGD per-example clipping norm C (default 1)" };

        public readonly Option<double?> DpBudget = new("--dp-budget")
        {
            Description = "Declared epsilon budget: training is refused (exit 2) when the projected epsilon exceeds it (default 10)",
        };

        public readonly Option<double?> DpSampleRate = new("--dp-sample-rate")
        {
            Description = "Poisson sampling rate q (default: training batch size / train rows)",
        };

        public readonly Option<bool> DpSecure = new("--dp-secure")
        {
            Description = "DP-SGD secure mode: noise and Poisson batches from the OS CSPRNG, so the recorded seed cannot regenerate them; "
                + "the model is then not reproducible (experiment without it, then train again with it for a model to release)",
        };

        public readonly Option<string> DpUnit = new("--dp-unit")
        {
            Description = "DP-SGD unit of privacy: record (a day; for --kind sequence the default, stated by group privacy over the W windows that hold the day) "
                + "or window (sequence kind: one window); entity is refused (the data has no entity column)",
        };

        public readonly Option<bool> DpPublicState = new("--dp-public-state")
        {
            Description = "Sequence kind with --state and DP-SGD: declare the economic state public data (only the returns are private), so the model may be "
                + "conditioned on it; its standardisation, reference state and archetypes then come from the state file alone, and RV20 "
                + "(from the returns) and --calibrate-guidance are refused (privacy.public_state in the config)",
        };

        public readonly Option<string> Segments = new("--segments")
        {
            Description = "JSON of declared market segments (as for evaluate), or 'default' for the built-in map; used by --stratify",
        };

        public readonly Option<string> Stratify = new("--stratify")
        {
            Description = "Stratified training: a dimension of --segments (e.g. asset_class) whose segments contribute equally to the loss",
        };

        public readonly Option<string> Out = new("--out") { Description = "The model folder to write", Required = true };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the registry the model joins and the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>The <c>train</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Input.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        o.DpUnit.AcceptOnlyFromAmong("record", "window", "entity");
        o.StateMissing.AcceptOnlyFromAmong("reject", "ffill");
        var command = new Command("train", "Fit a generator on historical data and write the model folder (weights.safetensors + manifest.json)")
        {
            o.Data, o.Columns, o.Input, o.Kind, o.Window, o.State, o.StateColumns, o.StateMissing, o.StateFfillLimit, o.StateNa, o.StateDateFormat, o.StateDateColumn, o.CalibrateGuidance, o.CalibrationRule, o.WithholdPrices, o.TrainEnd, o.Steps, o.Seed, o.Config, o.Checkpoint, o.CheckpointEvery,
            o.DpEpsilon, o.DpNoiseMultiplier, o.DpDelta, o.DpMaxGradNorm, o.DpBudget, o.DpSampleRate, o.DpSecure, o.DpUnit, o.DpPublicState, o.Segments, o.Stratify, o.Out, o.Home, o.Store, o.Json,
        };
        foreach (var option in o.Dialect.All) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    // --checkpoint FILE: resuming from an existing file is said on stderr (stdout's summary lines stay as they are)
    // (and kept for --json's resumed_from_step)
    private static CheckpointOptions? Checkpoint(string? path, int every, int steps, StrongBox<int?> resumedFrom) => path is null ? null : new CheckpointOptions(path, every)
    {
        Resumed = done =>
        {
            resumedFrom.Value = done;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resuming from step {done} of {steps} (checkpoint {path})"));
        },
    };

    // the model folder --out replaces its weights and manifest: neither may be a file the run reads (checked before training)
    // and the system must take them (a refusal fails now, not after the minutes of training)
    private static void CheckModelFolder(string folder, params string?[] inputs)
    {
        string weights = Path.Combine(folder, DiffusionGenerator.WeightsFileName), manifest = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        OutputGuard.Check("--out", inputs.OfType<string>(), folder, weights, manifest);
        DiffusionGenerator.CheckSaveFolder(folder);
    }

    // --checkpoint FILE, checked before training: not the model folder nor a file the save writes in it, and its folder
    // there (created as an output's folder is: the trainer's checkpoint writer does not create it)
    private static void CheckCheckpoint(string? checkpoint, string folder)
    {
        if (checkpoint is null) return;
        foreach (var output in new[] { folder, Path.Combine(folder, DiffusionGenerator.WeightsFileName), Path.Combine(folder, DiffusionGenerator.ManifestFileName) })
            DistinctOutputs.Check("--checkpoint", checkpoint, "--out", output);
        Crucible.Data.IO.AtomicFile.CheckWritable(checkpoint);
        var full = Path.GetFullPath(checkpoint);
        Crucible.Data.IO.OutputPathException.CreateFolder(Path.GetDirectoryName(full)!, full);
    }

    /// <summary>Trains and saves; writes a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        try
        {
            return ExecuteCore(parse, o, output);
        }
        catch (InvalidInputException e) when (DpTrainingOptions.SettingOf(e) is not null)
        {
            // the engine's DP-E-BUDGET refusals (δ ≥ 1/N, ε over the budget, …) point at privacy.KEY: a flag the user gave names it
            throw DpTrainingOptions.Relocate(e, DpFlagNames(parse, o));
        }
    }

    private static ExitCode ExecuteCore(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var result = output;
        output = JsonResult.SummaryWriter(json, output);
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        string kindName = parse.GetValue(o.Kind) ?? ModelKind.Tabular.WireName();
        var kind = ModelKinds.FromWireName(kindName)
            ?? throw new InvalidInputException("OPT-E-KIND", $"--kind {kindName} is not a generator kind; use --kind tabular or --kind sequence");
        if (kind == ModelKind.Sequence) return ExecuteSequence(parse, o, output, result, store);
        foreach (var (name, given) in new[] { ("--window", parse.GetValue(o.Window) is not null), ("--state", parse.GetValue(o.State) is not null), ("--state-columns", parse.GetValue(o.StateColumns) is not null), ("--state-missing", parse.GetValue(o.StateMissing) is not null), ("--state-ffill-limit", parse.GetValue(o.StateFfillLimit) is not null), ("--state-na", parse.GetValue(o.StateNa) is { Length: > 0 }), ("--state-date-format", parse.GetValue(o.StateDateFormat) is not null), ("--state-date-column", parse.GetValue(o.StateDateColumn) is not null), ("--calibrate-guidance", parse.GetValue(o.CalibrateGuidance) is not null), ("--calibration-rule", parse.GetValue(o.CalibrationRule) is not null) })
        {
            if (given) throw new InvalidInputException("OPT-E-KIND", $"{name} applies to --kind sequence only");
        }

        var options = LoadConfig(parse.GetValue(o.Config));
        if (parse.GetValue(o.Steps) is { } steps)
        {
            if (steps < 1) throw new InvalidInputException("OPT-E", "--steps must be at least 1");
            options = options with { Training = options.Training with { Steps = steps } };
        }

        if (parse.GetValue(o.Seed) is { } seed) options = options with { Seed = seed };
        options = WithPrivacyFlags(parse, o, options);
        if (options.Privacy is { PublicState: true })
            throw new InvalidInputException("OPT-E-KIND", "--dp-public-state (privacy.public_state) applies to --kind sequence with --state only: a tabular model has no economic state");
        options = Stratified(options, parse.GetValue(o.Segments), parse.GetValue(o.Stratify));
        int every = parse.GetValue(o.CheckpointEvery);
        if (every < 1) throw new InvalidInputException("OPT-E", "--checkpoint-every must be at least 1");

        var (path, input, dialect, train, _, dataQuality, provenance, warnings) = ReadTrainingData(parse, o);
        if (options.Strata is { } strata)
        {
            // the labels of the trained series only, so the manifest records exactly the strata used
            var missing = train.Columns.FirstOrDefault(c => !strata.ContainsKey(c));
            if (missing is not null)
                throw new InvalidInputException("SEG-E-UNASSIGNED", $"--stratify {parse.GetValue(o.Stratify)}: series '{missing}' has no segment");
            options = options with { Strata = train.Columns.ToDictionary(c => c, c => strata[c], StringComparer.Ordinal) };
        }

        DiffusionGenerator generator;
        try
        {
            generator = new DiffusionGenerator(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("config", e.Message);
        }

        var config = RunConfig(options, input, parse.GetValue(o.Columns), parse.GetValue(o.TrainEnd));
        if (parse.GetValue(o.WithholdPrices)) config["withhold_prices"] = true; // only when given, as "csv"
        if (dialect is not null) config["csv"] = dialect; // only when given: earlier manifests' configs stay as they were
        var run = RunManifests.Start(store.Home, RunKind.Train, config, options.Seed).AddInput(path);
        run.Outcome = new System.Text.Json.Nodes.JsonObject { ["data_quality"] = dataQuality };
        var resumedFrom = new StrongBox<int?>();
        var checkpoint = Checkpoint(parse.GetValue(o.Checkpoint), every, options.Training.Steps, resumedFrom);
        var clock = Stopwatch.StartNew();
        try
        {
            generator.Fit(train, provenance, TrainingProgressBar.ForStandardError(), checkpoint);
        }
        catch (InvalidInputException e) when (InTheDataFile(e, path, train.Columns, warnings) is var located && located != e)
        {
            throw located;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        string folder = parse.GetValue(o.Out)!;
        generator.Save(folder);

        var m = generator.Manifest;
        // DP-SGD: the run manifest carries the model manifest's DP statement (σ, q, steps, δ, ε, accountant, …), as is
        if (m.Privacy is { } privacy) run.Dp = JsonSerializer.SerializeToNode(privacy, DiffusionJson.Options) as System.Text.Json.Nodes.JsonObject;
        var (registered, isNew, runManifest, receipt, notRegistered) = Record(store, run, folder, m.Weights.Sha256, RunAudit.Trained(folder, m, run));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model:      {folder} (id {m.Weights.Sha256[..16]}…, {m.Weights.Parameters} parameters)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train rows: {m.Data.TrainRows} × {m.Columns.Count} series{(m.Data.TrainStart is null ? "" : $" ({m.Data.TrainStart} .. {m.Data.TrainEnd})")}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training:   {m.Training.Steps} steps in {seconds:F1} s, {(m.Privacy is null ? string.Create(CultureInfo.InvariantCulture, $"final loss {m.Training.FinalLoss:F4}") : "loss withheld (a statistic of the private rows)")}"));
        if (m.Privacy is { } dp) output.WriteLine($"privacy:    {dp.Statement}");
        WriteRecord(output, store.Home, registered, isNew, runManifest);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit:      entry {receipt.Seq} in {store.AuditPlace}"));
        if (parse.GetValue(o.Json))
            JsonResult.Write(result, TrainResult(folder, (m.Kind, m.Weights, m.Training, m.Data, m.Privacy, m.Config.Seed), registered, isNew, notRegistered, run.RunId, runManifest, resumedFrom.Value, receipt, store));
        return ExitCode.Success;
    }

    /// <summary>
    /// Applies the <c>--dp-*</c> flags over the config's <c>privacy</c> section (creating it when a flag is given), and
    /// switches off the data-fitted preprocessing as <see cref="DiffusionGeneratorOptions.WithPrivacy"/> does.
    /// </summary>
    internal static DiffusionGeneratorOptions WithPrivacyFlags(ParseResult parse, Options o, DiffusionGeneratorOptions options) =>
        PrivacyFlags(parse, o, options.Privacy) is { } dp ? options.WithPrivacy(dp) : options;

    /// <summary>
    /// The <c>--dp-*</c> flags applied over <paramref name="configured"/> (the config's <c>privacy</c> section, or a new one
    /// when a flag is given), validated; null when no flag is given.
    /// </summary>
    private static DpTrainingOptions? PrivacyFlags(ParseResult parse, Options o, DpTrainingOptions? configured)
    {
        double? epsilon = parse.GetValue(o.DpEpsilon), sigma = parse.GetValue(o.DpNoiseMultiplier), delta = parse.GetValue(o.DpDelta),
            clip = parse.GetValue(o.DpMaxGradNorm), budget = parse.GetValue(o.DpBudget), rate = parse.GetValue(o.DpSampleRate);
        bool secure = parse.GetValue(o.DpSecure), publicState = parse.GetValue(o.DpPublicState);
        string? unit = parse.GetValue(o.DpUnit);
        if (epsilon is null && sigma is null && delta is null && clip is null && budget is null && rate is null && !secure && unit is null && !publicState) return null;
        if (epsilon is not null && sigma is not null) throw new InvalidInputException("OPT-E", "give --dp-epsilon or --dp-noise-multiplier, not both");
        var dp = configured ?? new DpTrainingOptions();
        if (epsilon is not null) dp = dp with { TargetEpsilon = epsilon, NoiseMultiplier = null };
        if (sigma is not null) dp = dp with { NoiseMultiplier = sigma, TargetEpsilon = null };
        if (delta is not null) dp = dp with { Delta = delta.Value };
        if (clip is not null) dp = dp with { MaxGradNorm = clip.Value };
        if (budget is not null) dp = dp with { EpsilonBudget = budget.Value };
        if (rate is not null) dp = dp with { SampleRate = rate };
        if (secure) dp = dp with { SecureMode = true };
        if (publicState) dp = dp with { PublicState = true };
        if (unit is not null) dp = dp with { Unit = Enum.Parse<Crucible.Diffusion.Privacy.PrivacyUnit>(unit, ignoreCase: true) };
        if (dp.TargetEpsilon is null && dp.NoiseMultiplier is null)
            throw new InvalidInputException("OPT-E", "DP-SGD needs --dp-epsilon or --dp-noise-multiplier (or privacy.target_epsilon / noise_multiplier in the config)");
        try
        {
            // a value the user gave as a flag is named by that flag, one from the config file by its privacy.KEY
            dp.Validate(DpFlagNames(parse, o));
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("OPT-E", e.Message);
        }

        return dp;
    }

    /// <summary>
    /// The <c>--dp-*</c> flag that names the config key <c>privacy.KEY</c> on this command line: the flag when it set the
    /// value, and also when the value is the default (no config file, or one without that key), since the flag is then what
    /// would change it; null when the config file's value is the one in force (named by its key).
    /// </summary>
    private static Func<string, string?> DpFlagNames(ParseResult parse, Options o)
    {
        string? config = parse.GetValue(o.Config);
        return key =>
        {
            var (flag, given) = key switch
            {
                "target_epsilon" => ("--dp-epsilon", parse.GetValue(o.DpEpsilon) is not null),
                "noise_multiplier" => ("--dp-noise-multiplier", parse.GetValue(o.DpNoiseMultiplier) is not null),
                "delta" => ("--dp-delta", parse.GetValue(o.DpDelta) is not null),
                "max_grad_norm" => ("--dp-max-grad-norm", parse.GetValue(o.DpMaxGradNorm) is not null),
                "epsilon_budget" => ("--dp-budget", parse.GetValue(o.DpBudget) is not null),
                "sample_rate" => ("--dp-sample-rate", parse.GetValue(o.DpSampleRate) is not null),
                _ => ((string?)null, false),
            };
            return flag is not null && (given || !ConfigSetsPrivacyKey(config, key)) ? flag : null;
        };
    }

    // whether the config file (already read and validated by LoadConfig) sets privacy.KEY itself (keys are exact: the
    // config's JSON options are case-sensitive); false without a config file
    private static bool ConfigSetsPrivacyKey(string? config, string key)
    {
        if (config is null) return false;
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(Crucible.Data.IO.InputFile.ReadAllText(config)) is System.Text.Json.Nodes.JsonObject root
                && root["privacy"] is System.Text.Json.Nodes.JsonObject privacy && privacy.ContainsKey(key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return true; // unreadable now: keep the config key, as before
        }
    }

    // the model joins the home's registry (model.registered), then the model folder's files close the run manifest (with
    // the model id) and run.completed (entry) pins it
    // A model whose weights a registered model already has, with a manifest that differs beyond provenance (e.g. the same
    // network calibrated by another rule), cannot be registered under the weights' id (REG-E-CONFLICT): the folder is
    // complete and usable by path, so the run completes and says so, unregistered (null), rather than failing after training.
    private static (ModelRecord? Registered, bool IsNew, string RunManifest, AuditReceipt Receipt, string? NotRegistered) Record(RunStore store,
        RunManifestBuilder run, string folder, string modelId, System.Text.Json.Nodes.JsonObject entry)
    {
        run.ModelId = modelId;
        run.AddOutput(Path.Combine(folder, DiffusionGenerator.WeightsFileName)).AddOutput(Path.Combine(folder, DiffusionGenerator.ManifestFileName));
        ModelRecord? registered = null;
        bool isNew = false;
        string? notRegistered = null;
        // two runs writing one --out at once (overlapping schedules): the folder may hold the other run's model by now, which
        // this run would register and record as its own (it did: a seed-2 run reported the seed-1 model "registered")
        TrainedModelFolder.ThrowIfReplaced(folder, modelId);
        try
        {
            (registered, isNew) = RunAudit.Register(store, folder);
        }
        catch (InvalidInputException e) when (e.Rule == ModelRegistry.ConflictRule)
        {
            // the library's message names the keys the manifests differ in (and why withheld prices are no provenance)
            notRegistered = e.Message;
            Console.Error.WriteLine($"warning [{ModelRegistry.ConflictRule}]: {e.Message}; this model is not registered: "
                + $"use it by its folder (--model {folder}), or train with another seed (other weights) to register it");
        }

        // replaced between the check and the registry's copy: the registry holds the other run's model (registered by that
        // run too), and this run records nothing
        if (registered is not null && registered.Id != modelId) throw TrainedModelFolder.Replaced(folder, modelId, registered.Id);

        var (manifest, receipts) = RunAudit.Complete(store, run, entry);
        return (registered, isNew, manifest, receipts[^1], notRegistered);
    }

    // train --json: the model (full id, folder), its registration, the run and the training figures of the model manifest
    private static System.Text.Json.Nodes.JsonObject TrainResult(string folder,
        (ModelKind Kind, WeightsManifest Weights, TrainingMetrics Training, DataManifest Data, PrivacyManifest? Privacy, ulong Seed) m, ModelRecord? registered, bool isNew, string? notRegistered,
        string runId, string runManifest, int? resumedFrom, AuditReceipt receipt, RunStore store) => new()
    {
        ["command"] = "train",
        ["kind"] = m.Kind.WireName(),
        ["model_id"] = m.Weights.Sha256,
        ["model_folder"] = JsonResult.Full(folder),
        ["parameters"] = m.Weights.Parameters,
        // registered: a new registry entry; already_registered: the registry had this model; not_registered: REG-E-CONFLICT
        ["registration"] = registered is null ? "not_registered" : isNew ? "registered" : "already_registered",
        ["registration_rule"] = registered is null ? ModelRegistry.ConflictRule : null,
        ["registration_reason"] = notRegistered,
        ["run_id"] = runId,
        ["run_manifest"] = JsonResult.Full(runManifest),
        ["steps"] = m.Training.Steps,
        // the loss is a statistic of the private rows under DP: withheld
        ["final_loss"] = m.Privacy is null ? JsonResult.Number(m.Training.FinalLoss) : null,
        ["dp"] = m.Privacy is not null,
        ["seed"] = m.Seed,
        ["resumed_from_step"] = resumedFrom,
        ["train_rows"] = m.Data.TrainRows,
        ["audit_seq"] = receipt.Seq,
        ["audit_database"] = store.AuditDatabase,
    };

    private static void WriteRecord(TextWriter output, Governance.CrucibleHome home, ModelRecord? registered, bool isNew, string runManifest)
    {
        output.WriteLine(registered is null
            ? $"registry:   not registered (the registry's model with these weights has another manifest: {ModelRegistry.ConflictRule}); use the folder by path"
            : string.Create(CultureInfo.InvariantCulture,
                $"registry:   {(isNew ? "registered" : "already registered")} as {registered.Id} ({registered.Status.WireName()}) in {home.ModelsFolder}"));
        output.WriteLine($"manifest:   {runManifest} (check: crucible verify-run {runManifest})");
    }

    // the run manifest's config: the generator options as in the model manifest, and how the data was read
    private static System.Text.Json.Nodes.JsonObject RunConfig(DiffusionGeneratorOptions options, InputKind input, string? columns, string? trainEnd) => new()
    {
        ["command"] = "train",
        ["generator"] = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(options, DiffusionJson.Options)),
        ["input"] = input.ToString(),
        ["columns"] = columns,
        ["train_end"] = trainEnd,
    };

    /// <summary>
    /// <paramref name="options"/> with <see cref="DiffusionGeneratorOptions.Strata"/> set to the labels of dimension
    /// <paramref name="dimension"/> of the segments file <paramref name="segments"/> (<c>default</c>: the built-in map).
    /// </summary>
    internal static DiffusionGeneratorOptions Stratified(DiffusionGeneratorOptions options, string? segments, string? dimension)
    {
        if (dimension is null)
        {
            return segments is null ? options : throw new InvalidInputException("OPT-E", "--segments is used by --stratify DIMENSION; give both");
        }

        var map = segments is null or "default" ? SegmentMap.Default : SegmentMap.Load(segments);
        try
        {
            return options with { Strata = map.Dimension(dimension).ToDictionary() };
        }
        catch (InvalidInputException e) when (segments is not null and not "default" && e.Location is null)
        {
            throw new InvalidInputException(e.Rule, e.Message, new InputLocation(segments, 0, 0));
        }
    }

    /// <summary>
    /// <c>--kind sequence</c>: windows of the train returns, conditioned on the economic state of <c>--state</c> when
    /// given (features built by <see cref="EconomicState.Build"/> from the state and the train returns, lagged one day);
    /// the data-to-model part is <see cref="SequenceTraining.Train"/>, which the service's training jobs call too.
    /// </summary>
    private static ExitCode ExecuteSequence(ParseResult parse, Options o, TextWriter output, TextWriter result, RunStore store)
    {
        var options = LoadConfig<SequenceGeneratorOptions>(parse.GetValue(o.Config));
        if (PrivacyFlags(parse, o, options.Privacy) is { } dp) options = options.WithPrivacy(dp);
        if (parse.GetValue(o.Steps) is { } steps)
        {
            if (steps < 1) throw new InvalidInputException("OPT-E", "--steps must be at least 1");
            options = options with { Training = options.Training with { Steps = steps } };
        }

        if (parse.GetValue(o.Window) is { } window)
        {
            if (window < 2) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--window must be at least 2, got {window}"));
            options = options with { Window = window };
        }

        if (parse.GetValue(o.Seed) is { } seed) options = options with { Seed = seed };
        int every = parse.GetValue(o.CheckpointEvery);
        if (every < 1) throw new InvalidInputException("OPT-E", "--checkpoint-every must be at least 1");
        string? statePath = parse.GetValue(o.State);
        string? stateColumns = parse.GetValue(o.StateColumns);
        if (stateColumns is not null && statePath is null) throw new InvalidInputException("OPT-E", "--state-columns needs --state");
        var stateCsv = StateCsvConfig(parse, o);
        if (stateCsv is not null && statePath is null)
            throw new InvalidInputException("OPT-E", "--state-missing, --state-ffill-limit, --state-na, --state-date-format and --state-date-column say how the state file is read: they need --state");

        GuidanceCalibrationOptions? calibration = null;
        GuidanceCalibrationRule? rule = null;
        if (parse.GetValue(o.CalibrationRule) is { } ruleName)
        {
            if (parse.GetValue(o.CalibrateGuidance) is null) throw new InvalidInputException("OPT-E", "--calibration-rule needs --calibrate-guidance");
            rule = SequenceTraining.RuleOf(ruleName)
                ?? throw new InvalidInputException("OPT-E", $"--calibration-rule: unknown rule '{ruleName}' (one of {SequenceTraining.RuleNames})");
        }

        if (parse.GetValue(o.CalibrateGuidance) is { } episodeName)
        {
            if (statePath is null) throw new InvalidInputException("OPT-E", "--calibrate-guidance needs --state: only a conditional model has guidance to calibrate");
            calibration = SequenceTraining.CalibrationFor(episodeName, rule)
                ?? throw new InvalidInputException("OPT-E", $"--calibrate-guidance: unknown episode '{episodeName}' (one of {SequenceTraining.EpisodeNames})");
        }

        var (path, input, dialect, train, all, dataQuality, provenance, warnings) = ReadTrainingData(parse, o);
        SequenceState? state = null;
        string[]? names = null;
        if (statePath is not null)
        {
            state = LoadState(statePath, stateCsv);
            names = stateColumns?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names is { Length: 0 }) throw new InvalidInputException("OPT-E", "--state-columns names no feature");
        }

        var resumedFrom = new StrongBox<int?>();
        var checkpoint = Checkpoint(parse.GetValue(o.Checkpoint), every, options.Training.Steps, resumedFrom);
        SequenceTrainingResult trained;
        try
        {
            trained = TrainFlagNames.Worded(() => SequenceTraining.Train(train, all, options, state, names, calibration, provenance,
                TrainingProgressBar.ForStandardError(), checkpoint, publicStateEnd: TrainEndOf(parse.GetValue(o.TrainEnd))));
        }
        catch (InvalidInputException e) when (e.Rule == SequenceTraining.ConfigRule && e.Location is null && parse.GetValue(o.Config) is { } config)
        {
            throw new InvalidInputException(e.Rule, e.Message, new InputLocation(config, 0, 0));
        }
        catch (InvalidInputException e) when (InTheDataFile(e, path, train.Columns, warnings) is var located && located != e)
        {
            throw located;
        }

        var (generator, calibrated, fitTime) = trained;
        double seconds = fitTime.TotalSeconds;
        string folder = parse.GetValue(o.Out)!;
        generator.Save(folder);

        var m = generator.Manifest;
        var run = RunManifests.Start(store.Home, RunKind.Train, new System.Text.Json.Nodes.JsonObject
        {
            ["command"] = "train",
            ["kind"] = ModelKind.Sequence.WireName(),
            ["generator"] = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(options, DiffusionJson.Options)),
            ["input"] = input.ToString(),
            ["columns"] = parse.GetValue(o.Columns),
            ["train_end"] = parse.GetValue(o.TrainEnd),
            ["state_columns"] = stateColumns,
            ["calibrate_guidance"] = calibration?.Episode.Name,
            ["calibration_rule"] = calibration is null ? null : SequenceTraining.RuleName(calibration.Rule),
        }, options.Seed).AddInput(path);
        if (dialect is not null) run.Config["csv"] = dialect; // only when given: earlier manifests' configs stay as they were
        run.Outcome = new System.Text.Json.Nodes.JsonObject { ["data_quality"] = dataQuality };
        if (statePath is not null) run.AddInput(statePath);
        if (stateCsv is not null) run.Config["state_csv"] = stateCsv; // only when given, as "csv" for --data
        if (parse.GetValue(o.WithholdPrices)) run.Config["withhold_prices"] = true;
        // DP-SGD: the run manifest carries the model manifest's DP statement, as the tabular kind's does
        if (m.Privacy is { } privacy) run.Dp = JsonSerializer.SerializeToNode(privacy, DiffusionJson.Options) as System.Text.Json.Nodes.JsonObject;
        var (registered, isNew, runManifest, receipt, notRegistered) = Record(store, run, folder, m.Weights.Sha256, RunAudit.Trained(folder, m, run));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model:      {folder} (id {m.Weights.Sha256[..16]}…, {m.Weights.Parameters} parameters, sequence W = {m.Config.Window})"));
        WriteRecord(output, store.Home, registered, isNew, runManifest);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train rows: {m.Data.TrainRows} × {m.Columns.Count} series{(m.Data.TrainStart is null ? "" : $" ({m.Data.TrainStart} .. {m.Data.TrainEnd})")}, {m.Windows.Count} windows"));
        if (m.Conditions.Names.Count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"conditions: {string.Join(", ", m.Conditions.Names)} ({m.Windows.Conditioned} windows with a known state, lagged one day)"));
        }

        if (m.StateScale is { } scaled)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"state scale: each window's returns divided by its {scaled.Feature} / {scaled.Reference:G6} ({scaled.ScaledWindows} windows); generated windows multiplied back by the requested level's"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training:   {m.Training.Steps} steps in {seconds:F1} s, {(m.Privacy is null ? string.Create(CultureInfo.InvariantCulture, $"final loss {m.Training.FinalLoss:F4}") : "loss withheld (a statistic of the private windows)")}"));
        if (m.Privacy is { } dpStatement) output.WriteLine($"privacy:    {dpStatement.Statement}");
        if (calibrated is { } c)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"guidance:   w = {c.Chosen:G4} calibrated on {c.Episode} (state of {c.StateDate}; ES {string.Join(", ", c.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ExpectedShortfall:F4} at w = {p.Guidance:G4}")))}; realised {c.RealisedEs:F4} over {c.RealisedWindows} windows{(c.WithinTolerance ? "" : string.Create(CultureInfo.InvariantCulture, $"; none within {c.Tolerance:P0}, the closest taken"))}{(c.GuidanceMinNoise > 0 ? string.Create(CultureInfo.InvariantCulture, $"; guidance at σ ≥ {c.GuidanceMinNoise:G4}") : "")}{(c.RegimeFactor is { } k ? string.Create(CultureInfo.InvariantCulture, $"; regime guidance a = {c.RegimeGuidance:G4}, k = {k:F4}, ES {c.RegimeExpectedShortfall:F4}") : "")})"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit:      entry {receipt.Seq} in {store.AuditPlace}"));
        if (parse.GetValue(o.Json))
            JsonResult.Write(result, TrainResult(folder, (m.Kind, m.Weights, m.Training, m.Data, m.Privacy, m.Config.Seed), registered, isNew, notRegistered, run.RunId, runManifest, resumedFrom.Value, receipt, store));
        return ExitCode.Success;
    }

    /// <summary>
    /// A <c>crucible train</c> run (either kind) trained again from its recorded data, state file and the final options
    /// this command records: training is deterministic, so the weights must come out byte-identical, and the model
    /// manifest too but for its <c>library_version</c> (taken from the recorded manifest, like a scenario's metadata).
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "train" || c["generator"] is not System.Text.Json.Nodes.JsonObject generator)
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible train runs again; run {m.RunId} was not recorded by crucible train", where);
        // either kind's privacy section has the same shape: a secure-mode run is refused before its data is read
        if (generator["privacy"] is System.Text.Json.Nodes.JsonObject privacy && privacy["secure_mode"]?.GetValue<bool>() == true)
            throw new InvalidInputException(RunRecompute.Rule, SecureModeRecomputeMessage(m.RunId), where);
        string data = full(m.Inputs[0].Path);
        var input = Enum.Parse<InputKind>(RunRecompute.Value<string>(c, "input") ?? nameof(InputKind.Prices));
        var (train, all, _, provenance) = ReadTraining(data, input, RunRecompute.Value<string>(c, "columns"), TrainEndOf(RunRecompute.Value<string>(c, "train_end")), c["csv"],
            withholdPrices: c["withhold_prices"]?.GetValue<bool>() == true);
        byte[] weights;
        Func<string, byte[]> manifest; // the model manifest's bytes under a given library version
        if (ModelKinds.FromWireName(RunRecompute.Value<string>(c, "kind")) == ModelKind.Sequence) // a tabular run's config has no kind
        {
            var options = generator.Deserialize<SequenceGeneratorOptions>(DiffusionJson.Options)!;
            var state = m.Inputs.Count > 1 ? LoadState(full(m.Inputs[1].Path), c["state_csv"]) : null;
            var names = RunRecompute.Value<string>(c, "state_columns")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var calibration = RunRecompute.Value<string>(c, "calibrate_guidance") is { } episode
                ? SequenceTraining.CalibrationFor(episode, RunRecompute.Value<string>(c, "calibration_rule") is { } rule ? SequenceTraining.RuleOf(rule) : null)
                : null;
            var trained = TrainFlagNames.Worded(() => SequenceTraining.Train(train, all, options, state, names, calibration, provenance,
                publicStateEnd: TrainEndOf(RunRecompute.Value<string>(c, "train_end")))).Generator;
            weights = trained.WeightsBytes();
            manifest = version => DiffusionJson.FileBytes(trained.Manifest with { LibraryVersion = version });
        }
        else
        {
            var options = generator.Deserialize<DiffusionGeneratorOptions>(DiffusionJson.Options)!;
            var trained = new DiffusionGenerator(options).Fit(train, provenance);
            weights = trained.WeightsBytes();
            manifest = version => DiffusionJson.FileBytes(trained.Manifest with { LibraryVersion = version });
        }

        return RunRecompute.ModelOutputs(m, full, weights, manifest, where);
    }

    // the state file read as state_csv (the flags' run config) says; a refusal's advice (a header without its date column,
    // dates in another format, a missing value) names the flags
    private static SequenceState LoadState(string path, System.Text.Json.Nodes.JsonNode? stateCsv) =>
        TrainFlagNames.Worded(() => SequenceState.Load(path, StateMissingOf(stateCsv), StateDateFormatOf(stateCsv), StateDateColumnOf(stateCsv)));

    // --state-missing, --state-ffill-limit, --state-na, --state-date-format and --state-date-column as given (null when none
    // is: the run manifest then records nothing)
    private static System.Text.Json.Nodes.JsonObject? StateCsvConfig(ParseResult parse, Options o)
    {
        var config = StateMissingConfig(parse, o);
        if (parse.GetValue(o.StateDateFormat) is { } format) (config ??= [])["date_format"] = format;
        if (parse.GetValue(o.StateDateColumn) is { } column) (config ??= [])["date_column"] = column;
        return config;
    }

    /// <summary>The state file's date format a run recorded as <c>state_csv.date_format</c> (null when none: yyyy-MM-dd).</summary>
    internal static string? StateDateFormatOf(System.Text.Json.Nodes.JsonNode? config) =>
        config is System.Text.Json.Nodes.JsonObject c ? c["date_format"]?.GetValue<string>() : null;

    /// <summary>The state file's date column a run recorded as <c>state_csv.date_column</c> (null when none: Date).</summary>
    internal static string? StateDateColumnOf(System.Text.Json.Nodes.JsonNode? config) =>
        config is System.Text.Json.Nodes.JsonObject c ? c["date_column"]?.GetValue<string>() : null;

    private static System.Text.Json.Nodes.JsonObject? StateMissingConfig(ParseResult parse, Options o)
    {
        if (parse.GetValue(o.StateFfillLimit) is not null && parse.GetValue(o.StateMissing) != "ffill")
            throw new InvalidInputException("OPT-E", "--state-ffill-limit applies to --state-missing ffill");
        // the library's rule, as a training job's state_na: a blank token (--state-na "") is refused, not recorded and ignored
        if (StateMissingValues.TokensProblem(parse.GetResult(o.StateNa) is null ? null : parse.GetValue(o.StateNa)) is { } naProblem)
            throw new InvalidInputException("OPT-E", $"--state-na {naProblem}");
        return StateMissingValues.RunConfig(parse.GetValue(o.StateMissing), parse.GetValue(o.StateFfillLimit), parse.GetValue(o.StateNa));
    }

    /// <summary>The state file's missing-value policy a run recorded as <c>state_csv</c> (the default when none), checked naming its flags.</summary>
    internal static StateMissingValues StateMissingOf(System.Text.Json.Nodes.JsonNode? config)
    {
        if (config is not System.Text.Json.Nodes.JsonObject c) return StateMissingValues.Default;
        var missing = new StateMissingValues
        {
            Policy = c["missing"]?.GetValue<string>() == "ffill" ? Crucible.Data.Csv.MissingValuePolicy.ForwardFill : Crucible.Data.Csv.MissingValuePolicy.Reject,
            ForwardFillLimit = c["ffill_limit"]?.GetValue<int>() ?? StateMissingValues.Default.ForwardFillLimit,
            Tokens = c["na"] is System.Text.Json.Nodes.JsonArray na ? [.. na.Select(x => x!.GetValue<string>())] : [],
        };
        missing.Validate(property => property switch
        {
            nameof(StateMissingValues.Policy) => "--state-missing",
            nameof(StateMissingValues.ForwardFillLimit) => "--state-ffill-limit",
            nameof(StateMissingValues.Tokens) => "--state-na",
            _ => null,
        });
        return missing;
    }

    /// <summary>Why a secure-mode DP-SGD training run is not done again: it is not reproducible by design.</summary>
    internal static string SecureModeRecomputeMessage(string runId) =>
        $"run {runId} trained with DP-SGD in secure mode (privacy.secure_mode): its noise and batches came from the OS CSPRNG and were never "
        + "recorded, so the model is not reproducible by design and cannot be recomputed; verify-run without --recompute still checks its files and audit entry";

    /// <summary>The generator options from a JSON file (any subset of keys), or the defaults.</summary>
    internal static DiffusionGeneratorOptions LoadConfig(string? path)
    {
        var options = LoadConfig<DiffusionGeneratorOptions>(path);
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("config", e.Message, new InputLocation(path!, 0, 0));
        }

        return options;
    }

    /// <summary>Options of type <typeparamref name="T"/> from a JSON file (any subset of keys), or the defaults; validated by the generator.</summary>
    private static T LoadConfig<T>(string? path)
        where T : new()
    {
        if (path is null) return new T();
        Crucible.Data.IO.InputFile.ThrowIfFolder(path, "OPT-E-FILE");
        if (!File.Exists(path)) throw new InvalidInputException("OPT-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        string text = "";
        try
        {
            text = Crucible.Data.IO.InputFile.ReadAllText(path);
            return JsonSerializer.Deserialize<T>(text, DiffusionJson.Options)
                ?? throw new InvalidInputException("config", "the config is null", new InputLocation(path, 1, 1));
        }
        catch (JsonException e)
        {
            throw Crucible.Data.IO.JsonNonFinite.Refusal(text, e, path) ?? new InvalidInputException("config", e.Message, new InputLocation(path, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }
    }

    // --data as both kinds read it, once the model folder is checked against the inputs: the path, --input, the CSV
    // dialect flags (null when none is given), the train and all log returns, the run manifest's data_quality record and
    // the provenance
    private static (string Path, InputKind Input, System.Text.Json.Nodes.JsonObject? Dialect, TimeSeriesFrame Train, TimeSeriesFrame All,
        System.Text.Json.Nodes.JsonObject DataQuality, DataProvenance Provenance, IReadOnlyList<DataIssue> Warnings) ReadTrainingData(ParseResult parse, Options o)
    {
        string path = parse.GetValue(o.Data)!;
        CheckModelFolder(parse.GetValue(o.Out)!, path, parse.GetValue(o.State), parse.GetValue(o.Config));
        CheckCheckpoint(parse.GetValue(o.Checkpoint), parse.GetValue(o.Out)!);
        var input = InputKindOf(parse.GetValue(o.Input));
        var dialect = o.Dialect.ToConfig(parse);
        var (train, all, quality, provenance) = ReadTraining(path, input, parse.GetValue(o.Columns), TrainEndOf(parse.GetValue(o.TrainEnd)), dialect, parse.GetValue(o.WithholdPrices));
        // a file in percent read as log or simple returns trains without an error on values 100 times too large: said
        // on stderr (stdout's summary stays as it is), as data check says it
        foreach (var w in quality.Warnings.Where(w => w.Rule == CsvRules.PercentWarning)) Console.Error.WriteLine(w.ToString());
        return (path, input, dialect, train, all, DataQuality(quality), provenance, quality.Warnings);
    }

    /// <summary>
    /// The names of <c>--columns</c> (train and data check): null when it is not given; refused when it names no column
    /// (<c>OPT-E</c>) or one twice (<c>COLUMN-E</c>).
    /// </summary>
    internal static string[]? ColumnNames(string? columns)
    {
        if (columns is null) return null;
        var names = columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new InvalidInputException("OPT-E", "--columns names no series");
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidInputException("COLUMN-E", $"column '{twice.Key}' is named twice");
        return names;
    }

    /// <summary>
    /// The generator's refusal of a column of the training data (a constant column: <c>TRANSFORM-E</c> from the tabular
    /// model's quantile transform, <c>constant-series</c> from the sequence model) located in <paramref name="path"/>: at
    /// the column's header cell where the reader warned it constant (<see cref="CsvRules.ConstantWarning"/>), else the
    /// file (constant in the train rows only); the message names the column. RV20 on rows that are not daily
    /// (<see cref="EconomicState.RowFrequencyRule"/>) is located at the file's date header cell (1:1): its dates are at
    /// fault. Other exceptions are returned as they are.
    /// </summary>
    internal static InvalidInputException InTheDataFile(InvalidInputException e, string path, IReadOnlyList<string> columns, IReadOnlyList<DataIssue> warnings)
    {
        // RV20 on rows that are not daily: the return file's dates are at fault, located at its date column's header cell
        if (e.Location is null && e.Rule == EconomicState.RowFrequencyRule) return new InvalidInputException(e.Rule, e.Message, new InputLocation(path, 1, 1));
        if (e.Location is not null || e.Rule is not (CsvRules.Transform or "constant-series")) return e;
        var column = columns.FirstOrDefault(c => e.Message.Contains($"'{c}'", StringComparison.Ordinal));
        if (column is null) return new InvalidInputException(e.Rule, e.Message, new InputLocation(path, 0, 0));
        var header = warnings.FirstOrDefault(w => w.Rule == CsvRules.ConstantWarning && w.ColumnName == column);
        return new InvalidInputException(e.Rule, e.Message,
            header is null ? new InputLocation(path, 0, 0, column) : new InputLocation(path, header.Line, header.Column, column));
    }

    /// <summary>
    /// Reads <paramref name="path"/>, keeps <paramref name="columns"/> (all when null), converts to log returns and
    /// splits at <paramref name="trainEnd"/>: (train rows dated ≤ trainEnd, all rows, the data-quality report, the
    /// provenance of the data file for the model manifest: its name, SHA-256 and input kind and, for prices, each series'
    /// last train price, <c>data.last_prices</c>, the default start of <c>generate --prices</c>, unless
    /// <paramref name="withholdPrices"/>). Without a date every row is train.
    /// </summary>
    internal static (TimeSeriesFrame Train, TimeSeriesFrame All, DataQualityReport Report, DataProvenance Provenance) ReadTraining(
        string path, InputKind input, string? columns, DateOnly? trainEnd, System.Text.Json.Nodes.JsonNode? dialect = null, bool withholdPrices = false)
    {
        var (train, all, report, read) = ReadFile(path, input, columns, trainEnd, dialect);
        return (train, all, report, DataProvenance.ForTraining(path, input, read, train.RowCount, withholdPrices));
    }

    // (train log returns, all log returns, the report, the frame as read: prices when the input is prices)
    private static (TimeSeriesFrame Train, TimeSeriesFrame All, DataQualityReport Report, TimeSeriesFrame Read) ReadFile(string path, InputKind input, string? columns, DateOnly? trainEnd,
        System.Text.Json.Nodes.JsonNode? dialect)
    {
        Crucible.Data.IO.InputFile.ThrowIfFolder(path, "CSV-E-FILE");
        if (!File.Exists(path)) throw new InvalidInputException("CSV-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        // the report crucible data check --input … prints for this file (the same options), kept for the run manifest;
        // with --columns only those columns are read: another column (an ISIN, a rating) is not parsed
        var names = ColumnNames(columns);
        // a series named like a scenario file's own column is refused at its header cell (the fit refuses it too, naming no file)
        var (frame, report) = CsvSeriesReader.Read(path, CsvDialectOptions.Apply(dialect,
            new CsvReadOptions { Input = input, Columns = names, ReservedColumns = Diffusion.Scenarios.ScenarioCsv.ReservedColumns }));
        if (report.FirstErrorAsException() is { } error) throw error;

        if (KeptMissing(path, frame, report) is { } kept) throw kept;
        var returns = frame.ToLogReturns(input);
        if (trainEnd is not { } end) return (returns, returns, report, frame);
        int last = returns.IndexAtOrBefore(end);
        if (last < 1)
        {
            throw new InvalidInputException("OPT-E-TRAINEND",
                string.Create(CultureInfo.InvariantCulture, $"--train-end {end:yyyy-MM-dd} leaves {last + 1} rows of returns to train on; at least 2 are needed"), new InputLocation(path, 0, 0));
        }

        return (returns.Head(last + 1), returns, report, frame); // the train rows read in place, not copied: all stays held
    }

    // a value --missing keep kept as NaN in a series train reads: the fit would refuse it without a location ("training
    // value at row 0 … is not finite", a row of returns): refused here at its cell (the reader's warning for it), or at
    // the file when the report's bounded warnings no longer hold it, saying what a series that starts later needs
    private static InvalidInputException? KeptMissing(string path, TimeSeriesFrame frame, DataQualityReport report)
    {
        var missing = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < frame.RowCount; r++)
        {
            for (int c = 0; c < frame.ColumnCount; c++)
            {
                if (double.IsNaN(frame[r, c])) missing[frame.Columns[c]] = missing.GetValueOrDefault(frame.Columns[c]) + 1;
            }
        }

        if (missing.Count == 0) return null;
        var first = report.Warnings.Where(w => w.Rule == CsvRules.MissingWarning && missing.ContainsKey(w.ColumnName)).MinBy(w => w.Line);
        string counts = string.Join(", ", missing.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value}")));
        return new InvalidInputException(CsvRules.Missing,
            $"missing value kept as NaN (--missing keep), but train needs every value of the series it trains on (missing: {counts}): forward-fill gaps with "
            + "--missing ffill (at most --ffill-limit rows in a row), drop the rows before the first value of a series that starts later than the others, "
            + "or leave the series out with --columns",
            first is null ? new InputLocation(path, 0, 0) : new InputLocation(path, first.Line, first.Column, first.ColumnName));
    }

    /// <summary>
    /// The run manifest's record of the ingest of the data file (RELIABILITY.md MRM-8, CSV-7): the data-quality report's
    /// counts and the SHA-256 of its JSON (the UTF-8 bytes <c>crucible data check --data FILE --input … --json</c> prints,
    /// without the final newline). A report whose counts do not reconcile (rows_in = rows_accepted + rows_rejected) is a
    /// bug of the reader, and stops the run (exit 1) before anything is recorded.
    /// </summary>
    internal static System.Text.Json.Nodes.JsonObject DataQuality(DataQualityReport report)
    {
        if (!report.Reconciles)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"the data-quality report of {report.File} does not reconcile: rows_in {report.RowsIn} != accepted {report.Accepted} + rejected {report.Rejected} (errors {report.RejectedByError}, repairs {report.DroppedByRepair})"));
        }

        return new System.Text.Json.Nodes.JsonObject
        {
            ["file"] = report.File,
            ["rows_in"] = report.RowsIn,
            ["rows_accepted"] = report.Accepted,
            ["rows_rejected"] = report.Rejected,
            ["rejected_by_error"] = report.RejectedByError,
            ["dropped_by_repair"] = report.DroppedByRepair,
            ["blank_lines"] = report.BlankLines,
            ["repairs"] = new System.Text.Json.Nodes.JsonObject(report.Repairs.Select(r => KeyValuePair.Create(r.Repair, (System.Text.Json.Nodes.JsonNode?)r.Count))),
            ["warnings"] = report.Warnings.Count,
            ["report_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(report.ToJson()))),
        };
    }

    internal static InputKind InputKindOf(string? value) => value switch
    {
        "returns" => InputKind.SimpleReturns,
        "log-returns" => InputKind.LogReturns,
        "percent" => InputKind.PercentReturns,
        _ => InputKind.Prices,
    };

    internal static DateOnly? TrainEndOf(string? value)
    {
        if (value is null) return null;
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new InvalidInputException("OPT-E-DATE", $"--train-end takes a date YYYY-MM-DD, got '{value}'");
    }
}
