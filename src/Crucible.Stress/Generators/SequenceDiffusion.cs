using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Stress.Reverse;

namespace Crucible.Stress.Generators;

/// <summary>
/// The conditional sequence diffusion generator (#7, <see cref="SequenceGenerator"/>) behind <see cref="IScenarioGenerator"/>,
/// so walk-forward backtests, ensembles and comparison tables can include it (catalog name <c>diffusion</c>).
/// </summary>
/// <remarks>
/// Fit trains a <see cref="SequenceGenerator"/> with <paramref name="options"/> (its seed replaced by the fit seed) on the
/// log-return frame, conditioned on <paramref name="conditions"/> when given (dated feature rows, e.g.
/// <see cref="EconomicState.Build"/>; rows after the last train date are never read) and unconditional otherwise. Sampling
/// uses <paramref name="request"/> (fixed conditions, classifier-free guidance scale, sampler, stress specification; null:
/// unconditional, DDIM 50 steps).
/// </remarks>
public sealed class SequenceDiffusionGenerator(
    SequenceGeneratorOptions? options = null, SequenceSampleRequest? request = null, TimeSeriesFrame? conditions = null) : IScenarioGenerator
{
    /// <summary>The catalog and report name.</summary>
    public const string DefaultName = "diffusion";

    /// <summary>The generator options (training steps, window, network size).</summary>
    public SequenceGeneratorOptions Options { get; } = options ?? new SequenceGeneratorOptions();

    /// <inheritdoc/>
    public string Name => DefaultName;

    /// <inheritdoc/>
    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
    {
        GeneratorChecks.Fit(logReturns, Options.Window + 1);
        var model = new SequenceGenerator(Options with { Seed = seed }).Fit(logReturns, conditions is null || logReturns.Dates.Length == 0 ? null : conditions);
        return new FittedSequenceDiffusion(model, request);
    }
}

/// <summary>
/// A fitted (or loaded) <see cref="SequenceGenerator"/> as a scenario generator, with guided sampling toward an objective
/// (<see cref="ObjectiveGuidance"/>) for reverse stress testing.
/// </summary>
/// <remarks>
/// The model draws windows of its own length W. A request for <c>window</c> ≤ W steps returns the first <c>window</c>
/// days of each drawn window; a longer request concatenates ⌈window / W⌉ independent windows per scenario (their joins
/// carry no temporal dependence: the model has never seen more than W days). Guided sampling needs window ≤ W.
/// The same seed gives the same values (the sequence generator's guarantee, on any number of threads).
/// </remarks>
public sealed class FittedSequenceDiffusion : IGuidedScenarioGenerator
{
    /// <summary>The seed of the unguided draws the <see cref="GuidanceMetric.ModelCovariance"/> metric is estimated from.</summary>
    public const ulong MetricSeed = 0x5EED_C0FA;

    private readonly Lazy<double[]> _covariance;

    /// <summary>Wraps <paramref name="model"/>; samples with <paramref name="request"/> (null: unconditional, DDIM 50 steps).</summary>
    public FittedSequenceDiffusion(SequenceGenerator model, SequenceSampleRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsFitted) throw new ArgumentException("the sequence generator is not fitted", nameof(model));
        Model = model;
        Request = request ?? new SequenceSampleRequest();
        _covariance = new Lazy<double[]>(EstimateCovariance, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The metric of the guidance steps (<see cref="ObjectiveGuidance"/>).</summary>
    public GuidanceMetric Metric { get; init; } = GuidanceMetric.ModelCovariance;

    /// <summary>How many unguided windows the <see cref="GuidanceMetric.ModelCovariance"/> metric is estimated from.</summary>
    public int MetricSamples { get; init; } = 512;

    /// <summary>The sequence model.</summary>
    public SequenceGenerator Model { get; }

    /// <summary>The request every sample uses.</summary>
    public SequenceSampleRequest Request { get; }

    /// <summary>Settings of the objective guidance other than its scale.</summary>
    public ObjectiveGuidanceOptions GuidanceOptions { get; init; } = new();

    /// <inheritdoc/>
    public string Name => SequenceDiffusionGenerator.DefaultName;

    /// <inheritdoc/>
    public IReadOnlyList<string> Columns => Model.Columns;

    /// <inheritdoc/>
    public ScenarioWindows Sample(int count, int window, ulong seed)
    {
        GeneratorChecks.Sample(count, window, Columns.Count);
        int w = Model.Window, blocks = (window + w - 1) / w;
        var frame = Model.Sample(count * blocks, seed, Request);
        return Cut(frame.Values, count, blocks, window);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidInputException">A window longer than the model's (rule <c>guided-horizon</c>), or a request
    /// whose stress specification already uses the sampler's guidance slot, or a state-scaled model whose request leaves
    /// the level unset (rule <see cref="SequenceGenerator.StateScaleRule"/>, <see cref="Guidance"/>).</exception>
    public ScenarioWindows SampleGuided(int count, int window, IScenarioObjective objective, double target, double guidanceScale, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(objective);
        GeneratorChecks.Sample(count, window, Columns.Count);
        if (window > Model.Window)
            throw new InvalidInputException("guided-horizon", string.Create(CultureInfo.InvariantCulture, $"guided sampling needs a horizon of at most the model's window ({Model.Window} days), got {window}"));
        var guidance = Guidance(objective, window, target, guidanceScale);
        var sampler = (Request.Sampler ?? SamplerOptions.DefaultFor(Model.Schedule.Steps)) with { Guidance = guidance };
        var frame = Model.Sample(count, seed, Request with { Sampler = sampler });
        return Cut(frame.Values, count, 1, window);
    }

    /// <summary>
    /// The guidance <see cref="SampleGuided"/> uses: toward objective ≥ <paramref name="target"/> over the first
    /// <paramref name="window"/> days, the objective read on the log returns of <see cref="Request"/>'s windows
    /// (<see cref="SequenceGenerator.AffineFor(SequenceSampleRequest)"/>: the affine map times the requested level's s
    /// for a state-scaled model).
    /// </summary>
    /// <exception cref="InvalidInputException">A state-scaled model whose <see cref="Request"/> leaves the level unset
    /// (rule <see cref="SequenceGenerator.StateScaleRule"/>): its windows draw one s each, which guidance in model space
    /// cannot see.</exception>
    public ObjectiveGuidance Guidance(IScenarioObjective objective, int window, double target, double guidanceScale)
    {
        var affine = Model.AffineFor(Request);
        return new(objective, Model.Columns.Count, Model.Window, window, target, affine.Offset, affine.Scale,
            Metric == GuidanceMetric.ModelCovariance ? ModelCovariance : [.. Model.Schedule.NoiseScale.Select(s => s * s)],
            GuidanceOptions with { Scale = guidanceScale });
    }

    /// <summary>
    /// The model's covariance (D × D, row-major, model space) of one day across series: the sample covariance (n − 1) of
    /// the D-vectors of every day of <see cref="MetricSamples"/> unguided windows drawn with <see cref="MetricSeed"/> under
    /// <see cref="Request"/>, plus a ridge of 10⁻⁶ × its mean variance so that it is positive definite. Computed once.
    /// </summary>
    public double[] ModelCovariance => [.. _covariance.Value];

    private double[] EstimateCovariance()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MetricSamples, 2);
        var z = Model.SampleModelSpace(MetricSamples, MetricSeed, Request);
        int d = Model.Columns.Count, w = Model.Window, n = MetricSamples * w;
        var mean = new double[d];
        for (int b = 0; b < MetricSamples; b++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int t = 0; t < w; t++) mean[i] += z[(((b * d) + i) * w) + t] / (double)n;
            }
        }

        var cov = new double[d * d];
        for (int b = 0; b < MetricSamples; b++)
        {
            for (int t = 0; t < w; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    double ei = z[(((b * d) + i) * w) + t] - mean[i];
                    for (int j = 0; j <= i; j++) cov[(i * d) + j] += ei * (z[(((b * d) + j) * w) + t] - mean[j]);
                }
            }
        }

        double trace = 0;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                cov[(i * d) + j] /= n - 1;
                cov[(j * d) + i] = cov[(i * d) + j];
            }

            trace += cov[(i * d) + i];
        }

        for (int i = 0; i < d; i++) cov[(i * d) + i] += 1e-6 * trace / d;
        return cov;
    }

    // values: (count·blocks·W, D) rows; scenario c is blocks b = c·blocks … concatenated, truncated to `window` days
    private ScenarioWindows Cut(double[] values, int count, int blocks, int window)
    {
        int d = Model.Columns.Count;
        var result = new double[count * window * d];
        for (int c = 0; c < count; c++) Array.Copy(values, c * blocks * Model.Window * d, result, c * window * d, window * d);
        return new ScenarioWindows(Model.Columns, count, window, result);
    }
}

/// <summary>The metric of guided sampling's steps (see <see cref="ObjectiveGuidance"/>).</summary>
public enum GuidanceMetric
{
    /// <summary>The model's own covariance of a day across series: the most likely shift under it (hedges move as the model says).</summary>
    ModelCovariance,

    /// <summary>diag(σ_i²) with the volatility-adaptive schedule's noise scales: per-series scaling, no correlation.</summary>
    NoiseScale,
}
