using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance.Registry;
using Crucible.Service.Problems;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Crucible.Service.Endpoints;

/// <summary>A registered model as listed by <c>GET /v1/models</c>.</summary>
/// <param name="Id">The model id (SHA-256 of the weights).</param>
/// <param name="Status">candidate, validated, promoted or retired (from the audit log).</param>
/// <param name="RegisteredSeq">The audit entry that registered it.</param>
/// <param name="ManifestSha256">SHA-256 of the registered manifest.</param>
/// <param name="Kind">The generator kind (tabular, sequence), from the manifest; null when it cannot be read.</param>
/// <param name="Columns">The series it generates.</param>
/// <param name="LibraryVersion">The Crucible version that trained it.</param>
/// <param name="DiffusionSteps">T.</param>
/// <param name="Private">Whether it was trained with DP-SGD.</param>
public sealed record ModelSummary(
    string Id, string Status, long RegisteredSeq, string ManifestSha256, string? Kind, IReadOnlyList<string> Columns,
    string? LibraryVersion, int? DiffusionSteps, bool Private);

/// <summary>One model with its manifest, for <c>GET /v1/models/{id}</c>.</summary>
/// <param name="Model">The summary.</param>
/// <param name="Manifest">The registered <c>manifest.json</c> as stored (read from the shared store on a replica that has not loaded the model yet).</param>
public sealed record ModelDetail(ModelSummary Model, JsonNode? Manifest);

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the home's model registry.</summary>
public static class ModelEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(RouteGroupBuilder v1)
    {
        var read = ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Read;
        v1.MapGet("/models", (ModelCatalog catalog) => TypedResults.Ok(new { models = catalog.Registry.List().Select(m => Summarise(catalog, m)).ToList() }))
            .RequireAuthorization(read)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithName("ListModels")
            .WithSummary("List the registered models with their status");
        v1.MapGet("/models/{id}", (string id, ModelCatalog catalog) =>
            {
                var record = catalog.Registry.Find(id);
                if (record is null)
                    return Results.Problem(ProblemTypes.Create(404, "no registered model has this id (ids are 64 lower-case hex digits)"));
                return Results.Ok(new ModelDetail(Summarise(catalog, record), ReadManifest(catalog, record)));
            })
            .RequireAuthorization(read)
            .Produces<ModelDetail>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetModel")
            .WithSummary("One registered model and its manifest");
    }

    private static ModelSummary Summarise(ModelCatalog catalog, ModelRecord m)
    {
        var manifest = ReadManifest(catalog, m);
        var cols = manifest?["columns"] is JsonArray a ? a.Select(c => c?.GetValue<string>() ?? "").ToList() : [];
        return new ModelSummary(
            m.Id, m.Status.WireName(), m.RegisteredSeq, m.ManifestSha256,
            manifest?["kind"]?.GetValue<string>(), cols, manifest?["library_version"]?.GetValue<string>(),
            manifest?["schedule"]?["diffusion_steps"]?.GetValue<int>(), manifest?["privacy"] is not null);
    }

    // the model's folder, or the shared store on a replica that has not written the folder yet (every replica answers alike)
    private static JsonNode? ReadManifest(ModelCatalog catalog, ModelRecord m)
    {
        try
        {
            return catalog.Registry.ReadManifest(m) is { } bytes ? JsonNode.Parse(bytes) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
