using Crucible.Data;
using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>A score over several runs: the runs, their mean, and the 95 % CI half-width t_{0.975, n−1}·s/√n.</summary>
/// <param name="Runs">One value per run.</param>
/// <param name="Mean">The mean of the runs.</param>
/// <param name="HalfWidth">t_{0.975, n−1} times the standard error s/√n (s with n − 1); NaN for one run.</param>
public sealed record ScoreSummary(double[] Runs, double Mean, double HalfWidth);

/// <summary>The published Stocks scores (lower is better); <paramref name="ContextFid"/> is null when not computed.</summary>
public sealed record StocksScores(ScoreSummary Discriminative, ScoreSummary Predictive, ScoreSummary Correlational, ScoreSummary? ContextFid = null);

/// <summary>Settings of <see cref="StocksProtocol.Evaluate"/>; the defaults are the published protocol.</summary>
public sealed record StocksOptions
{
    /// <summary>Runs of each score (5).</summary>
    public int Runs { get; init; } = 5;

    /// <summary>The root seed; run r of each score uses its own Philox stream of it.</summary>
    public ulong Seed { get; init; }

    /// <summary>Discriminative-score settings.</summary>
    public DiscriminativeOptions Discriminative { get; init; } = new();

    /// <summary>Predictive-score settings.</summary>
    public PredictiveOptions Predictive { get; init; } = new();

    /// <summary>Context-FID settings; null skips the Context-FID (it then stays null in <see cref="StocksScores"/>).</summary>
    public ContextFidOptions? ContextFid { get; init; } = new();

    /// <summary>Runs computed at once (each run is independent and seeded, so results do not depend on it); −1: all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>
/// The published "Stocks" benchmark of TimeGAN / Diffusion-TS (METRICS.md, PEERS.md b1 and c): the data, its scaling
/// and windowing, and the discriminative, predictive, correlational and Context-FID scores as mean ± 95 % CI over runs.
/// </summary>
/// <remarks>
/// Data: <c>stocks_goog_timegan.csv</c>, the six numeric columns (Open, High, Low, Close, Adj_Close, Volume), each
/// min–max scaled over the whole file to [0, 1], windows of 24 steps with stride 1 in time order (3,685 rows →
/// 3,662 windows, Diffusion-TS's windowing). All scores are computed on [0, 1]-scaled windows with as many synthetic
/// windows as real ones (Diffusion-TS passes <c>Y[:N]</c>). Published, Diffusion-TS on Stocks: discriminative
/// 0.067 ± .015, predictive 0.036 ± .000, correlational 0.004 ± .001, Context-FID 0.147 ± .025 (TimeGAN 0.103 ± .013);
/// the real-data predictive floor is 0.036 ± .001.
/// </remarks>
public static class StocksProtocol
{
    /// <summary>The window length of the published table (24).</summary>
    public const int WindowLength = 24;

    /// <summary>
    /// Loads the Stocks CSV (a <c>Date</c> column, then the numeric columns), scales every column min–max over all
    /// rows, and cuts windows of <paramref name="windowLength"/> with stride 1. Throws <see cref="InvalidInputException"/>
    /// for a file it cannot read, or a constant column.
    /// </summary>
    public static WindowSet Load(string path, int windowLength = WindowLength)
    {
        var set = SeriesSetCsv.Read(path);
        var scaled = new double[set.SeriesCount][];
        for (var f = 0; f < set.SeriesCount; f++)
        {
            var col = set.Columns[f];
            double lo = col.Min(), hi = col.Max();
            if (!(hi > lo)) throw new InvalidInputException("constant-column", $"column '{set.Names[f]}' is constant: min–max scaling is undefined", new InputLocation(path, 1, HeaderColumn(path, set.Names[f]), set.Names[f]));
            scaled[f] = col.Select(x => (x - lo) / (hi - lo)).ToArray();
        }
        return WindowSet.Sliding(scaled, windowLength);
    }

    // the 1-based header position of the series named name (the reader skips a leading date column, or none)
    private static int HeaderColumn(string path, string name)
    {
        using var csv = Crucible.Data.Csv.CsvRecordReader.Open(path);
        if (!csv.Read()) return 0;
        for (var c = 0; c < csv.FieldCount; c++)
        {
            if (Crucible.Data.Csv.CsvHeader.CellName(csv.Field(c)) == name) return c + 1;
        }

        return 0;
    }

    /// <summary>
    /// A random split of the windows into two halves (⌊N/2⌋ and the rest, by a Philox permutation of <paramref name="seed"/>):
    /// scoring one half as "synthetic" against the other as "real" measures the scores' floor on real data.
    /// </summary>
    public static (WindowSet First, WindowSet Second) RandomHalves(WindowSet windows, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var p = Sampling.Permutation(windows.Count, new Philox(seed));
        var half = windows.Count / 2;
        return (windows.Select(p.AsSpan(0, half)), windows.Select(p.AsSpan(half)));
    }

    /// <summary>
    /// The scores of <paramref name="synthetic"/> against <paramref name="real"/>, each over
    /// <see cref="StocksOptions.Runs"/> runs. The synthetic set is cut to the real set's count (it must have at least as
    /// many windows). Run r of the discriminative, predictive and Context-FID scores is seeded by the first, second and
    /// third draw of Philox stream r of the root seed; the correlational score makes its runs draws from stream <c>Runs</c>.
    /// </summary>
    public static StocksScores Evaluate(WindowSet real, WindowSet synthetic, StocksOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        options ??= new StocksOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Runs);
        if (synthetic.Count < real.Count)
            throw new ArgumentException($"{synthetic.Count} synthetic windows for {real.Count} real ones: the protocol scores equal counts", nameof(synthetic));
        var syn = synthetic.Count == real.Count ? synthetic : synthetic.Take(real.Count);
        var runs = options.Runs;
        var disc = new double[runs];
        var pred = new double[runs];
        var fid = new double[runs];
        var kinds = options.ContextFid is null ? 2 : 3;
        // kinds·runs independent trainings; seeds depend only on (seed, run), so the order they run in does not matter
        Parallel.For(0, kinds * runs, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, k =>
        {
            var run = k / kinds;
            var seeds = new Philox(options.Seed, (ulong)run);
            var discSeed = seeds.NextUInt64();
            var predSeed = seeds.NextUInt64();
            var fidSeed = seeds.NextUInt64();
            switch (k % kinds)
            {
                case 0: disc[run] = DiscriminativeScore.Compute(real, syn, discSeed, options.Discriminative).Score; break;
                case 1: pred[run] = PredictiveScore.Compute(real, syn, predSeed, options.Predictive).Score; break;
                default: fid[run] = ContextFid.Compute(real, syn, fidSeed, options.ContextFid).Score; break;
            }
        });
        var corr = CorrelationalScore.Runs(real, syn, new Philox(options.Seed, (ulong)runs).NextUInt64(), runs);
        return new StocksScores(Summarise(disc), Summarise(pred), Summarise(corr), options.ContextFid is null ? null : Summarise(fid));
    }

    /// <summary>Mean and 95 % CI half-width t_{0.975, n−1}·s/√n of the runs (Diffusion-TS's <c>display_scores</c>).</summary>
    public static ScoreSummary Summarise(IReadOnlyList<double> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException("no runs", nameof(runs));
        var values = runs.ToArray();
        var mean = Descriptive.Mean(values);
        var half = values.Length < 2 ? double.NaN
            : StudentT.InverseCdf(0.975, values.Length - 1) * Descriptive.StandardDeviation(values) / Math.Sqrt(values.Length);
        return new ScoreSummary(values, mean, half);
    }
}
