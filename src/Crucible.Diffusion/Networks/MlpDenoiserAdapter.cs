namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents an <see cref="MlpDenoiser"/> to the samplers: t index → t/T, forward under no-grad. Forward passes
/// only read the weights, so concurrent calls from sampler threads are safe. Intermediate buffers are reused from
/// call to call, and a batch at one timestep (every sampler step) runs the timestep MLP once.
/// </summary>
public sealed class MlpDenoiserAdapter(MlpDenoiser network, int trainSteps) : IDenoiser
{
    private readonly InferenceWorkspace _workspace = new();

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Features];

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output) =>
        _workspace.Run(x, [batch, network.Config.Features], timesteps, trainSteps, output,
            (input, shared, times) => shared is { } t ? network.Forward(input, t) : network.Forward(input, times));
}
