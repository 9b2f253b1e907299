namespace Crucible.Cli.Tests;

/// <summary>
/// A home whose audit database is damaged or replaced (session 14's QA of the registry commands): every command that
/// opens it exits 2 with a message naming the home's database, never "internal error: SqliteException" (exit 1).
/// </summary>
public sealed class DamagedHomeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-damaged-home-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    [Fact]
    public void AnAuditDatabaseThatIsNotADatabase_ExitsTwoNamingTheHomeDatabase_InTheRegistryCommands()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--steps", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string id = Path.GetFileName(Directory.GetDirectories(Path.Combine(Home, "models")).Single()); // the registered model's id
        foreach (var f in Directory.GetFiles(Home, "audit.db*")) File.Delete(f);
        var garbage = new byte[8192];
        new System.Random(1).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(Home, "audit.db"), garbage);

        string[][] commands =
        [
            ["model", "list"],
            ["model", "status", "--id", id[..12], "--status", "retired", "--reason", "test"],
            ["generate", "--model", id[..12], "--count", "2", "--out", Path.Combine(_dir, "s.csv")],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [HOME-E-DATABASE]: a database of the Crucible home (--home, CRUCIBLE_HOME) is damaged or not a database", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        }

        // audit verify's answer to a log that is not a database: a verification failure (Malformed, exit 3), as for a
        // truncated one (Governance TamperMatrixTests), not bad input
        var v = Crucible("audit", "verify");
        Assert.True(v.Exit == 3, $"audit verify: exit {v.Exit}: {v.Stdout}{v.Stderr}");
        Assert.Contains("Malformed", v.Stdout + v.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", v.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelList_FlagsARegisteredModelWhoseFilesAreGoneOrChanged_AndListsSoundOnesAsBefore()
    {
        // model list read the log alone: a model whose folder was deleted or whose weights were changed was listed as a
        // sound candidate, while generate --model refused it (REG-E-HASH)
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--steps", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string folder = Directory.GetDirectories(Path.Combine(Home, "models")).Single(), id = Path.GetFileName(folder);
        var sound = Crucible("model", "list");
        var soundJson = Crucible("model", "list", "--json");
        Assert.True(sound.Exit == 0 && soundJson.Exit == 0, sound.Stderr + soundJson.Stderr);
        Assert.DoesNotContain("FILES", sound.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("files_problem", soundJson.Stdout, StringComparison.Ordinal);

        File.AppendAllText(Path.Combine(folder, "weights.safetensors"), "x");
        var changed = Crucible("model", "list");
        Assert.Equal(0, changed.Exit);
        Assert.Equal(sound.Stdout.TrimEnd('\n') + "  FILES: weights.safetensors was changed (its SHA-256 is not the model id); generate --model refuses it\n",
            changed.Stdout.ReplaceLineEndings("\n"));

        Directory.Delete(folder, recursive: true);
        var gone = Crucible("model", "list", "--json");
        Assert.Equal(0, gone.Exit);
        using var doc = System.Text.Json.JsonDocument.Parse(gone.Stdout);
        var m = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(id, m.GetProperty("id").GetString());
        Assert.Equal("candidate", m.GetProperty("status").GetString());
        Assert.Equal("its folder is missing", m.GetProperty("files_problem").GetString());
    }
}
