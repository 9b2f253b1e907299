using System.Runtime.InteropServices;
using System.Text;

namespace Crucible.Data.IO;

/// <summary>
/// Writes files so that a reader, or a crash, never sees half of one: the bytes go to a temporary file beside the
/// destination, are flushed to disk, the temporary file is renamed over the destination, and (on Linux and macOS) the
/// folder is flushed too, so that the rename itself survives a power loss (RELIABILITY.md SVC-8: temp → Flush(true) →
/// rename → directory fsync; .NET's <see cref="File.Move(string, string, bool)"/> does not flush the folder,
/// dotnet/runtime#28169).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically, creating its folder.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically, creating its folder.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream =>
        {
            stream.Write(bytes);
            return bytes.Length;
        });
    }

    /// <summary>
    /// Writes <paramref name="path"/> atomically from a stream: <paramref name="write"/> fills a new temporary file beside
    /// it (unbuffered: bring your own buffer), which is flushed to disk; then <paramref name="beforeRename"/>, when given,
    /// runs with <paramref name="write"/>'s result (e.g. to write a file that must exist before this one appears); then the
    /// temporary file is renamed over <paramref name="path"/> and the folder flushed. A failure at any step removes the
    /// temporary file and leaves <paramref name="path"/> as it was. A refusal of the temporary file's own writes inside
    /// <paramref name="write"/> (the system's message names it: a full disk) is an <see cref="OutputPathException"/>
    /// naming <paramref name="path"/>. Returns <paramref name="write"/>'s result.
    /// </summary>
    public static T Write<T>(string path, Func<Stream, T> write, Action<T>? beforeRename = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"no folder in path {path}", nameof(path));
        // a folder at the destination is bad input, found before anything is written (the rename over it would fail only
        // at the end, after beforeRename's own file); so is a path ending in a separator, which names a folder, there or not
        if (Directory.Exists(full) || Path.EndsInDirectorySeparator(full))
            throw new InvalidInputException("OUT-E", "this is a folder, not a file: give a file name", new InputLocation(full, 0, 0));
        var temp = Path.Combine(dir, TempName(Path.GetFileName(full)));
        // the file system's refusals (creating the folder or the temporary file, flushing, renaming) are
        // OutputPathExceptions naming the destination; what write and beforeRename throw passes unchanged
        OutputPathException.CreateFolder(dir, full);

        try
        {
            T result;
            FileStream stream;
            try
            {
                stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
            }
            catch (Exception e) when (OutputPathException.IsWriteFailure(e))
            {
                throw OutputPathException.From(full, e, temp);
            }

            // the temporary file stays open (FileShare.None: an exclusive flock(2) on Linux and macOS) until just before the
            // rename, so that DeleteDeadTemporaries in another process sees it live; its time is set afresh when it is
            // closed, so that the instant between closing and renaming is covered by DeadTemporaryGrace
            using (stream)
            {
                try
                {
                    result = write(stream);
                }
                catch (IOException e) when (OutputPathException.IsWriteFailure(e) && e.Message.Contains(temp, StringComparison.Ordinal))
                {
                    // the temporary file's own write refused (a full disk): named as the destination, with the system's reason
                    throw OutputPathException.From(full, e, temp);
                }

                try
                {
                    stream.Flush(flushToDisk: true);
                }
                catch (Exception e) when (OutputPathException.IsWriteFailure(e))
                {
                    throw OutputPathException.From(full, e, temp);
                }

                beforeRename?.Invoke(result);
                File.SetLastWriteTimeUtc(stream.SafeFileHandle, DateTime.UtcNow);
            }

            try
            {
                File.Move(temp, full, overwrite: true);
                FlushFolder(dir);
            }
            catch (Exception e) when (OutputPathException.IsWriteFailure(e))
            {
                throw OutputPathException.From(full, e, temp);
            }

            return result;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Checks, before anything is written, that a later <see cref="Write{T}"/> of <paramref name="path"/> can succeed, so
    /// that a run with several outputs refuses a bad destination before it writes its first one: a folder at
    /// <paramref name="path"/> is bad input (<c>OUT-E</c>); a file on the way to its folder, or a folder the system will
    /// not take a new file in (read-only, <c>/proc</c>, …), is an <see cref="OutputPathException"/> naming
    /// <paramref name="path"/>. The check creates nothing: it probes the nearest existing folder on the way with a
    /// temporary file that it removes at once.
    /// </summary>
    public static void CheckWritable(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full) || Path.EndsInDirectorySeparator(full))
            throw new InvalidInputException("OUT-E", "this is a folder, not a file: give a file name", new InputLocation(full, 0, 0));
        var dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"no folder in path {path}", nameof(path));
        CheckFolderWritable(dir, path);
    }

    /// <summary>
    /// Checks, creating nothing, that <paramref name="folder"/> exists or can be created and takes new files: the nearest
    /// existing folder on the way is probed with a temporary file removed at once. A refusal is an
    /// <see cref="OutputPathException"/> naming <paramref name="destination"/> (default: the folder).
    /// </summary>
    public static void CheckFolderWritable(string folder, string? destination = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var target = destination ?? folder;
        var existing = Path.GetFullPath(folder);
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing)) throw OutputPathException.From(target, new IOException($"{existing} is a file, not a folder"));
            existing = Path.GetDirectoryName(existing) ?? throw OutputPathException.From(target, new DirectoryNotFoundException($"no existing folder on the way to {folder}"));
        }

        var probe = Path.Combine(existing, TempName("write-check"));
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (OutputPathException.IsWriteFailure(e))
        {
            throw OutputPathException.From(target, e, probe);
        }
        finally
        {
            if (File.Exists(probe)) File.Delete(probe);
        }
    }

    /// <summary>
    /// fsync(2) of <paramref name="folder"/> on Linux and macOS, so that renames and creations inside it are on disk when
    /// this returns; a no-op on Windows, where NTFS journals the rename with its metadata. Throws
    /// <see cref="IOException"/> naming the folder when the system refuses.
    /// </summary>
    public static void FlushFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        // O_RDONLY is 0 on both; O_DIRECTORY is 0x10000 on Linux (x64 and arm64) and 0x100000 on macOS
        int fd = Posix.Open(folder, OperatingSystem.IsLinux() ? 0x10000 : 0x100000);
        if (fd < 0) throw new IOException($"cannot open folder {folder} to flush it: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (Posix.Fsync(fd) != 0) throw new IOException($"cannot flush folder {folder}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            _ = Posix.Close(fd);
        }
    }

    private static partial class Posix
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);
    }

    /// <summary>
    /// A fresh temporary name for a write of <paramref name="fileName"/>: <c>.NAME.&lt;32 hex digits&gt;.tmp</c>, the
    /// pattern the start-up clean-ups below recognise (for writers that publish a file some other way than by rename).
    /// The one rule for temporary names: <see cref="IsTempName"/> recognises exactly these, and model folders
    /// (<see cref="TempName(string, string)"/>, <see cref="AsideName"/>) and safetensors files are named by it too.
    /// </summary>
    public static string TempName(string fileName) => TemporaryName.Of(fileName, TemporaryName.NewId());

    /// <summary>The temporary name of write <paramref name="id"/> (32 lower hex digits, <see cref="NewWriteId"/>) of <paramref name="fileName"/>: <c>.NAME.ID.tmp</c>.</summary>
    public static string TempName(string fileName, string id) => TemporaryName.Of(fileName, id);

    /// <summary>The name of the previous <paramref name="fileName"/> renamed aside by write <paramref name="id"/>: <c>.NAME.ID.old</c>.</summary>
    public static string AsideName(string fileName, string id) => TemporaryName.Of(fileName, id, TemporaryName.AsideSuffix);

    /// <summary>A fresh id for one write: 32 lower-case hex digits.</summary>
    public static string NewWriteId() => TemporaryName.NewId();

    /// <summary>
    /// Whether <paramref name="name"/> (a file or folder name, no path) is a <see cref="TempName(string)"/> of
    /// <paramref name="fileName"/> (of any non-empty name when null): <c>.NAME.&lt;32 lower hex digits&gt;.tmp</c> exactly.
    /// </summary>
    public static bool IsTempName(string name, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TemporaryName.Is(name, fileName);
    }

    /// <summary>Whether <paramref name="name"/> is an <see cref="AsideName"/> of <paramref name="fileName"/> (of any non-empty name when null).</summary>
    public static bool IsAsideName(string name, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TemporaryName.Is(name, fileName, TemporaryName.AsideSuffix);
    }

    /// <summary>The temporary name of the write that renamed <paramref name="asideName"/> aside (the same id): <c>.NAME.ID.old</c> → <c>.NAME.ID.tmp</c>.</summary>
    public static string TempNameOfAside(string asideName)
    {
        ArgumentNullException.ThrowIfNull(asideName);
        if (!IsAsideName(asideName)) throw new ArgumentException($"not an aside name: {asideName}", nameof(asideName));
        return asideName[..^TemporaryName.AsideSuffix.Length] + TemporaryName.TempSuffix;
    }

    /// <summary>
    /// Deletes, under <paramref name="folder"/> and its subfolders, the temporary files of this class's writes
    /// (<c>.NAME.&lt;32 hex digits&gt;.tmp</c>, exactly this pattern) last written more than <paramref name="olderThan"/>
    /// ago: a write lasts as long as copying its bytes to disk, so an old one is what a killed process left, whichever
    /// process it was. For a program's start-up over a folder other processes may be writing into. Returns the number
    /// deleted.
    /// </summary>
    public static int DeleteStaleTemporariesUnder(string folder, TimeSpan olderThan)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) return 0;
        var cutoff = DateTime.UtcNow - olderThan;
        int deleted = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var candidate in Directory.EnumerateFiles(folder, ".*.tmp", options))
        {
            if (!IsTempName(Path.GetFileName(candidate), null)) continue;
            try
            {
                if (File.GetLastWriteTimeUtc(candidate) >= cutoff) continue;
                File.Delete(candidate);
                deleted++;
            }
            catch (FileNotFoundException)
            {
            }
        }

        return deleted;
    }

    /// <summary>
    /// How recently a temporary file that no process holds open may have been written for <see cref="DeleteDeadTemporaries"/>
    /// to leave it: a live write holds its temporary file open and locked except for an instant just after creating it and
    /// just before renaming it, both within this time of its last write.
    /// </summary>
    public static readonly TimeSpan DeadTemporaryGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deletes the temporary files that writes of <paramref name="path"/> left behind when their process was killed
    /// (<c>.NAME.&lt;32 hex digits&gt;.tmp</c> beside it, exactly this pattern), and only those: a temporary file that
    /// another write holds open (the exclusive lock of <see cref="FileShare.None"/>, which every writer of this pattern
    /// takes: <see cref="Write{T}"/>, safetensors, model folders' files), or that was written within
    /// <see cref="DeadTemporaryGrace"/>, is a live write's and is kept. So two runs writing one path at once never delete
    /// each other's temporary file. Call it when a program that writes <paramref name="path"/> starts. Returns the number
    /// deleted.
    /// </summary>
    public static int DeleteDeadTemporaries(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return 0;
        var name = Path.GetFileName(full);
        var cutoff = DateTime.UtcNow - DeadTemporaryGrace;
        int deleted = 0;
        foreach (var candidate in Directory.EnumerateFiles(dir, "." + name + ".*.tmp"))
        {
            if (!IsTempName(Path.GetFileName(candidate), name)) continue;
            try
            {
                // a fresh one is left unopened (a writer between creating its file and locking it must not find it locked)
                if (File.GetLastWriteTimeUtc(candidate) >= cutoff) continue;
                // opening it fails while a live writer holds it (its FileShare.None); held, it is deleted under the lock
                // (Windows: sharing Delete, so that the file can be deleted while open)
                using var held = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, OperatingSystem.IsWindows() ? FileShare.Delete : FileShare.None, bufferSize: 1);
                File.Delete(candidate);
                deleted++;
            }
            catch (FileNotFoundException)
            {
            }
            catch (IOException)
            {
                // held by a live writer (a sharing violation)
            }
            catch (UnauthorizedAccessException)
            {
                // not ours to delete
            }
        }

        return deleted;
    }

    /// <summary>
    /// Deletes the temporary files that writes of <paramref name="path"/> left behind when their process was killed
    /// (<c>.NAME.&lt;32 hex digits&gt;.tmp</c> beside it, exactly this pattern: nothing else is touched). Call it when a
    /// program that writes <paramref name="path"/> starts, before it writes, under a lock that every writer of the path
    /// holds: a write in progress by another process to the same path would lose its temporary file (without such a lock,
    /// use <see cref="DeleteDeadTemporaries"/>, which keeps a live writer's). Returns the number deleted.
    /// </summary>
    public static int DeleteStaleTemporaries(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return 0;
        var prefix = "." + Path.GetFileName(full) + ".";
        int deleted = 0;
        foreach (var candidate in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            if (!IsTempName(Path.GetFileName(candidate), Path.GetFileName(full))) continue;
            try
            {
                File.Delete(candidate);
                deleted++;
            }
            catch (FileNotFoundException)
            {
            }
        }

        return deleted;
    }
}
