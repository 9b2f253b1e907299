using Crucible.Tensors;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents an <see cref="MlpDenoiser"/> to the samplers: t index → t/T, forward under no-grad. Forward passes
/// only read the weights, so concurrent calls from sampler threads are safe.
/// </summary>
public sealed class MlpDenoiserAdapter(MlpDenoiser network, int trainSteps) : IDenoiser
{
    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Features];

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
    {
        int d = network.Config.Features;
        var t = new float[batch];
        for (int i = 0; i < batch; i++) t[i] = (float)timesteps[i] / trainSteps;
        using (GradMode.NoGrad())
        {
            var y = network.Forward(new Tensor(x[..(batch * d)].ToArray(), [batch, d]), t);
            y.Data.AsSpan().CopyTo(output);
        }
    }
}
