using Crucible.Data;
using Crucible.Service.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crucible.Service.Tests;

/// <summary>
/// The API keys file is read whole: over 64 MiB it is refused by size (<c>FILE-E-SIZE</c>) at start-up, and a file that
/// grows past it while the service runs keeps the keys last read, as a file that cannot be read does. Sparse files.
/// </summary>
public sealed class ApiKeyFileSizeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-keys-size-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AKeysFileOver64MiB_IsRefusedAtStart_AndKeepsTheLastKeysWhenItGrowsWhileRunning()
    {
        string big = Path.Combine(_dir, "big-keys");
        using (var f = new FileStream(big, FileMode.CreateNew)) f.SetLength((64L << 20) + 1);
        var e = Assert.Throws<InvalidInputException>(() => new ApiKeyFile(big, NullLogger.Instance));
        Assert.Equal("FILE-E-SIZE", e.Rule);
        Assert.Equal(big, e.Location!.File);
        Assert.Equal("FILE-E-SIZE", Assert.Throws<InvalidInputException>(() => ApiKeyStore.Load(big)).Rule);

        string keys = Path.Combine(_dir, "keys");
        var (_, line) = ApiKeyStore.NewKey("one", new HashSet<string> { "read" });
        File.WriteAllLines(keys, [line]);
        var file = new ApiKeyFile(keys, NullLogger.Instance);
        Assert.Equal(1, file.Current.Count);
        using (var f = new FileStream(keys, FileMode.Open)) f.SetLength((64L << 20) + 1);
        await Task.Delay(ApiKeyFile.CheckInterval * 2.5);
        Assert.Equal(1, file.Current.Count); // re-read and refused: the last keys stay
    }
}
