namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--condition VIXCLS=+10</c> was read as the level 10 where <c>--stress "VIXCLS=+10"</c> is a shift of +10 from the
/// reference state: a '+' in a condition is now refused (<c>OPT-E-CONDITION</c>, pointing to <c>--stress</c>); a negative
/// level (a spread or rate of -0.5) is still a level.
/// </summary>
public sealed class ConditionLevelTests() : StressModelCommandTestBase("crucible-cli-condition-level-")
{
    [Fact]
    public void AConditionWithAPlusSign_IsRefusedPointingToStress_AndANegativeLevelIsAccepted()
    {
        var (prices, state) = TestPrices.Sequence(Dir);
        string model = Train("c", prices, state);
        string csv = Path.Combine(Dir, "s.csv");

        foreach (string condition in (string[])["VIXCLS=+10", "VIXCLS= +10"])
        {
            var r = Crucible("generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--condition", condition, "--out", csv);
            Assert.True(r.Exit == 2, $"{condition}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("--condition: error [OPT-E-CONDITION]", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("--stress \"VIXCLS=+10\"", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(csv));
        }

        // stress --reverse --model takes its conditions through the same parser
        var s = Crucible(Stress(model, prices, Path.Combine(Dir, "r.json"), "--condition", "VIXCLS=+10"));
        Assert.True(s.Exit == 2, $"exit {s.Exit}: {s.Stderr}");
        Assert.Contains("--stress \"VIXCLS=+10\"", s.Stderr, StringComparison.Ordinal);

        var negative = Crucible("generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--condition", "TERM=-0.5", "--out", csv);
        Assert.True(negative.Exit == 0, negative.Stderr);
    }
}
