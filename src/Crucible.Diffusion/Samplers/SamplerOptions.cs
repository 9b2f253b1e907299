namespace Crucible.Diffusion.Samplers;

/// <summary>The reverse-process sampler.</summary>
public enum SamplerKind
{
    /// <summary>DDPM ancestral sampling over all T steps (Ho et al. 2020, Algorithm 2).</summary>
    Ddpm,

    /// <summary>DDIM over K of the T steps (Song et al. 2021, eq. 12); η = 0 is deterministic given x_T.</summary>
    Ddim,
}

/// <summary>The variance σ_t² of DDPM's reverse step.</summary>
public enum DdpmVariance
{
    /// <summary>σ_t² = β_t (Ho et al.'s first choice, used by the seed pipeline).</summary>
    Beta,

    /// <summary>σ_t² = β̃_t, the posterior variance (Ho et al.'s second choice).</summary>
    Posterior,
}

/// <summary>How to sample: sampler, step count, stochasticity and batching.</summary>
/// <param name="Kind">DDPM or DDIM.</param>
/// <param name="Steps">DDIM's K (ignored by DDPM, which uses all T).</param>
/// <param name="Eta">DDIM's η: 0 deterministic, 1 DDPM-like.</param>
/// <param name="Variance">DDPM's σ_t² choice.</param>
/// <param name="ChunkSize">
/// Samples per chunk. Chunk c draws from its own Philox stream c, so output is independent of the thread count;
/// changing the chunk size changes the draws.
/// </param>
/// <param name="MaxDegreeOfParallelism">Threads used across chunks (−1: all cores).</param>
public sealed record SamplerOptions(
    SamplerKind Kind = SamplerKind.Ddim,
    int Steps = 50,
    double Eta = 0.0,
    DdpmVariance Variance = DdpmVariance.Beta,
    int ChunkSize = 1024,
    int MaxDegreeOfParallelism = -1);
