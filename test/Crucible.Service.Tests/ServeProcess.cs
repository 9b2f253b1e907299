using System.Diagnostics;
using System.Net;
using System.Text;

namespace Crucible.Service.Tests;

/// <summary>
/// A <c>crucible serve</c> process on 127.0.0.1 port 0, as the process-level tests run it: the operating system picks a
/// free port when Kestrel binds (no window between choosing a port and taking it, which another process could fill), the
/// address is read from the "Now listening on:" line the host logs, and <see cref="StartAsync"/> returns once
/// <c>/health/ready</c> answers 200. Stdout and stderr are drained from the start (a full pipe would stall the server).
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private const string ListeningOn = "Now listening on: ";

    private ServeProcess(Process process, Task<string> stdout, Task<string> stderr)
    {
        Process = process;
        Stdout = stdout;
        Stderr = stderr;
    }

    /// <summary>The server process.</summary>
    public Process Process { get; }

    /// <summary>Everything the server wrote to stdout, once it has exited.</summary>
    public Task<string> Stdout { get; }

    /// <summary>Everything the server wrote to stderr, once it has exited.</summary>
    public Task<string> Stderr { get; }

    /// <summary>The address it listens on, e.g. http://127.0.0.1:41234.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>
    /// Starts <c>crucible serve --urls http://127.0.0.1:0 ARGS</c> with <paramref name="environment"/> added, and waits (at
    /// most 90 s: start-up takes a few seconds here, far more on a loaded machine) until it is ready; a server that exits
    /// meanwhile fails the test with its stderr.
    /// </summary>
    public static async Task<ServeProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = CrucibleProcess.Cli(["serve", "--urls", "http://127.0.0.1:0", .. args]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = Task.Run(async () =>
        {
            var all = new StringBuilder();
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                all.AppendLine(line);
                var at = line.IndexOf(ListeningOn, StringComparison.Ordinal);
                if (at >= 0) url.TrySetResult(new Uri(line[(at + ListeningOn.Length)..].Trim()));
            }

            url.TrySetException(new InvalidOperationException("the server's output ended without a listening address:\n" + all));
            return all.ToString();
        });

        var server = new ServeProcess(process, stdout, stderr);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            try
            {
                server.Url = await url.Task.WaitAsync(TimeSpan.FromSeconds(90));
            }
            catch (InvalidOperationException e)
            {
                Assert.Fail($"the server did not start: {e.Message}\n{(process.HasExited ? await stderr : "")}");
            }

            using var client = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
            while (true)
            {
                try
                {
                    using var r = await client.GetAsync("/health/ready");
                    if (r.StatusCode == HttpStatusCode.OK) return server;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                }

                Assert.True(!process.HasExited && DateTime.UtcNow < deadline, "the server did not become ready: " + (process.HasExited ? await stderr : ""));
                await Task.Delay(100);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A client for the server (60 s timeout), sending <paramref name="apiKey"/> when given.</summary>
    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>Kills the server if it is still running.</summary>
    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
