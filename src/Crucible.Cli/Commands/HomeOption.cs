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

    /// <summary>
    /// The home folder of a command that records a run in it (created when needed, when the run completes), checked before
    /// any work: a home whose audit log was deleted, emptied or cut short is refused (<c>AUDIT-E-LOST</c>), so the run writes nothing.
    /// </summary>
    public static CrucibleHome ResolveForRun(ParseResult parse, Option<string> option) => ForRun(Resolve(parse, option));

    /// <summary><paramref name="home"/> after the check of <see cref="ResolveForRun"/>.</summary>
    public static CrucibleHome ForRun(CrucibleHome home)
    {
        Crucible.Governance.Audit.AuditLog.ThrowIfLost(home);
        return home;
    }
}
