using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Tabular;

public sealed class StratifiedGeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-strata-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TimeSeriesFrame Three(int n)
    {
        var rng = new Philox(21);
        var values = new double[n * 3];
        for (int i = 0; i < values.Length; i++) values[i] = 0.01 * rng.NextNormal();
        return new TimeSeriesFrame([], ["A", "B", "C"], values, n);
    }

    [Fact]
    public void Strata_ChangeTraining_AreRecordedInTheManifest_AndSurviveSaveAndLoad()
    {
        var train = Three(200);
        var options = DiffusionGeneratorTests.Small(steps: 20);
        var plain = new DiffusionGenerator(options).Fit(train);
        var strata = new Dictionary<string, string> { ["A"] = "equity", ["B"] = "equity", ["C"] = "bond" };
        var stratified = new DiffusionGenerator(options with { Strata = strata }).Fit(train);

        // A and B share half the loss, C has the other half: other gradients, other weights
        Assert.NotEqual(plain.ModelId, stratified.ModelId);
        var plainJson = System.Text.Encoding.UTF8.GetString(plain.ManifestBytes());
        var json = System.Text.Encoding.UTF8.GetString(stratified.ManifestBytes());
        Assert.DoesNotContain("\"strata\"", plainJson, StringComparison.Ordinal); // off: the manifest is as before
        Assert.Contains("\"strata\": {", json, StringComparison.Ordinal);
        Assert.Contains("\"C\": \"bond\"", json, StringComparison.Ordinal);

        var folder = Path.Combine(_dir, "m");
        stratified.Save(folder);
        var loaded = DiffusionGenerator.Load(folder);
        Assert.Equal(stratified.ModelId, loaded.ModelId);
        Assert.Equal("bond", loaded.Options.Strata!["C"]);
        Assert.Equal(stratified.Sample(5, 1).Values, loaded.Sample(5, 1).Values);
    }

    [Fact]
    public void Strata_MustLabelEverySeries_AndRefuseWhitening()
    {
        var options = DiffusionGeneratorTests.Small(steps: 2) with { Strata = new Dictionary<string, string> { ["A"] = "x", ["B"] = "y" } };
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(options).Fit(Three(50)));
        Assert.Equal("SEG-E-UNASSIGNED", e.Rule);
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(options with { Whiten = true }));
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(options with { Strata = new Dictionary<string, string>() }));
    }
}
