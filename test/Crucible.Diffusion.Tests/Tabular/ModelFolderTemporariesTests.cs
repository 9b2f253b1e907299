using Crucible.Data;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// Session 24: a model folder's write killed mid-way left <c>.NAME.&lt;hex&gt;.tmp</c> (the new folder being written) and
/// <c>.NAME.&lt;hex&gt;.old</c> (the previous one renamed aside) folders for ever. The next write of the folder deletes
/// them by the rule the command outputs' temporary files follow (<c>AtomicFile.DeleteDeadTemporaries</c>): never a live
/// write's (a file of it held open, or written within the grace), never a name outside the exact pattern.
/// </summary>
public sealed class ModelFolderTemporariesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-model-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Plant(string suffix, DateTime written, string? hex = null)
    {
        var path = Path.Combine(_dir, $".model.{hex ?? Guid.NewGuid().ToString("N")}{suffix}");
        Directory.CreateDirectory(path);
        var file = Path.Combine(path, DiffusionGenerator.WeightsFileName);
        File.WriteAllBytes(file, [1, 2, 3]);
        File.SetLastWriteTimeUtc(file, written);
        Directory.SetLastWriteTimeUtc(path, written);
        return path;
    }

    [Fact]
    public void Save_DeletesTheDeadTemporaryAndAsideFoldersOfAKilledWrite_AndKeepsALiveWritesAndOtherNames()
    {
        var generator = new DiffusionGenerator(DiffusionGeneratorTests.Small(steps: 3)).Fit(DiffusionGeneratorTests.Returns(120, 7), new DataProvenance("x.csv", "abc", "Prices"));
        var folder = Path.Combine(_dir, "model");
        generator.Save(folder);

        var old = DateTime.UtcNow.AddMinutes(-1);
        var dead = Plant(".tmp", old);
        var deadAside = Plant(".old", old); // the folder is in place: the killed write got past its renames
        var liveHex = Guid.NewGuid().ToString("N");
        var live = Plant(".tmp", old, liveHex); // a writer holding its file, its folder's time old (a long write)
        var liveAside = Plant(".old", old, liveHex); // that writer between its two renames
        var fresh = Plant(".tmp", DateTime.UtcNow.AddMinutes(1)); // a writer that has just created its folder (a minute ahead: within the grace however slow the saves below are)
        var other = Path.Combine(_dir, ".model.notours.tmp");
        Directory.CreateDirectory(other);
        Directory.SetLastWriteTimeUtc(other, old);

        using (new FileStream(Path.Combine(live, DiffusionGenerator.WeightsFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            generator.Save(folder);
            Assert.False(Directory.Exists(dead), "the killed write's temporary folder stays");
            Assert.False(Directory.Exists(deadAside), "the killed write's aside folder stays");
            Assert.True(Directory.Exists(live), "a live write's temporary folder was deleted");
            Assert.True(File.Exists(Path.Combine(live, DiffusionGenerator.WeightsFileName)));
            Assert.True(Directory.Exists(liveAside), "a live write's aside folder was deleted");
            Assert.True(Directory.Exists(fresh), "a temporary folder written within the grace was deleted");
            Assert.True(Directory.Exists(other));
        }

        Assert.Equal(generator.ManifestBytes(), File.ReadAllBytes(Path.Combine(folder, DiffusionGenerator.ManifestFileName)));

        // its writer gone (the file let go, the time old): the next write deletes both
        Directory.SetLastWriteTimeUtc(live, old);
        generator.Save(folder);
        Assert.False(Directory.Exists(live));
        Assert.False(Directory.Exists(liveAside));
        Assert.True(Directory.Exists(fresh)); // still within the grace
        Assert.Equal(["model"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Where(n => !n!.StartsWith(".model.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Save_AfterAWriteKilledBetweenItsRenames_LeavesNeitherFolder_AndWritesTheModel()
    {
        var generator = new DiffusionGenerator(DiffusionGeneratorTests.Small(steps: 3)).Fit(DiffusionGeneratorTests.Returns(120, 7), new DataProvenance("x.csv", "abc", "Prices"));
        var folder = Path.Combine(_dir, "model");
        generator.Save(folder);
        var hex = Guid.NewGuid().ToString("N");
        var aside = Path.Combine(_dir, $".model.{hex}.old");
        Directory.Move(folder, aside); // killed after moving the model aside, before moving its new folder in
        var temp = Plant(".tmp", DateTime.UtcNow.AddMinutes(-1), hex);

        generator.Save(folder);
        Assert.False(Directory.Exists(temp));
        Assert.False(Directory.Exists(aside));
        Assert.Equal(generator.ManifestBytes(), File.ReadAllBytes(Path.Combine(folder, DiffusionGenerator.ManifestFileName)));
        Assert.Equal(["model"], Directory.GetDirectories(_dir).Select(Path.GetFileName));
    }
}
