using Crucible.Governance.Audit;
using Crucible.Service.Endpoints;

namespace Crucible.Service.Tests;

/// <summary><c>GET /v1/audit/verify</c> lists every finding, as <c>crucible audit verify --json</c> does.</summary>
public sealed class AuditVerifyViewTests
{
    [Fact]
    public void From_KeepsEveryFinding_InOrder_FirstBeingTheProblem()
    {
        // a cut log with a tampered checkpoint below the cut: the signature at checkpoint 8, then the truncation
        var v = new AuditVerification(AuditProblem.Signature, 5, 8, 14, 3, "checkpoint 8's signature does not verify")
        {
            Findings =
            [
                new AuditFinding(AuditProblem.Signature, 5, 8, "checkpoint 8's signature does not verify"),
                new AuditFinding(AuditProblem.Truncation, 15, 20, "entries 15..20 are missing"),
            ],
        };

        var view = AuditVerifyView.From(v);

        Assert.False(view.Ok);
        Assert.Equal("signature", view.Problem);
        Assert.Equal(5, view.FirstBadSeq);
        Assert.Equal(["signature", "truncation"], view.Findings.Select(f => f.Problem));
        Assert.Equal([5L, 15L], view.Findings.Select(f => f.FirstBadSeq!.Value));
        Assert.Equal([8L, 20L], view.Findings.Select(f => f.CheckpointSeq!.Value));
        Assert.Equal("entries 15..20 are missing", view.Findings[1].Message);
    }

    [Fact]
    public void From_AVerifiedLog_HasNoFindings()
    {
        var view = AuditVerifyView.From(new AuditVerification(AuditProblem.None, null, null, 9, 12, "ok"));
        Assert.True(view.Ok);
        Assert.Equal("none", view.Problem);
        Assert.Empty(view.Findings);
    }
}
