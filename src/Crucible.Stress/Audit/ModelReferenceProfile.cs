using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;

namespace Crucible.Stress.Audit;

/// <summary>
/// The reference risk profile for a request's conditions from the conditional generator itself: <see cref="Samples"/>
/// windows drawn at those conditions with plain conditional sampling (classifier-free guidance scale 1, no stress
/// specification, no objective guidance), whose <see cref="RiskProfile"/> is what the model says such conditions look like.
/// A request whose output (amplified guidance, stress moves, hand-picked conditions) sits far from it is flagged by
/// <see cref="ScenarioSetAudit.Compare"/> as implausibly benign or out of support. Deterministic per <see cref="Seed"/>.
/// </summary>
public sealed class ModelReferenceProfile : IReferenceProfileSource
{
    private readonly SequenceGenerator _model;
    private readonly SamplerOptions _sampler;

    /// <summary>References from <paramref name="model"/>: <paramref name="samples"/> windows per request, drawn with <paramref name="sampler"/> (default DDIM-50, or every step of a model with fewer: <see cref="SamplerOptions.DefaultFor"/>).</summary>
    public ModelReferenceProfile(SequenceGenerator model, int samples = 2000, ulong seed = 0x5EF, SamplerOptions? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 2);
        if (sampler?.Guidance is not null) throw new ArgumentException("the reference is drawn without guidance", nameof(sampler));
        (_model, Samples, Seed, _sampler) = (model, samples, seed, sampler ?? SamplerOptions.DefaultFor(model.Schedule.Steps));
    }

    /// <summary>Windows drawn per reference.</summary>
    public int Samples { get; }

    /// <summary>The seed of the reference draws.</summary>
    public ulong Seed { get; }

    /// <inheritdoc/>
    /// <exception cref="Crucible.Data.InvalidInputException">A condition the model does not know.</exception>
    public RiskProfile For(IReadOnlyDictionary<string, double> conditions, Portfolio portfolio, int window, double alpha)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentNullException.ThrowIfNull(portfolio);
        // w = 1, the plain conditional model; none without a condition (for a model without condition inputs, or no
        // condition named: guidance would change nothing, SequenceGenerator.GuidanceWithoutConditionsRule)
        var request = new SequenceSampleRequest(conditions.Count == 0 ? null : conditions,
            GuidanceScale: _model.ConditionSpace.Names.Count == 0 || conditions.Count == 0 ? null : 1.0, Sampler: _sampler);
        var windows = new FittedSequenceDiffusion(_model, request).Sample(Samples, window, Seed);
        return RiskProfile.Of(windows.ToSeriesSet(), portfolio, alpha);
    }
}
