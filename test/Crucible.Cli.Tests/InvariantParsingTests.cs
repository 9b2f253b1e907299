using System.CommandLine;
using System.Globalization;

namespace Crucible.Cli.Tests;

/// <summary>Every decimal option of every command parses with '.' whatever the current culture.</summary>
public sealed class InvariantParsingTests
{
    private static IEnumerable<Command> All(Command c) => new[] { c }.Concat(c.Subcommands.SelectMany(All));

    [Fact]
    public void EveryDecimalOption_HasTheInvariantParser()
    {
        var options = All(CrucibleCommand.Build()).SelectMany(c => c.Options).ToArray();
        var doubles = options.OfType<Option<double>>().ToArray();
        var optional = options.OfType<Option<double?>>().ToArray();
        Assert.NotEmpty(doubles);
        Assert.NotEmpty(optional);
        Assert.All(doubles, o => Assert.NotNull(o.CustomParser));
        Assert.All(optional, o => Assert.NotNull(o.CustomParser));
    }

    [Theory]
    [InlineData("sv-SE")]
    [InlineData("nb-NO")]
    public void ARefusalQuotingANegativeNumber_WritesItInvariantly_UnderAnyCulture(string culture)
    {
        // under CRUCIBLE_CULTURE=sv-SE (ICU) the refusal read "got −5", with U+2212 for the minus the user typed
        var dir = Directory.CreateTempSubdirectory("crucible-cli-culture-minus-").FullName;
        try
        {
            var r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(dir, "home"), ["CRUCIBLE_CULTURE"] = culture },
                "generate", "--model", Path.Combine(dir, "none"), "--count", "-5", "--out", Path.Combine(dir, "s.csv"));
            Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [OPT-E]: --count must be at least 1, got -5", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "s.csv")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    public void DecimalValues_ReadTheSame_UnderAnyCulture(string name)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(name);
            var root = CrucibleCommand.Build();
            var compare = root.Subcommands.Single(c => c.Name == "compare");
            var alpha = compare.Options.OfType<Option<double>>().Single(o => o.Name == "--alpha");
            Assert.Equal(0.975, root.Parse(["compare", "--alpha", "0.975"]).GetValue(alpha));
            var train = root.Subcommands.Single(c => c.Name == "train");
            var epsilon = train.Options.OfType<Option<double?>>().Single(o => o.Name == "--dp-epsilon");
            Assert.Equal(2.5, root.Parse(["train", "--dp-epsilon", "2.5"]).GetValue(epsilon));
            Assert.Null(root.Parse(["train"]).GetValue(epsilon));
            Assert.Equal(0.99, root.Parse(["compare"]).GetValue(alpha)); // the default still applies
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
