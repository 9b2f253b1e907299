using System.Globalization;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary><c>crucible privacy epsilon</c> and <c>crucible privacy noise</c> end to end.</summary>
public class PrivacyCommandTests
{
    private static (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["LC_ALL"] = "de_DE.UTF-8", ["LANG"] = "de_DE.UTF-8" }, args);

    [Fact]
    public void Epsilon_OpacusGoldenValue_TextAndJson()
    {
        var text = Crucible("privacy", "epsilon", "--noise-multiplier", "1.5", "--sampling-rate", "0.04", "--steps", "2250", "--delta", "1e-5");
        Assert.Equal(0, text.Exit);
        Assert.Contains("epsilon:          7.32911117143", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("best order 3.9", text.Stdout, StringComparison.Ordinal);

        var json = Crucible("privacy", "epsilon", "--noise-multiplier", "1.5", "--sampling-rate", "0.04", "--steps", "2250", "--delta", "1e-5", "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(7.32911117143, doc.RootElement.GetProperty("epsilon").GetDouble(), 5e-8);
        Assert.Equal(3.9, doc.RootElement.GetProperty("best_order").GetDouble());
        Assert.Equal("rdp", doc.RootElement.GetProperty("accountant").GetString());
        // the wire names of the manifests' enums (DpAccountantKind, DpSampling), byte for byte as the literals wrote them
        Assert.Contains("\"accountant\":\"rdp\",", json.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"sampling\":\"poisson\"}", json.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("opacus")]
    [InlineData("tf")]
    public void Epsilon_ASigmaTooSmallForDoublePrecision_IsInfinity_ExitZero(string orders)
    {
        // σ = 1e-160 exited 1 ("the fractional-order series did not converge")
        var json = Crucible("privacy", "epsilon", "--noise-multiplier", "1e-160", "--sampling-rate", "0.01", "--steps", "100", "--delta", "1e-5", "--orders", orders, "--json");
        Assert.True(json.Exit == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("Infinity", doc.RootElement.GetProperty("epsilon").GetString());
    }

    [Theory]
    [InlineData("0.01")]
    [InlineData("1e-160")]
    public void Epsilon_Prv_ANoiseBelowItsGridBound_ExitsTwoAtOnce_NamingTheBound(string sigma)
    {
        // σ = 0.01 exited 1 ("could not align the domain to the mesh")
        var r = Crucible("privacy", "epsilon", "--accountant", "prv", "--noise-multiplier", sigma, "--sampling-rate", "0.01", "--steps", "1000", "--delta", "1e-5");
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [DP-E-PRV-GRID]: the PRV accountant cannot account σ = ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("more than the 2097152 it takes", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Epsilon_TfOrders_ReproduceTfPrivacyTest0()
    {
        var json = Crucible("privacy", "epsilon", "--noise-multiplier", "1.3", "--sampling-rate", "0.0025", "--steps", "6000", "--delta", "1e-5",
            "--orders", "tf", "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(0.7242234026109595, doc.RootElement.GetProperty("epsilon").GetDouble(), 5e-8);
        Assert.Equal(19, doc.RootElement.GetProperty("best_order").GetDouble());
    }

    [Theory]
    [InlineData("prv", 6.777395712150674, 5e-8)]
    [InlineData("gdp", 6.595, 0.005)]
    public void Epsilon_OtherAccountants_OpacusValues(string accountant, double expected, double tolerance)
    {
        var json = Crucible("privacy", "epsilon", "--noise-multiplier", "1.5", "--sampling-rate", "0.04", "--steps", "2249", "--delta", "1e-5",
            "--accountant", accountant, "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(expected, doc.RootElement.GetProperty("epsilon").GetDouble(), tolerance);
        Assert.Equal(accountant, doc.RootElement.GetProperty("accountant").GetString());
        Assert.Contains("\"sampling\":\"poisson\"}", json.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.01", "gdp")]
    public void Epsilon_ThatIsInfinite_IsInfinity_InTextAndJson(string sigma, string accountant)
    {
        // --json was an internal error (exit 1): System.Text.Json refuses to write ∞ as a number (σ = 0 itself is
        // refused with exit 2, Epsilon_NoNoise_ExitsTwoSayingThereIsNoPrivacy; a σ this small overflows GDP's μ)
        string[] args = ["privacy", "epsilon", "--noise-multiplier", sigma, "--sampling-rate", "0.01", "--steps", "100", "--delta", "1e-5", "--accountant", accountant];
        var text = Crucible(args);
        Assert.Equal(0, text.Exit);
        Assert.Contains("epsilon:          Infinity", text.Stdout, StringComparison.Ordinal);
        var json = Crucible([.. args, "--json"]);
        Assert.True(json.Exit == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("Infinity", doc.RootElement.GetProperty("epsilon").GetString());
    }

    [Fact]
    public void Noise_ForBudget_MatchesOpacus()
    {
        var json = Crucible("privacy", "noise", "--epsilon", "8", "--sampling-rate", "0.04", "--steps", "2250", "--delta", "1e-5", "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("1.416", Math.Round(doc.RootElement.GetProperty("noise_multiplier").GetDouble(), 4).ToString(CultureInfo.InvariantCulture));
        Assert.True(doc.RootElement.GetProperty("epsilon").GetDouble() <= 8);
    }

    [Theory]
    [InlineData("opacus")]
    [InlineData("tf")]
    public void Noise_NeverOvershootsTheBudget_WhicheverOrders(string orders)
    {
        // --orders tf printed ε = 30.578… for --epsilon 30: σ was calibrated with the Opacus series, then accounted with dp_accounting's
        var json = Crucible("privacy", "noise", "--epsilon", "30", "--sampling-rate", "0.3", "--steps", "100", "--delta", "1e-5", "--orders", orders, "--json");
        Assert.True(json.Exit == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        var eps = doc.RootElement.GetProperty("epsilon").GetDouble();
        Assert.True(eps <= 30 && eps >= 29.99, $"ε = {eps}");
    }

    [Fact]
    public void Noise_ABudgetNoNoiseReaches_ExitsTwo_NamingTheEpsilonFlag()
    {
        // the refusal names the flag the user typed (as train names its --dp-* flags), with the values that make it unreachable
        var r = Crucible("privacy", "noise", "--epsilon", "1e-9", "--sampling-rate", "0.5", "--steps", "100000", "--delta", "1e-5");
        Assert.Equal(2, r.Exit);
        Assert.StartsWith("--epsilon: error [DP-E-BUDGET]: the privacy budget ε = 1E-09 is too low for q = 0.5, 100000 steps and δ = 1E-05: ", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("--sampling-rate", "1.5")]
    [InlineData("--delta", "0")]
    [InlineData("--steps", "0")]
    [InlineData("--noise-multiplier", "-1")]
    public void Epsilon_BadInput_Exit2(string option, string value)
    {
        var args = new Dictionary<string, string>
        {
            ["--noise-multiplier"] = "1.5", ["--sampling-rate"] = "0.04", ["--steps"] = "2250", ["--delta"] = "1e-5",
        };
        args[option] = value;
        var (code, stdout, stderr) = Crucible(["privacy", "epsilon", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(2, code);
        Assert.Contains("error [OPT-E]", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rdp")]
    [InlineData("prv")]
    [InlineData("gdp")]
    public void Epsilon_NoNoise_ExitsTwoSayingThereIsNoPrivacy(string accountant)
    {
        // σ = 0 used to print ε = Infinity with a hint to widen the orders (and exit 1 with --json)
        foreach (var json in new[] { false, true })
        {
            string[] args = ["privacy", "epsilon", "--noise-multiplier", "0", "--sampling-rate", "0.01", "--steps", "100", "--delta", "1e-5", "--accountant", accountant];
            var (code, stdout, stderr) = Crucible(json ? [.. args, "--json"] : args);
            Assert.True(code == 2, $"exit {code}: {stdout}{stderr}");
            Assert.Contains("error [OPT-E]: --noise-multiplier 0 adds no noise: DP-SGD without noise gives no privacy at all (ε is infinite); give σ > 0", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("widen the orders", stderr, StringComparison.Ordinal);
        }
    }
}
