using System.Text;

namespace Crucible.Data.IO;

/// <summary>
/// Maps byte offsets of a UTF-8 document (e.g. <c>Utf8JsonReader.TokenStartIndex</c>) to 1-based line and column, the
/// column counting characters, for refusals located at the offending token.
/// </summary>
public sealed class Utf8LineIndex
{
    private readonly List<int> _starts = [0];
    private readonly byte[] _bytes;

    /// <summary>Indexes the line starts of <paramref name="bytes"/> (a copy is kept for counting characters).</summary>
    public Utf8LineIndex(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes.ToArray();
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n') _starts.Add(i + 1);
        }
    }

    /// <summary>The location of byte <paramref name="offset"/> in <paramref name="file"/>.</summary>
    public InputLocation Locate(string file, long offset)
    {
        var i = _starts.BinarySearch((int)offset);
        var line = i >= 0 ? i : ~i - 1;
        var start = _starts[line];
        var column = Encoding.UTF8.GetCharCount(_bytes, start, (int)offset - start) + 1;
        return new InputLocation(file, line + 1, column);
    }
}
