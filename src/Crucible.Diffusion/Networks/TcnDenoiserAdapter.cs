using Crucible.Tensors;
using Crucible.Tensors.Nn;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents a <see cref="TcnDenoiser"/> to the samplers and the trainer: samples of shape (D, W), t index → t/T, forward under
/// no-grad. Forward passes only read the weights, so concurrent calls from sampler threads are safe. Intermediate
/// buffers are reused from call to call, and a batch at one timestep (every sampler step) runs the timestep MLP once.
/// </summary>
public sealed class TcnDenoiserAdapter(TcnDenoiser network, int trainSteps) : ITrainableDenoiser
{
    private readonly InferenceWorkspace _workspace = new();

    /// <inheritdoc />
    public Module Network => network;

    /// <inheritdoc />
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(x);
        var t = new float[timesteps.Length];
        for (int i = 0; i < t.Length; i++) t[i] = (float)timesteps[i] / trainSteps;
        return network.Forward(x, t);
    }

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Series, network.Config.Window];

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output) =>
        _workspace.Run(x, [batch, network.Config.Series, network.Config.Window], timesteps, trainSteps, output,
            (input, shared, times) => shared is { } t ? network.Forward(input, t) : network.Forward(input, times));
}
