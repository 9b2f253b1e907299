using System.Diagnostics;

namespace Crucible.Cli.Tests;

/// <summary>Runs the built <c>crucible</c> CLI in a child process, as a user would, and captures what it prints.</summary>
internal static class CliProcess
{
    /// <summary>Runs <c>crucible ARGS</c> with the given extra environment variables; returns the exit code and both streams.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "crucible.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    /// <summary>Runs <c>crucible ARGS</c> with no extra environment.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(params string[] args) => Run(null, args);
}
