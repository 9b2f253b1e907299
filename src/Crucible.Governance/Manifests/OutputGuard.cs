using Crucible.Data;

namespace Crucible.Governance.Manifests;

/// <summary>
/// Refuses an output path that names one of the run's own inputs (rule <see cref="Rule"/>): <c>stress --scenarios s.csv
/// --out ./s.csv</c> would otherwise replace the scenarios with the report. Paths are compared in full
/// (<see cref="Path.GetFullPath(string)"/>, so <c>./s.csv</c> and <c>s.csv</c> are the same file) and through a symbolic
/// link's final target when there is one. Call it before anything is written.
/// </summary>
public static class OutputGuard
{
    /// <summary>The rule of an output that would overwrite an input.</summary>
    public const string Rule = "OUT-E-INPUT";

    /// <summary>
    /// Throws <see cref="InvalidInputException"/> (<see cref="Rule"/>) when a file in <paramref name="outputs"/> (what the
    /// option <paramref name="option"/> makes the run write: the file itself and its sidecars) is one of
    /// <paramref name="inputs"/>, naming the option, the output and the input.
    /// </summary>
    public static void Check(string option, IEnumerable<string> inputs, params string[] outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var read = inputs.Select(i => (Given: i, Full: Canonical(i))).ToList();
        foreach (var output in outputs)
        {
            var full = Canonical(output);
            foreach (var (given, inputFull) in read)
            {
                if (SameCanonical(full, inputFull))
                {
                    throw new InvalidInputException(Rule,
                        $"{option} would overwrite the input {given}" + (output == outputs[0] ? "" : $" (with {output}, which it writes beside {outputs[0]})")
                        + "; write the output elsewhere", new InputLocation(outputs[0], 0, 0));
                }
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> and <paramref name="other"/> name one file, as <see cref="Check"/> compares them:
    /// in full and through a symbolic link's final target.
    /// </summary>
    public static bool SameFile(string path, string other) => SameCanonical(Canonical(path), Canonical(other));

    private static bool SameCanonical(string a, string b) =>
        string.Equals(a, b, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    // the full path, through a symbolic link to its final target when the path is one
    private static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var info = new FileInfo(full);
            if (info.Exists && info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target) return Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
            // an unreadable link is compared by its own path
        }

        return full;
    }
}
