namespace Crucible.Cli.Tests;

/// <summary>Locates the repository and the other test projects' committed fixtures.</summary>
internal static class TestRepo
{
    /// <summary>The repository root: the first folder above the test assembly that holds Crucible.slnx.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx"))) return dir.FullName;
        }

        throw new InvalidOperationException("Crucible.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The committed fixture <paramref name="name"/> of test project <paramref name="project"/> (its TestData folder).</summary>
    public static string Fixture(string project, string name) => Path.Combine(Root(), "test", project, "TestData", name);
}
