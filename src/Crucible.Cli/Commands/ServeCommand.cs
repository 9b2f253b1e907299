using System.CommandLine;
using System.Globalization;
using Crucible.Data;
using Crucible.Governance.Storage;
using Crucible.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible serve --urls URL [--store sqlite:PATH|postgres:CONNSTRING] [--home DIR] [--api-keys FILE]</c>: runs the HTTP service (ARCHITECTURE.md "The HTTP
/// surface") until Ctrl+C or SIGTERM, then drains in-flight requests (at most 30 s) and checkpoints the audit log.
/// </summary>
internal static class ServeCommand
{
    /// <summary>The <c>serve</c> command.</summary>
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:8080 (';' separates several)", Required = true };
        var keys = new Option<string>("--api-keys")
        {
            Description = "The API keys file, one 'KEY_ID SCOPES sha256:HEX' line per key (crucible keys new); default HOME/api-keys",
        };
        var store = StoreOption.Create();
        var home = HomeOption.Create();
        var command = new Command("serve", "Run the HTTP service: models, scenarios, audit log, health and OpenAPI under API keys") { urls, keys, store, home };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            CheckUrls(p.GetValue(urls)!); // Kestrel's refusals would otherwise end the run as an internal error, after the host started
            var args = new List<string>
            {
                "--urls", p.GetValue(urls)!,
                "--" + ServiceOptions.Section + ":Home", HomeOption.Resolve(p, home).Root,
            };
            if (p.GetValue(store) is { } s)
            {
                _ = StoreLocation.Parse(s); // a malformed store is exit 2 before anything starts
                args.AddRange(["--" + ServiceOptions.Section + ":Store", s]);
            }

            if (p.GetValue(keys) is { } file) args.AddRange(["--" + ServiceOptions.Section + ":ApiKeysFile", Path.GetFullPath(file)]);
            try
            {
                ServiceApp.Build([.. args], b => QuietStartFailure(b.Services)).Run();
            }
            catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // another process holds the port: the machine's state, not a bug of this program
                throw new InvalidInputException("OPT-E", $"--urls: cannot listen on {e.Message.Replace("Failed to bind to address ", "", StringComparison.Ordinal).TrimEnd('.')}; "
                    + "stop the process that holds the port or choose another");
            }
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// The generic host's log of a failed start (<c>fail: Microsoft.Extensions.Hosting.Internal.Host[11] Hosting failed to
    /// start</c>, with the exception's stack trace, on stdout): the exception ends the run through <see cref="CliRunner"/>,
    /// which reports it once (a port another process holds as <c>OPT-E</c>, anything else as an internal error), so the
    /// host's logger for its own category drops that one event and passes every other.
    /// </summary>
    private static void QuietStartFailure(IServiceCollection services)
    {
        // the host resolves ILogger<Host> (an internal type): a closed registration takes the open generic's place for it
        var host = typeof(Microsoft.Extensions.Hosting.HostBuilder).Assembly.GetType("Microsoft.Extensions.Hosting.Internal.Host");
        if (host is null) return;
        var loggerType = typeof(ILogger<>).MakeGenericType(host);
        var inner = typeof(Logger<>).MakeGenericType(host);
        services.AddSingleton(loggerType, sp => Activator.CreateInstance(typeof(WithoutStartFailure<>).MakeGenericType(host),
            Activator.CreateInstance(inner, sp.GetRequiredService<ILoggerFactory>()))!);
    }

    // a logger that passes every event but the host's HostedServiceStartupFaulted
    private sealed class WithoutStartFailure<T>(ILogger inner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "HostedServiceStartupFaulted") return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    // each ';'-separated address as Kestrel parses it (BindingAddress), with a port it can bind: bad input (exit 2) otherwise
    private static void CheckUrls(string urls)
    {
        var addresses = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (addresses.Length == 0) throw new InvalidInputException("OPT-E", $"--urls names no address to listen on, got '{urls}'; e.g. http://127.0.0.1:8080");
        foreach (var url in addresses)
        {
            Microsoft.AspNetCore.Http.BindingAddress address;
            try
            {
                address = Microsoft.AspNetCore.Http.BindingAddress.Parse(url);
            }
            catch (FormatException e)
            {
                throw new InvalidInputException("OPT-E", $"--urls: '{url}' is not an address to listen on ({e.Message.TrimEnd('.')}); e.g. http://127.0.0.1:8080");
            }

            if (address.Port is < 0 or > System.Net.IPEndPoint.MaxPort)
                throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--urls: the port of '{url}' must be in 0..{System.Net.IPEndPoint.MaxPort}"));
        }
    }
}
