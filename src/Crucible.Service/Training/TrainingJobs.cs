using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.IO;
using Crucible.Diffusion;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Storage;
using Crucible.Service.Endpoints;
using Crucible.Service.Scenarios;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Training;

/// <summary>
/// The state of a training job: <see cref="JobView.Status"/>, stored in the jobs tables and written in JSON by its wire name
/// (<see cref="JobStatuses.WireName"/>, e.g. <c>queued</c>), never as a number.
/// </summary>
[JsonConverter(typeof(JobStatusJsonConverter))]
public enum JobStatus
{
    /// <summary>Waiting for the trainer.</summary>
    Queued,

    /// <summary>Training.</summary>
    Running,

    /// <summary>Trained, saved and registered: <see cref="JobView.ModelId"/> names the model.</summary>
    Succeeded,

    /// <summary>Stopped with an error (<see cref="JobView.Error"/>); nothing was registered.</summary>
    Failed,

    /// <summary>Cancelled by a request, the service's stop, or the death of the process running it; nothing was registered.</summary>
    Cancelled,
}

/// <summary>The stable wire names of <see cref="JobStatus"/>: the jobs tables' <c>status</c> and the JSON <c>status</c>.</summary>
public static class JobStatuses
{
    private static readonly WireNames<JobStatus> Names = new(
        (JobStatus.Queued, "queued"),
        (JobStatus.Running, "running"),
        (JobStatus.Succeeded, "succeeded"),
        (JobStatus.Failed, "failed"),
        (JobStatus.Cancelled, "cancelled"));

    /// <summary>Every state, in the order above.</summary>
    public static IReadOnlyList<JobStatus> All => Names.All;

    /// <summary>The wire names joined for a message: <c>queued, running, succeeded, failed, cancelled</c>.</summary>
    public static string Choices { get; } = Names.Choices(", ");

    /// <summary>The wire name of <paramref name="status"/>, e.g. <c>queued</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not a defined state.</exception>
    public static string WireName(this JobStatus status) =>
        Names.NameOf(status) ?? throw new ArgumentOutOfRangeException(nameof(status), status, "unknown job status");

    /// <summary>The state whose wire name is <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static JobStatus? FromWireName(string? name) => Names.ValueOf(name);

    /// <summary>Whether a job in <paramref name="status"/> has not ended (queued or running): it can still be cancelled.</summary>
    public static bool IsLive(this JobStatus status) => status is JobStatus.Queued or JobStatus.Running;

    /// <summary>
    /// The state a jobs table holds in <paramref name="name"/> (its <c>status</c> column).
    /// </summary>
    /// <exception cref="InvalidDataException">No state has that name: the table was written by something else.</exception>
    internal static JobStatus Stored(string name) =>
        FromWireName(name) ?? throw new InvalidDataException($"a training job's stored status '{name}' is not one of {Choices}");
}

/// <summary>
/// Writes and reads a <see cref="JobStatus"/> as its wire name (a string enum to the OpenAPI document); any other value,
/// a number included, is a <see cref="JsonException"/>.
/// </summary>
public sealed class JobStatusJsonConverter() : JsonStringEnumConverter<JobStatus>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false);

/// <summary>What <c>GET /v1/jobs/{id}</c> answers.</summary>
/// <param name="Id">The job id.</param>
/// <param name="Status">queued, running, succeeded, failed or cancelled (by a request, the service's stop, or the death of the process running it: <see cref="Error"/> says which).</param>
/// <param name="Step">Optimiser steps done.</param>
/// <param name="TotalSteps">Optimiser steps in all.</param>
/// <param name="Loss">While running, the mean loss over the last progress interval (null before the first); once succeeded,
/// the final loss <c>crucible train</c> prints (the model manifest's <c>training.final_loss</c>: the mean over the last tenth
/// of the steps); null under DP (DP-11).</param>
/// <param name="ModelId">The registered model, once succeeded.</param>
/// <param name="RunId">The run, once succeeded: <c>GET /v1/runs/{id}</c> answers its manifest.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Created">When it was accepted (RFC 3339 UTC).</param>
/// <param name="Finished">When it ended.</param>
/// <param name="Attempts">How many times a worker took the job up to train it: 0 while queued (and for a job cancelled
/// before it started), 1 once started; on the shared PostgreSQL store a job a stopping replica handed back (or whose
/// replica died) counts each claim, so 2 or more when another replica trained it again.</param>
public sealed record JobView(string Id, JobStatus Status, int Step, int TotalSteps, double? Loss, string? ModelId, string? RunId, string? Error, string Created, string? Finished,
    int Attempts);

/// <summary>
/// Training jobs (<c>POST /v1/models</c>): accepted into a bounded queue and run one at a time by a background worker,
/// which reads the data (and a sequence job's state) exactly as <c>crucible train</c> does, fits (a sequence job
/// through <see cref="SequenceTraining.Train"/>, the function <c>crucible train --kind sequence</c> calls), saves the
/// model folder into the job's folder (<see cref="JobFolder"/>, deleted when the job ends), registers it (a candidate) in the home's registry and appends
/// <c>run.completed</c> (a sequence job's with its state file's hash, state columns and calibration episode, the
/// settings <c>crucible train</c> records in its run manifest) with the job's run manifest, which it pins: the request's
/// bytes, data and state CSVs in (named inputs), the canonical config and seed, the model folder's two files out
/// (named too: the registry's files of the model id; <c>GET /v1/runs/{id}</c>; the job's status names the run once it succeeded). Progress is reported as the trainer reports it. On
/// shutdown the running job is cancelled through the trainer's token and marked cancelled; no model is registered.
/// A shutdown that stops a job (running, or queued in the home store) appends <c>run.failed</c> (status
/// <c>cancelled</c>) for it before the process exits. Job records live in the home's <c>jobs.db</c>
/// (<see cref="LocalJobs"/>: a restart answers for them; a job a killed process left unfinished answers cancelled), or, with a shared
/// PostgreSQL store, in its <c>training_job</c> table (<see cref="SharedJobs"/>, which stores the request as sent,
/// every field of it): every replica answers for every job, any replica's worker claims the oldest queued one, and
/// jobs still queued when a replica stops stay queued for the others.
/// </summary>
public sealed class TrainingJobs(CrucibleHome home, AuditLog audit, ModelCatalog catalog, TimeProvider clock, ILogger<TrainingJobs> logger,
    StoreLocation store, Microsoft.Extensions.Options.IOptions<ServiceOptions> settings) : BackgroundService
{
    /// <summary>How long a claimed job stays with its replica without a renewal (renewed every <see cref="LeaseRenewal"/>).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(10);
    private readonly SharedJobs? _shared = store.Kind == StoreKind.Postgres ? new SharedJobs(store.Value) : null;
    private readonly LocalJobs? _local = store.Kind == StoreKind.Postgres ? null : new LocalJobs(home.Root);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly string _replica = Environment.MachineName + ":" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ":" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The most jobs waiting at once (more: 429).</summary>
    public const int QueueCapacity = 8;

    private sealed class Job(string id, ValidTrainingRequest request, string actor, string created, ManifestFile? body)
    {
        public string Id { get; } = id;

        /// <summary>The request's bytes as sent (the run manifest's input <c>request</c>); null for a shared row queued before rows kept it.</summary>
        public ManifestFile? Body { get; } = body;

        public ValidTrainingRequest Request { get; } = request;

        public string Actor { get; } = actor;

        public string Created { get; } = created;

        public volatile JobView? View;

        public long LastShared;

        /// <summary>Whether <c>jobs.db</c> holds the job's final state (its last write there succeeded).</summary>
        public bool Recorded;

        /// <summary>Cancelled to stop the job's training early (a cancel asked for): the trainer stops at its next step.</summary>
        public CancellationTokenSource Stop { get; } = new();

        /// <summary>The error a cancel asked for records (who and why), once asked.</summary>
        public volatile string? CancelError;

        /// <summary>Orders a queued job's start against its cancel (home store).</summary>
        public Lock Gate { get; } = new();
    }

    /// <summary>What <see cref="Cancel(string, string, string?)"/> did.</summary>
    public enum CancelOutcome
    {
        /// <summary>No job has this id.</summary>
        NotFound,

        /// <summary>The job finished and its final state left memory unrecorded (410).</summary>
        Gone,

        /// <summary>The job had succeeded or failed: nothing to cancel (409).</summary>
        Finished,

        /// <summary>The job is cancelled (it was queued, or was cancelled already).</summary>
        Cancelled,

        /// <summary>The job is running: its replica stops it at its next step (or at its next progress write when another process runs it).</summary>
        Stopping,
    }

    private readonly Channel<Job> _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);

    // finished jobs in the order they finished (home store): beyond ServiceOptions.FinishedJobsInMemory the oldest leaves
    // _jobs and is answered from jobs.db; one whose final state jobs.db could not take is forgotten (_forgotten: 410)
    private readonly ConcurrentQueue<string> _finished = new();
    private readonly ConcurrentDictionary<string, byte> _forgotten = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _forgottenOrder = new();
    private readonly Lock _evictGate = new();
    private readonly int _finishedInMemory = Math.Max(0, settings.Value.FinishedJobsInMemory);
    private readonly double _timeoutSeconds = settings.Value.TrainingJobTimeoutSeconds;

    /// <summary>The error prefix of a job stopped by <see cref="ServiceOptions.TrainingJobTimeoutSeconds"/>.</summary>
    public const string TimeoutReason = "job-timeout";

    /// <summary>The error of a job a stopping replica (shared store) gave back to the queue, in its <c>run.failed</c> entry.</summary>
    public const string ReleasedMessage = "the replica running this job stopped; the job is queued again for another replica, which trains it from the start";

    /// <summary>The jobs this process holds in memory (queued, running, and the most recent finished ones).</summary>
    public int InMemory => _jobs.Count;

    /// <summary>
    /// Whether job <paramref name="id"/> finished in this process and was dropped from memory before <c>jobs.db</c> could
    /// record its final state: it cannot be answered any more (<c>410</c>). At most <see cref="ServiceOptions.FinishedJobsInMemory"/> such ids are kept.
    /// </summary>
    public bool WasForgotten(string id) => _forgotten.ContainsKey(id);

    /// <summary>
    /// Readiness's probe of the home's <c>jobs.db</c> (<see cref="StorageProbe.SqliteFile"/>: a connection of its own,
    /// which a missing, corrupt, locked or full file fails); null on the shared store (its database is probed as the audit log's).
    /// </summary>
    public StorageHealth? Probe(TimeSpan wait, long minFreeBytes) =>
        _local is null ? null : StorageProbe.SqliteFile("jobs", Path.Combine(home.Root, LocalJobs.FileName), wait, minFreeBytes);

    /// <summary>Queues a job whose request's bytes <paramref name="body"/> describes; null when the queue is full.</summary>
    public JobView? Submit(ValidTrainingRequest request, string actor, ManifestFile body)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(body);
        var id = Guid.NewGuid().ToString("N");
        var created = AuditLog.Rfc3339(clock.GetUtcNow());
        var job = new Job(id, request, actor, created, body);
        job.View = new JobView(id, JobStatus.Queued, 0, request.TotalSteps, null, null, null, null, created, null, 0);
        if (_shared is not null)
        {
            if (!_shared.TryQueue(job.View, JsonSerializer.Serialize(request.Request), actor, QueueCapacity, body)) return null;
            _wake.Release();
            return job.View;
        }

        _local!.Insert(job.View, actor); // recorded before it is answered 202: a restart still knows it
        _jobs[id] = job;
        if (_queue.Writer.TryWrite(job)) return job.View;
        _jobs.TryRemove(id, out _);
        _local.Delete(id);
        return null;
    }

    /// <summary>
    /// The job <paramref name="id"/>, or null: on the shared store its row; in the home, this process's own view of a job
    /// it holds (the freshest progress), else the row in <c>jobs.db</c> (a job of an earlier or another process).
    /// </summary>
    public JobView? Find(string id) => _shared is not null ? _shared.Find(id)
        : _jobs.TryGetValue(id, out var job) ? job.View
        : _forgotten.ContainsKey(id) ? null
        : _local!.Find(id, AuditLog.Rfc3339(clock.GetUtcNow()));

    /// <summary>
    /// A page of jobs, newest first: with <paramref name="status"/> (any when null), accepted before job
    /// <paramref name="before"/> (from the newest when null), at most <paramref name="limit"/>; each as <see cref="Find"/>
    /// answers it. Null when <paramref name="before"/> names no job.
    /// </summary>
    public IReadOnlyList<JobView>? List(JobStatus? status, string? before, int limit)
    {
        if (_shared is not null) return _shared.List(status, before, limit);
        // the forgotten jobs (410) are left out: asked for as many more rows as there are of them, so that a page holding
        // some still has its size (and its caller a next page), and at most FinishedJobsInMemory more
        int forgotten = _forgotten.Count;
        var rows = _local!.List(status, before, (int)Math.Min(int.MaxValue, (long)limit + forgotten), AuditLog.Rfc3339(clock.GetUtcNow()));
        return rows?.Where(v => !_forgotten.ContainsKey(v.Id)).Take(limit).Select(v => _jobs.TryGetValue(v.Id, out var job) ? job.View! : v).ToList();
    }

    /// <summary>The number of jobs in each state, every state named (0 when none), as the store records them.</summary>
    public IReadOnlyDictionary<JobStatus, long> CountByStatus()
    {
        var counts = _shared is not null ? _shared.CountByStatus() : _local!.CountByStatus();
        return JobStatuses.All.ToDictionary(s => s, s => counts.GetValueOrDefault(s.WireName()));
    }

    /// <summary>
    /// Cancels job <paramref name="id"/> for <paramref name="actor"/> (<c>key:ID</c>) with an optional
    /// <paramref name="reason"/>: a queued job at once (<c>run.failed</c>, status cancelled); a running one stops at its
    /// next step, on whichever replica or process runs it, and is then recorded cancelled the same way. The error
    /// recorded names who and why. A cancelled job answers as it is; a succeeded or failed one is not changed.
    /// </summary>
    public (CancelOutcome Outcome, JobView? View) Cancel(string id, string actor, string? reason)
    {
        var error = "cancelled by " + actor + (string.IsNullOrWhiteSpace(reason) ? "" : ": " + reason);
        if (_shared is { } shared) return CancelShared(shared, id, error);
        if (_jobs.TryGetValue(id, out var job))
        {
            lock (job.Gate)
            {
                var status = job.View!.Status;
                if (status == JobStatus.Queued)
                {
                    Cancel(job, error); // the worker skips it when it dequeues it
                    return (CancelOutcome.Cancelled, job.View);
                }

                if (status == JobStatus.Running)
                {
                    RequestStop(job, error);
                    return (CancelOutcome.Stopping, job.View);
                }
            }

            return (job.View!.Status == JobStatus.Cancelled ? CancelOutcome.Cancelled : CancelOutcome.Finished, job.View);
        }

        if (_forgotten.ContainsKey(id)) return (CancelOutcome.Gone, null);
        var row = _local!.Find(id, AuditLog.Rfc3339(clock.GetUtcNow()));
        if (row is null) return (CancelOutcome.NotFound, null);
        // a job of another live process on this home: it reads the request from jobs.db before it starts the job or at
        // its next progress write
        if (row.Status.IsLive() && _local.RequestCancel(id, error)) return (CancelOutcome.Stopping, row);
        row = _local.Find(id, AuditLog.Rfc3339(clock.GetUtcNow())) ?? row;
        return (row.Status == JobStatus.Cancelled ? CancelOutcome.Cancelled : CancelOutcome.Finished, row);
    }

    private (CancelOutcome, JobView?) CancelShared(SharedJobs shared, string id, string error)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var view = shared.Find(id);
            if (view is null) return (CancelOutcome.NotFound, null);
            switch (view.Status)
            {
                case JobStatus.Queued:
                    if (!shared.CancelQueued(id, error, AuditLog.Rfc3339(clock.GetUtcNow()))) continue; // claimed meanwhile: read again
                    AppendCancelled(id, shared.ActorOf(id) ?? "service", error);
                    return (CancelOutcome.Cancelled, shared.Find(id));
                case JobStatus.Running:
                    if (!shared.RequestCancel(id, error)) continue; // it ended meanwhile
                    if (_jobs.TryGetValue(id, out var mine)) RequestStop(mine, error); // this replica runs it: now, not at the next write
                    return (CancelOutcome.Stopping, view);
                case JobStatus.Cancelled:
                    return (CancelOutcome.Cancelled, view);
                default:
                    return (CancelOutcome.Finished, view);
            }
        }

        return (CancelOutcome.Stopping, shared.Find(id));
    }

    // a cancel asked for a job this process runs: the trainer's token stops it at its next step
    private static void RequestStop(Job job, string error)
    {
        Interlocked.CompareExchange(ref job.CancelError, error, null);
        try
        {
            job.Stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_shared is not null)
        {
            await RunShared(_shared, stoppingToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                // the reader hands out what is queued even once stopping: such a job never starts (cancelled below)
                if (stoppingToken.IsCancellationRequested) break;
                if (!TryStart(job)) continue; // cancelled while it waited
                await Task.Run(() => Run(job, stoppingToken), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        foreach (var job in _jobs.Values)
        {
            lock (job.Gate)
            {
                if (job.View!.Status == JobStatus.Queued) Cancel(job, "the service stopped before the job ran");
            }
        }
    }

    // a queued job of the home store starts unless it was cancelled meanwhile (here, or by another process through jobs.db)
    private bool TryStart(Job job)
    {
        string? asked = null;
        try
        {
            asked = _local!.CancelRequested(job.Id);
        }
        catch (SqliteException e)
        {
            logger.LogWarning("cannot read training job {JobId} from jobs.db: {Message}", job.Id, e.Message);
        }

        lock (job.Gate)
        {
            if (job.View!.Status != JobStatus.Queued) return false;
            if (asked is not null)
            {
                Cancel(job, asked);
                return false;
            }

            job.View = job.View with { Status = JobStatus.Running, Attempts = 1 };
            return true;
        }
    }

    /// <summary>The worker of a replica on the shared store: claim, run, repeat; woken by a local submit or every second.</summary>
    private async Task RunShared(SharedJobs shared, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            (string Id, string RequestJson, string Actor, string Created, ManifestFile? Body, string? CancelRequested, int Attempts)? claimed;
            try
            {
                claimed = shared.Claim(_replica, now.ToUnixTimeMilliseconds(), (now + Lease).ToUnixTimeMilliseconds());
            }
            catch (Npgsql.NpgsqlException e)
            {
                logger.LogWarning("cannot claim training jobs from the shared store: {Message}", e.Message);
                claimed = null;
            }

            if (claimed is not { } c)
            {
                try
                {
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            // a claim may be a job whose earlier replica died (its lease ran out): its folder, if that replica shared this
            // home, is emptied by JobFolder.Claim; other folders such deaths left here go now rather than at the next start
            var orphans = RemoveOrphanedFolders();
            if (orphans > 0) logger.LogWarning("deleted {Count} training job folders that no live job owns (left by a killed service)", orphans);

            var request = JsonSerializer.Deserialize<TrainingRequest>(c.RequestJson);
            var (_, valid) = request is null ? (null, null) : TrainingValidation.Check(request);
            if (valid is null)
            {
                TryShared(() => shared.Finish(c.Id, _replica, JobStatus.Failed, null, null, null, "the stored request no longer validates", AuditLog.Rfc3339(clock.GetUtcNow())), c.Id);
                continue;
            }

            var job = new Job(c.Id, valid, c.Actor, c.Created, c.Body);
            job.View = new JobView(c.Id, JobStatus.Running, 0, valid.TotalSteps, null, null, null, null, c.Created, null, c.Attempts);
            if (c.CancelRequested is { } asked)
            {
                Cancel(job, asked); // cancelled while a replica that has since died ran it
                continue;
            }

            _jobs[c.Id] = job;
            using (var renew = new Timer(_ => RenewLease(shared, job), null, LeaseRenewal, LeaseRenewal))
            {
                await Task.Run(() => Run(job, stop), CancellationToken.None).ConfigureAwait(false);
            }

            _jobs.TryRemove(c.Id, out _);
        }
    }

    // a timer callback: whatever it throws would end the process (the store's connections disposed by a shutdown that
    // did not wait for the job, a store out of reach), so every failure is logged and the next tick tries again
    private void RenewLease(SharedJobs shared, Job job)
    {
        try
        {
            if (job.View!.Status != JobStatus.Running) return;
            var lease = shared.Renew(job.Id, _replica, (clock.GetUtcNow() + Lease).ToUnixTimeMilliseconds());
            if (!lease.Held) RequestStop(job, LeaseLost);
            else if (lease.CancelRequested is { } asked) RequestStop(job, asked);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("cannot renew the lease of training job {JobId}: {Message}", job.Id, e.Message);
        }
    }

    /// <summary>
    /// Why a replica stops a job whose lease ran out and that another replica claimed since (shared store): two replicas
    /// must not train one job, and the row is the other's (this one's end is not recorded over it).
    /// </summary>
    internal const string LeaseLost = "the job's lease ran out and another replica took it over: stopped on this replica";

    private void Run(Job job, CancellationToken stop)
    {
        TryLocal(job.View!);
        // the trainer's token: the shutdown, a cancel asked for, or the job's timeout
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, job.Stop.Token);
        if (_timeoutSeconds > 0) linked.CancelAfter(TimeSpan.FromSeconds(_timeoutSeconds));
        var token = linked.Token;
        try
        {
            // the folder is gone before the job is reported finished
            var (modelId, runId, finalLoss) = Train(job, token);
            job.View = job.View! with { Loss = finalLoss }; // the number crucible train prints, not the last interval's mean
            Finish(job, JobStatus.Succeeded, modelId, runId, null);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (job.CancelError is { } asked) Cancel(job, asked);
            else if (stop.IsCancellationRequested && _shared is { } shared) Release(shared, job);
            else if (stop.IsCancellationRequested) Cancel(job, "the service stopped while the job ran");
            else Fail(job, string.Create(CultureInfo.InvariantCulture,
                $"{TimeoutReason}: the job ran longer than TrainingJobTimeoutSeconds ({_timeoutSeconds} s) and was stopped at step {job.View!.Step} of {job.View.TotalSteps}; nothing was registered"), TimeoutReason);
        }
        catch (InvalidInputException e)
        {
            // the reader's NAME:LINE:COL, without the job folder's absolute path in the home (never shown to a client); a
            // refusal whose advice names options (the state file's date column or format, its missing values, the
            // condition features) names the request's members, not crucible train's flags, as does a registry conflict's
            // advice on withheld prices (withhold_prices); a DP refusal of the engine (DP-E-BUDGET at privacy.KEY) names the
            // request's field, config.privacy.KEY
            var worded = e switch
            {
                SequenceOptionException options => options.Worded(TrainingRequestNames.Instance),
                Crucible.Governance.Registry.ModelConflictException conflict => conflict.Worded(TrainingRequestNames.WithholdPrices),
                _ => e,
            };
            Fail(job, FileRequest.MessageOf(DpTrainingOptions.Relocate(worded, key => "config.privacy." + key), Path.Combine(JobsFolder, job.Id)));
        }
        catch (JobFolderInUseException e)
        {
            Fail(job, e.Message);
        }
        catch (ArgumentException e)
        {
            Fail(job, e.Message);
        }
        catch (OutOfMemoryException)
        {
            // a config too large for this process's memory (hidden, blocks, batch_size: "hidden": 20000 asks for 1.6 GB
            // weights at once); the allocation that failed never happened, so the service goes on. Left to escape, it
            // stopped the whole service (BackgroundServiceExceptionBehavior.StopHost)
            Fail(job, "out of memory: the model or batch this config asks for does not fit in the service's memory; use a smaller hidden, blocks or training.batch_size");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "training job {JobId} failed", job.Id);
            Fail(job, "internal error (see the service log)");
        }
        finally
        {
            job.Stop.Dispose();
        }
    }

    // a stopping replica (shared store) hands its running job back: queued again at its place for another replica, which
    // trains it from the start (same request, same seed: the same model); a cancel asked for meanwhile is recorded instead
    private void Release(SharedJobs shared, Job job)
    {
        int? attempts;
        string? asked = null;
        try
        {
            attempts = shared.Release(job.Id, _replica);
            if (attempts is null) asked = shared.Renew(job.Id, _replica, (clock.GetUtcNow() + Lease).ToUnixTimeMilliseconds()).CancelRequested;
        }
        catch (Npgsql.NpgsqlException e)
        {
            // its lease runs out and another replica claims it then
            logger.LogWarning("cannot hand training job {JobId} back to the shared queue: {Message}", job.Id, e.Message);
            return;
        }

        if (asked is not null)
        {
            Cancel(job, asked);
            return;
        }

        if (attempts is null) return; // no longer this replica's (its lease ran out and another claimed it)
        logger.LogInformation("training job {JobId} handed back to the shared queue (attempt {Attempts})", job.Id, attempts);
        try
        {
            audit.Append(AuditKind.RunFailed, new JsonObject
            {
                ["command"] = "service.train", ["job_id"] = job.Id, ["status"] = "released", ["error"] = ReleasedMessage, ["attempts"] = attempts,
            }, job.Actor);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "cannot append the audit entry of released training job {JobId}", job.Id);
        }

        job.View = job.View! with { Status = JobStatus.Queued, Step = 0, Loss = null };
    }

    /// <summary>
    /// Trains, saves, registers and records the job in its folder, which it deletes before returning (or throwing):
    /// the registered model id, the run id and the final loss (the manifest's <c>training.final_loss</c>; null under DP).
    /// </summary>
    private (string ModelId, string RunId, double? FinalLoss) Train(Job job, CancellationToken stop)
    {
        var r = job.Request;
        stop.ThrowIfCancellationRequested();
        // the job's scratch folder, locked while it runs and deleted when it ends (the model is copied into the
        // registry, and the run manifest names its files rather than pointing into this folder)
        using var owned = JobFolder.Claim(JobsFolder, job.Id, out var earlier);
        if (earlier) logger.LogWarning("training job {JobId}: removed what an earlier attempt left in its folder", job.Id);
        var folder = owned.Path;
        var run = RunManifests.Start(home, RunKind.Train, RunConfig(r), r.Sequence?.Seed ?? r.Tabular!.Seed);
        if (job.Body is { } body) run.AddInput(body);
        var dataPath = Path.Combine(folder, "data.csv");
        var dataInput = FileRequest.WriteNamed(dataPath, r.Request.DataCsv!); // the bytes crucible train would read
        run.AddInput(dataInput);
        var (train, all, read) = ReadReturns(dataPath, r);
        var progress = new Progress(job, _shared, _replica, _local, clock, RequestStop);
        var modelFolder = Path.Combine(folder, "model");
        var provenance = DataProvenance.ForTraining(dataPath, r.Input, read, train.RowCount, r.Request.WithholdPrices); // as crucible train records it
        JsonObject entry;
        string modelId;
        double? finalLoss;
        if (r.Sequence is { } sequence)
        {
            SequenceState? state = null;
            if (r.Request.StateCsv is { } stateCsv)
            {
                var statePath = Path.Combine(folder, "state.csv");
                run.AddInput(FileRequest.WriteNamed(statePath, stateCsv));
                state = SequenceState.Load(statePath, r.StateMissing, r.Request.StateDateFormat, r.Request.StateDateColumn); // state_missing, state_ffill_limit, state_na, state_date_format, state_date_column
            }

            SequenceGenerator generator;
            try
            {
                generator = SequenceTraining.Train(train, all, sequence, state, r.Request.StateColumns, r.Calibration, provenance, progress,
                    publicStateEnd: r.TrainEnd, cancellationToken: stop).Generator;
            }
            catch (SequenceOptionException e) when (e.Location is null && e.Rule == EconomicState.RowFrequencyRule)
            {
                // RV20 on rows that are not daily: the data file's dates are at fault, located at its date header cell as
                // crucible train locates it (data.csv:1:1, the job's copy of data_csv)
                throw e.At(new InputLocation(dataPath, 1, 1));
            }

            generator.Save(modelFolder);
            var m = generator.Manifest;
            modelId = Crucible.Governance.Registry.ModelRegistry.IdOf(modelFolder);
            entry = Completed(job, m.Kind, m.Weights.Sha256, m.Data, dataInput.Sha256, m.Seed, m.Training.Steps);
            entry["state_sha256"] = m.StateData?.InputSha256;
            entry["state_columns"] = r.Request.StateColumns is { } names ? string.Join(",", names) : null; // as given, like --state-columns
            entry["calibrate_guidance"] = r.Calibration?.Episode.Name;
            entry["calibration_rule"] = r.Calibration is null ? null : SequenceTraining.RuleName(r.Calibration.Rule);
            if (m.Privacy is { } dp) run.Dp = JsonSerializer.SerializeToNode(dp, DiffusionJson.Options) as JsonObject;
            finalLoss = m.Privacy is null ? m.Training.FinalLoss : null;
        }
        else
        {
            var generator = new DiffusionGenerator(r.Tabular!).Fit(train, provenance, progress, null, stop);
            generator.Save(modelFolder);
            var m = generator.Manifest;
            modelId = Crucible.Governance.Registry.ModelRegistry.IdOf(modelFolder);
            entry = Completed(job, m.Kind, m.Weights.Sha256, m.Data, dataInput.Sha256, m.Seed, m.Training.Steps);
            if (m.Privacy is { } dp) run.Dp = JsonSerializer.SerializeToNode(dp, DiffusionJson.Options) as JsonObject;
            finalLoss = m.Privacy is null ? m.Training.FinalLoss : null;
        }

        // the model folder's files close the manifest, as they close crucible train's, but by name (weights.safetensors,
        // manifest.json: the registry's files of model_id), SHA-256 and size rather than by a path on this replica,
        // so that the manifest means the same on every replica
        run.ModelId = modelId;
        run.AddOutput(ModelFile(modelFolder, DiffusionGenerator.WeightsFileName)).AddOutput(ModelFile(modelFolder, DiffusionGenerator.ManifestFileName));
        var manifest = run.Finish();

        // the same data, config and seed trained before: the same model, answered once its entry exists (the registration
        // lock); the same weights with another manifest fail the job (REG-E-CONFLICT)
        var id = catalog.Registry.RegisterOrFind(modelFolder, job.Actor).Record.Id;

        audit.AppendRunCompleted(manifest, entry, job.Actor);
        return (id, manifest.RunId, finalLoss);
    }

    /// <summary><c>HOME/jobs</c>: the folders of running jobs (<see cref="JobFolder"/>).</summary>
    private string JobsFolder => Path.Combine(home.Root, "jobs");

    // a file of the trained model folder as a named run-manifest output (the registry holds it under the model's id)
    private static ManifestFile ModelFile(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        return new ManifestFile(name, FileHash.Sha256(path), new FileInfo(path).Length) { IsFile = false };
    }

    /// <summary>
    /// Deletes the folders in <c>HOME/jobs</c> of jobs that no live process runs: left by a service killed mid-job (in
    /// SQLite mode its jobs are forgotten; on a shared store another replica runs them again once their lease ends). A
    /// folder is kept while its lock is held (<see cref="JobFolder"/>) and, on a shared store, while its job runs under
    /// a valid lease on any replica; when the store cannot be asked, nothing is deleted. Returns how many were deleted.
    /// </summary>
    public int RemoveOrphanedFolders()
    {
        Func<string, bool> runningElsewhere = _ => false;
        if (_shared is { } shared)
        {
            IReadOnlySet<string> leased;
            try
            {
                leased = shared.Leased(clock.GetUtcNow().ToUnixTimeMilliseconds());
            }
            catch (Npgsql.NpgsqlException e)
            {
                logger.LogWarning("cannot read the training jobs' leases from the shared store; job folders are left for the next start: {Message}", e.Message);
                return 0;
            }

            runningElsewhere = leased.Contains;
        }

        return JobFolders.DeleteOrphans(JobsFolder, runningElsewhere, ServiceApp.StaleTemporaryAge);
    }

    // a failed job: logged (an operator sees why without polling it), a run.failed entry, then recorded failed. The audit
    // store that failed the job (full, unreachable, its signing key rotated) may refuse this entry too: the job is still
    // recorded failed and the worker goes on; that exception escaping the worker stopped the whole service
    // (BackgroundServiceExceptionBehavior.StopHost) and left the job running
    private void Fail(Job job, string error, string? reason = null)
    {
        logger.LogWarning("training job {JobId} failed: {Error}", job.Id, error);
        try
        {
            var entry = new JsonObject { ["command"] = "service.train", ["job_id"] = job.Id, ["status"] = "failed" };
            if (reason is not null) (entry["reason"], entry["error"]) = (reason, error);
            audit.Append(AuditKind.RunFailed, entry, job.Actor);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "cannot append the audit entry of failed training job {JobId}", job.Id);
        }

        Finish(job, JobStatus.Failed, null, null, error);
    }

    // a job the shutdown or a cancel stopped: a run.failed entry (status cancelled, and why) before the job is recorded cancelled
    private void Cancel(Job job, string error)
    {
        AppendCancelled(job.Id, job.Actor, error);
        Finish(job, JobStatus.Cancelled, null, null, error);
    }

    private void AppendCancelled(string id, string actor, string error)
    {
        logger.LogInformation("training job {JobId} cancelled: {Error}", id, error);
        try
        {
            audit.Append(AuditKind.RunFailed, new JsonObject { ["command"] = "service.train", ["job_id"] = id, ["status"] = "cancelled", ["error"] = error }, actor);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "cannot append the audit entry of cancelled training job {JobId}", id);
        }
    }

    private void Finish(Job job, JobStatus status, string? modelId, string? runId, string? error)
    {
        var view = job.View! with { Status = status, ModelId = modelId, RunId = runId, Error = error, Finished = AuditLog.Rfc3339(clock.GetUtcNow()) };
        if (_shared is { } shared) TryShared(() => shared.Finish(job.Id, _replica, view.Status, view.Loss, modelId, runId, error, view.Finished!), job.Id);
        job.Recorded = TryLocal(view);
        job.View = view;
        if (_local is not null) Evict(job);
    }

    // the home store keeps the last FinishedJobsInMemory finished jobs in memory; older ones are answered from jobs.db
    private void Evict(Job finished)
    {
        lock (_evictGate)
        {
            _finished.Enqueue(finished.Id);
            while (_finished.Count > _finishedInMemory && _finished.TryDequeue(out var id))
            {
                if (!_jobs.TryRemove(id, out var old)) continue;
                if (old.Recorded || TryLocal(old.View!)) continue; // jobs.db answers for it from now on
                logger.LogWarning("training job {JobId} leaves memory without its final state in jobs.db: it answers 410 from now on", id);
                _forgotten[id] = 0;
                _forgottenOrder.Enqueue(id);
                while (_forgottenOrder.Count > Math.Max(1, _finishedInMemory) && _forgottenOrder.TryDequeue(out var gone)) _forgotten.TryRemove(gone, out _);
            }
        }
    }

    // the job's row in jobs.db (home store); a failed write is logged: the process still answers from memory until the
    // job is evicted (Evict)
    private bool TryLocal(JobView view)
    {
        if (_local is null) return false;
        try
        {
            _local.Update(view);
            return true;
        }
        catch (SqliteException e)
        {
            logger.LogWarning("cannot record training job {JobId} in jobs.db: {Message}", view.Id, e.Message);
            return false;
        }
    }

    /// <summary>
    /// A write to the shared job row; when the database is out of reach it is logged and skipped (the row's lease then
    /// runs out and another replica runs the job again: training is deterministic and registration idempotent).
    /// </summary>
    private void TryShared(Action write, string jobId)
    {
        try
        {
            write();
        }
        catch (Npgsql.NpgsqlException e)
        {
            logger.LogWarning("cannot record training job {JobId} in the shared store: {Message}", jobId, e.Message);
        }
    }

    // the run.completed entry of a job: the keys of crucible train's, with the job's id. A DP-SGD model's manifest withholds
    // the data's hashes (DP-11), but the audit log is internal (never released with the model): input_sha256 is then the
    // run manifest's hash of the data bytes (dataSha256), as crucible train records it; train_matrix_sha256 stays null
    private static JsonObject Completed(Job job, ModelKind kind, string modelId, DataManifest data, string dataSha256, ulong seed, int steps) => new()
    {
        ["command"] = "service.train",
        ["job_id"] = job.Id,
        ["kind"] = kind.WireName(),
        ["model_id"] = modelId,
        ["input_sha256"] = data.InputSha256 ?? dataSha256,
        ["train_matrix_sha256"] = data.TrainMatrixSha256,
        ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
        ["steps"] = steps,
    };

    // the run manifest's config: what crucible train records (the generator options, how the data is read), and the kind
    private static JsonObject RunConfig(ValidTrainingRequest r)
    {
        var config = new JsonObject
        {
            ["command"] = "service.train",
            ["kind"] = r.Kind.WireName(),
            ["generator"] = r.Sequence is { } sequence
                ? JsonSerializer.SerializeToNode(sequence, DiffusionJson.Options)
                : JsonSerializer.SerializeToNode(r.Tabular!, DiffusionJson.Options),
            ["input"] = r.Input.ToString(),
            ["columns"] = r.Request.Columns is { } columns ? string.Join(",", columns) : null, // as given, like --columns
            ["train_end"] = r.Request.TrainEnd,
        };
        if (r.Csv is not null) config["csv"] = r.Csv.DeepClone(); // only when given, as crucible train's
        if (r.Sequence is not null)
        {
            config["state_columns"] = r.Request.StateColumns is { } names ? string.Join(",", names) : null;
            config["calibrate_guidance"] = r.Calibration?.Episode.Name;
            config["calibration_rule"] = r.Calibration is null ? null : SequenceTraining.RuleName(r.Calibration.Rule);
            var stateCsv = StateMissingValues.RunConfig(r.Request.StateMissing, r.Request.StateFfillLimit, r.Request.StateNa);
            if (r.Request.StateDateFormat is { } dateFormat) (stateCsv ??= [])["date_format"] = dateFormat;
            if (r.Request.StateDateColumn is { } dateColumn) (stateCsv ??= [])["date_column"] = dateColumn;
            if (stateCsv is not null) config["state_csv"] = stateCsv; // only when given, as crucible train's
        }

        if (r.Request.WithholdPrices) config["withhold_prices"] = true; // only when given, as crucible train's
        return config;
    }

    /// <summary>
    /// The log returns, read as <c>crucible train</c> reads its data file: (the train split, all rows); without
    /// <c>train_end</c> every row is train; and the frame as read (prices when the input is prices).
    /// </summary>
    private static (TimeSeriesFrame Train, TimeSeriesFrame All, TimeSeriesFrame Read) ReadReturns(string path, ValidTrainingRequest r)
    {
        // only the requested columns are read: another column (an ISIN, a rating) is not parsed
        var frame = CsvSeriesReader.Load(path, r.DataReadOptions());
        var returns = frame.ToLogReturns(r.Input);
        if (r.TrainEnd is not { } end) return (returns, returns, frame);
        int last = returns.IndexAtOrBefore(end);
        if (last < 1)
            throw new InvalidInputException("OPT-E-TRAINEND", $"train_end {end:yyyy-MM-dd} leaves {last + 1} rows of returns to train on; at least 2 are needed");
        return (returns.Head(last + 1), returns, frame); // the train rows read in place, not copied: all stays held
    }

    private sealed class Progress(Job job, SharedJobs? shared, string replica, LocalJobs? local, TimeProvider clock, Action<Job, string> cancelAsked) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            var view = job.View! with { Step = value.Step, TotalSteps = value.TotalSteps, Loss = double.IsFinite(value.Loss) ? value.Loss : null };
            job.View = view;
            var now = clock.GetUtcNow();
            if (local is not null)
            {
                // to jobs.db at most once a second (other processes on the home read it there), and always the last step
                if (now.ToUnixTimeMilliseconds() - job.LastShared < 1000 && value.Step < value.TotalSteps) return;
                job.LastShared = now.ToUnixTimeMilliseconds();
                try
                {
                    local.Update(view);
                    if (local.CancelRequested(job.Id) is { } asked) cancelAsked(job, asked); // by another process on this home
                }
                catch (SqliteException)
                {
                    // best effort, as on the shared store: the end of the job writes again
                }

                return;
            }

            // to the shared row at most every 250 ms, and always the last step
            if (shared is null || (now.ToUnixTimeMilliseconds() - job.LastShared < 250 && value.Step < value.TotalSteps)) return;
            job.LastShared = now.ToUnixTimeMilliseconds();
            try
            {
                var lease = shared.Progress(job.Id, replica, view.Step, view.TotalSteps, view.Loss, (now + Lease).ToUnixTimeMilliseconds());
                if (!lease.Held) cancelAsked(job, LeaseLost); // another replica claimed it: it trains the job, not this one
                else if (lease.CancelRequested is { } asked) cancelAsked(job, asked); // by a request to any replica
            }
            catch (Npgsql.NpgsqlException)
            {
                // progress is best effort: training goes on, and the lease timer or the end of the job writes again
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _shared?.Dispose();
        _local?.Dispose();
        _wake.Dispose();
        base.Dispose();
    }
}
