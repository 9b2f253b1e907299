using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Crucible.Data.Csv;

/// <summary>The validation engine behind <see cref="CsvSeriesReader"/>: one parsing pass (a seekable stream read for a frame is counted first, <see cref="RecordBound"/>).</summary>
internal sealed class CsvEngine
{
    private static readonly string[] NaLikeTokens =
        ["na", "n/a", "#n/a", "#n/a n/a", "#na", "null", "none", "<na>", "-", ".", "--", "nil", "missing"];

    private readonly CsvReadOptions _o;
    private readonly string _file;
    private readonly bool _materialise;
    private readonly List<DataIssue> _errors = [];
    private readonly List<DataIssue> _warnings = [];
    private readonly Dictionary<string, long> _issueCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _repairs = new(StringComparer.Ordinal);
    private readonly byte[][] _missingTokens;
    private readonly bool _onlyEmptyIsMissing;
    private readonly bool _plainNumbers;
    private readonly double _jumpLow;
    private readonly double _jumpHigh;
    private byte[] _scratch = new byte[64];

    private CsvTokenizer? _tok;
    private string[] _columns = [];
    private int _valueColumns;
    private int _dateField = -1;       // the date column's field (-1: the file has none)
    private int[] _field = [];          // value column c is field _field[c] of a record (all value fields, or the selected ones)
    private string[] _valueNames = [];  // value column c's header name
    private bool _headerAccepted; // false while the header is unread or was rejected (then no frame is built from it)
    private long[] _missing = [];
    private double[] _lower = [];
    private bool[] _lowerInclusive = [];
    private bool[] _jumpCheck = [];
    private long _headerLine = 1;
    private bool _unitCheck;            // log or simple returns: count the values of magnitude ≥ 0.1 to catch a percent file
    private long[] _tenthOrMore = [];
    private long[] _seen = [];          // value column c's parsed values (NaN not counted) …
    private double[] _firstValue = [];  // … the first of them …
    private bool[] _varies = [];        // … and whether another differs from it (CSV-W-CONSTANT when none does)
    private int _open = -1, _high = -1, _low = -1, _close = -1;

    private long _rowsIn, _rejectedByError, _dropped, _blank;
    private bool _truncated;
    private bool _stop;

    // Sequence state (stage 2).
    private bool _hasPrev;
    private DateOnly _prevDate;
    private long _prevLine;
    private double[] _prevValues = [];
    private int[] _fillRun = [];
    private int[] _filled = [];         // the value columns filled in the row in hand (counted once the row is kept)
    // forward fill only: the row as read, before filling, and the previous accepted row's (an exact duplicate is one of the
    // line as written, not of the values filled into it)
    private double[] _read = [];
    private double[] _prevRead = [];

    // Output (accepted rows). The values are kept in blocks of whole rows, so that growing copies nothing already read:
    // a buffer that doubled held up to 2.6 times the values at once (the full buffer beside the one twice its size, then the
    // latter beside the frame's exact copy: 0.21 GB of live arrays for 80 MB of values at 1,000,000 rows of 10 series)
    private const int BlockValues = 1 << 16;
    private readonly List<DateOnly> _dates = [];
    private readonly List<double[]> _blocks = [];
    private int _blockUsed;
    // A seekable stream is counted first (RecordBound): its accepted values then go straight into one array of the rows it
    // can hold, which becomes the frame's own when every row is accepted, so the values are never held twice (the blocks
    // beside the frame's copy: 0.16 GB for 80 MB of values at 1,000,000 rows of 10 series). -1: no bound (not seekable).
    private long _lineBound = -1, _byteBound = -1;
    private double[]? _direct;
    private long _valueCount;
    private long _accepted;

    // Sort buffer (only with the sort repair).
    private readonly List<(DateOnly Date, long Line, long Record)> _sortKeys = [];
    private double[] _sortValues = [];
    private long _sortValueCount;

    public CsvEngine(CsvReadOptions options, string file, bool materialise)
    {
        options.Validate();
        _o = options;
        _file = file;
        _materialise = materialise;
        _missingTokens = options.MissingTokens.Select(t => Encoding.UTF8.GetBytes(t.Trim())).ToArray();
        _onlyEmptyIsMissing = _missingTokens.All(t => t.Length == 0);
        _plainNumbers = options.DecimalSeparator == '.' && options.ThousandsSeparator is null;
        _jumpHigh = Math.Exp(options.SplitLogReturnThreshold);
        _jumpLow = Math.Exp(-options.SplitLogReturnThreshold);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (TimeSeriesFrame Frame, DataQualityReport Report) Run(Stream stream)
    {
        try
        {
            if (_materialise && stream.CanSeek) (_lineBound, _byteBound) = RecordBound(stream);
            using (_tok = new CsvTokenizer(stream, _o.Delimiter, _o.MaxFieldLength, _o.MaxRecordLength, _o.MaxColumns))
            {
                if (ReadHeader())
                {
                    var row = new double[_valueColumns];
                    while (!_stop && _tok.ReadRecord())
                    {
                        if (_tok.IsBlank)
                        {
                            _blank++;
                            continue;
                        }

                        _rowsIn++;
                        if (_rowsIn > _o.MaxRows)
                        {
                            _rowsIn--;
                            throw new CsvFatalException(CsvRules.Rows, $"more than the cap of {_o.MaxRows} rows", _tok.RecordLine, 0);
                        }

                        if (!ParseRecord(row, out var date))
                        {
                            _rejectedByError++;
                            continue;
                        }

                        if (_o.SortByDate && _o.HasDateColumn) BufferForSort(date, row);
                        else Sequence(date, _tok.RecordLine, _rowsIn, row);
                    }

                    if (_o.SortByDate && _o.HasDateColumn) SequenceSorted();
                    UnitWarnings();
                    ConstantWarnings();
                    if (_rowsIn == 0 && _errors.Count == 0) Error(CsvRules.Empty, 0, 0, 0, "", "the file has a header but no data rows");
                }
            }
        }
        catch (CsvFatalException e)
        {
            _truncated = true;
            // a structural error at a line stops reading inside a data record not yet counted (or the row cap's, uncounted):
            // the next record; one in the header is record 0
            AddIssue(new DataIssue(IssueSeverity.Error, e.Rule, _file, e.Line, e.Line > 0 && _headerAccepted ? _rowsIn + 1 : 0, e.Column,
                ColumnNameAt(e.Column), e.Message, null, e.ByteOffset) { Cause = e.Cause }, force: true);
        }
        catch (IOException e)
        {
            _truncated = true;
            AddIssue(new DataIssue(IssueSeverity.Error, CsvRules.FileUnreadable, _file, 0, 0, 0, "", "read failed: " + e.Message), force: true);
        }

        return (BuildFrame(), BuildReport());
    }

    private string ColumnNameAt(int column) => column >= 1 && column <= _columns.Length ? _columns[column - 1] : "";

    // the date column's field: the one named DateColumnName (case-insensitively; a second such name is refused as a
    // duplicate column by ReadHeader), wherever it stands; -1 when none is
    private int DateField(string[] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], _o.DateColumnName.Trim(), StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }

    // every field but the date column's (-1: none), in file order
    private static int[] ValueFields(int fields, int dateField)
    {
        var result = new int[fields - (dateField >= 0 && dateField < fields ? 1 : 0)];
        for (int f = 0, c = 0; f < fields; f++)
        {
            if (f != dateField) result[c++] = f;
        }

        return result;
    }

    private bool ReadHeader()
    {
        var tok = _tok!;
        do
        {
            if (!tok.ReadRecord())
            {
                Error(CsvRules.Empty, 0, 0, 0, "", "the file is empty (no header)");
                return false;
            }
        }
        while (tok.IsBlank);

        var names = new string[tok.FieldCount];
        for (var i = 0; i < names.Length; i++)
        {
            var raw = tok.Field(i);
            if (!System.Text.Unicode.Utf8.IsValid(raw))
            {
                throw new CsvFatalException(CsvRules.Encoding,
                    $"invalid UTF-8 in the header at byte offset {tok.FieldOffset(i) + InvalidUtf8Index(raw)}",
                    tok.RecordLine, i + 1, tok.FieldOffset(i) + InvalidUtf8Index(raw));
            }

            // (before the other header checks, which echo the names)
            if (CsvHeader.HasLineBreak(raw))
                throw new CsvFatalException(CsvRules.Header, CsvHeader.LineBreakMessage(string.Create(CultureInfo.InvariantCulture, $"column {i + 1}'s name")), tok.RecordLine, i + 1);
            names[i] = CsvHeader.CellName(raw);
        }

        if (names.Length > 1 && names[^1].Length == 0) names = names[..^1];

        _columns = names;
        // set before the header's checks: a report of a rejected header lists the value columns, not the date column
        _dateField = _o.HasDateColumn ? DateField(names) : -1;
        _headerLine = tok.RecordLine;
        // (a header without the date column is refused below; its report takes the first column for the date column)
        _valueNames = ValueFields(names.Length, _o.HasDateColumn ? Math.Max(0, _dateField) : -1).Select(f => names[f]).ToArray();
        if (names.Length == 1)
        {
            foreach (var d in new[] { ';', '\t', '|', ',' })
            {
                if (d != _o.Delimiter && names[0].Contains(d, StringComparison.Ordinal))
                {
                    throw new CsvFatalException(CsvRules.Header,
                        $"the header has one column but contains '{(d == '\t' ? "\\t" : d.ToString())}': the file looks '{(d == '\t' ? "\\t" : d.ToString())}'-delimited; declare that delimiter",
                        tok.RecordLine, 1);
                }
            }
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (names[i].Length == 0) throw new CsvFatalException(CsvRules.Header, $"column {i + 1} has an empty name", tok.RecordLine, i + 1);
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(names[i], names[j], StringComparison.Ordinal))
                    throw new CsvFatalException(CsvRules.Header, $"duplicate column name '{names[i]}' (columns {j + 1} and {i + 1})", tok.RecordLine, i + 1);
                // the date column is found without regard to case (DateField): two names that both match it name it twice
                if (_o.HasDateColumn && string.Equals(names[i], names[j], StringComparison.OrdinalIgnoreCase)
                    && string.Equals(names[i], _o.DateColumnName.Trim(), StringComparison.OrdinalIgnoreCase))
                {
                    throw new CsvFatalException(CsvRules.Header,
                        $"duplicate column name '{names[i]}' (columns {j + 1} and {i + 1}: the date column '{_o.DateColumnName.Trim()}' is matched without regard to case)",
                        tok.RecordLine, i + 1);
                }
            }
        }

        if (_o.HasDateColumn && _dateField < 0)
        {
            throw new CsvFatalException(CsvRules.Header,
                $"no column is named '{_o.DateColumnName}', expected as the date column (the first column is '{names[0]}'): name the file's date column, or declare that the file has none",
                tok.RecordLine, 1) { Cause = DataIssueCause.DateColumnMissing };
        }

        var valueFields = ValueFields(names.Length, _dateField);
        if (valueFields.Length == 0) throw new CsvFatalException(CsvRules.Header, "no value columns beside the date column", tok.RecordLine, Math.Max(1, _dateField + 1));

        var valueNames = valueFields.Select(f => names[f]).ToArray();
        // the value columns read: all, or the selected ones in the order given; the others are skipped unread (a column of
        // ISINs or ratings beside the series a model reads is no error)
        if (_o.Columns is { } selected)
        {
            _field = new int[selected.Count];
            for (var c = 0; c < selected.Count; c++)
            {
                var at = Array.IndexOf(valueNames, selected[c]);
                if (at < 0)
                    throw new CsvFatalException(CsvRules.Header,
                        $"column '{selected[c]}' is selected but the header does not have it (value columns: {string.Join(", ", valueNames)})", tok.RecordLine, 1);
                if (Array.IndexOf(_field, valueFields[at], 0, c) >= 0)
                    throw new CsvFatalException(CsvRules.Header, $"column '{selected[c]}' is selected twice", tok.RecordLine, 1);
                _field[c] = valueFields[at];
            }
        }
        else
        {
            _field = valueFields;
        }
        _valueColumns = _field.Length;
        _valueNames = [.. _field.Select(f => names[f])];
        // OWASP CSV injection: a series name is written into the scenario CSVs and reports an analyst opens in a
        // spreadsheet, which runs a cell starting with = + - @ (or a tab or CR) as a formula; a value column read is
        // refused here, so that no model, scenario or report ever carries one (the name itself is not echoed); the date
        // column and the columns Columns leaves unread go nowhere
        foreach (var f in _field)
        {
            if (names[f][0] is '=' or '+' or '-' or '@' or '\t' or '\r')
                throw new CsvFatalException(CsvRules.Header,
                    $"column {f + 1}'s name starts with {(names[f][0] switch { '\t' => "a tab", '\r' => "a carriage return", var c => $"'{c}'" })}, which a spreadsheet runs as a formula when it opens a scenario CSV or report (CSV injection): rename the column",
                    tok.RecordLine, f + 1);
        }

        // a name the caller's output reserves (a scenario file's scenario and step for train): refused at its header cell
        foreach (var f in _field)
        {
            if (_o.ReservedColumns.TryGetValue(names[f], out var what))
                throw new CsvFatalException(CsvRules.ReservedColumn, $"series '{names[f]}' has the name of {what}; rename the series", tok.RecordLine, f + 1);
        }

        // a domain declared for a column the file lacks (a mistyped name) would leave the column meant at its default
        // domain without a word: refused, as a column named twice is
        foreach (var declared in _o.ColumnDomains.Keys.Order(StringComparer.Ordinal))
        {
            if (!valueNames.Contains(declared, StringComparer.Ordinal))
                throw new CsvFatalException(CsvRules.Domain,
                    $"a domain is declared for column '{declared}', which the header does not have (value columns: {string.Join(", ", valueNames)})", tok.RecordLine, 1);
        }

        _headerAccepted = true;
        _missing = new long[_valueColumns];
        _lower = new double[_valueColumns];
        _lowerInclusive = new bool[_valueColumns];
        _jumpCheck = new bool[_valueColumns];
        _unitCheck = _o.Input is InputKind.LogReturns or InputKind.SimpleReturns;
        _tenthOrMore = new long[_valueColumns];
        _seen = new long[_valueColumns];
        _firstValue = new double[_valueColumns];
        _varies = new bool[_valueColumns];
        _prevValues = new double[_valueColumns];
        _fillRun = new int[_valueColumns];
        _filled = new int[_valueColumns];
        if (_o.Missing == MissingValuePolicy.ForwardFill)
        {
            _read = new double[_valueColumns];
            _prevRead = new double[_valueColumns];
        }
        for (var c = 0; c < _valueColumns; c++)
        {
            var isVolume = string.Equals(_valueNames[c], "Volume", StringComparison.OrdinalIgnoreCase);
            var domain = _o.ColumnDomains.TryGetValue(_valueNames[c], out var d) ? d
                : isVolume && _o.Input == InputKind.Prices ? ColumnDomain.NonNegative // traded volume can be 0 and is not a price
                : ColumnDomain.FromInputKind;
            (_lower[c], _lowerInclusive[c]) = domain switch
            {
                ColumnDomain.AnyFinite => (double.NegativeInfinity, true),
                ColumnDomain.NonNegative => (0.0, true),
                ColumnDomain.Positive => (0.0, false),
                _ => _o.Input switch
                {
                    InputKind.Prices => (0.0, false),
                    InputKind.SimpleReturns => (-1.0, false),
                    InputKind.PercentReturns => (-100.0, false),
                    _ => (double.NegativeInfinity, true),
                },
            };
            _jumpCheck[c] = _o.Input == InputKind.Prices && _lower[c] == 0.0 && !_lowerInclusive[c];
            if (!_o.CheckOhlc) continue;
            switch (_valueNames[c].ToUpperInvariant())
            {
                case "OPEN": _open = c; break;
                case "HIGH": _high = c; break;
                case "LOW": _low = c; break;
                case "CLOSE": _close = c; break;
            }
        }

        return true;
    }

    /// <summary>Stage 1: checks that depend on this record only. Missing values become NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseRecord(double[] row, out DateOnly date)
    {
        var tok = _tok!;
        date = default;
        var line = tok.RecordLine;
        var n = tok.FieldCount;
        // a trailing delimiter (README #14: normalised) on a data row, whether or not the header has one too
        if (n == _columns.Length + 1 && tok.Field(n - 1).Length == 0) n--;

        // the header again: its first two names (its only one, in a one-column file without dates); a second export's
        // header joined on (cat) starts with its own UTF-8 byte-order mark
        var named = Math.Min(2, _columns.Length);
        var first = tok.Field(0);
        if (first.StartsWith("\uFEFF"u8)) first = first[3..];
        if (n >= named && AsciiEquals(first, _columns[0]) && (named < 2 || AsciiEquals(tok.Field(1), _columns[1])))
        {
            Error(CsvRules.Header, line, _rowsIn, 0, "",
                $"the header is repeated at line {line} (concatenated exports?)");
            return false;
        }

        if (n != _columns.Length)
        {
            Error(CsvRules.Fields, line, _rowsIn, 0, "", $"expected {_columns.Length} fields, saw {n}");
            return false;
        }

        var ok = true;
        if (_o.HasDateColumn)
        {
            var raw = AsciiBytes.Trim(tok.Field(_dateField));
            if (!TryParseDate(raw, out date))
            {
                Error(CsvRules.Date, line, _rowsIn, _dateField + 1, _columns[_dateField], DescribeBadDate(raw), raw, tok.FieldOffset(_dateField));
                ok = false;
            }
            else if (_o.WarnOnWeekend && date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                Warning(CsvRules.WeekendWarning, line, _dateField + 1, _columns[_dateField],
                    $"{Iso(date)} is a {date.DayOfWeek} (a timezone shift?)");
            }
        }

        for (var c = 0; c < _valueColumns; c++)
        {
            var f = _field[c];
            var raw = tok.Field(f);
            var s = AsciiBytes.Trim(raw);
            if (IsMissing(s))
            {
                row[c] = double.NaN;
                _missing[c]++;
                if (_o.Missing == MissingValuePolicy.Reject)
                {
                    Error(CsvRules.Missing, line, _rowsIn, f + 1, _columns[f],
                        "missing value (the missing-value policy is Reject; declare Keep or ForwardFill to accept it)",
                        cause: DataIssueCause.MissingValueRefused);
                    ok = false;
                }
                else if (_o.Missing == MissingValuePolicy.Keep)
                {
                    Warning(CsvRules.MissingWarning, line, f + 1, _columns[f], "missing value kept as NaN");
                }

                continue;
            }

            if (!TryParseValue(s, out var v, out var rule, out var message))
            {
                Error(rule, line, _rowsIn, f + 1, _columns[f], message, raw,
                    rule == CsvRules.Encoding ? tok.FieldOffset(f) + InvalidUtf8Index(raw) : tok.FieldOffset(f));
                ok = false;
                continue;
            }

            if (v < _lower[c] || (v == _lower[c] && !_lowerInclusive[c]))
            {
                Error(CsvRules.Domain, line, _rowsIn, f + 1, _columns[f], DomainMessage(c), raw, tok.FieldOffset(f));
                ok = false;
                continue;
            }

            row[c] = v;
            if (_seen[c]++ == 0) _firstValue[c] = v;
            else if (v != _firstValue[c]) _varies[c] = true;
            if (_unitCheck && Math.Abs(v) >= 0.1) _tenthOrMore[c]++;
        }

        if (ok && _high >= 0 && _low >= 0) ok = CheckOhlc(row, line);
        return ok;
    }

    /// <summary>The fewest values of a column that <see cref="UnitWarnings"/> judges.</summary>
    internal const int UnitCheckMinValues = 20;

    // Log or simple returns whose median magnitude is 0.1 or more (more than half the values): a typical row would move
    // 10% or more, which no daily, weekly or monthly return series does; values in percent (Kenneth French's files,
    // ff5's 0.47 for Mkt-RF) do. Warned per column, not refused: annual returns can be that large.
    private void UnitWarnings()
    {
        if (!_unitCheck) return;
        for (var c = 0; c < _valueColumns; c++)
        {
            if (_seen[c] < UnitCheckMinValues || 2 * _tenthOrMore[c] <= _seen[c]) continue;
            var kind = _o.Input == InputKind.LogReturns ? "log returns" : "simple returns";
            Warning(CsvRules.PercentWarning, _headerLine, _field[c] + 1, _valueNames[c], string.Create(CultureInfo.InvariantCulture,
                $"column '{_valueNames[c]}': {_tenthOrMore[c]} of its {_seen[c]} values have a magnitude of 0.1 or more: read as {kind}, a typical row moves 10% or more; if the values are in percent, declare the input as percent returns ({_o.PercentInputAdvice})"), header: true);
        }
    }

    // A column whose values are all equal (a constant price, an all-zero return column) has nothing to learn: its
    // returns are all zero, and train's quantile transform refuses a column with fewer than two distinct values
    // (TRANSFORM-E). Warned at the header cell so data check says so before train does.
    private void ConstantWarnings()
    {
        for (var c = 0; c < _valueColumns; c++)
        {
            if (_seen[c] < 2 || _varies[c]) continue;
            Warning(CsvRules.ConstantWarning, _headerLine, _field[c] + 1, _valueNames[c], string.Create(CultureInfo.InvariantCulture,
                $"column '{_valueNames[c]}': all its {_seen[c]} values are {_firstValue[c]:R}: a constant column has nothing to learn and train refuses it (TRANSFORM-E); leave it out (--columns)"), header: true);
        }
    }

    private bool CheckOhlc(double[] row, long line)
    {
        double h = row[_high], l = row[_low];
        if (double.IsNaN(h) || double.IsNaN(l)) return true;
        var o = _open >= 0 ? row[_open] : double.NaN;
        var c = _close >= 0 ? row[_close] : double.NaN;
        string? problem = null;
        var column = _high;
        if (h < l) problem = "High is below Low";
        else if (!double.IsNaN(o) && (h < o || l > o)) { problem = h < o ? "High is below Open" : "Low is above Open"; column = h < o ? _high : _low; }
        else if (!double.IsNaN(c) && (h < c || l > c)) { problem = h < c ? "High is below Close" : "Low is above Close"; column = h < c ? _high : _low; }
        if (problem is null) return true;
        var f = _field[column];
        Error(CsvRules.Ohlc, line, _rowsIn, f + 1, _columns[f], "impossible OHLC bar: " + problem);
        return false;
    }

    /// <summary>Stage 2: checks that need the previous accepted row (order, duplicates, gaps, fills, jumps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Sequence(DateOnly date, long line, long record, double[] row)
    {
        if (_hasPrev && _o.HasDateColumn)
        {
            if (date < _prevDate)
            {
                Error(CsvRules.Unsorted, line, record, _dateField + 1, _columns[_dateField],
                    $"dates out of order: {Iso(date)} at line {line} comes after {Iso(_prevDate)} at line {_prevLine} (sort the file or enable the sort repair)");
                _rejectedByError++;
                return;
            }

            if (date == _prevDate)
            {
                var prev = _o.Missing == MissingValuePolicy.ForwardFill ? _prevRead : _prevValues;
                var same = true;
                for (var c = 0; c < _valueColumns && same; c++)
                {
                    same = BitConverter.DoubleToInt64Bits(row[c]) == BitConverter.DoubleToInt64Bits(prev[c])
                        || (double.IsNaN(row[c]) && double.IsNaN(prev[c]));
                }

                if (!same)
                {
                    Error(CsvRules.DuplicateDate, line, record, _dateField + 1, _columns[_dateField],
                        $"conflicting duplicate date {Iso(date)}: lines {_prevLine} and {line} have different values");
                    _rejectedByError++;
                }
                else if (_o.DropExactDuplicates)
                {
                    Warning(CsvRules.DuplicateWarning, line, _dateField + 1, _columns[_dateField],
                        $"exact duplicate of line {_prevLine} ({Iso(date)}) dropped", record: record);
                    Repair("drop_exact_duplicates");
                    _dropped++;
                }
                else
                {
                    Error(CsvRules.DuplicateDate, line, record, _dateField + 1, _columns[_dateField],
                        $"duplicate date {Iso(date)}: lines {_prevLine} and {line} are identical (enable de-duplication to drop exact duplicates)");
                    _rejectedByError++;
                }

                return;
            }

            var gap = BusinessDaysBetween(_prevDate, date) - 1;
            if (gap > _o.MaxGapBusinessDays)
            {
                Warning(CsvRules.GapWarning, line, _dateField + 1, _columns[_dateField],
                    $"gap of {gap} business days between {Iso(_prevDate)} (line {_prevLine}) and {Iso(date)}", record: record);
            }
        }

        var ok = true;
        var fills = 0;
        if (_o.Missing == MissingValuePolicy.ForwardFill)
        {
            Array.Copy(row, _read, _valueColumns);
            for (var c = 0; c < _valueColumns; c++)
            {
                if (!double.IsNaN(row[c]))
                {
                    _fillRun[c] = 0;
                    continue;
                }

                var f = _field[c];
                if (!_hasPrev || double.IsNaN(_prevValues[c]))
                {
                    Error(CsvRules.Missing, line, record, f + 1, _columns[f], "missing value with no earlier value to forward-fill from",
                        cause: DataIssueCause.NothingToForwardFill);
                    ok = false;
                }
                else if (_fillRun[c] >= _o.ForwardFillLimit)
                {
                    Error(CsvRules.Missing, line, record, f + 1, _columns[f],
                        $"missing value beyond the forward-fill limit of {_o.ForwardFillLimit} rows",
                        cause: DataIssueCause.ForwardFillLimitExceeded);
                    ok = false;
                }
                else
                {
                    row[c] = _prevValues[c];
                    _fillRun[c]++;
                    _filled[fills++] = c;
                }
            }
        }

        if (!ok)
        {
            _rejectedByError++;
            return;
        }

        // A fill is counted (and warned) only in a row that is kept: not in one refused above, nor in one a jump refuses.
        if (fills > 0 && !(_o.Jumps == JumpPolicy.Reject && HasJump(row)))
        {
            for (var i = 0; i < fills; i++)
            {
                var f = _field[_filled[i]];
                Repair("forward_fill");
                Warning(CsvRules.MissingWarning, line, f + 1, _columns[f], "missing value forward-filled", record: record);
            }
        }

        var jump = false;
        if (_hasPrev)
        {
            for (var c = 0; c < _valueColumns; c++)
            {
                if (!IsJump(c, row, out var ratio, out var k)) continue;
                var f = _field[c];
                var what = k == 100 ? "a 100x unit error" : $"an unadjusted {k:0}:1 split";
                var msg = string.Create(CultureInfo.InvariantCulture,
                    $"jump on {(_o.HasDateColumn ? Iso(date) : "row " + record)}: price ratio {ratio:0.####} looks like {what}; no corporate-action record, not repaired");
                if (_o.Jumps == JumpPolicy.Reject)
                {
                    Error(CsvRules.SplitJump, line, record, f + 1, _columns[f], msg);
                    jump = true;
                }
                else
                {
                    Warning(CsvRules.SplitJumpWarning, line, f + 1, _columns[f], msg, record: record);
                }
            }
        }

        // The row becomes the reference for the next one even when a jump was flagged, so that a permanent
        // unadjusted block gives one error, not one per row.
        _hasPrev = true;
        _prevDate = date;
        _prevLine = line;
        Array.Copy(row, _prevValues, _valueColumns);
        if (_o.Missing == MissingValuePolicy.ForwardFill) Array.Copy(_read, _prevRead, _valueColumns);
        if (jump)
        {
            _rejectedByError++;
            return;
        }

        _accepted++;
        _firstAcceptedDate ??= _o.HasDateColumn ? date : null;
        _lastAcceptedDate = _o.HasDateColumn ? date : null;
        if (!_materialise) return;
        if (_o.HasDateColumn) _dates.Add(date);
        AppendToBlocks(row);
    }

    // Whether value column c of row jumps from the previous row's by a split factor (2..20, 2:1; 3:2 is not flagged) or the
    // 100x unit error; larger ratios are too dense in integers to mean anything.
    private bool IsJump(int c, double[] row, out double ratio, out double k)
    {
        k = 0;
        ratio = double.NaN;
        if (!_hasPrev || !_jumpCheck[c] || double.IsNaN(row[c]) || double.IsNaN(_prevValues[c])) return false;
        ratio = row[c] / _prevValues[c];
        if (ratio >= _jumpLow && ratio <= _jumpHigh) return false; // |ln ratio| <= threshold, without a log per value
        var r = ratio >= 1 ? ratio : 1 / ratio;
        k = Math.Round(r);
        return !(k < 2 || (k > 20 && k != 100) || Math.Abs(r - k) / k > _o.SplitRatioTolerance);
    }

    private bool HasJump(double[] row)
    {
        for (var c = 0; c < _valueColumns; c++)
        {
            if (IsJump(c, row, out _, out _)) return true;
        }

        return false;
    }

    private void BufferForSort(DateOnly date, double[] row)
    {
        _sortKeys.Add((date, _tok!.RecordLine, _rowsIn));
        Append(ref _sortValues, ref _sortValueCount, row);
    }

    private void SequenceSorted()
    {
        var order = Enumerable.Range(0, _sortKeys.Count).ToArray();
        var keys = _sortKeys.Select(k => k.Date).ToArray();
        Array.Sort(keys, order); // not stable: restore file order among equal dates below
        for (int i = 0, j; i < order.Length; i = j)
        {
            for (j = i + 1; j < order.Length && keys[j] == keys[i]; j++) { }
            Array.Sort(order, i, j - i);
        }

        long moved = 0;
        for (var i = 0; i < order.Length; i++)
        {
            if (order[i] != i) moved++;
        }

        if (moved > 0)
        {
            Repair("sort_by_date");
            _repairs["sort_by_date"] = moved;
            Warning(CsvRules.SortedWarning, 0, 0, "", $"{moved} rows were reordered by date");
        }

        var row = new double[_valueColumns];
        foreach (var i in order)
        {
            Array.Copy(_sortValues, (long)i * _valueColumns, row, 0, _valueColumns);
            var (date, line, record) = _sortKeys[i];
            Sequence(date, line, record, row);
            if (_stop) break;
        }

        _sortValues = [];
    }

    private TimeSeriesFrame BuildFrame()
    {
        if (!_materialise || !_headerAccepted) return new TimeSeriesFrame([], [], [], 0);
        var names = _valueNames;
        var rows = names.Length == 0 ? 0 : (int)(_valueCount / names.Length);
        if (_direct is { } direct)
        {
            // every row the bound allowed for was accepted (a clean file): the array is the frame's, else its rows' copy
            _direct = null;
            return new TimeSeriesFrame(_dates.ToArray(), names, direct.Length == _valueCount ? direct : direct[..(int)_valueCount], rows);
        }

        var values = new double[_valueCount];
        long at = 0;
        foreach (var block in _blocks)
        {
            int n = (int)Math.Min(block.Length, _valueCount - at);
            Array.Copy(block, 0, values, at, n);
            at += n;
        }

        _blocks.Clear();
        return new TimeSeriesFrame(_dates.ToArray(), names, values, rows);
    }

    private DataQualityReport BuildReport()
    {
        var names = _valueNames;
        var missing = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var c = 0; c < names.Length && c < _missing.Length; c++) missing[names[c]] = _missing[c];
        DateOnly? first = null, last = null;
        if (_materialise && _dates.Count > 0)
        {
            first = _dates[0];
            last = _dates[^1];
        }
        else
        {
            last = _lastAcceptedDate;
        }

        // Rows read but never sequenced (reading stopped at the error cap while sorting) count as rejected.
        var unaccounted = _rowsIn - _accepted - _rejectedByError - _dropped;
        if (unaccounted > 0) _rejectedByError += unaccounted;
        return new DataQualityReport
        {
            File = _file,
            Input = _o.Input,
            Columns = names,
            RowsIn = _rowsIn,
            Accepted = _accepted,
            Rejected = _rejectedByError + _dropped,
            RejectedByError = _rejectedByError,
            DroppedByRepair = _dropped,
            BlankLines = _blank,
            Bytes = _tok?.BytesRead ?? 0,
            FirstDate = first ?? _firstAcceptedDate,
            LastDate = last,
            MissingByColumn = missing,
            Repairs = _repairs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new RepairCount(kv.Key, kv.Value)).ToArray(),
            Errors = _errors.ToArray(),
            Warnings = _warnings.ToArray(),
            IssueCounts = new SortedDictionary<string, long>(_issueCounts, StringComparer.Ordinal),
            Truncated = _truncated,
        };
    }

    private DateOnly? _firstAcceptedDate;
    private DateOnly? _lastAcceptedDate;

    // an accepted row into the bounded array (allocated on the first row), or onto the last block, or a new one
    // (BlockValues rounded down to whole rows, at least one row)
    private void AppendToBlocks(double[] row)
    {
        if (_valueCount + row.Length > Array.MaxLength) throw new CsvFatalException(CsvRules.Rows, "too many values to hold in memory", 0, 0);
        if (_valueCount == 0 && _lineBound >= 0) _direct = BoundedArray(row.Length);
        if (_direct is not null)
        {
            if (_valueCount + row.Length <= _direct.Length)
            {
                Array.Copy(row, 0, _direct, _valueCount, row.Length);
                _valueCount += row.Length;
                return;
            }

            // more rows than counted (the file grew after it was counted): what was read becomes the first block
            _blocks.Add(_direct);
            _blockUsed = _direct.Length;
            _direct = null;
        }

        if (_blocks.Count == 0 || _blockUsed + row.Length > _blocks[^1].Length)
        {
            _blocks.Add(new double[Math.Max(1, BlockValues / row.Length) * row.Length]);
            _blockUsed = 0;
        }

        row.CopyTo(_blocks[^1], _blockUsed);
        _blockUsed += row.Length;
        _valueCount += row.Length;
    }

    // The array for the rows the counted stream can hold: at most one per record after the header, and at most one per
    // header-width of its bytes, since an accepted record has the header's fields (so at least that many delimiters and
    // terminator bytes); the second bound keeps a file of blank lines under a wide header from asking for more than eight
    // times its bytes. Null when the array would be too large (the blocks then report it).
    private double[]? BoundedArray(int width)
    {
        var rows = Math.Min(_lineBound - 1, _byteBound / Math.Max(1, _columns.Length) + 1);
        rows = Math.Min(rows, _o.MaxRows);
        if (rows <= 0 || rows * width > Array.MaxLength) return null;
        if (_o.HasDateColumn) _dates.Capacity = (int)rows;
        return new double[rows * width];
    }

    /// <summary>
    /// An upper bound on the records of a seekable stream from its position on, and its bytes: the line terminators the
    /// tokenizer splits records on (CRLF, LF or a lone CR), one more when the last line has none. The position is restored.
    /// </summary>
    internal static (long Records, long Bytes) RecordBound(Stream stream)
    {
        var start = stream.Position;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long terminators = 0, bytes = 0;
            byte last = 0;
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                var chunk = buffer.AsSpan(0, n);
                long cr = chunk.Count((byte)'\r'), lf = chunk.Count((byte)'\n');
                terminators += cr + lf;
                if (cr > 0 && lf > 0) terminators -= CrLfPairs(chunk); // a CRLF is one terminator
                if (last == (byte)'\r' && chunk[0] == (byte)'\n') terminators--; // a CRLF across two reads
                last = chunk[^1];
                bytes += n;
            }

            return (terminators + (bytes > 0 && last is not ((byte)'\n' or (byte)'\r') ? 1 : 0), bytes);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            stream.Position = start;
        }
    }

    private static long CrLfPairs(ReadOnlySpan<byte> chunk)
    {
        long pairs = 0;
        for (int i; (i = chunk.IndexOf("\r\n"u8)) >= 0; chunk = chunk[(i + 2)..]) pairs++;
        return pairs;
    }

    private static void Append(ref double[] buffer, ref long count, double[] row)
    {
        if (count + row.Length > buffer.Length)
        {
            var size = Math.Max(Math.Max(1024, buffer.Length * 2L), count + row.Length);
            if (size > Array.MaxLength) throw new CsvFatalException(CsvRules.Rows, "too many values to hold in memory", 0, 0);
            Array.Resize(ref buffer, (int)size);
        }

        row.CopyTo(buffer, (int)count);
        count += row.Length;
    }

    private bool IsMissing(ReadOnlySpan<byte> s)
    {
        if (_onlyEmptyIsMissing) return s.IsEmpty;
        foreach (var t in _missingTokens)
        {
            if (s.SequenceEqual(t)) return true;
        }

        return false;
    }

    private bool TryParseDate(ReadOnlySpan<byte> s, out DateOnly date)
    {
        if (_o.DateFormat == "yyyy-MM-dd") return AsciiBytes.TryParseIsoDate(s, out date);
        date = default;
        if (s.Length > 64 || !System.Text.Unicode.Utf8.IsValid(s)) return false;
        Span<char> chars = stackalloc char[s.Length];
        var n = Encoding.UTF8.GetChars(s, chars);
        return DateOnly.TryParseExact(chars[..n], _o.DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    private string DescribeBadDate(ReadOnlySpan<byte> s)
    {
        var expected = $"expected a date in the format {_o.DateFormat}";
        if (s.IsEmpty) return "missing date; " + expected;
        // the shape hints name another format than the declared one: a date of the declared shape that does not exist
        // (29 February of a common year) is not told to declare the format it was read with, nor that the format's own
        // space or 'T' is a time suffix
        var format = _o.DateFormat;
        static bool Foreign(ReadOnlySpan<byte> value, string format, char c) => value.IndexOf((byte)c) > 0 && !format.Contains(c, StringComparison.Ordinal);
        if (s.Length > 10 && (Foreign(s, format, 'T') || Foreign(s, format, ' ') || Foreign(s, format, 'Z') || Foreign(s, format, '+')))
            return "the date has a time or timezone suffix (intraday timestamps are not read: rows are days); " + expected;
        var slash = s.IndexOf((byte)'/');
        if (slash is 1 or 2 && !format.Contains('/', StringComparison.Ordinal)) return "ambiguous date (day/month or month/day?); " + expected;
        // shapes of bank exports, named without showing the value (cells stay confidential unless shown)
        if (s.Length == 8 && s.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0 && !format.All(char.IsAsciiLetter))
            return "eight digits without separators (yyyyMMdd? declare that date format); " + expected;
        if (s.IndexOf((byte)'.') is 1 or 2 && !format.Contains('.', StringComparison.Ordinal)) return "a dotted date (dd.MM.yyyy? declare that date format); " + expected;
        if (!System.Text.Unicode.Utf8.IsValid(s)) return "invalid UTF-8 in the date; " + expected;
        return "not a valid date; " + expected;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryParseValue(ReadOnlySpan<byte> s, out double value, out string rule, out string message)
    {
        rule = "";
        message = "";
        bool parsed;
        if (_plainNumbers)
        {
            parsed = FastDouble.TryParse(s, out value);
        }
        else if (!WrittenAsNumber(s))
        {
            // text (an ISIN, "Mr. Smith", "1.#INF"): classified below as text or a literal, not checked as digit grouping
            value = 0;
            parsed = false;
        }
        else
        {
            if (_scratch.Length < s.Length) _scratch = new byte[s.Length * 2];
            var n = 0;
            var thousands = _o.ThousandsSeparator is { } t ? (byte)t : (byte)0;
            var dec = (byte)_o.DecimalSeparator;
            var groupDigits = 0; // digits since the last thousands separator (or the start)
            var groups = 0;
            var afterDecimal = false;
            var exponent = false;
            foreach (var b in s)
            {
                if (b is (byte)'e' or (byte)'E') exponent = true;
                if (thousands != 0 && b == thousands)
                {
                    // Grouping must be d{1,3}(Td{3})* before the decimal separator, or the conventions are mixed.
                    if (afterDecimal || (groups == 0 ? groupDigits is < 1 or > 3 : groupDigits != 3))
                    {
                        value = 0;
                        rule = CsvRules.Decimal;
                        message = $"'{(char)b}' is not a valid thousands separator here (mixed decimal conventions?)";
                        return false;
                    }

                    groups++;
                    groupDigits = 0;
                    continue;
                }

                if (b is >= (byte)'0' and <= (byte)'9') groupDigits++;
                if (b == dec)
                {
                    if (groups > 0 && groupDigits != 3)
                    {
                        value = 0;
                        rule = CsvRules.Decimal;
                        message = "invalid digit grouping before the decimal separator (mixed decimal conventions?)";
                        return false;
                    }

                    afterDecimal = true;
                    _scratch[n++] = (byte)'.';
                }
                else if (b is (byte)'.' or (byte)',')
                {
                    value = 0;
                    rule = CsvRules.Decimal;
                    message = $"'{(char)b}' in a number, but the declared decimal separator is '{_o.DecimalSeparator}'"
                        + (_o.ThousandsSeparator is { } ts ? $" and the thousands separator '{ts}'" : " and no thousands separator is declared")
                        + " (mixed conventions?)";
                    return false;
                }
                else
                {
                    _scratch[n++] = b;
                }
            }

            // a number with an exponent takes no digit grouping ("1,5e12" is not 15e12; its digits after the separator
            // would count the exponent's)
            if (groups > 0 && exponent)
            {
                value = 0;
                rule = CsvRules.Number;
                message = "a thousands separator in a number with an exponent: not a number in the declared format";
                return false;
            }

            if (groups > 0 && !afterDecimal && groupDigits != 3)
            {
                value = 0;
                rule = CsvRules.Decimal;
                message = "invalid digit grouping (mixed decimal conventions?)";
                return false;
            }

            parsed = FastDouble.TryParse(_scratch.AsSpan(0, n), out value);
        }

        if (parsed && double.IsFinite(value)) return true;
        (rule, message) = parsed ? (CsvRules.NonFinite, "NaN or infinite value (or a number that overflows)") : Classify(s);
        return false;
    }

    // digits with signs, the separators and an exponent only: a cell whose separators are worth checking as a number's
    private bool WrittenAsNumber(ReadOnlySpan<byte> s)
    {
        var digits = false;
        foreach (var b in s)
        {
            if (b is >= (byte)'0' and <= (byte)'9') digits = true;
            else if (b is not ((byte)'+' or (byte)'-' or (byte)'.' or (byte)',' or (byte)'e' or (byte)'E') && b != _o.ThousandsSeparator) return false;
        }

        return digits;
    }

    private (string Rule, string Message) Classify(ReadOnlySpan<byte> s)
    {
        if (!System.Text.Unicode.Utf8.IsValid(s)) return (CsvRules.Encoding, "invalid UTF-8 byte sequence");
        var text = Encoding.UTF8.GetString(s).ToLowerInvariant();
        if (IsNonFiniteLiteral(text)) return (CsvRules.NonFinite, "NaN or infinity literal in a numeric column");
        if (NaLikeTokens.Contains(text))
            return (CsvRules.Number, "a missing-value token that is not in the declared missing-value list (declare it to accept it)");
        // a number written with a comma (digits, signs, separators, an exponent), not text with one ("AA, stable")
        if (_o.DecimalSeparator == '.' && text.Contains(',', StringComparison.Ordinal)
            && text.Any(char.IsAsciiDigit) && text.All(ch => char.IsAsciiDigit(ch) || ch is ',' or '.' or '+' or '-' or 'e' or ' ' or '\'' or '_'))
        {
            var lastComma = text.LastIndexOf(',');
            var lastDot = text.LastIndexOf('.');
            var afterComma = text.Length - lastComma - 1;
            // a number with an exponent takes no digit grouping: the ',' of "1,5e3" is no thousands separator
            if ((lastDot > lastComma || (afterComma == 3 && lastDot < 0)) && text.Contains('e', StringComparison.Ordinal))
                return (CsvRules.Number, "a ',' in a number with an exponent: not a number in the declared format (an exponent takes no thousands separator)");
            if (lastDot > lastComma || (afterComma == 3 && lastDot < 0))
                return (CsvRules.Thousands, "thousands separators in a number, but none is declared");
            return (CsvRules.Decimal, "',' used as the decimal separator, but the declared decimal separator is '.' (mixed conventions?)");
        }

        return (CsvRules.Number, "not a number");
    }

    // a NaN or infinity literal as a whole cell, signed or not: nan, inf, infinity, ∞, the C runtimes' 1.#INF00, -1.#IND00,
    // 1.#QNAN0, #IND and nan(ind); not text that merely contains the letters (an ISIN INF209K01YN0, "Financials")
    private static bool IsNonFiniteLiteral(string lower)
    {
        var t = lower.TrimStart('+', '-');
        if (t is "nan" or "snan" or "qnan" or "inf" or "infinity" or "∞" or "#ind" || t.StartsWith("nan(", StringComparison.Ordinal)) return true;
        if (!t.StartsWith("1.#", StringComparison.Ordinal)) return false;
        var tail = t[3..].TrimEnd('0');
        return tail is "inf" or "ind" or "qnan" or "snan";
    }

    private string DomainMessage(int c) => _lower[c] switch
    {
        0.0 when !_lowerInclusive[c] => "value must be > 0 (zero or negative price; declare the column's domain if negatives are legitimate)",
        0.0 => "value must be ≥ 0",
        -1.0 => $"simple return must be > -1 (if the values are in percent, declare the input as percent returns: {_o.PercentInputAdvice})",
        -100.0 => "percent return must be > -100",
        _ => "value outside the column's domain",
    };

    private static bool AsciiEquals(ReadOnlySpan<byte> field, string name)
    {
        var s = AsciiBytes.Trim(field);
        if (s.Length != name.Length) return false;
        for (var i = 0; i < s.Length; i++)
        {
            if (char.ToUpperInvariant((char)s[i]) != char.ToUpperInvariant(name[i])) return false;
        }

        return true;
    }

    private static int InvalidUtf8Index(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(s[i..], out _, out var used) != System.Buffers.OperationStatus.Done) return i;
            i += used;
        }

        return 0;
    }

    private static int BusinessDaysBetween(DateOnly a, DateOnly b)
    {
        // Business days in (a, b]; counts Mon–Fri only.
        var days = b.DayNumber - a.DayNumber;
        var weeks = days / 7;
        var count = weeks * 5;
        var d = a.AddDays(weeks * 7);
        while (d < b)
        {
            d = d.AddDays(1);
            if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) count++;
        }

        return count;
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private void Repair(string name) => _repairs[name] = _repairs.GetValueOrDefault(name) + 1;

    private void Error(string rule, long line, long record, int column, string columnName, string message,
        ReadOnlySpan<byte> raw = default, long byteOffset = -1, DataIssueCause cause = DataIssueCause.None)
    {
        string? value = null;
        if (_o.ShowValues && !raw.IsEmpty)
        {
            value = Encoding.UTF8.GetString(raw);
            message += $" (value \"{value}\")";
        }

        AddIssue(new DataIssue(IssueSeverity.Error, rule, _file, line, record, column, columnName, message, value, byteOffset) { Cause = cause }, force: false);
    }

    // record: the row's own record number where it is not the last one read (the rows' checks after the sort repair)
    private void Warning(string rule, long line, int column, string columnName, string message, bool header = false, long record = -1)
    {
        var count = _issueCounts.GetValueOrDefault(rule);
        _issueCounts[rule] = count + 1;
        if (count < _o.MaxWarningsPerRule)
            _warnings.Add(new DataIssue(IssueSeverity.Warning, rule, _file, line, line > 0 && !header ? (record >= 0 ? record : _rowsIn) : 0, column, columnName, message));
    }

    private void AddIssue(DataIssue issue, bool force)
    {
        _issueCounts[issue.Rule] = _issueCounts.GetValueOrDefault(issue.Rule) + 1;
        if (_errors.Count < _o.MaxErrors || force)
        {
            _errors.Add(issue);
        }

        if (_errors.Count >= _o.MaxErrors && !_stop && !force)
        {
            _stop = true;
            _truncated = true;
            _errors.Add(new DataIssue(IssueSeverity.Error, CsvRules.TooManyErrors, _file, issue.Line, issue.Record, 0, "",
                $"stopped after {_o.MaxErrors} errors"));
            _issueCounts[CsvRules.TooManyErrors] = 1;
        }
    }
}
