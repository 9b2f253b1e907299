using Crucible.Tensors;
using Crucible.Tensors.Nn;

namespace Crucible.Diffusion;

/// <summary>
/// A denoiser the trainer can fit: the network <see cref="Module"/> (whose parameters are optimised and whose state
/// dict is the saved weights) and a differentiable forward pass. Like <see cref="IDenoiser"/> it knows nothing of
/// noise schedules: it maps (x_t, t) to the objective's prediction.
/// </summary>
public interface ITrainableDenoiser : IDenoiser
{
    /// <summary>The network; its <see cref="Module.StateDict"/> names are the names of the saved tensors.</summary>
    Module Network { get; }

    /// <summary>
    /// The network output for a batch, recorded for autograd: <paramref name="x"/> is (B, SampleShape…) and
    /// <paramref name="timesteps"/> holds B 0-based timesteps; returns a tensor of x's shape.
    /// </summary>
    Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps);
}
