using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Governance.Registry;
using Crucible.Service.Scenarios;

namespace Crucible.Service.Tests;

/// <summary>
/// A model trained with <c>train --withhold-prices</c> (a job's <c>withhold_prices</c>) records no last train prices:
/// <c>"prices": true</c> without <c>start_prices</c> is refused, and the message says why (the job's member) and what to send.
/// </summary>
public sealed class WithheldPricesTests
{
    [Fact]
    public void PricesWithoutAStart_OnAModelWithWithheldPrices_NamesTheFlagAndWhatToSend()
    {
        var values = new double[40 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = 0.01 * Math.Sin(i * 0.7);
        var provenance = new DataProvenance("book.csv", null, nameof(InputKind.Prices)) { LastPricesWithheld = true };
        var generator = new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 16, Blocks = 1, TimeEmbedding = 8, DiffusionSteps = 20,
            Training = new TrainerOptions(Steps: 2, BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1), Seed = 1,
        }).Fit(new TimeSeriesFrame([], ["A", "B"], values, 40), provenance);
        Assert.Null(generator.Manifest.Data.LastPrices);
        Assert.True(generator.Manifest.Data.LastPricesWithheld);

        var model = new LoadedModel(new ModelRecord(generator.ModelId, "unused", "", ModelStatus.Candidate, 1), generator, null);
        var e = Assert.Throws<InvalidInputException>(() => model.StartPricesOf(new ScenarioRequest { Prices = true }));
        // session 29: the training job's member, not crucible train's --withhold-prices, which a client never typed
        Assert.Contains("this model records none (its last train prices were withheld at training, withhold_prices); send start_prices", e.Message, StringComparison.Ordinal);
    }
}
