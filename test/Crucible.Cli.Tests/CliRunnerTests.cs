using Crucible.Cli;
using Crucible.Data;

namespace Crucible.Cli.Tests;

public class CliRunnerTests
{
    [Fact]
    public void Help_ExitsZero()
    {
        var code = CrucibleCommand.Build().Parse(["--help"]).Invoke();
        Assert.Equal(0, code);
    }

    [Fact]
    public void UnknownCommand_IsUsageError()
    {
        // the built CLI, as a user runs it: a usage error is bad input, exit 2 (the parser alone answers 1)
        var (exit, _, stderr) = CliProcess.Run("no-such-command");
        Assert.Equal(2, exit);
        Assert.Contains("no-such-command", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}

/// <summary>
/// <see cref="CliRunner.Run"/>'s exit codes and messages, in process: it writes to <see cref="Console.Error"/>, which
/// these tests capture, so they run alone (no other test writes to the console meanwhile).
/// </summary>
[Collection(ConsoleCollection.Name)]
public class CliRunnerExitCodeTests
{
    private static (int Code, string Stderr) Run(string[] args, Func<ExitCode> body)
    {
        var parse = CrucibleCommand.Build().Parse(args);
        var previous = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            return (CliRunner.Run(parse, _ => body()), captured.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    private static ExitCode Bug() => throw new InvalidOperationException("sentinel bug 7f3a");

    [Fact]
    public void InternalError_ExitsOne_WithoutAStackTrace()
    {
        var (code, stderr) = Run([], Bug);
        Assert.Equal(1, code);
        Assert.Contains("internal error: InvalidOperationException: sentinel bug 7f3a", stderr, StringComparison.Ordinal);
        Assert.Contains("--verbose", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(Bug), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void InternalError_WithVerbose_ShowsTheStackTrace()
    {
        var (code, stderr) = Run(["--verbose"], Bug);
        Assert.Equal(1, code);
        Assert.Contains("   at ", stderr, StringComparison.Ordinal);
        Assert.Contains(nameof(Bug), stderr, StringComparison.Ordinal);
    }

    // what .NET throws when the disk is full: /dev/full answers every write with ENOSPC
    private static ExitCode WriteToAFullDisk()
    {
        using var stream = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
        stream.Write(new byte[4096]);
        stream.Flush(flushToDisk: true);
        return ExitCode.Success;
    }

    [Fact]
    public void DiskFull_ExitsTwo_WithAOneLineCause_NotAsABug()
    {
        // a nightly job whose disk filled up was told "internal error: IOException: No space left on device … please report it", exit 1
        if (!File.Exists("/dev/full")) return; // Linux only
        var (code, stderr) = Run([], WriteToAFullDisk);
        Assert.Equal(2, code);
        Assert.StartsWith("error [OUT-E-WRITE]: the disk is full (No space left on device", stderr, StringComparison.Ordinal);
        Assert.Contains("free space or write to another place", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void DiskFull_WhileWritingAnOutput_NamesTheDestination_NotItsTemporaryFile()
    {
        // session 23: OUT-E-WRITE … '…/.g.csv.<hex>.tmp'. The write's own stream refuses as .NET words ENOSPC (errno 28 as
        // the HResult, the file's name in the message): the temporary file's name, which AtomicFile chose
        string dir = Directory.CreateTempSubdirectory("crucible-cli-full-").FullName;
        try
        {
            string path = Path.Combine(dir, "g.csv");
            var (code, stderr) = Run([], () => Crucible.Data.IO.AtomicFile.Write<ExitCode>(path,
                stream => throw new IOException($"No space left on device : '{((FileStream)stream).Name}'", 28)));
            Assert.Equal(2, code);
            Assert.StartsWith($"{path}: error [OUT-E-WRITE]: the disk is full (No space left on device : '{path}')", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(".tmp", stderr, StringComparison.Ordinal);
            Assert.Single(stderr.TrimEnd().Split('\n'));
            Assert.Empty(Directory.GetFileSystemEntries(dir)); // nothing written, no temporary left
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DiskFull_InTheHomesDatabase_ExitsTwo()
    {
        // SQLite's SQLITE_FULL (13) from the audit log or the registry, as Microsoft.Data.Sqlite reports it
        var (code, stderr) = Run([], () => throw new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13));
        Assert.Equal(2, code);
        Assert.StartsWith("error [OUT-E-WRITE]: the disk is full (SQLite Error 13: 'database or disk is full'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AccessDenied_ExitsTwo_NamingThePath_NotAsABug()
    {
        // a file the user cannot read (mode 000, another user's): "internal error: UnauthorizedAccessException … please report it"
        var (code, stderr) = Run([], () => throw new UnauthorizedAccessException("Access to the path '/data/prices.csv' is denied."));
        Assert.Equal(2, code);
        Assert.StartsWith("error [FILE-E-ACCESS]: Access to the path '/data/prices.csv' is denied", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void InputError_ExitsTwo_NamingTheRule_WithoutAStackTrace()
    {
        var (code, stderr) = Run([], () => throw new InvalidInputException("OPT-E-TEST", "a bad value", new InputLocation("f.csv", 3, 4)));
        Assert.Equal(2, code);
        Assert.Equal("f.csv:3:4: error [OPT-E-TEST]: a bad value", stderr.TrimEnd());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
