using System.Buffers;
using System.Runtime.CompilerServices;

namespace Crucible.Data.Csv;

/// <summary>A field of the current record: a slice of the tokenizer's buffer.</summary>
internal struct FieldSlice
{
    public int Start;
    public int Length;
    public bool Quoted;
    public bool HasEscapedQuote;
}

/// <summary>
/// A streaming, allocation-free RFC 4180 tokenizer over bytes. Reads large blocks, splits records on CRLF, LF or CR,
/// handles quoted fields (with doubled quotes and embedded line breaks), enforces caps on field length, record
/// length and column count, strips a UTF-8 BOM and rejects UTF-16. Memory is bounded by the record-length cap.
/// </summary>
internal sealed class CsvTokenizer : IDisposable
{
    private const int InitialBufferSize = 1 << 20;
    private readonly Stream _stream;
    private readonly byte _delimiter;
    private readonly int _maxFieldLength;
    private readonly int _maxRecordLength;
    private readonly int _maxColumns;
    private readonly SearchValues<byte> _unquotedStops;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _position;
    private int _end;
    private bool _eof;
    private long _bufferOffset; // absolute byte offset of _buffer[0]
    private FieldSlice[] _fields = new FieldSlice[64];
    private byte[] _unescaped = new byte[256];

    public CsvTokenizer(Stream stream, char delimiter, int maxFieldLength, int maxRecordLength, int maxColumns)
    {
        _stream = stream;
        _delimiter = (byte)delimiter;
        _maxFieldLength = maxFieldLength;
        _maxRecordLength = maxRecordLength;
        _maxColumns = maxColumns;
        _unquotedStops = SearchValues.Create([_delimiter, (byte)'\r', (byte)'\n', (byte)'"']);
        Fill();
        ReadOnlySpan<byte> head = _buffer.AsSpan(0, _end);
        if (head.StartsWith("\uFEFF"u8))
        {
            _position = 3;
            HadUtf8Bom = true;
        }
        else if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            throw new CsvFatalException(CsvRules.Encoding,
                "the file is UTF-16 encoded (byte-order mark found); save it as UTF-8", 1, 0, 0);
        }
    }

    /// <summary>True when the file began with a UTF-8 byte-order mark (stripped).</summary>
    public bool HadUtf8Bom { get; }

    /// <summary>The 1-based physical line where the next record starts.</summary>
    public long NextLine { get; private set; } = 1;

    /// <summary>The 1-based physical line where the current record started.</summary>
    public long RecordLine { get; private set; }

    /// <summary>Absolute byte offset where the current record started.</summary>
    public long RecordOffset { get; private set; }

    /// <summary>Bytes consumed so far.</summary>
    public long BytesRead => _bufferOffset + _position;

    /// <summary>Number of fields in the current record.</summary>
    public int FieldCount { get; private set; }

    /// <summary>The raw bytes of field <paramref name="i"/> of the current record (quotes removed, doubled quotes undone).</summary>
    public ReadOnlySpan<byte> Field(int i)
    {
        ref readonly var f = ref _fields[i];
        var span = _buffer.AsSpan(f.Start, f.Length);
        if (!f.HasEscapedQuote) return span;
        if (_unescaped.Length < span.Length) _unescaped = new byte[span.Length];
        var n = 0;
        for (var k = 0; k < span.Length; k++)
        {
            _unescaped[n++] = span[k];
            if (span[k] == (byte)'"') k++; // skip the second quote of a doubled pair
        }

        return _unescaped.AsSpan(0, n);
    }

    /// <summary>Absolute byte offset of field <paramref name="i"/> of the current record.</summary>
    public long FieldOffset(int i) => _bufferOffset + _fields[i].Start;

    /// <summary>Whether field <paramref name="i"/> was quoted.</summary>
    public bool FieldQuoted(int i) => _fields[i].Quoted;

    /// <summary>True when the current record is an empty line.</summary>
    public bool IsBlank => FieldCount == 1 && _fields[0].Length == 0 && !_fields[0].Quoted;

    /// <summary>Reads the next record; false at end of file.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool ReadRecord()
    {
        while (true)
        {
            if (_position >= _end && _eof) return false;
            var result = TryScanRecord(out var consumed, out var newlines);
            if (result)
            {
                // the buffer (1 MiB at first) bounds a record only once it has grown to the cap: a lower cap is checked here
                if (consumed > _maxRecordLength)
                {
                    throw new CsvFatalException(CsvRules.FieldLength, $"record longer than the cap of {_maxRecordLength} bytes",
                        NextLine, 0, _bufferOffset + _position);
                }

                RecordLine = NextLine;
                RecordOffset = _bufferOffset + _position;
                _position += consumed;
                NextLine += newlines;
                return true;
            }

            // The record is incomplete in the buffer: shift, grow if needed, refill and rescan it.
            if (_position > 0)
            {
                Buffer.BlockCopy(_buffer, _position, _buffer, 0, _end - _position);
                _bufferOffset += _position;
                _end -= _position;
                _position = 0;
            }

            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= _maxRecordLength)
                {
                    throw new CsvFatalException(CsvRules.FieldLength,
                        $"record longer than the cap of {_maxRecordLength} bytes (an unterminated quote or a missing line break?)",
                        NextLine, 0, _bufferOffset);
                }

                Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, _maxRecordLength));
            }

            Fill();
        }
    }

    private void Fill()
    {
        while (_end < _buffer.Length)
        {
            var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
                return;
            }

            _end += n;
            if (_end - _position >= 1 << 16) return; // enough to make progress
        }
    }

    /// <summary>Scans one record starting at _position. False when more data is needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryScanRecord(out int consumed, out long newlines)
    {
        consumed = 0;
        newlines = 0;
        var buf = _buffer;
        var i = _position;
        var end = _end;
        var count = 0;
        long innerNewlines = 0;
        while (true)
        {
            var start = i;
            int stop;
            var quoted = false;
            var escaped = false;
            int fieldEnd;
            if (i < end && buf[i] == (byte)'"')
            {
                quoted = true;
                var j = i + 1;
                while (true)
                {
                    var q = buf.AsSpan(j, end - j).IndexOf((byte)'"');
                    if (q < 0)
                    {
                        if (_eof)
                        {
                            throw new CsvFatalException(CsvRules.Quote,
                                $"end of file inside a quoted field starting at line {NextLine + CountNewlines(buf.AsSpan(_position, start - _position))}",
                                NextLine + CountNewlines(buf.AsSpan(_position, start - _position)), count + 1, _bufferOffset + start);
                        }

                        return false;
                    }

                    q += j;
                    if (q + 1 < end && buf[q + 1] == (byte)'"')
                    {
                        escaped = true;
                        j = q + 2;
                        continue;
                    }

                    if (q + 1 >= end && !_eof) return false; // cannot tell yet whether it is a doubled quote
                    innerNewlines += CountNewlines(buf.AsSpan(i + 1, q - i - 1));
                    start = i + 1;
                    fieldEnd = q;
                    stop = q + 1;
                    break;
                }

                if (stop < end && buf[stop] != _delimiter && buf[stop] != (byte)'\r' && buf[stop] != (byte)'\n')
                {
                    // a quoted field followed by another common delimiter: the file's delimiter is not the one declared
                    // ("Date";"SPY" read as ','-delimited), said as the one-column header says it
                    var other = buf[stop] is (byte)';' or (byte)'\t' or (byte)'|' or (byte)',' ? (buf[stop] == '\t' ? "\\t" : ((char)buf[stop]).ToString()) : null;
                    throw new CsvFatalException(CsvRules.Quote,
                        other is null ? "unexpected character after a closing quote"
                            : $"unexpected '{other}' after a closing quote: the file looks '{other}'-delimited; declare that delimiter",
                        NextLine + innerNewlines, count + 1, _bufferOffset + stop);
                }
            }
            else
            {
                var k = buf.AsSpan(i, end - i).IndexOfAny(_unquotedStops);
                if (k < 0)
                {
                    if (!_eof) return false;
                    stop = end;
                }
                else
                {
                    stop = i + k;
                    if (buf[stop] == (byte)'"')
                    {
                        throw new CsvFatalException(CsvRules.Quote, "a quote inside an unquoted field",
                            NextLine + innerNewlines, count + 1, _bufferOffset + stop);
                    }
                }

                fieldEnd = stop;
            }

            var length = fieldEnd - start;
            if (length > _maxFieldLength)
            {
                throw new CsvFatalException(CsvRules.FieldLength,
                    $"field longer than the cap of {_maxFieldLength} bytes", NextLine + innerNewlines, count + 1, _bufferOffset + start);
            }

            if (count >= _maxColumns)
            {
                throw new CsvFatalException(CsvRules.Columns, $"more than the cap of {_maxColumns} columns",
                    NextLine + innerNewlines, count + 1, _bufferOffset + start);
            }

            if (count == _fields.Length) Array.Resize(ref _fields, Math.Min(_fields.Length * 2, _maxColumns));

            _fields[count++] = new FieldSlice { Start = start, Length = length, Quoted = quoted, HasEscapedQuote = escaped };

            if (stop >= end)
            {
                // End of file without a final line break.
                consumed = stop - _position;
                newlines = innerNewlines + 1;
                FieldCount = count;
                return true;
            }

            var c = buf[stop];
            if (c == _delimiter)
            {
                i = stop + 1;
                if (i >= end && !_eof) return false;
                continue;
            }

            if (c == (byte)'\r')
            {
                if (stop + 1 >= end && !_eof) return false;
                consumed = (stop + 1 < end && buf[stop + 1] == (byte)'\n' ? stop + 2 : stop + 1) - _position;
            }
            else
            {
                consumed = stop + 1 - _position;
            }

            newlines = innerNewlines + 1;
            FieldCount = count;
            return true;
        }
    }

    private static long CountNewlines(ReadOnlySpan<byte> s)
    {
        long n = 0;
        for (var k = 0; k < s.Length; k++)
        {
            if (s[k] == (byte)'\n') n++;
            else if (s[k] == (byte)'\r' && (k + 1 >= s.Length || s[k + 1] != (byte)'\n')) n++;
        }

        return n;
    }

    public void Dispose() => _stream.Dispose();
}
