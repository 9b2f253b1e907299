using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train</c>, <c>generate</c> and <c>evaluate</c> append their audit entries to the home folder's log after a
/// successful run (train: the registration and its run.completed; generate: scenarios.generated and its run.completed;
/// evaluate: evaluation.completed and its run.completed; every run.completed pins its run manifest), and none after a
/// failed one (ARCHITECTURE.md "Where Crucible keeps its state"). Child processes of the built CLI, always with a
/// temporary home.
/// </summary>
public sealed class RunAuditTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-runaudit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    /// <summary>Runs the CLI with CRUCIBLE_HOME set to <paramref name="environmentHome"/>.</summary>
    private static (int Exit, string Stdout, string Stderr) Crucible(string environmentHome, params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = environmentHome }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>A CSV of <paramref name="rows"/> dated rows of columns <paramref name="names"/>: prices or small returns.</summary>
    private string Csv(string name, int rows, int seed, bool prices, params string[] names)
    {
        string path = Path.Combine(_dir, name);
        var rng = new System.Random(seed);
        var sb = new StringBuilder("Date," + string.Join(',', names) + "\n");
        var level = names.Select(_ => 100.0).ToArray();
        var date = new DateOnly(2020, 1, 1);
        for (int i = 0; i < rows; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{date.AddDays(i):yyyy-MM-dd}");
            for (int j = 0; j < names.Length; j++)
            {
                double r = 0.02 * (rng.NextDouble() - 0.5);
                level[j] *= Math.Exp(r);
                sb.Append(CultureInfo.InvariantCulture, $",{(prices ? level[j] : r):R}");
            }

            sb.Append('\n');
        }

        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static JsonElement Payload(AuditEntry entry) => JsonDocument.Parse(entry.Payload).RootElement;

    /// <summary>The run manifest file in HOME/runs that the <c>run.completed</c> payload <paramref name="completed"/> names.</summary>
    private string RunManifest(JsonElement completed) => Path.Combine(Home, "runs", completed.GetProperty("run_id").GetString() + ".json");

    /// <summary>
    /// RunAudit.Complete serialises the manifest once: the file in HOME/runs and the audit store's copy are the same bytes.
    /// </summary>
    private void AssertStoredCopyIsTheFile(JsonElement completed)
    {
        using var log = AuditLog.Open(CrucibleHome.Resolve(Home));
        Assert.Equal(File.ReadAllBytes(RunManifest(completed)), log.ReadRunManifest(completed.GetProperty("run_id").GetString()!));
    }

    // RELIABILITY MRM-5
    [Fact]
    public void TrainGenerateEvaluate_AppendTheirEntries_WithTheHashes_AndFailedRunsAppendNothing()
    {
        string elsewhere = Path.Combine(_dir, "elsewhere"); // CRUCIBLE_HOME when --home is given: must stay untouched
        string prices = Csv("prices.csv", 200, 1, prices: true, "A", "B");
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        string model = Path.Combine(_dir, "model"), scenarios = Path.Combine(_dir, "s.csv"), report = Path.Combine(_dir, "report.json");

        var train = Crucible(elsewhere, "train", "--data", prices, "--steps", "5", "--seed", "7", "--config", config, "--home", Home, "--out", model);
        Assert.True(train.Exit == 0, train.Stderr);
        // generate finds the home through CRUCIBLE_HOME
        var generate = Crucible(Home, "generate", "--model", model, "--count", "120", "--seed", "4", "--sampling-steps", "10", "--out", scenarios);
        Assert.True(generate.Exit == 0, generate.Stderr);
        string real = Csv("real.csv", 120, 2, prices: false, "A", "B"), trainSet = Csv("train.csv", 150, 3, prices: false, "A", "B");
        string thresholds = Path.Combine(_dir, "thresholds.json");
        File.WriteAllText(thresholds, """{"ks_max": {"max": 1.0}}""");
        var evaluate = Crucible(elsewhere, "evaluate", "--real", real, "--synthetic", scenarios, "--train", trainSet,
            "--thresholds", thresholds, "--home", Home, "--out", report);
        Assert.True(evaluate.Exit == 0, evaluate.Stderr);
        Assert.False(Directory.Exists(elsewhere));

        var entries = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase);
        // train registers its model (model.registered) before its run.completed; generate's run.completed follows its
        // scenarios.generated, evaluate's its evaluation.completed
        Assert.Equal(["model.registered", "run.completed", "scenarios.generated", "run.completed", "evaluation.completed", "run.completed"],
            entries.Select(e => e.Kind));
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], entries.Select(e => e.Seq));

        string modelId = Sha(Path.Combine(model, "weights.safetensors"));
        var registered = Payload(entries[0]);
        Assert.Equal(modelId, registered.GetProperty("model_id").GetString());
        Assert.Equal("candidate", registered.GetProperty("status").GetString());
        var t = Payload(entries[1]);
        Assert.Equal(
            new[] { "command", "input_sha256", "kind", "manifest_sha256", "model_id", "model_manifest_sha256", "run_id", "seed", "steps", "train_matrix_sha256" },
            t.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(modelId, t.GetProperty("model_id").GetString());
        Assert.Equal(Sha(Path.Combine(model, "manifest.json")), t.GetProperty("model_manifest_sha256").GetString());
        Assert.Equal(Sha(RunManifest(t)), t.GetProperty("manifest_sha256").GetString()); // the run manifest, pinned
        AssertStoredCopyIsTheFile(t);
        Assert.Equal(Sha(prices), t.GetProperty("input_sha256").GetString());
        Assert.True(FileHash.IsSha256Hex(t.GetProperty("train_matrix_sha256").GetString()));
        Assert.Equal("7", t.GetProperty("seed").GetString());
        Assert.Equal(5, t.GetProperty("steps").GetInt32());

        var g = Payload(entries[2]);
        Assert.Equal(modelId, g.GetProperty("model_id").GetString());
        Assert.Equal(Sha(scenarios), g.GetProperty("csv_sha256").GetString());
        Assert.Equal(120, g.GetProperty("count").GetInt32());
        Assert.Equal("4", g.GetProperty("seed").GetString());
        Assert.Equal("ddim", g.GetProperty("sampler").GetString());
        Assert.Equal(10, g.GetProperty("sampling_steps").GetInt32());
        var gr = Payload(entries[3]);
        Assert.Equal("generate", gr.GetProperty("command").GetString());
        Assert.Equal(modelId, gr.GetProperty("model_id").GetString());
        Assert.Equal(Sha(scenarios), gr.GetProperty("csv_sha256").GetString());
        Assert.Equal(Sha(RunManifest(gr)), gr.GetProperty("manifest_sha256").GetString());
        AssertStoredCopyIsTheFile(gr);

        var e = Payload(entries[4]);
        Assert.Equal(Sha(real), e.GetProperty("real_sha256").GetString());
        Assert.Equal(Sha(scenarios), e.GetProperty("synthetic_sha256").GetString());
        Assert.Equal(Sha(trainSet), e.GetProperty("train_sha256").GetString());
        Assert.Equal(Sha(report), e.GetProperty("report_sha256").GetString());
        Assert.Equal(Sha(thresholds), e.GetProperty("thresholds_sha256").GetString());
        Assert.True(e.GetProperty("thresholds_passed").GetBoolean());

        // evaluate's run.completed pins the bytes of its run manifest in HOME/runs
        var r = Payload(entries[5]);
        Assert.Equal(Sha(RunManifest(r)), r.GetProperty("manifest_sha256").GetString());
        AssertStoredCopyIsTheFile(r);
        Assert.Equal(Sha(report), r.GetProperty("report_sha256").GetString());
        Assert.Equal("evaluate", r.GetProperty("command").GetString());

        // ids, hashes, counts and settings only: every string is a hash, a run id or a short name, every number an integer
        foreach (var entry in entries)
        {
            foreach (var p in Payload(entry).EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    Assert.True(FileHash.IsSha256Hex(p.Value.GetString()) || p.Value.GetString()!.Length <= 20
                        || (p.Name == "run_id" && Guid.TryParseExact(p.Value.GetString(), "N", out _)), $"{p.Name} = {p.Value}");
                }

                if (p.Value.ValueKind == JsonValueKind.Number) Assert.True(p.Value.TryGetInt64(out _), $"{p.Name} = {p.Value}");
            }
        }

        // failed runs (bad input, exit 2) append nothing
        Assert.Equal(2, Crucible(elsewhere, "train", "--data", prices, "--steps", "0", "--home", Home, "--out", Path.Combine(_dir, "m2")).Exit);
        Assert.Equal(2, Crucible(elsewhere, "generate", "--model", model, "--count", "0", "--home", Home, "--out", Path.Combine(_dir, "s2.csv")).Exit);
        Assert.Equal(2, Crucible(elsewhere, "evaluate", "--real", Path.Combine(_dir, "none.csv"), "--synthetic", scenarios, "--home", Home,
            "--out", Path.Combine(_dir, "r2.json")).Exit);
        Assert.Equal(6, AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase).Count);

        var verify = Crucible(elsewhere, "audit", "verify", "--home", Home);
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
        Assert.True(AuditLog.Verify(CrucibleHome.Resolve(Home)).Ok);
        Assert.False(Directory.Exists(elsewhere));
    }
}
