using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// <see cref="PrivacyAuditEntry"/>: the <c>privacy</c> object of an <c>evaluation.completed</c> entry (RELIABILITY PRIV-9),
/// the one function crucible evaluate and the service call; the shells' tests pin the entries they append.
/// </summary>
public sealed class PrivacyAuditEntryTests
{
    private static readonly SeriesSet Real = Fixtures.Load("real.csv"), Synthetic = Fixtures.Load("synthetic.csv"), Train = Fixtures.Load("train.csv");

    [Fact]
    public void Of_HashesThePrivacyBytesAsTheyStandInTheReport_AndRecordsTheSubsample()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Real, Synthetic, Train), new EvaluationOptions { Utility = false, PrivacyRows = 150 });
        var bytes = Encoding.UTF8.GetBytes(ReportJson.ToJson(report));
        var entry = PrivacyAuditEntry.Of(report, bytes)!;

        using var doc = JsonDocument.Parse(bytes);
        var section = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("privacy").GetRawText());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(section)), entry["privacy_sha256"]!.GetValue<string>());
        Assert.Equal(report.Privacy!.Audit!.Split.HoldoutSha256, entry["holdout_sha256"]!.GetValue<string>());
        Assert.Equal(
            """{"limit":150,"seed":"0","train":{"rows":300,"drawn":150},"holdout":{"rows":400,"drawn":150},"synthetic":{"rows":500,"drawn":150}}""",
            entry["subsample"]!.ToJsonString());

        // the hash is of the bytes given: another byte in the privacy object is another hash
        var edited = Encoding.UTF8.GetBytes(ReportJson.ToJson(report).Replace("\"share_within_bound\": ", "\"share_within_bound\":  ", StringComparison.Ordinal));
        Assert.NotEqual(entry["privacy_sha256"]!.GetValue<string>(), PrivacyAuditEntry.Of(report, edited)!["privacy_sha256"]!.GetValue<string>());
    }

    [Fact]
    public void Of_EveryRow_HasNoSubsample_AndWithoutATrainSetIsNull()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Real, Synthetic, Train), new EvaluationOptions { Utility = false });
        var entry = PrivacyAuditEntry.Of(report, Encoding.UTF8.GetBytes(ReportJson.ToJson(report)))!;
        Assert.False(entry.ContainsKey("subsample"));

        var noTrain = Evaluator.Evaluate(new EvaluationInput(Real, Synthetic), new EvaluationOptions());
        Assert.Null(PrivacyAuditEntry.Of(noTrain, Encoding.UTF8.GetBytes(ReportJson.ToJson(noTrain))));
    }

    [Fact]
    public void Of_ReportJsonWithoutAPrivacyObject_Throws()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Real, Synthetic, Train), new EvaluationOptions { Utility = false });
        var e = Assert.Throws<ArgumentException>(() => PrivacyAuditEntry.Of(report, """{"ks_mean": 0.1}"""u8));
        Assert.Equal("reportJson", e.ParamName);
    }
}
