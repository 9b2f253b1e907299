using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// Session 17: <c>crucible stress --reverse/--adversarial --model DIR --stress SPEC</c>: the model's candidates drawn under
/// a stress specification with generate's parser and semantics, recorded in the report and the run manifest and
/// reproduced by <c>verify-run --recompute</c>; a specification's moves only where the candidates are drawn unguided
/// (guidance toward the loss fills the sampler slot that enforces them), other combinations refused with exit 2.
/// </summary>
public sealed class StressSpecCommandTests() : StressModelCommandTestBase("crucible-cli-stressspec-")
{
    private static string Reverse(string report, out JsonElement section)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        section = doc.RootElement.GetProperty("reverse").Clone();
        return section.GetProperty("scenarios").GetRawText();
    }

    [Theory]
    [InlineData("VIXCLS=+2sd", new string[0])]                      // conditions: guided toward the loss as usual
    [InlineData("A<=-1%", new[] { "--guidance-scale", "0" })]     // a move: unguided candidates under constraint guidance
    public void ReverseUnderAStressSpecification_DrawsOtherCandidates_RecordsTheSpecification_AndRecomputeReproduces(string spec, string[] mode)
    {
        var (prices, state) = TestPrices.Sequence(Dir);
        string model = Train("c", prices, state);

        string plain = Path.Combine(Dir, "plain.json"), stressed = Path.Combine(Dir, "stressed.json");
        var a = Crucible(Stress(model, prices, plain, mode));
        Assert.True(a.Exit == 0, a.Stderr);
        var b = Crucible(Stress(model, prices, stressed, [.. mode, "--stress", spec]));
        Assert.True(b.Exit == 0, b.Stderr);

        // the same seed under the specification: other candidates, and the report says what they were drawn under
        var plainScenarios = Reverse(plain, out var plainSection);
        Assert.NotEqual(plainScenarios, Reverse(stressed, out var section));
        Assert.False(plainSection.TryGetProperty("stress", out _));
        Assert.Equal(spec, section.GetProperty("stress").GetString());
        var conditions = section.GetProperty("conditions").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(spec.StartsWith("VIXCLS", StringComparison.Ordinal) ? ["VIXCLS"] : [], conditions); // the specification's conditions, resolved
        Assert.True(section.TryGetProperty("guidance", out _)); // the weight in effect, as for --condition

        string manifest = ManifestPath(b.Stdout);
        using (var m = JsonDocument.Parse(File.ReadAllText(manifest)))
            Assert.Equal(spec, m.RootElement.GetProperty("config").GetProperty("stress").GetString());
        using (var m = JsonDocument.Parse(File.ReadAllText(ManifestPath(a.Stdout))))
            Assert.False(m.RootElement.GetProperty("config").TryGetProperty("stress", out _)); // earlier configs stay as they were

        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void CombinationsThatCannotWork_ExitTwoNamingTheRule_AndWriteNothing()
    {
        var (prices, state) = TestPrices.Sequence(Dir);
        string model = Train("c", prices, state);
        string report = Path.Combine(Dir, "r.json");

        void Fails(string[] args, params string[] expected)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            foreach (var e in expected) Assert.Contains(e, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));
        }

        // moves under guidance toward the loss (the reverse test's default scale, and --adversarial always)
        Fails(Stress(model, prices, report, "--stress", "VIXCLS=+2sd,A<=-1%"), "--stress: error [guidance-conflict]", "has moves on the returns", "--guidance-scale 0");
        var adversarial = Stress(model, prices, report, "--guidance-scale", "0", "--stress", "A<=-1%", "--adversarial");
        Fails(adversarial, "error [guidance-conflict]", "--adversarial fills that slot");

        // the specification's own errors, as generate reports them, and a condition given twice
        Fails(Stress(model, prices, report, "--stress", "NOPE=+1sd"), "--stress");
        Fails(Stress(model, prices, report, "--stress", "VIXCLS=+2sd", "--condition", "VIXCLS=20"), "condition-conflict");

        // --stress sets what --model draws under
        var args = Stress(model, prices, report, "--stress", "VIXCLS=+2sd");
        int at = Array.IndexOf(args, "--model");
        Fails([.. args[..at], .. args[(at + 2)..]], "--condition, --guidance and --stress set what --model draws under");
    }
}
