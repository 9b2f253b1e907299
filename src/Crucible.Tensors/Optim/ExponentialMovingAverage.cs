using System.Numerics.Tensors;

namespace Crucible.Tensors.Optim;

/// <summary>
/// An exponential moving average of parameter values (Polyak and Juditsky 1992 averaging in its exponential form,
/// as kept by diffusion trainers: Ho, Jain and Abbeel 2020 evaluate DDPM with EMA weights, decay 0.9999).
/// Each <see cref="Update"/> does, for every parameter θ and its shadow copy s (initialised to θ):
/// <code>
/// s ← s − (1 − d)·(s − θ)   (= d·s + (1 − d)·θ, computed as a lerp)
/// </code>
/// with d = <see cref="Decay"/>, or with warm-up d = min(decay, (1 + n) / (10 + n)) where n is the number of earlier
/// updates (TensorFlow's <c>ExponentialMovingAverage(num_updates=…)</c>, used by the DDPM and latent-diffusion code),
/// so the average follows the weights closely while they move fast early in training.
/// </summary>
/// <remarks>
/// To evaluate with the averaged weights: <c>ema.Store(); ema.CopyTo(); … evaluate …; ema.Restore();</c>.
/// <see cref="Update"/> allocates nothing.
/// </remarks>
public sealed class ExponentialMovingAverage
{
    private readonly Tensor[] _parameters;
    private readonly float[][] _shadow;
    private readonly float[][] _backup;
    private bool _stored;

    /// <summary>Starts an average of <paramref name="parameters"/> at their current values.</summary>
    /// <param name="parameters">The tensors to average (usually a model's parameters).</param>
    /// <param name="decay">The decay d in [0, 1].</param>
    /// <param name="warmup">Use d = min(decay, (1 + n)/(10 + n)) for the update that follows n earlier ones.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside [0, 1].</exception>
    public ExponentialMovingAverage(IEnumerable<Tensor> parameters, double decay = 0.999, bool warmup = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(decay >= 0 && decay <= 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the decay must be in [0, 1]");
        _parameters = [.. parameters];
        _shadow = [.. _parameters.Select(p => (float[])p.Data.Clone())];
        _backup = [.. _parameters.Select(p => new float[p.Length])];
        Decay = decay;
        Warmup = warmup;
    }

    /// <summary>The decay d (the upper bound of the effective decay under warm-up).</summary>
    public double Decay { get; }

    /// <summary>Whether the decay warms up as min(decay, (1 + n)/(10 + n)).</summary>
    public bool Warmup { get; }

    /// <summary>How many times <see cref="Update"/> has run.</summary>
    public long NumUpdates { get; private set; }

    /// <summary>The averaged values, one array per parameter (read-only by convention).</summary>
    public IReadOnlyList<float[]> ShadowParameters => _shadow;

    /// <summary>The decay the next <see cref="Update"/> uses.</summary>
    public double CurrentDecay => Warmup ? Math.Min(Decay, (1.0 + NumUpdates) / (10.0 + NumUpdates)) : Decay;

    /// <summary>Moves every shadow value towards its parameter: s ← s − (1 − d)·(s − θ).</summary>
    public void Update()
    {
        float oneMinusDecay = (float)(1 - CurrentDecay);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var s = _shadow[i];
            TensorPrimitives.Lerp(s, _parameters[i].Data, oneMinusDecay, s);
        }

        NumUpdates++;
    }

    /// <summary>Copies the averaged values into the tracked parameters.</summary>
    public void CopyTo() => CopyTo(_parameters);

    /// <summary>Copies the averaged values into <paramref name="parameters"/> (same count and shapes, e.g. another model instance).</summary>
    /// <exception cref="ArgumentException">The count or a length differs.</exception>
    public void CopyTo(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var targets = parameters as IReadOnlyList<Tensor> ?? [.. parameters];
        if (targets.Count != _shadow.Length) throw new ArgumentException($"expected {_shadow.Length} parameters, got {targets.Count}", nameof(parameters));
        for (int i = 0; i < _shadow.Length; i++)
        {
            if (targets[i].Length != _shadow[i].Length) throw new ArgumentException($"parameter {i} has {targets[i].Length} values, the average has {_shadow[i].Length}", nameof(parameters));
        }

        for (int i = 0; i < _shadow.Length; i++) _shadow[i].CopyTo(targets[i].Data, 0);
    }

    /// <summary>Saves the tracked parameters' current values, to be put back by <see cref="Restore"/>.</summary>
    public void Store()
    {
        for (int i = 0; i < _parameters.Length; i++) _parameters[i].Data.CopyTo(_backup[i], 0);
        _stored = true;
    }

    /// <summary>Puts back the values saved by the last <see cref="Store"/>.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Store"/> has not been called.</exception>
    public void Restore()
    {
        if (!_stored) throw new InvalidOperationException("Restore() without a preceding Store()");
        for (int i = 0; i < _parameters.Length; i++) _backup[i].CopyTo(_parameters[i].Data, 0);
    }

    /// <summary>A deep copy of the average's state (the update count and the shadow values).</summary>
    public EmaState StateDict() => new(NumUpdates, [.. _shadow.Select(s => (float[])s.Clone())]);

    /// <summary>Replaces the average's state with a copy of <paramref name="state"/>.</summary>
    /// <exception cref="ArgumentException">The parameter count or a length differs, or the count is negative.</exception>
    public void LoadStateDict(EmaState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.NumUpdates < 0) throw new ArgumentException("negative update count", nameof(state));
        if (state.Shadow.Count != _shadow.Length) throw new ArgumentException($"state holds {state.Shadow.Count} parameters, the average has {_shadow.Length}", nameof(state));
        for (int i = 0; i < _shadow.Length; i++)
        {
            if (state.Shadow[i].Length != _shadow[i].Length) throw new ArgumentException($"shadow {i} has {state.Shadow[i].Length} values, expected {_shadow[i].Length}", nameof(state));
        }

        for (int i = 0; i < _shadow.Length; i++) state.Shadow[i].CopyTo(_shadow[i], 0);
        NumUpdates = state.NumUpdates;
    }
}
