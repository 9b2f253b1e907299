namespace Crucible.Diffusion.Tabular;

/// <summary>Writes a folder of files so that readers see either the old folder or the complete new one.</summary>
internal static class ModelFolder
{
    /// <summary>
    /// Writes <paramref name="files"/> into a fresh temporary folder beside <paramref name="folder"/> (each file
    /// flushed to disk), then renames it to <paramref name="folder"/>. An existing <paramref name="folder"/> is first
    /// renamed aside and deleted once the new one is in place; if the final rename fails it is put back.
    /// </summary>
    public static void WriteAtomically(string folder, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"no parent folder in {folder}", nameof(folder));
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a folder");
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        string aside = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
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
