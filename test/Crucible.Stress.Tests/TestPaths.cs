namespace Crucible.Stress.Tests;

internal static class TestPaths
{
    /// <summary>A file under this project's TestData folder (copied next to the test assembly).</summary>
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);
}
