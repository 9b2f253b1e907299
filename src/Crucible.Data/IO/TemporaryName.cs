namespace Crucible.Data.IO;

/// <summary>
/// The one rule for the names of what a write puts beside its destination before renaming it into place:
/// <c>.NAME.&lt;32 lower hex digits&gt;.tmp</c> for the temporary file or folder, <c>.NAME.&lt;the same hex&gt;.old</c>
/// for the previous folder renamed aside. Public as <c>AtomicFile.TempName</c>, <c>AtomicFile.IsTempName</c> and their
/// siblings; this file is also compiled into Crucible.Tensors (which
/// references no other Crucible project) for <c>SafeTensors.Save</c>, so that every writer names and recognises its
/// leftovers alike.
/// </summary>
internal static class TemporaryName
{
    /// <summary>The suffix of a temporary file or folder.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>The suffix of a previous folder renamed aside while its replacement is renamed into place.</summary>
    public const string AsideSuffix = ".old";

    /// <summary>The length of the write's id: a <see cref="Guid"/> as 32 lower-case hex digits.</summary>
    public const int IdLength = 32;

    /// <summary>A fresh id for one write: 32 lower-case hex digits.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary><c>.NAME.ID.SUFFIX</c>.</summary>
    public static string Of(string fileName, string id, string suffix = TempSuffix) => $".{fileName}.{id}{suffix}";

    /// <summary>
    /// Whether <paramref name="name"/> is <c>.NAME.ID.SUFFIX</c> of <paramref name="fileName"/> (of any non-empty name when
    /// null) with an id of exactly 32 lower-case hex digits: nothing else (a user's <c>.notes.tmp</c>) matches.
    /// </summary>
    public static bool Is(string name, string? fileName, string suffix = TempSuffix)
    {
        int tail = 1 + IdLength + suffix.Length; // ".<hex><suffix>"
        if (name.Length < 2 + tail || name[0] != '.' || name[^tail] != '.' || !name.EndsWith(suffix, StringComparison.Ordinal)) return false;
        foreach (char c in name.AsSpan(name.Length - tail + 1, IdLength))
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiHexDigitLower(c)) return false;
        }

        return fileName is null || (name.Length == 1 + fileName.Length + tail && name.AsSpan(1, fileName.Length).SequenceEqual(fileName));
    }
}
