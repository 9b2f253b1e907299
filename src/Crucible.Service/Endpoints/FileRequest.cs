using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Governance;
using Crucible.Governance.Manifests;
using Crucible.Service.Problems;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Crucible.Service.Endpoints;

/// <summary>
/// What the endpoints that run a CLI command on files sent inline share (<c>/v1/evaluations</c>, <c>/v1/ensembles</c>):
/// a scratch folder in the home where the request's files are written under the names the CLI would see (so errors name
/// the file with line and column, and members are named as the CLI names them), deleted when the request ends (the
/// service's start-up deletes those a killed process left, <see cref="ScratchFolders"/>); the 422 answer; and the JSON
/// answer with its audit sequence number and run id.
/// </summary>
internal sealed class FileRequest : IDisposable
{
    private FileRequest(string folder) => Folder = folder;

    /// <summary>The scratch folder, <c>HOME/evaluations/&lt;32 hex&gt;</c>.</summary>
    public string Folder { get; }

    /// <summary>
    /// Maps <c>POST</c> <paramref name="pattern"/> as every such endpoint is mapped: the read scope, a generation slot for
    /// the whole request (<see cref="GenerationSlots.RequireSlot"/>), a JSON <typeparamref name="TRequest"/> body, a JSON
    /// 200 answer and the 400, 413, 422 and 429 problems.
    /// </summary>
    public static RouteHandlerBuilder MapPost<TRequest>(RouteGroupBuilder v1, string pattern, Delegate handler, string name, string summary)
        where TRequest : notnull =>
        GenerationSlots.RequireSlot(v1.MapPost(pattern, handler))
            .RequireAuthorization(ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Read)
            .Accepts<TRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName(name)
            .WithSummary(summary);

    /// <summary>Creates the scratch folder of one request.</summary>
    public static FileRequest Create(CrucibleHome home)
    {
        var folder = Path.Combine(home.Root, "evaluations", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return new FileRequest(folder);
    }

    /// <summary>
    /// Writes <paramref name="text"/> as <paramref name="name"/> in the scratch folder (atomically); returns its path and its
    /// run-manifest entry (the bytes the CLI would read).
    /// </summary>
    public (string Path, ManifestFile Entry) Put(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        return (path, WriteNamed(path, text));
    }

    /// <summary>
    /// Writes a CSV's metadata <paramref name="meta"/> (an object, or its JSON text as a string) as <c>NAME.meta.json</c>
    /// beside <c>NAME.csv</c>, where the reader looks for it (Crucible.Evaluation.ScenarioSidecar); returns its run-manifest
    /// entry, or null (nothing written) when the request gave none.
    /// </summary>
    public ManifestFile? PutMeta(string name, JsonElement? meta) =>
        meta is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } m
            ? Put(name + ".meta.json", m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText()).Entry
            : null;

    /// <summary>
    /// Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically and returns the run-manifest
    /// entry of those bytes under the file's name, hashed from memory rather than read back.
    /// </summary>
    public static ManifestFile WriteNamed(string path, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        AtomicFile.WriteAllBytes(path, bytes);
        return ManifestFile.Named(System.IO.Path.GetFileName(path), bytes);
    }

    /// <summary>The user message of an input error, with the scratch folder's path removed (the client sees <c>NAME:LINE:COL</c>).</summary>
    public string MessageOf(InvalidInputException e) => MessageOf(e, Folder);

    /// <summary>The user message of an input error, with <paramref name="folder"/>'s path removed (the client sees <c>NAME:LINE:COL</c>).</summary>
    public static string MessageOf(InvalidInputException e, string folder)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.ToUserMessage().Replace(folder + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
    }

    /// <summary>Deletes the scratch folder.</summary>
    public void Dispose() => Directory.Delete(Folder, recursive: true);

    /// <summary>The audit actor of the request: <c>key:KEY_ID</c>.</summary>
    public static string Actor(HttpContext context) => "key:" + context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value;

    /// <summary>A 422 whose <c>errors</c> map each field to its rules; <paramref name="what"/> names the request (e.g. "evaluation").</summary>
    public static Task InvalidAsync(HttpContext context, string what, Dictionary<string, string[]> errors)
    {
        var problem = ProblemTypes.Create(422, $"the {what} request has invalid values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        problem.Extensions["errors"] = errors;
        return ProblemTypes.WriteAsync(context, problem);
    }

    /// <summary>
    /// Answers 200 with the JSON <paramref name="bytes"/> (the CLI's file, byte for byte: the run id cannot be a field of
    /// it), the audit entry's sequence number in <c>X-Crucible-Audit-Seq</c> and the run in <c>Crucible-Run-Id</c>.
    /// </summary>
    public static Task WriteJsonAsync(HttpContext context, byte[] bytes, long auditSeq, string runId)
    {
        context.Response.Headers["X-Crucible-Audit-Seq"] = auditSeq.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[RunEndpoints.RunIdHeader] = runId;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
