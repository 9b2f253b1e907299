using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;

namespace Crucible.Service.Training;

/// <summary>
/// The body of <c>POST /v1/models</c>: what <c>crucible train</c> takes, with the data file's (and the state file's)
/// text inline. <see cref="Window"/>, <see cref="StateCsv"/>, <see cref="StateColumns"/>, <see cref="StateMissing"/>,
/// <see cref="StateFfillLimit"/>, <see cref="StateNa"/> and <see cref="CalibrateGuidance"/> are for <c>"kind": "sequence"</c> only.
/// </summary>
public sealed record TrainingRequest
{
    /// <summary>
    /// The generator, by its wire name (<see cref="ModelKinds.WireName"/>): <c>tabular</c> (default; rows) or <c>sequence</c>
    /// (windows of W days, optionally conditioned on an economic state). A string, so that another value is a 422 naming it.
    /// </summary>
    public string Kind { get; init; } = ModelKind.Tabular.WireName();

    /// <summary>The data CSV's text (a header row; a date column first; one column per series).</summary>
    public string? DataCsv { get; init; }

    /// <summary>What the values are: <c>prices</c> (default), <c>returns</c>, <c>log-returns</c> or <c>percent</c>.</summary>
    public string Input { get; init; } = "prices";

    /// <summary>The series to train on (default: all).</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>
    /// How the data CSV is read beyond its input kind, as <c>crucible train</c>'s dialect options record it in a run
    /// manifest's <c>config.csv</c> (<see cref="CsvDialect"/>): <c>delimiter</c>, <c>decimal</c>, <c>thousands</c>,
    /// <c>date_format</c>, <c>date_column</c>, <c>na</c>, <c>missing</c> (<c>reject</c> or <c>ffill</c>: a job needs every
    /// value, as <c>crucible train</c> does), <c>ffill_limit</c>, <c>domain</c>. Default: the reader's defaults.
    /// </summary>
    public JsonElement? Csv { get; init; }

    /// <summary>The last date of the train split (YYYY-MM-DD); later rows never touch training.</summary>
    public string? TrainEnd { get; init; }

    /// <summary>The generator configuration (the snake_case JSON of <c>crucible train --config</c>); default: the defaults.</summary>
    public JsonElement? Config { get; init; }

    /// <summary>Optimiser steps (overrides the config's).</summary>
    public int? Steps { get; init; }

    /// <summary>The training seed (overrides the config's).</summary>
    public ulong? Seed { get; init; }

    /// <summary>Sequence kind: the window length W in days, at least 2 (overrides the config's; default 20).</summary>
    public int? Window { get; init; }

    /// <summary>
    /// Sequence kind: the economic-state CSV's text (a date column first; e.g. FRED's VIXCLS, DFF, DGS3MO, DGS10, BAA10Y,
    /// BAMLH0A0HYM2), read as <c>crucible train --state</c> reads its file; conditions are lagged one day.
    /// </summary>
    public string? StateCsv { get; init; }

    /// <summary>Sequence kind with <see cref="StateCsv"/>: the condition features (default: the first six standard ones).</summary>
    public IReadOnlyList<string>? StateColumns { get; init; }

    /// <summary>
    /// Sequence kind with <see cref="StateCsv"/>: set the model's default guidance by the calibration rule on this training
    /// episode (<c>gfc-2008</c>, <c>covid-2020</c> or <c>rates-2022</c>), as <c>crucible train --calibrate-guidance</c>.
    /// </summary>
    public string? CalibrateGuidance { get; init; }

    /// <summary>
    /// With <see cref="CalibrateGuidance"/>: <c>regime</c> (default), <c>smallest-within</c> or <c>closest</c>, as
    /// <c>crucible train --calibration-rule</c>.
    /// </summary>
    public string? CalibrationRule { get; init; }

    /// <summary>
    /// Sequence kind with <see cref="StateCsv"/>: the state file's missing values, <c>reject</c> (default: every one refused)
    /// or <c>ffill</c> (a series' previous value carried forward over at most <see cref="StateFfillLimit"/> rows in a row;
    /// counted in the model manifest's <c>state_data.missing</c>), as <c>crucible train --state-missing</c>.
    /// </summary>
    public string? StateMissing { get; init; }

    /// <summary>
    /// With <see cref="StateMissing"/> <c>ffill</c>: the most consecutive missing rows of a state series to fill (≥ 0; default
    /// <see cref="StateMissingValues.Default"/>'s), as <c>crucible train --state-ffill-limit</c>.
    /// </summary>
    public int? StateFfillLimit { get; init; }

    /// <summary>
    /// Sequence kind with <see cref="StateCsv"/>: tokens that mean "missing" in the state file besides the empty field (e.g.
    /// <c>["."]</c> for FRED's downloads), as <c>crucible train --state-na</c>.
    /// </summary>
    public IReadOnlyList<string>? StateNa { get; init; }

    /// <summary>
    /// Sequence kind with <see cref="StateCsv"/>: the state file's exact .NET date format, e.g. <c>MM/dd/yyyy</c> (default
    /// <c>yyyy-MM-dd</c>), as <c>crucible train --state-date-format</c>.
    /// </summary>
    public string? StateDateFormat { get; init; }

    /// <summary>
    /// Sequence kind with <see cref="StateCsv"/>: the state file's date column header, wherever it stands, e.g.
    /// <c>observation_date</c> (default <c>Date</c>, any case), as <c>crucible train --state-date-column</c>.
    /// </summary>
    public string? StateDateColumn { get; init; }

    /// <summary>
    /// Record no last train prices in the model manifest (<c>data.last_prices</c>, the default start of <c>"prices": true</c>),
    /// as <c>crucible train --withhold-prices</c>: scenarios with prices then need <c>start_prices</c>. Default false.
    /// </summary>
    public bool WithholdPrices { get; init; }
}

/// <summary>A checked training request: <see cref="Tabular"/> or <see cref="Sequence"/> is set, by its kind.</summary>
/// <param name="Request">The request as sent.</param>
/// <param name="Input">The input kind.</param>
/// <param name="TrainEnd">The split date, or null.</param>
public sealed record ValidTrainingRequest(TrainingRequest Request, InputKind Input, DateOnly? TrainEnd)
{
    /// <summary>The generator kind: <see cref="ModelKind.Sequence"/> when <see cref="Sequence"/> is set, else <see cref="ModelKind.Tabular"/>.</summary>
    public ModelKind Kind => Sequence is null ? ModelKind.Tabular : ModelKind.Sequence;

    /// <summary>The tabular generator's options (kind tabular).</summary>
    public DiffusionGeneratorOptions? Tabular { get; init; }

    /// <summary>The sequence generator's options (kind sequence).</summary>
    public SequenceGeneratorOptions? Sequence { get; init; }

    /// <summary>The guidance calibration to run after the fit (kind sequence with <c>calibrate_guidance</c>), or null.</summary>
    public GuidanceCalibrationOptions? Calibration { get; init; }

    /// <summary>How the state file's missing values are read (kind sequence; <see cref="StateMissingValues.Default"/> when the request says nothing).</summary>
    public StateMissingValues StateMissing { get; init; } = StateMissingValues.Default;

    /// <summary>The data CSV's dialect as the request gave it (<see cref="TrainingRequest.Csv"/>), checked, or null.</summary>
    public JsonObject? Csv { get; init; }

    /// <summary>
    /// The reader's options for the data CSV: <see cref="Input"/>, the requested columns and <see cref="Csv"/>; its advice
    /// to read percent values names the request's <c>"input": "percent"</c>, not <c>crucible train --input percent</c>. A
    /// series named like a scenario file's own column is refused at its header cell (<c>data.csv:1:COL</c>, rule
    /// <c>reserved-column</c>), as <c>crucible train</c> refuses it: the fit refuses it too, naming no file.
    /// </summary>
    public CsvReadOptions DataReadOptions() =>
        CsvDialect.Apply(Csv, new CsvReadOptions
        {
            Input = Input, Columns = Request.Columns is { } columns ? [.. columns] : null, PercentInputAdvice = "\"input\": \"percent\"",
            ReservedColumns = Crucible.Diffusion.Scenarios.ScenarioCsv.ReservedColumns,
        }, member => "csv." + member);

    /// <summary>The optimiser steps the job will take (a tabular model's sampler distillation steps included).</summary>
    public int TotalSteps => Sequence?.Training.Steps ?? (Tabular!.Training.Steps + (Tabular.Distillation?.Steps ?? 0));
}

/// <summary>The 422 rules of a training request (the data and state files themselves are checked when the job reads them).</summary>
public static class TrainingValidation
{
    /// <summary>The most optimiser steps one job may take.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>
    /// The 422 message of a sequence job with both a <c>privacy</c> section and a state file that the section does not
    /// declare public (RELIABILITY.md DP-11).
    /// </summary>
    public const string SequenceDpStateRefusal =
        "cannot be combined with config.privacy unless the state is declared public data (config.privacy.public_state: true): otherwise the "
        + "conditions' standardisation, reference state and crisis archetypes would be statistics of private data outside DP-SGD's accounting "
        + "(DP-11); declare it public, or train an unconditional model";

    /// <summary>The 422 message of a sequence job under DP with a public state that asks for the guidance calibration.</summary>
    public const string SequenceDpCalibrationRefusal =
        "cannot be combined with config.privacy: the calibration reads the realised expected shortfall of the private training windows outside "
        + "DP-SGD's accounting; give the guidance with config.guidance_scale instead";

    /// <summary>The 422 message of a sequence job under DP with a public state whose features include one derived from the returns.</summary>
    public const string SequenceDpReturnFeatureRefusal =
        "under config.privacy with a public state, name state features only: RV20 is computed from the private returns (the default features include it; "
        + "e.g. [\"VIXCLS\", \"DFF\", \"TERM\", \"BAA10Y\", \"BAMLH0A0HYM2\"])";

    /// <summary>The 422 message of config.privacy.public_state without a state file, or on a tabular job.</summary>
    public const string PublicStateWithoutState =
        "config.privacy.public_state declares an economic state public: it needs kind sequence with a state_csv";

    /// <summary>Returns the errors (empty: valid) and the checked request.</summary>
    public static (Dictionary<string, string[]> Errors, ValidTrainingRequest? Valid) Check(TrainingRequest r)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(r.DataCsv)) errors["data_csv"] = ["required: the data file's text"];
        InputKind? input = r.Input switch
        {
            "prices" => InputKind.Prices,
            "returns" => InputKind.SimpleReturns,
            "log-returns" => InputKind.LogReturns,
            "percent" => InputKind.PercentReturns,
            _ => null,
        };
        if (input is null) errors["input"] = [$"must be prices, returns, log-returns or percent, got '{r.Input}'"];
        if (r.Columns is { Count: 0 }) errors["columns"] = ["names no series"];
        else if (NameListProblem(r.Columns) is { } columnsProblem) errors["columns"] = [columnsProblem];
        DateOnly? end = null;
        if (r.TrainEnd is { } text)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) end = d;
            else errors["train_end"] = [$"a date YYYY-MM-DD, got '{text}'"];
        }

        if (r.Steps is { } steps && (steps < 1 || steps > MaxSteps))
            errors["steps"] = [string.Create(CultureInfo.InvariantCulture, $"must be in 1..{MaxSteps}, got {steps}")];
        var csv = CheckCsv(r, errors);
        ValidTrainingRequest? valid = null;
        var kind = ModelKinds.FromWireName(r.Kind);
        if (kind == ModelKind.Tabular) valid = CheckTabular(r, errors, input, end);
        else if (kind == ModelKind.Sequence) valid = CheckSequence(r, errors, input, end);
        else errors["kind"] = [$"must be {ModelKinds.Choices}, got '{r.Kind}'"];
        return errors.Count > 0 ? (errors, null) : (errors, valid! with { Csv = csv });
    }

    // csv: an object of the dialect's members, read by the library's rules (as verify-run reads a run manifest's csv); a
    // job needs every value, so missing "keep" (NaN kept) is refused here, where crucible train refuses the NaNs it kept
    private static JsonObject? CheckCsv(TrainingRequest r, Dictionary<string, string[]> errors)
    {
        if (r.Csv is not { ValueKind: not JsonValueKind.Null } element) return null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors["csv"] = ["must be an object of the CSV dialect's members: " + string.Join(", ", CsvDialect.Members)];
            return null;
        }

        var csv = JsonObject.Create(element)!;
        if (csv["missing"] is JsonValue m && m.GetValueKind() == JsonValueKind.String && m.GetValue<string>() == "keep")
        {
            errors["csv"] = ["csv.missing keep would train on missing values: a training job needs every value of the series it trains on; use reject (the default) or ffill, or leave the series out with columns"];
            return null;
        }

        try
        {
            CsvDialect.Apply(csv, new CsvReadOptions(), member => "csv." + member);
        }
        catch (InvalidInputException e)
        {
            errors["csv"] = [e.Message];
            return null;
        }

        return csv;
    }

    private static ValidTrainingRequest? CheckTabular(TrainingRequest r, Dictionary<string, string[]> errors, InputKind? input, DateOnly? end)
    {
        foreach (var (field, given) in new[]
                 {
                     ("window", r.Window is not null), ("state_csv", r.StateCsv is not null), ("state_columns", r.StateColumns is not null),
                     ("state_missing", r.StateMissing is not null), ("state_ffill_limit", r.StateFfillLimit is not null), ("state_na", r.StateNa is not null),
                     ("state_date_format", r.StateDateFormat is not null), ("state_date_column", r.StateDateColumn is not null), ("calibrate_guidance", r.CalibrateGuidance is not null), ("calibration_rule", r.CalibrationRule is not null),
                 })
        {
            if (given) errors[field] = [$"applies to kind {ModelKind.Sequence.WireName()} only"];
        }

        var options = Config(r, errors, new DiffusionGeneratorOptions());
        if (options.Privacy is { PublicState: true }) errors.TryAdd("config", [PublicStateWithoutState]);
        // a config whose training section is JSON null keeps it null for Validate to name (no steps to override)
        if (r.Steps is { } s && options.Training is not null) options = options with { Training = options.Training with { Steps = s } };
        if (r.Seed is { } seed) options = options with { Seed = seed };
        Check(errors, options.Training?.Steps ?? 0, options.Validate);
        return errors.Count > 0 ? null : new ValidTrainingRequest(r, input!.Value, end) { Tabular = options };
    }

    private static ValidTrainingRequest? CheckSequence(TrainingRequest r, Dictionary<string, string[]> errors, InputKind? input, DateOnly? end)
    {
        if (r.Window is < 2) errors["window"] = [string.Create(CultureInfo.InvariantCulture, $"must be at least 2, got {r.Window}")];
        if (r.StateCsv is { Length: 0 }) errors["state_csv"] = ["is empty: leave it out for an unconditional model"];
        if (r.StateColumns is not null)
        {
            if (r.StateCsv is null) errors["state_columns"] = ["needs state_csv"];
            else if (r.StateColumns.Count == 0) errors["state_columns"] = ["names no feature"];
            else if (NameListProblem(r.StateColumns) is { } stateProblem) errors["state_columns"] = [stateProblem];
        }

        var missing = StateMissingOf(r, errors);
        GuidanceCalibrationOptions? calibration = null;
        GuidanceCalibrationRule? rule = null;
        if (r.CalibrationRule is { } ruleName)
        {
            if (r.CalibrateGuidance is null) errors["calibration_rule"] = ["needs calibrate_guidance"];
            else if (SequenceTraining.RuleOf(ruleName) is { } known) rule = known;
            else errors["calibration_rule"] = [$"unknown rule '{ruleName}' (one of {SequenceTraining.RuleNames})"];
        }

        if (r.CalibrateGuidance is { } episode)
        {
            if (r.StateCsv is null) errors["calibrate_guidance"] = ["needs state_csv: only a conditional model has guidance to calibrate"];
            else if ((calibration = SequenceTraining.CalibrationFor(episode, rule)) is null)
                errors["calibrate_guidance"] = [$"unknown episode '{episode}' (one of {SequenceTraining.EpisodeNames})"];
        }

        var options = Config(r, errors, new SequenceGeneratorOptions());
        // a privacy section trains with DP-SGD (each window one example, the guarantee for privacy.unit: DP-8), as
        // crucible train --kind sequence does; the options' own checks refuse the data-fitted preprocessing (DP-11)
        if (options.Privacy is { PublicState: false } && r.StateCsv is not null) errors["state_csv"] = [SequenceDpStateRefusal];
        if (options.Privacy is { PublicState: true })
        {
            // a public state: the conditions from the state file alone; what reads the private returns stays refused
            if (r.StateCsv is null) errors.TryAdd("config", [PublicStateWithoutState]);
            if (r.CalibrateGuidance is not null) errors["calibrate_guidance"] = [SequenceDpCalibrationRefusal];
            if ((r.StateColumns ?? EconomicState.FeatureNames).Any(EconomicState.IsReturnDerived)) errors["state_columns"] = [SequenceDpReturnFeatureRefusal];
        }

        if (r.Steps is { } s && options.Training is not null) options = options with { Training = options.Training with { Steps = s } };
        if (r.Window is { } w) options = options with { Window = w };
        if (r.Seed is { } seed) options = options with { Seed = seed };
        if (!errors.ContainsKey("window")) Check(errors, options.Training?.Steps ?? 0, options.Validate);
        return errors.Count > 0 ? null : new ValidTrainingRequest(r, input!.Value, end) { Sequence = options, Calibration = calibration, StateMissing = missing };
    }

    // state_missing, state_ffill_limit and state_na: crucible train's --state-missing, --state-ffill-limit and --state-na rules
    // (the limit only with ffill, each only with a state file), the default reading when none is given
    private static StateMissingValues StateMissingOf(TrainingRequest r, Dictionary<string, string[]> errors)
    {
        var policy = MissingValuePolicy.Reject;
        if (r.StateMissing is { } name)
        {
            if (name == "ffill") policy = MissingValuePolicy.ForwardFill;
            else if (name != "reject") errors["state_missing"] = [$"must be reject or ffill, got '{name}'"];
        }

        if (r.StateFfillLimit is { } limit)
        {
            if (r.StateMissing != "ffill") errors["state_ffill_limit"] = ["applies to state_missing ffill"];
            else if (limit < 0) errors["state_ffill_limit"] = [string.Create(CultureInfo.InvariantCulture, $"must be at least 0, got {limit}")];
        }

        if (StateMissingValues.TokensProblem(r.StateNa) is { } naProblem) errors["state_na"] = [naProblem]; // the library's rule, as --state-na
        if (r.StateDateFormat is not null && string.IsNullOrWhiteSpace(r.StateDateFormat))
            errors["state_date_format"] = ["is empty: give an exact .NET date format such as MM/dd/yyyy, or leave it out for yyyy-MM-dd"];
        if (r.StateDateColumn is not null && string.IsNullOrWhiteSpace(r.StateDateColumn))
            errors["state_date_column"] = ["is empty: give the state file's date column header, or leave it out for Date"];

        if (r.StateCsv is null)
        {
            foreach (var (field, given) in new[] { ("state_missing", r.StateMissing is not null), ("state_ffill_limit", r.StateFfillLimit is not null), ("state_na", r.StateNa is not null), ("state_date_format", r.StateDateFormat is not null), ("state_date_column", r.StateDateColumn is not null) })
            {
                if (given) errors.TryAdd(field, ["needs state_csv: it says how the state file is read"]);
            }
        }

        return r.StateMissing is null && r.StateFfillLimit is null && r.StateNa is null
            ? StateMissingValues.Default
            : new StateMissingValues { Policy = policy, ForwardFillLimit = r.StateFfillLimit ?? StateMissingValues.Default.ForwardFillLimit, Tokens = [.. r.StateNa ?? []] };
    }

    // the config as options of type T (the defaults when absent); a config that does not deserialize is a 422 naming it
    private static T Config<T>(TrainingRequest r, Dictionary<string, string[]> errors, T defaults)
        where T : class
    {
        if (r.Config is not { ValueKind: not JsonValueKind.Null } config) return defaults;
        try
        {
            return config.Deserialize<T>(DiffusionJson.Options) ?? defaults;
        }
        catch (JsonException e)
        {
            errors["config"] = [Crucible.Service.Endpoints.JsonProblem.DescribeMember(e, "config")];
            return defaults;
        }
    }

    // a list of names with a null or blank entry, or one named twice, which the job would only refuse after its 202
    private static string? NameListProblem(IReadOnlyList<string>? names)
    {
        if (names is null) return null;
        if (names.Any(string.IsNullOrWhiteSpace)) return "a name is null or blank";
        return names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice ? $"names '{twice.Key}' twice" : null;
    }

    // the steps bound and the generator's own checks, unless the config is refused already
    private static void Check(Dictionary<string, string[]> errors, int steps, Action validate)
    {
        if (steps > MaxSteps) errors["config"] = [string.Create(CultureInfo.InvariantCulture, $"training.steps must be at most {MaxSteps}")];
        if (errors.ContainsKey("config")) return;
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            errors["config"] = [e.Message];
        }
    }
}
