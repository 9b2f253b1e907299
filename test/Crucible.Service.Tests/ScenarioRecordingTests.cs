using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Endpoints;
using Crucible.Tests.Postgres;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Tests;

/// <summary>
/// A scenario request records its <c>scenarios.generated</c> entry, its run manifest and the <c>run.completed</c> entry
/// that pins it in one transaction, on SQLite and on PostgreSQL: the two entries are adjacent, a failure injected between
/// them (a trigger that refuses the run's row or the second entry) leaves neither, and the key of such a request is free
/// for its retry. The JSON answer holds the first entry's receipt, and the manifest the SHA-256 of exactly that answer.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ScenarioRecordingTests(ServiceFixture f)
{
    // the service's answer options (snake_case members)
    private static readonly JsonSerializerOptions AnswerJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static HttpRequestMessage Post(string body, string key)
    {
        var r = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
        r.Headers.Add("Idempotency-Key", key);
        return r;
    }

    /// <summary>The answer's two entries: adjacent, the first the JSON's receipt, the second pinning the stored manifest that hashes the body.</summary>
    private static void AssertRecorded(IReadOnlyList<AuditEntry> entries, byte[] body, byte[] manifest)
    {
        using var json = JsonDocument.Parse(body);
        var audit = json.RootElement.GetProperty("audit");
        var seq = audit.GetProperty("seq").GetInt64();
        var generated = entries.Single(e => e.Seq == seq);
        Assert.Equal("scenarios.generated", generated.Kind);
        Assert.Equal(generated.EntryHashHex, audit.GetProperty("entry_hash").GetString());
        var completed = entries.Single(e => e.Seq == seq + 1);
        Assert.Equal("run.completed", completed.Kind);
        using var pin = JsonDocument.Parse(completed.Payload);
        Assert.Equal(seq, pin.RootElement.GetProperty("generated_seq").GetInt64());
        Assert.Equal(Sha(manifest), pin.RootElement.GetProperty("manifest_sha256").GetString());
        var m = Governance.Manifests.RunManifest.Parse(manifest);
        var response = m.Outputs.Single(o => o.Path == RunEndpoints.ResponseOutput);
        Assert.Equal(Sha(body), response.Sha256);
        Assert.Equal(body.Length, response.Bytes);

        // the body is what the serialiser writes for the answer's record (its last member, audit, added in the transaction)
        var parsed = JsonSerializer.Deserialize<ScenarioResponse>(body, AnswerJson)!;
        Assert.Equal(body, JsonSerializer.SerializeToUtf8Bytes(parsed, AnswerJson));
        Assert.EndsWith($",\"audit\":{{\"seq\":{seq},\"entry_hash\":\"{generated.EntryHashHex}\"}}}}", System.Text.Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BEFORE INSERT ON runs")]
    [InlineData("BEFORE INSERT ON audit_entry WHEN NEW.kind = 'run.completed'")]
    public async Task Sqlite_AFailureBetweenTheTwoEntries_LeavesNeither_AndTheRetrySucceeds(string when)
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "recording-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 6, "seed": 4}""";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Post(body, "warm"))).StatusCode); // the log is open and the model loaded

        Sql(home, $"CREATE TRIGGER inject_failure {when} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        var before = AuditLog.Read(home.AuditDatabase);
        long runs = Runs(home);
        using (var failed = await client.SendAsync(Post(body, "k1")))
            await Problem.AssertAsync(failed, HttpStatusCode.InternalServerError, "internal");
        Assert.Equal(before.Select(e => e.EntryHashHex), AuditLog.Read(home.AuditDatabase).Select(e => e.EntryHashHex));
        Assert.Equal(runs, Runs(home));

        Sql(home, "DROP TRIGGER inject_failure;");
        using var ok = await client.SendAsync(Post(body, "k1")); // a failed request is forgotten: its key is free
        var received = await ok.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.False(ok.Headers.Contains("Idempotent-Replayed"));
        var runId = ok.Headers.GetValues(RunEndpoints.RunIdHeader).Single();
        using var reader = AuditLog.Open(home);
        AssertRecorded(AuditLog.Read(home.AuditDatabase), received, reader.ReadRunManifest(runId)!);
        Assert.Equal(before.Count + 2, AuditLog.Read(home.AuditDatabase).Count);
        Assert.True(AuditLog.Verify(home).Ok);
    }

    [Fact]
    public async Task Postgres_ADiskFullBetweenTheTwoEntries_Is503StorageFull_LeavesNeither_AndTheRetrySucceeds()
    {
        using var db = TestPostgres.CreateDatabase();
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "recording-pg-" + db.Name)).EnsureExists();
        var options = new AuditLogOptions
        {
            PostgresConnectionString = db.ConnectionString,
            SigningKeyPath = Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName),
            CheckpointFile = home.AuditCheckpoints,
        };
        using (var log = AuditLog.Open(options)) new ModelRegistry(home, log).Register(f.ModelFolder);
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile, new Dictionary<string, string> { ["Store"] = "postgres:" + db.ConnectionString });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 6, "seed": 4}""";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Post(body, "warm"))).StatusCode);

        // the server refuses the run's row as a full disk would (SQLSTATE 53100), after the first entry was inserted
        db.Execute("""
            CREATE FUNCTION inject_full() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
            CREATE TRIGGER inject_full BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION inject_full();
            """);
        using var reader = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = db.ConnectionString });
        var before = reader.List();
        var runs = (long)db.Scalar("SELECT COUNT(*) FROM runs;")!;
        using (var failed = await client.SendAsync(Post(body, "k1")))
        {
            var problem = await Problem.AssertAsync(failed, HttpStatusCode.ServiceUnavailable, "storage-full");
            Assert.Contains("whole or not at all", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(before.Select(e => e.EntryHashHex), reader.List().Select(e => e.EntryHashHex));
        Assert.Equal(runs, (long)db.Scalar("SELECT COUNT(*) FROM runs;")!);

        db.Execute("DROP TRIGGER inject_full ON runs;");
        using var ok = await client.SendAsync(Post(body, "k1"));
        var received = await ok.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        AssertRecorded(reader.List(), received, reader.ReadRunManifest(ok.Headers.GetValues(RunEndpoints.RunIdHeader).Single())!);
        Assert.Equal(before.Count + 2, reader.List().Count);

        // the replay: the same bytes, nothing new recorded
        using var replay = await client.SendAsync(Post(body, "k1"));
        Assert.Equal(received, await replay.Content.ReadAsByteArrayAsync());
        Assert.Equal(before.Count + 2, reader.List().Count);
    }

    private static void Sql(CrucibleHome home, string sql)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = home.AuditDatabase, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long Runs(CrucibleHome home)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = home.AuditDatabase, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM runs;";
        return (long)cmd.ExecuteScalar()!;
    }
}
