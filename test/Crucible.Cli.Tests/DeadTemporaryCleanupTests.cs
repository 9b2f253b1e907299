using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// A run killed while writing an output leaves its temporary file (<c>.FILE.&lt;32 hex&gt;.tmp</c>) beside it; the next
/// run to the same output deletes it, as generate did alone before session 23 (evaluate's and stress's reports were left),
/// but never a temporary file another run is writing at that moment (held open) or has just written.
/// </summary>
public sealed class DeadTemporaryCleanupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-deadtmp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    // a temporary file of a write of FILE, last written hoursAgo
    private string Plant(string file, string hex, double hoursAgo)
    {
        var temp = P($".{file}.{hex}.tmp");
        File.WriteAllText(temp, "half an output");
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-hoursAgo));
        return temp;
    }

    private const string DeadHex = "0123456789abcdef0123456789abcdef", LiveHex = "ffffffffffffffffffffffffffffffff", FreshHex = "22222222222222222222222222222222";

    [Fact]
    public void Evaluate_DeletesTheDeadTemporariesOfItsReports_KeepsALiveAndAFreshOne()
    {
        string returns = TestPrices.Returns(P("returns.csv"), 80);
        string[] dead = [Plant("r.json", DeadHex, 1), Plant("r.html", DeadHex, 1)];
        // "fresh": written within AtomicFile.DeadTemporaryGrace of the run's start. Planted at the test's now, it aged past the
        // 5 s grace when the CLI process took longer than that to start (under load), and was rightly deleted; a time a
        // minute ahead stays within the grace however slowly the process starts
        string live = Plant("r.json", LiveHex, 1), fresh = Plant("r.html", FreshHex, -1.0 / 60);
        (int Exit, string Stdout, string Stderr) r;
        using (new FileStream(live, FileMode.Open, FileAccess.Write, FileShare.None)) // another evaluate writing r.json now
        {
            r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = P("home") },
                "evaluate", "--real", returns, "--synthetic", returns, "--out", P("r.json"), "--html", P("r.html"));
        }

        Assert.True(r.Exit == 0, r.Stderr);
        Assert.All(dead, d => Assert.False(File.Exists(d), d));
        Assert.True(File.Exists(live) && File.Exists(fresh));
        Assert.True(File.Exists(P("r.json")) && File.Exists(P("r.html")));
    }

    [Fact]
    public void Stress_DeletesTheDeadTemporaryOfItsReport()
    {
        var text = new StringBuilder("scenario,step,A,B\n");
        for (int s = 1; s <= 50; s++)
        {
            for (int t = 1; t <= 3; t++) text.Append(CultureInfo.InvariantCulture, $"{s},{t},{0.001 * ((s * 7 + t) % 11 - 5)},{0.002 * ((s * 3 + t) % 7 - 3)}\n");
        }

        File.WriteAllText(P("scenarios.csv"), text.ToString());
        File.WriteAllText(P("p.json"), """{"name": "half-half", "weights": {"A": 0.5, "B": 0.5}}""");
        string dead = Plant("s.json", DeadHex, 1);
        var r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = P("home") },
            "stress", "--scenarios", P("scenarios.csv"), "--portfolio", P("p.json"), "--out", P("s.json"));
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(P("s.json")));
    }
}
