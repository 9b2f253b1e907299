using System.CommandLine;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Cards;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible model-card --model DIR [--report report.json] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out card.md [--html card.html] [--json]</c>: writes the
/// model card (<see cref="ModelCard"/>) in Markdown and optionally HTML. With a home (or <c>--store</c>) whose registry holds the model, the
/// card gives its status. The run manifest (model files and report in, card files out) goes to <c>HOME/runs/RUN_ID.json</c>
/// (with <c>--store postgres:…</c>, to that database and <c>HOME/runs.postgres-…/</c>), pinned by a <c>run.completed</c> audit entry; <c>--json</c> prints them as one JSON document (<see cref="JsonResult"/>). Exit 0 written; 2 a missing or changed model folder, an unreadable report,
/// an empty section.
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
        var store = StoreOption.Create();
        var json = JsonResult.Create();
        var command = new Command("model-card", "Write a model's card: intended use, data, training, DP statement, validation, coverage, limitations")
        {
            model, report, outPath, html, home, store, json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var folder = p.GetValue(model)!;
            var runStore = StoreOption.ResolveForRun(p, home, store);
            var crucibleHome = runStore.Home;
            var status = StatusOf(runStore, folder);
            var card = ModelCard.Build(folder, p.GetValue(report), status);
            var run = StartRun(crucibleHome, "model-card", folder, p.GetValue(report), status).CheckOutput("--out", p.GetValue(outPath)!);
            if (p.GetValue(html) is { } page)
            {
                DistinctOutputs.Check("--html", page, "--out", p.GetValue(outPath)!);
                run.CheckOutput("--html", page);
            }
            card.Write(p.GetValue(outPath)!, p.GetValue(html));
            var (manifest, receipt) = Complete(runStore, run, "model-card", p.GetValue(outPath)!, p.GetValue(html));
            // --json: stdout carries the document only, the summary lines go to stderr
            var output = JsonResult.SummaryWriter(p.GetValue(json), Console.Out);
            output.WriteLine($"model card: {p.GetValue(outPath)}{(p.GetValue(html) is { } h ? ", " + h : "")}");
            output.WriteLine($"manifest:   {manifest}");
            if (p.GetValue(json))
            {
                JsonResult.Write(Console.Out, JsonResult.WithRun(new JsonObject
                {
                    ["command"] = "model-card",
                    ["card"] = JsonResult.Full(p.GetValue(outPath)),
                    ["html"] = JsonResult.Full(p.GetValue(html)),
                    ["card_sha256"] = FileHash.Sha256(p.GetValue(outPath)!),
                    ["model_id"] = run.ModelId,
                    ["model_folder"] = JsonResult.Full(folder),
                    ["report"] = JsonResult.Full(p.GetValue(report)),
                    ["registry_status"] = status,
                }, run.RunId, manifest, receipt, runStore));
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// A model-card run (<c>crucible model-card</c>, the demo's card step) done again from its manifest: the card built
    /// again by <see cref="ModelCard.Build(string, string?, string?)"/> from the recorded model files (inputs 1 and 2, the folder of the weights), the
    /// recorded report (input 3, when there was one) and the registry status the card gave at the time
    /// (<c>registry_status</c>, not the registry's status now); the Markdown and, when recorded, the HTML against the
    /// recorded hashes.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") is not ("model-card" or "demo.model-card") || m.Inputs.Count is < 2 or > 3
            || Path.GetFileName(m.Inputs[0].Path) != ModelRegistry.WeightsFileName)
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible model-card runs again; run {m.RunId} was not recorded by crucible model-card", where);
        var card = ModelCard.Build(Path.GetDirectoryName(full(m.Inputs[0].Path))!, m.Inputs.Count == 3 ? full(m.Inputs[2].Path) : null,
            RunRecompute.Required<string>(c, "registry_status", where));
        // the command records the Markdown first, then the page when asked
        var results = m.Outputs.Where(o => o.IsFile).Select((o, i) => RunRecompute.Compare(o, i == 0 ? card.ToMarkdown() : card.ToHtml())).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no model card to compare with", where);
    }

    /// <summary>
    /// The run manifest of a model card (also the <c>demo</c>'s card step): the model's two files and the report read,
    /// the registry status the card gives (<paramref name="status"/>, part of its bytes), the model id.
    /// </summary>
    internal static RunManifestBuilder StartRun(CrucibleHome home, string command, string folder, string? report, string? status)
    {
        var run = RunManifests.Start(home, RunKind.ModelCard, new JsonObject { ["command"] = command, ["registry_status"] = status }, seed: 0)
            .AddInput(Path.Combine(folder, ModelRegistry.WeightsFileName)).AddInput(Path.Combine(folder, ModelRegistry.ManifestFileName));
        if (report is not null) run.AddInput(report);
        run.ModelId = ModelRegistry.IdOf(folder);
        return run;
    }

    /// <summary>
    /// Records the card files <paramref name="markdown"/> (and <paramref name="html"/>) as the run's outputs and the run
    /// (<see cref="RunAudit.Complete"/>); returns the manifest's path and the <c>run.completed</c> receipt.
    /// </summary>
    internal static (string Manifest, AuditReceipt Receipt) Complete(RunStore store, RunManifestBuilder run, string command,
        string markdown, string? html)
    {
        run.AddOutput(markdown);
        if (html is not null) run.AddOutput(html);
        var (manifest, receipts) = RunAudit.Complete(store, run, new JsonObject
        {
            ["command"] = command, ["model_id"] = run.ModelId, ["card_sha256"] = FileHash.Sha256(markdown),
        });
        return (manifest, receipts[^1]);
    }

    /// <summary>
    /// The registry status of the model in <paramref name="folder"/>, when the registry of <paramref name="store"/> registers
    /// it (a SQLite home without an audit log registers nothing).
    /// </summary>
    internal static string? StatusOf(RunStore store, string folder)
    {
        if (store.IsSqlite && !File.Exists(store.Home.AuditDatabase)) return null; // do not create a home just to look
        var weights = Path.Combine(folder, ModelRegistry.WeightsFileName);
        if (!File.Exists(weights)) return null;
        using var log = store.OpenLog();
        return new ModelRegistry(store.Home, log).Find(FileHash.Sha256(weights))?.Status.WireName();
    }
}
