using System.Collections.Concurrent;
using Crucible.Tensors;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// The buffer reuse of the denoiser adapters: each <see cref="IDenoiser.Predict"/> call borrows a
/// <see cref="TensorArena"/> (one per concurrent caller), runs the network under no-grad with every intermediate
/// tensor in it, copies the output out and resets it, so a sampler's steps allocate no buffers after the first.
/// </summary>
internal sealed class InferenceWorkspace
{
    private readonly ConcurrentBag<TensorArena> _arenas = [];

    /// <summary>
    /// Runs <paramref name="forward"/> on x (copied into an arena buffer of <paramref name="shape"/>) and copies its
    /// output into <paramref name="output"/>. <paramref name="forward"/> gets the input, the shared t/T when all of
    /// <paramref name="timesteps"/> are equal (else null) and the per-sample t/T (empty when shared).
    /// </summary>
    public void Run(ReadOnlySpan<float> x, int[] shape, ReadOnlySpan<int> timesteps, int trainSteps, Span<float> output,
        Func<Tensor, float?, float[], Tensor> forward) =>
        Run(x, shape, timesteps, trainSteps, output, [], (input, shared, times) => (forward(input, shared, times), null));

    /// <summary>
    /// <see cref="Run(ReadOnlySpan{float}, int[], ReadOnlySpan{int}, int, Span{float}, Func{Tensor, float?, float[], Tensor})"/>
    /// for a forward with two outputs of x's shape, copied into <paramref name="output"/> and
    /// <paramref name="second"/> (which may be empty when the forward returns no second output).
    /// </summary>
    public void Run(ReadOnlySpan<float> x, int[] shape, ReadOnlySpan<int> timesteps, int trainSteps, Span<float> output, Span<float> second,
        Func<Tensor, float?, float[], (Tensor First, Tensor? Second)> forward)
    {
        int n = Tensor.Numel(shape), batch = shape[0];
        if (x.Length < n) throw new ArgumentException($"x holds {x.Length} values, {batch} samples need {n}", nameof(x));
        if (output.Length < n) throw new ArgumentException($"output holds {output.Length} values, {batch} samples need {n}", nameof(output));
        if (timesteps.Length < batch) throw new ArgumentException($"{timesteps.Length} timesteps for {batch} samples", nameof(timesteps));
        bool shared = true;
        for (int i = 1; i < batch; i++) shared &= timesteps[i] == timesteps[0];

        if (!_arenas.TryTake(out var arena)) arena = new TensorArena();
        try
        {
            using (arena.Use())
            using (GradMode.NoGrad())
            {
                var input = arena.Rent(n, clear: false);
                x[..n].CopyTo(input);
                float[] times = shared ? [] : arena.Rent(batch, clear: false);
                for (int i = 0; i < times.Length; i++) times[i] = (float)timesteps[i] / trainSteps;
                float? sharedTime = shared && batch > 0 ? (float)timesteps[0] / trainSteps : null;
                var (y, z) = forward(new Tensor(input, shape), sharedTime, times);
                y.Data.AsSpan(0, n).CopyTo(output);
                if (z is not null)
                {
                    if (second.Length < n) throw new ArgumentException($"the second output holds {second.Length} values, {batch} samples need {n}", nameof(second));
                    z.Data.AsSpan(0, n).CopyTo(second);
                }
            }
        }
        finally
        {
            arena.Reset();
            _arenas.Add(arena);
        }
    }
}
