using Crucible.Tensors;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// Presents a <see cref="TcnDenoiser"/> to the samplers: samples of shape (D, W), t index → t/T, forward under
/// no-grad. Forward passes only read the weights, so concurrent calls from sampler threads are safe.
/// </summary>
public sealed class TcnDenoiserAdapter(TcnDenoiser network, int trainSteps) : IDenoiser
{
    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => [network.Config.Series, network.Config.Window];

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
    {
        int d = network.Config.Series, w = network.Config.Window;
        var t = new float[batch];
        for (int i = 0; i < batch; i++) t[i] = (float)timesteps[i] / trainSteps;
        using (GradMode.NoGrad())
        {
            var y = network.Forward(new Tensor(x[..(batch * d * w)].ToArray(), [batch, d, w]), t);
            y.Data.AsSpan().CopyTo(output);
        }
    }
}
