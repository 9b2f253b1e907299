using System.CommandLine;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Commands;

/// <summary>
/// The <c>--json</c> result of <c>train</c>, <c>generate</c>, <c>evaluate</c>, <c>stress</c>, <c>ensemble</c>,
/// <c>compare</c>, <c>backtest</c>, <c>baseline</c>, <c>model-card</c>, <c>model register</c>, <c>model status</c> and
/// <c>benchmark stocks</c>, for schedulers: on success one JSON
/// document (snake_case keys, invariant numbers, full ids, absolute paths) is the whole of stdout, and the human summary
/// lines go to stderr beside the warnings and the progress bar; on an error nothing is printed on stdout and the exit
/// code and the stderr line are those of the run without <c>--json</c>, as for <c>audit verify --json</c>.
/// </summary>
internal static class JsonResult
{
    /// <summary>A new <c>--json</c> option for a run command.</summary>
    public static Option<bool> Create() => new("--json")
    {
        Description = "Print the result as one JSON document on stdout (ids, absolute paths, run manifest); the summary lines go to stderr",
    };

    /// <summary>Where the human summary goes: <paramref name="output"/>, or stderr when the result is printed as JSON.</summary>
    public static TextWriter SummaryWriter(bool json, TextWriter output) => json ? Console.Error : output;

    /// <summary>A path as an absolute path (null stays null).</summary>
    public static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    /// <summary>A figure, or null when it is not finite (JSON has no NaN).</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>Strings as a JSON array.</summary>
    public static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

    /// <summary>
    /// Adds the run a command recorded to <paramref name="document"/>: <c>run_id</c>, <c>run_manifest</c> (absolute),
    /// <c>audit_seq</c> (the <c>run.completed</c> entry that pins the manifest) and <c>audit_database</c> (absolute; null
    /// when a PostgreSQL store keeps the entries).
    /// </summary>
    public static JsonObject WithRun(JsonObject document, string runId, string runManifest, AuditReceipt receipt, RunStore store)
    {
        document["run_id"] = runId;
        document["run_manifest"] = Full(runManifest);
        document["audit_seq"] = receipt.Seq;
        document["audit_database"] = store.AuditDatabase;
        return document;
    }

    /// <summary>Writes <paramref name="document"/> as one line to <paramref name="output"/>.</summary>
    public static void Write(TextWriter output, JsonObject document) => output.WriteLine(document.ToJsonString());
}
