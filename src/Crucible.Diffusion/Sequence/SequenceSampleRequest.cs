using System.Globalization;
using Crucible.Diffusion.Samplers;

namespace Crucible.Diffusion.Sequence;

/// <summary>What a <see cref="SequenceGenerator.Generate"/> call asks for.</summary>
/// <param name="Conditions">Raw feature values by name (any subset of the model's condition features; names match
/// case-insensitively); null or empty: unconditional.</param>
/// <param name="GuidanceScale">The classifier-free guidance weight w (see <see cref="Conditioning.ClassifierFreeGuidance"/>:
/// 0 unconditional, 1 plain conditional, &gt; 1 amplified); null: the model's default,
/// <see cref="SequenceGeneratorOptions.GuidanceScale"/>.</param>
/// <param name="GuidanceMinNoise">σ_g of limited-interval guidance: guidance acts only at steps whose noise level is at
/// least σ_g (0: every step); null: the model's default, <see cref="SequenceGeneratorOptions.GuidanceMinNoise"/>.</param>
/// <param name="RegimeGuidance">a of regime guidance (<see cref="Sequence.RegimeGuidance"/>: the windows of a
/// conditional request scaled by exp(a · (ℓ_c − ℓ_∅)); 0 none); null: the model's default,
/// <see cref="SequenceGeneratorOptions.RegimeGuidance"/>.</param>
/// <param name="Sampler">Sampler, steps, threads and any constraint guidance (default DDIM, 50 steps, η = 0).</param>
/// <param name="Stress">A stress specification (<see cref="Conditioning.StressSpec"/> grammar), or null. The generator
/// resolves it against the model (<see cref="SequenceGenerator.PlanStress"/>): the conditions it sets join
/// <paramref name="Conditions"/> (a feature set by both is refused), its moves guide the sampler (so
/// <see cref="SamplerOptions.Guidance"/> must then be null), and the metadata records the text, the constraints and
/// their violation rate.</param>
public sealed record SequenceSampleRequest(
    IReadOnlyDictionary<string, double>? Conditions = null,
    double? GuidanceScale = null,
    SamplerOptions? Sampler = null,
    string? Stress = null,
    double? GuidanceMinNoise = null,
    double? RegimeGuidance = null)
{
    /// <summary>
    /// Refuses a <see cref="GuidanceScale"/>, <see cref="GuidanceMinNoise"/> or <see cref="RegimeGuidance"/> that is
    /// negative or not finite (rule <c>OPT-E</c>), naming the option (<see cref="SequenceOptionException.Option"/>): what
    /// <see cref="SequenceGenerator"/> checks first of every request, and what a shell may call before anything else to
    /// refuse the value at its option.
    /// </summary>
    /// <exception cref="SequenceOptionException">The first such value, which the library names <c>guidance</c>,
    /// <c>guidance_min_noise</c> or <c>regime_guidance</c> (<see cref="SequenceOptionException.Worded"/>: by a shell's names).</exception>
    public void CheckOptions()
    {
        Refuse(GuidanceScale, SequenceOption.Guidance, "guidance", "the classifier-free guidance weight w");
        Refuse(GuidanceMinNoise, SequenceOption.GuidanceMinNoise, "guidance_min_noise", "the guidance's minimum noise level");
        Refuse(RegimeGuidance, SequenceOption.RegimeGuidance, "regime_guidance", "the regime guidance a");
    }

    private static void Refuse(double? value, SequenceOption option, string name, string what)
    {
        if (value is not { } v || (double.IsFinite(v) && v >= 0)) return;
        string Refusal(string named) => string.Create(CultureInfo.InvariantCulture, $"{named} takes {what}, finite and ≥ 0; got {v}");
        throw new SequenceOptionException("OPT-E", Refusal(name), n => Refusal(n.Name(option)), option: option);
    }
}
