using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Tests;

/// <summary>
/// What the service logs as it starts. Session 24: ASP.NET Core Data Protection, which <c>AddAuthentication</c>
/// registers and the service never uses (API keys, no cookies, no antiforgery), loaded a key ring at start: keys written
/// under the user profile, outside the home, or, without one, the warnings "No XML encryptor configured" and "keys
/// stored in memory / in a folder that may not be persisted" on every <c>crucible serve</c>.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class StartLogTests(ServiceFixture f)
{
    [Fact]
    public async Task Start_LogsNothingFromDataProtection_NorAnyFrameworkWarning_AndDoesNotRegisterIt()
    {
        var logs = new Logs();
        var home = Path.Combine(f.Dir, "start-log-" + Guid.NewGuid().ToString("N")[..8]);
        using var factory = ServiceFixture.Create(home, f.KeysFile).WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        using var client = factory.CreateClient(); // starts the host and its hosted services
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
        using (var models = await client.GetAsync("/v1/models")) Assert.Equal(HttpStatusCode.OK, models.StatusCode); // API keys work without it

        Assert.Null(factory.Services.GetService<IDataProtectionProvider>());
        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal));
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Microsoft.", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        Assert.Contains(logs.Entries, e => e.Category == "Crucible.Service"); // the capture saw the start
    }

    private sealed class Logs : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

        public IReadOnlyCollection<(string Category, LogLevel Level, string Message)> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Collector(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Collector(string category, ConcurrentQueue<(string Category, LogLevel Level, string Message)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
