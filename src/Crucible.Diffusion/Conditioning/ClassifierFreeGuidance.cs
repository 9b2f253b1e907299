namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// Classifier-free guidance (Ho &amp; Salimans 2022, "Classifier-Free Diffusion Guidance", eq. 6) as a plain
/// <see cref="IDenoiser"/> for the samplers: one condition c for every sample and
/// <code>
/// ε̃(x_t, t) = ε̂(x_t, t, ∅) + w · (ε̂(x_t, t, c) − ε̂(x_t, t, ∅))
/// </code>
/// </summary>
/// <remarks>
/// <para>Convention for w: w = 0 is the unconditional model, w = 1 the plain conditional model (no guidance), w &gt; 1
/// extrapolates away from the unconditional prediction (sharper, less diverse samples). Ho &amp; Salimans write
/// (1 + w') ε_c − w' ε_∅, i.e. their w' is our w − 1.</para>
/// <para>The combination is applied to the network output whatever the objective: ε, x_0 and v are each affine in the
/// other two for a fixed x_t and t, so guiding the output is the same as guiding ε̂.</para>
/// <para>Cost: one network pass when w = 1 or when c has no feature present (the null pass alone, whatever w), or when
/// w = 0 (the null pass alone); two passes otherwise. The combination is computed in float per element, so the output
/// is a function of the inputs only (deterministic on any thread count).</para>
/// </remarks>
public sealed class ClassifierFreeGuidance : IDenoiser
{
    private readonly IConditionalDenoiser _inner;
    private readonly float[] _condition;
    private readonly bool _conditional;

    /// <summary>Guides <paramref name="inner"/> toward <paramref name="condition"/> with scale <paramref name="scale"/>.</summary>
    /// <param name="inner">The conditional network.</param>
    /// <param name="condition">K standardised feature values; NaN marks a feature that is not conditioned on.</param>
    /// <param name="scale">w ≥ 0 (see remarks).</param>
    public ClassifierFreeGuidance(IConditionalDenoiser inner, ReadOnlySpan<float> condition, double scale)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (condition.Length != inner.ConditionFeatures)
            throw new ArgumentException($"the condition has {condition.Length} features, the network {inner.ConditionFeatures}", nameof(condition));
        if (!(double.IsFinite(scale) && scale >= 0)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "the guidance scale must be finite and ≥ 0");
        foreach (float v in condition)
        {
            if (float.IsInfinity(v)) throw new ArgumentException("a condition value is infinite", nameof(condition));
        }

        _inner = inner;
        _condition = condition.ToArray();
        _conditional = _condition.Any(v => !float.IsNaN(v));
        Scale = scale;
    }

    /// <summary>w.</summary>
    public double Scale { get; }

    /// <summary>The network passes per prediction: 1 or 2.</summary>
    public int PassesPerStep => _conditional && Scale != 0 && Scale != 1 ? 2 : 1;

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => _inner.SampleShape;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
    {
        if (!_conditional || Scale == 0)
        {
            _inner.Predict(x, batch, timesteps, null, output);
            return;
        }

        var conditions = ConditionBatch.Repeat(_condition, batch);
        if (Scale == 1)
        {
            _inner.Predict(x, batch, timesteps, conditions, output);
            return;
        }

        int n = batch;
        foreach (int s in SampleShape) n *= s;
        var unconditional = new float[n];
        _inner.Predict(x, batch, timesteps, null, unconditional);
        _inner.Predict(x, batch, timesteps, conditions, output);
        float w = (float)Scale;
        for (int i = 0; i < n; i++) output[i] = unconditional[i] + (w * (output[i] - unconditional[i]));
    }
}
