using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

/// <summary>
/// The training range of a sequence model's conditions (session 22): the manifest records each feature's min and max over
/// the training condition vectors, and a request (a condition, a stress specification) outside it is sampled with a
/// warning that names the feature, the value, the range and the training sd beyond the nearer end; a manifest without
/// the range (an older model) loads and warns about nothing.
/// </summary>
public class ConditionRangeTests
{
    private static readonly SequenceGeneratorOptions Tiny = new()
    {
        Window = 5, DiffusionSteps = 20, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8,
        Training = new TrainerOptions(Steps: 2, BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1), Seed = 1,
    };

    // 40 weekdays; VIXCLS = 15 + (r mod 7), so the 36 windows' conditions (their first day's) span 15 .. 21
    private static SequenceGenerator Fitted()
    {
        var rng = new System.Random(3);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 40);
        var values = new double[40 * 2];
        var vix = new double[40];
        for (int r = 0; r < 40; r++)
        {
            values[2 * r] = 0.01 * (rng.NextDouble() - 0.5);
            values[(2 * r) + 1] = 0.02 * (rng.NextDouble() - 0.5);
            vix[r] = 15 + (r % 7);
        }

        return new SequenceGenerator(Tiny).Fit(new TimeSeriesFrame([.. dates], ["SPY", "TLT"], values), new TimeSeriesFrame([.. dates], ["VIXCLS"], vix));
    }

    private static SequenceSampleRequest At(double vix) => new(new Dictionary<string, double> { ["vixcls"] = vix });

    [Fact]
    public void TheManifest_RecordsTheTrainingRange()
    {
        var c = Fitted().Manifest.Conditions;
        Assert.Equal([15.0], c.Min);
        Assert.Equal([21.0], c.Max);
    }

    [Theory]
    [InlineData(15.0)]
    [InlineData(18.5)]
    [InlineData(21.0)]
    public void AConditionInsideTheRange_GivesNoWarning(double vix)
    {
        var meta = Fitted().Generate(4, seed: 2, At(vix)).Metadata;
        Assert.Null(meta.ConditionWarnings);
        Assert.DoesNotContain("condition_warnings", ScenarioCsv.ToJson(meta), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30.0, "above the maximum")]
    [InlineData(10.0, "below the minimum")]
    public void AConditionOutsideTheRange_IsWarnedWithItsNumbers(double vix, string side)
    {
        var g = Fitted();
        double sd = g.Manifest.Conditions.Std[0];
        double beyond = vix > 21 ? (vix - 21) / sd : (15 - vix) / sd;
        var meta = g.Generate(4, seed: 2, At(vix)).Metadata;
        var w = Assert.Single(meta.ConditionWarnings!);
        Assert.Equal(new ConditionRangeWarning("VIXCLS", vix, 15, 21, beyond), w);
        Assert.True(beyond > 1, $"{beyond}");
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"condition VIXCLS = {vix:G6} is outside its training range [15, 21]: {beyond:0.##} training sd {side}"), w.Message, StringComparison.Ordinal);
        var json = JsonNode.Parse(ScenarioCsv.ToJson(meta))!["condition_warnings"]![0]!;
        Assert.Equal("VIXCLS", (string?)json["feature"]);
        Assert.Equal(beyond, (double)json["standard_deviations_beyond"]!);
    }

    [Fact]
    public void AStressSpecificationBeyondTheRange_IsWarned()
    {
        var g = Fitted();
        var meta = g.Generate(4, seed: 2, new SequenceSampleRequest(Stress: "VIXCLS=+40sd")).Metadata;
        var w = Assert.Single(meta.ConditionWarnings!);
        Assert.Equal("VIXCLS", w.Feature);
        Assert.True(w.Value > 21 && w.StandardDeviationsBeyond > 30, w.Message);
    }

    [Fact]
    public void AnOlderManifestWithoutTheRange_Loads_AndWarnsAboutNothing()
    {
        string folder = Path.Combine(Path.GetTempPath(), "crucible-range-" + Guid.NewGuid().ToString("N"));
        try
        {
            Fitted().Save(folder);
            string path = Path.Combine(folder, "manifest.json");
            var manifest = JsonNode.Parse(File.ReadAllText(path))!;
            var conditions = manifest["conditions"]!.AsObject();
            Assert.True(conditions.Remove("min") && conditions.Remove("max"));
            // a range with a wrong length is a broken manifest, refused
            var broken = JsonNode.Parse(File.ReadAllText(path))!;
            broken["conditions"]!["min"] = new JsonArray(1.0, 2.0);
            File.WriteAllText(path, broken.ToJsonString());
            Assert.Equal("model-invalid", Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder)).Rule);

            File.WriteAllText(path, manifest.ToJsonString());
            var loaded = SequenceGenerator.Load(folder);
            Assert.Null(loaded.Manifest.Conditions.Min);
            Assert.Null(loaded.Generate(4, seed: 2, At(30)).Metadata.ConditionWarnings);
            Assert.Empty(loaded.ConditionWarnings(new Dictionary<string, double> { ["VIXCLS"] = 300 }));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
