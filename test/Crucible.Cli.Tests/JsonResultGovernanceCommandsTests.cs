using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--json</c> of <c>model register</c>, <c>model status</c> and <c>model-card</c> (a scheduler registering, moving
/// and documenting models reads it instead of the summary line): stdout is one JSON document and nothing else; its ids,
/// hashes, sequence numbers and paths are those the registry lists (<c>model list --json</c>), the audit log holds and
/// the files written; the summary goes to stderr; an error prints no document (exit code 2 as without <c>--json</c>).
/// </summary>
public sealed class JsonResultGovernanceCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-json-gov-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // a small model trained (and registered) in another home, so that this test's home registers it with model register
    private string TrainElsewhere(string name, ulong seed)
    {
        string config = Path.Combine(_dir, "small.json"), model = Path.Combine(_dir, name);
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 300);
        var r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "train-home") },
            "train", "--data", data, "--steps", "10", "--config", config, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", model);
        Assert.True(r.Exit == 0, r.Stderr);
        return model;
    }

    // stdout: exactly one line, one JSON object
    private static JsonElement Document(string stdout) => JsonStdout.Single(stdout);

    private JsonElement Listed(string id)
    {
        var list = Crucible("model", "list", "--json");
        Assert.True(list.Exit == 0, list.Stderr);
        using var doc = JsonDocument.Parse(list.Stdout);
        return doc.RootElement.EnumerateArray().Single(m => m.GetProperty("id").GetString() == id).Clone();
    }

    // the document carries model list --json's entry for the model, member for member
    private static void AssertListedAs(JsonElement listed, JsonElement document)
    {
        foreach (var member in listed.EnumerateObject())
        {
            Assert.True(document.TryGetProperty(member.Name, out var value), $"no {member.Name} in {document}");
            Assert.Equal(member.Value.ToString(), value.ToString());
            Assert.Equal(member.Value.ValueKind, value.ValueKind);
        }
    }

    [Fact]
    public void ModelRegisterAndStatus_Json_PrintTheRegistrysRecordAndTheAuditEntry()
    {
        string first = TrainElsewhere("m1", 2), second = TrainElsewhere("m2", 5);
        string id = Sha(Path.Combine(first, "weights.safetensors")), child = Sha(Path.Combine(second, "weights.safetensors"));
        string audit = CrucibleHome.Resolve(Home).AuditDatabase;

        var registered = Crucible("model", "register", "--model", first, "--json");
        Assert.True(registered.Exit == 0, registered.Stderr);
        var d = Document(registered.Stdout);
        Assert.Contains($"registered: {id} (candidate", registered.Stderr, StringComparison.Ordinal); // the summary, on stderr
        Assert.Equal("model register", d.GetProperty("command").GetString());
        AssertListedAs(Listed(id), d);
        Assert.Equal(id, d.GetProperty("id").GetString());
        Assert.Equal("candidate", d.GetProperty("status").GetString());
        Assert.Equal(Sha(Path.Combine(first, "manifest.json")), d.GetProperty("manifest_sha256").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("parent").ValueKind);
        Assert.Equal(Path.GetFullPath(first), d.GetProperty("source").GetString());
        string folder = d.GetProperty("folder").GetString()!;
        Assert.True(Path.IsPathFullyQualified(folder), folder);
        Assert.Equal(Sha(Path.Combine(first, "weights.safetensors")), Sha(Path.Combine(folder, "weights.safetensors")));
        Assert.StartsWith(Path.GetFullPath(Home), folder, StringComparison.Ordinal);
        Assert.Equal(Path.GetFullPath(audit), d.GetProperty("audit_database").GetString());
        var registration = AuditLog.Read(audit).Single(e => e.Kind == "model.registered");
        Assert.Equal(registration.Seq, d.GetProperty("audit_seq").GetInt64());
        Assert.Equal(registration.Seq, d.GetProperty("registered_seq").GetInt64());
        Assert.Equal(registration.Actor, d.GetProperty("owner").GetString());

        // a parent given by prefix is printed in full, as model list gives it
        var derived = Crucible("model", "register", "--model", second, "--parent", id[..12], "--json");
        Assert.True(derived.Exit == 0, derived.Stderr);
        var c = Document(derived.Stdout);
        AssertListedAs(Listed(child), c);
        Assert.Equal(id, c.GetProperty("parent").GetString());
        Assert.True(c.GetProperty("audit_seq").GetInt64() > d.GetProperty("audit_seq").GetInt64());

        // registering it again is refused: exit 2, the stderr line, nothing on stdout
        var again = Crucible("model", "register", "--model", first, "--json");
        Assert.Equal(2, again.Exit);
        Assert.Equal("", again.Stdout);
        Assert.Contains("REG-E", again.Stderr, StringComparison.Ordinal);

        // a status change: the model after it, the status before it and the model.status_changed entry
        var retired = Crucible("model", "status", "--id", id[..12], "--status", "retired", "--reason", "superseded by the child", "--json");
        Assert.True(retired.Exit == 0, retired.Stderr);
        var s = Document(retired.Stdout);
        Assert.Contains($"model {id}: candidate → retired", retired.Stderr, StringComparison.Ordinal);
        Assert.Equal("model status", s.GetProperty("command").GetString());
        AssertListedAs(Listed(id), s);
        Assert.Equal("retired", s.GetProperty("status").GetString());
        Assert.Equal("candidate", s.GetProperty("from").GetString());
        Assert.Equal("superseded by the child", s.GetProperty("reason").GetString());
        Assert.Equal(Path.GetFullPath(audit), s.GetProperty("audit_database").GetString());
        var change = AuditLog.Read(audit).Single(e => e.Kind == "model.status_changed");
        using (var payload = JsonDocument.Parse(change.Payload))
            Assert.Equal(id, payload.RootElement.GetProperty("model_id").GetString());
        Assert.Equal(change.Seq, s.GetProperty("audit_seq").GetInt64());

        // the other model's change is its own entry, not the last entry of the first model
        var childRetired = Document(Crucible("model", "status", "--id", child, "--status", "retired", "--reason", "also superseded", "--json").Stdout);
        var changes = AuditLog.Read(audit).Where(e => e.Kind == "model.status_changed").ToList();
        Assert.Equal(changes[^1].Seq, childRetired.GetProperty("audit_seq").GetInt64());
        Assert.NotEqual(change.Seq, childRetired.GetProperty("audit_seq").GetInt64());

        // a refused transition (retired is terminal): exit 2, nothing on stdout
        var refused = Crucible("model", "status", "--id", id, "--status", "promoted", "--reason", "again", "--json");
        Assert.Equal(2, refused.Exit);
        Assert.Equal("", refused.Stdout);
        Assert.Contains("REG-E-TRANSITION", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, Crucible("audit", "verify").Exit);
    }

    [Fact]
    public void ModelCard_Json_PrintsTheCardsRunManifestAndAuditEntry()
    {
        string model = TrainElsewhere("m", 2);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        Assert.Equal(0, Crucible("model", "register", "--model", model).Exit);
        string card = Path.Combine(_dir, "card.md"), page = Path.Combine(_dir, "card.html");

        var made = Crucible("model-card", "--model", model, "--out", card, "--html", page, "--json");
        Assert.True(made.Exit == 0, made.Stderr);
        var d = Document(made.Stdout);
        Assert.Contains("model card: ", made.Stderr, StringComparison.Ordinal);
        Assert.Equal("model-card", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(card), d.GetProperty("card").GetString());
        Assert.Equal(Path.GetFullPath(page), d.GetProperty("html").GetString());
        Assert.Equal(Sha(card), d.GetProperty("card_sha256").GetString());
        Assert.Equal(id, d.GetProperty("model_id").GetString());
        Assert.Equal(Path.GetFullPath(model), d.GetProperty("model_folder").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("report").ValueKind);
        Assert.Equal("candidate", d.GetProperty("registry_status").GetString());

        // the run manifest names the card files by their hashes; the audit entry is the run.completed that pins it
        string runId = d.GetProperty("run_id").GetString()!, manifestPath = d.GetProperty("run_manifest").GetString()!;
        Assert.True(Path.IsPathFullyQualified(manifestPath), manifestPath);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(manifestPath)))
        {
            Assert.Equal(runId, manifest.RootElement.GetProperty("run_id").GetString());
            var outputs = manifest.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("sha256").GetString()).ToList();
            Assert.Equal([Sha(card), Sha(page)], outputs);
        }

        string audit = CrucibleHome.Resolve(Home).AuditDatabase;
        Assert.Equal(Path.GetFullPath(audit), d.GetProperty("audit_database").GetString());
        var completed = AuditLog.Read(audit).Where(e => e.Kind == "run.completed").ToList();
        Assert.Equal(completed[^1].Seq, d.GetProperty("audit_seq").GetInt64());
        using (var payload = JsonDocument.Parse(completed[^1].Payload))
            Assert.Equal(runId, payload.RootElement.GetProperty("run_id").GetString());

        // an unreadable report: exit 2, nothing on stdout
        var bad = Crucible("model-card", "--model", model, "--report", Path.Combine(_dir, "missing.json"), "--out", Path.Combine(_dir, "c2.md"), "--json");
        Assert.Equal(2, bad.Exit);
        Assert.Equal("", bad.Stdout);
    }
}
