using System.Diagnostics;

namespace Crucible.Cli.Tests;

/// <summary>
/// Runs the built <c>crucible</c> CLI in a child process, as a user would, and captures what it prints. A child whose
/// environment names no <c>CRUCIBLE_HOME</c> gets a temporary home shared by this test process, so that no test writes
/// models, run manifests or audit entries into the real <c>~/.crucible</c>.
/// </summary>
internal static class CliProcess
{
    private static readonly Lazy<string> SharedHome = new(() =>
    {
        var home = Directory.CreateTempSubdirectory("crucible-cli-tests-home-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return home;
    });

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
        start.Environment["CRUCIBLE_HOME"] = SharedHome.Value;
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
