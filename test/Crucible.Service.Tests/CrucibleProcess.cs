using System.Diagnostics;

namespace Crucible.Service.Tests;

/// <summary>The <c>crucible</c> CLI as a real process (<c>serve</c>, <c>generate</c>, <c>keys</c>, …) for the process-level tests.</summary>
internal static class CrucibleProcess
{
    /// <summary>Start information for <c>crucible ARGS</c> (the CLI built beside the tests), stdout and stderr redirected.</summary>
    public static ProcessStartInfo Cli(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "crucible.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Runs <c>crucible ARGS</c> to its end: its exit code and standard error (standard output read and dropped).</summary>
    public static async Task<(int Exit, string Stderr)> RunAsync(params string[] args)
    {
        using var p = Process.Start(Cli(args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stderr);
    }
}
