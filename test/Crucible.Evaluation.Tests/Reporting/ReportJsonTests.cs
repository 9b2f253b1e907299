using System.Globalization;
using System.Text.Json;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

public class ReportJsonTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    [Fact]
    public void ToJson_HasTheArchitectureKeys_InOrder()
    {
        using var doc = JsonDocument.Parse(ReportJson.ToJson(fixture.Report));
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["columns", "alpha", "ks_mean", "ks_max", "wasserstein_mean", "corr_distance", "lower_tail_dependence", "per_series", "privacy"],
            keys.Take(9));
        var series = doc.RootElement.GetProperty("per_series").GetProperty("EQ_US");
        foreach (var k in new[] { "ks", "wasserstein", "mean", "std", "skewness", "excess_kurtosis", "acf", "acf_abs", "var", "es", "max_drawdown" })
            Assert.True(series.TryGetProperty(k, out _), k);
        Assert.Equal(2, series.GetProperty("mean").GetArrayLength());
        Assert.Equal(20, series.GetProperty("acf")[1].GetArrayLength());
        foreach (var k in new[] { "dcr_train_median", "dcr_train_p05", "dcr_holdout_median", "share_closer_to_train" })
            Assert.True(doc.RootElement.GetProperty("privacy").TryGetProperty(k, out _), k);
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("per_series")]
    [InlineData("warnings")]
    public void ToJson_ASectionKeyThatIsOneOfTheReportsOwn_IsRefused_NotWrittenTwice(string key)
    {
        // report.json held the key twice (the report's and the section's), which a reader takes either way
        var report = key == "warnings" ? fixture.Report with { Warnings = ["a warning"] } : fixture.Report;
        var e = Assert.Throws<ArgumentException>(() => ReportJson.ToJson(report, sections: [new ReportSection(key, "{}", "<section></section>")]));
        Assert.Contains($"'{key}'", e.Message, StringComparison.Ordinal);
        var twice = new ReportSection("extra", "{}", "<section></section>");
        Assert.Throws<ArgumentException>(() => ReportJson.ToJson(fixture.Report, sections: [twice, twice]));
        using var fine = JsonDocument.Parse(ReportJson.ToJson(fixture.Report, sections: [twice]));
        Assert.Equal(JsonValueKind.Object, fine.RootElement.GetProperty("extra").ValueKind);
    }

    [Fact]
    public void ToJson_IsCultureInvariant_AndRoundTripsDoubles()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var json = ReportJson.ToJson(fixture.Report);
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            Assert.Equal(ReportJson.ToJson(fixture.Report), json);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal(fixture.Report.CorrDistance, doc.RootElement.GetProperty("corr_distance").GetDouble());
            Assert.Equal(fixture.Report.PerSeries[2].Acf.Synthetic[7],
                doc.RootElement.GetProperty("per_series").GetProperty("EQ_JP").GetProperty("acf")[1][7].GetDouble());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void FormatNumber_WritesNullForNonFinite()
    {
        Assert.Equal("null", ReportJson.FormatNumber(double.NaN));
        Assert.Equal("null", ReportJson.FormatNumber(double.PositiveInfinity));
        Assert.Equal("0.1", ReportJson.FormatNumber(0.1));
        Assert.Equal("1E-05", ReportJson.FormatNumber(1e-5));
    }

    [Fact]
    public void Write_ReplacesTheFileAtomically_LeavingNoTemporaryFiles()
    {
        var dir = Directory.CreateTempSubdirectory("crucible-eval-");
        try
        {
            var path = Path.Combine(dir.FullName, "out", "report.json");
            ReportJson.Write(fixture.Report, path);
            ReportJson.Write(fixture.ScenarioReport, path);
            Assert.Equal(ReportJson.ToJson(fixture.ScenarioReport), File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(Path.Combine(dir.FullName, "out")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ScenarioReport_HasNoPrivacySection_WithoutTrain()
    {
        using var doc = JsonDocument.Parse(ReportJson.ToJson(fixture.ScenarioReport));
        Assert.False(doc.RootElement.TryGetProperty("privacy", out _));
        Assert.Equal(12, doc.RootElement.GetProperty("rows").GetProperty("synthetic_paths").GetInt32());
    }
}
