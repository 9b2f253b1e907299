using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Governance.Audit;
using Crucible.Service.Problems;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Crucible.Service.Endpoints;

/// <summary>An audit entry as <c>GET /v1/audit</c> lists it.</summary>
/// <param name="Seq">The sequence number.</param>
/// <param name="Timestamp">RFC 3339 UTC.</param>
/// <param name="Kind">The wire name (<c>scenarios.generated</c>, …).</param>
/// <param name="Actor">Who (a user, or <c>key:ID</c> for the service).</param>
/// <param name="Payload">The canonical JSON payload.</param>
/// <param name="PrevHash">The previous entry's hash (hex).</param>
/// <param name="EntryHash">This entry's hash (hex).</param>
public sealed record AuditEntryView(long Seq, string Timestamp, string Kind, string Actor, JsonNode? Payload, string PrevHash, string EntryHash);

/// <summary>A page of the audit log.</summary>
/// <param name="Entries">The entries.</param>
/// <param name="Next">The <c>from</c> of the next page, or null at the end.</param>
public sealed record AuditPage(IReadOnlyList<AuditEntryView> Entries, long? Next);

/// <summary>The outcome of <c>GET /v1/audit/verify</c> (200 whether or not the log verifies: read <c>ok</c>).</summary>
/// <param name="Ok">Whether the log verified.</param>
/// <param name="Problem">What failed first (<c>none</c> when it verified).</param>
/// <param name="FirstBadSeq">The first entry that cannot be trusted.</param>
/// <param name="CheckpointSeq">The checkpoint involved.</param>
/// <param name="Entries">Entries read.</param>
/// <param name="CheckpointsChecked">Checkpoints checked.</param>
/// <param name="Message">One line.</param>
/// <param name="Findings">Every independent problem verification established, the first being the one above (empty when it verified),
/// as <c>crucible audit verify --json</c>'s <c>findings</c>: a log cut short below a tampered checkpoint reports both.</param>
public sealed record AuditVerifyView(bool Ok, string Problem, long? FirstBadSeq, long? CheckpointSeq, long Entries, int CheckpointsChecked, string Message,
    IReadOnlyList<AuditFindingView> Findings)
{
    /// <summary>The view of a verification result.</summary>
    public static AuditVerifyView From(AuditVerification v) =>
        new(v.Ok, ProblemName(v.Problem), v.FirstBadSeq, v.CheckpointSeq, v.Entries, v.CheckpointsChecked, v.Message,
            [.. v.Findings.Select(f => new AuditFindingView(ProblemName(f.Problem), f.FirstBadSeq, f.CheckpointSeq, f.Message))]);

    private static string ProblemName(AuditProblem p) => p.ToString().ToLowerInvariant();
}

/// <summary>One finding of <c>GET /v1/audit/verify</c>.</summary>
/// <param name="Problem">What failed (lower case, as <see cref="AuditVerifyView.Problem"/>).</param>
/// <param name="FirstBadSeq">The first entry it makes untrustworthy.</param>
/// <param name="CheckpointSeq">The checkpoint involved, when one is.</param>
/// <param name="Message">One line.</param>
public sealed record AuditFindingView(string Problem, long? FirstBadSeq, long? CheckpointSeq, string Message);

/// <summary><c>GET /v1/audit</c> and <c>GET /v1/audit/verify</c>.</summary>
public static class AuditEndpoints
{
    /// <summary>The largest page.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(RouteGroupBuilder v1)
    {
        var read = ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Read;
        // from and limit are read here, not bound by the framework: a value that is not an integer (from=abc) was the
        // framework's 400 with a generic detail that named neither parameter
        PageParameters.AsIntegers(v1.MapGet("/audit", (AuditLog log, string? from, string? limit) =>
            {
                var query = new PageParameters("the audit page request");
                var start = query.From(from);
                var take = query.Limit(limit, MaxLimit);
                if (query.Problem() is { } problem) return problem;
                var entries = log.List(start, take + 1);
                var page = entries.Take(take).Select(e => new AuditEntryView(
                    e.Seq, e.TimestampUtc, e.Kind, e.Actor, JsonNode.Parse(e.Payload),
                    Convert.ToHexStringLower(e.PrevHash), e.EntryHashHex)).ToList();
                return Results.Ok(new AuditPage(page, entries.Count > take ? entries[take].Seq : null));
            }), "from", "limit") // read as text, not bound by the framework, but integers: documented as such
            .RequireAuthorization(read)
            .Produces<AuditPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("ListAudit")
            .WithSummary("A page of the audit log (from, limit ≤ 1000)");
        v1.MapGet("/audit/verify", (AuditLog log) =>
            {
                return TypedResults.Ok(AuditVerifyView.From(log.VerifyStored()));
            })
            .RequireAuthorization(read)
            .WithName("VerifyAudit")
            .WithSummary("Verify the hash chain, links and signed checkpoints of the audit log");
    }
}
