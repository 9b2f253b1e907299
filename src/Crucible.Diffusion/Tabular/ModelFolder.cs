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
        var (full, parent, name) = CheckTarget(folder, files.Select(f => f.Name).ToArray());
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        string aside = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
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

    private static void WriteThrough(string parent, string full, string temp, string aside, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        Directory.CreateDirectory(parent);
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var (fileName, bytes) in files)
            {
                using var stream = new FileStream(Path.Combine(temp, fileName), FileMode.CreateNew, FileAccess.Write, FileShare.None);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
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

            if (hadOld) Directory.Delete(aside, recursive: true);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
