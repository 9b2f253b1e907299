using Crucible.Data;

namespace Crucible.Cli.Commands;

/// <summary>
/// Refuses two outputs of one run that name the same file (<c>--out r.json --html r.json</c>): the second would replace
/// the first, and the run manifest would record one file's hash for both. Call it before anything is written.
/// </summary>
internal static class DistinctOutputs
{
    /// <summary>The rule of two outputs naming one file.</summary>
    public const string Rule = "OUT-E-SAME";

    /// <summary>Throws <see cref="InvalidInputException"/> (<see cref="Rule"/>) when <paramref name="path"/> and <paramref name="other"/> are one file.</summary>
    public static void Check(string option, string path, string otherOption, string other)
    {
        if (Governance.Manifests.OutputGuard.SameFile(path, other)) // in full and through a symbolic link, as OUT-E-INPUT compares
        {
            throw new InvalidInputException(Rule, $"{option} and {otherOption} name the same file: the second output would replace the first; give two paths",
                new InputLocation(path, 0, 0));
        }
    }
}
