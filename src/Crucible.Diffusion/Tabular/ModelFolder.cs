using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Diffusion.Tabular;

/// <summary>Writes a folder of files so that readers see either the old folder or the complete new one.</summary>
internal static class ModelFolder
{
    /// <summary>
    /// The largest <c>manifest.json</c> a model folder may hold (64 MiB; a real one is a few kB, one of a
    /// thousand-series model a few MB): a larger file is refused before it is read, not parsed into gigabytes of memory.
    /// </summary>
    public const long MaxManifestBytes = 64L << 20;

    /// <summary>
    /// The largest <c>weights.safetensors</c> a model folder may hold: the largest byte array .NET allocates
    /// (<see cref="Array.MaxLength"/>, about 2 GiB), the whole file being read into memory and hashed.
    /// </summary>
    public const long MaxWeightsBytes = 0x7FFFFFC7;

    /// <summary>
    /// Refuses, before reading either, a manifest over <see cref="MaxManifestBytes"/> (<c>model-manifest</c>) or weights
    /// over <see cref="MaxWeightsBytes"/> (<c>model-weights</c>), each error naming the file and its size.
    /// </summary>
    public static void CheckSizes(string manifestPath, string weightsPath)
    {
        long manifest = new FileInfo(manifestPath).Length;
        if (manifest > MaxManifestBytes)
            throw new InvalidInputException("model-manifest",
                $"the manifest is {manifest} bytes, more than the {MaxManifestBytes} bytes a model's manifest may hold: not a manifest this program wrote",
                new InputLocation(manifestPath, 0, 0));
        if (File.Exists(weightsPath) && new FileInfo(weightsPath).Length is var weights && weights > MaxWeightsBytes)
            throw new InvalidInputException("model-weights",
                $"the weights file is {weights} bytes, more than the {MaxWeightsBytes} bytes (about 2 GiB) a model's weights may hold here",
                new InputLocation(weightsPath, 0, 0));
    }

    /// <summary>
    /// The checks <see cref="WriteAtomically"/> makes before it writes, made alone (creating nothing), so that a command
    /// refuses a model folder before its minutes of training: a file at <paramref name="folder"/> or a folder holding
    /// anything but files named in <paramref name="fileNames"/> is bad input (<c>OUT-E</c>); a parent folder the system
    /// will not take the new folder in is an <see cref="OutputPathException"/> naming <paramref name="folder"/>.
    /// Returns the full path, its parent and its name.
    /// </summary>
    public static (string Full, string Parent, string Name) CheckTarget(string folder, IReadOnlyList<string> fileNames)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? throw new InvalidInputException("OUT-E", "the model folder cannot be the root folder", new InputLocation(folder, 0, 0));
        string name = Path.GetFileName(full);
        if (File.Exists(full)) throw new InvalidInputException("OUT-E", "this is a file, not a folder: give a folder for the model", new InputLocation(full, 0, 0));
        if (Directory.Exists(full))
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(full))
            {
                string entryName = Path.GetFileName(entry);
                if (!File.Exists(entry) || !fileNames.Contains(entryName, StringComparer.Ordinal))
                {
                    throw new InvalidInputException("OUT-E",
                        $"the folder exists and holds {entryName}, which is not a model's file; give a new or empty folder, or a model folder to replace",
                        new InputLocation(full, 0, 0));
                }
            }
        }

        AtomicFile.CheckFolderWritable(parent, full);
        return (full, parent, name);
    }

    /// <summary>
    /// Writes <paramref name="files"/> into a fresh temporary folder beside <paramref name="folder"/> (each file
    /// flushed to disk), then renames it to <paramref name="folder"/>. An existing <paramref name="folder"/> is first
    /// renamed aside and deleted once the new one is in place; if the final rename fails it is put back. Only a folder
    /// that holds nothing but files named in <paramref name="files"/> (an earlier model) is replaced: any other entry, or
    /// a file at <paramref name="folder"/>, is bad input (<see cref="InvalidInputException"/>, rule <c>OUT-E</c>), so the
    /// replacement never deletes a user's own files.
    /// </summary>
    public static void WriteAtomically(string folder, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        DeleteDeadTemporaries(folder); // what killed writes of this folder left (never a live write's)
        var (full, parent, name) = CheckTarget(folder, files.Select(f => f.Name).ToArray());
        var id = AtomicFile.NewWriteId();
        string temp = Path.Combine(parent, AtomicFile.TempName(name, id));
        string aside = Path.Combine(parent, AtomicFile.AsideName(name, id)); // the same id: its temporary folder tells a live swap
        try
        {
            WriteThrough(parent, full, temp, aside, files);
        }
        catch (Exception e) when (OutputPathException.IsWriteFailure(e))
        {
            // the file system refused (a file on the way, a read-only folder, /proc): name the model folder, not the temporary one
            throw OutputPathException.From(full, e, temp);
        }
    }

    /// <summary>
    /// Deletes what writes of <paramref name="folder"/> left when their process was killed, beside it and matching exactly
    /// <c>.NAME.&lt;32 hex digits&gt;.tmp</c> (a new folder being written) or <c>.old</c> (the previous folder renamed
    /// aside), and never a live write's, by the rule of <see cref="AtomicFile.DeleteDeadTemporaries"/>: a writer holds
    /// every file of its temporary folder open (exclusive) until it has stamped the folder's time, just before its
    /// renames, so a temporary folder is dead only when none of its files is held and the folder was not written within
    /// <see cref="AtomicFile.DeadTemporaryGrace"/> (checked again once its files are held by this call). An aside folder
    /// is a live write's while its temporary folder (the same hex) exists; without one, it is deleted when the folder is
    /// in place (the write got past its rename), or else (killed between its two renames) renamed back to
    /// <paramref name="folder"/>, the previous model it was. Returns the number of folders deleted or put back.
    /// </summary>
    public static int DeleteDeadTemporaries(string folder)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return 0;
        string name = Path.GetFileName(full);
        int done = 0;
        foreach (var temp in Candidates(parent, name, AtomicFile.IsTempName))
        {
            if (TryDeleteDead(temp)) done++;
        }

        foreach (var aside in Candidates(parent, name, AtomicFile.IsAsideName))
        {
            if (Directory.Exists(Path.Combine(parent, AtomicFile.TempNameOfAside(Path.GetFileName(aside))))) continue; // a write between its renames
            try
            {
                if (Directory.Exists(full)) Directory.Delete(aside, recursive: true);
                else Directory.Move(aside, full);
                done++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile (its writer deleted it), or not ours
            }
        }

        return done;
    }

    // the folders beside NAME that the rule (AtomicFile.IsTempName or IsAsideName) names as a write's of NAME
    private static List<string> Candidates(string parent, string name, Func<string, string?, bool> rule)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(parent, "." + name + ".*").Where(d => rule(Path.GetFileName(d), name))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // a parent this process cannot read: the write that follows names the folder
        }
    }

    // deletes a temporary folder whose writer is dead: every file held here first (a live writer holds its own), then the
    // folder's time read again (a writer stamps it before letting its files go)
    private static bool TryDeleteDead(string temp)
    {
        var cutoff = DateTime.UtcNow - AtomicFile.DeadTemporaryGrace;
        var held = new List<FileStream>();
        try
        {
            if (Directory.GetLastWriteTimeUtc(temp) >= cutoff) return false;
            foreach (var file in Directory.EnumerateFileSystemEntries(temp))
            {
                if (!File.Exists(file)) return false; // a folder inside: not a model write's
                held.Add(new FileStream(file, FileMode.Open, FileAccess.ReadWrite, OperatingSystem.IsWindows() ? FileShare.Delete : FileShare.None, bufferSize: 1));
            }

            if (Directory.GetLastWriteTimeUtc(temp) >= cutoff) return false;
            foreach (var stream in held)
            {
                File.Delete(stream.Name);
            }

            Directory.Delete(temp, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // held by a live writer (a sharing violation), gone meanwhile, or not ours
        }
        finally
        {
            foreach (var stream in held) stream.Dispose();
        }
    }

    private static void WriteThrough(string parent, string full, string temp, string aside, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        Directory.CreateDirectory(parent);
        Directory.CreateDirectory(temp);
        var open = new List<FileStream>();
        try
        {
            try
            {
                // every file stays open (FileShare.None: an exclusive lock) until the folder's time is stamped, so that
                // DeleteDeadTemporaries in another process sees the folder live throughout
                foreach (var (fileName, bytes) in files)
                {
                    var stream = new FileStream(Path.Combine(temp, fileName), FileMode.CreateNew, FileAccess.Write, FileShare.None);
                    open.Add(stream);
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }

                Directory.SetLastWriteTimeUtc(temp, DateTime.UtcNow); // the renames below are within DeadTemporaryGrace of it
            }
            finally
            {
                foreach (var stream in open) stream.Dispose();
            }

            bool hadOld = Directory.Exists(full);
            if (hadOld) Directory.Move(full, aside);
            try
            {
                Directory.Move(temp, full);
            }
            catch
            {
                if (hadOld) Directory.Move(aside, full);
                throw;
            }

            if (hadOld)
            {
                try
                {
                    Directory.Delete(aside, recursive: true);
                }
                catch (IOException) when (!Directory.Exists(aside))
                {
                    // another write's DeleteDeadTemporaries deleted it meanwhile (the new folder was in place)
                }
            }
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
