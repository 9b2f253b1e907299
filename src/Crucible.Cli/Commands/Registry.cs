using System.CommandLine;

namespace Crucible.Cli.Commands;

/// <summary>The list of sub-commands. Add one line per command; each lives in its own file.</summary>
internal static class Registry
{
    public static IEnumerable<Command> All()
    {
        yield return DataCheckCommand.Create();
        yield return AuditCommand.Create();
        yield return PrivacyCommand.Create();
        yield return VerifyRunCommand.Create();
        yield return EvaluateCommand.Create();
        yield return TrainCommand.Create();
        yield return GenerateCommand.Create();
        yield return DemoCommand.Create();
        yield return ModelCommand.Create();
        yield return ModelCardCommand.Create();
        yield return StressCommand.Create();
        yield return EnsembleCommand.Create();
        yield return BacktestCommand.Create();
        yield return CompareCommand.Create();
        yield return BaselineCommand.Create();
        yield return BenchmarkCommand.Create();
        yield return ServeCommand.Create();
        yield return KeysCommand.Create();
    }
}
