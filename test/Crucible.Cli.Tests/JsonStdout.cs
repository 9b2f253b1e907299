using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>The <c>--json</c> contract's stdout, read by the tests of every command that has the flag.</summary>
internal static class JsonStdout
{
    /// <summary>
    /// The one JSON object that is the whole of <paramref name="stdout"/> (one line; fails the test on a second line or
    /// on anything but an object).
    /// </summary>
    public static JsonElement Single(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using var doc = JsonDocument.Parse(lines[0]);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        return doc.RootElement.Clone();
    }
}
