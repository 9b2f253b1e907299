using System.Diagnostics;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Schedules;
using Crucible.Tensors;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Training;

/// <summary>
/// Trains an <see cref="MlpDenoiser"/> on rows x_0 (N, D) with the simple DDPM loss (Ho et al. 2020, Algorithm 1):
/// t ~ U{0..T−1}, ε ~ N(0, I), x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, L = ‖f_θ(x_t, t) − target‖² with the target of the
/// <see cref="Objective"/>. AdamW, warm-up + cosine learning rate, gradient clipping and an EMA of the weights.
/// </summary>
public sealed class DiffusionTrainer
{
    private readonly MlpDenoiser _network;
    private readonly NoiseSchedule _schedule;
    private readonly Objective _objective;
    private readonly TrainerOptions _options;
    private readonly AdamW _optimizer;
    private readonly WarmupCosine _learningRate;
    private readonly ExponentialMovingAverage? _ema;
    private readonly Philox _rng;

    // the batch buffers, reused every step: x_t (B, D), target (B, D), t/T (B), ε for one row (D)
    private readonly Tensor[] _parameters;
    private readonly float[] _xt;
    private readonly float[] _target;
    private readonly float[] _timeFraction;
    private readonly float[] _eps;
    private int _step;

    /// <summary>Prepares training of <paramref name="network"/>.</summary>
    public DiffusionTrainer(MlpDenoiser network, NoiseSchedule schedule, Objective objective, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Steps and BatchSize must be positive");
        _network = network;
        _schedule = schedule;
        _objective = objective;
        _options = options;
        _parameters = [.. network.Parameters()];
        _optimizer = new AdamW(_parameters, lr: options.LearningRate, weightDecay: options.WeightDecay);
        _learningRate = new WarmupCosine(options.LearningRate, Math.Min(options.WarmupSteps, options.Steps - 1), options.Steps, options.MinLearningRate);
        _ema = options.EmaDecay > 0 ? new ExponentialMovingAverage(_parameters, options.EmaDecay, warmup: true) : null;
        _rng = new Philox(options.Seed, stream: 1);
        int d = network.Config.Features;
        _xt = new float[options.BatchSize * d];
        _target = new float[options.BatchSize * d];
        _timeFraction = new float[options.BatchSize];
        _eps = new float[d];
    }

    /// <summary>The EMA of the weights, or null when disabled.</summary>
    public ExponentialMovingAverage? Ema => _ema;

    /// <summary>Steps done so far.</summary>
    public int StepsDone => _step;

    /// <summary>
    /// Runs all remaining steps on <paramref name="data"/> (rows × D, row-major) and returns the loss of every step.
    /// </summary>
    public IReadOnlyList<float> Fit(float[] data, int rows, IProgress<TrainingProgress>? progress = null, int reportEvery = 50)
    {
        ArgumentNullException.ThrowIfNull(data);
        var losses = new List<float>(_options.Steps);
        var clock = Stopwatch.StartNew();
        double window = 0;
        int windowStart = _step;
        while (_step < _options.Steps)
        {
            float loss = Step(data, rows);
            losses.Add(loss);
            window += loss;
            if (progress is not null && (_step % reportEvery == 0 || _step == _options.Steps))
            {
                int n = _step - windowStart;
                progress.Report(new TrainingProgress(_step, _options.Steps, window / n, n / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
                window = 0;
                windowStart = _step;
                clock.Restart();
            }
        }

        return losses;
    }

    /// <summary>One optimiser step on a random batch; returns its loss.</summary>
    public float Step(float[] data, int rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        int b = _options.BatchSize, d = _network.Config.Features;
        if (rows < 1 || data.Length != rows * d) throw new ArgumentException($"data must hold rows × {d} values", nameof(data));
        float[] xt = _xt, target = _target, timeFraction = _timeFraction, eps = _eps;
        for (int i = 0; i < b; i++)
        {
            int row = _rng.NextInt(rows);
            int t = _rng.NextInt(_schedule.Steps);
            double abar = _schedule.AlphasCumprod[t];
            float sa = (float)Math.Sqrt(abar), so = (float)Math.Sqrt(1.0 - abar);
            _rng.FillNormal(eps);
            for (int j = 0; j < d; j++)
            {
                float x0 = data[(row * d) + j];
                xt[(i * d) + j] = (sa * x0) + (so * eps[j]);
                target[(i * d) + j] = ObjectiveMath.Target(_objective, abar, x0, eps[j]);
            }

            timeFraction[i] = (float)t / _schedule.Steps;
        }

        _learningRate.Apply(_optimizer, _step);
        var output = _network.Forward(new Tensor(xt, [b, d]), timeFraction);
        var loss = Losses.MseLoss(output, new Tensor(target, [b, d]));
        _optimizer.ZeroGrad();
        loss.Backward();
        if (_options.GradClipNorm > 0) GradClip.ClipGradNorm(_parameters, _options.GradClipNorm);
        _optimizer.Step();
        _ema?.Update();
        _step++;
        return loss.Item();
    }
}
