namespace Crucible.Governance;

/// <summary>
/// An exclusive lock on a file, held by keeping it open with <see cref="FileShare.None"/>: an advisory <c>flock</c> on
/// Unix and a sharing lock on Windows, which the OS releases when the holder's process ends, however it ends. Another
/// holder, in this process or another, makes the open fail until it lets go.
/// </summary>
internal static class ExclusiveFileLock
{
    /// <summary>
    /// Opens (creating it when absent) and locks <paramref name="path"/>, waiting up to <paramref name="timeout"/> for
    /// another holder; dispose the stream to release it.
    /// </summary>
    /// <exception cref="IOException">Another holder kept it for <paramref name="timeout"/> (naming the file), or the file
    /// cannot be opened at all (its folder is missing, the file system is read-only, the path is no regular file, …), at
    /// once, naming the file and the cause.</exception>
    public static FileStream Acquire(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (IsHeld(e))
            {
                if (DateTime.UtcNow >= deadline)
                    throw new IOException($"another holder has kept {path} locked for {timeout.TotalSeconds:F0} s: {e.Message}", e);
                Thread.Sleep(5);
            }
            catch (IOException e)
            {
                throw new IOException($"cannot open the lock file {path}: {e.Message}", e);
            }
        }
    }

    // the open failed because another holder has the lock, and for no other reason: on Unix .NET reports flock's
    // EWOULDBLOCK as an IOException whose HResult is that errno (11 on Linux, 35 on macOS and the BSDs); on Windows a
    // sharing or lock violation (ERROR_SHARING_VIOLATION 32, ERROR_LOCK_VIOLATION 33). Any other IOException (a read-only
    // file system, a full disk, a path that is no regular file, a missing folder) will not pass by waiting.
    private static bool IsHeld(IOException e) =>
        e.GetType() == typeof(IOException) && (OperatingSystem.IsWindows()
            ? (e.HResult & 0xFFFF) is 32 or 33
            : e.HResult == (OperatingSystem.IsLinux() ? 11 : 35));
}
