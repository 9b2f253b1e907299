using Crucible.Tensors;
using Crucible.Diffusion.Privacy;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

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

/// <summary>
/// A trainable denoiser with dropout: when <see cref="HasDropout"/> is true the trainer runs each step's forward pass
/// through <see cref="Forward(Tensor, ReadOnlySpan{int}, Philox)"/> with that step's mask generator (a split of its seeded
/// dropout stream), so the masks, and the run, are reproducible. The trainer asks for this capability; any denoiser
/// that implements it gets seeded dropout without a change to the trainer.
/// </summary>
public interface IDropoutDenoiser : ITrainableDenoiser
{
    /// <summary>True when the network drops activations in training (p &gt; 0); false: the trainer draws no masks.</summary>
    bool HasDropout { get; }

    /// <summary>
    /// <see cref="ITrainableDenoiser.Forward(Tensor, ReadOnlySpan{int})"/> with the dropout masks drawn from
    /// <paramref name="dropout"/> (in training mode; in evaluation mode the plain forward, drawing nothing).
    /// </summary>
    Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, Philox dropout);
}

/// <summary>
/// A trainable denoiser whose forward pass can record its linear layers on a <see cref="LinearTape"/>, so that DP-SGD
/// clips per-example gradients in one batched pass (<see cref="GhostClipping"/>) instead of a microbatch-of-one loop.
/// Every parameter that gets a gradient must belong to a recorded layer, used once (GhostClipping's conditions).
/// </summary>
public interface IGhostClippingDenoiser : ITrainableDenoiser
{
    /// <summary>
    /// The network output for x (B, SampleShape…) at B 0-based timesteps with every linear layer recorded on
    /// <paramref name="tape"/>, and, with <paramref name="dropout"/>, the masks of
    /// <see cref="IDropoutDenoiser.Forward(Tensor, ReadOnlySpan{int}, Philox)"/>.
    /// </summary>
    Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, LinearTape tape, Philox? dropout);
}
