using System.Globalization;
using Crucible.Data;

namespace Crucible.Service;

/// <summary>
/// The service's settings, bound from the configuration section <c>Crucible</c> (command line
/// <c>--Crucible:Home DIR</c>, environment <c>Crucible__Home</c>, or <c>crucible serve --home DIR</c>).
/// </summary>
public sealed class ServiceOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Crucible";

    /// <summary>The home folder (registry, audit log); null: <c>CRUCIBLE_HOME</c>, else <c>~/.crucible</c>.</summary>
    public string? Home { get; set; }

    /// <summary>
    /// Where the shared state lives: <c>sqlite:HOME_FOLDER</c> (the default: SQLite files in the home) or
    /// <c>postgres:CONNECTION_STRING</c>, one PostgreSQL database shared by several replicas (audit log, model registry
    /// and files, idempotency keys); the home then keeps only this replica's keys, model cache and checkpoint export.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>
    /// The private key PEM that signs audit checkpoints; null: <c>HOME/keys/audit-checkpoint.key.pem</c> (created on first
    /// use). Replicas sharing a PostgreSQL store must all be given the same key file.
    /// </summary>
    public string? AuditKeyFile { get; set; }

    /// <summary>The API keys file (<c>KEY_ID SCOPES sha256:HEX</c> per line); null: <c>HOME/api-keys</c>.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>Requests each API key may make per <see cref="RateLimitWindowSeconds"/> (fixed window, no queue).</summary>
    public int RateLimitPermits { get; set; } = 120;

    /// <summary>The rate limit window, in seconds.</summary>
    public double RateLimitWindowSeconds { get; set; } = 60;

    /// <summary>Generation requests sampled at once (the rest wait in a bounded queue or get 429).</summary>
    public int MaxConcurrentGenerations { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Threads one sampling kernel call may use (<c>EngineThreads.MaxDegreeOfParallelism</c>, process-wide); 0 leaves the
    /// engine's default, all cores. With several generations at once, cores / <see cref="MaxConcurrentGenerations"/>
    /// keeps them from oversubscribing the cores (bench/service/README.md).
    /// </summary>
    public int EngineThreads { get; set; }

    /// <summary>Generation requests that may wait for a free slot before further ones get 429.</summary>
    public int GenerationQueue { get; set; } = 16;

    /// <summary>
    /// The longest a scenario request may sample, in seconds (0: no limit). Past it the sampler stops within one step and
    /// the request is answered 503 <c>generation-timeout</c>; its generation slot is free again at once.
    /// </summary>
    public double GenerationTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// How long, in seconds, the requests in flight at shutdown (SIGTERM, Ctrl+C) may go on: past it a scenario request
    /// still sampling stops within one step, and any request still waiting for a generation slot is answered 503
    /// <c>unavailable</c>, so that each is answered before the host's 30 s shutdown timeout resets its connection. In
    /// [0, 30): 0 refuses at once every request not yet sampled whole.
    /// </summary>
    public double ShutdownDrainSeconds { get; set; } = 20;

    /// <summary>The host's shutdown timeout, in seconds: the requests in flight at SIGTERM are reset past it.</summary>
    public const double ShutdownTimeoutSeconds = 30;

    /// <summary>The largest request body accepted, in bytes (larger: 413).</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The largest training request body (it carries the data CSV), in bytes (larger: 413).</summary>
    public int MaxTrainingBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The most scenarios one request may ask for (more: 422).</summary>
    public int MaxScenarios { get; set; } = 100_000;

    /// <summary>The most values (scenarios × steps × series) one response may hold (more: 422).</summary>
    public long MaxCells { get; set; } = 5_000_000;

    /// <summary>Whether scenario requests must carry an <c>Idempotency-Key</c> header (missing: 400).</summary>
    public bool RequireIdempotencyKey { get; set; }

    /// <summary>
    /// Readiness's storage probe: the room each SQLite store must have, in bytes (under its page quota and on its disk),
    /// for the service to be ready (less: 503 storage-full).
    /// </summary>
    public long ReadinessMinFreeBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Readiness's storage probe: how long it waits for a store's write lock, in milliseconds (longer: 503, locked). On
    /// SQLite the wait is at least 1 s (Microsoft.Data.Sqlite retries a busy lock for its command timeout, in whole seconds).
    /// </summary>
    public int ReadinessLockWaitMilliseconds { get; set; } = 1000;

    /// <summary>How long a stored response is replayed for its idempotency key, in seconds.</summary>
    public double IdempotencyRetentionSeconds { get; set; } = 24 * 3600;

    /// <summary>The most stored responses kept for idempotent replay (oldest dropped first).</summary>
    public int IdempotencyCapacity { get; set; } = 1024;

    /// <summary>
    /// Finished training jobs (home store) this process keeps in memory, the most recent ones; older ones are answered
    /// from <c>HOME/jobs.db</c>, and one whose final state <c>jobs.db</c> could not record answers 410 once dropped. (On a
    /// shared PostgreSQL store only the running job is in memory.)
    /// </summary>
    public int FinishedJobsInMemory { get; set; } = 256;

    /// <summary>
    /// The longest a training job may train, in seconds, counted from its start (0: no limit, the default: a job's length
    /// is the steps and model size its request asks for, which the service cannot bound for every deployment; set it to
    /// what the deployment's largest legitimate job takes). Past it the job stops at its next step and is recorded
    /// <c>failed</c> with an error starting <c>job-timeout</c>; nothing is registered.
    /// </summary>
    public double TrainingJobTimeoutSeconds { get; set; }

    /// <summary>The rule of a setting out of its range, refused when the service starts (<see cref="ThrowIfInvalid"/>).</summary>
    public const string SettingRule = "SERVE-E-SETTING";

    /// <summary>
    /// The longest timeout or rate-limit window, in seconds: 4,294,967 s (about 49.7 days), the most a .NET timer or
    /// <see cref="CancellationTokenSource"/> accepts (2^32 − 2 ms).
    /// </summary>
    public const double MaxTimerSeconds = 4_294_967;

    /// <summary>The longest idempotency retention, in seconds: 100 years.</summary>
    public const double MaxRetentionSeconds = 100 * 365.0 * 86_400;

    /// <summary>
    /// What is wrong with these settings, one line each naming the setting as configured (<c>Crucible:NAME</c>), what it
    /// must be and the value given; empty when every setting is in range. Out of range, a setting failed only later: a
    /// <c>RateLimitPermits</c> of 0 answered every request 500, a <c>GenerationTimeoutSeconds</c> past the timer's range
    /// every scenario request, and such a <c>TrainingJobTimeoutSeconds</c> stopped the service when a job started.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        AtLeast(nameof(RateLimitPermits), RateLimitPermits, 1);
        Seconds(nameof(RateLimitWindowSeconds), RateLimitWindowSeconds, MaxTimerSeconds, zeroIsNoLimit: false);
        AtLeast(nameof(MaxConcurrentGenerations), MaxConcurrentGenerations, 1);
        AtLeast(nameof(EngineThreads), EngineThreads, 0);
        AtLeast(nameof(GenerationQueue), GenerationQueue, 0);
        Seconds(nameof(GenerationTimeoutSeconds), GenerationTimeoutSeconds, MaxTimerSeconds, zeroIsNoLimit: true);
        if (!(ShutdownDrainSeconds >= 0 && ShutdownDrainSeconds < ShutdownTimeoutSeconds))
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}:{nameof(ShutdownDrainSeconds)} must be a number of seconds in [0, {ShutdownTimeoutSeconds:0}) (the shutdown timeout), got {ShutdownDrainSeconds}"));
        AtLeast(nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, 1);
        AtLeast(nameof(MaxTrainingBodyBytes), MaxTrainingBodyBytes, 1);
        AtLeast(nameof(MaxScenarios), MaxScenarios, 1);
        AtLeast(nameof(MaxCells), MaxCells, 1);
        AtLeast(nameof(ReadinessMinFreeBytes), ReadinessMinFreeBytes, 0);
        AtLeast(nameof(ReadinessLockWaitMilliseconds), ReadinessLockWaitMilliseconds, 0);
        Seconds(nameof(IdempotencyRetentionSeconds), IdempotencyRetentionSeconds, MaxRetentionSeconds, zeroIsNoLimit: false);
        AtLeast(nameof(IdempotencyCapacity), IdempotencyCapacity, 1);
        AtLeast(nameof(FinishedJobsInMemory), FinishedJobsInMemory, 0);
        Seconds(nameof(TrainingJobTimeoutSeconds), TrainingJobTimeoutSeconds, MaxTimerSeconds, zeroIsNoLimit: true);
        return problems;

        void AtLeast(string name, long value, long min)
        {
            if (value < min) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}:{name} must be at least {min}, got {value}"));
        }

        void Seconds(string name, double value, double max, bool zeroIsNoLimit)
        {
            if (double.IsFinite(value) && (zeroIsNoLimit ? value >= 0 : value > 0) && value <= max) return;
            var range = string.Create(CultureInfo.InvariantCulture, $"{(zeroIsNoLimit ? "0 (no limit) or " : "")}a number of seconds in (0, {max:0}]");
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}:{name} must be {range}, got {value}"));
        }
    }

    /// <summary>Throws when a setting is out of range (<see cref="Problems"/>), naming every one: the service does not start.</summary>
    /// <exception cref="InvalidInputException"><see cref="SettingRule"/>.</exception>
    public void ThrowIfInvalid()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new InvalidInputException(SettingRule, string.Join("; ", problems) + ": the service did not start");
    }
}
