using System.Security.Cryptography;

namespace Crucible.Cli.Tests;

/// <summary>
/// Every file a command reads whole into memory (a config, a trainer state, start prices, thresholds, segments, a
/// scenario's <c>.meta.json</c>, a portfolio, a report, validation evidence, a run manifest, a key or checkpoint file) is
/// refused by its size before it is read: exit 2, <c>FILE-E-SIZE</c> naming the file, its size and the limit, and nothing
/// written. The large files are sparse (<see cref="FileStream.SetLength"/>): no test writes 64 MiB.
/// </summary>
public sealed class InputFileSizeTests : IDisposable
{
    private const long JsonLimit = 64L << 20;
    private const long StateLimit = 0x7FFFFFC7;

    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-input-size-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private string P(string name) => Path.Combine(_dir, name);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private string Sparse(string name, long length)
    {
        string path = P(name);
        using var f = new FileStream(path, FileMode.Create);
        f.SetLength(length);
        return path;
    }

    private void Refused(string file, long size, long limit, params string[] args)
    {
        var r = Crucible(args);
        string said = r.Stdout + r.Stderr;
        Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {said}");
        Assert.Contains($"{file}: error [FILE-E-SIZE]: the file is {size} bytes", said, StringComparison.Ordinal);
        Assert.Contains($"more than the {limit} bytes", said, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", said, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public void EveryFileReadWhole_IsRefusedBySize_Exit2_NothingWritten()
    {
        string prices = TestPrices.Write(P("prices.csv"), 80);
        string small = P("small.json");
        File.WriteAllText(small, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        string model = P("model");
        var trained = Crucible("train", "--data", prices, "--steps", "5", "--config", small, "--seed", "2", "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);
        var generated = Crucible("generate", "--model", model, "--count", "20", "--seed", "1", "--out", P("s.csv"));
        Assert.True(generated.Exit == 0, generated.Stderr);
        string id = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(model, "weights.safetensors"))));

        long over = JsonLimit + 1;
        string big = Sparse("big.json", over);
        var before = Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal).ToArray();

        Refused(big, over, JsonLimit, "train", "--data", prices, "--steps", "2", "--config", big, "--out", P("m1"));
        string state = Sparse("state.safetensors", StateLimit + 1);
        Refused(state, StateLimit + 1, StateLimit, "train", "--data", prices, "--steps", "2", "--config", small, "--checkpoint", state, "--out", P("m2"));
        Refused(big, over, JsonLimit, "generate", "--model", model, "--count", "5", "--prices", "--start-prices", big, "--out", P("g.csv"));
        Refused(big, over, JsonLimit, "evaluate", "--real", prices, "--synthetic", P("s.csv"), "--thresholds", big, "--out", P("r.json"));
        Refused(big, over, JsonLimit, "evaluate", "--real", prices, "--synthetic", P("s.csv"), "--segments", big, "--out", P("r.json"));
        Refused(big, over, JsonLimit, "stress", "--scenarios", P("s.csv"), "--portfolio", big, "--out", P("st.json"));
        Refused(big, over, JsonLimit, "model-card", "--model", model, "--report", big, "--out", P("card.md"));
        Refused(big, over, JsonLimit, "model", "status", "--id", id, "--status", "validated", "--reason", "holdout", "--evidence", big);
        Refused(big, over, JsonLimit, "verify-run", big);
        Refused(big, over, JsonLimit, "audit", "verify", "--public-key", big);
        string checkpoints = Sparse("checkpoints.jsonl", StateLimit + 1);
        Refused(checkpoints, StateLimit + 1, StateLimit, "audit", "verify", "--checkpoints", checkpoints);

        // a scenario file's .meta.json sidecar, read by evaluate
        File.Delete(P("s.meta.json"));
        Sparse("s.meta.json", over);
        Refused(P("s.meta.json"), over, JsonLimit, "evaluate", "--real", prices, "--synthetic", P("s.csv"), "--out", P("r.json"));

        // nothing written: no model folder, scenario file, report or card; the model stays a candidate
        Assert.Equal(before.Append(checkpoints).Append(state).Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal));
        var status = Crucible("model", "list", "--json");
        Assert.Contains("\"candidate\"", status.Stdout, StringComparison.Ordinal);
    }
}
