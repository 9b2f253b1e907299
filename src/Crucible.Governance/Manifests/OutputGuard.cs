using Crucible.Data;

namespace Crucible.Governance.Manifests;

/// <summary>
/// Refuses an output path that names one of the run's own inputs (rule <see cref="Rule"/>): <c>stress --scenarios s.csv
/// --out ./s.csv</c> would otherwise replace the scenarios with the report. Paths are compared in full
/// (<see cref="Path.GetFullPath(string)"/>, so <c>./s.csv</c> and <c>s.csv</c> are the same file) with every symbolic link
/// on the way resolved to its final target, the file's own or a folder's (<c>dirlink/s.csv</c> is <c>real/s.csv</c>). Hard
/// links are not detected: .NET gives no file identity (device and inode) to compare. Call it before anything is written.
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
    /// in full, with every symbolic link on the way (the file's own or a folder's) resolved to its final target.
    /// </summary>
    public static bool SameFile(string path, string other) => SameCanonical(Canonical(path), Canonical(other));

    private static bool SameCanonical(string a, string b) =>
        string.Equals(a, b, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    // the most symbolic links one path may go through before it is compared as written (Linux's MAXSYMLINKS, ELOOP)
    private const int MaxLinks = 40;

    // the full path with every symbolic link in it resolved, as the kernel reads it (realpath): a link in any component,
    // the file itself or a folder on the way (dirlink/x.csv is real/x.csv), to its final target, a relative target read
    // from the link's folder, '..' after a link the target's parent; a component that does not exist (an output not
    // written yet) ends the links and the rest is appended as written. A loop, or a link that cannot be read, leaves the
    // path compared in full as written (Path.GetFullPath)
    private static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        // absolute but with its '..' kept: the kernel applies one after the link before it is resolved
        var written = Path.IsPathFullyQualified(path) ? path : Path.Join(Environment.CurrentDirectory, path);
        var root = Path.GetPathRoot(written)!;
        var pending = new Stack<string>();
        Push(pending, written[root.Length..]);
        var current = root;
        int links = 0;
        bool exists = true;
        while (pending.TryPop(out var part))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Join(current, part);
            string? target = null;
            if (exists)
            {
                try
                {
                    var info = new FileInfo(next);
                    exists = info.Exists || Directory.Exists(next) || info.LinkTarget is not null;
                    target = exists ? info.LinkTarget : null;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return full; // an unreadable link is compared by its own path
                }
            }

            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks) return full;
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                Push(pending, target[current.Length..]);
            }
            else
            {
                Push(pending, target); // from the link's folder, current
            }
        }

        return Path.GetFullPath(current);
    }

    // the components of a relative path onto the stack, the first on top
    private static void Push(Stack<string> pending, string relative)
    {
        var parts = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
