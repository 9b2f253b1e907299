namespace Crucible.Data.IO;

/// <summary>
/// The check on a path the user named as an input file (<c>--data</c>, <c>--real</c>, <c>--synthetic</c>,
/// <c>--scenarios</c>, <c>--portfolio</c>, a config file): a folder is not taken for a missing or unreadable file.
/// </summary>
public static class InputFile
{
    /// <summary>The message of a path that names a folder where a file is expected.</summary>
    public const string FolderMessage = "a folder, not a file: name the file itself";

    /// <summary>
    /// Throws <see cref="InvalidInputException"/> (<paramref name="rule"/>, located at <paramref name="path"/>) when
    /// <paramref name="path"/> names a folder (opening one used to answer "Access to the path is denied", or "file not
    /// found"); a file, or a path that names nothing, passes (the caller reports those its own way).
    /// </summary>
    public static void ThrowIfFolder(string path, string rule)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new InvalidInputException(rule, FolderMessage, new InputLocation(path, 0, 0));
    }
}
