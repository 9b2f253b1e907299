using System.Globalization;
using Crucible.Evaluation;
using Crucible.Evaluation.Learned;

namespace Crucible.Benchmarks;

/// <summary>
/// The correlational score of saved synthetic Stocks windows separated from the draw noise (<see cref="StocksCorrelation"/>).
/// Usage: <c>stocks-corr --samples FILE.npy [--data FILE] [--draws K] [--seed S]</c>; without <c>--samples</c> it
/// analyses an exact copy of the real windows. Prints one JSON line.
/// </summary>
public sealed class StocksCorrBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "stocks-corr";

    /// <inheritdoc />
    public string Description => "Stocks correlational score of saved windows (.npy): full-set and per-pair gap, expectation over many draws vs a copy";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var data = Args.String(args, "--data") ?? "../shared/data/stocks_goog_timegan.csv";
        var samples = Args.String(args, "--samples");
        var draws = Args.Int(args, "--draws", 200);
        var seed = ulong.Parse(Args.String(args, "--seed") ?? "0", CultureInfo.InvariantCulture);
        var real = StocksProtocol.Load(data);
        var synthetic = samples is null ? real : StocksCorrelation.ReadNpy(samples);
        Console.WriteLine(StocksCorrelation.Analyse(real, synthetic, SeriesSetCsv.Read(data).Names, draws, seed));
        return 0;
    }
}
