namespace Crucible.Data.IO;

/// <summary>
/// An output file or folder the system refused to create or replace (its parent is a file, a read-only folder, a file
/// system such as <c>/proc</c> that takes no new files, a full disk): <see cref="Path"/> names the destination (never the
/// temporary file beside it) and <see cref="Reason"/> what the system said. An <see cref="IOException"/>, so code that
/// treats write failures as its own fault (the service's own folders) keeps doing so; the CLI, whose output paths the user
/// names, reports it as bad input (<see cref="Rule"/>, exit 2).
/// </summary>
public sealed class OutputPathException : IOException
{
    /// <summary>The rule a CLI reports it under.</summary>
    public const string Rule = "OUT-E-WRITE";

    /// <summary>A refusal to write <paramref name="path"/> for <paramref name="reason"/>.</summary>
    public OutputPathException(string path, string reason, Exception? inner = null)
        : base($"cannot write {path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    public OutputPathException() : this("(unknown)", "the system refused the write") { }

    public OutputPathException(string message) : this("(unknown)", message) { }

    public OutputPathException(string message, Exception innerException) : this("(unknown)", message, innerException) { }

    /// <summary>The destination the write was for.</summary>
    public string Path { get; }

    /// <summary>What the system said, with the destination in place of any temporary name.</summary>
    public string Reason { get; }

    /// <summary>As the CLI prints it: <c>PATH: error [OUT-E-WRITE]: cannot write PATH: REASON</c>.</summary>
    public string ToUserMessage() => $"{Path}: error [{Rule}]: {Message}";

    /// <summary>
    /// Creates <paramref name="folder"/> (and its parents); a refusal of the system is an
    /// <see cref="OutputPathException"/> naming <paramref name="destination"/> (default: the folder).
    /// </summary>
    public static void CreateFolder(string folder, string? destination = null)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            throw From(destination ?? folder, e);
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> is a failure of the file system (an <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/>) that is not already an <see cref="OutputPathException"/>.
    /// </summary>
    public static bool IsWriteFailure(Exception e) => e is (IOException or UnauthorizedAccessException) and not OutputPathException;

    /// <summary>
    /// The refusal to write <paramref name="destination"/> that <paramref name="e"/> reports, the reason naming
    /// <paramref name="destination"/> where the system's message named <paramref name="temporary"/> (the file or folder
    /// actually being written), and saying so plainly when a folder on the way is a file.
    /// </summary>
    public static OutputPathException From(string destination, Exception e, string? temporary = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        var full = System.IO.Path.GetFullPath(destination);
        for (var dir = System.IO.Path.GetDirectoryName(full); dir is not null; dir = System.IO.Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir)) return new OutputPathException(destination, $"{dir} is a file, not a folder", e);
        }

        var reason = e.Message;
        if (temporary is not null) reason = reason.Replace(temporary, full, StringComparison.Ordinal);
        return new OutputPathException(destination, e switch
        {
            UnauthorizedAccessException => $"permission denied ({reason})",
            // creating a file where the folder takes none (e.g. /proc) fails with ENOENT, which .NET words as a missing file
            FileNotFoundException or DirectoryNotFoundException => $"the folder does not take new files or folders (no such file or directory: {reason})",
            _ => reason,
        }, e);
    }
}
