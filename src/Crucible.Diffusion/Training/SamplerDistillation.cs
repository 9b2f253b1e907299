using System.Diagnostics;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Tensors;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Training;

/// <summary>How <see cref="SamplerDistillation"/> fine-tunes a student for K-step DDIM.</summary>
/// <param name="Steps">Optimiser steps of the student (0: no distillation).</param>
/// <param name="SamplingSteps">K, the DDIM step count the student is distilled for.</param>
/// <param name="Spacing">The K timesteps (<see cref="DiffusionSampler.DdimTimesteps(NoiseSchedule, int, DdimSpacing)"/>).</param>
/// <param name="BatchSize">Rows per step, drawn uniformly with replacement.</param>
/// <param name="LearningRate">AdamW's learning rate, decayed by a cosine to a tenth of it at the last step.</param>
/// <param name="EmaDecay">Decay of the EMA of the student's weights that becomes the student (0: the last weights).</param>
/// <param name="Seed">Seeds the rows, intervals and noise (Philox stream 4).</param>
public sealed record SamplerDistillationOptions(
    int Steps = 4000,
    int SamplingSteps = 50,
    DdimSpacing Spacing = DdimSpacing.Linear,
    int BatchSize = 256,
    double LearningRate = 1e-4,
    double EmaDecay = 0.999,
    ulong Seed = 0);

/// <summary>
/// Sampler distillation: fine-tunes a student copy of a trained denoiser so that one DDIM step (η = 0) over each
/// interval (τ_k, τ_{k+1}) of a K-step grid lands where the teacher's deterministic DDIM trajectory through every
/// timestep of that interval lands — the probability-flow ODE solved finely. This is one round of progressive
/// distillation (Salimans &amp; Ho 2022, Algorithm 2) with the teacher's fine trajectory in place of two teacher steps.
/// A K-step DDIM sampler with the student then follows the teacher's ODE instead of contracting it (DDIM's first-order
/// error shrinks a unit-variance Gaussian direction by about exp(−(π/2)²/(2K)) even with an exact denoiser).
/// <para>
/// For x_0 from the data, ε ~ N(0, I) and x_t = √ᾱ_t x_0 + √(1−ᾱ_t) σ ε at t = τ_k, the teacher runs DDIM from t down
/// through t − 1, …, s = τ_{k+1} to x_s. The DDIM step x_s = √ᾱ_s x̃_0 + r (x_t − √ᾱ_t x̃_0), r = √(1−ᾱ_s)/√(1−ᾱ_t),
/// is inverted for the x̃_0 that reaches it, x̃_0 = (x_s − r x_t)/(√ᾱ_s − r √ᾱ_t) (Salimans &amp; Ho eq. 8), with
/// ε̃ = (x_t − √ᾱ_t x̃_0)/(√(1−ᾱ_t) σ), and the student regresses the objective's target of (x̃_0, ε̃) at (x_t, t) with
/// the trainer's squared error. The last grid step (τ_K) returns x̂_0 in the sampler; there the target is the
/// teacher's own prediction. Only the grid timesteps are trained: the student is for K-step DDIM with this spacing,
/// other samplers should use the teacher.
/// </para>
/// </summary>
public static class SamplerDistillation
{
    /// <summary>
    /// Fine-tunes <paramref name="student"/> (which should start as a copy of <paramref name="teacher"/>) on
    /// <paramref name="data"/> (rows × Π SampleShape, model space); returns the loss of each step. With an EMA the
    /// student ends with the averaged weights.
    /// </summary>
    public static IReadOnlyList<float> Distill(
        IDenoiser teacher, ITrainableDenoiser student, VolatilityAdaptiveSchedule schedule, Objective objective,
        float[] data, int rows, SamplerDistillationOptions options, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Steps < 0 || options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Steps must be ≥ 0 and BatchSize positive");
        if (options.SamplingSteps < 2 || options.SamplingSteps > schedule.Steps)
            throw new ArgumentOutOfRangeException(nameof(options), $"SamplingSteps must be in 2..{schedule.Steps}");
        int[] sampleShape = [.. student.SampleShape];
        double[] scale = schedule.ElementScales(sampleShape);
        int size = scale.Length, b = options.BatchSize;
        if (rows < 1 || data.Length != (long)rows * size) throw new ArgumentException($"data must hold rows × {size} values", nameof(data));

        var ts = DiffusionSampler.DdimTimesteps(schedule.Base, options.SamplingSteps, options.Spacing);
        var abars = schedule.Base.AlphasCumprod;
        var parameters = student.Network.Parameters().ToArray();
        var optimizer = new AdamW(parameters, lr: options.LearningRate);
        var learningRate = new WarmupCosine(options.LearningRate, 0, Math.Max(1, options.Steps), options.LearningRate / 10);
        var ema = options.EmaDecay > 0 ? new ExponentialMovingAverage(parameters, options.EmaDecay, warmup: true) : null;
        var rng = new Philox(options.Seed, stream: 4);

        // batch buffers: x_t (B, S) as the network sees it (x_t / σ), the teacher's running x, its output, the target
        var xt = new float[b * size];
        var input = new float[b * size];
        var x = new float[b * size];
        var output = new float[b * size];
        var target = new float[b * size];
        var eps = new float[size];
        var x0Hat = new float[size];
        var epsHat = new float[size];
        var t = new int[b];
        var s = new int[b];
        var current = new int[b];
        var predictAt = new int[b];
        var losses = new List<float>(options.Steps);
        var clock = Stopwatch.StartNew();
        double window = 0;
        int windowStart = 0;
        for (int step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // x_0 from the data, an interval k of the grid, x_t at its start
            for (int i = 0; i < b; i++)
            {
                int row = rng.NextInt(rows);
                int k = rng.NextInt(ts.Length);
                t[i] = ts[k];
                s[i] = k + 1 < ts.Length ? ts[k + 1] : -1; // −1: the last step returns x̂_0
                rng.FillNormal(eps);
                schedule.AddNoise(data.AsSpan(row * size, size), eps, t[i], scale, xt.AsSpan(i * size, size));
            }

            xt.AsSpan().CopyTo(x);
            t.AsSpan().CopyTo(current);
            using (GradMode.NoGrad())
            {
                // the teacher's fine trajectory: DDIM through every timestep from t_i down to s_i, all rows at once
                bool moving = true;
                while (moving)
                {
                    moving = false;
                    for (int i = 0; i < b; i++)
                    {
                        for (int j = 0; j < size; j++) input[(i * size) + j] = (float)(x[(i * size) + j] / scale[j]);
                    }

                    for (int i = 0; i < b; i++) predictAt[i] = Math.Max(current[i], 0); // finished rows: any valid t, output unused
                    teacher.Predict(input, b, predictAt, output);
                    for (int i = 0; i < b; i++)
                    {
                        if (current[i] < 0 || current[i] == s[i]) continue;
                        var xi = x.AsSpan(i * size, size);
                        double abar = abars[current[i]];
                        ObjectiveMath.ToX0AndEpsilon(objective, abar, xi, output.AsSpan(i * size, size), scale, x0Hat, epsHat);
                        if (s[i] < 0)
                        {
                            // the last grid step: the target is the teacher's x̂_0 at t
                            x0Hat.AsSpan().CopyTo(xi);
                            current[i] = -1;
                            continue;
                        }

                        int next = current[i] - 1;
                        double cx = Math.Sqrt(abars[next]), ce = Math.Sqrt(1.0 - abars[next]);
                        for (int j = 0; j < size; j++) xi[j] = (float)((cx * x0Hat[j]) + (ce * scale[j] * epsHat[j]));
                        current[i] = next;
                        if (next != s[i]) moving = true;
                    }
                }

                // x̃_0 that one DDIM step from x_t reaches x_s with, and the objective's target of (x̃_0, ε̃)
                for (int i = 0; i < b; i++)
                {
                    double abarT = abars[t[i]], sa = Math.Sqrt(abarT), so = Math.Sqrt(1.0 - abarT);
                    for (int j = 0; j < size; j++)
                    {
                        int e = (i * size) + j;
                        double x0;
                        if (s[i] < 0)
                        {
                            x0 = x[e];
                        }
                        else
                        {
                            double abarS = abars[s[i]];
                            double r = Math.Sqrt(1.0 - abarS) / so;
                            x0 = (x[e] - (r * xt[e])) / (Math.Sqrt(abarS) - (r * sa));
                        }

                        double epsTilde = (xt[e] - (sa * x0)) / (so * scale[j]);
                        target[e] = ObjectiveMath.Target(objective, abarT, (float)x0, (float)epsTilde, scale[j]);
                        input[e] = (float)(xt[e] / scale[j]);
                    }
                }
            }

            int[] shape = [b, .. sampleShape];
            learningRate.Apply(optimizer, step);
            var loss = Crucible.Tensors.Losses.MseLoss(student.Forward(new Tensor(input, shape), t), new Tensor(target, shape));
            // the gradient buffers zeroed in place and reused, as DiffusionTrainer's are: not a step's garbage (the same bits)
            optimizer.ZeroGrad(setToNone: false);
            loss.Backward();
            GradClip.ClipGradNorm(parameters, 1.0);
            optimizer.Step();
            ema?.Update();
            float value = loss.Item();
            losses.Add(value);
            window += value;
            if (progress is not null && ((step + 1) % 50 == 0 || step + 1 == options.Steps))
            {
                int n = step + 1 - windowStart;
                progress.Report(new TrainingProgress(step + 1, options.Steps, window / n, n / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
                window = 0;
                windowStart = step + 1;
                clock.Restart();
            }
        }

        ema?.CopyTo();
        return losses;
    }
}
