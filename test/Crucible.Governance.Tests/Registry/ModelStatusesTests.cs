using Crucible.Governance.Registry;

namespace Crucible.Governance.Tests.Registry;

public sealed class ModelStatusesTests
{
    [Fact]
    public void TheWireNames_AreTheLifeCyclesNames_AndReadBack()
    {
        Assert.Equal([ModelStatus.Candidate, ModelStatus.Validated, ModelStatus.Promoted, ModelStatus.Retired], ModelStatuses.All);
        Assert.Equal(["candidate", "validated", "promoted", "retired"], ModelStatuses.All.Select(s => s.WireName()));
        foreach (var s in ModelStatuses.All) Assert.Equal(s, ModelStatuses.FromWireName(s.WireName()));
        Assert.Null(ModelStatuses.FromWireName("Validated")); // the log's names are lower case: no other spelling reads
        Assert.Null(ModelStatuses.FromWireName(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ModelStatus)9).WireName());
    }
}
