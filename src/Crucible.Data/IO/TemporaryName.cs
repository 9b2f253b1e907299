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

    /// <summary>The longest file or folder name, in UTF-8 bytes, that the file systems written to take (ext4, APFS; NTFS counts 255 UTF-16 units, never more than the bytes).</summary>
    public const int MaxNameBytes = 255;

    /// <summary>
    /// <c>.NAME.ID.SUFFIX</c>, where NAME is <paramref name="fileName"/>, or, when the whole would pass
    /// <see cref="MaxNameBytes"/>, its longest prefix of whole characters that fits (the id keeps the name unique).
    /// </summary>
    public static string Of(string fileName, string id, string suffix = TempSuffix) =>
        $".{NamePart(fileName, 1 + id.Length + suffix.Length)}.{id}{suffix}";

    // the part of fileName in a name ".NAME" + tail: all of it when that fits MaxNameBytes, else its longest prefix that
    // does, cut between characters (a surrogate pair is one)
    private static string NamePart(string fileName, int tail)
    {
        var budget = MaxNameBytes - 1 - tail;
        if (System.Text.Encoding.UTF8.GetByteCount(fileName) <= budget) return fileName;
        int bytes = 0, i = 0;
        while (i < fileName.Length)
        {
            int length = char.IsHighSurrogate(fileName[i]) && i + 1 < fileName.Length && char.IsLowSurrogate(fileName[i + 1]) ? 2 : 1;
            int size = System.Text.Encoding.UTF8.GetByteCount(fileName.AsSpan(i, length));
            if (bytes + size > budget) break;
            bytes += size;
            i += length;
        }

        return fileName[..i];
    }

    /// <summary>
    /// Whether <paramref name="name"/> is <c>.NAME.ID.SUFFIX</c> of <paramref name="fileName"/> (of any non-empty name when
    /// null; NAME cut as <see cref="Of"/> cuts it) with an id of exactly 32 lower-case hex digits: nothing else (a user's
    /// <c>.notes.tmp</c>) matches. Two names that share a cut prefix recognise each other's temporaries.
    /// </summary>
    public static bool Is(string name, string? fileName, string suffix = TempSuffix)
    {
        int tail = 1 + IdLength + suffix.Length; // ".<hex><suffix>"
        if (name.Length < 2 + tail || name[0] != '.' || name[^tail] != '.' || !name.EndsWith(suffix, StringComparison.Ordinal)) return false;
        foreach (char c in name.AsSpan(name.Length - tail + 1, IdLength))
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiHexDigitLower(c)) return false;
        }

        if (fileName is null) return true;
        var part = NamePart(fileName, tail);
        return name.Length == 1 + part.Length + tail && name.AsSpan(1, part.Length).SequenceEqual(part);
    }
}
