using System.Globalization;

namespace Crucible.Benchmarks;

/// <summary>The benchmark commands' few <c>--name value</c> options.</summary>
internal static class Args
{
    public static int Int(IReadOnlyList<string> args, string name, int fallback) =>
        String(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static string? String(IReadOnlyList<string> args, string name)
    {
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == name) return args[i + 1];
        }

        return null;
    }
}
