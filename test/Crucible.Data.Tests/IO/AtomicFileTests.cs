using Crucible.Data.IO;

namespace Crucible.Data.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // RELIABILITY SVC-8
    [Fact]
    public void WriteAllBytes_ReplacesTheFile_AndLeavesNoTemporary()
    {
        var path = Path.Combine(_dir, "sub", "s.csv");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["s.csv"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    // the temporary name .NAME.<32 hex>.tmp is 38 bytes longer than NAME: a name over 217 bytes (valid itself, up to 255)
    // made a temporary name past the 255-byte limit, and the write failed
    [Theory]
    [InlineData(230, "a")]
    [InlineData(255, "a")]
    [InlineData(120, "é")] // 240 bytes in UTF-8
    public void ALongFileName_GetsATemporaryNameThatFits_InTheSameFolder(int count, string unit)
    {
        var name = string.Concat(Enumerable.Repeat(unit, count));
        var path = Path.Combine(_dir, name);
        AtomicFile.WriteAllText(path, "x");
        AtomicFile.WriteAllText(path, "y");
        Assert.Equal("y", File.ReadAllText(path));
        Assert.Equal([name], Directory.GetFiles(_dir).Select(Path.GetFileName));
        var temp = AtomicFile.TempName(name);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(temp), 0, 255);
        Assert.True(AtomicFile.IsTempName(temp, name));
        Assert.True(AtomicFile.IsTempName(temp));
        Assert.NotEqual(temp, AtomicFile.TempName(name)); // still unique per write
        Assert.Equal(".s.csv.0123456789abcdef0123456789abcdef.tmp", AtomicFile.TempName("s.csv", "0123456789abcdef0123456789abcdef")); // short names as before
    }

    // a destination ending in a folder separator ("out/", a folder not there yet) was created as a folder, then the write
    // failed as OUT-E-WRITE "the folder does not take new files"; it names a folder, so it is OUT-E before anything exists
    [Fact]
    public void AFolderPath_NotYetThere_IsRefusedAsAFolder_AndNothingIsCreated()
    {
        var folder = Path.Combine(_dir, "out") + Path.DirectorySeparatorChar;
        Assert.Equal("OUT-E", Assert.Throws<InvalidInputException>(() => AtomicFile.WriteAllText(folder, "x")).Rule);
        Assert.Equal("OUT-E", Assert.Throws<InvalidInputException>(() => AtomicFile.CheckWritable(folder)).Rule);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void CheckWritable_CreatesNothing_AndRefusesWhatAWriteWouldFailOn()
    {
        // a destination in folders that do not exist yet is writable, and checking it creates none of them
        var deep = Path.Combine(_dir, "a", "b", "c.json");
        AtomicFile.CheckWritable(deep);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));

        var file = Path.Combine(_dir, "f");
        File.WriteAllText(file, "x");
        var e = Assert.Throws<OutputPathException>(() => AtomicFile.CheckWritable(Path.Combine(file, "c.json")));
        Assert.Equal(Path.Combine(file, "c.json"), e.Path);
        Assert.Contains($"{file} is a file, not a folder", e.Reason, StringComparison.Ordinal);

        var folder = Directory.CreateDirectory(Path.Combine(_dir, "d")).FullName;
        var bad = Assert.Throws<InvalidInputException>(() => AtomicFile.CheckWritable(folder));
        Assert.Equal("OUT-E", bad.Rule);

        if (OperatingSystem.IsLinux()) Assert.Throws<OutputPathException>(() => AtomicFile.CheckWritable("/proc/crucible-check.json"));
        Assert.Equal(["d", "f"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // no probe left behind
    }

    // RELIABILITY SVC-8
    [Fact]
    public void FlushFolder_FlushesAnExistingFolder_AndNamesAMissingOne()
    {
        AtomicFile.FlushFolder(_dir); // fsync(2) of a folder succeeds (a no-op on Windows)
        if (OperatingSystem.IsWindows()) return;
        var missing = Path.Combine(_dir, "no-such-folder");
        var e = Assert.Throws<IOException>(() => AtomicFile.FlushFolder(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        Assert.Throws<IOException>(() => AtomicFile.FlushFolder(file)); // O_DIRECTORY: a file is not a folder
    }

    [Fact]
    public void DeleteStaleTemporaries_RemovesOnlyThisFilesTemporaryPattern()
    {
        var path = Path.Combine(_dir, "s.csv");
        File.WriteAllText(path, "complete");
        string[] stale = [".s.csv.0123456789abcdef0123456789abcdef.tmp", ".s.csv.ffffffffffffffffffffffffffffffff.tmp"];
        string[] kept =
        [
            "s.csv",
            ".s.csv.0123456789ABCDEF0123456789ABCDEF.tmp", // not our (lower-case) name
            ".s.csv.0123456789abcdef.tmp",                  // too short
            ".s.csv.0123456789abcdef0123456789abcdeg.tmp", // not hex
            ".t.csv.0123456789abcdef0123456789abcdef.tmp", // another file's
            ".s.csv.0123456789abcdef0123456789abcdef.tmp.keep",
            "s.csv.0123456789abcdef0123456789abcdef.tmp",  // no leading dot
            "x.tmp",
        ];
        foreach (var name in stale.Concat(kept.Skip(1))) File.WriteAllText(Path.Combine(_dir, name), "x");

        Assert.Equal(2, AtomicFile.DeleteStaleTemporaries(path));
        Assert.Equal(kept.Order(StringComparer.Ordinal), Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("complete", File.ReadAllText(path));
        Assert.Equal(0, AtomicFile.DeleteStaleTemporaries(path));
        Assert.Equal(0, AtomicFile.DeleteStaleTemporaries(Path.Combine(_dir, "missing-folder", "s.csv")));
    }

    [Fact]
    public void DeleteDeadTemporaries_RemovesAKilledWritersTemporary_AndKeepsALiveOrFreshOne()
    {
        var path = Path.Combine(_dir, "r.json");
        File.WriteAllText(path, "complete");
        string Make(string hex, double hoursAgo)
        {
            var temp = Path.Combine(_dir, $".r.json.{hex}.tmp");
            File.WriteAllText(temp, "half a report");
            File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-hoursAgo));
            return temp;
        }

        var dead = Make("0123456789abcdef0123456789abcdef", 1);
        var live = Make("11111111111111111111111111111111", 1);   // an old write still running (held open, locked)
        var fresh = Make("22222222222222222222222222222222", 0);  // written just now
        var other = Make("0123456789ABCDEF0123456789ABCDEF", 1);  // not our pattern
        using (new FileStream(live, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            Assert.Equal(1, AtomicFile.DeleteDeadTemporaries(path));
        }

        Assert.False(File.Exists(dead));
        Assert.All(new[] { live, fresh, other, path }, f => Assert.True(File.Exists(f), f));
        Assert.Equal(0, AtomicFile.DeleteDeadTemporaries(Path.Combine(_dir, "missing-folder", "r.json")));
    }

    [Fact]
    public void TwoWritersOfOnePath_DoNotDeleteEachOthersTemporary()
    {
        // a second run starting while the first is between writing its bytes and renaming them (here: in beforeRename,
        // with its temporary file made to look old) cleans the path's dead temporaries: the first's must survive
        var path = Path.Combine(_dir, "g.csv");
        int deletedByTheSecond = -1;
        AtomicFile.Write(path, stream =>
        {
            stream.Write("a,b\n"u8);
            return 0;
        }, _ =>
        {
            var temp = Assert.Single(Directory.GetFiles(_dir, ".g.csv.*.tmp"));
            File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-1));
            deletedByTheSecond = AtomicFile.DeleteDeadTemporaries(path);
        });
        Assert.Equal(0, deletedByTheSecond);
        Assert.Equal("a,b\n", File.ReadAllText(path));
        Assert.Equal(["g.csv"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void DeleteStaleTemporariesUnder_RemovesOnlyOldTemporariesOfOurPattern_InEverySubfolder()
    {
        var deep = Path.Combine(_dir, "a", "b");
        Directory.CreateDirectory(deep);
        string Make(string folder, string name, double hoursAgo)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, "x");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-hoursAgo));
            return path;
        }

        var oldTop = Make(_dir, ".s.csv.0123456789abcdef0123456789abcdef.tmp", 2);
        var oldDeep = Make(deep, ".manifest.json.ffffffffffffffffffffffffffffffff.tmp", 2);
        string[] kept =
        [
            Make(deep, ".m.json.0123456789abcdef0123456789abcdef.tmp", 0), // being written now
            Make(deep, "..0123456789abcdef0123456789abcdef.tmp", 2),       // empty NAME
            Make(deep, ".x.0123456789abcdef0123456789ABCDEF.tmp", 2),     // not our hex
            Make(_dir, "report.tmp", 2),
            Make(_dir, "s.csv", 2),
        ];
        Assert.Equal(2, AtomicFile.DeleteStaleTemporariesUnder(_dir, TimeSpan.FromMinutes(10)));
        Assert.False(File.Exists(oldTop) || File.Exists(oldDeep));
        Assert.All(kept, k => Assert.True(File.Exists(k), k));
        Assert.Equal(0, AtomicFile.DeleteStaleTemporariesUnder(Path.Combine(_dir, "missing"), TimeSpan.Zero));
    }

    [Fact]
    public void AnUnwritablePath_IsAnOutputPathException_NamingTheDestinationAndTheReason()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        string under = Path.Combine(file, "sub", "out.csv");
        var e = Assert.Throws<OutputPathException>(() => AtomicFile.WriteAllText(under, "y"));
        Assert.Equal(under, e.Path);
        Assert.Equal($"{file} is a file, not a folder", e.Reason);
        Assert.IsAssignableFrom<IOException>(e); // still an IOException for code that treats write failures as its own fault
        Assert.Equal("x", File.ReadAllText(file));

        if (!OperatingSystem.IsLinux()) return;
        var proc = Assert.Throws<OutputPathException>(() => AtomicFile.WriteAllText("/proc/crucible-out.csv", "y"));
        Assert.Equal("/proc/crucible-out.csv", proc.Path);
        Assert.DoesNotContain(".tmp", proc.Message, StringComparison.Ordinal); // the destination, not the temporary file
        Assert.Equal($"/proc/crucible-out.csv: error [{OutputPathException.Rule}]: cannot write /proc/crucible-out.csv: {proc.Reason}", proc.ToUserMessage());
    }

    [Fact]
    public void WhatTheWriterThrows_PassesUnchanged()
    {
        // only the file system's refusals become OutputPathException: an IOException of the caller's own stays what it was
        var e = Assert.Throws<IOException>(() => AtomicFile.Write<int>(Path.Combine(_dir, "w.bin"), _ => throw new IOException("the caller's")));
        Assert.IsNotType<OutputPathException>(e);
    }
}
