using System.CommandLine;
using System.Globalization;
using Crucible.Diffusion.Tabular;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible models register --model DIR [--home DIR]</c>: copies a model folder written by <c>crucible train</c> into
/// the home's registry (a candidate, under its id) so that <c>crucible serve</c> can serve it; <c>crucible models list</c>
/// prints the registry.
/// </summary>
internal static class ModelsCommand
{
    /// <summary>The <c>models</c> command with <c>register</c> and <c>list</c>.</summary>
    public static Command Create() => new("models", "The home's model registry (what crucible serve serves)") { CreateRegister(), CreateList() };

    private static Command CreateRegister()
    {
        var model = new Option<string>("--model") { Description = "The model folder written by crucible train", Required = true };
        var home = HomeOption.Create();
        var command = new Command("register", "Register a model folder in the home's registry as a candidate") { model, home };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var folder = p.GetValue(model)!;
            _ = DiffusionGenerator.Load(folder); // a folder that does not load (bad manifest, weights not matching it) is refused here
            var h = HomeOption.Resolve(p, home);
            using var log = AuditLog.Open(h);
            var record = new ModelRegistry(h, log).Register(folder);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"registered: {record.Id} (candidate, audit entry {record.RegisteredSeq})"));
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var home = HomeOption.Create();
        var command = new Command("list", "List the registered models: id, status, audit entry") { home };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var h = HomeOption.Resolve(p, home);
            using var log = AuditLog.Open(h);
            foreach (var m in new ModelRegistry(h, log).List())
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Id} {m.Status.ToString().ToLowerInvariant(),-9} {m.RegisteredSeq}"));
            return ExitCode.Success;
        }));
        return command;
    }
}
