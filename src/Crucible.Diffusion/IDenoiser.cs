namespace Crucible.Diffusion;

/// <summary>
/// A trained network seen by the samplers: it knows nothing of schedules (diffusers' split of network and scheduler).
/// </summary>
public interface IDenoiser
{
    /// <summary>The shape of one sample, e.g. (D) for rows or (D, W) for windows.</summary>
    IReadOnlyList<int> SampleShape { get; }

    /// <summary>
    /// The network output (ε̂, x̂_0 or v̂, per the model's <see cref="Objective"/>) for a batch of noisy samples.
    /// Must be safe to call from several threads at once.
    /// </summary>
    /// <param name="x">x_t, <paramref name="batch"/> samples of <see cref="SampleShape"/>, row-major.</param>
    /// <param name="batch">The number of samples.</param>
    /// <param name="timesteps">The 0-based timestep of each sample.</param>
    /// <param name="output">Receives the prediction, same layout as <paramref name="x"/>.</param>
    void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output);
}
