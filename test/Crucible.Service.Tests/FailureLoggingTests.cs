using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 22 (an operator's QA round): what the service log and the service do when the audit store refuses writes.
/// The store is made to refuse by rotating the audit signing key under the running service (<c>AUDIT-E-KEY</c> on every
/// append, as a full disk or an unreachable PostgreSQL store refuses them). A scenario request's 503 is in the log with
/// the problem's <c>traceId</c> and the cause (ASP.NET Core 10 logs nothing for an exception an
/// <c>IExceptionHandler</c> handled); a training job that fails at registration answers <c>failed</c> with the cause
/// and the service keeps running (its <c>run.failed</c> entry is refused too, and that exception escaped the worker and
/// stopped the host, leaving the job <c>running</c>).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class FailureLoggingTests(ServiceFixture f)
{
    private const string Config = """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}}""";

    private (CrucibleHome Home, WebApplicationFactory<Program> Factory) Start(Logs logs)
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "failure-logging-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        var factory = ServiceFixture.Create(home.Root, f.KeysFile).WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        return (home, factory);
    }

    [Fact]
    public async Task A503FromARefusingStore_IsLoggedWithItsTraceIdAndCause()
    {
        var logs = new Logs();
        var (home, factory) = Start(logs);
        using (factory)
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
            var body = $$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 2}""";
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body))).StatusCode);
            AuditKeyRotation rotation;
            using (var log = AuditLog.Open(home)) rotation = log.RotateKey("qa");

            using var refused = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var traceId = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("traceId").GetString()!;
            var line = Assert.Single(logs.Entries, e => e.Message.Contains(traceId, StringComparison.Ordinal));
            Assert.Equal(LogLevel.Error, line.Level);
            Assert.Contains("POST /v1/scenarios", line.Message, StringComparison.Ordinal);
            Assert.Contains($"rotated to {rotation.NewKeyId}", line.Message, StringComparison.Ordinal);
        }
    }

    // a registered model whose weights no longer match their hash (SVC-9): readiness stays 200 and names it, each request
    // is a 503; the log said nothing of it
    [Fact]
    public async Task A503ForACorruptModel_IsLoggedWithItsTraceIdAndCause()
    {
        var logs = new Logs();
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "failure-logging-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home))
        {
            var record = new ModelRegistry(home, log).Register(f.ModelFolder);
            var bytes = File.ReadAllBytes(record.WeightsPath);
            bytes[^1] ^= 0x40;
            File.WriteAllBytes(record.WeightsPath, bytes);
        }

        using var factory = ServiceFixture.Create(home.Root, f.KeysFile).WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        using var refused = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 4}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var traceId = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("traceId").GetString()!;
        var line = Assert.Single(logs.Entries, e => e.Message.Contains(traceId, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains(f.ModelId, line.Message, StringComparison.Ordinal);
        Assert.Contains("integrity", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATrainingJobWhoseRunFailedEntryIsRefused_AnswersFailed_AndTheServiceKeepsRunning()
    {
        var logs = new Logs();
        var (home, factory) = Start(logs);
        using (factory)
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
            AuditKeyRotation rotation;
            using (var log = AuditLog.Open(home)) rotation = log.RotateKey("qa");
            var entries = AuditLog.Read(home.AuditDatabase).Count;

            var csv = RandomWalkPrices.Csv(120, seed: 4, new DateOnly(2020, 1, 1), correlated: true);
            using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(
                $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "train_end": "2020-05-29", "steps": 5, "seed": 3, "config": {{Config}}}"""));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var location = accepted.Headers.Location!.ToString();
            var lifetime = factory.Services.GetRequiredService<IHostApplicationLifetime>();
            JsonElement job;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the service is stopping: the job's failure escaped its worker");
                job = JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();
                if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") break;
                Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
                await Task.Delay(250);
            }

            Assert.Equal("failed", job.GetProperty("status").GetString());
            Assert.Contains($"rotated to {rotation.NewKeyId}", job.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(entries, AuditLog.Read(home.AuditDatabase).Count); // nothing appended with the retired key
            var id = job.GetProperty("id").GetString()!;
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith($"training job {id} failed: ", StringComparison.Ordinal));

            // still serving (liveness, and a read), not stopping
            await Task.Delay(500);
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
        }
    }

    // a training job whose config does not fit in memory: crucible serve under a 1 GiB GC heap limit (as a container's
    // memory limit sets one), "hidden": 20000 (a 1.6 GB weight, refused at once: nothing is really allocated). The
    // OutOfMemoryException escaped the worker and stopped the service
    [Fact]
    public async Task ATrainingJobOutOfMemory_Fails_AndTheServiceKeepsRunning()
    {
        var home = Path.Combine(f.Dir, "oom-" + Guid.NewGuid().ToString("N")[..8]);
        using var serve = await ServeProcess.StartAsync(["--home", home, "--api-keys", f.KeysFile],
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" });
        using var client = serve.Client(f.Keys["admin"]);
        var csv = RandomWalkPrices.Csv(120, seed: 4, new DateOnly(2020, 1, 1), correlated: true);
        using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(
            $$$"""{"data_csv": {{{JsonSerializer.Serialize(csv)}}}, "train_end": "2020-05-29", "steps": 5, "seed": 3, "config": {"hidden": 20000, "blocks": 1}}"""));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        JsonElement job;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(serve.Process.HasExited, "the service stopped: " + (serve.Process.HasExited ? await serve.Stdout : ""));
            job = JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") break;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(250);
        }

        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.StartsWith("out of memory", job.GetProperty("error").GetString(), StringComparison.Ordinal);
        await Task.Delay(500);
        Assert.False(serve.Process.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    /// <summary>Collects the service's log entries (level and formatted message, with the exception's message).</summary>
    private sealed class Logs : ILoggerProvider
    {
        private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

        public IReadOnlyCollection<(LogLevel Level, string Message)> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Collector(_entries);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<(LogLevel Level, string Message)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
