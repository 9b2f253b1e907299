namespace Crucible.Data.Tests;

/// <summary>Locates committed fixtures and the shared data folder.</summary>
internal static class TestFiles
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    /// <summary>The repository root: the first folder above the test assembly that holds Crucible.slnx.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx"))) return dir.FullName;
        }

        throw new InvalidOperationException("Crucible.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>../shared/data relative to the repository root; fails loudly when absent.</summary>
    public static string SharedData(string file)
    {
        var path = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "data", file));
        Assert.True(File.Exists(path), $"shared data file {path} is missing: these tests need ../shared/data next to the repository");
        return path;
    }
}
