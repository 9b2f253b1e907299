using Crucible.Data;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Generators;

/// <summary>
/// The stationary bootstrap (Politis &amp; Romano 1994): a window is built from blocks of whole rows (all series
/// together, so cross-sectional dependence is kept) of geometric length with mean <see cref="MeanBlockLength"/>: the
/// first row is uniform; each next row is, with probability 1/b, a fresh uniform row, otherwise the row after the
/// previous one (wrapping around the end, as the original does).
/// </summary>
public sealed class StationaryBootstrap(double meanBlockLength = 10) : IScenarioGenerator
{
    /// <summary>b, the mean block length (≥ 1; 1 is the i.i.d. bootstrap).</summary>
    public double MeanBlockLength { get; } = meanBlockLength >= 1 ? meanBlockLength
        : throw new ArgumentOutOfRangeException(nameof(meanBlockLength), "the mean block length must be at least 1");

    /// <inheritdoc/>
    public string Name => "stationary-bootstrap";

    /// <inheritdoc/>
    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
    {
        GeneratorChecks.Fit(logReturns, 2);
        return new Fitted(Name, logReturns.Columns, (double[])logReturns.Values.Clone(), logReturns.RowCount, 1 / MeanBlockLength);
    }

    private sealed class Fitted(string name, IReadOnlyList<string> columns, double[] values, int rows, double restart) : IFittedScenarioGenerator
    {
        public string Name => name;

        public IReadOnlyList<string> Columns => columns;

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            GeneratorChecks.Sample(count, window, Columns.Count);
            var d = columns.Count;
            var rng = new Philox(seed);
            var result = new double[count * window * d];
            for (var c = 0; c < count; c++)
            {
                var row = rng.NextInt(rows);
                for (var t = 0; t < window; t++)
                {
                    if (t > 0) row = rng.NextDouble() < restart ? rng.NextInt(rows) : (row + 1) % rows;
                    Array.Copy(values, row * d, result, ((c * window) + t) * d, d);
                }
            }

            return new ScenarioWindows(columns, count, window, result);
        }
    }
}
