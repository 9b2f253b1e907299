using System.CommandLine;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Cards;
using Crucible.Governance.Registry;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible model-card --model DIR [--report report.json] [--home DIR] --out card.md [--html card.html]</c>: writes the
/// model card (<see cref="ModelCard"/>) in Markdown and optionally HTML. With a home whose registry holds the model, the
/// card gives its status. Exit 0 written; 2 a missing or changed model folder, an unreadable report, an empty section.
/// </summary>
internal static class ModelCardCommand
{
    /// <summary>The <c>model-card</c> command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model folder (weights.safetensors + manifest.json)", Required = true };
        var report = new Option<string>("--report") { Description = "An evaluation report.json: adds validation results and the coverage audit" };
        var outPath = new Option<string>("--out") { Description = "The Markdown card to write", Required = true };
        var html = new Option<string>("--html") { Description = "Also write the card as a self-contained HTML page" };
        var home = HomeOption.Create();
        var command = new Command("model-card", "Write a model's card: intended use, data, training, DP statement, validation, coverage, limitations")
        {
            model, report, outPath, html, home,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var folder = p.GetValue(model)!;
            var card = ModelCard.Build(folder, p.GetValue(report), StatusOf(HomeOption.Resolve(p, home), folder));
            card.Write(p.GetValue(outPath)!, p.GetValue(html));
            Console.Out.WriteLine($"model card: {p.GetValue(outPath)}{(p.GetValue(html) is { } h ? ", " + h : "")}");
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>The registry status of the model in <paramref name="folder"/>, when <paramref name="home"/> has an audit log that registers it.</summary>
    internal static string? StatusOf(CrucibleHome home, string folder)
    {
        if (!File.Exists(home.AuditDatabase)) return null; // do not create a home just to look
        var weights = Path.Combine(folder, ModelRegistry.WeightsFileName);
        if (!File.Exists(weights)) return null;
        using var log = AuditLog.Open(home);
        return new ModelRegistry(home, log).Find(FileHash.Sha256(weights))?.Status.ToString().ToLowerInvariant();
    }
}
