using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Evaluation;
using Crucible.Evaluation.Privacy;

namespace Crucible.Cli.Commands;

/// <summary>Glue between the evaluation's shadow-model attack and the tabular generator: no maths, only conversions.</summary>
internal static class ShadowGenerators
{
    /// <summary>
    /// A <see cref="ShadowGenerator"/> that trains a <see cref="DiffusionGenerator"/> with the manifest's config (its
    /// DP settings included; seed replaced; steps replaced by <paramref name="steps"/> when given) and samples with the
    /// generator's default sampler, as <c>crucible generate</c> does.
    /// </summary>
    /// <remarks>
    /// A DP-trained model's shadows keep its sampling rate q (not its batch size, which may exceed a shadow's smaller
    /// train set), so they run the same mechanism the manifest states.
    /// </remarks>
    public static ShadowGenerator FromModel(ModelManifest manifest, int? steps)
    {
        if (steps is < 1) throw new InvalidInputException("OPT-E", "--shadow-steps must be at least 1");
        var config = manifest.Config;
        if (config.Privacy is { } dp && manifest.Privacy is { } statement) config = config with { Privacy = dp with { SampleRate = statement.SampleRate } };
        return (set, seed, count) =>
        {
            var options = config with { Seed = seed };
            if (steps is { } s) options = options with { Training = options.Training with { Steps = s } };
            int n = set.RowCount, d = set.SeriesCount;
            var values = new double[n * d];
            for (var j = 0; j < d; j++)
            {
                for (var i = 0; i < n; i++) values[(i * d) + j] = set.Columns[j][i];
            }

            var sample = new DiffusionGenerator(options).Fit(new TimeSeriesFrame([], set.Names, values, n)).Sample(count, seed);
            var columns = new double[d][];
            for (var j = 0; j < d; j++) columns[j] = sample.Column(j).ToArray();
            return new SeriesSet(set.Names, columns);
        };
    }
}
