using System.Net.Sockets;

namespace Crucible.Governance.Tests;

/// <summary>
/// <see cref="ExclusiveFileLock.Acquire"/> waits only while another holder keeps the lock; any other failure to open the
/// lock file (its folder missing, its parent a file, a path that is no openable file) is answered at once, naming it.
/// The timeouts here are zero: the tests assert which answer comes, never how long it took.
/// </summary>
public sealed class ExclusiveFileLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("crucible-lock-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ALockKeptByAnotherHolder_IsContention()
    {
        var path = Path.Combine(_folder, "held.lock");
        using var held = ExclusiveFileLock.Acquire(path, TimeSpan.Zero);
        var e = Assert.Throws<IOException>(() => ExclusiveFileLock.Acquire(path, TimeSpan.Zero));
        Assert.Contains($"another holder has kept {path} locked", e.Message, StringComparison.Ordinal);
        held.Dispose();
        using var again = ExclusiveFileLock.Acquire(path, TimeSpan.Zero); // released: the next holder gets it
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("parent-is-a-file")]
    [InlineData("socket")]
    public void ALockFileThatCannotBeOpened_IsNoContention(string how)
    {
        string path;
        using var socket = how == "socket" && !OperatingSystem.IsWindows() ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : null;
        switch (how)
        {
            case "missing-folder":
                path = Path.Combine(_folder, "missing", "x.lock");
                break;
            case "parent-is-a-file":
                File.WriteAllText(Path.Combine(_folder, "file"), "");
                path = Path.Combine(_folder, "file", "x.lock");
                break;
            default:
                // an existing path that open() refuses (ENXIO): the file exists, yet nobody holds it
                path = Path.Combine(_folder, "socket.lock");
                if (socket is null) return; // Unix domain socket files are a Unix case
                socket.Bind(new UnixDomainSocketEndPoint(path));
                Assert.True(File.Exists(path));
                break;
        }

        var e = Assert.ThrowsAny<IOException>(() => ExclusiveFileLock.Acquire(path, TimeSpan.Zero));
        Assert.DoesNotContain("another holder", e.Message, StringComparison.Ordinal);
        Assert.Contains($"cannot open the lock file {path}", e.Message, StringComparison.Ordinal);
    }
}
