namespace Crucible.Cli;

/// <summary>The exit codes of the <c>crucible</c> command (ARCHITECTURE.md).</summary>
public enum ExitCode
{
    /// <summary>Success.</summary>
    Success = 0,

    /// <summary>An internal error: a bug in Crucible.</summary>
    InternalError = 1,

    /// <summary>A usage error or bad input; the message names file, line, column and rule.</summary>
    BadInput = 2,

    /// <summary>A declared validation threshold failed.</summary>
    ThresholdFailed = 3,
}
