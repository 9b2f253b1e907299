using System.CommandLine;
using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Cli;

/// <summary>
/// Runs a command body and maps what it throws to the exit codes of ARCHITECTURE.md:
/// bad input (and a full disk, and a file the system refuses to open) to 2 with a one-line message, anything else to 1;
/// no stack trace unless <c>--verbose</c>.
/// </summary>
public static class CliRunner
{
    /// <summary>The global <c>--verbose</c> option: show stack traces of internal errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces of internal errors",
        Recursive = true,
    };

    /// <summary>The rule of a home whose SQLite database is damaged (SQLITE_CORRUPT) or not a database (SQLITE_NOTADB).</summary>
    public const string DamagedDatabaseRule = "HOME-E-DATABASE";

    /// <summary>The rule of a file the system refused to open for this user (<see cref="UnauthorizedAccessException"/>).</summary>
    public const string AccessDeniedRule = "FILE-E-ACCESS";

    private const int SqliteCorrupt = 11, SqliteNotADatabase = 26, SqliteFull = 13;

    // ENOSPC and EDQUOT (Linux; .NET's IOException carries the errno as its HResult on Unix), ERROR_HANDLE_DISK_FULL and
    // ERROR_DISK_FULL (Windows, as HRESULTs)
    private const int NoSpace = 28, QuotaExceeded = 122;
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027), WindowsDiskFull = unchecked((int)0x80070070);

    /// <summary>
    /// Whether <paramref name="e"/> (or an exception inside it) says the disk is full or the user's quota is exhausted:
    /// an <see cref="IOException"/> with that error, or SQLite's <c>SQLITE_FULL</c>.
    /// </summary>
    public static bool IsDiskFull(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is IOException { HResult: NoSpace or QuotaExceeded or WindowsHandleDiskFull or WindowsDiskFull }) return true;
            if (x is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: SqliteFull }) return true;
        }

        return false;
    }

    /// <summary>The one-line cause of a full disk, naming what the system said (the file it was writing).</summary>
    public static string DiskFullMessage(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var cause = e is OutputPathException o ? o.Reason : e.Message;
        return $"the disk is full ({cause.TrimEnd('.')}): free space or write to another place (--out, --home); the run did not complete, "
            + "and outputs it writes atomically were left as they were";
    }

    // the options and arguments that name a file or folder: an empty value ("--out $UNSET") is bad input, not the library's
    // ArgumentException (an internal error)
    private static readonly HashSet<string> PathOptions = new(StringComparer.Ordinal)
    {
        "--api-keys", "--checkpoint", "--checkpoints", "--config", "--data", "--evidence", "--history", "--home", "--html", "--model",
        "--old-public-key", "--out", "--portfolio", "--public-key", "--real", "--report", "--scenarios", "--segments", "--start-prices",
        "--state", "--synthetic", "--thresholds", "--train", "MANIFEST",
    };

    /// <summary>Refuses (exit 2, <c>OPT-E</c>) an empty value given to an option or argument that names a file or folder.</summary>
    internal static void RefuseEmptyPaths(ParseResult parse)
    {
        foreach (var child in parse.CommandResult.Children)
        {
            var (name, tokens) = child switch
            {
                System.CommandLine.Parsing.OptionResult o => (o.Option.Name, o.Tokens),
                System.CommandLine.Parsing.ArgumentResult a => (a.Argument.Name, a.Tokens),
                _ => (null, null),
            };
            if (name is not null && tokens is not null && PathOptions.Contains(name) && tokens.Any(t => t.Value.Length == 0))
                throw new InvalidInputException("OPT-E", $"{name} is empty: give a path");
        }
    }

    /// <summary>Runs <paramref name="body"/> and converts its outcome to an exit code.</summary>
    public static int Run(ParseResult parse, Func<ParseResult, ExitCode> body)
    {
        try
        {
            RefuseEmptyPaths(parse);
            return (int)body(parse);
        }
        catch (InvalidInputException e)
        {
            Console.Error.WriteLine(e.ToUserMessage());
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            return (int)ExitCode.BadInput;
        }
        catch (Exception e) when (IsDiskFull(e))
        {
            // a full disk or an exhausted quota, wherever it struck (an output, the model folder, the home's registry or
            // audit log): the machine's state, not a bug, and a scheduler must not be told "please report it"; while
            // writing an output, located at the destination the user named (never the temporary file beside it)
            var at = e is OutputPathException o ? o.Path + ": " : "";
            Console.Error.WriteLine($"{at}error [{OutputPathException.Rule}]: {DiskFullMessage(e)}");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            return (int)ExitCode.BadInput;
        }
        catch (OutputPathException e)
        {
            // an output path the user named (or the --home folder) that the system refused: bad input, not a bug
            Console.Error.WriteLine(e.ToUserMessage());
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            return (int)ExitCode.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            // the system refused a file the user named or the home holds (its permissions, another user's file): the
            // machine's state, not a bug; .NET's message names the path
            Console.Error.WriteLine($"error [{AccessDeniedRule}]: {e.Message.TrimEnd('.')}: check the file's permissions, or run as a user who may read it");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            return (int)ExitCode.BadInput;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            // the home's SQLite files (audit log, registry) damaged or replaced: the user's state, not a bug of this program
            Console.Error.WriteLine($"error [{DamagedDatabaseRule}]: a database of the Crucible home (--home, CRUCIBLE_HOME) is damaged or not a database "
                + $"({e.Message.TrimEnd('.')}); restore its audit.db from a backup or use another home");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            return (int)ExitCode.BadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run again with --verbose for the stack trace; please report it)");
            return (int)ExitCode.InternalError;
        }
    }
}
