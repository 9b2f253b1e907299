using System.Globalization;
using Crucible.Benchmarks;

// Dispatcher: one class per benchmark command, each in its own file; add one line here per command.
IBenchmarkCommand[] commands =
[
    new DataCheckBenchmark(),
    new GemmBenchmark(),
    new StocksFloorBenchmark(),
    new StocksBaselineBenchmark(),
    new StocksCorrBenchmark(),
    new StocksGenBenchmark(),
    new TrainBenchmark(PeerKind.Mlp),
    new TrainBenchmark(PeerKind.Tcn),
    new SampleBenchmark(),
    new TabularFidelityBenchmark(),
    new SequenceFidelityBenchmark(),
    new SequenceEpisodeBenchmark(),
    new ConditionalSequenceBenchmark(),
    new SequenceSampleBenchmark(),
    new DpNoiseBenchmark(),
];

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var command = args.Length == 0 ? null : commands.FirstOrDefault(c => c.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Crucible.Benchmarks -- COMMAND [options]");
    foreach (var c in commands) Console.Error.WriteLine($"  {c.Name,-12} {c.Description}");
    return 2;
}

return command.Run(args[1..]);
