using System.Globalization;
using System.Threading.RateLimiting;
using Crucible.Service.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The service's generation slots: <see cref="ServiceOptions.MaxConcurrentGenerations"/> scenario, evaluation or ensemble
/// requests do their work at once, <see cref="ServiceOptions.GenerationQueue"/> more wait for a slot (oldest first), and
/// any beyond are answered 429 at once. A scenario request takes its slot only for its generation, once it is read,
/// validated and looked up in the idempotency store (<c>ScenarioEndpoints</c>): an answer replayed from the store, or a
/// request refused before it samples, neither waits behind the generations in flight nor is refused for their sake.
/// Evaluations and ensembles take theirs for their whole handling (<see cref="RequireSlot"/>).
/// <para>
/// At shutdown the requests in flight may finish for <see cref="ServiceOptions.ShutdownDrainSeconds"/>; then
/// <see cref="DrainOver"/> is cancelled: a request still waiting for a slot, or asking for one, is answered 503
/// <c>unavailable</c> ("the service is stopping") and a scenario request still sampling stops within one step and is
/// answered so too. Without that bound a deep queue on a slow or loaded machine outlasted the host's 30 s shutdown
/// timeout, and the server reset the connections of the requests it had accepted (SVC-7: each completes or is refused).
/// </para>
/// </summary>
public sealed class GenerationSlots : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly ServiceOptions _options;
    private readonly CancellationTokenSource _drainOver;
    private readonly CancellationTokenRegistration _onStopping;
    private long _inFlight;
    private long _waiting;

    /// <summary>The slots of <paramref name="options"/>; their drain starts when <paramref name="lifetime"/> is stopping.</summary>
    public GenerationSlots(IOptions<ServiceOptions> options, IHostApplicationLifetime lifetime, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _options = options.Value;
        _drainOver = new CancellationTokenSource(Timeout.InfiniteTimeSpan, clock);
        var drain = TimeSpan.FromSeconds(_options.ShutdownDrainSeconds);
        _onStopping = lifetime.ApplicationStopping.Register(() =>
        {
            if (drain <= TimeSpan.Zero) _drainOver.Cancel();
            else _drainOver.CancelAfter(drain);
        });
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentGenerations,
            QueueLimit = _options.GenerationQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Cancelled <see cref="ServiceOptions.ShutdownDrainSeconds"/> after the service began to stop: the requests
    /// in flight then are refused 503 rather than left to the host's shutdown timeout.</summary>
    public CancellationToken DrainOver => _drainOver.Token;

    /// <summary>The 503 of a request the shutdown's drain stopped (<see cref="DrainOver"/>), with <c>Retry-After</c>.</summary>
    public static Task WriteStoppingAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = "1";
        return ProblemTypes.WriteAsync(context, ProblemTypes.Create(503,
            "the service is stopping and did not finish this request; nothing was generated or recorded as generated: send it again (to another replica, or once the service is back)",
            ProblemTypes.Unavailable));
    }

    /// <summary>Requests holding a slot now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Requests waiting for a slot now.</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <summary>
    /// Waits for a slot (or for the client to leave: <see cref="OperationCanceledException"/>); when all slots are taken
    /// and the queue is full, answers 429 with <c>Retry-After: 1</c> and returns null; once the shutdown's drain is over
    /// (<see cref="DrainOver"/>), answers 503 and returns null. Dispose the slot to free it.
    /// </summary>
    public async ValueTask<IDisposable?> AcquireAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (DrainOver.IsCancellationRequested) // a free permit is granted without looking at the token
        {
            await WriteStoppingAsync(context).ConfigureAwait(false);
            return null;
        }

        Interlocked.Increment(ref _waiting);
        RateLimitLease lease;
        try
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, DrainOver);
            lease = await _limiter.AcquireAsync(1, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (DrainOver.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            await WriteStoppingAsync(context).ConfigureAwait(false);
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            context.Response.Headers.RetryAfter = "1";
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(429, string.Create(CultureInfo.InvariantCulture,
                $"the service is generating at capacity ({_options.MaxConcurrentGenerations} scenario, evaluation or ensemble requests in flight, {_options.GenerationQueue} waiting); retry after 1 s"))).ConfigureAwait(false);
            return null;
        }

        Interlocked.Increment(ref _inFlight);
        return new Slot(this, lease);
    }

    /// <summary>The endpoint filter that holds a slot for the whole of a request's handling (429 when none is free).</summary>
    public static RouteHandlerBuilder RequireSlot(RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter(async (invocation, next) =>
        {
            var slots = invocation.HttpContext.RequestServices.GetRequiredService<GenerationSlots>();
            using var slot = await slots.AcquireAsync(invocation.HttpContext).ConfigureAwait(false);
            return slot is null ? Results.Empty : await next(invocation).ConfigureAwait(false); // null: 429 or 503 written
        });

    /// <inheritdoc/>
    public void Dispose()
    {
        _onStopping.Dispose();
        _limiter.Dispose();
        _drainOver.Dispose();
    }

    private sealed class Slot(GenerationSlots owner, RateLimitLease lease) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Interlocked.Decrement(ref owner._inFlight);
            lease.Dispose();
        }
    }
}
