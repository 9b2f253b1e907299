using System.CommandLine;
using Crucible.Cli.Commands;

namespace Crucible.Cli;

/// <summary>Builds the <c>crucible</c> root command from one factory per sub-command (each in <c>Commands/</c>).</summary>
public static class CrucibleCommand
{
    /// <summary>The root command with every sub-command registered.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Crucible: diffusion models for financial scenario generation, with evaluation, stress testing and an audit trail.");
        root.Options.Add(CliRunner.Verbose);
        foreach (var command in Registry.All())
        {
            root.Subcommands.Add(command);
        }

        ParseNumbersInvariantly(root);
        return root;
    }

    /// <summary>
    /// Gives every decimal option of <paramref name="command"/> and its sub-commands the culture-invariant parser
    /// (<see cref="InvariantNumber"/>): System.CommandLine parses <c>Option&lt;double&gt;</c> with the current culture,
    /// so under de-DE <c>--alpha 0.99</c> would read as 99. One pass here covers every command, present and future.
    /// </summary>
    internal static void ParseNumbersInvariantly(Command command)
    {
        foreach (var option in command.Options)
        {
            if (option is Option<double> d && d.CustomParser is null) d.CustomParser = InvariantNumber.Parse;
            else if (option is Option<double?> n && n.CustomParser is null) n.CustomParser = InvariantNumber.ParseOptional;
        }

        foreach (var sub in command.Subcommands) ParseNumbersInvariantly(sub);
    }
}
