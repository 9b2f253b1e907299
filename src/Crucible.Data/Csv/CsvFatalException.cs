namespace Crucible.Data.Csv;

/// <summary>A structural problem after which the rest of the file cannot be read (internal control flow).</summary>
internal sealed class CsvFatalException : Exception
{
    public CsvFatalException(string rule, string message, long line, int column, long byteOffset = -1) : base(message)
    {
        Rule = rule;
        Line = line;
        Column = column;
        ByteOffset = byteOffset;
    }

    public CsvFatalException() { Rule = CsvRules.FileUnreadable; }

    public CsvFatalException(string message) : base(message) { Rule = CsvRules.FileUnreadable; }

    public CsvFatalException(string message, Exception innerException) : base(message, innerException) { Rule = CsvRules.FileUnreadable; }

    public string Rule { get; }

    public long Line { get; }

    public int Column { get; }

    public long ByteOffset { get; }

    /// <summary>Why it was raised, where its rule has causes a caller tells apart (<see cref="DataIssue.Cause"/>).</summary>
    public DataIssueCause Cause { get; init; }
}
