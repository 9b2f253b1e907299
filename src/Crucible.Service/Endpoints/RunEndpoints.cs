using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Service.Problems;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Crucible.Service.Endpoints;

/// <summary>
/// <c>GET /v1/runs/{id}</c>: the lineage manifest (MRM-2, <see cref="RunManifest"/>, the format <c>crucible train</c> and
/// <c>generate</c> write to <c>HOME/runs/</c>) of a run of the service: a training job, a scenario, evaluation or ensemble
/// request. Each run stores its manifest in the audit log's database (<c>runs</c>, SQLite or the shared PostgreSQL) in
/// the transaction of the <c>run.completed</c> entry that pins its SHA-256, so every replica answers for every run with
/// the same canonical JSON bytes. A run's answer names its id (<c>run_id</c>, and the <see cref="RunIdHeader"/> header).
/// </summary>
public static class RunEndpoints
{
    /// <summary>The response header that names the run of an answer (the only place where the body is CSV or the CLI's bytes).</summary>
    public const string RunIdHeader = "Crucible-Run-Id";

    /// <summary>The name of the request body among a run's inputs.</summary>
    public const string RequestInput = "request";

    /// <summary>The name of the response body among a run's outputs.</summary>
    public const string ResponseOutput = "response";

    /// <summary>Maps the endpoint.</summary>
    public static void Map(RouteGroupBuilder v1) =>
        v1.MapGet("/runs/{id}", (string id, AuditLog audit) =>
                audit.ReadRunManifest(id) is { } manifest
                    ? Results.Bytes(manifest, "application/json")
                    : Results.Problem(ProblemTypes.Create(404, "no run has this id (a run's answer names it: run_id, or the Crucible-Run-Id header)")))
            .RequireAuthorization(ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Read)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetRun")
            .WithSummary("A run's lineage manifest (MRM-2): the canonical JSON whose SHA-256 its run.completed audit entry holds");

    /// <summary>Starts the manifest of a run whose request body was <paramref name="body"/> (recorded as the input <c>request</c>).</summary>
    internal static RunManifestBuilder Start(CrucibleHome home, RunKind kind, System.Text.Json.Nodes.JsonObject config, ulong seed, byte[] body) =>
        RunManifests.Start(home, kind, config, seed).AddInput(ManifestFile.Named(RequestInput, body));
}
