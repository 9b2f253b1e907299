using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary><c>crucible ensemble</c> end to end in a child process, on scenario files written here.</summary>
public sealed class EnsembleCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crucible-ensemble-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Temp(string name) => Path.Combine(_dir.FullName, name);

    /// <summary>A scenario CSV of i.i.d. normal daily log returns (sd <paramref name="vol"/> for A, half of it for B).</summary>
    private string Scenarios(string name, int seed, double vol, int steps = 5, int count = 2000)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var text = new StringBuilder("scenario,step,A,B\n");
        for (int s = 1; s <= count; s++)
        {
            for (int t = 1; t <= steps; t++) text.Append(CultureInfo.InvariantCulture, $"{s},{t},{vol * Normal():R},{0.5 * vol * Normal():R}\n");
        }

        string path = Temp(name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private string Portfolio()
    {
        string path = Temp("p.json");
        File.WriteAllText(path, """{"name": "half-half", "weights": {"A": 0.5, "B": 0.5}}""");
        return path;
    }

    [Fact]
    public void AgreeingMembers_PassAndMatchStress_AMisSpecifiedOneIsFlaggedAndNamed()
    {
        string a = Scenarios("a.csv", 1, 0.01), b = Scenarios("b.csv", 2, 0.01), calm = Scenarios("calm.csv", 3, 0.005), p = Portfolio();
        var (code, stdout, stderr) = CliProcess.Run("ensemble", "--scenarios", a, "--scenarios", b, "--portfolio", p, "--out", Temp("e.json"));
        Assert.True(code == 0, stderr);
        Assert.Contains("agreement", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Temp("e.json")));
        var root = doc.RootElement;
        Assert.False(root.GetProperty("flagged").GetBoolean());
        Assert.Equal(["a", "b"], root.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(0.975, root.GetProperty("alpha").GetDouble());
        Assert.Equal("half-half", root.GetProperty("portfolio").GetString());

        // each member's ES is crucible stress's on the same file
        var s = CliProcess.Run("stress", "--scenarios", a, "--portfolio", p, "--alpha", "0.975", "--out", Temp("s.json"));
        Assert.True(s.Exit == 0, s.Stderr);
        using var stress = JsonDocument.Parse(File.ReadAllText(Temp("s.json")));
        double esStress = stress.RootElement.GetProperty("portfolio").GetProperty("es").GetProperty("0.975").GetDouble();
        Assert.Equal(esStress, root.GetProperty("members")[0].GetProperty("es").GetDouble(), 12);

        // a member at half the volatility: flagged, exit 3, the report still written and the outlier named
        var flagged = CliProcess.Run("ensemble", "--scenarios", a, b, calm, "--portfolio", p, "--out", Temp("f.json"));
        Assert.True(flagged.Exit == 3, flagged.Stderr);
        Assert.Contains("FLAGGED", flagged.Stdout, StringComparison.Ordinal);
        using var f = JsonDocument.Parse(File.ReadAllText(Temp("f.json")));
        Assert.True(f.RootElement.GetProperty("flagged").GetBoolean());
        Assert.Contains(f.RootElement.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("calm", StringComparison.Ordinal));
        Assert.Equal(3, f.RootElement.GetProperty("wasserstein").GetArrayLength());
    }

    [Fact]
    public void BadInput_ExitsTwo_NamingTheRule_AndWritesNothing()
    {
        string a = Scenarios("a.csv", 1, 0.01), shortHorizon = Scenarios("short.csv", 2, 0.01, steps: 3, count: 200), p = Portfolio();
        void Fails(string expected, params string[] args)
        {
            var (code, stdout, stderr) = CliProcess.Run(args);
            Assert.True(code == 2, $"exit {code}: {stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        }

        Fails("ensemble-horizon", "ensemble", "--scenarios", a, shortHorizon, "--portfolio", p, "--out", Temp("e.json"));
        Fails("short.csv", "ensemble", "--scenarios", a, shortHorizon, "--portfolio", p, "--out", Temp("e.json"));
        Fails("at least two", "ensemble", "--scenarios", a, "--portfolio", p, "--out", Temp("e.json"));
        Fails("--alpha", "ensemble", "--scenarios", a, a, "--portfolio", p, "--alpha", "1.5", "--out", Temp("e.json"));
        Assert.False(File.Exists(Temp("e.json")));
    }

    [Fact]
    public void IdenticalZeroMembers_AgreeWithSpreadAndDistanceZero_AndVerifyAgain()
    {
        // every ES is 0 and every P&L flat: the spread and the normalised distances were 0/0, which canonical JSON cannot
        // hold (was exit 1), then null, and a NaN flags nothing; equal members now agree: spread 0, distances 0
        string zero = Temp("zero.csv");
        File.WriteAllText(zero, "scenario,step,A,B\n" + string.Concat(Enumerable.Range(1, 50).Select(i => $"{i},1,0,0\n")));
        string zero2 = Temp("zero-2.csv"); // one file named twice is refused
        File.Copy(zero, zero2);
        var (code, stdout, stderr) = CliProcess.Run("ensemble", "--scenarios", zero, zero2, "--portfolio", Portfolio(), "--out", Temp("e.json"));
        Assert.True(code == 0, $"exit {code}: {stderr}");
        string manifest = stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        var outcome = doc.RootElement.GetProperty("outcome");
        Assert.Equal(0, outcome.GetProperty("es_spread").GetDouble());
        using var report = JsonDocument.Parse(File.ReadAllText(Temp("e.json")));
        Assert.Equal(0, report.RootElement.GetProperty("es_spread").GetDouble());
        Assert.Equal(0, report.RootElement.GetProperty("max_wasserstein").GetDouble());
        Assert.False(report.RootElement.GetProperty("flagged").GetBoolean());
        Assert.Equal(report.RootElement.GetProperty("max_wasserstein").GetRawText(), outcome.GetProperty("max_wasserstein").GetRawText());
        var again = CliProcess.Run("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
    }

    [Fact]
    public void OneFileNamedTwice_IsRefused_ComparedByFullPath()
    {
        // it was accepted as members a and a#2: a member agreeing with itself understates the disagreement
        string a = Scenarios("a.csv", 1, 0.01), p = Portfolio();
        Directory.CreateDirectory(Temp("sub"));
        string viaSub = Path.Combine(_dir.FullName, "sub", "..", "a.csv");
        // a symbolic link to it is the same file too (it was a second member, agreeing with the first)
        string link = Temp("link.csv");
        File.CreateSymbolicLink(link, a);
        foreach (var second in new[] { a, viaSub, link })
        {
            var (code, stdout, stderr) = CliProcess.Run("ensemble", "--scenarios", a, second, "--portfolio", p, "--out", Temp("e.json"));
            Assert.True(code == 2, $"exit {code}: {stdout}{stderr}");
            Assert.Contains($"error [OPT-E]: --scenarios names {a} twice", stderr, StringComparison.Ordinal);
            Assert.Contains("compared by full path", stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Temp("e.json")));
        }

        // two files of one name in different folders stay two members (a, a#2)
        Directory.CreateDirectory(Temp("other"));
        File.Copy(a, Temp(Path.Combine("other", "a.csv")));
        var two = CliProcess.Run("ensemble", "--scenarios", a, Temp(Path.Combine("other", "a.csv")), "--portfolio", p, "--out", Temp("e.json"));
        Assert.True(two.Exit is 0 or 3, two.Stderr);
        Assert.Contains("a#2", File.ReadAllText(Temp("e.json")), StringComparison.Ordinal);
    }
}
