using System.Globalization;
using System.Threading.RateLimiting;
using Crucible.Data;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;
using Crucible.Service.Endpoints;
using Crucible.Service.Problems;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;
using Crucible.Service.Training;
using Crucible.Service.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Crucible.Service;

/// <summary>
/// Builds the Crucible HTTP service (ARCHITECTURE.md "The HTTP surface"): a thin shell over the library, with API keys,
/// scopes, per-key rate limits, body limits, problem details for every error and idempotent scenario requests
/// (RELIABILITY.md §5).
/// </summary>
public static class ServiceApp
{
    /// <summary>
    /// Builds the application from <paramref name="args"/> (<c>--urls</c>, <c>--Crucible:Home</c>,
    /// <c>--Crucible:ApiKeysFile</c>, … as ASP.NET Core reads them).
    /// </summary>
    /// <exception cref="InvalidInputException">A bad home folder or API keys file (raised before the server starts).</exception>
    public static WebApplication Build(string[] args) => Build(args, configure: null);

    /// <summary>
    /// Builds the application as <see cref="Build(string[])"/> does, with <paramref name="configure"/> run on the builder
    /// after the service's own registrations (a shell's changes, such as <c>crucible serve</c>'s to the host's logging).
    /// </summary>
    /// <exception cref="InvalidInputException">A bad home folder or API keys file (raised before the server starts).</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(args);
        Configure(builder);
        configure?.Invoke(builder);
        var app = builder.Build();
        UsePipeline(app);
        return app;
    }

    /// <summary>
    /// Removes ASP.NET Core Data Protection, which <c>AddAuthentication</c> registers for the handlers that protect
    /// cookies and remote sign-in state. The service protects nothing with it (API keys in a header, no cookies, no
    /// antiforgery, no sessions), yet its hosted service loaded a key ring at start: it wrote keys to
    /// <c>~/.aspnet/DataProtection-Keys</c>, outside the home, or, without a profile, kept them in memory and logged
    /// warnings (no XML encryptor, keys not persisted). Unregistered, nothing is written and nothing is logged.
    /// </summary>
    internal static void WithoutDataProtection(IServiceCollection services)
    {
        static bool Of(Type? t) => t is not null && ((t.Namespace?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) ?? false)
            || (t.IsGenericType && t.GetGenericArguments().Any(Of)));
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            if (Of(d.ServiceType) || Of(d.IsKeyedService ? d.KeyedImplementationType : d.ImplementationType)) services.RemoveAt(i);
        }
    }

    /// <summary>Registers the service's services on <paramref name="builder"/>.</summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<ServiceOptions>(builder.Configuration.GetSection(ServiceOptions.Section));

        // state: the home, its audit log (one writer for the process), the registry; the API keys. Everything reads the
        // options when first resolved, so configuration added after this call (tests, hosts) still applies.
        services.AddSingleton(sp => Settings(sp).Store is { } s ? StoreLocation.Parse(s) : StoreLocation.Sqlite(CrucibleHome.Resolve(Settings(sp).Home)));
        services.AddSingleton(sp => sp.GetRequiredService<StoreLocation>() is { Kind: StoreKind.Sqlite } sqlite
            ? CrucibleHome.Resolve(sqlite.Value).EnsureExists()
            : CrucibleHome.Resolve(Settings(sp).Home).EnsureExists());
        services.AddSingleton(sp =>
        {
            var o = Settings(sp);
            var keysFile = o.ApiKeysFile ?? Path.Combine(sp.GetRequiredService<CrucibleHome>().Root, "api-keys");
            // re-read when it changes (a key added, rotated or revoked applies without a restart)
            return new ApiKeyFile(o.ApiKeysFile is not null || File.Exists(keysFile) ? keysFile : null,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Crucible.Service.ApiKeys"));
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            // on SQLite, opening also refuses a log deleted with its checkpoint file while runs/ or models/ hold what its
            // entries recorded (AUDIT-E-LOST, the CLI's rule): the service does not start a new chain over it; on
            // PostgreSQL the home keeps that database's own checkpoint export
            var forStore = AuditLogOptions.ForStore(sp.GetRequiredService<CrucibleHome>(), sp.GetRequiredService<StoreLocation>());
            return AuditLog.Open(new AuditLogOptions
            {
                Home = forStore.Home,
                DatabasePath = forStore.DatabasePath,
                PostgresConnectionString = forStore.PostgresConnectionString,
                SigningKeyPath = Settings(sp).AuditKeyFile is { } keyFile ? Path.GetFullPath(keyFile) : forStore.SigningKeyPath,
                CheckpointFile = forStore.CheckpointFile,
                DefaultActor = "service",
            });
        });
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<GenerationSlots>();
        services.AddSingleton<Metrics.ServiceMetrics>();
        services.AddSingleton<TrainingJobs>();
        services.AddHostedService(sp => sp.GetRequiredService<TrainingJobs>());
        services.AddSingleton<IIdempotencyStore>(sp =>
        {
            var o = Settings(sp);
            var (clock, retention) = (sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(o.IdempotencyRetentionSeconds));
            return sp.GetRequiredService<StoreLocation>() is { Kind: StoreKind.Postgres } pg
                ? new PostgresIdempotencyStore(pg.Value, clock, retention, o.IdempotencyCapacity)
                : new IdempotencyStore(Path.Combine(sp.GetRequiredService<CrucibleHome>().Root, "idempotency.db"), clock, retention, o.IdempotencyCapacity);
        });

        // errors: problem+json everywhere, never a stack trace
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<ExceptionLogger>(); // first: logs every exception with its traceId, handles none
        services.AddExceptionHandler<StorageFullHandler>();
        services.AddExceptionHandler<StoreUnavailableHandler>();
        services.AddExceptionHandler<AuditKeyRotatedHandler>();
        services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            // bodies are read strictly (ScenarioRequest.Json): the OpenAPI document, generated from these options, must
            // not offer numbers as strings, as the web defaults (AllowReadingFromString) do
            j.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });

        // limits
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServiceOptions>>((k, so) =>
        {
            k.Limits.MaxRequestBodySize = Math.Max(so.Value.MaxRequestBodyBytes, so.Value.MaxTrainingBodyBytes); // each endpoint checks its own
            k.AddServerHeader = false;
        });
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(ServiceOptions.ShutdownTimeoutSeconds));

        // authentication and scopes
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        WithoutDataProtection(services);
        var authorization = services.AddAuthorizationBuilder();
        foreach (var scope in Scopes.All)
        {
            authorization.AddPolicy(ApiKeyAuthenticationHandler.PolicyPrefix + scope,
                p => p.RequireAuthenticatedUser().RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope));
        }

        // rate limits: a fixed window per API key (never per IP); the generations in flight are bounded by GenerationSlots
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ServiceOptions>>((r, so) =>
        {
            var o = so.Value;
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            r.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value is { } id
                    ? RateLimitPartition.GetFixedWindowLimiter(id, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = o.RateLimitPermits,
                        Window = TimeSpan.FromSeconds(o.RateLimitWindowSeconds),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("anonymous"));
            r.OnRejected = (context, ct) =>
            {
                // the key's fixed window says when it replenishes (its whole window: the limiter does not tell the time
                // left); a client is told which limit it met (GenerationSlots names the other)
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(ProblemTypes.WriteAsync(context.HttpContext, ProblemTypes.Create(429,
                    string.Create(CultureInfo.InvariantCulture, $"this API key's rate limit of {o.RateLimitPermits} requests per {o.RateLimitWindowSeconds} s is reached; retry after {seconds} s"))));
            };
        });

        services.AddHealthChecks()
            .AddCheck<ReadinessCheck>("audit", tags: ["ready"])
            .AddCheck<StorageReadinessCheck>("storage", tags: ["ready"])
            .AddCheck<ModelReadinessCheck>("models", tags: ["ready"]);
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            // the key scheme, so generated clients send X-Api-Key; health and the document itself need none
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey,
                In = Microsoft.OpenApi.ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "KEY_ID.SECRET from crucible keys new; scopes read, generate, train, admin",
            };
            document.Security ??= [];
            document.Security.Add(new Microsoft.OpenApi.OpenApiSecurityRequirement
            {
                [new Microsoft.OpenApi.OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [],
            });
            return Task.CompletedTask;
        }));
    }

    private static ServiceOptions Settings(IServiceProvider sp) => sp.GetRequiredService<IOptions<ServiceOptions>>().Value;

    /// <summary>The middleware pipeline and the endpoints.</summary>
    public static void UsePipeline(WebApplication app)
    {
        Settings(app.Services).ThrowIfInvalid(); // before anything opens: a setting out of range would fail only later, per request
        app.Use(SecurityHeaders.Apply); // first: every answer, errors included, carries them
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is Microsoft.AspNetCore.Http.BadHttpRequestException b ? b.StatusCode : StatusCodes.Status500InternalServerError,
            SuppressDiagnosticsCallback = _ => true, // ExceptionLogger logs each exception once, with the problem's traceId
        });
        app.UseStatusCodePages();
        app.UseRouting();
        var metrics = app.Services.GetRequiredService<Metrics.ServiceMetrics>();
        app.Use(metrics.Track); // every request, by its route template, once answered
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        // only the one document: another name is the routing 404 problem, not the OpenAPI middleware's text/plain 404
        app.MapOpenApi("/openapi/{documentName:regex(^v1$)}.json");
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false, ResponseWriter = ReadinessCheck.Write });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = ReadinessCheck.Write });

        var v1 = app.MapGroup("/v1");
        ModelEndpoints.Map(v1);
        ScenarioEndpoints.Map(v1);
        JobEndpoints.Map(v1);
        EvaluationEndpoints.Map(v1);
        EnsembleEndpoints.Map(v1);
        AuditEndpoints.Map(v1);
        RunEndpoints.Map(v1);
        WebPage.Map(app);
        Metrics.ServiceMetrics.Map(app, ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Read);

        // the audit log opens (and its pragmas are checked) before the server accepts requests; it is disposed, and its
        // last entries checkpointed, by the host after the server has drained on shutdown
        _ = app.Services.GetRequiredService<AuditLog>();
        _ = app.Services.GetRequiredService<IIdempotencyStore>();
        var keys = app.Services.GetRequiredService<ApiKeyFile>().Current;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Crucible.Service");
        logger.LogInformation("state store: {Store}", app.Services.GetRequiredService<StoreLocation>().Redacted); // never the password
        if (keys.Count == 0) logger.LogWarning("no API keys configured: every /v1 request will be answered 401 (give --api-keys FILE)");
        var settings = app.Services.GetRequiredService<IOptions<ServiceOptions>>().Value;
        if (settings.EngineThreads > 0) Crucible.Tensors.EngineThreads.MaxDegreeOfParallelism = settings.EngineThreads;

        // SVC-8: the temporary files of writes a killed process left in the home (training jobs, evaluations, run
        // manifests); only ours by name, and only old ones, since other processes may be writing into the same home
        var root = app.Services.GetRequiredService<CrucibleHome>().Root;
        int stale = Crucible.Data.IO.AtomicFile.DeleteStaleTemporariesUnder(root, StaleTemporaryAge);
        if (stale > 0) logger.LogWarning("deleted {Count} temporary files left by interrupted writes in the home", stale);
        int scratch = ScratchFolders.DeleteStale(Path.Combine(root, "evaluations"), StaleTemporaryAge);
        if (scratch > 0) logger.LogWarning("deleted {Count} scratch folders of evaluation or ensemble requests left by a killed service", scratch);
        int jobs = app.Services.GetRequiredService<TrainingJobs>().RemoveOrphanedFolders();
        logger.Log(jobs > 0 ? LogLevel.Warning : LogLevel.Information, "deleted {Count} training job folders that no live job owns (left by a killed service)", jobs);
    }

    /// <summary>How old a temporary file of an atomic write must be for the start-up to delete it as left by a killed process.</summary>
    public static readonly TimeSpan StaleTemporaryAge = TimeSpan.FromMinutes(10);
}
