using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Crucible.Cli.Progress;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible train --data FILE [--columns A,B,…] [--input prices|returns|log-returns|percent] [--kind tabular|sequence]
/// [--window W] [--state FILE [--state-columns X,Y,…]] [--train-end DATE] [--steps N] [--seed S] [--config FILE] [--checkpoint FILE [--checkpoint-every N]] [--home DIR] --out MODEL</c>:
/// fits a generator on the log returns of the rows dated up to DATE, writes the model folder and appends
/// <c>run.completed</c> to the audit log in the home folder.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The options of one <c>train</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "The CSV of prices or returns (first column a date)", Required = true };

        public readonly Option<string> Columns = new("--columns") { Description = "The series to model, comma-separated (default: all)" };

        public readonly Option<string> Input = new("--input")
        {
            Description = "What the values are: prices, returns (simple, as fractions), log-returns, or percent (simple returns in %)",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<string> Kind = new("--kind")
        {
            Description = "The generator: tabular (rows) or sequence (windows of W days, optionally conditioned on an economic state)",
            DefaultValueFactory = _ => "tabular",
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

        public readonly Option<string> Out = new("--out") { Description = "The model folder to write", Required = true };

        public readonly Option<string> Home = HomeOption.Create();
    }

    /// <summary>The <c>train</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Input.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        var command = new Command("train", "Fit a generator on historical data and write the model folder (weights.safetensors + manifest.json)")
        {
            o.Data, o.Columns, o.Input, o.Kind, o.Window, o.State, o.StateColumns, o.TrainEnd, o.Steps, o.Seed, o.Config, o.Checkpoint, o.CheckpointEvery, o.Out, o.Home,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Trains and saves; writes a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        var home = HomeOption.Resolve(parse, o.Home);
        string kind = parse.GetValue(o.Kind) ?? "tabular";
        if (kind == SequenceGenerator.KindName) return ExecuteSequence(parse, o, output, home);
        if (kind != "tabular") throw new InvalidInputException("OPT-E-KIND", $"--kind {kind} is not a generator kind; use --kind tabular or --kind sequence");
        foreach (var (name, given) in new[] { ("--window", parse.GetValue(o.Window) is not null), ("--state", parse.GetValue(o.State) is not null), ("--state-columns", parse.GetValue(o.StateColumns) is not null) })
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
        int every = parse.GetValue(o.CheckpointEvery);
        if (every < 1) throw new InvalidInputException("OPT-E", "--checkpoint-every must be at least 1");

        string path = parse.GetValue(o.Data)!;
        var input = InputKindOf(parse.GetValue(o.Input));
        var (train, _) = ReadReturns(path, input, parse.GetValue(o.Columns), TrainEndOf(parse.GetValue(o.TrainEnd)));

        DiffusionGenerator generator;
        try
        {
            generator = new DiffusionGenerator(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("config", e.Message);
        }

        var checkpoint = parse.GetValue(o.Checkpoint) is { } ckpt ? new CheckpointOptions(ckpt, every) : null;
        var clock = Stopwatch.StartNew();
        generator.Fit(train, DataProvenance.FromFile(path, input), TrainingProgressBar.ForStandardError(), checkpoint);
        double seconds = clock.Elapsed.TotalSeconds;
        string folder = parse.GetValue(o.Out)!;
        generator.Save(folder);

        var m = generator.Manifest;
        var receipt = RunAudit.Append(home, AuditKind.RunCompleted, RunAudit.Trained(folder, m));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model:      {folder} (id {m.Weights.Sha256[..16]}…, {m.Weights.Parameters} parameters)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train rows: {m.Data.TrainRows} × {m.Columns.Count} series{(m.Data.TrainStart is null ? "" : $" ({m.Data.TrainStart} .. {m.Data.TrainEnd})")}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training:   {m.Training.Steps} steps in {seconds:F1} s, final loss {m.Training.FinalLoss:F4}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit:      entry {receipt.Seq} in {home.AuditDatabase}"));
        return ExitCode.Success;
    }

    /// <summary>
    /// <c>--kind sequence</c>: windows of the train returns, conditioned on the economic state of <c>--state</c> when
    /// given (features built by <see cref="EconomicState.Build"/> from the state and the train returns, lagged one day).
    /// </summary>
    private static ExitCode ExecuteSequence(ParseResult parse, Options o, TextWriter output, Governance.CrucibleHome home)
    {
        var options = LoadConfig<SequenceGeneratorOptions>(parse.GetValue(o.Config));
        if (parse.GetValue(o.Steps) is { } steps)
        {
            if (steps < 1) throw new InvalidInputException("OPT-E", "--steps must be at least 1");
            options = options with { Training = options.Training with { Steps = steps } };
        }

        if (parse.GetValue(o.Window) is { } window)
        {
            if (window < 2) throw new InvalidInputException("OPT-E", $"--window must be at least 2, got {window}");
            options = options with { Window = window };
        }

        if (parse.GetValue(o.Seed) is { } seed) options = options with { Seed = seed };
        int every = parse.GetValue(o.CheckpointEvery);
        if (every < 1) throw new InvalidInputException("OPT-E", "--checkpoint-every must be at least 1");
        string? statePath = parse.GetValue(o.State);
        string? stateColumns = parse.GetValue(o.StateColumns);
        if (stateColumns is not null && statePath is null) throw new InvalidInputException("OPT-E", "--state-columns needs --state");

        string path = parse.GetValue(o.Data)!;
        var input = InputKindOf(parse.GetValue(o.Input));
        var (train, _) = ReadReturns(path, input, parse.GetValue(o.Columns), TrainEndOf(parse.GetValue(o.TrainEnd)));
        TimeSeriesFrame? features = null;
        if (statePath is not null)
        {
            if (!File.Exists(statePath)) throw new InvalidInputException("CSV-E-FILE", $"{statePath} does not exist", new InputLocation(statePath, 0, 0));
            var state = CsvSeriesReader.Load(statePath, new CsvReadOptions { Input = InputKind.LogReturns });
            string[]? names = stateColumns?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names is { Length: 0 }) throw new InvalidInputException("OPT-E", "--state-columns names no feature");
            try
            {
                features = EconomicState.Build(state, train, names);
            }
            catch (InvalidInputException e) when (e.Location is null)
            {
                throw new InvalidInputException(e.Rule, e.Message, new InputLocation(statePath, 1, 0));
            }
        }

        SequenceGenerator generator;
        try
        {
            generator = new SequenceGenerator(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("config", e.Message, parse.GetValue(o.Config) is { } config ? new InputLocation(config, 0, 0) : null);
        }

        var checkpoint = parse.GetValue(o.Checkpoint) is { } ckpt ? new CheckpointOptions(ckpt, every) : null;
        var clock = Stopwatch.StartNew();
        generator.Fit(train, features, provenance: DataProvenance.FromFile(path, input),
            stateProvenance: statePath is null ? null : DataProvenance.FromFile(statePath, InputKind.LogReturns),
            progress: TrainingProgressBar.ForStandardError(), checkpoint: checkpoint);
        double seconds = clock.Elapsed.TotalSeconds;
        string folder = parse.GetValue(o.Out)!;
        generator.Save(folder);

        var m = generator.Manifest;
        var receipt = RunAudit.Append(home, AuditKind.RunCompleted, RunAudit.Trained(folder, m));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model:      {folder} (id {m.Weights.Sha256[..16]}…, {m.Weights.Parameters} parameters, sequence W = {m.Config.Window})"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train rows: {m.Data.TrainRows} × {m.Columns.Count} series{(m.Data.TrainStart is null ? "" : $" ({m.Data.TrainStart} .. {m.Data.TrainEnd})")}, {m.Windows.Count} windows"));
        if (m.Conditions.Names.Count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"conditions: {string.Join(", ", m.Conditions.Names)} ({m.Windows.Conditioned} windows with a known state, lagged one day)"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training:   {m.Training.Steps} steps in {seconds:F1} s, final loss {m.Training.FinalLoss:F4}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit:      entry {receipt.Seq} in {home.AuditDatabase}"));
        return ExitCode.Success;
    }

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
        if (!File.Exists(path)) throw new InvalidInputException("OPT-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), DiffusionJson.Options)
                ?? throw new InvalidInputException("config", "the config is null", new InputLocation(path, 1, 1));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("config", e.Message, new InputLocation(path, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }
    }

    /// <summary>
    /// Reads <paramref name="path"/>, keeps <paramref name="columns"/> (all when null), converts to log returns and
    /// splits at <paramref name="trainEnd"/>: (train rows dated ≤ trainEnd, all rows). Without a date every row is train.
    /// </summary>
    internal static (TimeSeriesFrame Train, TimeSeriesFrame All) ReadReturns(string path, InputKind input, string? columns, DateOnly? trainEnd)
    {
        if (!File.Exists(path)) throw new InvalidInputException("CSV-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        var frame = CsvSeriesReader.Load(path, new CsvReadOptions { Input = input });
        if (columns is not null)
        {
            var names = columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) throw new InvalidInputException("OPT-E", "--columns names no series");
            frame = frame.SelectColumns(names);
        }

        var returns = frame.ToLogReturns(input);
        if (trainEnd is not { } end) return (returns, returns);
        int last = returns.IndexAtOrBefore(end);
        if (last < 1)
        {
            throw new InvalidInputException("OPT-E-TRAINEND",
                $"--train-end {end:yyyy-MM-dd} leaves {last + 1} rows of returns to train on; at least 2 are needed", new InputLocation(path, 0, 0));
        }

        return (returns.Slice(0, last + 1), returns);
    }

    internal static InputKind InputKindOf(string? value) => value switch
    {
        "returns" => InputKind.SimpleReturns,
        "log-returns" => InputKind.LogReturns,
        "percent" => InputKind.PercentReturns,
        _ => InputKind.Prices,
    };

    private static DateOnly? TrainEndOf(string? value)
    {
        if (value is null) return null;
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new InvalidInputException("OPT-E-DATE", $"--train-end takes a date YYYY-MM-DD, got '{value}'");
    }
}
