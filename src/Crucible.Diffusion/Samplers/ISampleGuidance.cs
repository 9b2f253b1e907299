namespace Crucible.Diffusion.Samplers;

/// <summary>
/// Steers the reverse process by editing the denoiser's estimate x̂_0 at every step (set it in
/// <see cref="SamplerOptions.Guidance"/>). The sampler calls <see cref="Guide"/> right after the network call and its
/// conversion to (x̂_0, ε̂), then recomputes the noise estimate from the edited x̂_0,
/// ε̂ = (x_t − √ᾱ_t x̂_0) / (√(1 − ᾱ_t) σ), so DDPM's posterior mean, DDIM's update and DPM-Solver++ all see one
/// consistent guided estimate. This is the "backward" guidance of Bansal et al. 2023 (Universal Guidance for Diffusion
/// Models, §3.2): a change Δ of x̂_0 becomes ε̂ − √(ᾱ_t / (1 − ᾱ_t)) Δ / σ. Since the last step of every sampler
/// returns its x̂_0, the final samples are the guided estimate of the last step.
/// </summary>
/// <remarks>
/// Implementations are called concurrently from the sampler's chunks (one call per chunk and step) and must be
/// thread-safe and deterministic: the same input gives the same output whatever the thread, so sampling stays
/// reproducible per seed and independent of the thread count.
/// </remarks>
public interface ISampleGuidance
{
    /// <summary>
    /// Adjusts, in place, the x̂_0 estimates of <paramref name="count"/> samples (model space, row-major,
    /// count × Π SampleShape) at reverse step <paramref name="step"/> (a training timestep, T−1 … 0) whose cumulative
    /// signal fraction is <paramref name="alphaBar"/> = ᾱ_t.
    /// </summary>
    void Guide(Span<float> x0, int count, int step, double alphaBar);
}
