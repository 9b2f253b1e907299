using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Service.Tests;

/// <summary>A tiny conditional sequence model (SPY, TLT; condition VIXCLS; window 5; 20 training steps) for the service tests.</summary>
internal static class TinySequenceModel
{
    /// <param name="configure">Changes the options before training, e.g. the sampling defaults a calibrated model carries
    /// (<see cref="SequenceGeneratorOptions.GuidanceScale"/>, <see cref="SequenceGeneratorOptions.RegimeGuidance"/>).</param>
    /// <param name="conditional">False: trained without conditions (a model with no condition inputs).</param>
    public static SequenceGenerator Train(Func<SequenceGeneratorOptions, SequenceGeneratorOptions>? configure = null, bool conditional = true)
    {
        var options = new SequenceGeneratorOptions
        {
            Window = 5, DiffusionSteps = 50, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8,
            Training = new TrainerOptions(Steps: 20, BatchSize: 16, LearningRate: 2e-3, WarmupSteps: 5),
            Seed = 7,
        };
        var rng = new System.Random(5);
        var dates = Enumerable.Range(0, 60).Select(i => new DateOnly(2021, 1, 4).AddDays(i)).ToArray();
        var values = new double[60 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = ((rng.NextDouble() - 0.5) * 0.02) + (i % 2 == 0 ? 0.001 : -0.002);
        var conditions = new TimeSeriesFrame(dates[3..], ["VIXCLS"], [.. dates[3..].Select((_, i) => 15.0 + (i % 7))]);
        return new SequenceGenerator(configure is null ? options : configure(options)).Fit(new TimeSeriesFrame(dates, ["SPY", "TLT"], values), conditional ? conditions : null);
    }
}
