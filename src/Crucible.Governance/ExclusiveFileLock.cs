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
    /// cannot be opened at all (its folder is missing, …), at once.</exception>
    public static FileStream Acquire(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (File.Exists(path)) // held by another; any other failure is not contention
            {
                if (DateTime.UtcNow >= deadline)
                    throw new IOException($"another holder has kept {path} locked for {timeout.TotalSeconds:F0} s: {e.Message}", e);
                Thread.Sleep(5);
            }
        }
    }
}
