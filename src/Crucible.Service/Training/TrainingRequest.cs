using System.Globalization;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Tabular;

namespace Crucible.Service.Training;

/// <summary>
/// The body of <c>POST /v1/models</c>: what <c>crucible train --kind tabular</c> takes, with the data file's text inline.
/// </summary>
public sealed record TrainingRequest
{
    /// <summary>The data CSV's text (a header row; a date column first; one column per series).</summary>
    public string? DataCsv { get; init; }

    /// <summary>What the values are: <c>prices</c> (default), <c>returns</c>, <c>log-returns</c> or <c>percent</c>.</summary>
    public string Input { get; init; } = "prices";

    /// <summary>The series to train on (default: all).</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>The last date of the train split (YYYY-MM-DD); later rows never touch training.</summary>
    public string? TrainEnd { get; init; }

    /// <summary>The generator configuration (the snake_case JSON of <c>crucible train --config</c>); default: the defaults.</summary>
    public JsonElement? Config { get; init; }

    /// <summary>Optimiser steps (overrides the config's).</summary>
    public int? Steps { get; init; }

    /// <summary>The training seed (overrides the config's).</summary>
    public ulong? Seed { get; init; }
}

/// <summary>A checked training request.</summary>
/// <param name="Request">The request as sent.</param>
/// <param name="Options">The generator options.</param>
/// <param name="Input">The input kind.</param>
/// <param name="TrainEnd">The split date, or null.</param>
public sealed record ValidTrainingRequest(TrainingRequest Request, DiffusionGeneratorOptions Options, InputKind Input, DateOnly? TrainEnd);

/// <summary>The 422 rules of a training request (the data file itself is checked when the job reads it).</summary>
public static class TrainingValidation
{
    /// <summary>The most optimiser steps one job may take.</summary>
    public const int MaxSteps = 100_000;

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
        DateOnly? end = null;
        if (r.TrainEnd is { } text)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) end = d;
            else errors["train_end"] = [$"a date YYYY-MM-DD, got '{text}'"];
        }

        if (r.Steps is { } steps && (steps < 1 || steps > MaxSteps))
            errors["steps"] = [string.Create(CultureInfo.InvariantCulture, $"must be in 1..{MaxSteps}, got {steps}")];
        var options = new DiffusionGeneratorOptions();
        if (r.Config is { ValueKind: not JsonValueKind.Null } config)
        {
            try
            {
                options = config.Deserialize<DiffusionGeneratorOptions>(DiffusionJson.Options) ?? options;
            }
            catch (JsonException e)
            {
                errors["config"] = [e.Message.ReplaceLineEndings(" ")];
            }
        }

        if (r.Steps is { } s) options = options with { Training = options.Training with { Steps = s } };
        if (r.Seed is { } seed) options = options with { Seed = seed };
        if (options.Training.Steps > MaxSteps) errors["config"] = [string.Create(CultureInfo.InvariantCulture, $"training.steps must be at most {MaxSteps}")];
        if (!errors.ContainsKey("config"))
        {
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                errors["config"] = [e.Message];
            }
        }

        return errors.Count > 0 ? (errors, null) : (errors, new ValidTrainingRequest(r, options, input!.Value, end));
    }
}
