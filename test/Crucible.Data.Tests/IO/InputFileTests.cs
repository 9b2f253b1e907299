using System.Text;
using Crucible.Data.IO;

namespace Crucible.Data.Tests.IO;

/// <summary>
/// <see cref="InputFile"/>'s reads of a whole file: refused by size (<c>FILE-E-SIZE</c>) before a byte is read, the
/// same bytes, text and lines as <see cref="File"/>'s methods otherwise. Large files are sparse (<see cref="FileStream.SetLength"/>),
/// so no test writes 64 MiB.
/// </summary>
public sealed class InputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-input-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Sparse(string name, long length)
    {
        string path = Path.Combine(_dir, name);
        using var f = new FileStream(path, FileMode.CreateNew);
        f.SetLength(length);
        return path;
    }

    [Fact]
    public void ReadAllBytes_AFileOneByteOver64MiB_IsRefused_NamingFileSizeAndLimit()
    {
        string path = Sparse("big.json", InputFile.MaxJsonBytes + 1);
        foreach (Action read in new Action[] { () => InputFile.ReadAllBytes(path), () => InputFile.ReadAllText(path), () => InputFile.ReadAllLines(path), () => InputFile.ThrowIfTooLarge(path) })
        {
            var e = Assert.Throws<InvalidInputException>(read);
            Assert.Equal(InputFile.TooLargeRule, e.Rule);
            Assert.Equal("FILE-E-SIZE", e.Rule);
            Assert.Equal(path, e.Location!.File);
            Assert.Equal(
                $"{path}: error [FILE-E-SIZE]: the file is 67108865 bytes (64 MiB), more than the 67108864 bytes (64 MiB) a file read whole into memory may hold here: not read",
                e.ToUserMessage());
        }
    }

    [Fact]
    public void ReadAllBytesTextAndLines_OfAFolder_AreNotAFile_NamingIt()
    {
        // .NET answers a folder opened as a file with UnauthorizedAccessException ("Access to the path is denied"): the CLI
        // printed it as an internal error (crucible verify-run FOLDER)
        foreach (Action read in new Action[] { () => InputFile.ReadAllBytes(_dir), () => InputFile.ReadAllText(_dir), () => InputFile.ReadAllLines(_dir) })
        {
            var e = Assert.Throws<InvalidInputException>(read);
            Assert.Equal(InputFile.NotAFileRule, e.Rule);
            Assert.Equal("not-a-file", e.Rule);
            Assert.Equal(_dir, e.Location!.File);
        }
    }

    [Fact]
    public void ReadAllBytes_AtTheLimit_IsRead_OneByteOver_IsRefused()
    {
        string path = Path.Combine(_dir, "ten");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("0123456789"));
        Assert.Equal(File.ReadAllBytes(path), InputFile.ReadAllBytes(path, maxBytes: 10));
        var e = Assert.Throws<InvalidInputException>(() => InputFile.ReadAllBytes(path, maxBytes: 9));
        Assert.Equal("the file is 10 bytes, more than the 9 bytes a file read whole into memory may hold here: not read", e.Message);
        InputFile.ThrowIfTooLarge(Path.Combine(_dir, "absent")); // a missing file is the caller's to report
        Assert.Throws<FileNotFoundException>(() => InputFile.ReadAllBytes(Path.Combine(_dir, "absent")));
        Assert.Empty(InputFile.ReadAllBytes(Sparse("empty", 0)));
    }

    [Fact]
    public void ReadAllBytes_AStateFileOver2GiB_IsRefusedByTheStateLimit()
    {
        string path = Sparse("state.safetensors", InputFile.MaxStateBytes + 1);
        var e = Assert.Throws<InvalidInputException>(() => InputFile.ReadAllBytes(path, InputFile.MaxStateBytes));
        Assert.Contains("the file is 2147483592 bytes (2 GiB), more than the 2147483591 bytes (2 GiB)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAllBytes_ADeviceWithoutALength_IsReadOnlyUpToTheLimit()
    {
        if (!OperatingSystem.IsLinux()) return;
        // /dev/zero reports no length and never ends: refused after maxBytes + 1 bytes, not read forever
        var e = Assert.Throws<InvalidInputException>(() => InputFile.ReadAllBytes("/dev/zero", maxBytes: 1000));
        Assert.StartsWith("the file is at least 1001 bytes, more than the 1000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\nb\r\nc\rd\n")]
    [InlineData("\uFEFFkey,é\n\n")]
    [InlineData("")]
    [InlineData("no newline")]
    public void ReadAllTextAndLines_AreFilesOwn(string text)
    {
        string path = Path.Combine(_dir, "t.txt");
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Assert.Equal(File.ReadAllText(path), InputFile.ReadAllText(path));
        Assert.Equal(File.ReadAllLines(path), InputFile.ReadAllLines(path));
        File.WriteAllText(path, text, Encoding.Unicode); // a UTF-16 byte order mark is honoured as File's methods do
        Assert.Equal(File.ReadAllText(path), InputFile.ReadAllText(path));
    }
}
