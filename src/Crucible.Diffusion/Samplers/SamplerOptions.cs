namespace Crucible.Diffusion.Samplers;

/// <summary>The reverse-process sampler.</summary>
public enum SamplerKind
{
    /// <summary>DDPM ancestral sampling over all T steps (Ho et al. 2020, Algorithm 2).</summary>
    Ddpm,

    /// <summary>DDIM over K of the T steps (Song et al. 2021, eq. 12); η = 0 is deterministic given x_T.</summary>
    Ddim,

    /// <summary>
    /// DPM-Solver++(2M) over K of the T steps (Lu et al. 2022): DDIM (η = 0) with a second-order multistep
    /// correction from the previous step's x̂_0, at the same cost of one network call per step. Deterministic given x_T.
    /// </summary>
    DpmSolver2M,
}

/// <summary>The variance σ_t² of DDPM's reverse step.</summary>
public enum DdpmVariance
{
    /// <summary>σ_t² = β_t (Ho et al.'s first choice, used by the seed pipeline).</summary>
    Beta,

    /// <summary>σ_t² = β̃_t, the posterior variance (Ho et al.'s second choice).</summary>
    Posterior,
}

/// <summary>Which K of the T timesteps DDIM visits.</summary>
public enum DdimSpacing
{
    /// <summary>Evenly spaced in t: the peer's <c>torch.linspace(T−1, 0, K).long()</c> (Song et al.'s "uniform" τ).</summary>
    Linear,

    /// <summary>
    /// Evenly spaced in the angle φ = arccos √ᾱ_t (x_t = cos φ · x_0 + sin φ · ε). A DDIM step from φ to φ' shrinks a
    /// unit-variance Gaussian component by cos(φ − φ'), so equal angle steps minimise the total shrinkage of K steps.
    /// </summary>
    UniformAngle,
}

/// <summary>
/// The stable names of <see cref="SamplerKind"/> and <see cref="DdimSpacing"/>: <c>generate --sampler</c> and
/// <c>--spacing</c>, the scenario request's <c>sampler</c> and <c>spacing</c>, and the scenario metadata's <c>sampler</c>.
/// </summary>
public static class SamplerNames
{
    private static readonly Crucible.Data.WireNames<SamplerKind> Kinds = new(
        (SamplerKind.Ddim, "ddim"),
        (SamplerKind.Ddpm, "ddpm"),
        (SamplerKind.DpmSolver2M, "dpm2m"));

    private static readonly Crucible.Data.WireNames<DdimSpacing> Spacings = new(
        (DdimSpacing.Linear, "linear"),
        (DdimSpacing.UniformAngle, "angle"));

    /// <summary>The samplers' names, DDIM's first: <c>ddim</c>, <c>ddpm</c>, <c>dpm2m</c>.</summary>
    public static IReadOnlyList<string> SamplerChoices { get; } = [.. Kinds.All.Select(WireName)];

    /// <summary>The spacings' names: <c>linear</c>, <c>angle</c>.</summary>
    public static IReadOnlyList<string> SpacingChoices { get; } = [.. Spacings.All.Select(WireName)];

    /// <summary>The name of <paramref name="kind"/>, e.g. <c>dpm2m</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined sampler.</exception>
    public static string WireName(this SamplerKind kind) =>
        Kinds.NameOf(kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler");

    /// <summary>The name of <paramref name="spacing"/>: <c>linear</c> or <c>angle</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="spacing"/> is not a defined spacing.</exception>
    public static string WireName(this DdimSpacing spacing) =>
        Spacings.NameOf(spacing) ?? throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "unknown spacing");

    /// <summary>The sampler named <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static SamplerKind? SamplerFromWireName(string? name) => Kinds.ValueOf(name);

    /// <summary>The spacing named <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static DdimSpacing? SpacingFromWireName(string? name) => Spacings.ValueOf(name);
}

/// <summary>How to sample: sampler, step count, stochasticity and batching.</summary>
/// <param name="Kind">DDPM or DDIM.</param>
/// <param name="Steps">DDIM's or DPM-Solver's K (ignored by DDPM, which uses all T; <see cref="ForDdpm"/> sets it to T, so that a record of the options says what ran).</param>
/// <param name="Eta">DDIM's η in [0, 1]: 0 deterministic, 1 DDPM-like.</param>
/// <param name="Variance">DDPM's σ_t² choice.</param>
/// <param name="ChunkSize">
/// Samples per chunk. Chunk c draws from its own Philox stream c, so output is independent of the thread count;
/// changing the chunk size changes the draws.
/// </param>
/// <param name="MaxDegreeOfParallelism">Threads used across chunks (−1: all cores).</param>
/// <param name="Spacing">The choice of K timesteps of DDIM and DPM-Solver (ignored by DDPM).</param>
/// <param name="Guidance">
/// Optional steering of x̂_0 at every step (constraint guidance, see <see cref="ISampleGuidance"/>); null samples the
/// model as it is, bit for bit the same as without the option.
/// </param>
/// <param name="Cancellation">
/// Stops the sampling: every chunk checks it once per step, before the network call, and the sampler then throws
/// <see cref="OperationCanceledException"/>, so a cancelled request frees its threads within one step. Not part of the
/// draw: a token that is never cancelled gives exactly the samples of <c>default</c>.
/// </param>
public sealed record SamplerOptions(
    SamplerKind Kind = SamplerKind.Ddim,
    int Steps = 50,
    double Eta = 0.0,
    DdpmVariance Variance = DdpmVariance.Beta,
    int ChunkSize = 1024,
    int MaxDegreeOfParallelism = -1,
    DdimSpacing Spacing = DdimSpacing.Linear,
    ISampleGuidance? Guidance = null,
    CancellationToken Cancellation = default)
{
    /// <summary>The step count of the default sampler, DDIM-50 (issue #6's fast sampler).</summary>
    public const int DefaultSteps = 50;

    /// <summary>
    /// The default sampler for a model of <paramref name="diffusionSteps"/> = T steps: DDIM (η = 0) with
    /// min(<see cref="DefaultSteps"/>, T) steps, so that a model trained with fewer than 50 diffusion steps samples
    /// with every one of its steps rather than failing. For T ≥ 50 this is <c>new SamplerOptions()</c>.
    /// </summary>
    public static SamplerOptions DefaultFor(int diffusionSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(diffusionSteps);
        return new SamplerOptions(Steps: Math.Min(DefaultSteps, diffusionSteps));
    }

    /// <summary>
    /// DDPM for a model of <paramref name="diffusionSteps"/> = T steps, with <see cref="Steps"/> = T: the sampler ignores
    /// <see cref="Steps"/> and runs all T, and a record of these options (a run manifest's <c>sampling_steps</c>) then
    /// says so rather than the unused default K = <see cref="DefaultSteps"/>. The same draws as <c>new SamplerOptions(SamplerKind.Ddpm)</c>.
    /// </summary>
    public static SamplerOptions ForDdpm(int diffusionSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(diffusionSteps);
        return new SamplerOptions(SamplerKind.Ddpm, diffusionSteps);
    }

    /// <summary>
    /// The one rule for a step count given with the DDPM sampler, shared by <c>crucible generate</c> and the service:
    /// DDPM runs every one of the model's <paramref name="diffusionSteps"/> = T steps, so a requested count K ≠ T is
    /// refused rather than ignored (K = T says what DDPM does and is accepted, as is no count). Returns null when
    /// <paramref name="samplingSteps"/> is acceptable, else why not, for the caller to put after the field's name;
    /// <paramref name="samplerName"/> is how the caller's users name the sampler choice (<c>--sampler</c>, <c>sampler</c>).
    /// </summary>
    public static string? DdpmStepsProblem(int? samplingSteps, int diffusionSteps, string samplerName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(diffusionSteps);
        return samplingSteps is { } k && k != diffusionSteps
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"applies to {samplerName} ddim and dpm2m; {samplerName} ddpm always runs all {diffusionSteps} of the model's diffusion steps (got {k})")
            : null;
    }

    /// <summary>
    /// Whether this is deterministic DDIM (η = 0) over the <paramref name="steps"/>-step grid of <paramref name="spacing"/>:
    /// the sampler a distilled or calibrated tabular network is made for.
    /// </summary>
    public bool IsDeterministicDdim(int steps, DdimSpacing spacing) =>
        Kind == SamplerKind.Ddim && Eta == 0 && Steps == steps && Spacing == spacing;
}
