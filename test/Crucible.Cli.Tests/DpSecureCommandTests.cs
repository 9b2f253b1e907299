using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible train --dp-secure</c> (and <c>privacy.secure_mode</c> in the config) end to end in child processes: the
/// mode in the model manifest, the run manifest and the audit entry, and <c>verify-run --recompute</c>'s refusal.
/// </summary>
public sealed class DpSecureCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-dpsecure-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private string Returns(int rows) => TestPrices.Returns(Path.Combine(_dir, "returns.csv"), rows);

    private string Config(string privacy = "")
    {
        var path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 20, "warmup_steps": 2}"""
            + privacy + "}");
        return path;
    }

    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    [Fact]
    public void Train_DpSecure_RecordsTheMode_VerifyRunPasses_RecomputeRefusesWithTheReason()
    {
        string data = Returns(200), model = Path.Combine(_dir, "m");
        var (code, stdout, stderr) = Crucible("train", "--data", data, "--input", "log-returns", "--config", Config(), "--steps", "5",
            "--dp-noise-multiplier", "1.5", "--dp-delta", "1e-3", "--dp-secure", "--out", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("secure mode", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var p = doc.RootElement.GetProperty("privacy");
        Assert.True(p.GetProperty("secure_mode").GetBoolean());
        Assert.StartsWith("os-csprng", p.GetProperty("noise_generator").GetString(), StringComparison.Ordinal);
        Assert.Contains("not be reproduced bit for bit by design", p.GetProperty("statement").GetString(), StringComparison.Ordinal);
        Assert.True(doc.RootElement.GetProperty("config").GetProperty("privacy").GetProperty("secure_mode").GetBoolean());
        var manifest = ManifestPath(stdout);
        using (var run = JsonDocument.Parse(File.ReadAllBytes(manifest)))
            Assert.True(JsonElement.DeepEquals(p, run.RootElement.GetProperty("dp")), run.RootElement.ToString());

        Assert.Equal(0, Crucible("verify-run", manifest).Exit); // the files and their hashes still check
        // the model card carries the mode with the rest of the statement
        var card = Path.Combine(_dir, "card.md");
        var carded = Crucible("model-card", "--model", model, "--out", card);
        Assert.True(carded.Exit == 0, carded.Stderr);
        var text = File.ReadAllText(card);
        Assert.Contains("secure_mode", text, StringComparison.Ordinal);
        Assert.Contains("os-csprng", text, StringComparison.Ordinal);
        // DP-11: the released model (the secure-mode one) and its card carry no exact hash of the private data
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data)));
        Assert.DoesNotContain(sha, File.ReadAllText(Path.Combine(model, "manifest.json")), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("data").GetProperty("train_matrix_sha256").ValueKind);
        Assert.Contains("| input SHA-256 | withheld (DP-11", text, StringComparison.Ordinal);
        Assert.DoesNotContain(sha, text, StringComparison.Ordinal);
        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.Equal(2, again.Exit);
        Assert.Contains("error [VERIFY-E-RECOMPUTE]", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("secure mode (privacy.secure_mode)", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("not reproducible by design", again.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("mismatch", again.Stdout + again.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_SecureModeFromTheConfig_AndReproducibleModeSaysWhomItProtectsAgainst()
    {
        string data = Returns(200), secure = Path.Combine(_dir, "s"), plain = Path.Combine(_dir, "p");
        var fromConfig = Crucible("train", "--data", data, "--input", "log-returns", "--steps", "3", "--out", secure,
            "--config", Config(""", "transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"noise_multiplier": 1.5, "delta": 0.001, "secure_mode": true}"""));
        Assert.True(fromConfig.Exit == 0, fromConfig.Stderr);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(secure, "manifest.json"))))
            Assert.True(doc.RootElement.GetProperty("privacy").GetProperty("secure_mode").GetBoolean());

        var reproducible = Crucible("train", "--data", data, "--input", "log-returns", "--config", Config(), "--steps", "3",
            "--dp-noise-multiplier", "1.5", "--dp-delta", "1e-3", "--out", plain);
        Assert.True(reproducible.Exit == 0, reproducible.Stderr);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(plain, "manifest.json"))))
        {
            var p = doc.RootElement.GetProperty("privacy");
            Assert.False(p.GetProperty("secure_mode").GetBoolean());
            Assert.StartsWith("philox4x32-10", p.GetProperty("noise_generator").GetString(), StringComparison.Ordinal);
            Assert.Contains("does not know the seed", p.GetProperty("statement").GetString(), StringComparison.Ordinal);
        }

        // reproducible mode stays reproducible: the run is done again bit for bit
        var recomputed = Crucible("verify-run", ManifestPath(reproducible.Stdout), "--recompute");
        Assert.True(recomputed.Exit == 0, recomputed.Stdout + recomputed.Stderr);

        // --dp-secure alone names no noise: refused as any DP request without one, for either kind
        var alone = Crucible("train", "--data", data, "--input", "log-returns", "--dp-secure", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, alone.Exit);
        Assert.Contains("--dp-epsilon or --dp-noise-multiplier", alone.Stderr, StringComparison.Ordinal);
        var sequence = Crucible("train", "--data", data, "--input", "log-returns", "--kind", "sequence", "--window", "5", "--steps", "2",
            "--dp-secure", "--out", Path.Combine(_dir, "q"));
        Assert.Equal(2, sequence.Exit);
        Assert.Contains("--dp-epsilon or --dp-noise-multiplier", sequence.Stderr, StringComparison.Ordinal);
    }
}
