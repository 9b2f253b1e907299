using Crucible.Tensors;

namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// A denoiser that also sees conditions: ε̂(x_t, t, c) for a condition c over any subset of K features (none: the
/// unconditional ε̂(x_t, t, ∅) of the same network, as classifier-free guidance needs).
/// </summary>
public interface IConditionalDenoiser
{
    /// <summary>The shape of one sample, e.g. (D, W) for windows.</summary>
    IReadOnlyList<int> SampleShape { get; }

    /// <summary>K, the number of condition features the network knows.</summary>
    int ConditionFeatures { get; }

    /// <summary>
    /// The network output for a batch of noisy samples under per-sample conditions, or unconditionally when
    /// <paramref name="conditions"/> is null. Must be safe to call from several threads at once.
    /// </summary>
    /// <param name="x">x_t, <paramref name="batch"/> samples of <see cref="SampleShape"/>, row-major.</param>
    /// <param name="batch">The number of samples.</param>
    /// <param name="timesteps">The 0-based timestep of each sample.</param>
    /// <param name="conditions">One condition per sample (<see cref="ConditionBatch.Count"/> = batch), or null.</param>
    /// <param name="output">Receives the prediction, same layout as <paramref name="x"/>.</param>
    void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, ConditionBatch? conditions, Span<float> output);

    /// <summary>
    /// The two passes of classifier-free guidance for one batch: <see cref="Predict"/> under
    /// <paramref name="conditions"/> into <paramref name="conditional"/> and without conditions into
    /// <paramref name="unconditional"/>. A network whose passes share work may compute them together, with the same
    /// values as the two calls; by default it is the two calls.
    /// </summary>
    void PredictGuided(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, ConditionBatch conditions, Span<float> conditional, Span<float> unconditional)
    {
        Predict(x, batch, timesteps, null, unconditional);
        Predict(x, batch, timesteps, conditions, conditional);
    }
}

/// <summary>
/// A conditional denoiser the trainer can fit. Its unconditional <see cref="IDenoiser.Predict"/> and
/// <see cref="ITrainableDenoiser.Forward"/> are the conditional ones with no conditions.
/// </summary>
public interface ITrainableConditionalDenoiser : ITrainableDenoiser, IConditionalDenoiser
{
    /// <summary>
    /// The network output for a batch, recorded for autograd: x (B, SampleShape…), B timesteps, and one condition per
    /// sample or null (unconditional).
    /// </summary>
    Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, ConditionBatch? conditions);
}
