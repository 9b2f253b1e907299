namespace Crucible.Cli.Tests;

/// <summary>
/// Session 15: a command that only reads the home refuses a named home that is not there (a mistyped <c>--home</c> used
/// to create one, audit.db and signing key included, and answer an empty inventory), and a home whose audit log was
/// deleted or emptied is not taken for a new one: appending commands refuse, <c>audit verify</c> reports a truncation.
/// </summary>
public sealed class HomeExistenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-home-existence-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    [Fact]
    public void ReadOnlyCommands_RefuseANamedHomeThatIsNotThere_AndCreateNothing()
    {
        string missing = Path.Combine(_dir, "no-such-home");
        string manifest = Path.Combine(_dir, "run.json");
        File.WriteAllText(manifest, "{}");
        string[][] commands =
        [
            ["model", "list", "--home", missing],
            ["model", "list", "--json", "--store", "sqlite:" + missing],
            ["model", "status", "--home", missing, "--id", "0123456789abcdef", "--status", "retired", "--reason", "r"],
            ["audit", "verify", "--home", missing],
            ["audit", "log", "--home", missing],
            ["audit", "verify", "--store", "sqlite:" + missing],
            ["audit", "log", "--store", "sqlite:" + missing],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
            // the message names the option the user gave: --store sqlite:DIR is not --home
            var option = args.Contains("--store") ? "--store" : "--home";
            Assert.Contains($"error [HOME-E-MISSING]: no Crucible home at {missing} ({option})", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(missing), string.Join(' ', args));
        }

        // CRUCIBLE_HOME is named too: a mistyped variable is refused the same way
        var env = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = missing }, "model", "list");
        Assert.Equal(2, env.Exit);
        Assert.Contains($"no Crucible home at {missing} (CRUCIBLE_HOME)", env.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void TheDefaultHomeNotCreatedYet_ListsNothing_AndIsNotCreated()
    {
        string profile = Path.Combine(_dir, "user");
        Directory.CreateDirectory(profile);
        var environment = new Dictionary<string, string> { ["CRUCIBLE_HOME"] = "", ["HOME"] = profile };
        string home = Path.Combine(profile, ".crucible");

        var list = CliProcess.Run(environment, "model", "list");
        Assert.True(list.Exit == 0, list.Stderr);
        Assert.Contains($"no models registered (no Crucible home at {home} yet)", list.Stdout, StringComparison.Ordinal);
        var json = CliProcess.Run(environment, "model", "list", "--json");
        Assert.Equal(0, json.Exit);
        Assert.Equal("[]", json.Stdout.Trim());
        var log = CliProcess.Run(environment, "audit", "log", "--json");
        Assert.Equal(0, log.Exit);
        Assert.Equal("[]", log.Stdout.Trim());
        // verifying nothing is not a success
        var verify = CliProcess.Run(environment, "audit", "verify");
        Assert.Equal(2, verify.Exit);
        Assert.Contains($"no Crucible home at {home} (the default home)", verify.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public void AWritingCommand_StillCreatesItsHome()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), home = Path.Combine(_dir, "new-home");
        var t = Crucible("train", "--data", prices, "--steps", "2", "--out", Path.Combine(_dir, "m"), "--home", home);
        Assert.True(t.Exit == 0, t.Stderr);
        Assert.True(File.Exists(Path.Combine(home, "audit.db")));
        var list = Crucible("model", "list", "--home", home);
        Assert.Equal(0, list.Exit);
        Assert.Contains("candidate", list.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("emptied")]
    public void ALostAuditLog_IsTruncationForVerify_AndAppendingCommandsRefuse(string how)
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--steps", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        foreach (var f in Directory.GetFiles(Home, "audit.db*")) File.Delete(f);
        if (how == "emptied") File.WriteAllBytes(Path.Combine(Home, "audit.db"), []);

        var v = Crucible("audit", "verify");
        Assert.True(v.Exit == 3, $"audit verify: exit {v.Exit}: {v.Stdout}{v.Stderr}");
        Assert.Contains("(Truncation)", v.Stdout, StringComparison.Ordinal);

        string[][] appending =
        [
            ["generate", "--model", model, "--count", "2", "--out", Path.Combine(_dir, "s.csv")],
            ["model", "list"],
        ];
        foreach (var args in appending)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
            Assert.Contains("error [AUDIT-E-LOST]: the audit log is missing or empty, but the checkpoints exported to", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "s.csv")));
        }

        // nothing was started over the lost chain: still no log (or the same empty file), and verify says the same
        Assert.Equal(how == "emptied", File.Exists(Path.Combine(Home, "audit.db")));
        if (how == "emptied") Assert.Equal(0, new FileInfo(Path.Combine(Home, "audit.db")).Length);
        Assert.Equal(3, Crucible("audit", "verify").Exit);
    }

    [Fact]
    public void ALostAuditLogAndCheckpointFile_InAHomeWithRunsAndModels_IsTruncationForVerify()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", Path.Combine(_dir, "m")).Exit);
        foreach (var f in Directory.GetFiles(Home, "audit*")) File.Delete(f); // the log and the exported checkpoints

        var v = Crucible("audit", "verify");
        Assert.True(v.Exit == 3, $"audit verify: exit {v.Exit}: {v.Stdout}{v.Stderr}");
        Assert.Contains("(Truncation): the audit log is missing or empty, but the home holds 1 run manifests (runs/) and 1 registered model folders (models/)",
            v.Stdout, StringComparison.Ordinal);

        // the appending commands refuse it too (runs/ and models/ say the log held entries), creating nothing
        string[][] appending =
        [
            ["generate", "--model", Path.Combine(_dir, "m"), "--count", "2", "--out", Path.Combine(_dir, "s.csv")],
            ["train", "--data", prices, "--steps", "2", "--out", Path.Combine(_dir, "m2")],
            ["model", "list"],
        ];
        foreach (var args in appending)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
            Assert.Contains("error [AUDIT-E-LOST]: the audit log is missing or empty, but the home holds 1 run manifests (runs/) and 1 registered model folders (models/)",
                r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "s.csv")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "m2")));
        Assert.Empty(Directory.GetFiles(Home, "audit*"));
    }
}
