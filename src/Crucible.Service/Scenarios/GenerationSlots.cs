using System.Globalization;
using System.Threading.RateLimiting;
using Crucible.Service.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The service's generation slots: <see cref="ServiceOptions.MaxConcurrentGenerations"/> scenario, evaluation or ensemble
/// requests do their work at once, <see cref="ServiceOptions.GenerationQueue"/> more wait for a slot (oldest first), and
/// any beyond are answered 429 at once. A scenario request takes its slot only for its generation, once it is read,
/// validated and looked up in the idempotency store (<c>ScenarioEndpoints</c>): an answer replayed from the store, or a
/// request refused before it samples, neither waits behind the generations in flight nor is refused for their sake.
/// Evaluations and ensembles take theirs for their whole handling (<see cref="RequireSlot"/>).
/// </summary>
public sealed class GenerationSlots : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly ServiceOptions _options;
    private long _inFlight;
    private long _waiting;

    /// <summary>The slots of <paramref name="options"/>.</summary>
    public GenerationSlots(IOptions<ServiceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentGenerations,
            QueueLimit = _options.GenerationQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Requests holding a slot now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Requests waiting for a slot now.</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <summary>
    /// Waits for a slot (or for the client to leave: <see cref="OperationCanceledException"/>); when all slots are taken
    /// and the queue is full, answers 429 with <c>Retry-After: 1</c> and returns null. Dispose the slot to free it.
    /// </summary>
    public async ValueTask<IDisposable?> AcquireAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Interlocked.Increment(ref _waiting);
        RateLimitLease lease;
        try
        {
            lease = await _limiter.AcquireAsync(1, context.RequestAborted).ConfigureAwait(false);
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
            return slot is null ? Results.Empty : await next(invocation).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public void Dispose() => _limiter.Dispose();

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
