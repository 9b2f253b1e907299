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

        return root;
    }
}
