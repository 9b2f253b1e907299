using Crucible.Data;

namespace Crucible.Governance;

/// <summary>
/// The folder where Crucible keeps its state (model registry, run manifests, audit log; ARCHITECTURE.md):
/// <c>--home DIR</c>, else the environment variable <c>CRUCIBLE_HOME</c>, else <c>~/.crucible</c>.
/// </summary>
public sealed class CrucibleHome
{
    /// <summary>The environment variable that names the home folder when no <c>--home</c> is given.</summary>
    public const string EnvironmentVariable = "CRUCIBLE_HOME";

    /// <summary>The rule of a home folder that a command which only reads it does not find.</summary>
    public const string MissingRule = "HOME-E-MISSING";

    private CrucibleHome(string root, HomeSource source)
    {
        Root = root;
        Source = source;
    }

    /// <summary>The absolute path of the home folder.</summary>
    public string Root { get; }

    /// <summary>Where the path came from: <c>--home</c>, <c>--store sqlite:DIR</c>, <c>CRUCIBLE_HOME</c>, or the default.</summary>
    public HomeSource Source { get; }

    /// <summary>Whether the home folder exists.</summary>
    public bool Exists => Directory.Exists(Root);

    /// <summary>The SQLite audit log, <c>audit.db</c>.</summary>
    public string AuditDatabase => Path.Combine(Root, "audit.db");

    /// <summary>
    /// The append-only text file to which every signed checkpoint of the home's SQLite audit log is also written (one
    /// JSON line each): the copy that an operator ships off the machine, so that a rewritten or truncated database is
    /// caught. A PostgreSQL store's checkpoints go to a file of their own (<see cref="AuditCheckpointsFor"/>).
    /// </summary>
    public string AuditCheckpoints => Path.Combine(Root, Storage.StoreLocation.SqliteCheckpointFileName);

    /// <summary>
    /// The file in this home to which the checkpoints of <paramref name="store"/>'s audit log are exported: the SQLite
    /// log's <see cref="AuditCheckpoints"/>, or one file per PostgreSQL database
    /// (<see cref="Storage.StoreLocation.CheckpointFileName"/>).
    /// </summary>
    public string AuditCheckpointsFor(Storage.StoreLocation store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return Path.Combine(Root, store.CheckpointFileName);
    }

    /// <summary>The checkpoint exports of PostgreSQL stores in this home (<see cref="AuditCheckpointsFor"/>), by name.</summary>
    public IReadOnlyList<string> PostgresAuditCheckpointFiles() => Directory.Exists(Root)
        ? [.. Directory.EnumerateFiles(Root, Storage.StoreLocation.PostgresCheckpointFilePrefix + "*.jsonl").Order(StringComparer.Ordinal)]
        : [];

    /// <summary>The folder of signing keys (the audit log's checkpoint key; never inside the database).</summary>
    public string KeysFolder => Path.Combine(Root, "keys");

    /// <summary>The model registry folder: one sub-folder per model id.</summary>
    public string ModelsFolder => Path.Combine(Root, "models");

    /// <summary>The run manifests folder.</summary>
    public string RunsFolder => Path.Combine(Root, Storage.StoreLocation.SqliteRunsFolderName);

    /// <summary>
    /// The folder in this home of the run manifests that <paramref name="store"/>'s audit log records: the SQLite log's
    /// <see cref="RunsFolder"/>, or one folder per PostgreSQL database (<see cref="Storage.StoreLocation.RunsFolderName"/>).
    /// </summary>
    public string RunsFolderFor(Storage.StoreLocation store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return Path.Combine(Root, store.RunsFolderName);
    }

    /// <summary>
    /// Resolves the home folder: <paramref name="homeOption"/> when given, else <c>CRUCIBLE_HOME</c> when set and not
    /// empty, else <c>~/.crucible</c>. The folder is not created here (see <see cref="EnsureExists"/>).
    /// </summary>
    /// <exception cref="InvalidInputException">The resolved path is not a valid path.</exception>
    public static CrucibleHome Resolve(string? homeOption = null) =>
        Resolve(homeOption, Environment.GetEnvironmentVariable(EnvironmentVariable),
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The resolution rule with its inputs explicit (for tests and hosts that read configuration differently).</summary>
    public static CrucibleHome Resolve(string? homeOption, string? environmentValue, string userProfile)
    {
        string path;
        HomeSource source;
        if (!string.IsNullOrWhiteSpace(homeOption)) (path, source) = (homeOption, HomeSource.Option);
        else if (!string.IsNullOrWhiteSpace(environmentValue)) (path, source) = (environmentValue, HomeSource.Environment);
        else if (!string.IsNullOrWhiteSpace(userProfile)) (path, source) = (Path.Combine(userProfile, ".crucible"), HomeSource.Default);
        else throw new InvalidInputException("HOME-E", "no home folder: give --home DIR or set CRUCIBLE_HOME");

        try
        {
            return new CrucibleHome(Path.GetFullPath(path), source);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InvalidInputException("HOME-E", $"invalid home folder '{path}': {e.Message}");
        }
    }

    /// <summary>
    /// The home that a store option names (<c>--store sqlite:DIR</c>): the folder as <see cref="Resolve(string?)"/> gives it
    /// for <c>--home DIR</c>, its source <see cref="HomeSource.StoreOption"/>, so that a missing one names the option the user gave.
    /// </summary>
    /// <exception cref="InvalidInputException">The folder is empty or not a valid path.</exception>
    public static CrucibleHome ResolveStoreFolder(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new InvalidInputException("HOME-E", "no home folder: --store sqlite: needs a folder");
        return new CrucibleHome(Resolve(folder, null, "").Root, HomeSource.StoreOption);
    }

    /// <summary>Creates the home folder when it does not exist yet, and returns this.</summary>
    /// <exception cref="Crucible.Data.IO.OutputPathException">The system refused to create it (a file on the way, a read-only folder).</exception>
    public CrucibleHome EnsureExists()
    {
        Crucible.Data.IO.OutputPathException.CreateFolder(Root);
        return this;
    }

    /// <summary>
    /// For a command that only reads the home (it lists, shows or verifies what is there): returns this when the folder
    /// exists, else refuses with <c>HOME-E-MISSING</c> naming the folder and where its path came from, so that a mistyped
    /// <c>--home</c> is not answered as an empty home (nor created).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>HOME-E-MISSING</c>: the folder does not exist.</exception>
    public CrucibleHome RequireExisting()
    {
        if (Exists) return this;
        var from = Source switch
        {
            HomeSource.Option => "--home",
            HomeSource.StoreOption => "--store",
            HomeSource.Environment => EnvironmentVariable,
            _ => "the default home",
        };
        throw new InvalidInputException(MissingRule,
            $"no Crucible home at {Root} ({from}): this command only reads a home and creates none; check the path "
            + "(train, generate, evaluate and the other commands that record runs create it)");
    }

    /// <inheritdoc />
    public override string ToString() => Root;
}

/// <summary>Where a home folder's path came from (<see cref="CrucibleHome.Resolve(string?, string?, string)"/>).</summary>
public enum HomeSource
{
    /// <summary>Named on the command line (<c>--home DIR</c>) or by the host's configuration.</summary>
    Option,

    /// <summary>Named by the store option, <c>--store sqlite:DIR</c>.</summary>
    StoreOption,

    /// <summary>The environment variable <c>CRUCIBLE_HOME</c>.</summary>
    Environment,

    /// <summary>The default, <c>~/.crucible</c>.</summary>
    Default,
}
