using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// RELIABILITY CSV-1: every §6.2 fixture's whole data-quality report (outcome, counts, every error and warning with its
/// rule, line, column and message, repairs) under the default strict options, and the opt-in variants §6.2 names (a
/// listed NA token, de-duplication, sorting, a declared thousands separator), checked against one golden JSON file,
/// <c>TestData/golden/fixture-reports.json</c>. CsvFixtureTests checks each class's declared outcome by hand; this test
/// pins the rest of every report, so a change to any message, count or rule shows up as a diff of that file. After an
/// intended change, regenerate with <c>CRUCIBLE_UPDATE_GOLDEN=1</c> (it rewrites the committed file) and review the diff.
/// </summary>
public class CsvFixtureGoldenTests
{
    private const string GoldenName = "fixture-reports.json";

    /// <summary>(key in the golden file, fixture, options); class 16's export escaping is not a read (CsvFixtureTests.Class16_ExportEscapesTextCells_NotNumbers).</summary>
    private static IEnumerable<(string Key, string Fixture, CsvReadOptions Options)> Cases()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "TestData"), "*.csv").Select(Path.GetFileName).Order(StringComparer.Ordinal))
            yield return (file!, file!, new CsvReadOptions());
        yield return ("01_missing_na_token.csv with NA listed, kept", "01_missing_na_token.csv",
            new CsvReadOptions { MissingTokens = new HashSet<string> { "", "NA" }, Missing = MissingValuePolicy.Keep });
        yield return ("03_duplicate_exact.csv with drop_exact_duplicates", "03_duplicate_exact.csv", new CsvReadOptions { DropExactDuplicates = true });
        yield return ("04_unsorted.csv with sort_by_date", "04_unsorted.csv", new CsvReadOptions { SortByDate = true });
        yield return ("15_thousands.csv with thousands ','", "15_thousands.csv",
            new CsvReadOptions { ThousandsSeparator = ',', ColumnDomains = new Dictionary<string, ColumnDomain> { ["Volume"] = ColumnDomain.NonNegative } });
    }

    private static string Actual()
    {
        var all = new JsonObject();
        foreach (var (key, fixture, options) in Cases())
        {
            var report = CsvSeriesReader.Validate(TestFiles.Fixture(fixture), options);
            Assert.True(report.Reconciles, $"{key}: rows_in {report.RowsIn} != accepted {report.Accepted} + rejected {report.Rejected}");
            // the report names the file by the path it was given: the golden file holds the fixture's name instead
            all[key] = JsonNode.Parse(report.ToJson().Replace(JsonValue.Create(TestFiles.Fixture(fixture)).ToJsonString()[1..^1], fixture, StringComparison.Ordinal));
        }

        return all.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";
    }

    // RELIABILITY MRM-8
    [Fact]
    public void EveryFixtureClass_GivesItsGoldenReport()
    {
        var actual = Actual();
        if (Environment.GetEnvironmentVariable("CRUCIBLE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceFolder(), "..", "TestData", "golden", GoldenName), actual, new UTF8Encoding(false));
            return;
        }

        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "golden", GoldenName));
        if (expected == actual) return;
        // the first differing line, with its neighbours, instead of two 1,000-line strings
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        var i = 0;
        while (i < Math.Min(e.Length, a.Length) && e[i] == a[i]) i++;
        Assert.Fail($"{GoldenName} differs from line {i + 1}:\n  golden: {string.Join("\n          ", e.Skip(Math.Max(0, i - 2)).Take(5))}\n  actual: {string.Join("\n          ", a.Skip(Math.Max(0, i - 2)).Take(5))}");
    }

    [Fact]
    public void TheGoldenFile_CoversEvery16FixtureClass_AndTheOptInVariants()
    {
        var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "golden", GoldenName)))!.AsObject();
        var classes = golden.Select(p => p.Key).Where(k => char.IsAsciiDigit(k[0])).Select(k => int.Parse(k[..2], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Equal(Enumerable.Range(1, 16), classes.Order());
        Assert.Equal(Cases().Select(c => c.Key), golden.Select(p => p.Key));
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
