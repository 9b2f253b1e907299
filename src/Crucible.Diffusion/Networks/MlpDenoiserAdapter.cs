using Crucible.Diffusion.Privacy;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents an <see cref="MlpDenoiser"/> to the samplers and the trainer: t index → t/T. Sampling forward passes run
/// under no-grad and only read the weights, so concurrent calls from sampler threads are safe. Intermediate buffers
/// are reused from call to call, and a batch at one timestep (every sampler step) runs the timestep MLP once.
/// </summary>
public sealed class MlpDenoiserAdapter(MlpDenoiser network, int trainSteps) : IDropoutDenoiser, IGhostClippingDenoiser
{
    private readonly InferenceWorkspace _workspace = new();

    /// <summary>The wrapped network.</summary>
    public MlpDenoiser Mlp => network;

    /// <inheritdoc />
    public Module Network => network;

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Features];

    /// <inheritdoc />
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(x);
        return network.Forward(x, TimeFraction(timesteps));
    }

    /// <inheritdoc />
    public bool HasDropout => network.Config.Dropout > 0f;

    /// <summary>
    /// <see cref="Forward(Tensor, ReadOnlySpan{int})"/> with the network's dropout masks drawn from
    /// <paramref name="dropout"/> (<see cref="MlpDenoiser.Forward(Tensor, ReadOnlySpan{float}, Philox)"/>: only in training mode).
    /// </summary>
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, Philox dropout)
    {
        ArgumentNullException.ThrowIfNull(x);
        return network.Forward(x, TimeFraction(timesteps), dropout);
    }

    /// <summary>
    /// The forward pass with its layers recorded on <paramref name="tape"/>
    /// (<see cref="MlpDenoiser.Forward(Tensor, ReadOnlySpan{float}, LinearTape, Philox?)"/>), with dropout as in
    /// <see cref="Forward(Tensor, ReadOnlySpan{int}, Philox)"/> when <paramref name="dropout"/> is given.
    /// </summary>
    public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, LinearTape tape, Philox? dropout)
    {
        ArgumentNullException.ThrowIfNull(x);
        return network.Forward(x, TimeFraction(timesteps), tape, dropout);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output) =>
        _workspace.Run(x, [batch, network.Config.Features], timesteps, trainSteps, output,
            (input, shared, times) => shared is { } t ? network.Forward(input, t) : network.Forward(input, times));

    private float[] TimeFraction(ReadOnlySpan<int> timesteps)
    {
        var t = new float[timesteps.Length];
        for (int i = 0; i < t.Length; i++) t[i] = (float)timesteps[i] / trainSteps;
        return t;
    }
}
