using Crucible.Diffusion.Conditioning;
using Crucible.Tensors;
using Crucible.Tensors.Nn;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents a <see cref="ConditionalTcnDenoiser"/> to the trainer and the samplers: samples of shape (D, W), t index →
/// t/T, per-sample conditions or none. Sampling passes run under no-grad in reused buffers and only read the weights,
/// so concurrent calls from sampler threads are safe; a batch at one timestep runs the timestep MLP once.
/// </summary>
public sealed class ConditionalTcnDenoiserAdapter(ConditionalTcnDenoiser network, int trainSteps) : ITrainableConditionalDenoiser
{
    private readonly InferenceWorkspace _workspace = new();

    /// <summary>The wrapped network.</summary>
    public ConditionalTcnDenoiser Tcn => network;

    /// <inheritdoc />
    public Module Network => network;

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Series, network.Config.Window];

    /// <inheritdoc />
    public int ConditionFeatures => network.Config.ConditionFeatures;

    /// <inheritdoc />
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps) => Forward(x, timesteps, null);

    /// <inheritdoc />
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, ConditionBatch? conditions)
    {
        ArgumentNullException.ThrowIfNull(x);
        var t = new float[timesteps.Length];
        for (int i = 0; i < t.Length; i++) t[i] = (float)timesteps[i] / trainSteps;
        return network.Forward(x, t, conditions);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output) =>
        Predict(x, batch, timesteps, null, output);

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, ConditionBatch? conditions, Span<float> output) =>
        _workspace.Run(x, [batch, network.Config.Series, network.Config.Window], timesteps, trainSteps, output,
            (input, shared, times) => shared is { } t ? network.Forward(input, [t], conditions) : network.Forward(input, times, conditions));

    /// <inheritdoc />
    /// <remarks>One <see cref="ConditionalTcnDenoiser.ForwardGuided"/>: the two passes share their common prefix.</remarks>
    public void PredictGuided(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, ConditionBatch conditions, Span<float> conditional, Span<float> unconditional) =>
        _workspace.Run(x, [batch, network.Config.Series, network.Config.Window], timesteps, trainSteps, conditional, unconditional,
            (input, shared, times) => shared is { } t ? network.ForwardGuided(input, [t], conditions) : network.ForwardGuided(input, times, conditions));
}
