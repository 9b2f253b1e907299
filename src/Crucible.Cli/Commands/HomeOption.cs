using System.CommandLine;
using Crucible.Governance;

namespace Crucible.Cli.Commands;

/// <summary>The <c>--home DIR</c> option shared by commands that read or write Crucible's state (ARCHITECTURE.md).</summary>
internal static class HomeOption
{
    /// <summary>A new <c>--home</c> option (each command owns its instance).</summary>
    public static Option<string> Create() => new("--home")
    {
        Description = $"Crucible's state folder (default: ${CrucibleHome.EnvironmentVariable}, else ~/.crucible)",
    };

    /// <summary>The home folder for a parsed command line.</summary>
    public static CrucibleHome Resolve(ParseResult parse, Option<string> option) => CrucibleHome.Resolve(parse.GetValue(option));
}
