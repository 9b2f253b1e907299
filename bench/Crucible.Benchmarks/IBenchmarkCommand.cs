namespace Crucible.Benchmarks;

/// <summary>One benchmark: <c>dotnet run -c Release --project bench/Crucible.Benchmarks -- NAME [args]</c>; prints one JSON line.</summary>
public interface IBenchmarkCommand
{
    /// <summary>The command name on the command line.</summary>
    string Name { get; }

    /// <summary>One line of help.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark and writes one JSON line to standard output; returns the exit code.</summary>
    int Run(IReadOnlyList<string> args);
}
