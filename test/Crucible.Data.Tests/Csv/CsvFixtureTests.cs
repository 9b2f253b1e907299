using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>One test per RELIABILITY.md §6.2 fixture class: declared outcome, rule, line, column and message.</summary>
public class CsvFixtureTests
{
    // RELIABILITY CSV-1 (each §6.2 class's declared outcome, one test per class), MRM-8 and CSV-3 (every report reconciles here)
    private static DataQualityReport Check(string fixture, CsvReadOptions? options = null)
    {
        var report = CsvSeriesReader.Validate(TestFiles.Fixture(fixture), options);
        Assert.True(report.Reconciles, $"rows_in {report.RowsIn} != accepted {report.Accepted} + rejected {report.Rejected}");
        var (frame, readReport) = CsvSeriesReader.Read(TestFiles.Fixture(fixture), options);
        Assert.Equal(report.ToJson(), readReport.ToJson()); // validating and reading give the same report
        Assert.Equal(report.Accepted, frame.RowCount);
        return report;
    }

    private static DataIssue SingleError(DataQualityReport report, string rule)
    {
        Assert.False(report.Usable);
        var issue = Assert.Single(report.Errors, e => e.Rule == rule);
        Assert.Equal(IssueSeverity.Error, issue.Severity);
        return issue;
    }

    [Fact]
    public void Class01_UnlistedNaToken_IsNumberError()
    {
        var r = Check("01_missing_na_token.csv");
        var e = SingleError(r, CsvRules.Number);
        Assert.Equal((3L, 2, "SPY"), (e.Line, e.Column, e.ColumnName));
        Assert.Contains("not in the declared missing-value list", e.Message, StringComparison.Ordinal);
        Assert.Equal((3L, 2L, 1L), (r.RowsIn, r.Accepted, r.Rejected));
    }

    [Fact]
    public void Class01_NaToken_AcceptedWhenListed_AndCountedPerColumn()
    {
        var options = new CsvReadOptions { MissingTokens = new HashSet<string> { "", "NA" }, Missing = MissingValuePolicy.Keep };
        var r = Check("01_missing_na_token.csv", options);
        Assert.True(r.Usable);
        Assert.Equal(1, r.MissingByColumn["SPY"]);
        Assert.Equal(0, r.MissingByColumn["TLT"]);
        Assert.Equal(1, r.IssueCounts[CsvRules.MissingWarning]);
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("01_missing_na_token.csv"), options);
        Assert.True(double.IsNaN(frame[1, 0]));
    }

    [Fact]
    public void Class01_EmptyValue_RejectedByDefault()
    {
        var r = Check("01_missing_empty.csv");
        var e = SingleError(r, CsvRules.Missing);
        Assert.Equal((4L, 3, "TLT"), (e.Line, e.Column, e.ColumnName));
        Assert.Equal(1, r.MissingByColumn["TLT"]);
    }

    // RELIABILITY CSV-7
    [Fact]
    public void Class01_EmptyValue_ForwardFilledWhenConfigured_AndCounted()
    {
        var options = new CsvReadOptions { Missing = MissingValuePolicy.ForwardFill, ForwardFillLimit = 1 };
        var r = Check("01_missing_empty.csv", options);
        Assert.True(r.Usable);
        Assert.Equal(new RepairCount("forward_fill", 1), Assert.Single(r.Repairs));
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("01_missing_empty.csv"), options);
        Assert.Equal(140.3, frame[2, 1]);
    }

    [Fact]
    public void Class01_ForwardFill_RefusesBeyondLimit()
    {
        var csv = "Date,A\n2020-01-02,1\n2020-01-03,\n2020-01-06,\n2020-01-07,2\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "ffill.csv",
            new CsvReadOptions { Missing = MissingValuePolicy.ForwardFill, ForwardFillLimit = 1 });
        var e = SingleError(r, CsvRules.Missing);
        Assert.Equal((4L, 2), (e.Line, e.Column));
        Assert.Equal("missing value beyond the forward-fill limit of 1 rows", e.Message);
    }

    // a row refused after a fill in it (another of its values beyond the limit, or a split jump in another column) had its
    // fill counted as a forward_fill repair and warned as filled, so data check reported fills the frame does not hold
    [Fact]
    public void ForwardFill_FillsInARejectedRow_AreNotCounted()
    {
        var options = new CsvReadOptions { Missing = MissingValuePolicy.ForwardFill, ForwardFillLimit = 1 };
        static DataQualityReport Validate(string csv, CsvReadOptions options) =>
            CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "ffill.csv", options);

        // line 4: A could be filled, B is past the limit; the row is refused, only line 3's fill is in the frame
        var beyond = Validate("Date,A,B\n2020-01-02,1,1\n2020-01-03,1.01,\n2020-01-06,,\n", options);
        Assert.Equal(4L, SingleError(beyond, CsvRules.Missing).Line);
        Assert.Equal(new RepairCount("forward_fill", 1), Assert.Single(beyond.Repairs));
        Assert.Equal([(3L, 3)], beyond.Warnings.Where(w => w.Rule == CsvRules.MissingWarning).Select(w => (w.Line, w.Column)));

        // line 3: A is filled, B jumps 5:1 (refused); nothing was filled into an accepted row
        var jump = Validate("Date,A,B\n2020-01-02,10,10\n2020-01-03,,50\n", options);
        Assert.Equal(3L, SingleError(jump, CsvRules.SplitJump).Line);
        Assert.Empty(jump.Repairs);
        Assert.DoesNotContain(jump.Warnings, w => w.Rule == CsvRules.MissingWarning);

        // with jumps warned, the row is kept and its fill counted, warned before the jump as before
        var warned = Validate("Date,A,B\n2020-01-02,10,10\n2020-01-03,,50\n", options with { Jumps = JumpPolicy.Warn });
        Assert.Equal(new RepairCount("forward_fill", 1), Assert.Single(warned.Repairs));
        Assert.Equal([CsvRules.MissingWarning, CsvRules.SplitJumpWarning], warned.Warnings.Select(w => w.Rule));
    }

    // an exact duplicate of a line with a missing value was compared with the previous row's forward-filled values, so two
    // identical lines were "conflicting" (and never dropped by the de-duplication repair); the line as read is compared now
    [Fact]
    public void ForwardFill_ExactDuplicateOfAFilledLine_IsAnExactDuplicate()
    {
        var options = new CsvReadOptions { Input = InputKind.LogReturns, Missing = MissingValuePolicy.ForwardFill, DropExactDuplicates = true };
        var csv = "Date,A,B\n2020-01-02,1,5\n2020-01-03,,6\n2020-01-03,,6\n2020-01-06,2,7\n";
        var (frame, r) = CsvSeriesReader.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "ffill.csv", options);
        Assert.True(r.Usable, r.ToJson());
        Assert.Equal(1, r.DroppedByRepair);
        Assert.Equal([1.0, 5, 1, 6, 2, 7], frame.Values);
        Assert.Equal("exact duplicate of line 3 (2020-01-03) dropped", Assert.Single(r.Warnings, w => w.Rule == CsvRules.DuplicateWarning).Message);

        // a line that differs from the previous one only where the previous one was filled is a conflicting duplicate
        var conflict = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date,A\n2020-01-02,1\n2020-01-03,\n2020-01-03,1\n")), "ffill.csv", options);
        Assert.Equal("conflicting duplicate date 2020-01-03: lines 3 and 4 have different values", SingleError(conflict, CsvRules.DuplicateDate).Message);
    }

    // session 29: the three causes of CSV-E-MISSING, typed, so that a caller wording its own advice (the state file's
    // reader: raise the limit, or fill the value) branches on the cause rather than on the message; the JSON is as before
    [Fact]
    public void MissingValueErrors_CarryTheirCause()
    {
        static DataIssue Missing(string csv, CsvReadOptions options) =>
            Assert.Single(CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "m.csv", options).Errors);

        var refused = Missing("Date,A\n2020-01-02,1\n2020-01-03,\n", new CsvReadOptions());
        Assert.Equal((CsvRules.Missing, DataIssueCause.MissingValueRefused), (refused.Rule, refused.Cause));
        Assert.Equal("missing value (the missing-value policy is Reject; declare Keep or ForwardFill to accept it)", refused.Message);

        var ffill = new CsvReadOptions { Missing = MissingValuePolicy.ForwardFill, ForwardFillLimit = 1 };
        var first = Missing("Date,A\n2020-01-02,\n2020-01-03,1\n", ffill);
        Assert.Equal((CsvRules.Missing, DataIssueCause.NothingToForwardFill), (first.Rule, first.Cause));
        Assert.Equal("missing value with no earlier value to forward-fill from", first.Message);

        var past = Missing("Date,A\n2020-01-02,1\n2020-01-03,\n2020-01-06,\n", ffill);
        Assert.Equal((CsvRules.Missing, DataIssueCause.ForwardFillLimitExceeded), (past.Rule, past.Cause));
        var report = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date,A\n2020-01-02,1\n2020-01-03,\n2020-01-06,\n")), "m.csv", ffill);
        Assert.DoesNotContain("\"cause\"", report.ToJson(), StringComparison.Ordinal);
        Assert.Equal(DataIssueCause.None, Assert.Single(DataQualityReport.FromJson(report.ToJson()).Errors).Cause);

        // other errors have none beyond their rule
        Assert.Equal(DataIssueCause.None, Missing("Date,A\n2020-01-02,x\n", new CsvReadOptions()).Cause);
    }

    [Fact]
    public void Class02_NonTradingDays_AreWarningsNotErrors()
    {
        var r = Check("02_non_trading_days.csv");
        Assert.True(r.Usable);
        var weekend = Assert.Single(r.Warnings, w => w.Rule == CsvRules.WeekendWarning);
        Assert.Equal(4L, weekend.Line);
        Assert.Contains("Saturday", weekend.Message, StringComparison.Ordinal);
        var gap = Assert.Single(r.Warnings, w => w.Rule == CsvRules.GapWarning);
        Assert.Equal(6L, gap.Line);
        Assert.Contains("gap of 10 business days", gap.Message, StringComparison.Ordinal);
        Assert.Equal(5L, r.Accepted);
    }

    // RELIABILITY CSV-7
    [Fact]
    public void Class03_ExactDuplicate_IsErrorUnlessDeduplicationEnabled()
    {
        var strict = Check("03_duplicate_exact.csv");
        var e = SingleError(strict, CsvRules.DuplicateDate);
        Assert.Equal(4L, e.Line);
        Assert.Contains("lines 3 and 4 are identical", e.Message, StringComparison.Ordinal);

        var repaired = Check("03_duplicate_exact.csv", new CsvReadOptions { DropExactDuplicates = true });
        Assert.True(repaired.Usable);
        Assert.Equal((4L, 3L, 1L, 1L, 0L), (repaired.RowsIn, repaired.Accepted, repaired.Rejected, repaired.DroppedByRepair, repaired.RejectedByError));
        Assert.Equal(new RepairCount("drop_exact_duplicates", 1), Assert.Single(repaired.Repairs));
        Assert.Single(repaired.Warnings, w => w.Rule == CsvRules.DuplicateWarning);
    }

    [Fact]
    public void Class03_ConflictingDuplicate_ListsBothLines_EvenWithRepairs()
    {
        var r = Check("03_duplicate_conflict.csv", new CsvReadOptions { SortByDate = true, DropExactDuplicates = true });
        var e = SingleError(r, CsvRules.DuplicateDate);
        Assert.Equal(4L, e.Line);
        Assert.Contains("conflicting duplicate date 2020-01-03: lines 3 and 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class04_Unsorted_ReportsFirstInversion()
    {
        var r = Check("04_unsorted.csv");
        var e = SingleError(r, CsvRules.Unsorted);
        Assert.Equal((4L, 1), (e.Line, e.Column));
        Assert.Contains("2020-01-03 at line 4 comes after 2020-01-06 at line 3", e.Message, StringComparison.Ordinal);
    }

    // RELIABILITY CSV-7
    [Fact]
    public void Class04_Unsorted_SortedWhenConfigured_AndCounted()
    {
        var options = new CsvReadOptions { SortByDate = true };
        var r = Check("04_unsorted.csv", options);
        Assert.True(r.Usable);
        Assert.Equal(new RepairCount("sort_by_date", 2), Assert.Single(r.Repairs));
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("04_unsorted.csv"), options);
        Assert.Equal(new DateOnly(2020, 1, 3), frame.Dates[1]);
        Assert.Equal(101.5, frame[1, 0]);
    }

    // the rows' checks run after sorting, and their warnings (gap, forward fill, exact duplicate, jump) carried the last
    // record read instead of their own, while their lines and the errors' records were right
    [Fact]
    public void Class04_SortedRows_WarningsCarryTheirOwnRecord()
    {
        var options = new CsvReadOptions
        {
            Input = InputKind.LogReturns, SortByDate = true, DropExactDuplicates = true, Missing = MissingValuePolicy.ForwardFill,
        };
        var csv = "Date,A\n2020-03-02,1\n2020-01-02,2\n2020-01-03,\n2020-01-02,2\n2020-01-06,4\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "sorted.csv", options);
        Assert.True(r.Usable, r.ToJson());
        var byRule = r.Warnings.Where(w => w.Rule != CsvRules.SortedWarning).OrderBy(w => w.Line).Select(w => (w.Rule, w.Line, w.Record));
        Assert.Equal([(CsvRules.GapWarning, 2L, 1L), (CsvRules.MissingWarning, 4L, 3L), (CsvRules.DuplicateWarning, 5L, 4L)], byRule);
    }

    [Fact]
    public void Class05_ZeroOrNegativePrice_IsDomainError_UnlessDeclared()
    {
        var r = Check("05_nonpositive_price.csv");
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal(CsvRules.Domain, e.Rule));
        Assert.Equal((4L, 2), (r.Errors[0].Line, r.Errors[0].Column));
        Assert.Equal((5L, 3), (r.Errors[1].Line, r.Errors[1].Column));
        Assert.Contains("must be > 0", r.Errors[0].Message, StringComparison.Ordinal);

        var declared = Check("05_nonpositive_price.csv", new CsvReadOptions
        {
            ColumnDomains = new Dictionary<string, ColumnDomain> { ["TLT"] = ColumnDomain.AnyFinite },
        });
        var only = SingleError(declared, CsvRules.Domain);
        Assert.Equal(4L, only.Line);

        // a domain for a column the file lacks (data check --domain TLX=any) was ignored and the file called usable
        var mistyped = Check("05_nonpositive_price.csv", new CsvReadOptions
        {
            ColumnDomains = new Dictionary<string, ColumnDomain> { ["TLX"] = ColumnDomain.AnyFinite },
        });
        Assert.False(mistyped.Usable);
        var header = SingleError(mistyped, CsvRules.Domain);
        Assert.Equal((1L, 1), (header.Line, header.Column));
        Assert.Contains("'TLX', which the header does not have (value columns: SPY, TLT)", header.Message, StringComparison.Ordinal);
    }

    // RELIABILITY CSV-7
    [Fact]
    public void Class06_UnadjustedSplit_FlaggedWithDateAndRatio_NeverRepaired()
    {
        var r = Check("06_split_jump.csv");
        var e = SingleError(r, CsvRules.SplitJump);
        Assert.Equal((4L, 2, "AAPL"), (e.Line, e.Column, e.ColumnName));
        Assert.Contains("2020-08-31", e.Message, StringComparison.Ordinal);
        Assert.Contains("ratio 0.2585", e.Message, StringComparison.Ordinal);
        Assert.Contains("4:1 split", e.Message, StringComparison.Ordinal);

        var warned = Check("06_split_jump.csv", new CsvReadOptions { Jumps = JumpPolicy.Warn });
        Assert.True(warned.Usable);
        Assert.Single(warned.Warnings, w => w.Rule == CsvRules.SplitJumpWarning);
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("06_split_jump.csv"), new CsvReadOptions { Jumps = JumpPolicy.Warn });
        Assert.Equal(129.04, frame[2, 0]); // unchanged
    }

    [Fact]
    public void Class06_HundredTimesJump_Flagged()
    {
        var csv = "Date,VOD\n2020-01-02,1.52\n2020-01-03,152.0\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "pence.csv");
        var e = SingleError(r, CsvRules.SplitJump);
        Assert.Contains("100x unit error", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class06_VolumeColumn_IsNotAPrice_AndLargeRatiosAreNotSplits()
    {
        var csv = "Date,Close,Volume\n2020-01-02,10,1000\n2020-01-03,10.1,2000\n2020-01-06,10.2,0\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "v.csv");
        Assert.True(r.Usable, r.ToJson());
        var rates = "Date,Rate\n2020-01-02,0.28\n2020-01-03,0.01\n";
        var rr = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(rates)), "r.csv");
        Assert.True(rr.Usable, rr.ToJson()); // ratio 28: not a split factor (2..20) nor 100
    }

    // RELIABILITY CSV-5
    [Fact]
    public void Class07_NanAndInfinityLiterals_Rejected()
    {
        var r = Check("07_nan_inf.csv");
        Assert.False(r.Usable);
        Assert.Equal(6, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal(CsvRules.NonFinite, e.Rule));
        Assert.Equal(new[] { (3L, 2), (4L, 2), (4L, 3), (5L, 2), (5L, 3), (6L, 2) }, r.Errors.Select(e => (e.Line, e.Column)).ToArray());
        Assert.Equal((5L, 1L, 4L), (r.RowsIn, r.Accepted, r.Rejected));
    }

    [Fact]
    public void Class08_SemicolonFile_WithDefaults_SaysWhichDelimiter()
    {
        var r = Check("08_mixed_decimal.csv");
        var e = SingleError(r, CsvRules.Header);
        Assert.Equal(1L, e.Line);
        Assert.Contains("looks ';'-delimited", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class08_MixedDecimalConventions_ErrorOnFirstConflictingLine()
    {
        var eu = new CsvReadOptions { Delimiter = ';', DecimalSeparator = ',', ThousandsSeparator = '.' };
        var r = Check("08_mixed_decimal.csv", eu);
        var e = SingleError(r, CsvRules.Decimal);
        Assert.Equal((4L, 2, "DAX"), (e.Line, e.Column, e.ColumnName));
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("08_mixed_decimal.csv"), eu);
        Assert.Equal(13385.93, frame[0, 0]);
        Assert.Equal(171.20, frame[0, 1]);
    }

    [Fact]
    public void Class08_EuDecimalWithoutThousands_DotIsDecimalError()
    {
        var r = Check("08_mixed_decimal.csv", new CsvReadOptions { Delimiter = ';', DecimalSeparator = ',' });
        Assert.Equal(CsvRules.Decimal, r.Errors[0].Rule);
        Assert.Equal((2L, 2), (r.Errors[0].Line, r.Errors[0].Column));
    }

    // RELIABILITY CSV-5
    [Fact]
    public void Class09_Utf8Bom_Stripped()
    {
        var r = Check("09_utf8_bom.csv");
        Assert.True(r.Usable);
        Assert.Equal(["SPY", "TLT"], r.Columns);
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("09_utf8_bom.csv"));
        Assert.Equal(new DateOnly(2020, 1, 2), frame.Dates[0]);
    }

    [Fact]
    public void Class09_Utf16_RejectedClearly()
    {
        var e = SingleError(Check("09_utf16.csv"), CsvRules.Encoding);
        Assert.Contains("UTF-16", e.Message, StringComparison.Ordinal);
        Assert.Equal(1L, e.Line);
    }

    [Fact]
    public void Class09_Latin1Header_InvalidUtf8_WithLineAndByteOffset()
    {
        var e = SingleError(Check("09_latin1_header.csv"), CsvRules.Encoding);
        Assert.Equal((1L, 3), (e.Line, e.Column));
        Assert.Equal(12L, e.ByteOffset); // "Date,SPY,Caf" is bytes 0..11; the Latin-1 é is byte 12
    }

    [Fact]
    public void Class09_InvalidUtf8InValue_WithByteOffset()
    {
        var e = SingleError(Check("09_invalid_utf8_value.csv"), CsvRules.Encoding);
        Assert.Equal((3L, 3), (e.Line, e.Column));
        Assert.Equal(13 + 23 + 17L, e.ByteOffset);
    }

    [Fact]
    public void Class10_UnterminatedQuote_ReportsStartingLine()
    {
        var r = Check("10_unterminated_quote.csv");
        var e = SingleError(r, CsvRules.Quote);
        Assert.Equal((3L, 2), (e.Line, e.Column));
        Assert.Contains("starting at line 3", e.Message, StringComparison.Ordinal);
        Assert.True(r.Truncated);
    }

    // RELIABILITY CSV-6
    [Fact]
    public void Class10_HugeField_TypedErrorNotOutOfMemory()
    {
        var e = SingleError(Check("10_huge_field.csv"), CsvRules.FieldLength);
        Assert.Equal((3L, 2), (e.Line, e.Column));
        Assert.Contains("4096", e.Message, StringComparison.Ordinal);
    }

    // a structural error (a field or record past its cap, a stray quote, EOF in a quote, the row cap) stops reading inside a
    // record not yet counted, and carried the previous record's number (the fixture's field at line 3 was record 1): it
    // carries the record it is in now; one in the header stays record 0
    [Fact]
    public void Class10_StructuralErrors_CarryTheRecordTheyAreIn()
    {
        var huge = SingleError(Check("10_huge_field.csv"), CsvRules.FieldLength);
        Assert.Equal((3L, 2L), (huge.Line, huge.Record));
        var quote = SingleError(Check("10_unterminated_quote.csv"), CsvRules.Quote);
        Assert.Equal((3L, 2L), (quote.Line, quote.Record));

        var options = new CsvReadOptions { Input = InputKind.LogReturns, MaxRows = 2 };
        var rows = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date,A\n2020-01-02,1\n\n2020-01-03,2\n2020-01-06,3\n")), "rows.csv", options);
        var cap = SingleError(rows, CsvRules.Rows);
        Assert.Equal((5L, 3L), (cap.Line, cap.Record));
        var header = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date,\"A\"x\n2020-01-02,1\n")), "h.csv", options);
        Assert.Equal((1L, 0L), (header.Errors[0].Line, header.Errors[0].Record));
    }

    // the record cap was enforced only by the read buffer, which starts at 1 MiB: a cap below that let longer records through
    [Fact]
    public void Class10_RecordCapBelowTheReadBuffer_IsATypedError()
    {
        var options = new CsvReadOptions { Input = InputKind.LogReturns, MaxFieldLength = 16, MaxRecordLength = 40 };
        var csv = "Date,A,B,C,D,E,F\n2020-01-02,1,2,3,4,5,6\n2020-01-03,0.000001,0.000002,0.000003,0.4,0.5,0.6\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "cap.csv", options);
        var e = SingleError(r, CsvRules.FieldLength);
        Assert.Equal(3L, e.Line);
        Assert.Contains("40", e.Message, StringComparison.Ordinal);

        using var reader = CsvRecordReader.Open(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "cap.csv", ',', options);
        Assert.True(reader.Read());
        Assert.True(reader.Read());
        Assert.Equal(CsvRules.FieldLength, Assert.Throws<InvalidInputException>(() => reader.Read()).Rule);
    }

    // RELIABILITY CSV-6
    [Fact]
    public void Class10_ColumnAndRowCaps_TypedErrors()
    {
        var cols = CsvSeriesReader.Validate(TestFiles.Fixture("clean_prices.csv"), new CsvReadOptions { MaxColumns = 2 });
        Assert.Equal(CsvRules.Columns, Assert.Single(cols.Errors).Rule);
        var rows = CsvSeriesReader.Validate(TestFiles.Fixture("clean_prices.csv"), new CsvReadOptions { MaxRows = 2 });
        var e = Assert.Single(rows.Errors);
        Assert.Equal((CsvRules.Rows, 4L), (e.Rule, e.Line));
        Assert.True(rows.Reconciles);
    }

    // RELIABILITY CSV-2
    [Fact]
    public void Class11_RaggedRows_ExpectedNSawM()
    {
        var r = Check("11_ragged.csv");
        Assert.Equal(2, r.Errors.Count);
        Assert.Equal((CsvRules.Fields, 3L, "expected 3 fields, saw 4"), (r.Errors[0].Rule, r.Errors[0].Line, r.Errors[0].Message));
        Assert.Equal((CsvRules.Fields, 4L, "expected 3 fields, saw 2"), (r.Errors[1].Rule, r.Errors[1].Line, r.Errors[1].Message));
        Assert.Equal((4L, 2L, 2L), (r.RowsIn, r.Accepted, r.Rejected));
    }

    [Fact]
    public void Class11_CollectAll_StopsAfterMaxErrors()
    {
        var lines = string.Join("\n", Enumerable.Range(0, 300).Select(i => $"{new DateOnly(2000, 1, 3).AddDays(i):yyyy-MM-dd},1,2"));
        var csv = "Date,A\n" + lines + "\n";
        var r = CsvSeriesReader.Validate(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "many.csv");
        Assert.Equal(101, r.Errors.Count);
        Assert.Equal(CsvRules.TooManyErrors, r.Errors[^1].Rule);
        Assert.True(r.Truncated);
        Assert.Equal(100L, r.RowsIn);
        Assert.True(r.Reconciles);
    }

    [Fact]
    public void Class12_ImpossibleOhlc_Rejected()
    {
        var r = Check("12_ohlc.csv");
        Assert.Equal(2, r.Errors.Count);
        Assert.Equal((CsvRules.Ohlc, 3L, 3, "High"), (r.Errors[0].Rule, r.Errors[0].Line, r.Errors[0].Column, r.Errors[0].ColumnName));
        Assert.Contains("High is below Open", r.Errors[0].Message, StringComparison.Ordinal);
        Assert.Equal((CsvRules.Ohlc, 4L), (r.Errors[1].Rule, r.Errors[1].Line));
        Assert.Contains("Low is above Open", r.Errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class13_AmbiguousDate_Rejected()
    {
        var e = SingleError(Check("13_ambiguous_date.csv"), CsvRules.Date);
        Assert.Equal((3L, 1), (e.Line, e.Column));
        Assert.Contains("ambiguous", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class13_DeclaredFormat_ParsesThatFormatOnly()
    {
        var r = Check("13_ambiguous_date.csv", new CsvReadOptions { DateFormat = "dd/MM/yyyy" });
        Assert.Equal(2, r.Errors.Count); // the ISO lines now deviate from the declared format
        Assert.Equal(2L, r.Errors[0].Line);
        Assert.Equal(4L, r.Errors[1].Line);
    }

    [Fact]
    public void Class13_TimezoneSuffix_Rejected()
    {
        var e = SingleError(Check("13_timezone_suffix.csv"), CsvRules.Date);
        Assert.Equal(3L, e.Line);
        Assert.Contains("time or timezone suffix", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Class14_CrlfTrailingDelimiterBlankLines_Normalised()
    {
        var r = Check("14_crlf_trailing.csv");
        Assert.True(r.Usable);
        Assert.Equal((2L, 2L, 2L), (r.RowsIn, r.Accepted, r.BlankLines));
        Assert.Equal(["SPY", "TLT"], r.Columns);
        var cr = Check("14_cr_only.csv");
        Assert.True(cr.Usable);
        Assert.Equal(2L, cr.Accepted);
    }

    [Fact]
    public void Class14_TrailingDelimiterOnDataRowsOnly_IsNormalisedToo()
    {
        // README #14 normalises a trailing delimiter; it was accepted on data rows only when the header had one too
        static (TimeSeriesFrame, DataQualityReport) Read(string text) =>
            CsvSeriesReader.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), "t.csv");
        var (plain, _) = Read("Date,A,B\n2020-01-02,100.5,50.25\n2020-01-03,101,50.5\n");
        var (frame, report) = Read("Date,A,B\n2020-01-02,100.5,50.25,\n2020-01-03,101,50.5,\n");
        Assert.True(report.Usable, string.Join("; ", report.Errors.Select(e => e.Message)));
        Assert.Equal(plain.Values, frame.Values);
        Assert.Equal(plain.Columns, frame.Columns);
        // a field beyond the header that is not empty is still a ragged row
        var (_, ragged) = Read("Date,A,B\n2020-01-02,0.01,0.02,0.5\n");
        Assert.Equal(CsvRules.Fields, Assert.Single(ragged.Errors).Rule);
    }

    [Fact]
    public void AStructuralError_InARecordSpanningLines_IsAtThePhysicalLineOfTheProblem()
    {
        // DataIssue.Line said "where the record starts"; a structural error is at the line where it stands (line 3 here,
        // inside a record that starts on line 2), which is what an editor needs
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date,A\n2020-01-02,\"0.0\n1\"x\n")), "t.csv");
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Quote, 3L), (e.Rule, e.Line));
    }

    [Fact]
    public void Class14_RepeatedHeader_ErrorWithLine()
    {
        var e = SingleError(Check("14_repeated_header.csv"), CsvRules.Header);
        Assert.Equal(4L, e.Line);
        Assert.Contains("header is repeated at line 4", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,5e12", ',')] // was read as 15e12: the exponent's digits completed the group
    [InlineData("1,500e3", ',')]
    [InlineData("1,5e3", null)] // was "thousands separators in a number, but none is declared"
    public void Class15_AThousandsSeparatorInANumberWithAnExponent_IsAMalformedNumber(string cell, char? thousands)
    {
        var options = new CsvReadOptions { ThousandsSeparator = thousands, Input = InputKind.LogReturns };
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"Date,A\n2020-01-02,\"{cell}\"\n2020-01-03,1\n")), "t.csv", options);
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Number, 2L), (e.Rule, e.Line));
        // a decimal comma takes an exponent
        var comma = new CsvReadOptions { DecimalSeparator = ',', Delimiter = ';', Input = InputKind.LogReturns };
        var (frame, ok) = CsvSeriesReader.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("Date;A\n2020-01-02;1,5e-3\n2020-01-03;1\n")), "t.csv", comma);
        Assert.True(ok.Usable);
        Assert.Equal(1.5e-3, frame.Values[0]);
    }

    [Fact]
    public void Class15_ThousandsSeparators_ErrorUnlessDeclared()
    {
        var r = Check("15_thousands.csv");
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal((CsvRules.Thousands, 3), (e.Rule, e.Column)));
        var options = new CsvReadOptions { ThousandsSeparator = ',', ColumnDomains = new Dictionary<string, ColumnDomain> { ["Volume"] = ColumnDomain.NonNegative } };
        Assert.True(Check("15_thousands.csv", options).Usable);
        var (frame, _) = CsvSeriesReader.Read(TestFiles.Fixture("15_thousands.csv"), options);
        Assert.Equal(1234567.0, frame[0, 1]);
    }

    [Fact]
    public void Class16_FormulaInNumericColumn_RejectedWithoutEchoingIt()
    {
        var r = Check("16_injection.csv");
        var e = SingleError(r, CsvRules.Number);
        Assert.Equal((3L, 2), (e.Line, e.Column));
        Assert.DoesNotContain("calc", r.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Class16_ExportEscapesTextCells_NotNumbers()
    {
        Assert.Equal("'=cmd|' /C calc'!A0", CsvExport.EscapeTextCell("=cmd|' /C calc'!A0"));
        Assert.Equal("'+1", CsvExport.EscapeTextCell("+1"));
        Assert.Equal("'@SUM(A1)", CsvExport.EscapeTextCell("@SUM(A1)"));
        Assert.Equal("\"'-2,3\"", CsvExport.EscapeTextCell("-2,3"));
        Assert.Equal("\"a \"\"b\"\"\"", CsvExport.EscapeTextCell("a \"b\""));
        Assert.Equal("plain", CsvExport.EscapeTextCell("plain"));
        Assert.Equal("-1.5", CsvExport.FormatNumber(-1.5));
    }

    [Fact]
    public void Class16_AColumnNameAFormula_IsRefusedAtTheHeader_NamingItsColumn_NotItsText()
    {
        // session 24 (application-security review): a series name flows into every scenario CSV header and report; one a
        // spreadsheet would run is refused at input (CSV-E-HEADER), so no model ever carries it
        string path = Path.Combine(Path.GetTempPath(), $"crucible-formula-header-{Guid.NewGuid():N}.csv");
        try
        {
            foreach (var (name, shown) in new[] { ("=cmd|' /C calc'!A0", "'='"), ("+SUM(A1)", "'+'"), ("-2+3", "'-'"), ("@SUM(A1)", "'@'") })
            {
                File.WriteAllText(path, $"Date,SPY,\"{name}\"\n2020-01-01,1,2\n2020-01-02,1,2\n");
                var e = SingleError(CsvSeriesReader.Validate(path), CsvRules.Header);
                Assert.Equal((1L, 3), (e.Line, e.Column));
                Assert.Contains($"name starts with {shown}", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(name, e.Message, StringComparison.Ordinal);
                Assert.Equal(CsvRules.Header, Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Load(path)).Rule);
            }

            // a name holding those characters after its first is a name like any other (a leading tab is trimmed off
            // a header name, so it never reaches the check)
            File.WriteAllText(path, "Date,SPY,A=B,C-D\n2020-01-01,1,2,3\n2020-01-02,1,2,3\n");
            Assert.Equal(["SPY", "A=B", "C-D"], CsvSeriesReader.Load(path).Columns);

            // a column Columns leaves unread goes nowhere: its name is not checked
            File.WriteAllText(path, "Date,SPY,=cmd\n2020-01-01,1,x\n2020-01-02,1,x\n");
            Assert.Equal(["SPY"], CsvSeriesReader.Load(path, new CsvReadOptions { Columns = ["SPY"] }).Columns);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // RELIABILITY CSV-4
    [Fact]
    public void Confidentiality_SentinelValueAbsentUnlessShowValues()
    {
        const string sentinel = "-999.12345SECRET";
        var hidden = Check("sentinel.csv");
        var e = SingleError(hidden, CsvRules.Number);
        Assert.Null(e.RawValue);
        Assert.DoesNotContain(sentinel, hidden.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain(sentinel, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(sentinel, e.ToException().ToUserMessage(), StringComparison.Ordinal);

        var shown = CsvSeriesReader.Validate(TestFiles.Fixture("sentinel.csv"), new CsvReadOptions { ShowValues = true });
        Assert.Equal(sentinel, shown.Errors[0].RawValue);
        Assert.Contains(sentinel, shown.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsFileError()
    {
        var r = CsvSeriesReader.Validate(TestFiles.Fixture("does_not_exist.csv"));
        Assert.Equal(CsvRules.FileUnreadable, Assert.Single(r.Errors).Rule);
        Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Load(TestFiles.Fixture("does_not_exist.csv")));
    }

    // RELIABILITY CSV-2
    [Fact]
    public void Load_ThrowsFirstErrorWithLocation()
    {
        var e = Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Load(TestFiles.Fixture("11_ragged.csv")));
        Assert.Equal(CsvRules.Fields, e.Rule);
        Assert.Equal(3L, e.Location!.Line);
        Assert.EndsWith("11_ragged.csv:3:0: error [CSV-E-FIELDS]: expected 3 fields, saw 4", e.ToUserMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_RoundTripsThroughJson()
    {
        var r = Check("02_non_trading_days.csv");
        var json = r.ToJson();
        Assert.Contains("\"rows_in\": 5", json, StringComparison.Ordinal);
        Assert.Contains("\"rule\": \"CSV-W-WEEKEND\"", json, StringComparison.Ordinal);
        Assert.Equal(json, DataQualityReport.FromJson(json).ToJson());
    }

    [Fact]
    public void ARejectedHeader_ListsTheValueColumnsOnly_NotTheDateColumn()
    {
        // the header checks used to throw before the date column was set aside, so the report listed Date among the columns
        string path = Path.Combine(Path.GetTempPath(), $"crucible-dup-header-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "Date,A,A\n2020-01-01,1,2\n");
            var dup = CsvSeriesReader.Validate(path);
            Assert.Equal(CsvRules.Header, SingleError(dup, CsvRules.Header).Rule);
            Assert.Equal(["A", "A"], dup.Columns);
            File.WriteAllText(path, "Date,A,\"\",B\n2020-01-01,1,2,3\n");
            var empty = CsvSeriesReader.Validate(path);
            SingleError(empty, CsvRules.Header);
            Assert.Equal(["A", "", "B"], empty.Columns);
            var noDate = CsvSeriesReader.Validate(path, new CsvReadOptions { HasDateColumn = false });
            Assert.Equal(["Date", "A", "", "B"], noDate.Columns); // without a date column every column is a value column
        }
        finally
        {
            File.Delete(path);
        }
    }
}
