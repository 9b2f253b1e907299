using System.Buffers;
using System.Globalization;

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
/// <para>Limited-interval guidance (after Kynkäänniemi et al. 2024, "Applying guidance in a limited interval improves
/// sample and distribution quality in diffusion models", who limit it to the middle noise levels): with a first guided
/// timestep t_g &gt; 0 the combination acts only at t ≥ t_g, and below it the output is the plain conditional model
/// (w = 1). Stress conditions widen the distribution, and for a Gaussian with conditional variance r times the
/// unconditional one the guided score −x (w/(r + σ²) − (w − 1)/(1 + σ²)) pushes outward once σ² &lt; (w − 1) r − w:
/// guidance at low noise then has no proper target. On the multi-asset panel the ES response to the condition is set
/// at high noise (bench/sequence/README.md), so guiding only there keeps it and drops the low-noise amplification.</para>
/// <para>Cost: one network pass when w = 1 or when c has no feature present (the null pass alone, whatever w), or when
/// w = 0 (the null pass alone); two passes otherwise, through <see cref="IConditionalDenoiser.PredictGuided"/>, which
/// lets a network share what the two have in common (the conditional TCN: its layers before the first attention
/// block). The combination is computed in float per element, so the output is a function of the inputs only
/// (deterministic on any thread count).</para>
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
    /// <param name="guidedFrom">t_g, the first timestep at which guidance acts (0: every step); below it the output is the
    /// plain conditional model (see remarks).</param>
    public ClassifierFreeGuidance(IConditionalDenoiser inner, ReadOnlySpan<float> condition, double scale, int guidedFrom = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(guidedFrom);
        ArgumentNullException.ThrowIfNull(inner);
        if (condition.Length != inner.ConditionFeatures)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the condition has {condition.Length} features, the network {inner.ConditionFeatures}"), nameof(condition));
        if (!(double.IsFinite(scale) && scale >= 0)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "the guidance scale must be finite and ≥ 0");
        foreach (float v in condition)
        {
            if (float.IsInfinity(v)) throw new ArgumentException("a condition value is infinite", nameof(condition));
        }

        _inner = inner;
        _condition = condition.ToArray();
        _conditional = _condition.Any(v => !float.IsNaN(v));
        Scale = scale;
        GuidedFrom = guidedFrom;
    }

    /// <summary>w.</summary>
    public double Scale { get; }

    /// <summary>t_g: guidance acts at timesteps t ≥ t_g; below, the plain conditional model.</summary>
    public int GuidedFrom { get; }

    /// <summary>The network passes per guided prediction: 1 or 2 (1 at timesteps below <see cref="GuidedFrom"/>).</summary>
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
        bool anyGuided = false;
        foreach (int t in timesteps) anyGuided |= t >= GuidedFrom;
        if (Scale == 1 || !anyGuided)
        {
            _inner.Predict(x, batch, timesteps, conditions, output);
            return;
        }

        int n = batch;
        foreach (int s in SampleShape) n *= s;
        var pooled = ArrayPool<float>.Shared.Rent(n);
        try
        {
            var unconditional = pooled.AsSpan(0, n);
            _inner.PredictGuided(x, batch, timesteps, conditions, output, unconditional);
            float w = (float)Scale;
            int size = n / batch;
            for (int b = 0; b < batch; b++)
            {
                if (timesteps[timesteps.Length == 1 ? 0 : b] < GuidedFrom) continue;       // the plain conditional output
                for (int i = b * size; i < (b + 1) * size; i++) output[i] = unconditional[i] + (w * (output[i] - unconditional[i]));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pooled);
        }
    }
}
