using System.Globalization;
using Crucible.Data;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Generators.Neural;

/// <summary>Settings of the TimeVAE-like baseline (Desai et al. 2021: reconstruction weight 3, Adam).</summary>
public sealed record TimeVaeOptions
{
    /// <summary>Window length T (the dense layers fix it: samples are windows of at most T steps).</summary>
    public int Window { get; init; } = 20;

    /// <summary>Latent dimensions.</summary>
    public int Latent { get; init; } = 8;

    /// <summary>Hidden channels.</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Polynomial trend degree P of the interpretable trend block (0: none).</summary>
    public int TrendDegree { get; init; } = 2;

    /// <summary>Optimiser steps.</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Windows per batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Weight of the summed squared reconstruction error against the KL term.</summary>
    public double ReconstructionWeight { get; init; } = 3;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// These settings, checked: counts and sizes at least 1 (the trend degree at least 0), the learning rate and the
    /// reconstruction weight finite and &gt; 0 (a batch of 0 windows trained on a loss of 0 without a word, a negative one
    /// overflowed).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range, named by <see cref="ArgumentException.ParamName"/>.</exception>
    public TimeVaeOptions Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Window, 1, nameof(Window));
        ArgumentOutOfRangeException.ThrowIfLessThan(Latent, 1, nameof(Latent));
        ArgumentOutOfRangeException.ThrowIfLessThan(Hidden, 1, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfNegative(TrendDegree, nameof(TrendDegree));
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1, nameof(Steps));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        NeuralOptions.Positive(ReconstructionWeight, nameof(ReconstructionWeight));
        NeuralOptions.Positive(LearningRate, nameof(LearningRate));
        return this;
    }
}

/// <summary>
/// A TimeVAE-like network: a convolutional encoder (B, D, T) → (μ, log σ²) of a latent z, and a decoder that adds
/// TimeVAE's interpretable blocks: a level (Linear z → D, constant over time), a polynomial trend
/// (Linear z → D·P, times (t/T)^p, p = 1..P), and a residual conv block (Linear z → H·T, reshaped, two convolutions).
/// </summary>
internal sealed class TimeVaeNetwork : Module
{
    private readonly Conv1d _e1, _e2, _d1, _d2;
    private readonly Linear _mu, _logVar, _level, _trend, _dense;
    private readonly Tensor _powers; // (P, T): (t/T)^p
    private readonly int _series, _window, _hidden, _degree;

    public TimeVaeNetwork(int series, int window, int hidden, int latent, int degree, Philox rng)
    {
        (_series, _window, _hidden, _degree) = (series, window, hidden, degree);
        _e1 = RegisterModule("e1", new Conv1d(series, hidden, 3, rng, 1, Conv1dPadding.Same));
        _e2 = RegisterModule("e2", new Conv1d(hidden, hidden, 3, rng, 2, Conv1dPadding.Same));
        _mu = RegisterModule("mu", new Linear(hidden * window, latent, rng));
        _logVar = RegisterModule("log_var", new Linear(hidden * window, latent, rng));
        _level = RegisterModule("level", new Linear(latent, series, rng));
        _trend = RegisterModule("trend", new Linear(latent, series * Math.Max(1, degree), rng));
        _dense = RegisterModule("dense", new Linear(latent, hidden * window, rng));
        _d1 = RegisterModule("d1", new Conv1d(hidden, hidden, 3, rng, 1, Conv1dPadding.Same));
        _d2 = RegisterModule("d2", new Conv1d(hidden, series, 3, rng, 1, Conv1dPadding.Same));
        var powers = new float[Math.Max(1, degree) * window];
        for (var p = 0; p < degree; p++)
        {
            for (var t = 0; t < window; t++) powers[(p * window) + t] = MathF.Pow((float)t / window, p + 1);
        }

        _powers = Tensor.FromArray(powers, [Math.Max(1, degree), window]);
    }

    // x: (B, D, T) -> μ, log σ²: (B, Z)
    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var h = _e1.Forward(x).Silu();
        h = _e2.Forward(h).Silu() + h;
        var flat = h.Reshape(x.Shape[0], _hidden * _window);
        return (_mu.Forward(flat), _logVar.Forward(flat).Clamp(-10, 10));
    }

    // z: (B, Z) -> (B, D, T)
    public Tensor Decode(Tensor z)
    {
        var b = z.Shape[0];
        var level = _level.Forward(z).Reshape(b, _series, 1);
        var h = _dense.Forward(z).Reshape(b, _hidden, _window).Silu();
        h = _d1.Forward(h).Silu() + h;
        var output = _d2.Forward(h) + level;
        if (_degree > 0)
        {
            // (B·D, P) @ (P, T) -> (B, D, T)
            var coefficients = _trend.Forward(z).Reshape(b * _series, _degree);
            output += coefficients.Matmul(_powers).Reshape(b, _series, _window);
        }

        return output;
    }
}

/// <summary>
/// A TimeVAE-like variational autoencoder (Desai et al. 2021) on standardised windows: loss per window =
/// w·Σ(x − x̂)² + KL(N(μ, σ²) ‖ N(0, I)), reparameterised z = μ + σ ε; samples decode z ~ N(0, I) (the decoder's mean, as
/// TimeVAE does).
/// </summary>
/// <exception cref="ArgumentOutOfRangeException">A setting out of its range (<see cref="TimeVaeOptions.Validated"/>), at construction.</exception>
public sealed class TimeVae(TimeVaeOptions? options = null) : IScenarioGenerator
{
    /// <summary>The settings, checked (<see cref="TimeVaeOptions.Validated"/>).</summary>
    public TimeVaeOptions Options { get; } = (options ?? new TimeVaeOptions()).Validated();

    /// <inheritdoc/>
    public string Name => "timevae";

    /// <inheritdoc/>
    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
    {
        var o = Options;
        var data = new WindowData(logReturns, o.Window);
        var network = new TimeVaeNetwork(data.Series, o.Window, o.Hidden, o.Latent, o.TrendDegree, new Philox(seed, stream: 1));
        var rng = new Philox(seed, stream: 2);
        var optimizer = new Adam(network.Parameters(), lr: o.LearningRate);
        var losses = new List<double>();
        for (var step = 0; step < o.Steps; step++)
        {
            network.ZeroGrad();
            var loss = Loss(network, data.Batch(o.BatchSize, rng), o.ReconstructionWeight, rng);
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
        }

        network.ZeroGrad();
        network.Eval();
        return new Fitted(Name, data, network, o.Latent, losses);
    }

    /// <summary>Mean over the batch of w·Σ(x − x̂)² + KL.</summary>
    internal static Tensor Loss(TimeVaeNetwork network, Tensor x, double weight, Philox rng)
    {
        var b = x.Shape[0];
        var (mu, logVar) = network.Encode(x);
        var eps = new float[mu.Length];
        rng.FillNormal(eps);
        var z = mu + ((logVar * 0.5f).Exp() * Tensor.FromArray(eps, mu.Shape));
        var reconstruction = Losses.MseLoss(network.Decode(z), x, Reduction.Sum) * (float)(weight / b);
        // KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²)
        var kl = (mu.Square() + logVar.Exp() - 1f - logVar).Sum() * (0.5f / b);
        return reconstruction + kl;
    }

    /// <summary>The trained decoder.</summary>
    internal sealed class Fitted(string name, WindowData data, TimeVaeNetwork network, int latent, IReadOnlyList<double> losses)
        : IFittedScenarioGenerator
    {
        public string Name => name;

        public IReadOnlyList<string> Columns => data.Columns;

        /// <summary>The training loss per step.</summary>
        public IReadOnlyList<double> Losses => losses;

        internal TimeVaeNetwork Network => network;

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            GeneratorChecks.Sample(count, window, Columns.Count);
            if (window > data.Window)
                throw new InvalidInputException("window", string.Create(CultureInfo.InvariantCulture, $"the TimeVAE baseline was trained on windows of {data.Window} steps; it cannot sample {window}"));
            var z = new float[count * latent];
            new Philox(seed).FillNormal(z);
            using (GradMode.NoGrad()) return data.ToScenarios(network.Decode(Tensor.FromArray(z, [count, latent])), window);
        }
    }
}
