using Crucible.Cli;

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
        var code = CrucibleCommand.Build().Parse(["no-such-command"]).Invoke();
        Assert.NotEqual(0, code);
    }
}
