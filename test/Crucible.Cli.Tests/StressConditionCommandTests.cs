using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible stress --reverse/--adversarial --model DIR --condition NAME=VALUE [--guidance W]</c>: the model's candidates
/// drawn under the conditions and classifier-free guidance weight, parsed and refused as <c>generate --condition</c>,
/// recorded in the report and the run manifest, and reproduced by <c>verify-run --recompute</c>.
/// </summary>
public sealed class StressConditionCommandTests() : StressModelCommandTestBase("crucible-cli-stresscond-")
{
    [Fact]
    public void ReverseAndAdversarial_WithACondition_DrawOtherScenarios_RecordTheConditionAndTheWeight_AndRecomputeReproduces()
    {
        var (prices, state) = TestPrices.Sequence(Dir);
        string model = Train("c", prices, state);

        string plain = Path.Combine(Dir, "plain.json"), conditioned = Path.Combine(Dir, "conditioned.json");
        var a = Crucible(Stress(model, prices, plain));
        Assert.True(a.Exit == 0, a.Stderr);
        var b = Crucible(Stress(model, prices, conditioned, "--condition", "vixcls=24", "--guidance", "3", "--adversarial"));
        Assert.True(b.Exit == 0, b.Stderr);

        using var plainDoc = JsonDocument.Parse(File.ReadAllText(plain));
        using var doc = JsonDocument.Parse(File.ReadAllText(conditioned));
        var plainReverse = plainDoc.RootElement.GetProperty("reverse");
        var reverse = doc.RootElement.GetProperty("reverse");
        // the same seed under VIXCLS = 24 and w = 3: other candidates
        Assert.NotEqual(plainReverse.GetProperty("scenarios").GetRawText(), reverse.GetProperty("scenarios").GetRawText());
        Assert.False(plainReverse.TryGetProperty("conditions", out _));
        Assert.False(plainReverse.TryGetProperty("guidance", out _));
        foreach (var section in new[] { reverse, doc.RootElement.GetProperty("adversarial") })
        {
            // under the model's own feature name, as generate's metadata records it
            var conditions = section.GetProperty("conditions");
            Assert.Equal(24, conditions.GetProperty("VIXCLS").GetDouble());
            Assert.Single(conditions.EnumerateObject());
            Assert.Equal(3, section.GetProperty("guidance").GetDouble());
        }

        string manifest = ManifestPath(b.Stdout);
        using (var m = JsonDocument.Parse(File.ReadAllText(manifest)))
        {
            var config = m.RootElement.GetProperty("config");
            Assert.Equal("vixcls=24", Assert.Single(config.GetProperty("conditions").EnumerateArray()).GetString());
            Assert.Equal(3, config.GetProperty("guidance").GetDouble());
        }

        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("VIXCLS", "OPT-E-CONDITION")]
    [InlineData("VIXCLS=abc", "OPT-E-CONDITION")]
    [InlineData("=24", "OPT-E-CONDITION")]
    [InlineData("VIXCLS=24,TERM=1", "OPT-E-CONDITION")]
    [InlineData("NOPE=1", "condition-name")]
    public void ABadCondition_ExitsTwoNamingTheRule_AndWritesNothing(string condition, string rule)
    {
        var (prices, state) = TestPrices.Sequence(Dir);
        string model = Train("c", prices, state);
        string report = Path.Combine(Dir, "r.json");
        var r = Crucible(Stress(model, prices, report, "--condition", condition));
        Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains(rule, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }

    [Fact]
    public void AConditionOnAnUnconditionalModel_OrWithoutAModel_OrANegativeWeight_ExitsTwo()
    {
        var (prices, _) = TestPrices.Sequence(Dir);
        string model = Train("u", prices, null);
        string report = Path.Combine(Dir, "r.json");
        var unconditional = Crucible(Stress(model, prices, report, "--condition", "VIXCLS=20"));
        Assert.True(unconditional.Exit == 2, unconditional.Stderr);
        Assert.Contains("condition-name", unconditional.Stderr, StringComparison.Ordinal);
        Assert.Contains("the model is unconditional", unconditional.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(model, "manifest.json"), unconditional.Stderr, StringComparison.Ordinal);

        var args = Stress(model, prices, report, "--condition", "VIXCLS=20");
        int at = Array.IndexOf(args, "--model");
        var noModel = Crucible([.. args[..at], .. args[(at + 2)..]]);
        Assert.True(noModel.Exit == 2, noModel.Stderr);
        Assert.Contains("--condition, --guidance and --stress set what --model draws under", noModel.Stderr, StringComparison.Ordinal);

        var negative = Crucible(Stress(model, prices, report, "--guidance", "-1"));
        Assert.True(negative.Exit == 2, negative.Stderr);
        Assert.Contains("--guidance takes the classifier-free guidance weight", negative.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }
}
