using System.CommandLine;
using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Cli;

/// <summary>
/// Runs a command body and maps what it throws to the exit codes of ARCHITECTURE.md:
/// bad input to 2 with a one-line message, anything else to 1; no stack trace unless <c>--verbose</c>.
/// </summary>
public static class CliRunner
{
    /// <summary>The global <c>--verbose</c> option: show stack traces of internal errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces of internal errors",
        Recursive = true,
    };

    /// <summary>Runs <paramref name="body"/> and converts its outcome to an exit code.</summary>
    public static int Run(ParseResult parse, Func<ParseResult, ExitCode> body)
    {
        try
        {
            return (int)body(parse);
        }
        catch (InvalidInputException e)
        {
            Console.Error.WriteLine(e.ToUserMessage());
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run again with --verbose for the stack trace; please report it)");
            return (int)ExitCode.InternalError;
        }
    }
}
