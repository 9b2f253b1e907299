using System.Diagnostics;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible data check</c> end to end, in a child process of the built CLI: exit code, rule, location,
/// no stack trace, and no confidential values unless <c>--show-values</c>.
/// </summary>
public class DataCheckCommandTests
{
    private static string Fixture(string name) => TestRepo.Fixture("Crucible.Data.Tests", name);

    private static (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(args);

    public static TheoryData<string, int, string> Fixtures => new()
    {
        { "01_missing_na_token.csv", 2, "3:2: error [CSV-E-NUM]" },
        { "01_missing_empty.csv", 2, "4:3: error [CSV-E-MISSING]" },
        { "02_non_trading_days.csv", 0, "4:1: warning [CSV-W-WEEKEND]" },
        { "03_duplicate_exact.csv", 2, "4:1: error [CSV-E-DUPDATE]" },
        { "03_duplicate_conflict.csv", 2, "4:1: error [CSV-E-DUPDATE]: conflicting duplicate date 2020-01-03: lines 3 and 4" },
        { "04_unsorted.csv", 2, "4:1: error [CSV-E-UNSORTED]" },
        { "05_nonpositive_price.csv", 2, "4:2: error [CSV-E-DOMAIN]" },
        { "06_split_jump.csv", 2, "4:2: error [CSV-E-SPLIT]" },
        { "07_nan_inf.csv", 2, "3:2: error [CSV-E-NONFINITE]" },
        { "08_mixed_decimal.csv", 2, "1:1: error [CSV-E-HEADER]" },
        { "09_utf8_bom.csv", 0, "result:    usable" },
        { "09_utf16.csv", 2, "1:0: error [CSV-E-ENCODING]" },
        { "09_latin1_header.csv", 2, "1:3: error [CSV-E-ENCODING]" },
        { "09_invalid_utf8_value.csv", 2, "3:3: error [CSV-E-ENCODING]" },
        { "10_unterminated_quote.csv", 2, "3:2: error [CSV-E-QUOTE]" },
        { "10_huge_field.csv", 2, "3:2: error [CSV-E-FIELDLEN]" },
        { "11_ragged.csv", 2, "3:0: error [CSV-E-FIELDS]: expected 3 fields, saw 4" },
        { "12_ohlc.csv", 2, "3:3: error [CSV-E-OHLC]" },
        { "13_ambiguous_date.csv", 2, "3:1: error [CSV-E-DATE]" },
        { "13_timezone_suffix.csv", 2, "3:1: error [CSV-E-DATE]" },
        { "14_crlf_trailing.csv", 0, "result:    usable" },
        { "14_cr_only.csv", 0, "result:    usable" },
        { "14_repeated_header.csv", 2, "4:0: error [CSV-E-HEADER]" },
        { "15_thousands.csv", 2, "2:3: error [CSV-E-THOUSANDS]" },
        { "16_injection.csv", 2, "3:2: error [CSV-E-NUM]" },
    };

    // RELIABILITY CSV-2
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DataCheck_Fixture_ExitCodeAndRule(string fixture, int exit, string expected)
    {
        var (code, stdout, stderr) = Crucible("data", "check", "--data", Fixture(fixture));
        Assert.Equal(exit, code);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
        if (exit == 2) Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DataCheck_RepairOptions_MakeFilesUsable_AndAreCounted()
    {
        var (code, stdout, _) = Crucible("data", "check", "--data", Fixture("03_duplicate_exact.csv"), "--dedupe");
        Assert.Equal(0, code);
        Assert.Contains("repairs:   drop_exact_duplicates=1", stdout, StringComparison.Ordinal);
        Assert.Contains("rows in:   4 = accepted 3 + rejected 1 (errors 0, dropped by repair 1)", stdout, StringComparison.Ordinal);
    }

    // --sort and --dedupe work by date; with --no-date there is none, and both were silently ignored (exit 0, the rows left
    // unsorted and the duplicates kept, "repairs: none"); the combination is refused before the file is read
    [Theory]
    [InlineData("--sort", "--sort needs")]
    [InlineData("--dedupe", "--dedupe needs")]
    [InlineData("--sort --dedupe", "--sort and --dedupe need")]
    public void DataCheck_SortOrDedupe_WithNoDate_IsRefused(string repairs, string names)
    {
        var path = Path.Combine(Path.GetTempPath(), $"crucible-nodate-{Environment.ProcessId}-{repairs.Length}.csv");
        File.WriteAllText(path, "A\n1.02\n1.01\n1.01\n");
        try
        {
            var (code, stdout, stderr) = Crucible(["data", "check", "--data", path, "--no-date", .. repairs.Split(' ')]);
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            Assert.Equal($"error [OPT-E]: {names} the file's date column (rows are sorted and deduplicated by date) and --no-date says it has none: give one of them",
                stderr.TrimEnd());

            Assert.Equal(0, Crucible("data", "check", "--data", path, "--no-date").Exit); // without them the file is usable
        }
        finally
        {
            File.Delete(path);
        }
    }

    // a quoted header cell holding a line break was a series name (then split over two lines in every output naming it);
    // data check refuses it at its cell, and the evaluation's reader (evaluate's --synthetic) refuses it by the same rule
    [Fact]
    public void HeaderCellWithALineBreak_IsRefused_ByDataCheckAndByEvaluate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"crucible-linebreak-{Environment.ProcessId}.csv");
        var json = Path.ChangeExtension(path, ".json");
        var real = TestRepo.Fixture("Crucible.Evaluation.Tests", "real.csv");
        var lines = File.ReadAllLines(real);
        File.WriteAllLines(path, [lines[0].Replace("EQ_EU", "\"EQ\nEU\"", StringComparison.Ordinal), .. lines[1..]]);
        try
        {
            var (code, stdout, stderr) = Crucible("data", "check", "--data", path, "--input", "log-returns");
            Assert.Equal(2, code);
            Assert.Contains(":1:3: error [CSV-E-HEADER]: column 3's name holds a line break (CR or LF)", stderr, StringComparison.Ordinal);
            Assert.Contains(":1:3: error [CSV-E-HEADER]", stdout, StringComparison.Ordinal);

            var evaluate = Crucible("evaluate", "--real", real, "--synthetic", path, "--out", json);
            Assert.Equal(2, evaluate.Exit);
            Assert.Contains($"{path}:1:3: error [CSV-E-HEADER]: column 3's name holds a line break (CR or LF)", evaluate.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(json));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DataCheck_EuropeanOptions_ReportMixedDecimalLine()
    {
        var (code, stdout, _) = Crucible("data", "check", "--data", Fixture("08_mixed_decimal.csv"),
            "--delimiter", ";", "--decimal", ",", "--thousands", ".");
        Assert.Equal(2, code);
        Assert.Contains("08_mixed_decimal.csv:4:2: error [CSV-E-DECIMAL]", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DataCheck_PercentInput_ChecksReturnDomain()
    {
        var path = Path.Combine(Path.GetTempPath(), $"crucible-pct-{Environment.ProcessId}.csv");
        File.WriteAllText(path, "Date,A\n2020-01-02,-0.5\n2020-01-03,-100\n");
        try
        {
            var (code, stdout, _) = Crucible("data", "check", "--data", path, "--input", "percent");
            Assert.Equal(2, code);
            Assert.Contains(":3:2: error [CSV-E-DOMAIN]: percent return must be > -100", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // RELIABILITY CSV-4
    [Fact]
    public void DataCheck_SentinelValue_HiddenUnlessShowValues()
    {
        const string sentinel = "-999.12345SECRET";
        var (code, stdout, stderr) = Crucible("data", "check", "--data", Fixture("sentinel.csv"));
        Assert.Equal(2, code);
        Assert.DoesNotContain(sentinel, stdout + stderr, StringComparison.Ordinal);
        var json = Crucible("data", "check", "--data", Fixture("sentinel.csv"), "--json");
        Assert.DoesNotContain(sentinel, json.Stdout + json.Stderr, StringComparison.Ordinal);

        var shown = Crucible("data", "check", "--data", Fixture("sentinel.csv"), "--show-values");
        Assert.Contains(sentinel, shown.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DataCheck_Json_IsMachineReadableAndReconciles()
    {
        var (code, stdout, _) = Crucible("data", "check", "--data", Fixture("11_ragged.csv"), "--json");
        Assert.Equal(2, code);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(4, root.GetProperty("rows_in").GetInt64());
        Assert.Equal(root.GetProperty("rows_in").GetInt64(), root.GetProperty("accepted").GetInt64() + root.GetProperty("rejected").GetInt64());
        var error = root.GetProperty("errors")[0];
        Assert.Equal("CSV-E-FIELDS", error.GetProperty("rule").GetString());
        Assert.Equal(3, error.GetProperty("line").GetInt64());
    }

    [Fact]
    public void DataCheck_DomainOption_AllowsDeclaredNegatives()
    {
        var strict = Crucible("data", "check", "--data", Fixture("05_nonpositive_price.csv"));
        Assert.Contains("5:3: error [CSV-E-DOMAIN]", strict.Stdout, StringComparison.Ordinal);
        var (code, stdout, _) = Crucible("data", "check", "--data", Fixture("05_nonpositive_price.csv"), "--domain", "TLT=any");
        Assert.Equal(2, code); // the zero SPY price is still an error
        Assert.Contains("4:2: error [CSV-E-DOMAIN]", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("5:3: error", stdout, StringComparison.Ordinal);
        Assert.Equal(2, Crucible("data", "check", "--data", Fixture("05_nonpositive_price.csv"), "--domain", "TLT=weird").Exit);
    }

    [Fact]
    public void DataCheck_MissingFile_Exit2WithRule()
    {
        var (code, _, stderr) = Crucible("data", "check", "--data", "/nonexistent/prices.csv");
        Assert.Equal(2, code);
        Assert.Contains("error [CSV-E-FILE]: file not found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DataCheck_BadOption_Exit2WithoutStackTrace()
    {
        var (code, stdout, stderr) = Crucible("data", "check", "--data", Fixture("11_ragged.csv"), "--decimal", "xx");
        Assert.Equal(2, code);
        Assert.Contains("error [OPT-E]", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }
    /// <summary>
    /// Session 25: the column names (and the missing counts) are wrapped at 100 characters under the value column; a
    /// file of 500 series printed them on one line of about 4,400. Every name is still there, in order, once.
    /// </summary>
    [Fact]
    public void DataCheck_FiveHundredColumns_NamesWrappedAt100Characters_AllInOrder()
    {
        var names = Enumerable.Range(0, 500).Select(i => $"SERIES_{i:D3}").ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"crucible-wide-{Environment.ProcessId}.csv");
        var rows = new System.Text.StringBuilder("Date," + string.Join(",", names) + "\n");
        for (var d = 0; d < 3; d++)
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"2020-01-0{d + 2},").AppendJoin(",", Enumerable.Repeat(d == 1 ? "" : "100", 500)).Append('\n');
        File.WriteAllText(path, rows.ToString());
        try
        {
            var (code, stdout, _) = Crucible("data", "check", "--data", path);
            var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            var first = Array.FindIndex(lines, l => l.StartsWith("columns:   500 (", StringComparison.Ordinal));
            Assert.True(first >= 0, stdout);
            var block = lines.Skip(first).TakeWhile((l, k) => k == 0 || l.StartsWith("           ", StringComparison.Ordinal)).ToArray();
            Assert.True(block.Length > 40, $"{block.Length} lines");
            Assert.All(block, l => Assert.True(l.Length <= 100, $"{l.Length}: {l}"));
            Assert.Equal(names, string.Join(" ", block).Replace("columns:   500 (", "", StringComparison.Ordinal).TrimEnd(')')
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            var missing = Array.FindIndex(lines, l => l.StartsWith("missing:   ", StringComparison.Ordinal));
            Assert.True(missing > first, stdout);
            Assert.Equal("missing:   SERIES_000=1, SERIES_001=1, SERIES_002=1, SERIES_003=1, SERIES_004=1, SERIES_005=1,", lines[missing]);
            Assert.All(lines.Skip(missing).TakeWhile((l, k) => k == 0 || l.StartsWith("           ", StringComparison.Ordinal)), l => Assert.True(l.Length <= 100, l));
            Assert.Equal(2, code); // the empty cells of row 2 are errors under the default Reject policy, located one by one
            Assert.Contains(":3:2: error [CSV-E-MISSING]", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // the closing line counted the CSV-E-MAXERRORS marker as one more error of the file: 100 errors, then reading stopped,
    // were "cannot be used (101 errors)"; it counts the errors found and says that reading stopped at the cap
    [Fact]
    public void DataCheck_StoppedAtTheErrorCap_CountsTheErrorsFoundWithoutTheStopMarker()
    {
        var path = Path.Combine(Path.GetTempPath(), $"crucible-maxerrors-{Environment.ProcessId}.csv");
        var rows = new System.Text.StringBuilder("Date,A\n");
        for (var i = 0; i < 150; i++) rows.Append(new DateOnly(2020, 1, 1).AddDays(i).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).Append(",x\n");
        File.WriteAllText(path, rows.ToString());
        try
        {
            var (code, stdout, stderr) = Crucible("data", "check", "--data", path);
            Assert.Equal(2, code);
            Assert.Contains("CSV-E-NUM=100", stdout, StringComparison.Ordinal);
            Assert.Contains($"{path}: cannot be used (100 errors; reading stopped there)", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DataCheck_OneError_IsOneError()
    {
        var (code, _, stderr) = Crucible("data", "check", "--data", Fixture("04_unsorted.csv"));
        Assert.Equal(2, code);
        Assert.EndsWith("cannot be used (1 error)", stderr.TrimEnd(), StringComparison.Ordinal);
    }
}
