using System.Security.Cryptography;
using Crucible.Data;

namespace Crucible.Governance;

/// <summary>SHA-256 of files, streamed, as lower-case hex.</summary>
public static class FileHash
{
    /// <summary>The SHA-256 of the file at <paramref name="path"/> in lower-case hex.</summary>
    /// <exception cref="InvalidInputException">The file does not exist or cannot be read.</exception>
    public static string Sha256(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidInputException("FILE-E-MISSING", "file not found", new InputLocation(path, 0, 0));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("FILE-E-READ", $"cannot read: {e.Message}", new InputLocation(path, 0, 0));
        }
    }

    /// <summary>Whether <paramref name="value"/> is 64 lower-case hex digits.</summary>
    public static bool IsSha256Hex(string? value) =>
        value is { Length: 64 } && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
