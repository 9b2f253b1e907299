using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Tests;

/// <summary>
/// The run manifests (MRM-2) of the service's runs: each answer names its run, <c>GET /v1/runs/{id}</c> answers the
/// manifest's canonical bytes, which record the request's bytes, the model, the seed and the SHA-256 of exactly the bytes
/// the client received, and the run's <c>run.completed</c> audit entry holds the manifest's SHA-256.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class RunManifestTests(ServiceFixture f)
{
    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string RunIdOf(HttpResponseMessage response) => response.Headers.GetValues("Crucible-Run-Id").Single();

    /// <summary>GET /v1/runs/{id} with a read key: the bytes, schema-checked, and canonical (re-serialising gives the same bytes).</summary>
    private async Task<(byte[] Bytes, RunManifest Manifest)> GetRun(string runId)
    {
        using var reader = f.Client("reader");
        using var response = await reader.GetAsync("/v1/runs/" + runId);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var manifest = RunManifest.Parse(bytes);
        Assert.Equal(runId, manifest.RunId);
        Assert.Equal(bytes, manifest.ToCanonicalJson());
        return (bytes, manifest);
    }

    /// <summary>The run.completed entry of <paramref name="runId"/> in the fixture's audit log (exactly one).</summary>
    private AuditEntry RunCompleted(string runId) =>
        AuditLog.Read(Path.Combine(f.Home, "audit.db")).Single(e => e.Kind == "run.completed" && JsonDocument.Parse(e.Payload).RootElement.TryGetProperty("run_id", out var id) && id.GetString() == runId);

    private static string Field(AuditEntry entry, string name) => JsonDocument.Parse(entry.Payload).RootElement.GetProperty(name).GetString()!;

    private long StoredRuns()
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(f.Home, "audit.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM runs;";
        return (long)cmd.ExecuteScalar()!;
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/json")]
    public async Task Scenario_Manifest_RecordsTheRequest_ModelAndSeed_AndTheBytesTheClientReceived(string accept)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"model": "{{f.ModelId}}", "count": 12, "seed": 18446744073709551557, "sampling_steps": 10}""");
        using var client = f.Client("generator");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Accept.ParseAdd(accept);
        using var response = await client.SendAsync(request);
        var received = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(received));
        var runId = RunIdOf(response);
        if (accept == "application/json") Assert.Equal(runId, JsonDocument.Parse(received).RootElement.GetProperty("run_id").GetString());

        var (bytes, m) = await GetRun(runId);
        Assert.Equal(RunKind.Generate, m.Kind);
        Assert.Equal(f.ModelId, m.ModelId);
        Assert.Equal(18446744073709551557UL, m.Seed);
        Assert.Equal("philox4x32-10", m.Prng);
        var input = Assert.Single(m.Inputs);
        Assert.Equal(new ManifestFile("request", Sha(body), body.Length) { IsFile = false }, input);
        var output = m.Outputs.Single(o => o.Path == "response");
        Assert.False(output.IsFile);
        Assert.Equal(Sha(received), output.Sha256);
        Assert.Equal(received.Length, output.Bytes);
        var csvSha = response.Headers.GetValues("X-Crucible-Csv-Sha256").Single();
        Assert.Equal(accept == "text/csv" ? Array.Empty<string>() : [csvSha], m.Outputs.Where(o => o.Path == "scenarios.csv").Select(o => o.Sha256)); // the CSV the JSON's values are
        Assert.Equal(12, (int)m.Config["count"]!);
        Assert.Equal("ddim", (string?)m.Config["sampler"]);
        Assert.Equal(accept == "text/csv" ? "csv" : "json", (string?)m.Config["format"]);

        // the audit chain pins the manifest: run.completed holds its SHA-256; scenarios.generated names the run
        var completed = RunCompleted(runId);
        Assert.Equal(Sha(bytes), Field(completed, "manifest_sha256"));
        Assert.Equal("key:generator", completed.Actor);
        var generated = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture), 1).Single();
        Assert.Equal("scenarios.generated", generated.Kind);
        Assert.Equal(runId, Field(generated, "run_id"));
        Assert.Equal(generated.Seq + 1, completed.Seq); // one transaction: nothing between them
        Assert.Equal(generated.Seq, JsonDocument.Parse(completed.Payload).RootElement.GetProperty("generated_seq").GetInt64());
    }

    [Fact]
    public async Task Scenario_Manifest_OfADdpmRun_RecordsTheStepsItRan()
    {
        // DDPM runs all T = 100 of the fixture model's steps; the manifest recorded the unused default K = 50
        using var client = f.Client("generator");
        using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 5, "sampler": "ddpm"}"""));
        var received = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, received);
        var (_, m) = await GetRun(RunIdOf(response));
        Assert.Equal("ddpm", (string?)m.Config["sampler"]);
        Assert.Equal(100, (int)m.Config["sampling_steps"]!);
        Assert.Equal(100, JsonDocument.Parse(received).RootElement.GetProperty("metadata").GetProperty("sampling_steps").GetInt32()); // as the sidecar says
    }

    [Fact]
    public async Task IdempotentReplay_ReturnsTheSameRun_AndStoresNoSecondManifest()
    {
        using var client = f.Client("generator");
        var key = "run-replay-" + Guid.NewGuid().ToString("N");
        HttpRequestMessage Post()
        {
            var r = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 8, "seed": 31}""") };
            r.Headers.Add("Idempotency-Key", key);
            return r;
        }

        using var first = await client.SendAsync(Post());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var bytes = await first.Content.ReadAsByteArrayAsync();
        long runs = StoredRuns(), entries = AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count;
        var (manifest, _) = await GetRun(RunIdOf(first));

        using var replay = await client.SendAsync(Post());
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(bytes, await replay.Content.ReadAsByteArrayAsync());
        Assert.Equal(RunIdOf(first), RunIdOf(replay));
        Assert.Equal(runs, StoredRuns());
        Assert.Equal(entries, AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count);
        Assert.Equal(manifest, (await GetRun(RunIdOf(replay))).Bytes);
    }

    [Fact]
    public async Task UnknownRun_Is404Problem_AndRunsNeedTheReadScope()
    {
        using var reader = f.Client("reader");
        await Problem.AssertAsync(await reader.GetAsync("/v1/runs/" + Guid.NewGuid().ToString("N")), HttpStatusCode.NotFound, "not-found");
        await Problem.AssertAsync(await reader.GetAsync("/v1/runs/..%2Faudit.db"), HttpStatusCode.NotFound);
        using var anonymous = f.Client(null);
        await Problem.AssertAsync(await anonymous.GetAsync("/v1/runs/x"), HttpStatusCode.Unauthorized, "unauthenticated");
        using var trainer = f.Client("trainer");
        await Problem.AssertAsync(await trainer.GetAsync("/v1/runs/x"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task TrainingJob_Manifest_OutputsAreTheModelFiles_InputsTheRequestAndItsCsv()
    {
        var body = Encoding.UTF8.GetBytes(JobFolderTests.TrainingBody());
        using var trainer = f.Client("trainer");
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var accepted = await trainer.PostAsync("/v1/models", content);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("run_id").ValueKind);
        JsonElement job;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            job = JsonDocument.Parse(await trainer.GetStringAsync(location)).RootElement.Clone();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") break;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(100);
        }

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var modelId = job.GetProperty("model_id").GetString()!;
        var runId = job.GetProperty("run_id").GetString()!;
        var (bytes, m) = await GetRun(runId);
        Assert.Equal(RunKind.Train, m.Kind);
        Assert.Equal(modelId, m.ModelId);
        Assert.Equal(17UL, m.Seed);
        Assert.Equal("service.train", (string?)m.Config["command"]);
        Assert.Equal(12, (int)m.Config["generator"]!["training"]!["steps"]!);

        // in: the body as sent and the CSV it carried, by name; out: the two files of the model folder, as crucible train
        // records them but by name (the registry's files of model_id), so the manifest means the same on every replica
        Assert.Equal(["request", "data.csv"], m.Inputs.Select(i => i.Path));
        Assert.All(m.Inputs, i => Assert.False(i.IsFile));
        Assert.Equal(Sha(body), m.Inputs[0].Sha256);
        Assert.Equal(Sha(Encoding.UTF8.GetBytes(JsonDocument.Parse(body).RootElement.GetProperty("data_csv").GetString()!)), m.Inputs[1].Sha256);
        Assert.Equal(["weights.safetensors", "manifest.json"], m.Outputs.Select(o => o.Path));
        var registered = Path.Combine(f.Home, "models", modelId);
        foreach (var o in m.Outputs)
        {
            Assert.False(o.IsFile);
            Assert.Equal(FileHash.Sha256(Path.Combine(registered, o.Path)), o.Sha256);
            Assert.Equal(new FileInfo(Path.Combine(registered, o.Path)).Length, o.Bytes);
        }

        Assert.Equal(modelId, m.Outputs[0].Sha256);
        var saved = Path.Combine(f.Dir, "train-run-" + runId + ".json");
        File.WriteAllBytes(saved, bytes);
        var verified = ManifestVerifier.Verify(saved); // every entry named: nothing to rehash, nothing missing on any replica
        Assert.True(verified.Ok, string.Join("; ", verified.Files.Select(x => $"{x.Path}: {x.Result}")));
        Assert.All(verified.Files, x => Assert.Equal(FileCheck.Named, x.Result));
        Assert.False(Directory.Exists(Path.Combine(f.Home, "jobs", location[(location.LastIndexOf('/') + 1)..]))); // the job's scratch folder is gone

        var completed = RunCompleted(runId);
        Assert.Equal(Sha(bytes), Field(completed, "manifest_sha256"));
        Assert.Equal(modelId, Field(completed, "model_id"));
        Assert.Equal(m.Inputs[1].Sha256, Field(completed, "input_sha256"));
    }

    [Fact]
    public async Task Evaluation_And_Ensemble_NameTheirRun_WhoseManifestHoldsTheirBytes()
    {
        static string Scenarios(int seed)
        {
            var rng = new System.Random(seed);
            var sb = new StringBuilder("scenario,step,A,B\n");
            for (int s = 1; s <= 200; s++)
                sb.Append(CultureInfo.InvariantCulture, $"{s},1,{0.01 * (rng.NextDouble() - 0.5):R},{0.02 * (rng.NextDouble() - 0.5):R}\n");
            return sb.ToString();
        }

        using var reader = f.Client("reader");
        var requests = new (string Path, string Body, string[] Inputs, string Kind)[]
        {
            ("/v1/evaluations", JsonSerializer.Serialize(new Dictionary<string, string> { ["real_csv"] = Scenarios(1), ["synthetic_csv"] = Scenarios(2) }),
                ["request", "real.csv", "synthetic.csv"], "evaluate"),
            ("/v1/ensembles", "{\"scenarios\": [{\"name\": \"m1\", \"csv\": " + JsonSerializer.Serialize(Scenarios(3)) + "}, {\"name\": \"m2\", \"csv\": " +
                JsonSerializer.Serialize(Scenarios(4)) + "}], \"portfolio\": {\"name\": \"ab\", \"weights\": {\"A\": 0.5, \"B\": 0.5}}}",
                ["request", "m1.csv", "m2.csv", "portfolio.json"], "ensemble"),
        };
        foreach (var (path, body, inputs, kind) in requests)
        {
            using var response = await reader.PostAsync(path, ServiceFixture.Json(body));
            var received = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(received));
            var runId = RunIdOf(response);
            var (bytes, m) = await GetRun(runId);
            Assert.Equal(kind, m.Kind.WireName());
            Assert.Equal(inputs, m.Inputs.Select(i => i.Path));
            Assert.Equal(Sha(Encoding.UTF8.GetBytes(body)), m.Inputs[0].Sha256);
            Assert.Equal(Sha(received), Assert.Single(m.Outputs).Sha256);
            Assert.Equal(Sha(bytes), Field(RunCompleted(runId), "manifest_sha256"));
            // the X-Crucible-Audit-Seq entry (evaluation.completed, or the ensemble's run.completed) belongs to the run
            var seq = long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture);
            Assert.Equal(runId, Field(AuditLog.Read(Path.Combine(f.Home, "audit.db"), seq, 1).Single(), "run_id"));
        }
    }
}
