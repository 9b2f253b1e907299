using System.Text.Json;
using Crucible.Data;
using Crucible.Data.Transforms;
using Crucible.Diffusion.Samplers;

namespace Crucible.Diffusion.Tabular;

/// <summary>
/// Marginal calibration after training (<see cref="DiffusionGeneratorOptions.Calibration"/>): how many rows the model
/// draws to measure its own marginals, and how finely the map follows them.
/// </summary>
/// <param name="Rows">
/// Rows drawn from the trained model with the sampler it is made for. The map's outermost knots are the sample's
/// extremes, so the rows set how far into the tails the map is measured rather than extrapolated: 100,000 rows reach
/// the 1-in-100,000 quantile, beyond what 20,000 generated rows ever visit.
/// </param>
/// <param name="Knots">The most knots per series of the map (order statistics of the calibration rows, evenly spaced in rank).</param>
public sealed record MarginalCalibrationOptions(int Rows = 100_000, int Knots = 1000);

/// <summary>
/// The fitted marginal calibration of a model, in its manifest: the sampler it was measured with (and is applied for)
/// and, per series, the monotone map from the model's generated model-space values to normal scores.
/// </summary>
public sealed record MarginalCalibrationManifest
{
    /// <summary>The sampler the calibration rows were drawn with: DDIM, η = 0.</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.Ddim;

    /// <summary>The sampler's K.</summary>
    public int SamplingSteps { get; init; }

    /// <summary>The sampler's timestep spacing.</summary>
    public DdimSpacing Spacing { get; init; }

    /// <summary>Calibration rows drawn.</summary>
    public int Rows { get; init; }

    /// <summary>The sampling seed of the calibration rows (derived from the model's seed, <see cref="MarginalCalibration.SeedFor"/>).</summary>
    public ulong Seed { get; init; }

    /// <summary>The map, as Crucible.Data's <c>TransformPipeline</c> JSON of one quantile-normal transform fitted on the calibration rows.</summary>
    public JsonElement Map { get; init; }

    /// <summary>The map as a transform (<see cref="MarginalCalibration.Apply"/>).</summary>
    /// <exception cref="InvalidDataException">The map is not one fitted quantile-normal transform.</exception>
    public TransformPipeline LoadMap()
    {
        var map = TransformPipeline.FromJson(Map.GetRawText());
        if (map.Steps.Count != 1 || map.Steps[0] is not QuantileNormalTransform || !map.IsFitted)
            throw new InvalidDataException("the manifest's calibration map is not one fitted quantile-normal transform");
        return map;
    }
}

/// <summary>
/// Empirical quantile mapping of a trained model's marginals onto the distribution its model space was built to have.
/// <para>
/// The quantile-normal transform makes every train series N(0, 1) in model space, so a perfect model's generated
/// model-space values would be N(0, 1) per series. A trained network is not perfect: on the multi-asset panel its
/// marginals are a few per cent narrow for the equities and too heavy in the far tails for gold and the dollar, which
/// shows as kurtosis off by 30–60% even where VaR and ES are close (bench/tabular/README.md, session 9). The map
/// <c>z ↦ Φ⁻¹(Ĝ_j(z))</c>, with Ĝ_j the empirical CDF of series j in a large sample of the model's own output, makes
/// each generated marginal N(0, 1) again: the quantile mapping of forecast calibration (Panofsky &amp; Brier 1968; the
/// "empirical quantile mapping" of Maraun 2016's review), here fitted once on the model's own draws. Ĝ_j is
/// <see cref="QuantileNormalTransform"/> fitted on those draws (interpolated between order statistics, linear beyond
/// the sample's extremes).
/// </para>
/// <para>
/// What it changes and what it does not: each series' map is monotone, so the ranks of every generated row, and with
/// them the model's copula (its rank correlations and tail dependence), are untouched; the marginals become the train
/// marginals up to the transform's interpolation. Pearson correlations move a little, since they weigh the tails. The
/// map uses no training row: it is fitted on the model's output and the transform's own target, so it adds nothing a
/// model holder could not compute (with DP-SGD the transform is not quantile-normal and calibration is refused). It
/// is measured for one sampler and applied only for it (<see cref="Applies"/>).
/// </para>
/// </summary>
public static class MarginalCalibration
{
    /// <summary>The sampling seed of the calibration rows of a model trained with <paramref name="modelSeed"/>: SplitMix64 of the seed and a fixed tag.</summary>
    public static ulong SeedFor(ulong modelSeed)
    {
        ulong z = modelSeed ^ 0x6361_6c69_6272_6174UL; // "calibrat"
        z += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Fits the map on <paramref name="modelSpace"/> (rows × series, row-major: the model's generated values in model
    /// space, before any clamping) and returns it with its sampler.
    /// </summary>
    public static MarginalCalibrationManifest Fit(double[] modelSpace, IReadOnlyList<string> columns, MarginalCalibrationOptions options, SamplerOptions sampler, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(modelSpace);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sampler);
        int d = columns.Count;
        if (d == 0 || modelSpace.Length % d != 0) throw new ArgumentException("the calibration rows do not have one value per series", nameof(modelSpace));
        var map = new TransformPipeline([new QuantileNormalTransform(options.Knots)]);
        map.Fit(new TimeSeriesFrame([], columns, modelSpace, modelSpace.Length / d));
        return new MarginalCalibrationManifest
        {
            Sampler = sampler.Kind,
            SamplingSteps = sampler.Steps,
            Spacing = sampler.Spacing,
            Rows = modelSpace.Length / d,
            Seed = seed,
            Map = JsonDocument.Parse(map.ToJson()).RootElement.Clone(),
        };
    }

    /// <summary>Whether <paramref name="calibration"/> was measured with <paramref name="sampler"/> (DDIM, η = 0, same K and spacing), and so applies to its draws.</summary>
    public static bool Applies(MarginalCalibrationManifest calibration, SamplerOptions sampler)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        ArgumentNullException.ThrowIfNull(sampler);
        return calibration.Sampler == SamplerKind.Ddim && sampler.IsDeterministicDdim(calibration.SamplingSteps, calibration.Spacing);
    }

    /// <summary>Maps <paramref name="modelSpace"/> (rows × series, row-major) through the calibration in place.</summary>
    public static void Apply(TransformPipeline map, double[] modelSpace, IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(modelSpace);
        ArgumentNullException.ThrowIfNull(columns);
        var mapped = map.Forward(new TimeSeriesFrame([], columns, modelSpace, modelSpace.Length / columns.Count));
        mapped.Values.AsSpan().CopyTo(modelSpace);
    }
}
