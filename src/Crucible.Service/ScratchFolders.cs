namespace Crucible.Service;

/// <summary>
/// The per-request scratch folders of the service (<c>evaluations/&lt;32 hex digits&gt;</c>, of evaluation and ensemble requests): each request deletes its own
/// when it ends, so one that outlives its process was left by a killed service.
/// </summary>
internal static class ScratchFolders
{
    /// <summary>
    /// Deletes the subfolders of <paramref name="parent"/> named like a request's scratch (32 lower-case hex digits) in
    /// which nothing was written for <paramref name="olderThan"/>; a younger one may belong to a request another process
    /// sharing the home is serving now. Returns how many were deleted; a missing parent is none.
    /// </summary>
    public static int DeleteStale(string parent, TimeSpan olderThan)
    {
        if (!Directory.Exists(parent)) return 0;
        var cutoff = DateTime.UtcNow - olderThan;
        int deleted = 0;
        foreach (var folder in Directory.EnumerateDirectories(parent))
        {
            if (!IsId(Path.GetFileName(folder))) continue;
            try
            {
                if (NewestWrite(folder) >= cutoff) continue;
                Directory.Delete(folder, recursive: true);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone already (another replica's clean-up) or in use: leave it to the next start
            }
        }

        return deleted;
    }

    /// <summary>Whether <paramref name="name"/> is a request's or job's id: 32 lower-case hex digits (a GUID's "N" form).</summary>
    public static bool IsId(string name) => name.Length == 32 && name.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>The latest write time (UTC) of <paramref name="folder"/> or anything below it.</summary>
    public static DateTime NewestWrite(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(File.GetLastWriteTimeUtc)
            .Append(Directory.GetLastWriteTimeUtc(folder))
            .Max();
}
