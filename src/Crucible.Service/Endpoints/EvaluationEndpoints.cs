using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Evaluation;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Service.Problems;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Crucible.Service.Endpoints;

/// <summary>The body of <c>POST /v1/evaluations</c>: what <c>crucible evaluate</c> reads, with the files' text inline.</summary>
public sealed record EvaluationRequest
{
    /// <summary>The real (holdout) series CSV.</summary>
    public string? RealCsv { get; init; }

    /// <summary>The synthetic series CSV (e.g. a scenario CSV).</summary>
    public string? SyntheticCsv { get; init; }

    /// <summary>
    /// The synthetic CSV's metadata, its <c>FILE.meta.json</c> (an object or its JSON text): when it declares price columns
    /// (<c>generate --prices</c>) and its <c>csv_sha256</c> is the CSV's, those columns are not read as series.
    /// </summary>
    public JsonElement? SyntheticMeta { get; init; }

    /// <summary>The training series CSV (adds the privacy section).</summary>
    public string? TrainCsv { get; init; }

    /// <summary>The VaR/ES confidence level in (0, 1) (default 0.99, as the CLI).</summary>
    public double? Alpha { get; init; }

    /// <summary>The regimes' realised-volatility window in steps, at least 2 (default 20, as the CLI's <c>--regime-window</c>).</summary>
    public int? RegimeWindow { get; init; }

    /// <summary>
    /// The most rows of each of the train, holdout and synthetic sets the privacy section measures, drawn uniformly without
    /// replacement from the evaluation's seed (at least 2; needs <see cref="TrainCsv"/>; default: every row), as the CLI's
    /// <c>--privacy-rows</c>.
    /// </summary>
    public int? PrivacyRows { get; init; }

    /// <summary>
    /// The linkability attack's two datasets by series name (needs <see cref="TrainCsv"/>; default: the first half of the
    /// series and the rest), as the CLI's <c>--linkability-series</c>.
    /// </summary>
    public LinkabilitySeriesRequest? LinkabilitySeries { get; init; }

    /// <summary>
    /// The series attribute inference attacks, each in turn, with the others as the attacker's knowledge (needs
    /// <see cref="TrainCsv"/> and at least two series), as the CLI's <c>--sensitive</c>.
    /// </summary>
    public IReadOnlyList<string>? Sensitive { get; init; }
}

/// <summary><c>linkability_series</c> of an evaluation request: the attacker's two datasets, disjoint lists of series.</summary>
public sealed record LinkabilitySeriesRequest
{
    /// <summary>The series of the first dataset.</summary>
    public IReadOnlyList<string>? First { get; init; }

    /// <summary>The series of the second dataset.</summary>
    public IReadOnlyList<string>? Second { get; init; }
}

/// <summary>
/// <c>POST /v1/evaluations</c>: runs <c>Evaluator.Evaluate</c> on the given files and answers <c>report.json</c>, the same
/// bytes <c>crucible evaluate --out report.json</c> writes for the same files, and records <c>evaluation.completed</c> (with a
/// train set, the privacy report with its hash, <see cref="PrivacyAuditEntry.Of"/>, as the CLI records it) and,
/// in the same transaction, its run manifest with the <c>run.completed</c> entry that pins it.
/// The files are written to a scratch folder in the home (so errors name <c>real.csv</c>, <c>synthetic.csv</c>,
/// <c>train.csv</c> with line and column) and removed afterwards.
/// </summary>
public static class EvaluationEndpoints
{
    /// <summary>Maps the endpoint.</summary>
    public static void Map(RouteGroupBuilder v1) =>
        FileRequest.MapPost<EvaluationRequest>(v1, "/evaluations", Handle, "Evaluate",
            "Evaluate synthetic against real series: the report.json of crucible evaluate");

    private static async Task Handle(HttpContext context, CrucibleHome home, AuditLog audit, IOptions<ServiceOptions> settings)
    {
        var (ok, r, body) = await BodyReader.ReadJsonAsync<EvaluationRequest>(context, settings.Value.MaxTrainingBodyBytes, "evaluation request").ConfigureAwait(false);
        if (!ok) return;

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (r is null || string.IsNullOrEmpty(r.RealCsv)) errors["real_csv"] = ["required"];
        if (r is null || string.IsNullOrEmpty(r.SyntheticCsv)) errors["synthetic_csv"] = ["required"];
        if (r?.Alpha is { } a && !(a > 0 && a < 1)) errors["alpha"] = [string.Create(CultureInfo.InvariantCulture, $"must be in (0, 1), got {a}")];
        if (r?.RegimeWindow is { } rw && rw < 2) errors["regime_window"] = [string.Create(CultureInfo.InvariantCulture, $"must be at least 2 steps (a volatility needs two returns), got {rw}")];
        if (r?.PrivacyRows is { } pr && pr < Crucible.Evaluation.Privacy.PrivacySubsample.MinimumLimit)
            errors["privacy_rows"] = [string.Create(CultureInfo.InvariantCulture, $"must be at least {Crucible.Evaluation.Privacy.PrivacySubsample.MinimumLimit} rows (a nearest other row and a standard deviation need two), got {pr}")];
        else if (r?.PrivacyRows is not null && string.IsNullOrEmpty(r.TrainCsv))
            errors["privacy_rows"] = ["needs train_csv (without it there is no privacy section)"];
        if (r?.LinkabilitySeries is { } link)
        {
            if (link.First is not { Count: > 0 } || link.Second is not { Count: > 0 } || link.First.Concat(link.Second).Any(string.IsNullOrWhiteSpace))
                errors["linkability_series"] = ["needs first and second, each a non-empty list of series names"];
            else if (string.IsNullOrEmpty(r.TrainCsv))
                errors["linkability_series"] = ["needs train_csv (without it there is no privacy section)"];
        }
        if (r?.Sensitive is { } sensitiveNames)
        {
            if (sensitiveNames.Count == 0 || sensitiveNames.Any(string.IsNullOrWhiteSpace))
                errors["sensitive"] = ["needs a non-empty list of series names"];
            else if (string.IsNullOrEmpty(r.TrainCsv))
                errors["sensitive"] = ["needs train_csv (attribute inference attacks the training rows)"];
        }
        if (errors.Count > 0)
        {
            await Invalid(context, errors).ConfigureAwait(false);
            return;
        }

        var options = r!.Alpha is { } alpha ? new EvaluationOptions { Alpha = alpha } : new EvaluationOptions();
        var config = new JsonObject { ["command"] = "service.evaluate", ["alpha"] = options.Alpha };
        if (r.RegimeWindow is { } window)
        {
            options = options with { RegimeWindow = window };
            config["regime_window"] = window; // only when given: earlier runs' configs stay as they were
        }
        if (r.PrivacyRows is { } privacyRows)
        {
            options = options with { PrivacyRows = privacyRows };
            config["privacy_rows"] = privacyRows; // only when given, as regime_window
        }
        if (r.LinkabilitySeries is { First: { } first, Second: { } second })
        {
            options = options with { LinkabilityColumns = new LinkabilityDatasets(first, second) };
            // only when given, in the CLI's shape
            config["linkability_series"] = new JsonObject
            {
                ["first"] = new JsonArray([.. first.Select(n => (JsonNode?)n)]), ["second"] = new JsonArray([.. second.Select(n => (JsonNode?)n)]),
            };
        }

        if (r.Sensitive is { } sensitive)
        {
            options = options with { SensitiveColumns = sensitive };
            config["sensitive"] = new JsonArray([.. sensitive.Select(n => (JsonNode?)n)]); // only when given, in the CLI's shape
        }

        var run = RunEndpoints.Start(home, RunKind.Evaluate, config, options.Seed, body);
        using var files = FileRequest.Create(home);
        var (realPath, realFile) = files.Put("real.csv", r.RealCsv!);
        var (syntheticPath, syntheticFile) = files.Put("synthetic.csv", r.SyntheticCsv!);
        var (trainPath, trainFile) = r.TrainCsv is null ? (null, null) : files.Put("train.csv", r.TrainCsv);
        run.AddInput(realFile).AddInput(syntheticFile);
        if (trainFile is not null) run.AddInput(trainFile);
        if (files.PutMeta("synthetic", r.SyntheticMeta) is { } meta) run.AddInput(meta);
        EvaluationReport report;
        try
        {
            var real = SeriesSetCsv.Read(realPath, null, out _, out var realDates);
            var synthetic = SeriesSetCsv.Read(syntheticPath, real.Names, out _, out var syntheticDates);
            DateOrderBreak? trainDates = null;
            var train = trainPath is null ? null : SeriesSetCsv.Read(trainPath, real.Names, out _, out trainDates);
            if (options.LinkabilityColumns?.WhyNot(real.Names) is { } why)
            {
                await Invalid(context, new() { ["linkability_series"] = [why] }).ConfigureAwait(false);
                return;
            }
            if (AttributeInference.WhyNot(options.SensitiveColumns, real.Names) is { } whyNot)
            {
                await Invalid(context, new() { ["sensitive"] = [whyNot] }).ConfigureAwait(false);
                return;
            }
            // privacy.holdout_sha256 is the holdout file's hash, as crucible evaluate records it (RELIABILITY PRIV-9)
            report = Evaluator.Evaluate(new EvaluationInput(real, synthetic, train), options with { HoldoutSha256 = realFile.Sha256 });
            // a file whose dates are not strictly increasing: crucible evaluate's warning, before the library's own, naming
            // the file by its request member (the real_csv file) where the CLI names its option (the --real file)
            string[] dateOrder = [.. new[] { (EvaluationInputRole.Real, realDates), (EvaluationInputRole.Synthetic, syntheticDates), (EvaluationInputRole.Train, trainDates) }
                .Where(d => d.Item2 is not null).Select(d => DateOrderWarning.Text(report, d.Item1, $"the {d.Item1.WireName()}_csv file", d.Item2!))];
            if (dateOrder.Length > 0) report = report with { Warnings = [.. dateOrder, .. report.Warnings] };
        }
        catch (InvalidInputException e)
        {
            var field = e.Location?.File is not { } f ? "body"
                : f.EndsWith(".meta.json", StringComparison.Ordinal) ? Path.GetFileName(f)[..^".meta.json".Length] + "_meta" : Path.GetFileNameWithoutExtension(f) + "_csv";
            await Invalid(context, new() { [field] = [files.MessageOf(e)] }).ConfigureAwait(false);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(ReportJson.ToJson(report));
        var reportSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var evaluated = new JsonObject
        {
            ["command"] = "service.evaluate",
            ["real_sha256"] = realFile.Sha256,
            ["synthetic_sha256"] = syntheticFile.Sha256,
            ["train_sha256"] = trainFile?.Sha256,
            ["report_sha256"] = reportSha256,
            ["thresholds_sha256"] = null,
            ["thresholds_passed"] = null,
            ["run_id"] = run.RunId,
        };
        // RELIABILITY PRIV-9: the privacy report with its hash (the privacy object's bytes in the answer), as crucible evaluate records it
        if (PrivacyAuditEntry.Of(report, bytes) is { } privacy) evaluated["privacy"] = privacy;
        var manifest = run.AddOutput(ManifestFile.Named(RunEndpoints.ResponseOutput, bytes)).Finish();
        var receipts = audit.AppendRunCompleted(manifest, new JsonObject { ["command"] = "service.evaluate", ["report_sha256"] = reportSha256 },
            FileRequest.Actor(context), [(AuditKind.EvaluationCompleted, evaluated)]);
        await FileRequest.WriteJsonAsync(context, bytes, receipts[0].Seq, manifest.RunId).ConfigureAwait(false);
    }

    private static Task Invalid(HttpContext context, Dictionary<string, string[]> errors) => FileRequest.InvalidAsync(context, "evaluation", errors);
}
