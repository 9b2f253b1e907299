using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Audit;

/// <summary>Where an <see cref="AuditLog"/> keeps its database, key and exported checkpoints, and how often it checkpoints.</summary>
public sealed class AuditLogOptions
{
    /// <summary>The SQLite file (<c>audit.db</c> in the home folder by default); not used when <see cref="PostgresConnectionString"/> is set.</summary>
    public string? DatabasePath { get; init; }

    /// <summary>
    /// An Npgsql connection string: the log lives in that PostgreSQL database, shared by several writers (service
    /// replicas), instead of the SQLite file. Every writer must sign with the same key (the first one records its id).
    /// </summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>The private key PEM that signs checkpoints (created on first use). Null: checkpoints are not written.</summary>
    public string? SigningKeyPath { get; init; }

    /// <summary>The append-only JSON-lines file that every checkpoint is also exported to. Null: no export.</summary>
    public string? CheckpointFile { get; init; }

    /// <summary>A checkpoint is written with every entry whose seq is a multiple of this, and when a writer closes.</summary>
    public int CheckpointInterval { get; init; } = 64;

    /// <summary>The clock for entry and checkpoint times (injectable for tests).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The actor recorded when an append names none (a user or key id, never a secret).</summary>
    public string DefaultActor { get; init; } = "local";

    /// <summary>Tests only: called with the name of each step of a key rotation; throwing stands for a crash at that step.</summary>
    internal Action<string>? FaultInjection { get; init; }

    /// <summary>
    /// The home whose <c>runs/</c> and <c>models/</c> hold the run manifests and registered model folders that entries
    /// of this SQLite log recorded (set by <see cref="ForHome"/>). When set, <see cref="AuditLog.Open(AuditLogOptions)"/>
    /// also refuses a log that is missing, empty or holds no entry while they hold files (the log was deleted with its
    /// checkpoint file: <see cref="AuditLog.ThrowIfLost(CrucibleHome)"/>'s rule). Null: only the exported checkpoints are
    /// checked. Not used with <see cref="PostgresConnectionString"/>.
    /// </summary>
    public CrucibleHome? Home { get; init; }

    /// <summary>The options for the SQLite audit log of <paramref name="home"/>: <c>audit.db</c>, <c>keys/</c>, <c>audit-checkpoints.jsonl</c>,
    /// and the home itself (<see cref="Home"/>), so that opening also checks its <c>runs/</c> and <c>models/</c>.</summary>
    public static AuditLogOptions ForHome(CrucibleHome home) => new()
    {
        Home = home,
        DatabasePath = home.AuditDatabase,
        SigningKeyPath = Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName),
        CheckpointFile = home.AuditCheckpoints,
        DefaultActor = SafeUserName(),
    };

    /// <summary>
    /// The options for the audit log of <paramref name="store"/> used from <paramref name="home"/>: on SQLite
    /// <see cref="ForHome"/> (the store's folder is the home); on PostgreSQL the shared database with the home's signing
    /// key and that database's own checkpoint export in the home (<see cref="CrucibleHome.AuditCheckpointsFor"/>), never
    /// the SQLite log's <c>audit-checkpoints.jsonl</c>, so that a home that keeps a SQLite log and also writes to a shared
    /// database checks each log against its own checkpoints only.
    /// </summary>
    public static AuditLogOptions ForStore(CrucibleHome home, Storage.StoreLocation store)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(store);
        var forHome = ForHome(home);
        return store.Kind == Storage.StoreKind.Sqlite ? forHome : new AuditLogOptions
        {
            PostgresConnectionString = store.Value,
            SigningKeyPath = forHome.SigningKeyPath,
            CheckpointFile = home.AuditCheckpointsFor(store),
            DefaultActor = forHome.DefaultActor,
        };
    }

    private static string SafeUserName()
    {
        try
        {
            return "user:" + Environment.UserName;
        }
        catch (InvalidOperationException)
        {
            return "local";
        }
    }
}

/// <summary>
/// The append-only, tamper-evident audit log (RELIABILITY.md §4, LOG-1..8), in SQLite (WAL, <c>synchronous=FULL</c>) or,
/// for several service replicas, in one PostgreSQL database (<see cref="PostgresAuditStore"/>).
/// </summary>
/// <remarks>
/// <para><b>Design: a SHA-256 hash chain with signed, exported checkpoints that carry an RFC 6962 Merkle root.</b>
/// Each entry stores <c>entry_hash = SHA-256("crucible-audit-v1" ‖ seq (8 bytes, big-endian) ‖ len‖ts ‖ len‖kind ‖
/// len‖actor ‖ len‖payload ‖ prev_hash)</c> with 4-byte big-endian length prefixes (no two field lists encode alike),
/// and the first entry's <c>prev_hash</c> is 32 zero bytes. A chain is chosen over a pure Merkle log because verifying
/// it is one linear pass that names the first bad entry exactly (edited, deleted, swapped rows and edited hashes all
/// break it at that entry), and appends cost one hash. The chain alone proves nothing against someone who rewrites the
/// whole file, so every <see cref="AuditLogOptions.CheckpointInterval"/> entries, and whenever a writer closes, a
/// checkpoint (seq, head hash, RFC 6962 root over all entry hashes, time) is signed with an ECDSA P-256 key kept
/// <i>outside</i> the database and is also appended to a separate JSON-lines file meant to be shipped elsewhere
/// (another volume, WORM storage, the operator's records). A recomputed chain therefore fails at the first
/// checkpoint after the change: its head no longer matches the signed one, and the forger cannot re-sign without the
/// private key; even with the key, the exported copy still holds the old signed head. Truncation below a checkpoint is
/// caught the same way. The Merkle root lets a scenario set carry an RFC 9162 inclusion proof that an auditor checks
/// with no database access. What this cannot catch: changes after the last checkpoint that was exported out of the
/// writer's reach, by someone who holds the private key (the window is at most one checkpoint interval, and every CLI
/// writer checkpoints when it closes).</para>
/// <para>Triggers refuse UPDATE and DELETE; they are a guard rail only, since anyone with the file can drop them.</para>
/// <para>Append is <c>BEGIN IMMEDIATE</c> → read the head → insert → <c>COMMIT</c>; the receipt is returned only after
/// the commit, which with WAL and <c>synchronous=FULL</c> is durable, so every acknowledged entry survives a crash. On
/// PostgreSQL the same steps run in one transaction that first takes an advisory lock shared by every replica.</para>
/// <para>Several replicas on PostgreSQL share one signing key (the same private key file given to each): the first
/// writer records the key id in <c>audit_meta</c> and a writer with another key is refused at open, so one public key
/// verifies every checkpoint whichever replica signed it. Each replica exports every checkpoint to its own file.</para>
/// </remarks>
public sealed partial class AuditLog : IDisposable
{
    /// <summary>The domain tag at the start of every entry hash.</summary>
    public const string HashDomain = "crucible-audit-v1";

    private static readonly string[] ForbiddenKeyParts = ["secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"];
    private readonly AuditLogOptions _options;
    private readonly IAuditStore _store;
    private AuditSigningKey? _key; // replaced by RotateKey
    private readonly Lock _gate = new();
    private MerkleAccumulator _accumulator = new();
    private readonly bool _readOnly;
    private bool _appended;
    private bool _disposed;

    private AuditLog(AuditLogOptions options, IAuditStore store, AuditSigningKey? key, bool readOnly = false)
    {
        _options = options;
        _store = store;
        _key = key;
        _readOnly = readOnly;
    }

    /// <summary>
    /// Whether this log was opened by <see cref="OpenReadOnly(AuditLogOptions)"/>: it reads and verifies, and never appends,
    /// signs or exports.
    /// </summary>
    public bool IsReadOnly => _readOnly;

    /// <summary>The SQLite database path (null when the log is in PostgreSQL).</summary>
    public string? DatabasePath => _options.PostgresConnectionString is null ? _options.DatabasePath : null;

    /// <summary>Whether the log is in PostgreSQL (shared by several writers).</summary>
    public bool IsShared => _store is PostgresAuditStore;

    /// <summary>The PostgreSQL store, where registered models' files are shared too; null on SQLite.</summary>
    internal PostgresAuditStore? Postgres => _store as PostgresAuditStore;

    /// <summary>The id of the key that signs this log's checkpoints, or null when it writes none.</summary>
    public string? KeyId => _key?.KeyId;

    /// <summary>The actor recorded when an append names none (<see cref="AuditLogOptions.DefaultActor"/>).</summary>
    public string DefaultActor => _options.DefaultActor;

    /// <summary>Opens (creating when needed) the audit log of <paramref name="home"/>.</summary>
    public static AuditLog Open(CrucibleHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return Open(AuditLogOptions.ForHome(home.EnsureExists()));
    }

    /// <summary>
    /// Opens (creating when needed) an audit log: the SQLite file (WAL and <c>synchronous=FULL</c>, checked) or, when
    /// <see cref="AuditLogOptions.PostgresConnectionString"/> is set, the PostgreSQL database.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-KEY</c>: a shared log is signed with another key than this writer's,
    /// or a SQLite log's checkpoints with another key than the one in <see cref="AuditLogOptions.SigningKeyPath"/> (or that
    /// file is missing).</exception>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-LOST</c>: the log (the SQLite file, or the PostgreSQL database's
    /// tables) is missing, empty or shorter than the checkpoints exported to <see cref="AuditLogOptions.CheckpointFile"/>
    /// say it was (deleted, emptied or cut short), or, when <see cref="AuditLogOptions.Home"/> is set, the SQLite log holds
    /// no entry while the home's <c>runs/</c> or <c>models/</c> hold what entries recorded (<see cref="ThrowIfLost(CrucibleHome)"/>):
    /// appending would start a new chain over the lost one, so nothing is created or appended. <c>STORE-E-CONNECT</c>: the PostgreSQL database cannot be reached.</exception>
    public static AuditLog Open(AuditLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CheckpointInterval, 1);
        if (options.PostgresConnectionString is { } connectionString)
        {
            ThrowIfLostPostgres(connectionString, options.CheckpointFile);
        }
        else
        {
            ThrowIfLost(options.DatabasePath ?? throw new ArgumentException("an audit log needs a DatabasePath or a PostgresConnectionString", nameof(options)),
                options.CheckpointFile, options.Home);
            if (options.SigningKeyPath is { } keyPath) ThrowIfKeyRefused(options.DatabasePath, keyPath);
        }

        IAuditStore store = options.PostgresConnectionString is { } pg
            ? PostgresAuditStore.Open(pg)
            : SqliteAuditStore.OpenWriter(options.DatabasePath!);
        AuditSigningKey? key = null;
        try
        {
            key = options.SigningKeyPath is null ? null : AuditSigningKey.LoadOrCreate(options.SigningKeyPath);
            if (key is not null && store is PostgresAuditStore) key = ClaimSharedKey(store, key, options.SigningKeyPath!);
            var log = new AuditLog(options, store, key);
            // the database's checkpoints that this export file lacks are written at once: a file new to this writer (a
            // first start, or a home whose exports were one file for every store before session 28) gets every one of
            // them now, not at the next checkpoint, so the lost-log check and audit verify see them from the first open
            if (store is PostgresAuditStore) log.ExportCheckpoints();
            return log;
        }
        catch
        {
            key?.Dispose();
            store.Dispose();
            throw;
        }
    }

    /// <summary>Opens the audit log of <paramref name="home"/> to read it only (<see cref="OpenReadOnly(AuditLogOptions)"/>); creates nothing, not even the home.</summary>
    /// <exception cref="InvalidInputException">As <see cref="OpenReadOnly(AuditLogOptions)"/>.</exception>
    public static AuditLog OpenReadOnly(CrucibleHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return OpenReadOnly(AuditLogOptions.ForHome(home));
    }

    /// <summary>
    /// Opens an existing audit log to read it only: what commands that only list or verify (<c>model list</c>) use, so
    /// that reading writes nothing. It never creates or loads the signing key (<see cref="AuditLogOptions.SigningKeyPath"/>
    /// is used only to find the public key beside it, for <see cref="VerifyStored()"/>), never exports or appends a
    /// checkpoint to <see cref="AuditLogOptions.CheckpointFile"/>, never records a key in <c>audit_meta</c>, and never
    /// creates, upgrades or migrates a table (the SQLite file is opened read-only; on PostgreSQL only <c>SELECT</c>s run).
    /// It runs the check that <see cref="Open(AuditLogOptions)"/> runs before it reads anything: a log missing, emptied or
    /// cut short below its exported checkpoints (or, with <see cref="AuditLogOptions.Home"/>, a SQLite log with no entry
    /// while the home's <c>runs/</c> or <c>models/</c> hold what entries recorded) is refused (<c>AUDIT-E-LOST</c>), rather
    /// than read as a shorter or empty log. The checks that concern signing (the key file against the key that signed the
    /// log) are a writer's and are not run: reading needs no private key.
    /// A log without its tables (a SQLite file that is absent, empty or holds no audit tables; a PostgreSQL database that
    /// holds none) is not created: <c>AUDIT-E-NOLOG</c> says so (<see cref="NoLogRule"/>; a caller to whom that means "nothing
    /// yet", such as an inventory of a new home, answers so itself). A log written by an earlier build, whose schema lacks
    /// later tables (<c>runs</c>, <c>audit_meta</c>), is read as it is and not upgraded (the next writer upgrades it): a run
    /// manifest such a log cannot hold reads as absent (<see cref="ReadRunManifest(string)"/> answers null).
    /// <see cref="Append"/>, <see cref="Checkpoint"/>, <see cref="RotateKey"/> and every other write on the returned log
    /// throw <see cref="InvalidOperationException"/>, and closing it signs nothing.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-LOST</c> as for <see cref="Open(AuditLogOptions)"/>; <c>AUDIT-E-NOLOG</c>:
    /// there is no log to read; <c>STORE-E-CONNECT</c>: the PostgreSQL database cannot be reached.</exception>
    public static AuditLog OpenReadOnly(AuditLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IAuditStore store;
        if (options.PostgresConnectionString is { } connectionString)
        {
            ThrowIfLostPostgres(connectionString, options.CheckpointFile);
            var pg = PostgresAuditStore.OpenReader(connectionString);
            try
            {
                if (!pg.HasTables())
                {
                    // the connection string can hold a password: the message names the store, not the string
                    throw new InvalidInputException(NoLogRule, "this PostgreSQL database holds no Crucible audit log (no audit_entry and audit_checkpoint tables). "
                        + "Nothing was created: a command that only reads does not create the log. Check the database that the connection string names; "
                        + "the first writer (crucible serve --store …, crucible model register --store …) creates the tables");
                }
            }
            catch (Npgsql.NpgsqlException e)
            {
                pg.Dispose();
                // Npgsql's messages name the host and the server's complaint, never the password
                throw new InvalidInputException("STORE-E-CONNECT", "cannot read the PostgreSQL store: " + e.Message);
            }
            catch
            {
                pg.Dispose();
                throw;
            }

            store = pg;
        }
        else
        {
            var path = options.DatabasePath ?? throw new ArgumentException("an audit log needs a DatabasePath or a PostgresConnectionString", nameof(options));
            ThrowIfLost(path, options.CheckpointFile, options.Home);
            if (IsAbsentOrEmpty(path)) throw NoSqliteLog(path, "does not exist or is empty");
            var sqlite = SqliteAuditStore.OpenReader(path);
            try
            {
                if (!sqlite.HasTables()) throw NoSqliteLog(path, "holds no audit tables");
            }
            catch
            {
                sqlite.Dispose();
                throw;
            }

            store = sqlite;
        }

        return new AuditLog(options, store, key: null, readOnly: true);

        static InvalidInputException NoSqliteLog(string path, string state) => new(NoLogRule,
            $"no audit log here: the file {state}. Nothing was created: a command that only reads does not create the log "
            + "(the first command that records a run or registers a model does)", new InputLocation(path, 0, 0));
    }

    /// <summary>The rule of a read that finds no audit log where it was told to look (nothing is created there).</summary>
    public const string NoLogRule = "AUDIT-E-NOLOG";

    // the writes of a log opened read-only are a caller's mistake, not bad input
    private void ThrowIfReadOnly()
    {
        if (_readOnly)
            throw new InvalidOperationException("this audit log was opened read-only (AuditLog.OpenReadOnly): it appends, signs and exports nothing; open it with AuditLog.Open to write");
    }

    /// <summary>The rule of a home whose audit log was deleted, emptied or cut short below its exported checkpoints.</summary>
    public const string LostRule = "AUDIT-E-LOST";

    /// <summary>
    /// Refuses, before any work, a home whose SQLite audit log is missing, empty or shorter than the checkpoints exported
    /// to its checkpoint file say it was, and a home whose log is missing, empty or holds no entry while its <c>runs/</c>
    /// holds run manifests or its <c>models/</c> registered model folders (entries recorded them: the log was deleted with
    /// its checkpoint file; what <see cref="Verify(CrucibleHome, string?, string?)"/> reports as a truncation), reading
    /// only. <see cref="Open(AuditLogOptions)"/> applies the same rule when its options name the home
    /// (<see cref="AuditLogOptions.Home"/>, set by <see cref="AuditLogOptions.ForHome"/>: <see cref="Open(CrucibleHome)"/>
    /// and the service); every CLI command that appends also calls this before any work. A home with neither (a new one,
    /// or one whose first writer was killed before closing) passes, and so does a home whose only model folders hold the
    /// pending marker (<see cref="Registry.ModelRegistry.PendingMarkerName"/>: a first registration killed between renaming
    /// the folder into place and its entry, kill-tested; the next registration removes or replaces the folder), or whose
    /// only run manifests have their pending marker (<see cref="Manifests.RunManifests.PendingMarkerPath"/>: a first run
    /// killed between its manifest and its entry). The price: a home whose very first run or registration was killed there
    /// by a build without the markers is refused too, and the message says to move that file or folder aside; and a
    /// caller must open a new home's log before it writes the first run manifest into <c>runs/</c>. It also refuses
    /// (<c>AUDIT-E-KEY</c>) a log with signed checkpoints whose signing key file is missing or holds another key than the
    /// one that signed the last of them (<see cref="Open(AuditLogOptions)"/> too).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-LOST</c>, <c>AUDIT-E-KEY</c>.</exception>
    public static void ThrowIfLost(CrucibleHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        ThrowIfLost(home.AuditDatabase, home.AuditCheckpoints, home);
        ThrowIfKeyRefused(home.AuditDatabase, Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName));
    }

    // the one check of ThrowIfLost(home) and Open: the exported checkpoints are written only after the entries they cover
    // were committed, so they are the home's record that its log held entries (the signing key is not: it is created
    // before the first entry); without them (home: null when the caller named no home), the run manifests and registered
    // models that entries recorded say so
    private static void ThrowIfLost(string databasePath, string? checkpointFile, CrucibleHome? home)
    {
        // a log with exported checkpoints must reach them (and then holds entries, so the check below passes)
        var exported = ExportedHead(checkpointFile, home);
        if (exported > 0)
        {
            ThrowIfBelow(databasePath, checkpointFile!, exported);
            return;
        }

        // the checkpoint file gone as well (a new home has neither runs nor models before its first entry)
        if (home is null) return;
        var (runs, models) = PinnedFiles(home);
        if (runs + models > 0 && SqliteHead(databasePath) == 0)
        {
            throw new InvalidInputException(LostRule, string.Create(CultureInfo.InvariantCulture,
                    $"the audit log {(IsAbsentOrEmpty(databasePath) ? "is missing or empty" : "holds no entry")}, but the home holds {runs} run manifests (runs/) and {models} registered model folders (models/) that entries recorded: ")
                + "the log was deleted or emptied with its checkpoint file. Nothing was appended (a new chain would hide the lost one); restore audit.db "
                + "and audit-checkpoints.jsonl from a backup (crucible audit verify reports the truncation); if this home's very first run was killed "
                + "before its entry, move that run's file out of runs/, and if its very first model registration was, that model's folder out of models/ "
                + "(it was never registered; registering it again copies it anew)" + PostgresHint(home),
                new InputLocation(databasePath, 0, 0));
        }
    }

    // a home that also wrote to a PostgreSQL store: its runs/ and models/ may hold what that store's entries recorded
    private static string PostgresHint(CrucibleHome home) => home.PostgresAuditCheckpointFiles() is [var first, ..]
        ? $". This home has also written to a PostgreSQL store (its checkpoints are in {Path.GetFileName(first)}): if those files are that store's "
            + "(models fetched from it by a read-only command, or fetched from it or registered into it by a Crucible build older than the registration proof: "
            + "a registration, and a fetch by a command that writes, now leave " + Registry.PostgresRegistrationProof.FileName
            + " in its folder, which this check reads), give --store postgres:… to the commands that take it, "
            + "and use another home for a SQLite log"
        : "";

    // the SQLite log ends below the exported checkpoints' last seq
    private static void ThrowIfBelow(string databasePath, string checkpointFile, long exported)
    {
        var head = SqliteHead(databasePath);
        if (head < exported) throw Lost(databasePath, checkpointFile, exported, head);
    }

    // the last entry's seq of a SQLite log, read-only; 0 for a missing or empty file (not opened: SQLite would create it)
    private static long SqliteHead(string databasePath)
    {
        if (IsAbsentOrEmpty(databasePath)) return 0;
        using var store = SqliteAuditStore.OpenReader(databasePath);
        return store.HasTables() ? store.HeadSeq() : 0;
    }

    // the same check on a PostgreSQL log, read-only (no table is created before it passes): this writer's exported
    // checkpoints were written after the entries they cover were committed to the shared database, whose head only grows
    // (every replica appends to the one chain), so a head below them means the tables were dropped, emptied or cut short
    private static void ThrowIfLostPostgres(string connectionString, string? checkpointFile)
    {
        var exported = ExportedHead(checkpointFile, null);
        if (exported == 0) return;
        long head;
        using (var store = PostgresAuditStore.OpenReader(connectionString))
        {
            try
            {
                head = store.HasTables() ? store.HeadSeq() : 0;
            }
            catch (Npgsql.NpgsqlException e)
            {
                // Npgsql's messages name the host and the server's complaint, never the password
                throw new InvalidInputException("STORE-E-CONNECT", "cannot open the PostgreSQL store: " + e.Message);
            }
        }

        // the connection string can hold a password: the message names the store, not the string
        if (head < exported) throw Lost(null, checkpointFile!, exported, head);
    }

    // a database file that does not exist, or is empty with no write-ahead log beside it (SQLite would open it as a new, empty database)
    private static bool IsAbsentOrEmpty(string databasePath)
    {
        if (!File.Exists(databasePath)) return true; // SQLite ignores a write-ahead log without its database
        if (new FileInfo(databasePath).Length > 0) return false;
        var wal = databasePath + "-wal";
        return !File.Exists(wal) || new FileInfo(wal).Length == 0;
    }

    // the highest seq among the complete lines of the exported checkpoint file that parse, wherever they stand (a line
    // that does not parse, or a second line for a seq, is verification's finding, Malformed; the lines after it are
    // still proof of the entries they cover), 0 when there is none; home: the SQLite log's home, whose PostgreSQL
    // stores' lines are passed over (ForeignLines)
    private static long ExportedHead(string? checkpointFile, CrucibleHome? home, bool copy = false)
    {
        if (checkpointFile is null || !File.Exists(checkpointFile)) return 0;
        long head = 0;
        foreach (var (_, line, _) in CheckpointFileLines(checkpointFile, ForeignLines(checkpointFile, home), copy))
        {
            if (TryParseCheckpointLine(line) is { } c) head = Math.Max(head, c.Seq);
        }

        return head;
    }

    /// <summary>
    /// The lines of <paramref name="checkpointFile"/> that are another store's, when it is the SQLite export of
    /// <paramref name="home"/> (<see cref="CrucibleHome.AuditCheckpoints"/>): those that a PostgreSQL store's export in the
    /// home holds too. Before session 28 a home exported the checkpoints of its SQLite log and of every PostgreSQL store it
    /// wrote to into that one file, so a home used with both read as a lost log to each; a PostgreSQL writer now exports
    /// every checkpoint of its database to a file of its own (<see cref="CrucibleHome.AuditCheckpointsFor"/>) at its first
    /// open, and the identical lines left in the old file are that database's, not the SQLite log's. Null when there are
    /// none (any other file, such as an off-machine copy given by name, is read whole: a copy that mixes two logs does not verify).
    /// </summary>
    private static HashSet<string>? ForeignLines(string? checkpointFile, CrucibleHome? home)
    {
        if (checkpointFile is null || home is null
            || !string.Equals(Path.GetFullPath(checkpointFile), home.AuditCheckpoints, StringComparison.Ordinal)) return null;
        HashSet<string>? foreign = null;
        foreach (var file in home.PostgresAuditCheckpointFiles())
        {
            var text = Encoding.UTF8.GetString(Data.IO.InputFile.ReadAllBytes(file, Data.IO.InputFile.MaxStateBytes));
            var lines = text.Split('\n');
            // complete lines only: a torn last line was never acknowledged
            for (var i = 0; i < lines.Length - 1; i++)
            {
                if (lines[i].Length > 0) (foreign ??= new HashSet<string>(StringComparer.Ordinal)).Add(lines[i]);
            }
        }

        return foreign;
    }

    // databasePath: the SQLite file, null for the PostgreSQL log
    private static InvalidInputException Lost(string? databasePath, string checkpointFile, long exported, long head) =>
        new(LostRule, string.Create(CultureInfo.InvariantCulture,
            $"the {(databasePath is null ? "PostgreSQL " : "")}audit log {(head == 0 ? "is missing or empty" : $"ends at entry {head}")}, but the checkpoints exported to {checkpointFile} show that it held {exported} entries: ")
            + $"it was deleted, emptied or cut short. Nothing was appended (a new chain would hide the lost one); restore {(databasePath is null ? "the database" : "audit.db")} from a backup "
            + "(crucible audit verify reports the truncation)",
            databasePath is null ? null : new InputLocation(databasePath, 0, 0));

    /// <summary>The rule of a log whose signing key file is missing or holds another key than the one that signed its checkpoints.</summary>
    public const string KeyRule = "AUDIT-E-KEY";

    // a SQLite log that holds signed checkpoints is appended to only with its current key (the one a committed rotation
    // named, else the one that signed the last checkpoint), read-only and before any file is created: a missing key file
    // (LoadOrCreate would make another) or another key is refused; a rotation committed but not finished (its new key still
    // in the pending file) is finished here
    private static void ThrowIfKeyRefused(string databasePath, string keyPath)
    {
        if (IsAbsentOrEmpty(databasePath)) return;
        var expected = CurrentKeyId(databasePath);
        if (expected is null) return;
        if (!File.Exists(keyPath) || KeyIdOfPrivate(keyPath) != expected)
        {
            if (AuditSigningKey.FinishPending(keyPath, expected)) return;
            if (!File.Exists(keyPath)) throw KeyRefused(keyPath, expected, $"{keyPath} is missing");
            throw KeyRefused(keyPath, expected, $"{keyPath} holds key {KeyIdOfPrivate(keyPath)}");
        }

        static string KeyIdOfPrivate(string path)
        {
            using var key = AuditSigningKey.LoadPrivate(path);
            return key.KeyId;
        }
    }

    // the key a SQLite log's next checkpoints must be signed with (CurrentKeyId); null when it has none
    private static string? CurrentKeyId(string databasePath)
    {
        using var store = SqliteAuditStore.OpenReader(databasePath);
        return store.HasTables() ? CurrentKeyId(store) : null;
    }

    // the key a log's next checkpoints must be signed with, on either store: the one audit_meta names (recorded by a shared
    // log's first writer and by every key rotation), else the one that signed its last checkpoint; null when it has none
    private static string? CurrentKeyId(IAuditStore store) =>
        store.ReadMeta(SigningKeyMeta) ?? store.ReadCheckpoints().LastOrDefault()?.KeyId;

    // a writer must sign with the key that signed the log's checkpoints: a new key (the file lost, LoadOrCreate made
    // another) or another one would sign the next checkpoints so that no single public key verifies the log again
    private static InvalidInputException KeyRefused(string keyPath, string signedBy, string what) =>
        new(KeyRule, $"the audit log's checkpoints are signed with key {signedBy}, but {what}: the next checkpoints would be signed with another key "
            + "and the log would no longer verify with any one public key. Nothing was appended; restore the private key that signed them "
            + $"({AuditSigningKey.PrivateFileName}) from a backup, or, if it is lost for good, start a new key epoch with "
            + "'crucible audit rotate-key --lost-key' (recorded in the log; 'crucible audit verify' then reports the break)", new InputLocation(keyPath, 0, 0));

    /// <summary>
    /// The <c>audit_meta</c> row that names the key every writer must sign with: recorded by the first writer of a shared
    /// log, and by every key rotation (in its transaction) on both stores.
    /// </summary>
    public const string SigningKeyMeta = "signing_key_id";

    /// <summary>
    /// Records the signing key of a shared log on first use, and refuses a writer that signs with another (finishing first a
    /// rotation this writer committed whose new key is still in its pending file). Returns the key to use.
    /// </summary>
    private static AuditSigningKey ClaimSharedKey(IAuditStore store, AuditSigningKey key, string keyPath)
    {
        var recorded = store.Write(tx =>
        {
            var id = tx.GetMeta(SigningKeyMeta);
            if (id is null) tx.SetMeta(SigningKeyMeta, key.KeyId);
            return id ?? key.KeyId;
        });
        if (string.Equals(recorded, key.KeyId, StringComparison.Ordinal)) return key;
        if (AuditSigningKey.FinishPending(keyPath, recorded))
        {
            key.Dispose();
            return AuditSigningKey.LoadPrivate(keyPath);
        }

        throw new InvalidInputException(KeyRule,
            $"this shared audit log's checkpoints are signed with key {recorded}, but this process has key {key.KeyId}: give every replica the same private key file "
            + "(after 'crucible audit rotate-key', copy the new keys/" + AuditSigningKey.PrivateFileName + " to every replica before starting it)");
    }

    // refuses, inside a write transaction, a writer whose key is no longer the log's (another process rotated it since this
    // one opened the log): its checkpoints would be signed with the retired key and no longer verify
    private static void RequireCurrentKey(IAuditTransaction tx, string keyId)
    {
        var current = tx.GetMeta(SigningKeyMeta);
        if (current is not null && !string.Equals(current, keyId, StringComparison.Ordinal))
            throw new InvalidInputException(KeyRule,
                $"the audit log's signing key was rotated to {current}, but this process still signs with {keyId}: nothing was appended. "
                + "Stop it and start it again with the new key (keys/" + AuditSigningKey.PrivateFileName + ")");
    }

    /// <summary>
    /// Appends one entry and returns its receipt once it is durably committed. The payload is stored as canonical JSON
    /// (RFC 8785); it must hold ids and hashes, never secrets or raw confidential values: member names that look like
    /// secrets (password, token, api_key, …) are refused.
    /// </summary>
    /// <exception cref="InvalidInputException">The payload is not canonicalisable or names a secret.</exception>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is a key change (<see cref="AuditKind.KeyRotated"/>,
    /// <see cref="AuditKind.KeyLost"/>), which only <see cref="RotateKey"/> and <see cref="StartKeyEpochAfterLoss"/> write.</exception>
    public AuditReceipt Append(AuditKind kind, JsonNode? payload, string? actor = null) =>
        AppendMany([(kind, payload)], actor)[0];

    /// <summary>
    /// Appends several entries in one transaction (all or none), in order, and returns their receipts once committed.
    /// Same payload rules as <see cref="Append"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">A payload is not canonicalisable or names a secret (then nothing is appended).</exception>
    /// <exception cref="ArgumentException">An entry is a key change, as for <see cref="Append"/> (then nothing is appended).</exception>
    public IReadOnlyList<AuditReceipt> AppendMany(IReadOnlyList<(AuditKind Kind, JsonNode? Payload)> entries, string? actor = null) =>
        AppendCore(entries, actor, null, null);

    /// <summary>
    /// Stores the run manifest <paramref name="manifest"/> (its canonical JSON bytes, under its run id, in the log's own
    /// database: table <c>runs</c>, SQLite or PostgreSQL) and appends <paramref name="before"/> (entries of the same run,
    /// when any) and then <c>run.completed</c> with <paramref name="payload"/> plus the manifest's <c>run_id</c> and
    /// <c>manifest_sha256</c>, all in one transaction: the chain pins the manifest's bytes, and neither is stored
    /// without the other. Returns the receipts in order, <c>run.completed</c>'s last. Same payload rules as <see cref="Append"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">A payload is not canonicalisable or names a secret (then nothing is stored).</exception>
    public IReadOnlyList<AuditReceipt> AppendRunCompleted(Manifests.RunManifest manifest, JsonObject payload, string? actor = null,
        IReadOnlyList<(AuditKind Kind, JsonNode? Payload)>? before = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return AppendRunCompletedJson(manifest.ToCanonicalJson(), payload, actor, before);
    }

    /// <summary>
    /// As <see cref="AppendRunCompleted"/>
    /// for a manifest already serialised to <paramref name="manifestJson"/> (its <see cref="Manifests.RunManifest.ToCanonicalJson"/>
    /// bytes): exactly these bytes are stored and pinned, so a caller that also writes them to a file (the CLI's
    /// <see cref="Manifests.RunManifests.WriteJson"/>) gets a file and a stored copy that are byte-identical.
    /// The run id and kind are read from the bytes, which must pass the manifest's schema check. On a log opened for a home
    /// (<see cref="AuditLogOptions.Home"/>), once the entries are committed it removes the run's pending marker
    /// (<see cref="Manifests.RunManifests.PendingMarkerPath"/>) and those of earlier runs whose manifest the log stores.
    /// </summary>
    /// <exception cref="InvalidInputException">The bytes are not a valid run manifest (<c>MANIFEST-E-…</c>), or a payload is not
    /// canonicalisable or names a secret (then nothing is stored).</exception>
    public IReadOnlyList<AuditReceipt> AppendRunCompletedJson(byte[] manifestJson, JsonObject payload, string? actor = null,
        IReadOnlyList<(AuditKind Kind, JsonNode? Payload)>? before = null)
    {
        ArgumentNullException.ThrowIfNull(manifestJson);
        ArgumentNullException.ThrowIfNull(payload);
        var bytes = manifestJson.ToArray(); // a private copy: the caller's array cannot change between hashing and storing
        var manifest = Manifests.RunManifest.Parse(bytes);
        var (sha, entry) = RunCompletedEntry(bytes, manifest.RunId, payload);
        var entries = new List<(AuditKind Kind, JsonNode? Payload)>(before ?? []) { (AuditKind.RunCompleted, entry) };
        var receipts = AppendCore(entries, actor, tx => tx.InsertRun(manifest.RunId, Manifests.RunKinds.WireName(manifest.Kind), sha, bytes), null);
        _options.FaultInjection?.Invoke("run-entered");
        if (_options.Home is { } home) RemoveRunMarkers(home, manifest.RunId);
        return receipts;
    }

    // the entry is committed: the run's pending marker goes (Manifests.RunManifests.PendingMarkerPath), and so do those of
    // earlier runs killed after their entry and before this step (RemoveCommittedMarkers). A caller that writes no manifest
    // file (the service keeps manifests in the log only) may have no runs/ folder at all.
    private void RemoveRunMarkers(CrucibleHome home, string runId)
    {
        if (!Directory.Exists(home.RunsFolder)) return;
        try
        {
            File.Delete(Manifests.RunManifests.PendingMarkerPath(home, runId)); // no-op when absent (a caller that wrote no file)
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        RemoveCommittedMarkers(home, ReadRunManifest, null);
    }

    /// <summary>
    /// Removes the pending markers in <paramref name="home"/> that runs and registrations killed after their entry was
    /// committed and before they removed the marker left behind (until removed, such a marker keeps its run manifest or
    /// model folder out of the lost-log rule, <see cref="ThrowIfLost(CrucibleHome)"/>): a run's
    /// (<see cref="Manifests.RunManifests.PendingMarkerPath"/>) whose manifest this log stores, and, when
    /// <paramref name="registered"/> is given, a model folder's (<see cref="Registry.ModelRegistry.PendingMarkerName"/>)
    /// whose id it holds. Safe at any time, without the registration lock: the manifest is stored in the transaction that
    /// commits the run's <c>run.completed</c> entry, and a registered id is never registered again, so such a marker's run
    /// or registration has nothing left to do but remove it (its own removal is then a no-op); the marker of a run or
    /// registration without its entry (live between its files and its entry, or killed there) is kept. Best effort: a
    /// marker that cannot be removed fails nothing. Returns the number removed.
    /// </summary>
    internal static int RemoveCommittedMarkers(CrucibleHome home, Func<string, byte[]?> storedManifest, Func<IReadOnlySet<string>>? registered)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(storedManifest);
        int removed = 0;
        try
        {
            if (Directory.Exists(home.RunsFolder))
            {
                foreach (var marker in Directory.EnumerateFiles(home.RunsFolder, ".*" + Manifests.RunManifests.PendingSuffix).ToList())
                {
                    var name = Path.GetFileName(marker);
                    var other = name[1..^Manifests.RunManifests.PendingSuffix.Length];
                    if (other.Length > 0 && storedManifest(other) is not null) removed += Delete(marker);
                }
            }

            if (registered is not null && Directory.Exists(home.ModelsFolder))
            {
                var marked = Directory.EnumerateDirectories(home.ModelsFolder)
                    .Where(d => FileHash.IsSha256Hex(Path.GetFileName(d)) && File.Exists(Path.Combine(d, Registry.ModelRegistry.PendingMarkerName)))
                    .ToList();
                var ids = marked.Count == 0 ? null : registered();
                foreach (var folder in marked)
                {
                    if (ids!.Contains(Path.GetFileName(folder))) removed += Delete(Path.Combine(folder, Registry.ModelRegistry.PendingMarkerName));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return removed;

        static int Delete(string path)
        {
            if (!File.Exists(path)) return 0;
            File.Delete(path);
            return 1;
        }
    }

    /// <summary>
    /// Appends <paramref name="kind"/> with <paramref name="payload"/>, then, in the same transaction, hands that entry's
    /// receipt to <paramref name="complete"/> for the run's manifest and <c>run.completed</c> payload, stores the manifest
    /// (table <c>runs</c>) and appends <c>run.completed</c> with that payload plus the manifest's <c>run_id</c> and
    /// <c>manifest_sha256</c>: all three or none. For a run whose manifest must record an output that holds the first entry's receipt
    /// (a scenario answer): the receipt's seq and entry hash are fixed by the chain head this transaction holds, so
    /// they are final once this method returns, and void (nothing was stored) when it throws. <paramref name="complete"/>
    /// runs under the log's write lock, which every writer of the store (every replica on PostgreSQL) waits for: it
    /// should only assemble bytes prepared beforehand. Returns both receipts, <c>run.completed</c>'s last.
    /// </summary>
    /// <exception cref="InvalidInputException">A payload is not canonicalisable or names a secret (then nothing is stored).</exception>
    public IReadOnlyList<AuditReceipt> AppendWithRunCompleted(AuditKind kind, JsonNode? payload,
        Func<AuditReceipt, (Manifests.RunManifest Manifest, JsonObject Payload)> complete, string? actor = null)
    {
        ArgumentNullException.ThrowIfNull(complete);
        return AppendCore([(kind, payload)], actor, null, (tx, first) =>
        {
            var (manifest, completed) = complete(first[0]);
            ArgumentNullException.ThrowIfNull(manifest);
            ArgumentNullException.ThrowIfNull(completed);
            var bytes = manifest.ToCanonicalJson();
            var (sha, entry) = RunCompletedEntry(bytes, manifest.RunId, completed);
            tx.InsertRun(manifest.RunId, Manifests.RunKinds.WireName(manifest.Kind), sha, bytes);
            return [(AuditKind.RunCompleted, entry)];
        });
    }

    // the SHA-256 of a manifest's canonical bytes and the run.completed payload that pins them
    private static (string Sha256, JsonObject Entry) RunCompletedEntry(byte[] bytes, string runId, JsonObject payload)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var entry = (JsonObject)payload.DeepClone();
        entry["run_id"] = runId;
        entry["manifest_sha256"] = sha;
        return (sha, entry);
    }

    /// <summary>The canonical JSON bytes of the run manifest stored under <paramref name="runId"/>, or null.</summary>
    public byte[]? ReadRunManifest(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // a log opened read-only is not upgraded: one written before the runs table existed holds no manifest
            if (_readOnly && !_store.HasRunsTable()) return null;
            return _store.ReadRun(runId);
        }
    }

    private long _appendedEntries;
    private long _failedAppends;

    /// <summary>Entries this instance appended since it opened (a monotonic count: the service's <c>/metrics</c>).</summary>
    public long AppendedEntries => Interlocked.Read(ref _appendedEntries);

    /// <summary>Appends (transactions) this instance tried that failed and wrote nothing, since it opened.</summary>
    public long FailedAppends => Interlocked.Read(ref _failedAppends);

    // appends entries (and, when given, first writes alsoWrite's rows, and after the entries the ones `then` returns given
    // their receipts) in one transaction
    private IReadOnlyList<AuditReceipt> AppendCore(IReadOnlyList<(AuditKind Kind, JsonNode? Payload)> entries, string? actor, Action<IAuditTransaction>? alsoWrite,
        Func<IAuditTransaction, IReadOnlyList<AuditReceipt>, IReadOnlyList<(AuditKind Kind, JsonNode? Payload)>>? then)
    {
        ThrowIfReadOnly();
        RefuseKeyChangeKinds(entries);
        var prepared = Prepare(entries);

        var who = actor ?? _options.DefaultActor;
        if (string.IsNullOrWhiteSpace(who)) throw new ArgumentException("actor must not be empty", nameof(actor));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var wroteCheckpoint = false;
            List<AuditReceipt> receipts;
            try
            {
                receipts = _store.Write(tx =>
                {
                    if (_key is not null) RequireCurrentKey(tx, _key.KeyId);
                    alsoWrite?.Invoke(tx);
                    var done = new List<AuditReceipt>(prepared.Count + 1);
                    var (seq, prev) = tx.Head();
                    CatchUp(tx, seq);
                    Insert(prepared);
                    if (then is not null)
                    {
                        var more = then(tx, done.ToArray());
                        RefuseKeyChangeKinds(more);
                        Insert(Prepare(more));
                    }

                    return done;

                    void Insert(List<(string Kind, byte[] Payload)> batch)
                    {
                        foreach (var (kind, bytes) in batch)
                        {
                            seq++;
                            var ts = Rfc3339(_options.Clock.GetUtcNow());
                            var hash = ComputeEntryHash(seq, ts, kind, who, bytes, prev);
                            tx.InsertEntry(seq, ts, kind, who, bytes, prev, hash);
                            _accumulator.Append(MerkleTree.LeafHash(hash));
                            if (_key is not null && seq % _options.CheckpointInterval == 0)
                            {
                                InsertCheckpoint(tx, seq, hash, _key);
                                wroteCheckpoint = true;
                            }

                            done.Add(new AuditReceipt(seq, Convert.ToHexStringLower(hash)));
                            prev = hash;
                        }
                    }
                });
            }
            catch
            {
                _accumulator = new MerkleAccumulator();
                Interlocked.Increment(ref _failedAppends);
                throw;
            }

            Interlocked.Add(ref _appendedEntries, receipts.Count);
            _appended = true;
            if (wroteCheckpoint) ExportCheckpoints();
            return receipts;
        }
    }

    // each payload as canonical JSON, refused when it names a secret
    // audit.key_rotated and audit.key_lost carry a signed handover that only RotateKey and StartKeyEpochAfterLoss write (in the
    // same transaction as its checkpoint and the new key's meta row): one appended by hand fails verification at its seq
    private static void RefuseKeyChangeKinds(IReadOnlyList<(AuditKind Kind, JsonNode? Payload)> entries)
    {
        foreach (var (kind, _) in entries)
        {
            if (kind is AuditKind.KeyRotated or AuditKind.KeyLost)
                throw new ArgumentException(
                    $"{kind.WireName()} is written only by RotateKey or StartKeyEpochAfterLoss, never appended: nothing was appended", nameof(entries));
        }
    }

    private static List<(string Kind, byte[] Payload)> Prepare(IReadOnlyList<(AuditKind Kind, JsonNode? Payload)> entries)
    {
        var prepared = new List<(string Kind, byte[] Payload)>(entries.Count);
        foreach (var (kind, payload) in entries)
        {
            var bytes = CanonicalJson.Serialize(payload);
            RefuseSecrets(bytes);
            prepared.Add((kind.WireName(), bytes));
        }

        return prepared;
    }

    /// <summary>
    /// Signs and stores a checkpoint for the current head when it is newer than the last checkpoint, and exports it.
    /// Returns the checkpoint written, or null when the head was already checkpointed (or the log has no key).
    /// </summary>
    public AuditCheckpoint? Checkpoint()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowIfReadOnly();
            if (_key is null) return null;
            AuditCheckpoint? written;
            try
            {
                written = _store.Write(tx =>
                {
                    var (headSeq, headHash) = tx.Head();
                    if (headSeq <= tx.LastCheckpointSeq()) return null;
                    RequireCurrentKey(tx, _key.KeyId);
                    CatchUp(tx, headSeq);
                    return InsertCheckpoint(tx, headSeq, headHash, _key);
                });
            }
            catch
            {
                _accumulator = new MerkleAccumulator();
                throw;
            }

            ExportCheckpoints();
            return written;
        }
    }

    // the model ids that the SQLite log at databasePath registered (its model.registered entries), read without a writer
    internal static HashSet<string> RegisteredModelIds(string databasePath) => Read(databasePath)
        .Where(e => e.Kind == AuditKind.ModelRegistered.WireName())
        .Select(e => JsonNode.Parse(e.Payload)?["model_id"]?.GetValue<string>())
        .OfType<string>().ToHashSet(StringComparer.Ordinal);

    /// <summary>The entries with seq ≥ <paramref name="fromSeq"/>, in order, at most <paramref name="limit"/> of them.</summary>
    public IReadOnlyList<AuditEntry> List(long fromSeq = 1, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _store.ReadEntries(fromSeq, limit);
        }
    }

    /// <summary>The entries of the given kinds, in seq order (the store indexes entries by kind, so this does not read the whole log).</summary>
    public IReadOnlyList<AuditEntry> ListKinds(params AuditKind[] kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return kinds.Length == 0 ? [] : _store.ReadEntriesOfKinds([.. kinds.Select(k => k.WireName())]);
        }
    }

    /// <summary>Reads entries from the database at <paramref name="databasePath"/> without opening it for writing.</summary>
    /// <exception cref="InvalidInputException">There is no audit database at the path.</exception>
    public static IReadOnlyList<AuditEntry> Read(string databasePath, long fromSeq = 1, int limit = int.MaxValue)
    {
        if (!File.Exists(databasePath))
            throw new InvalidInputException(NoLogRule, "no audit log here", new InputLocation(databasePath, 0, 0));
        using var store = SqliteAuditStore.OpenReader(databasePath);
        return store.ReadEntries(fromSeq, limit);
    }

    /// <summary>
    /// The canonical JSON bytes of the run manifest stored under <paramref name="runId"/> in the SQLite log at
    /// <paramref name="databasePath"/>, read without opening it for writing; null when it holds none (or is older than the
    /// <c>runs</c> table).
    /// </summary>
    /// <exception cref="InvalidInputException">There is no audit database at the path.</exception>
    public static byte[]? ReadRunManifest(string databasePath, string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!File.Exists(databasePath))
            throw new InvalidInputException(NoLogRule, "no audit log here", new InputLocation(databasePath, 0, 0));
        using var store = SqliteAuditStore.OpenReader(databasePath);
        return store.HasRunsTable() ? store.ReadRun(runId) : null;
    }

    /// <summary>Reads entries from the PostgreSQL log at <paramref name="connectionString"/> without creating anything.</summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-NOLOG</c> when the database has no audit log; <c>STORE-E-CONNECT</c> when it cannot be read.</exception>
    public static IReadOnlyList<AuditEntry> ReadPostgres(string connectionString, long fromSeq = 1, int limit = int.MaxValue)
    {
        using var store = PostgresAuditStore.OpenReader(connectionString);
        try
        {
            if (!store.HasTables()) throw new InvalidInputException(NoLogRule, "no audit log in this database");
            return store.ReadEntries(fromSeq, limit);
        }
        catch (Npgsql.NpgsqlException e)
        {
            throw new InvalidInputException("STORE-E-CONNECT", "cannot read the PostgreSQL store: " + e.Message);
        }
    }

    /// <summary>The number of entries (the head's seq).</summary>
    public long Count
    {
        get
        {
            lock (_gate) return _store.HeadSeq();
        }
    }

    /// <summary>The stored checkpoints, in seq order.</summary>
    public IReadOnlyList<AuditCheckpoint> Checkpoints()
    {
        lock (_gate) return _store.ReadCheckpoints();
    }

    /// <summary>The RFC 6962 inclusion proof of entry <paramref name="seq"/> in the tree of the first <paramref name="treeSize"/> entries.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long seq, long treeSize)
    {
        lock (_gate)
        {
            var leaves = _store.ReadEntries(1, (int)Math.Min(int.MaxValue, treeSize)).Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList();
            if (leaves.Count != treeSize) throw new ArgumentOutOfRangeException(nameof(treeSize), "the log has fewer entries");
            return MerkleTree.InclusionProof(leaves, seq - 1);
        }
    }

    /// <summary>The RFC 6962 consistency proof that the log's first <paramref name="oldSize"/> entries are a prefix of its first <paramref name="newSize"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long oldSize, long newSize)
    {
        lock (_gate)
        {
            var leaves = _store.ReadEntries(1, (int)Math.Min(int.MaxValue, newSize)).Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList();
            if (leaves.Count != newSize) throw new ArgumentOutOfRangeException(nameof(newSize), "the log has fewer entries");
            return MerkleTree.ConsistencyProof(leaves, oldSize);
        }
    }

    /// <summary>Closes the log; a writer that appended signs a checkpoint for its last entry first.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                // Lock is re-entrant: Checkpoint takes _gate again on this thread.
                if (_appended && _key is not null) _ = Checkpoint();
            }
            catch (InvalidInputException e) when (e.Rule == KeyRule)
            {
                // the key was rotated by another process since this one appended: the closing checkpoint is not signed with
                // the retired key (the rotation's own checkpoint, signed by it, covers every entry before the rotation)
            }
            finally
            {
                _disposed = true;
                _store.Dispose();
                _key?.Dispose();
            }
        }
    }

    /// <summary>The entry hash (see the class remarks for the exact encoding).</summary>
    public static byte[] ComputeEntryHash(long seq, string timestampUtc, string kind, string actor, ReadOnlySpan<byte> payload,
        ReadOnlySpan<byte> prevHash)
    {
        if (prevHash.Length != 32) throw new ArgumentException("prev_hash has 32 bytes", nameof(prevHash));
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> eight = stackalloc byte[8];
        h.AppendData(Encoding.ASCII.GetBytes(HashDomain));
        BinaryPrimitives.WriteInt64BigEndian(eight, seq);
        h.AppendData(eight);
        Prefixed(h, Encoding.UTF8.GetBytes(timestampUtc));
        Prefixed(h, Encoding.UTF8.GetBytes(kind));
        Prefixed(h, Encoding.UTF8.GetBytes(actor));
        Prefixed(h, payload);
        h.AppendData(prevHash);
        return h.GetHashAndReset();

        static void Prefixed(IncrementalHash h, ReadOnlySpan<byte> field)
        {
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(four, field.Length);
            h.AppendData(four);
            h.AppendData(field);
        }
    }

    /// <summary>RFC 3339 UTC with 7 fractional digits, e.g. <c>2026-01-02T03:04:05.1234567Z</c>.</summary>
    public static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Verifies the log at <paramref name="databasePath"/> read-only: every seq contiguous from 1, every prev_hash link,
    /// every entry hash, every checkpoint (in the database and, when given, in the exported <paramref name="checkpointFile"/>)
    /// signed by <paramref name="publicKey"/> and matching the chain head and Merkle root at its seq, and the log not
    /// shorter than any checkpoint. Reports the first problem in seq order; a log cut below a key change, whose remaining
    /// checkpoints the trusted key cannot check, is reported as the <see cref="AuditProblem.Truncation"/> that a
    /// checkpoint beyond its end signed by the trusted key proves.
    /// </summary>
    /// <exception cref="InvalidInputException">There is neither a database nor a checkpoint file at the paths.</exception>
    public static AuditVerification Verify(string databasePath, AuditSigningKey? publicKey, string? checkpointFile) =>
        Verify(databasePath, publicKey, checkpointFile, null);

    // home: the SQLite log's home when checkpointFile may be its own export, whose PostgreSQL stores' lines are passed over;
    // copy: checkpointFile is an off-machine copy, not the home's export (ReadCheckpointFile)
    private static AuditVerification Verify(string databasePath, AuditSigningKey? publicKey, string? checkpointFile, CrucibleHome? home, bool copy = false)
    {
        var external = new SortedDictionary<long, AuditCheckpoint>();
        var haveDb = File.Exists(databasePath);
        if (checkpointFile is not null && File.Exists(checkpointFile))
        {
            var problem = ReadCheckpointFile(checkpointFile, external, ForeignLines(checkpointFile, home), copy);
            if (problem is not null) return problem;
        }
        else if (!haveDb)
        {
            throw new InvalidInputException(NoLogRule, "no audit log here", new InputLocation(databasePath, 0, 0));
        }

        var dbCheckpoints = new SortedDictionary<long, AuditCheckpoint>();
        List<AuditEntry> entries = [];
        if (haveDb)
        {
            try
            {
                // a file cut short or overwritten fails here already (SQLITE_CORRUPT, SQLITE_NOTADB): a malformed log, not an error
                using var store = SqliteAuditStore.OpenReader(databasePath);
                if (store.HasTables())
                {
                    entries = store.ReadEntries(long.MinValue, int.MaxValue); // every row, those below seq 1 too (VerifyRows)
                    foreach (var c in store.ReadCheckpoints()) dbCheckpoints[c.Seq] = c;
                }
                else if (external.Count == 0)
                {
                    return new AuditVerification(AuditProblem.Malformed, 1, null, 0, 0, "the database has no audit tables");
                }

                // else an emptied database (0 bytes, or its tables dropped) under exported checkpoints: a truncation, found below
            }
            catch (Exception e) when (e is InvalidCastException or SqliteException or InvalidDataException)
            {
                return new AuditVerification(AuditProblem.Malformed, null, null, 0, 0, $"cannot read the log: {e.Message}");
            }
        }

        return VerifyRows(entries, dbCheckpoints, external, publicKey);
    }

    /// <summary>
    /// Verifies this log's rows (SQLite or PostgreSQL) as <see cref="Verify(string, AuditSigningKey?, string?)"/> does,
    /// against <paramref name="publicKey"/> and, when given, the exported <paramref name="checkpointFile"/>.
    /// </summary>
    public AuditVerification VerifyStored(AuditSigningKey? publicKey, string? checkpointFile)
    {
        var external = new SortedDictionary<long, AuditCheckpoint>();
        if (checkpointFile is not null && File.Exists(checkpointFile))
        {
            var problem = ReadCheckpointFile(checkpointFile, external, _store is PostgresAuditStore ? null : ForeignLines(checkpointFile, _options.Home));
            if (problem is not null) return problem;
        }

        List<AuditEntry> entries;
        var dbCheckpoints = new SortedDictionary<long, AuditCheckpoint>();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            entries = _store.ReadEntries(long.MinValue, int.MaxValue); // every row, those below seq 1 too (VerifyRows)
            foreach (var c in _store.ReadCheckpoints()) dbCheckpoints[c.Seq] = c;
        }

        return VerifyRows(entries, dbCheckpoints, external, publicKey);
    }

    /// <summary>
    /// Verifies this log with the public key beside its signing key (<see cref="AuditSigningKey.PublicFileName"/>) and its
    /// exported checkpoint file: the service's readiness and <c>GET /v1/audit/verify</c> check.
    /// </summary>
    public AuditVerification VerifyStored()
    {
        var keyPath = _options.SigningKeyPath is { } k ? AuditSigningKey.PublicPathFor(k) : null;
        using var key = keyPath is not null && File.Exists(keyPath) ? AuditSigningKey.LoadPublic(keyPath) : null;
        return VerifyStored(key, _options.CheckpointFile);
    }

    /// <summary>
    /// Verifies the PostgreSQL log at <paramref name="connectionString"/> read-only (it is never created here), as
    /// <see cref="Verify(string, AuditSigningKey?, string?)"/> does for a SQLite file. <paramref name="checkpointFileIsCopy"/>:
    /// <paramref name="checkpointFile"/> is an off-machine copy (<c>--checkpoints</c>), not a writer's export, so its last
    /// line without a newline is read when it parses (<see cref="IsCheckpointCopy"/>).
    /// </summary>
    public static AuditVerification VerifyPostgres(string connectionString, AuditSigningKey? publicKey, string? checkpointFile, bool checkpointFileIsCopy = false)
    {
        var external = new SortedDictionary<long, AuditCheckpoint>();
        if (checkpointFile is not null && File.Exists(checkpointFile))
        {
            var problem = ReadCheckpointFile(checkpointFile, external, copy: checkpointFileIsCopy);
            if (problem is not null) return problem;
        }

        using var store = PostgresAuditStore.OpenReader(connectionString);
        var dbCheckpoints = new SortedDictionary<long, AuditCheckpoint>();
        List<AuditEntry> entries;
        try
        {
            if (!store.HasTables()) return new AuditVerification(AuditProblem.Malformed, 1, null, 0, 0, "the database has no audit tables");
            entries = store.ReadEntries(long.MinValue, int.MaxValue); // every row, those below seq 1 too (VerifyRows)
            foreach (var c in store.ReadCheckpoints()) dbCheckpoints[c.Seq] = c;
        }
        catch (Npgsql.NpgsqlException e)
        {
            throw new InvalidInputException("STORE-E-CONNECT", "cannot read the PostgreSQL store: " + e.Message);
        }

        return VerifyRows(entries, dbCheckpoints, external, publicKey);
    }

    internal static AuditVerification VerifyRows(List<AuditEntry> entries, SortedDictionary<long, AuditCheckpoint> dbCheckpoints,
        SortedDictionary<long, AuditCheckpoint> external, AuditSigningKey? publicKey)
    {
        var checkedCount = 0;
        KeyHistory? history = null;
        if (publicKey is null && (dbCheckpoints.Count > 0 || external.Count > 0))
            return new AuditVerification(AuditProblem.MissingKey, null, null, entries.Count, 0,
                $"{dbCheckpoints.Count + external.Count} checkpoints but no public key to check them");

        // a checkpoint at seq 0 or below covers no entry, so the loop below would never look at it: a forged or bit-flipped
        // seq would hide the checkpoint it replaced (found by the byte-flip fuzz, RELIABILITY LOG-6)
        var below = dbCheckpoints.Keys.Concat(external.Keys).DefaultIfEmpty(1).Min();
        if (below < 1)
            return Fail(AuditProblem.Malformed, 1, below, string.Create(CultureInfo.InvariantCulture, $"a checkpoint at seq {below}: checkpoints cover entries from 1 on"));

        // a row numbered below 1 is no entry of the chain, yet the readers by kind (the registry's ListKinds) take it for one:
        // a plain INSERT makes it (the append-only triggers stop UPDATE and DELETE only), so it must not pass unseen
        if (entries.Count > 0 && entries[0].Seq < 1) // in seq order
            return Fail(AuditProblem.Malformed, 1, null, string.Create(CultureInfo.InvariantCulture,
                $"a row at seq {entries[0].Seq} ({entries.Count(e => e.Seq < 1)} below seq 1): entries are numbered from 1, so it is outside the chain"));

        // a log that changed keys: each checkpoint is checked with the key of its epoch (read from the key change entries,
        // each trusted once the walk has checked its hash), and the trusted key must be one of them (checked after the walk,
        // so that an edited key change entry is named at its seq)
        history = KeyHistory.Build(entries);
        using var disposeHistory = history;

        var accumulator = new MerkleAccumulator();
        var prev = new byte[32];
        long expected = 1;
        long lastGoodCheckpoint = 0;
        // the findings that do not end the walk (a checkpoint's bad signature or its mismatch with the chain), in seq order:
        // the first is what the result reports as its problem (as when verification stopped there), the rest are Findings
        var found = new List<AuditVerification>();
        var mismatched = false;
        foreach (var e in entries)
        {
            if (e.Seq != expected)
                return Finish(Fail(AuditProblem.Gap, expected, null, $"entry {expected} is missing (the next stored entry is {e.Seq})"));
            if (e.PrevHash.Length != 32 || e.EntryHash.Length != 32)
                return Finish(Fail(AuditProblem.Malformed, e.Seq, null, $"entry {e.Seq} has a hash of the wrong size"));
            if (!CryptographicOperations.FixedTimeEquals(e.PrevHash, prev))
                return Finish(Fail(AuditProblem.Link, e.Seq, null, $"entry {e.Seq} does not link to entry {e.Seq - 1} (rows swapped, inserted or re-linked)"));
            var recomputed = ComputeEntryHash(e.Seq, e.TimestampUtc, e.Kind, e.Actor, Encoding.UTF8.GetBytes(e.Payload), e.PrevHash);
            if (!CryptographicOperations.FixedTimeEquals(recomputed, e.EntryHash))
                return Finish(Fail(AuditProblem.Hash, e.Seq, null, $"entry {e.Seq}: stored hash is not the hash of its fields (a field or the hash was edited)"));
            if (AuditKinds.FromWireName(e.Kind) is null)
                return Finish(Fail(AuditProblem.Malformed, e.Seq, null, $"entry {e.Seq}: unknown kind '{e.Kind}'"));
            var change = history?.At(e.Seq);
            if (change is { Problem: { } wrong })
                return Finish(Fail(AuditProblem.KeyRotation, e.Seq, null, $"entry {e.Seq} changes the signing key, but {wrong}"));
            prev = e.EntryHash;
            accumulator.Append(MerkleTree.LeafHash(e.EntryHash));
            var allGood = true;
            foreach (var (source, table) in new[] { ("database", dbCheckpoints), ("exported", external) })
            {
                if (!table.TryGetValue(e.Seq, out var c)) continue;
                if (history is not null && history.KeyAt(c.Seq) is null)
                {
                    // the key change that opens this epoch names no key (its payload is broken) and the walk stops at it: this
                    // checkpoint cannot be checked, and checking it with the trusted key would blame the entries before it
                    allGood = false;
                    continue;
                }

                checkedCount++;
                var key = history?.KeyAt(c.Seq) ?? publicKey!;
                if (!key.Verify(c.SignedBytes(), c.Signature) || !string.Equals(c.KeyId, key.KeyId, StringComparison.Ordinal))
                {
                    // signed by another key than the chain names here: a key change among cut-off entries, when a checkpoint
                    // beyond the log's end proves a truncation (the log cut below a rotation, the verifier holding a later key)
                    if (!string.Equals(c.KeyId, key.KeyId, StringComparison.Ordinal) && ProvenBeyond(entries[^1].Seq) is { } cut)
                        return Finish(Truncated(entries[^1].Seq, cut, $"; checkpoint {c.Seq} is signed by key {c.KeyId}, not by the key {key.KeyId} the remaining chain names there (a key change among the cut-off entries)"));
                    // a bad signature is a finding of its own: the walk goes on (the chain, the later checkpoints and the
                    // log's end are checked independently of it)
                    found.Add(Fail(AuditProblem.Signature, lastGoodCheckpoint + 1, c.Seq, $"{source} checkpoint {c.Seq}: signature does not verify with key {key.KeyId}"
                        + (history is null ? "" : " (the key in use at that entry)")));
                    allGood = false;
                    continue;
                }

                if (!CryptographicOperations.FixedTimeEquals(c.HeadHash, e.EntryHash) || !CryptographicOperations.FixedTimeEquals(c.MerkleRoot, accumulator.Root()))
                {
                    // every later checkpoint's head and root depend on the changed entry: only the first mismatch is a finding
                    if (!mismatched)
                    {
                        found.Add(Fail(AuditProblem.CheckpointMismatch, lastGoodCheckpoint + 1, c.Seq,
                            $"{source} checkpoint {c.Seq} does not match the chain: an entry in {lastGoodCheckpoint + 1}..{c.Seq} was changed and the chain recomputed"));
                    }

                    mismatched = true;
                    allGood = false;
                }
            }

            // a rotation is trusted only through a checkpoint at its own entry signed by the key it retires: without one, it is
            // a rotation to a key of someone who did not hold the old key
            if (change is { Lost: false, Change: var rotation } && !dbCheckpoints.ContainsKey(e.Seq) && !external.ContainsKey(e.Seq))
                return Finish(Fail(AuditProblem.KeyRotation, e.Seq, null,
                    $"entry {e.Seq} rotates the signing key from {rotation.OldKeyId} to {rotation.NewKeyId}, but no checkpoint signed by {rotation.OldKeyId} covers it: the retiring key did not sign this rotation"));
            if (allGood && (dbCheckpoints.ContainsKey(e.Seq) || external.ContainsKey(e.Seq))) lastGoodCheckpoint = e.Seq;
            expected++;
        }

        if (history is not null && publicKey is not null && !history.Holds(publicKey))
        {
            // the change to the trusted key was cut off with the tail: a truncation, when the trusted key signed a checkpoint beyond the end
            if (ProvenBeyond(expected - 1) is { } cut)
                return Finish(Truncated(expected - 1, cut, $"; the trusted key {publicKey.KeyId} is none of the keys the remaining chain names ({string.Join(", ", history.KeyIds)}): its key change was among the cut-off entries"));
            var first = dbCheckpoints.Keys.Concat(external.Keys).DefaultIfEmpty(0).Min();
            return Finish(Fail(AuditProblem.Signature, 1, first, $"the trusted key {publicKey.KeyId} is none of the log's signing keys ({string.Join(", ", history.KeyIds)})"));
        }

        var n = expected - 1;
        var beyond = dbCheckpoints.Keys.Concat(external.Keys).Where(s => s > n).DefaultIfEmpty(0).Max();
        if (beyond > 0)
        {
            var c = dbCheckpoints.TryGetValue(beyond, out var db) ? db : external[beyond];
            checkedCount++;
            var endKey = history?.KeyAt(beyond) ?? publicKey!;
            if (!endKey.Verify(c.SignedBytes(), c.Signature))
            {
                // signed by another key than the one in use at the log's end: a key change among the cut-off entries, when a
                // lower checkpoint beyond the end verifies (the verifier holding an earlier key)
                if (!string.Equals(c.KeyId, endKey.KeyId, StringComparison.Ordinal) && ProvenBeyond(n) is { } cut)
                    return Finish(Truncated(n, cut, $"; checkpoint {beyond} is signed by key {c.KeyId}, which a key change among the cut-off entries names"));
                return Finish(Fail(AuditProblem.Signature, n + 1, beyond, $"checkpoint {beyond} (beyond the log's end) has a bad signature"));
            }

            return Finish(Truncated(n, beyond, ""));
        }

        if (found.Count > 0) return Finish(null);
        var changes = history?.Changes ?? [];
        return new AuditVerification(AuditProblem.None, null, null, n, checkedCount,
            string.Create(CultureInfo.InvariantCulture, $"ok: {n} entries, {checkedCount} checkpoints verified") + KeyChangesText(changes))
        {
            KeyChanges = changes,
        };

        AuditVerification Fail(AuditProblem p, long seq, long? checkpoint, string message) =>
            new(p, seq, checkpoint, entries.Count, checkedCount, message) { KeyChanges = history?.Changes.Where(c => c.Seq < seq).ToList() ?? [] };

        // the result: the first finding (the walk's first problem, as when verification stopped at it), with every finding,
        // last the one that ended the walk (null: none did)
        AuditVerification Finish(AuditVerification? last)
        {
            List<AuditVerification> all = [.. found];
            if (last is not null) all.Add(last);
            var findings = all.Select(f => new AuditFinding(f.Problem, f.FirstBadSeq, f.CheckpointSeq, f.Message)).ToList();
            return all[0] with { Findings = findings };
        }

        AuditVerification Truncated(long end, long covered, string note) => Fail(AuditProblem.Truncation, end + 1, covered,
            string.Create(CultureInfo.InvariantCulture, $"the log ends at entry {end} but a signed checkpoint covers {covered}: entries {end + 1}..{covered} were cut off") + note);

        // the highest seq beyond entry `end` with a checkpoint (database or exported) that a key the verifier trusts signed:
        // the trusted key itself, or the key in use after the log's last key change when the trusted key is one of the log's
        // keys; null when none (a checkpoint beyond the end signed by an unknown key proves nothing)
        long? ProvenBeyond(long end)
        {
            var anchored = history is null || history.Holds(publicKey!);
            foreach (var s in dbCheckpoints.Keys.Concat(external.Keys).Where(s => s > end).Distinct().OrderDescending())
            {
                foreach (var table in new[] { dbCheckpoints, external })
                {
                    if (!table.TryGetValue(s, out var c)) continue;
                    foreach (var k in anchored && history?.KeyAt(s) is { } last ? new[] { publicKey!, last } : [publicKey!])
                    {
                        if (string.Equals(c.KeyId, k.KeyId, StringComparison.Ordinal) && k.Verify(c.SignedBytes(), c.Signature)) return s;
                    }
                }
            }

            return null;
        }
    }

    // "; keys: a → b at entry 7 (rotated); KEY BREAK at entry 12: …" for the verification message (empty without changes)
    private static string KeyChangesText(List<AuditKeyChange> changes)
    {
        if (changes.Count == 0) return "";
        var parts = changes.Select(c => c.SignedByOldKey
            ? string.Create(CultureInfo.InvariantCulture, $"rotated {c.OldKeyId} → {c.NewKeyId} at entry {c.Seq}")
            : string.Create(CultureInfo.InvariantCulture, $"KEY BREAK at entry {c.Seq}: key {c.OldKeyId} was lost and did not sign the change to {c.NewKeyId}"));
        return string.Create(CultureInfo.InvariantCulture, $" with {changes.Count + 1} keys ({string.Join("; ", parts)})");
    }

    /// <summary>Verifies the audit log of <paramref name="home"/> with its own public key, or <paramref name="publicKeyPath"/>.</summary>
    /// <remarks>
    /// Besides the checks of <see cref="Verify(string, AuditSigningKey?, string?)"/>, a log that is missing, empty or
    /// holds no entry in a home whose <c>runs/</c> holds run manifests or whose <c>models/</c> holds registered model
    /// folders (which entries pin; not those with the pending marker, <see cref="Registry.ModelRegistry.PendingMarkerName"/>) fails as <see cref="AuditProblem.Truncation"/> at entry 1: deleting the log is not
    /// taken for a new home. A log that verifies, with entries, also removes the pending markers of the runs and
    /// registrations it recorded that their killed writers left (<see cref="RemoveCommittedMarkers"/>: never a live
    /// writer's, whose entry is not yet committed).
    /// </remarks>
    public static AuditVerification Verify(CrucibleHome home, string? publicKeyPath = null, string? checkpointFile = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        var keyPath = publicKeyPath ?? Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName);
        using var key = File.Exists(keyPath) || publicKeyPath is not null ? AuditSigningKey.LoadPublic(keyPath) : null;
        RequireNamedCheckpointFile(checkpointFile);
        var checkpoints = checkpointFile ?? home.AuditCheckpoints;
        var copy = IsCheckpointCopy(home, checkpointFile);
        var (runs, models) = PinnedFiles(home);
        // the home's own export (the default) passes over the lines of the home's PostgreSQL stores (ForeignLines)
        if (runs + models > 0 && IsAbsentOrEmpty(home.AuditDatabase) && ExportedHead(checkpoints, home, copy) == 0) return Emptied(runs, models, "is missing or empty");
        var v = Verify(home.AuditDatabase, key, checkpoints, home, copy);
        if (v.Ok && v.Entries > 0)
        {
            // a log that verifies: the markers of runs and registrations it recorded, which their killed writers left, go
            RemoveCommittedMarkers(home, runId => ReadRunManifest(home.AuditDatabase, runId), () => RegisteredModelIds(home.AuditDatabase));
        }

        return v.Ok && v.Entries == 0 && runs + models > 0 ? Emptied(runs, models, "holds no entry") : v;

        AuditVerification Emptied(int runs, int models, string state) => new(AuditProblem.Truncation, 1, null, 0, 0, string.Create(CultureInfo.InvariantCulture,
            $"the audit log {state}, but the home holds {runs} run manifests (runs/) and {models} registered model folders (models/) that entries recorded: ")
            + "the log was deleted or emptied (or the home's very first run or model registration was killed before its entry)" + PostgresHint(home));
    }

    /// <summary>
    /// Refuses a checkpoint file that a caller named (the off-machine copy to check the log against) and that does not
    /// exist: without it the log would be checked against its own table alone and pass, a false assurance. The home's
    /// default export may be absent (a home that has not signed a checkpoint yet); <c>null</c> names none.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-CHECKPOINTS</c>, naming the path; <c>not-a-file</c> for a folder.</exception>
    public static void RequireNamedCheckpointFile(string? checkpointFile)
    {
        if (checkpointFile is not null) Data.IO.InputFile.ThrowIfFolder(checkpointFile, Data.IO.InputFile.NotAFileRule); // not "does not exist"
        if (checkpointFile is not null && !File.Exists(checkpointFile))
            throw new InvalidInputException("AUDIT-E-CHECKPOINTS",
                "the checkpoint file to check the log against does not exist; give the path of the exported copy (audit-checkpoints.jsonl)",
                new InputLocation(checkpointFile, 0, 0));
    }

    /// <summary>
    /// Whether <paramref name="checkpointFile"/>, named to check a log of <paramref name="home"/> against, is an off-machine
    /// copy rather than one of the home's own exports (<see cref="CrucibleHome.AuditCheckpoints"/>,
    /// <see cref="CrucibleHome.PostgresAuditCheckpointFiles"/>). A copy is never appended to, so a last line without its
    /// newline that parses is a checkpoint saved without the newline, not a torn write, and is checked; <c>null</c> names none.
    /// </summary>
    public static bool IsCheckpointCopy(CrucibleHome home, string? checkpointFile)
    {
        ArgumentNullException.ThrowIfNull(home);
        if (checkpointFile is null) return false;
        var full = Path.GetFullPath(checkpointFile);
        return !string.Equals(full, home.AuditCheckpoints, StringComparison.Ordinal)
            && !home.PostgresAuditCheckpointFiles().Contains(full, StringComparer.Ordinal);
    }

    // run manifests in HOME/runs and model folders (named by a 64-hex id) in HOME/models, but those with a pending marker
    // (Manifests.RunManifests.PendingMarkerPath beside a manifest, Registry.ModelRegistry.PendingMarkerName in a folder):
    // a run or registration wrote them and was killed before its entry, so no entry recorded them (the marker is removed
    // once the entry is committed); and model folders that hold a proof that a PostgreSQL store's log recorded their registration
    // (Registry.PostgresRegistrationProof: its entry under a checkpoint signed by the home's key and exported to the home's
    // file for that store), which are that store's, not evidence of the SQLite log
    private static (int Runs, int Models) PinnedFiles(CrucibleHome home)
    {
        int runs = Directory.Exists(home.RunsFolder)
            ? Directory.EnumerateFiles(home.RunsFolder, "*.json").Count(f => !File.Exists(Manifests.RunManifests.PendingMarkerPath(home, Path.GetFileNameWithoutExtension(f))))
            : 0;
        int models = Directory.Exists(home.ModelsFolder)
            ? Directory.EnumerateDirectories(home.ModelsFolder).Count(d => Path.GetFileName(d) is { Length: 64 } n && n.All(char.IsAsciiHexDigitLower)
                && !File.Exists(Path.Combine(d, Registry.ModelRegistry.PendingMarkerName))
                && !Registry.PostgresRegistrationProof.Holds(home, d))
            : 0;
        return (runs, models);
    }

    // foreign: complete lines to pass over (another store's, ForeignLines); copy: an off-machine copy, whose last line without
    // its newline is a checkpoint when it parses (verified as every other line), and a torn write passed over when it does not
    private static AuditVerification? ReadCheckpointFile(string path, SortedDictionary<long, AuditCheckpoint> into, HashSet<string>? foreign = null, bool copy = false)
    {
        foreach (var (number, line, terminated) in CheckpointFileLines(path, foreign, copy))
        {
            var parsed = TryParseCheckpointLine(line);
            if (parsed is null && !terminated) continue;
            if (parsed is not { } c)
                return new AuditVerification(AuditProblem.Malformed, null, null, 0, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{path}:{number}: not a checkpoint line"));
            if (into.TryGetValue(c.Seq, out var seen) && !Same(seen, c))
                return new AuditVerification(AuditProblem.Malformed, null, c.Seq, 0, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{path}:{number}: two different checkpoints for seq {c.Seq}"));
            into[c.Seq] = c;
        }

        return null;

        static bool Same(AuditCheckpoint a, AuditCheckpoint b) =>
            a.HeadHash.AsSpan().SequenceEqual(b.HeadHash) && a.MerkleRoot.AsSpan().SequenceEqual(b.MerkleRoot)
            && a.Signature.AsSpan().SequenceEqual(b.Signature) && a.TimestampUtc == b.TimestampUtc
            && string.Equals(a.KeyId, b.KeyId, StringComparison.Ordinal);
    }

    // the non-empty complete lines of a checkpoint file, with their 1-based line numbers, but foreign ones; copy: the file
    // is an off-machine copy (never appended to), whose last line without its newline is yielded too (Terminated: false)
    private static IEnumerable<(int Number, string Line, bool Terminated)> CheckpointFileLines(string path, HashSet<string>? foreign, bool copy = false)
    {
        // the log's own file, or the one --checkpoints names: refused by size (FILE-E-SIZE) rather than read past 2 GiB
        var bytes = Data.IO.InputFile.ReadAllBytes(path, Data.IO.InputFile.MaxStateBytes);
        // a copy re-saved by an editor may start with a UTF-8 byte-order mark: it is no part of the first line
        var bom = Data.IO.InputFile.Utf8BomLength(bytes);
        var text = Encoding.UTF8.GetString(bytes, bom, bytes.Length - bom);
        var lines = text.Split('\n');
        // A line without its newline at the very end is a write torn by a power loss: ignored, it was never acknowledged.
        // A copy is not written to by the log, so that line may be a whole one saved without its newline: the reader decides.
        for (var i = 0; i < lines.Length; i++)
        {
            var terminated = i < lines.Length - 1;
            if (lines[i].Length == 0 || (!terminated && !copy) || (foreign is not null && foreign.Contains(lines[i]))) continue;
            yield return (i + 1, lines[i], terminated);
        }
    }

    // null for a line that is not a checkpoint
    private static AuditCheckpoint? TryParseCheckpointLine(string line)
    {
        try
        {
            return ParseCheckpointLine(line);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    internal static AuditCheckpoint ParseCheckpointLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        return new AuditCheckpoint(
            r.GetProperty("seq").GetInt64(),
            Convert.FromHexString(Text(r, "head_hash")),
            Convert.FromHexString(Text(r, "merkle_root")),
            Text(r, "ts_utc"),
            Text(r, "key_id"),
            Convert.FromHexString(Text(r, "sig")));

        // a JSON null is no string: GetString() answers null for it, which is a malformed line, not a value
        static string Text(JsonElement r, string name) =>
            r.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null");
    }

    internal static string CheckpointLine(AuditCheckpoint c) =>
        Encoding.UTF8.GetString(CanonicalJson.Serialize(new JsonObject
        {
            ["seq"] = c.Seq,
            ["head_hash"] = Convert.ToHexStringLower(c.HeadHash),
            ["merkle_root"] = Convert.ToHexStringLower(c.MerkleRoot),
            ["ts_utc"] = c.TimestampUtc,
            ["key_id"] = c.KeyId,
            ["sig"] = Convert.ToHexStringLower(c.Signature),
        }));

    private static void RefuseSecrets(byte[] canonicalPayload)
    {
        using var doc = JsonDocument.Parse(canonicalPayload);
        Walk(doc.RootElement);

        static void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    var name = p.Name.ToLowerInvariant().Replace('-', '_');
                    foreach (var part in ForbiddenKeyParts)
                    {
                        if (name.Contains(part, StringComparison.Ordinal))
                            throw new InvalidInputException("AUDIT-E-SECRET",
                                $"audit payloads hold ids and hashes only; member '{p.Name}' looks like a secret");
                    }

                    Walk(p.Value);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray()) Walk(item);
            }
        }
    }

    private AuditCheckpoint InsertCheckpoint(IAuditTransaction tx, long seq, byte[] headHash, AuditSigningKey key)
    {
        var root = _accumulator.Root();
        var ts = Rfc3339(_options.Clock.GetUtcNow());
        var sig = key.Sign(AuditCheckpoint.SignedBytes(seq, headHash, root, ts, key.KeyId));
        var checkpoint = new AuditCheckpoint(seq, headHash, root, ts, key.KeyId, sig);
        tx.InsertCheckpoint(checkpoint);
        return checkpoint;
    }

    /// <summary>
    /// Appends the checkpoints not yet exported to the checkpoint file, under the store's write lock so that writers in
    /// other processes do not interleave. Each batch is one write() followed by fsync; the exported seq is recorded after.
    /// A crash in between only repeats identical lines, which the verifier accepts.
    /// </summary>
    private void ExportCheckpoints()
    {
        if (_options.CheckpointFile is not { } file) return;
        var marker = _store.ExportMarker(file);
        _store.Write(tx =>
        {
            var exported = long.Parse(tx.GetMeta(marker) ?? "0", NumberStyles.Integer, CultureInfo.InvariantCulture);
            var pending = tx.CheckpointsAfter(exported);
            if (pending.Count == 0) return 0;
            var sb = new StringBuilder();
            foreach (var c in pending) sb.Append(CheckpointLine(c)).Append('\n');
            AppendDurably(file, Encoding.UTF8.GetBytes(sb.ToString()));
            tx.SetMeta(marker, pending[^1].Seq.ToString(CultureInfo.InvariantCulture));
            return pending.Count;
        });
    }

    private static void AppendDurably(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        // A line torn by a crash (no trailing newline) was never acknowledged: its checkpoints were not marked exported,
        // so this batch writes them again. Cut it off rather than close it, or it would stay behind as a malformed line.
        stream.SetLength(CompleteLinesLength(stream));
        stream.Seek(0, SeekOrigin.End);
        stream.Write(bytes); // unbuffered: one write() call
        stream.Flush(flushToDisk: true);
    }

    // the length of the file up to and including its last newline (0 when it has none)
    private static long CompleteLinesLength(FileStream stream)
    {
        var buffer = new byte[4096];
        var end = stream.Length;
        while (end > 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var count = (int)(end - start);
            stream.Seek(start, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, count);
            var newline = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (newline >= 0) return start + newline + 1;
            end = start;
        }

        return 0;
    }

    /// <summary>Brings the in-memory Merkle accumulator up to <paramref name="headSeq"/> (other processes may have appended).</summary>
    private void CatchUp(IAuditTransaction tx, long headSeq)
    {
        if (_accumulator.Size > headSeq) _accumulator = new MerkleAccumulator();
        if (_accumulator.Size == headSeq) return;
        foreach (var hash in tx.EntryHashes(_accumulator.Size, headSeq)) _accumulator.Append(MerkleTree.LeafHash(hash));
        if (_accumulator.Size != headSeq)
            throw new InvalidDataException($"the audit log has gaps below seq {headSeq}; run 'crucible audit verify'");
    }
}
