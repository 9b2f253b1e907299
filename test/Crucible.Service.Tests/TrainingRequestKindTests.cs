using Crucible.Diffusion;
using Crucible.Service.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// A training request's <c>kind</c> stays a string on the wire, read by <see cref="ModelKinds.FromWireName"/>: the two wire
/// names give a <see cref="ValidTrainingRequest"/> of that <see cref="ModelKind"/>, and any other value (another case
/// included) is the 422 it was, worded as before.
/// </summary>
public sealed class TrainingRequestKindTests
{
    [Fact]
    public void TheWireNames_GiveTheirKind_TabularByDefault()
    {
        var (errors, valid) = TrainingValidation.Check(new TrainingRequest { DataCsv = "x" });
        Assert.Empty(errors);
        Assert.Equal(ModelKind.Tabular, valid!.Kind);
        Assert.Equal("tabular", new TrainingRequest().Kind);
        (errors, valid) = TrainingValidation.Check(new TrainingRequest { DataCsv = "x", Kind = "sequence" });
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => e.Key + ": " + string.Join(", ", e.Value))));
        Assert.Equal(ModelKind.Sequence, valid!.Kind);
        Assert.NotNull(valid.Sequence);
    }

    [Theory]
    [InlineData("regime")]
    [InlineData("Tabular")]
    [InlineData("")]
    public void AnotherKind_IsA422_NamingIt(string kind)
    {
        var (errors, valid) = TrainingValidation.Check(new TrainingRequest { DataCsv = "x", Kind = kind });
        Assert.Null(valid);
        Assert.Equal([$"must be tabular or sequence, got '{kind}'"], errors["kind"]);
    }

    [Fact]
    public void ASequenceField_OnATabularRequest_NamesTheSequenceKind()
    {
        var (errors, _) = TrainingValidation.Check(new TrainingRequest { DataCsv = "x", Window = 5 });
        Assert.Equal(["applies to kind sequence only"], errors["window"]);
    }
}
