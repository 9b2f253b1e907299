using System.Collections.Concurrent;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// One rule for temporary names: the names the writers really create beside their destination while they write (an
/// output file by <see cref="AtomicFile"/>, a safetensors file, a model folder), watched as they appear, are the
/// rule's (<see cref="AtomicFile.IsTempName"/>, <see cref="AtomicFile.IsAsideName"/>), and a crashed write's leftover
/// under each of those names is cleaned the same way (<see cref="AtomicFile.DeleteDeadTemporaries"/>, the service's
/// <see cref="AtomicFile.DeleteStaleTemporariesUnder"/>, a model folder's next save). Before, safetensors and model
/// folders spelt the pattern out themselves.
/// </summary>
public sealed class TemporaryNameRuleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-temp-rule-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // the names created directly in _dir while write runs
    private List<string> Created(Action write)
    {
        var names = new ConcurrentQueue<string>();
        using var watcher = new FileSystemWatcher(_dir) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        watcher.Created += (_, e) => names.Enqueue(e.Name!);
        watcher.Renamed += (_, e) => names.Enqueue(e.Name!);
        watcher.EnableRaisingEvents = true;
        write();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline && names.IsEmpty) Thread.Sleep(20);
        Thread.Sleep(200); // the rest of the events
        return [.. names.Distinct()];
    }

    [Fact]
    public void EveryWriter_NamesItsTemporariesByTheRule_AndTheirLeftoversAreCleanedAlike()
    {
        // an output file and a safetensors file: created as .NAME.<hex>.tmp, renamed to NAME
        var output = Created(() => AtomicFile.WriteAllText(Path.Combine(_dir, "report.json"), "{}"));
        var tensors = Created(() => SafeTensors.Save(Path.Combine(_dir, "state.safetensors"), [new NamedTensorData("w", [2], SafeTensorsDType.F32, new byte[8])]));
        string outputTemp = Assert.Single(output, n => n != "report.json");
        string tensorsTemp = Assert.Single(tensors, n => n != "state.safetensors");
        Assert.True(AtomicFile.IsTempName(outputTemp, "report.json"), outputTemp);
        Assert.True(AtomicFile.IsTempName(tensorsTemp, "state.safetensors"), tensorsTemp);

        // a model folder saved over a previous one: .model.<hex>.tmp, the previous renamed aside .model.<the same hex>.old
        var generator = new DiffusionGenerator(DiffusionGeneratorTests.Small(steps: 3)).Fit(DiffusionGeneratorTests.Returns(120, 7), new DataProvenance("x.csv", "abc", "Prices"));
        string model = Path.Combine(_dir, "model");
        generator.Save(model);
        var folder = Created(() => generator.Save(model));
        string folderTemp = Assert.Single(folder, n => AtomicFile.IsTempName(n, "model"));
        string aside = Assert.Single(folder, n => AtomicFile.IsAsideName(n, "model"));
        Assert.Equal(folderTemp, AtomicFile.TempNameOfAside(aside));
        Assert.All(folder, n => Assert.True(n == "model" || n == aside || AtomicFile.IsTempName(n), n)); // with the write check's probe, .write-check.<hex>.tmp

        // what a crash leaves under those very names, an hour old, is cleaned by the rule; names beside it that only look
        // alike are not
        var hourAgo = DateTime.UtcNow.AddHours(-1);
        string[] lookalikes = [".report.json.tmp", ".report.json." + new string('A', 32) + ".tmp", ".state.safetensors." + new string('0', 31) + ".tmp"];
        foreach (var name in lookalikes.Append(outputTemp).Append(tensorsTemp))
        {
            File.WriteAllText(Path.Combine(_dir, name), "half");
            File.SetLastWriteTimeUtc(Path.Combine(_dir, name), hourAgo);
        }

        Assert.Equal(1, AtomicFile.DeleteDeadTemporaries(Path.Combine(_dir, "report.json")));
        Assert.Equal(1, AtomicFile.DeleteDeadTemporaries(Path.Combine(_dir, "state.safetensors")));
        File.WriteAllText(Path.Combine(_dir, tensorsTemp), "half again");
        File.SetLastWriteTimeUtc(Path.Combine(_dir, tensorsTemp), hourAgo);
        Assert.Equal(1, AtomicFile.DeleteStaleTemporariesUnder(_dir, TimeSpan.FromMinutes(10))); // the service's start-up sweep
        Assert.All(lookalikes, n => Assert.True(File.Exists(Path.Combine(_dir, n)), n));
        Assert.False(File.Exists(Path.Combine(_dir, outputTemp)) || File.Exists(Path.Combine(_dir, tensorsTemp)));

        Directory.CreateDirectory(Path.Combine(_dir, folderTemp));
        Directory.CreateDirectory(Path.Combine(_dir, aside));
        Directory.SetLastWriteTimeUtc(Path.Combine(_dir, folderTemp), hourAgo);
        generator.Save(model); // a model folder's next save deletes both (the folder is in place)
        Assert.False(Directory.Exists(Path.Combine(_dir, folderTemp)) || Directory.Exists(Path.Combine(_dir, aside)));
    }

    [Theory]
    [InlineData(".a.0123456789abcdef0123456789abcdef.tmp", "a", true)]
    [InlineData(".a.0123456789abcdef0123456789abcdef.tmp", null, true)]
    [InlineData(".a.b.json.0123456789abcdef0123456789abcdef.tmp", "a.b.json", true)]
    [InlineData(".a.0123456789abcdef0123456789abcdef.tmp", "b", false)]
    [InlineData(".a.0123456789ABCDEF0123456789abcdef.tmp", "a", false)]
    [InlineData(".a.0123456789abcdef0123456789abcde.tmp", "a", false)]
    [InlineData("a.0123456789abcdef0123456789abcdef.tmp", null, false)]
    [InlineData("..0123456789abcdef0123456789abcdef.tmp", null, false)]
    [InlineData(".a.0123456789abcdef0123456789abcdef.old", "a", false)]
    [InlineData(".a.tmp", null, false)]
    public void IsTempName_IsExactlyThePattern(string name, string? fileName, bool expected)
    {
        Assert.Equal(expected, AtomicFile.IsTempName(name, fileName));
        Assert.Equal(expected, AtomicFile.IsAsideName(name[..^4] + ".old", fileName) && name.EndsWith(".tmp", StringComparison.Ordinal));
        var fresh = AtomicFile.TempName("a");
        Assert.True(AtomicFile.IsTempName(fresh, "a") && !AtomicFile.IsTempName(AtomicFile.TempName("a"), "ab"));
        Assert.NotEqual(fresh, AtomicFile.TempName("a"));
    }
}
