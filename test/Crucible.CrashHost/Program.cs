using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Crucible.Data.IO;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

// The crash host of the kill tests (test/Crucible.Governance.Tests/Audit/KillSafetyTests.cs). It performs one operation
// and, given a step name, kills ITSELF with SIGKILL when the operation reaches that step (from the library's FaultInjection
// hook), so that no finally block, Dispose, flush or connection close runs: what a power cut or an OOM kill leaves.
// It prints "step NAME" for every step it reaches (before it kills there) and "seq N" for every acknowledged audit entry,
// each line flushed, then "done" when it finishes. "-" as the step: no kill. "after": kill once the operation returned.
//
//   rotate   HOME INTERVAL STEP              rotate the audit signing key (AuditLog.RotateKey)
//   lost-key HOME INTERVAL STEP              start a new key epoch after a lost key (AuditLog.StartKeyEpochAfterLoss)
//   append   HOME INTERVAL COUNT             append COUNT entries
//   churn    HOME INTERVAL COUNT EVERY       append COUNT entries, rotating the key after every EVERY (killed from outside)
//   register HOME INTERVAL STEP FOLDER       register the model folder FOLDER (ModelRegistry.Register)
//   load     HOME INTERVAL STEP ID PGCONN    load model ID on a replica of the PostgreSQL log PGCONN (its home HOME), which
//                                            writes the model's folder from the shared store (ModelRegistry.Load)
//   run      HOME INTERVAL STEP              record a run as the CLI does (RunAudit.Complete): open the log, write the run manifest
//                                            to HOME/runs (step "run-written"), append run.completed (step "run-entered" inside)
//   atomic   PATH COUNT SIZE                 replace PATH COUNT times with AtomicFile (version v: SIZE bytes), "version v" after each
if (args.Length < 3) return Usage();
var op = args[0];
if (op == "atomic") return Atomic(args[1], Int(args[2]), Int(args[3]));
var home = CrucibleHome.Resolve(args[1]).EnsureExists();
var interval = Int(args[2]);
var step = op is "append" or "churn" ? "-" : args[3];
var options = op == "load" ? PostgresOptions(home, interval, step, args[5]) : LogOptions(home, interval, step);
switch (op)
{
    case "rotate":
    {
        using var log = AuditLog.Open(options);
        var done = log.RotateKey("kill test", "crash-host");
        Seq(done.Seq);
        Reached("after", step);
        break;
    }

    case "lost-key":
    {
        var done = AuditLog.StartKeyEpochAfterLoss(options, reason: "kill test", actor: "crash-host");
        Seq(done.Seq);
        Reached("after", step);
        break;
    }

    case "append":
    {
        using var log = AuditLog.Open(options);
        for (var i = 0; i < Int(args[3]); i++) Seq(log.Append(AuditKind.RunStarted, new JsonObject { ["pid"] = Environment.ProcessId, ["i"] = i }).Seq);
        break;
    }

    case "churn":
    {
        var log = AuditLog.Open(options);
        var every = Int(args[4]);
        for (var i = 1; i <= Int(args[3]); i++)
        {
            Seq(log.Append(AuditKind.RunStarted, new JsonObject { ["pid"] = Environment.ProcessId, ["i"] = i }).Seq);
            if (i % every == 0) Seq(log.RotateKey("churn", "crash-host").Seq);
        }

        log.Dispose();
        break;
    }

    case "register":
    {
        using var log = AuditLog.Open(options);
        var registry = new ModelRegistry(home, log) { FaultInjection = s => Reached(s, step) };
        var record = registry.Register(args[4], "crash-host");
        Seq(record.RegisteredSeq);
        Reached("after", step);
        break;
    }

    case "load":
    {
        using var log = AuditLog.Open(options);
        var registry = new ModelRegistry(home, log) { FaultInjection = s => Reached(s, step) };
        var record = registry.Load(args[4]);
        Console.Out.WriteLine("loaded " + record.Id);
        Reached("after", step);
        break;
    }

    case "run":
    {
        var manifest = Crucible.Governance.Manifests.RunManifests.Start(home, Crucible.Governance.Manifests.RunKind.Generate, new JsonObject { ["pid"] = Environment.ProcessId }, 7).Finish().ToCanonicalJson();
        using var log = AuditLog.Open(options);
        _ = Crucible.Governance.Manifests.RunManifests.WriteJson(home, manifest);
        Reached("run-written", step);
        Seq(log.AppendRunCompletedJson(manifest, new JsonObject())[^1].Seq);
        Reached("after", step);
        break;
    }

    default:
        return Usage();
}

Console.Out.WriteLine("done");
return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: Crucible.CrashHost rotate|lost-key|append|churn|register|load|run|atomic ... (see Program.cs)");
    return 2;
}

static int Int(string s) => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);

static void Seq(long seq) => Console.Out.WriteLine("seq " + seq.ToString(CultureInfo.InvariantCulture));

static AuditLogOptions LogOptions(CrucibleHome home, int interval, string step)
{
    var o = AuditLogOptions.ForHome(home);
    return new AuditLogOptions
    {
        Home = o.Home,
        DatabasePath = o.DatabasePath,
        SigningKeyPath = o.SigningKeyPath,
        CheckpointFile = o.CheckpointFile,
        CheckpointInterval = interval,
        DefaultActor = "crash-host",
        FaultInjection = s => Reached(s, step),
    };
}

// a replica of the shared PostgreSQL log: its key and checkpoint export in HOME
static AuditLogOptions PostgresOptions(CrucibleHome home, int interval, string step, string connectionString) => new()
{
    PostgresConnectionString = connectionString,
    SigningKeyPath = Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName),
    CheckpointFile = home.AuditCheckpoints,
    CheckpointInterval = interval,
    DefaultActor = "crash-host",
    FaultInjection = s => Reached(s, step),
};

// prints the step (flushed: Console.Out writes through), then dies there when it is the one asked for
static void Reached(string name, string killAt)
{
    Console.Out.WriteLine("step " + name);
    if (!string.Equals(name, killAt, StringComparison.Ordinal)) return;
    _ = Posix.Kill(Environment.ProcessId, Posix.SigKill);
    Thread.Sleep(Timeout.Infinite); // the signal is delivered before kill() returns; never reached
}

// replaces PATH with version 1..count: SIZE bytes, the version number (8 bytes, little-endian) repeated
static int Atomic(string path, int count, int size)
{
    var bytes = new byte[size];
    for (long v = 1; v <= count; v++)
    {
        for (var i = 0; i + 8 <= size; i += 8) BitConverter.TryWriteBytes(bytes.AsSpan(i, 8), v);
        AtomicFile.WriteAllBytes(path, bytes);
        Console.Out.WriteLine("version " + v.ToString(CultureInfo.InvariantCulture));
    }

    Console.Out.WriteLine("done");
    return 0;
}

internal static partial class Posix
{
    internal const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
