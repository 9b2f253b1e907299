using System.Reflection;

namespace Crucible.Tensors.Tests;

public class ReadmeExampleTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Crucible.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Crucible.slnx) not found above the test assembly");
    }

    [Fact]
    public void ReadmeEngineExample_IsExactlyTheExampleProgram()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        int begin = readme.IndexOf("<!-- engine-example:begin -->\n```csharp\n", StringComparison.Ordinal);
        int end = readme.IndexOf("```\n<!-- engine-example:end -->", StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "README engine example markers not found");
        var block = readme[(begin + "<!-- engine-example:begin -->\n```csharp\n".Length)..end];
        var program = File.ReadAllText(Path.Combine(root, "examples", "EngineExample", "Program.cs")).ReplaceLineEndings("\n");
        Assert.Equal(program, block);
    }

    [Fact]
    public void EngineExample_RunsAndFitsItsTarget()
    {
        var entry = Assembly.Load("EngineExample").EntryPoint!;
        var path = Path.Combine(Path.GetTempPath(), $"crucible-example-{Guid.NewGuid():N}.safetensors");
        var original = Console.Out;
        using var output = new StringWriter();
        try
        {
            Console.SetOut(output);
            var code = (int)entry.Invoke(null, [new[] { path }])!;
            Assert.Equal(0, code);
            Assert.True(File.Exists(path));
            Assert.Contains("step 500: mse", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Console.SetOut(original);
            File.Delete(path);
        }
    }
}
