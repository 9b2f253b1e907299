using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Schedules;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Samplers;

/// <summary>
/// Runs the reverse process p_θ(x_{t−1} | x_t) with any <see cref="IDenoiser"/>: DDPM ancestral, DDIM or DPM-Solver++,
/// optionally steered by an <see cref="ISampleGuidance"/> on x̂_0, in deterministic chunks (one Philox stream per chunk)
/// spread over threads.
/// </summary>
public static class DiffusionSampler
{
    /// <summary>
    /// The most values (samples × values per sample) one draw holds: 2^27, half a GiB as floats, so that a count near
    /// <see cref="int.MaxValue"/> is refused as bad input (<c>count</c>) rather than running out of memory.
    /// </summary>
    public const long MaxSampleValues = 1L << 27;

    /// <summary>
    /// Refuses (bad input, rule <c>count</c>) a draw of <paramref name="count"/> scenarios of
    /// <paramref name="valuesPerScenario"/> values each (<paramref name="shape"/> says what they are) beyond
    /// <see cref="MaxSampleValues"/> in all.
    /// </summary>
    public static void CheckSampleValues(int count, long valuesPerScenario, string shape)
    {
        long values = count * Math.Max(valuesPerScenario, 1);
        if (values <= MaxSampleValues) return;
        throw new InvalidInputException("count", string.Create(CultureInfo.InvariantCulture,
            $"{count} scenarios of {shape} ({values} values) exceed the {MaxSampleValues} values one draw holds in memory; draw at most {MaxSampleValues / Math.Max(valuesPerScenario, 1)} at a time (batches with different seeds)"));
    }

    /// <summary>Draws <paramref name="count"/> samples; returns them row-major, count × Π SampleShape.</summary>
    public static float[] Sample(IDenoiser denoiser, NoiseSchedule schedule, Objective objective, int count, ulong seed, SamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        return Sample(denoiser, VolatilityAdaptiveSchedule.Isotropic(schedule, denoiser.SampleShape[0]), objective, count, seed, options);
    }

    /// <summary>
    /// Draws <paramref name="count"/> samples from the process of <paramref name="schedule"/> (per-series noise scales
    /// σ; σ = 1 gives exactly the isotropic sampler); returns them row-major, count × Π SampleShape.
    /// </summary>
    public static float[] Sample(IDenoiser denoiser, VolatilityAdaptiveSchedule schedule, Objective objective, int count, ulong seed, SamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(options);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (options.ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "ChunkSize must be positive");
        if (!Enum.IsDefined(options.Kind) || !Enum.IsDefined(options.Spacing) || !Enum.IsDefined(options.Variance))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"unknown sampler kind {options.Kind}, spacing {options.Spacing} or variance {options.Variance}");
        }

        if (!(options.Eta is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Eta must be in [0, 1], got {options.Eta}"));
        if (options.Kind != SamplerKind.Ddpm && (options.Steps < 1 || options.Steps > schedule.Steps))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"{options.Kind} steps must be in 1..{schedule.Steps}");
        }

        double[] scale = schedule.ElementScales(denoiser.SampleShape);
        int size = scale.Length;
        CheckSampleValues(count, size, $"{size} values");
        var result = new float[(long)count * size];
        int chunks = (int)(((long)count + options.ChunkSize - 1) / options.ChunkSize);
        var cancel = options.Cancellation;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancel };
        using (GradMode.NoGrad())
        {
            try
            {
                Parallel.For(0, chunks, parallel, c =>
                {
                    int start = c * options.ChunkSize, n = Math.Min(options.ChunkSize, count - start);
                    var rng = new Philox(seed, (ulong)c);
                    var x = result.AsSpan(start * size, n * size);
                    var ts = options.Kind == SamplerKind.Ddpm ? null : DdimTimesteps(schedule.Base, options.Steps, options.Spacing);
                    var d = new Denoising(denoiser, scale, objective, options.Guidance, x.Length, n, cancel);
                    switch (options.Kind)
                    {
                        case SamplerKind.Ddpm: Ddpm(d, schedule.Base, scale, x, rng, options.Variance); break;
                        case SamplerKind.Ddim: Ddim(d, schedule.Base, scale, x, rng, ts!, options.Eta); break;
                        default: DpmSolver2M(d, schedule.Base, scale, x, rng, ts!); break;
                    }
                });
            }
            catch (AggregateException e) when (cancel.IsCancellationRequested && e.Flatten().InnerExceptions.All(x => x is OperationCanceledException))
            {
                // Parallel.For turns the chunks' own checks into one OperationCanceledException for its token; should
                // they still arrive aggregated, the caller sees the cancellation all the same
                throw new OperationCanceledException("sampling was cancelled", e, cancel);
            }
        }

        return result;
    }

    /// <summary>
    /// DDIM's timesteps τ: K values from T−1 down to 0, evenly spaced and truncated toward zero — the peer's
    /// <c>torch.linspace(T−1, 0, K).long()</c>, reproduced in float32 with PyTorch's two-sided formula
    /// (start + i·step for the first half, end − (K−1−i)·step for the second) so the truncation matches exactly.
    /// </summary>
    public static int[] DdimTimesteps(int trainSteps, int steps)
        => DdimTimestepsLinear(trainSteps, steps);

    /// <summary>
    /// DDIM's K timesteps τ, from T−1 down to 0, for the given spacing: <see cref="DdimSpacing.Linear"/> is
    /// <see cref="DdimTimesteps(int, int)"/>; <see cref="DdimSpacing.UniformAngle"/> takes, for K evenly spaced angles
    /// φ_k from φ(T−1) down to φ(0) with φ(t) = arccos √ᾱ_t, the timestep whose angle is nearest (ties to the smaller t).
    /// Exactly K distinct timesteps come back (K ≤ T): where two angles have the same nearest timestep (3 of 500 angles on
    /// the linear schedule of 1000 steps), the later step takes the next free timestep below the previous step's, and no
    /// step k goes below K − 1 − k, so that the steps after it still have a timestep each (step k then takes K − 1 − k, the
    /// lowest that leaves them room). A grid without collisions is the nearest timesteps, unchanged.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DdimSpacing.UniformAngle"/> with <paramref name="steps"/> outside 1..T.</exception>
    public static int[] DdimTimesteps(NoiseSchedule schedule, int steps, DdimSpacing spacing)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (spacing == DdimSpacing.Linear) return DdimTimestepsLinear(schedule.Steps, steps);
        int t = schedule.Steps;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, t);
        var angle = new double[t];
        for (int i = 0; i < t; i++) angle[i] = Math.Acos(Math.Sqrt(schedule.AlphasCumprod[i]));
        var ts = new int[steps];
        int cursor = t - 1;
        for (int k = 0; k < steps; k++)
        {
            double target = steps == 1 ? angle[t - 1] : angle[t - 1] + ((angle[0] - angle[t - 1]) * k / (steps - 1));
            // angles increase with t: walk down to the nearest timestep
            while (cursor > 0 && Math.Abs(angle[cursor - 1] - target) <= Math.Abs(angle[cursor] - target)) cursor--;
            // K distinct timesteps: below the previous step's, and no lower than the K − 1 − k the later steps need
            // (ts[k − 1] ≥ K − k, so the range is never empty)
            ts[k] = Math.Clamp(cursor, steps - 1 - k, k == 0 ? t - 1 : ts[k - 1] - 1);
        }

        return ts;
    }

    private static int[] DdimTimestepsLinear(int trainSteps, int steps)
    {
        var ts = new int[steps];
        float start = trainSteps - 1, end = 0f;
        float step = steps == 1 ? 0f : (end - start) / (steps - 1);
        if (steps == 1)
        {
            ts[0] = trainSteps - 1; // torch.linspace(start, end, 1) is [start]
            return ts;
        }

        int half = steps / 2;
        for (int i = 0; i < steps; i++)
        {
            float v = i < half ? start + (step * i) : end - (step * (steps - i - 1));
            ts[i] = (int)v;
        }

        return ts;
    }

    /// <summary>
    /// What the network sees: x_t / σ (per series), so it works on unit-scale inputs whatever the series' volatility
    /// (the c_in preconditioning of Karras et al. 2022, per series); x_t itself when σ = 1. The trainer does the same.
    /// </summary>
    private static ReadOnlySpan<float> NetworkInput(Span<float> x, double[] scale, float[]? buffer)
    {
        if (buffer is null) return x;
        for (int i = 0; i < x.Length; i++) buffer[i] = (float)(x[i] / scale[i % scale.Length]);
        return buffer;
    }

    private static bool IsUnit(double[] scale) => Array.TrueForAll(scale, s => s == 1.0);

    /// <summary>x ← σ ⊙ z for z ~ N(0, I): the prior N(0, diag(σ²)) of x_T, drawn in order from <paramref name="rng"/>.</summary>
    private static void FillPrior(Span<float> x, double[] scale, Philox rng)
    {
        rng.FillNormal(x);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(scale[i % scale.Length] * x[i]);
    }

    private static void Ddpm(Denoising d, NoiseSchedule s, double[] scale, Span<float> x, Philox rng, DdpmVariance variance)
    {
        // Algorithm 2: x_T ~ N(0, diag σ²); for t = T..1: x_{t−1} = μ̃_t(x_t, x̂_0) + σ_t σ ⊙ z
        FillPrior(x, scale, rng);
        var x0 = d.X0;
        var z = new float[x.Length];
        for (int step = s.Steps - 1; step >= 0; step--)
        {
            double abar = s.AlphasCumprod[step], abarPrev = s.AlphaCumprodPrev(step), beta = s.Betas[step];
            d.Predict(x, step, abar);

            // posterior mean (Ho et al. eq. 7): μ̃ = √ᾱ_{t−1} β_t/(1−ᾱ_t) · x̂_0 + √α_t (1−ᾱ_{t−1})/(1−ᾱ_t) · x_t
            double c0 = Math.Sqrt(abarPrev) * beta / (1.0 - abar);
            double ct = Math.Sqrt(s.Alphas[step]) * (1.0 - abarPrev) / (1.0 - abar);
            double sigma = step == 0 ? 0.0 : Math.Sqrt(variance == DdpmVariance.Beta ? beta : s.PosteriorVariance(step));
            if (sigma > 0) rng.FillNormal(z);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)((c0 * x0[i]) + (ct * x[i]) + (sigma > 0 ? sigma * scale[i % scale.Length] * z[i] : 0.0));
            }
        }
    }

    private static void Ddim(Denoising d, NoiseSchedule s, double[] scale, Span<float> x, Philox rng, int[] ts, double eta)
    {
        // Song et al. eq. 12: x_{τ−1} = √ᾱ_{τ−1} x̂_0 + √(1 − ᾱ_{τ−1} − σ²) ε̂ + σ z,
        // σ = η √((1 − ᾱ_{τ−1})/(1 − ᾱ_τ)) √(1 − ᾱ_τ/ᾱ_{τ−1}); with per-series noise scales ε̂ and z are multiplied by them
        FillPrior(x, scale, rng);
        var (x0, eps) = (d.X0, d.Eps);
        var z = new float[x.Length];
        for (int i = 0; i < ts.Length; i++)
        {
            int step = ts[i];
            double abar = s.AlphasCumprod[step];
            double abarPrev = i + 1 < ts.Length ? s.AlphasCumprod[ts[i + 1]] : 1.0;
            d.Predict(x, step, abar);
            double sigma = eta * Math.Sqrt((1.0 - abarPrev) / (1.0 - abar)) * Math.Sqrt(1.0 - (abar / abarPrev));
            double cx = Math.Sqrt(abarPrev), ce = Math.Sqrt(Math.Max(0.0, 1.0 - abarPrev - (sigma * sigma)));
            if (sigma > 0) rng.FillNormal(z);
            for (int k = 0; k < x.Length; k++)
            {
                double sk = scale[k % scale.Length];
                x[k] = (float)((cx * x0[k]) + (ce * sk * eps[k]) + (sigma > 0 ? sigma * sk * z[k] : 0.0));
            }
        }
    }

    private static void DpmSolver2M(Denoising d, NoiseSchedule s, double[] scale, Span<float> x, Philox rng, int[] ts)
    {
        // Lu et al. 2022 (DPM-Solver++, Algorithm 2), data prediction, multistep second order, with α_t = √ᾱ_t,
        // σ_t = √(1 − ᾱ_t), λ_t = log(α_t/σ_t), h_i = λ_{t_i} − λ_{t_{i−1}}, r_i = h_{i−1}/h_i:
        //   D = (1 + 1/(2 r_i)) x̂_0(t_{i−1}) − 1/(2 r_i) x̂_0(t_{i−2})     (first step: D = x̂_0(t_{i−1}))
        //   x_{t_i} = (σ_{t_i}/σ_{t_{i−1}}) x_{t_{i−1}} − α_{t_i} (e^{−h_i} − 1) D
        // The first-order update (D = x̂_0) is exactly DDIM with η = 0; the final step to ᾱ = 1 (λ = ∞) is first order,
        // x_0 = x̂_0. The update is linear with the same coefficients for every element, so per-series noise scales σ
        // enter only through x̂_0.
        FillPrior(x, scale, rng);
        var x0 = d.X0;
        var previous = new float[x.Length];
        double previousLambda = double.NaN;
        for (int i = 0; i < ts.Length; i++)
        {
            int step = ts[i];
            double abar = s.AlphasCumprod[step];
            d.Predict(x, step, abar);
            double lambda = 0.5 * Math.Log(abar / (1.0 - abar));
            if (i + 1 == ts.Length)
            {
                x0.AsSpan().CopyTo(x);
                break;
            }

            double abarNext = s.AlphasCumprod[ts[i + 1]];
            double lambdaNext = 0.5 * Math.Log(abarNext / (1.0 - abarNext));
            double h = lambdaNext - lambda;
            double cx = Math.Sqrt((1.0 - abarNext) / (1.0 - abar)), cd = -Math.Sqrt(abarNext) * (Math.Exp(-h) - 1.0);
            bool second = i > 0;
            double r = second ? (lambda - previousLambda) / h : 0;
            double a = second ? 1.0 + (1.0 / (2.0 * r)) : 1.0, b = second ? -1.0 / (2.0 * r) : 0.0;
            for (int k = 0; k < x.Length; k++)
            {
                double dk = (a * x0[k]) + (b * previous[k]);
                x[k] = (float)((cx * x[k]) + (cd * dk));
            }

            x0.AsSpan().CopyTo(previous);
            previousLambda = lambda;
        }
    }

    /// <summary>
    /// One chunk's network call and its conversion, shared by every sampler: the denoiser's prediction at timestep t for
    /// all n samples, turned into (x̂_0, ε̂) by the objective, then steered by the guidance when there is one (x̂_0
    /// edited, ε̂ recomputed from it). Buffers live as long as the chunk. Every sampler calls it once per step, so it is
    /// where a cancellation is noticed.
    /// </summary>
    private sealed class Denoising(IDenoiser denoiser, double[] scale, Objective objective, ISampleGuidance? guidance, int length, int n,
        CancellationToken cancellation)
    {
        private readonly float[] _output = new float[length];
        private readonly float[]? _input = IsUnit(scale) ? null : new float[length];
        private readonly int[] _t = new int[n];

        public float[] X0 { get; } = new float[length];

        public float[] Eps { get; } = new float[length];

        public void Predict(Span<float> x, int step, double abar)
        {
            cancellation.ThrowIfCancellationRequested();
            Array.Fill(_t, step);
            denoiser.Predict(NetworkInput(x, scale, _input), n, _t, _output);
            ObjectiveMath.ToX0AndEpsilon(objective, abar, x, _output, scale, X0, Eps);
            if (guidance is null) return;

            // Bansal et al. 2023 (backward universal guidance): the guided x̂_0 defines ε̂ through x_t = √ᾱ x̂_0 + √(1−ᾱ) σ ε̂
            guidance.Guide(X0, n, step, abar);
            double sa = Math.Sqrt(abar), so = Math.Sqrt(1.0 - abar);
            for (int i = 0; i < X0.Length; i++) Eps[i] = (float)((x[i] - (sa * X0[i])) / (so * scale[i % scale.Length]));
        }
    }
}
