using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;

// Usage: AppendChild HOME COUNT [CHECKPOINT_INTERVAL [POSTGRES_CONNECTION_STRING]]
// Appends COUNT entries to the audit log of HOME (or to the PostgreSQL log, with HOME keeping the key and export) and prints each acknowledged seq on its own line, flushed, right after
// the commit returns. The parent kills this process with SIGKILL at random points and then checks that every seq it
// read is in the log and that the log verifies.
var home = CrucibleHome.Resolve(args[0]).EnsureExists();
var count = int.Parse(args[1], CultureInfo.InvariantCulture);
var interval = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
var options = AuditLogOptions.ForHome(home);
using var log = AuditLog.Open(new AuditLogOptions
{
    DatabasePath = options.DatabasePath,
    PostgresConnectionString = args.Length > 3 ? args[3] : null,
    SigningKeyPath = options.SigningKeyPath,
    CheckpointFile = options.CheckpointFile,
    CheckpointInterval = interval,
    DefaultActor = "crash-test",
});
var stdout = Console.OpenStandardOutput();
for (var i = 0; i < count; i++)
{
    var receipt = log.Append(AuditKind.RunStarted, new JsonObject { ["pid"] = Environment.ProcessId, ["i"] = i });
    stdout.Write(System.Text.Encoding.ASCII.GetBytes(receipt.Seq.ToString(CultureInfo.InvariantCulture) + "\n"));
    stdout.Flush();
}
