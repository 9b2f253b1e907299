using Crucible.Governance.Audit;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Tests.Audit;

/// <summary>A throw-away home folder with an audit log, and raw SQL access for tampering.</summary>
internal sealed class AuditTestHome : IDisposable
{
    public AuditTestHome(int checkpointInterval = 4)
    {
        Home = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-audit-" + Guid.NewGuid().ToString("N"))).EnsureExists();
        CheckpointInterval = checkpointInterval;
    }

    public CrucibleHome Home { get; }

    public int CheckpointInterval { get; }

    public AuditLogOptions Options => new()
    {
        DatabasePath = Home.AuditDatabase,
        SigningKeyPath = Path.Combine(Home.KeysFolder, AuditSigningKey.PrivateFileName),
        CheckpointFile = Home.AuditCheckpoints,
        CheckpointInterval = CheckpointInterval,
        DefaultActor = "test",
    };

    public AuditLog Open() => AuditLog.Open(Options);

    /// <summary>Appends <paramref name="count"/> entries with distinct payloads, then closes (which checkpoints the head).</summary>
    public void Fill(int count)
    {
        using var log = Open();
        for (var i = 1; i <= count; i++)
            log.Append(AuditKind.RunStarted, new System.Text.Json.Nodes.JsonObject { ["run_id"] = $"run-{i}", ["step"] = i });
    }

    public AuditVerification Verify(string? publicKey = null) => AuditLog.Verify(Home, publicKey);

    /// <summary>Runs raw SQL on the database with the append-only triggers dropped (what an attacker with the file can do).</summary>
    public void Tamper(string sql, Action<SqliteCommand>? bind = null)
    {
        SQLitePCL.Batteries_V2.Init();
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Home.AuditDatabase, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            DROP TRIGGER IF EXISTS audit_entry_no_update; DROP TRIGGER IF EXISTS audit_entry_no_delete;
            DROP TRIGGER IF EXISTS audit_checkpoint_no_update; DROP TRIGGER IF EXISTS audit_checkpoint_no_delete;
            """ + sql;
        bind?.Invoke(cmd);
        cmd.ExecuteNonQuery();
    }

    public List<(long Seq, string Ts, string Kind, string Actor, byte[] Payload)> Rows()
    {
        SQLitePCL.Batteries_V2.Init();
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Home.AuditDatabase, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, ts_utc, kind, actor, payload FROM audit_entry ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var rows = new List<(long, string, string, string, byte[])>();
        while (r.Read()) rows.Add((r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<byte[]>(4)));
        return rows;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Home.Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
