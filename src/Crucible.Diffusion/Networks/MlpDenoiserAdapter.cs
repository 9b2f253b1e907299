using Crucible.Tensors;
using Crucible.Tensors.Nn;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents an <see cref="MlpDenoiser"/> to the samplers and the trainer: t index → t/T. Sampling forward passes run
/// under no-grad and only read the weights, so concurrent calls from sampler threads are safe.
/// </summary>
public sealed class MlpDenoiserAdapter(MlpDenoiser network, int trainSteps) : ITrainableDenoiser
{
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
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
    {
        int d = network.Config.Features;
        var t = TimeFraction(timesteps[..batch]);
        using (GradMode.NoGrad())
        {
            var y = network.Forward(new Tensor(x[..(batch * d)].ToArray(), [batch, d]), t);
            y.Data.AsSpan().CopyTo(output);
        }
    }

    private float[] TimeFraction(ReadOnlySpan<int> timesteps)
    {
        var t = new float[timesteps.Length];
        for (int i = 0; i < t.Length; i++) t[i] = (float)timesteps[i] / trainSteps;
        return t;
    }
}
