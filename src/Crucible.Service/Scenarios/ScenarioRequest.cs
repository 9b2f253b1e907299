using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crucible.Data;
using Crucible.Diffusion;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The body of <c>POST /v1/scenarios</c> (snake_case JSON). Only <see cref="Model"/> and <see cref="Count"/> are
/// required; the rest default as in <c>crucible generate</c>. <see cref="Conditions"/>, <see cref="Guidance"/> and
/// <see cref="Stress"/> are for conditional sequence models: they are validated here, and a tabular
/// (unconditional) model given any of them answers 422.
/// </summary>
public sealed record ScenarioRequest
{
    /// <summary>The model id (SHA-256 of its weights, 64 lower-case hex digits) in the home's registry.</summary>
    public string? Model { get; init; }

    /// <summary>The number of scenarios.</summary>
    public int? Count { get; init; }

    /// <summary>The sampling seed (default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary><c>ddim</c> (default), <c>ddpm</c> or <c>dpm2m</c>.</summary>
    public string Sampler { get; init; } = "ddim";

    /// <summary>Reverse steps K of ddim and dpm2m (default min(50, T), as <c>crucible generate</c>; ddpm always takes all T).</summary>
    public int? SamplingSteps { get; init; }

    /// <summary>DDIM's η in [0, 1] (default 0).</summary>
    public double Eta { get; init; }

    /// <summary>Which K timesteps DDIM and dpm2m visit: <c>linear</c> (default) or <c>angle</c>; with ddpm, which visits
    /// every step, one sent (<see cref="SpacingSent"/>) is refused, as <c>crucible generate</c> refuses <c>--spacing</c>.</summary>
    public string Spacing
    {
        get;
        init
        {
            field = value;
            SpacingSent = true;
        }
    } = "linear"; // the initializer sets the field, not through init: the default is no choice

    /// <summary>Whether the body named <see cref="Spacing"/> (a default is not a choice); not a member of the body.</summary>
    [JsonIgnore]
    public bool SpacingSent { get; private init; }

    /// <summary>Classifier-free guidance weight (conditional models only; default: the model's <c>guidance_scale</c>).</summary>
    public double? Guidance { get; init; }

    /// <summary>σ_g of limited-interval guidance: guide only at steps whose noise level is at least this (0: every step;
    /// conditional models only; default: the model's <c>guidance_min_noise</c>).</summary>
    public double? GuidanceMinNoise { get; init; }

    /// <summary>Regime guidance a: every window of a conditional request scaled by exp(a(ℓ_c − ℓ_∅)) (0: none;
    /// conditional models only; default: the model's <c>regime_guidance</c>).</summary>
    public double? RegimeGuidance { get; init; }

    /// <summary>Condition values NAME → value (conditional models only).</summary>
    public Dictionary<string, double>? Conditions { get; init; }

    /// <summary>A stress specification (see the conditioning README), e.g. <c>covid-2020; vol=+1sd; SPY&lt;=-20%</c>.</summary>
    public string? Stress { get; init; }

    /// <summary>Add a price path per series after the return columns, <c>SERIES_price</c> (as <c>crucible generate --prices</c>).</summary>
    public bool Prices { get; init; }

    /// <summary>
    /// With <see cref="Prices"/>: P_0 per series, an object <c>{"SPY": 470.2, …}</c> or the string <c>"unit"</c> (every
    /// P_0 = 1); absent: the model's last train prices (<c>data.last_prices</c>), and 422 for a model without them.
    /// </summary>
    public JsonElement? StartPrices { get; init; }

    /// <summary>The strict JSON options for request bodies: unknown or duplicate members, comments, trailing commas,
    /// numbers in strings and nesting deeper than 16 are all errors (400).</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 16,
        RespectNullableAnnotations = false,
    };
}

/// <summary>A validated scenario request: the sampler options and the parsed stress specification.</summary>
/// <param name="Request">The request as sent.</param>
/// <param name="Sampler">The sampler options (checked against the model's T by <see cref="ScenarioValidation.ForModel"/>).</param>
/// <param name="Stress">The parsed stress specification, or null.</param>
public sealed record ValidScenarioRequest(ScenarioRequest Request, SamplerOptions Sampler, StressSpec? Stress);

/// <summary>The 422 rules of a scenario request: each failure names its field (snake_case) and the rule.</summary>
public static class ScenarioValidation
{
    /// <summary>The most condition names one request may carry.</summary>
    public const int MaxConditions = 64;

    /// <summary>The longest stress specification accepted, in characters.</summary>
    public const int MaxStressLength = 2000;

    /// <summary>Checks what does not depend on the model; returns the errors (empty: valid) and the parsed parts.</summary>
    public static (Dictionary<string, string[]> Errors, ValidScenarioRequest? Valid) Check(ScenarioRequest r, ServiceOptions limits)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string rule) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], rule];

        if (string.IsNullOrEmpty(r.Model)) Add("model", "required: the model id (SHA-256 of its weights)");
        else if (!Crucible.Governance.FileHash.IsSha256Hex(r.Model))
            Add("model", "a model id is 64 lower-case hex digits");
        if (r.Count is not { } count) Add("count", "required");
        else if (count < 1 || count > limits.MaxScenarios)
            Add("count", string.Create(CultureInfo.InvariantCulture, $"must be in 1..{limits.MaxScenarios}, got {count}"));
        var kind = SamplerNames.SamplerFromWireName(r.Sampler);
        if (kind is null) Add("sampler", $"must be {string.Join(", ", SamplerNames.SamplerChoices.SkipLast(1))} or {SamplerNames.SamplerChoices[^1]}, got '{r.Sampler}'");
        if (r.SamplingSteps is < 1) Add("sampling_steps", string.Create(CultureInfo.InvariantCulture, $"must be at least 1, got {r.SamplingSteps}"));
        if (!(r.Eta >= 0 && r.Eta <= 1)) Add("eta", string.Create(CultureInfo.InvariantCulture, $"must be in [0, 1], got {r.Eta}"));
        // η is DDIM's stochasticity: the other samplers would drop it silently (crucible generate refuses --eta with them)
        else if (kind is not (null or SamplerKind.Ddim) && r.Eta != 0)
            Add("eta", string.Create(CultureInfo.InvariantCulture, $"applies to sampler ddim only (DDIM's η); sampler {r.Sampler} does not use it (got {r.Eta})"));
        var spacing = SamplerNames.SpacingFromWireName(r.Spacing);
        if (spacing is null) Add("spacing", $"must be {string.Join(" or ", SamplerNames.SpacingChoices)}, got '{r.Spacing}'");
        if (r.Guidance is { } g && !(g >= 0 && g <= 100))
            Add("guidance", string.Create(CultureInfo.InvariantCulture, $"must be in [0, 100], got {g}"));
        if (r.GuidanceMinNoise is { } gm && !(gm >= 0 && gm <= 1e6))
            Add("guidance_min_noise", string.Create(CultureInfo.InvariantCulture, $"must be in [0, 1e6], got {gm}"));
        if (r.RegimeGuidance is { } a && !(a >= 0 && a <= 100))
            Add("regime_guidance", string.Create(CultureInfo.InvariantCulture, $"must be in [0, 100], got {a}"));
        if (r.Conditions is { } conditions)
        {
            if (conditions.Count > MaxConditions) Add("conditions", string.Create(CultureInfo.InvariantCulture, $"at most {MaxConditions} names"));
            foreach (var (name, value) in conditions)
            {
                if (string.IsNullOrWhiteSpace(name) || name.Length > 64) Add("conditions", "a condition name is 1 to 64 characters");
                if (!double.IsFinite(value)) Add($"conditions.{name}", "must be a finite number");
            }
        }

        if (r.StartPrices is { ValueKind: not JsonValueKind.Null } start)
        {
            if (!r.Prices) Add("start_prices", "applies with \"prices\": true only");
            else if (start.ValueKind == JsonValueKind.String ? start.GetString() != Crucible.Diffusion.Scenarios.StartPrices.UnitName : start.ValueKind != JsonValueKind.Object)
                Add("start_prices", "must be an object {\"SERIES\": price, …} or \"unit\"");
        }

        StressSpec? stress = null;
        if (r.Stress is { } text)
        {
            if (text.Length > MaxStressLength)
                Add("stress", string.Create(CultureInfo.InvariantCulture, $"at most {MaxStressLength} characters"));
            else
            {
                try
                {
                    stress = StressSpec.Parse(text, "stress");
                }
                catch (InvalidInputException e)
                {
                    Add("stress", e.ToUserMessage());
                }
            }
        }

        if (errors.Count > 0) return (errors, null);
        var sampler = kind == SamplerKind.Ddpm
            ? new SamplerOptions(SamplerKind.Ddpm)
            : new SamplerOptions(kind!.Value, r.SamplingSteps ?? SamplerOptions.DefaultSteps, r.Eta) with { Spacing = spacing!.Value }; // ForModel caps the default at T
        return (errors, new ValidScenarioRequest(r, sampler, stress));
    }

    /// <summary>
    /// Checks the request against the model: its kind, T and size caps (empty: valid); and the request with the default
    /// sampling steps (when none were given) capped at T (with ddpm: T, the steps it runs), as <c>crucible generate</c> samples (<see cref="SamplerOptions.DefaultFor"/>).
    /// </summary>
    public static (Dictionary<string, string[]> Errors, ValidScenarioRequest Resolved) ForModel(ValidScenarioRequest v, ModelKind kind, int diffusionSteps, int series, ServiceOptions limits)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Request.SamplingSteps is null && v.Sampler.Kind != SamplerKind.Ddpm)
            v = v with { Sampler = v.Sampler with { Steps = SamplerOptions.DefaultFor(diffusionSteps).Steps } };
        else if (v.Sampler.Kind == SamplerKind.Ddpm) // DDPM runs all T: the run manifest and metadata record T (SamplerOptions.ForDdpm)
            v = v with { Sampler = v.Sampler with { Steps = SamplerOptions.ForDdpm(diffusionSteps).Steps } };
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var r = v.Request;
        if (kind == ModelKind.Tabular)
        {
            const string Why = "the model is tabular (unconditional); conditions, guidance and stress need a conditional sequence model";
            if (r.Conditions is { Count: > 0 }) errors["conditions"] = [Why];
            if (r.Guidance is not null) errors["guidance"] = [Why];
            if (r.GuidanceMinNoise is not null) errors["guidance_min_noise"] = [Why];
            if (r.RegimeGuidance is not null) errors["regime_guidance"] = [Why];
            if (r.Stress is not null) errors["stress"] = [Why];
        }

        if (v.Sampler.Kind == SamplerKind.Ddpm && SamplerOptions.DdpmStepsProblem(r.SamplingSteps, diffusionSteps, "sampler") is { } ddpm)
            errors["sampling_steps"] = [ddpm];
        else if (v.Sampler.Kind != SamplerKind.Ddpm && r.SamplingSteps is { } given && given > diffusionSteps)
            errors["sampling_steps"] = [string.Create(CultureInfo.InvariantCulture, $"must be in 1..{diffusionSteps} (the model's diffusion steps), got {r.SamplingSteps}")];
        // DDPM visits every one of the T steps in order: a spacing sent with it would be dropped silently (as crucible
        // generate refuses --spacing with --sampler ddpm; the default is no choice)
        if (v.Sampler.Kind == SamplerKind.Ddpm && r.SpacingSent)
        {
            errors["spacing"] = [string.Create(CultureInfo.InvariantCulture,
                $"applies to sampler ddim and dpm2m; sampler ddpm visits every one of the model's {diffusionSteps} diffusion steps (got '{r.Spacing}')")];
        }

        long cells = (long)r.Count!.Value * series * (r.Prices ? 2 : 1); // a price column per return column
        if (cells > limits.MaxCells)
            errors["count"] = [string.Create(CultureInfo.InvariantCulture, $"{r.Count} scenarios × {series} series = {cells} values exceeds the limit of {limits.MaxCells} per request")];
        return (errors, v);
    }
}
