using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Service.Problems;
using Crucible.Service.Security;
using Crucible.Stress.Ensembles;
using Crucible.Stress.Reporting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Crucible.Service.Endpoints;

/// <summary>One member of an ensemble request: a scenario CSV, named as its file would be.</summary>
public sealed record EnsembleScenario
{
    /// <summary>The member's name (1–64 of <c>[A-Za-z0-9._-]</c>, unique ignoring case): the CLI's file name without <c>.csv</c>.</summary>
    public string? Name { get; init; }

    /// <summary>The scenario CSV (<c>scenario,step,&lt;series…&gt;</c> log returns).</summary>
    public string? Csv { get; init; }

    /// <summary>
    /// The CSV's metadata, its <c>FILE.meta.json</c> (an object or its JSON text): when it declares price columns
    /// (<c>generate --prices</c>) and its <c>csv_sha256</c> is the CSV's, those columns are not read as series.
    /// </summary>
    public JsonElement? Meta { get; init; }
}

/// <summary>The body of <c>POST /v1/ensembles</c>: what <c>crucible ensemble</c> reads, with the files' text inline.</summary>
public sealed record EnsembleRequest
{
    /// <summary>The members, at least two, in order.</summary>
    public IReadOnlyList<EnsembleScenario?>? Scenarios { get; init; }

    /// <summary>The portfolio JSON object that <c>crucible stress --portfolio</c> reads.</summary>
    public JsonElement? Portfolio { get; init; }

    /// <summary>The ES level the spread is measured at, in (0, 1) (default 0.975, as the CLI).</summary>
    public double? Alpha { get; init; }

    /// <summary>Flag above this relative ES spread (default 0.35, as the CLI).</summary>
    public double? MaxEsSpread { get; init; }

    /// <summary>Flag above this normalised P&amp;L Wasserstein-1 distance (default 0.25, as the CLI).</summary>
    public double? MaxWasserstein { get; init; }
}

/// <summary>
/// <c>POST /v1/ensembles</c>: runs <c>Ensemble.RunFiles</c> on the given members and portfolio and answers the ensemble
/// JSON, the same bytes <c>crucible ensemble --out FILE.json</c> writes for the same files, flagged or not (the verdict is
/// in <c>flagged</c> and <c>reasons</c>), and records <c>run.completed</c> with the run manifest it pins (stored in the
/// same transaction). The files are written as <c>NAME.csv</c> and
/// <c>portfolio.json</c> to a scratch folder in the home (so members are named as the CLI names them and errors name the
/// file with line and column) and removed afterwards.
/// </summary>
public static class EnsembleEndpoints
{
    /// <summary>The longest member name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Maps the endpoint.</summary>
    public static void Map(RouteGroupBuilder v1) =>
        FileRequest.MapPost<EnsembleRequest>(v1, "/ensembles", Handle, "Ensemble",
            "Stress a portfolio under several members' scenarios and flag their disagreement: the JSON of crucible ensemble");

    private static async Task Handle(HttpContext context, CrucibleHome home, AuditLog audit, IOptions<ServiceOptions> settings)
    {
        var (ok, r, body) = await BodyReader.ReadJsonAsync<EnsembleRequest>(context, settings.Value.MaxTrainingBodyBytes, "ensemble request").ConfigureAwait(false);
        if (!ok) return;

        var errors = Validate(r);
        if (errors.Count > 0)
        {
            await Invalid(context, errors).ConfigureAwait(false);
            return;
        }

        var members = r!.Scenarios!.Select(m => m!).ToArray();
        double alpha = r.Alpha ?? 0.975;
        var defaults = new EnsembleThresholds();
        var thresholds = new EnsembleThresholds { MaxEsSpread = r.MaxEsSpread ?? defaults.MaxEsSpread, MaxWasserstein = r.MaxWasserstein ?? defaults.MaxWasserstein };

        var run = RunEndpoints.Start(home, RunKind.Ensemble, new JsonObject
        {
            ["command"] = "service.ensemble", ["alpha"] = alpha,
            ["max_es_spread"] = thresholds.MaxEsSpread, ["max_wasserstein"] = thresholds.MaxWasserstein,
        }, seed: 0, body);
        using var files = FileRequest.Create(home);
        var written = members.Select(m => files.Put(m.Name + ".csv", m.Csv!)).ToArray();
        var paths = written.Select(w => w.Path).ToArray();
        var (portfolioPath, portfolioFile) = files.Put("portfolio.json", r.Portfolio!.Value.GetRawText());
        foreach (var w in written) run.AddInput(w.Entry);
        run.AddInput(portfolioFile);
        foreach (var m in members)
        {
            if (files.PutMeta(m.Name!, m.Meta) is { } meta) run.AddInput(meta);
        }
        EnsembleResult result;
        try
        {
            result = Ensemble.RunFiles(paths, portfolioPath, alpha, thresholds);
        }
        catch (InvalidInputException e)
        {
            await Invalid(context, new() { [Field(e, members)] = [files.MessageOf(e)] }).ConfigureAwait(false);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(EnsembleJson.ToJson(result));
        run.Outcome = EnsembleJson.Outcome(result); // a degenerate ensemble's 0/0 spread or distance is null
        var manifest = run.AddOutput(ManifestFile.Named(RunEndpoints.ResponseOutput, bytes)).Finish();
        var receipt = audit.AppendRunCompleted(manifest, new JsonObject
        {
            ["command"] = "service.ensemble",
            ["members"] = new JsonArray([.. members.Zip(written, (m, w) => (JsonNode)new JsonObject { ["name"] = m.Name, ["csv_sha256"] = w.Entry.Sha256 })]),
            ["portfolio_sha256"] = portfolioFile.Sha256,
            ["alpha"] = alpha,
            ["max_es_spread"] = thresholds.MaxEsSpread,
            ["max_wasserstein"] = thresholds.MaxWasserstein,
            ["flagged"] = result.Flagged,
            ["report_sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        }, FileRequest.Actor(context))[^1];
        await FileRequest.WriteJsonAsync(context, bytes, receipt.Seq, manifest.RunId).ConfigureAwait(false);
    }

    // the request's values, field by field: the rules the CLI checks on its options, and names that make safe file names
    private static Dictionary<string, string[]> Validate(EnsembleRequest? r)
    {
        var inv = CultureInfo.InvariantCulture;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var scenarios = r?.Scenarios;
        if (scenarios is null || scenarios.Count < 2)
            errors["scenarios"] = [string.Create(inv, $"at least two members, got {scenarios?.Count ?? 0}")];
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // NAME.csv files in one folder
        for (int i = 0; i < (scenarios?.Count ?? 0); i++)
        {
            var m = scenarios![i];
            var at = string.Create(inv, $"scenarios[{i}]");
            if (m is null)
            {
                errors[at] = ["required"];
                continue;
            }

            if (string.IsNullOrEmpty(m.Name)) errors[at + ".name"] = ["required"];
            else if (m.Name.Length > MaxNameLength || !m.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                errors[at + ".name"] = [string.Create(inv, $"1 to {MaxNameLength} characters of A-Z, a-z, 0-9, '.', '_', '-'")];
            else if (!seen.Add(m.Name)) errors[at + ".name"] = [$"'{m.Name}' is named twice (names are compared ignoring case)"];
            if (string.IsNullOrEmpty(m.Csv)) errors[at + ".csv"] = ["required"];
        }

        if (r?.Portfolio is not { } p) errors["portfolio"] = ["required"];
        else if (p.ValueKind != JsonValueKind.Object) errors["portfolio"] = [$"must be a JSON object, got {p.ValueKind.ToString().ToLowerInvariant()}"];
        if (r?.Alpha is { } a && !(a > 0 && a < 1)) errors["alpha"] = [string.Create(inv, $"must be in (0, 1), got {a}")];
        if (r?.MaxEsSpread is { } s && !(s > 0)) errors["max_es_spread"] = [string.Create(inv, $"must be positive, got {s}")];
        if (r?.MaxWasserstein is { } w && !(w > 0)) errors["max_wasserstein"] = [string.Create(inv, $"must be positive, got {w}")];
        return errors;
    }

    // the field of the file an input error names: portfolio.json is the portfolio, NAME.csv its member's csv, NAME.meta.json its meta
    private static string Field(InvalidInputException e, EnsembleScenario[] members)
    {
        if (e.Location?.File is not { } file) return "scenarios";
        var name = Path.GetFileName(file);
        if (name == "portfolio.json") return "portfolio";
        int j = Array.FindIndex(members, m => m.Name + ".meta.json" == name);
        if (j >= 0) return string.Create(CultureInfo.InvariantCulture, $"scenarios[{j}].meta");
        int i = Array.FindIndex(members, m => m.Name + ".csv" == name);
        return i < 0 ? "scenarios" : string.Create(CultureInfo.InvariantCulture, $"scenarios[{i}].csv");
    }

    private static Task Invalid(HttpContext context, Dictionary<string, string[]> errors) => FileRequest.InvalidAsync(context, "ensemble", errors);
}
