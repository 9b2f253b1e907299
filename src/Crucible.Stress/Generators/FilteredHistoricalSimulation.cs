using Crucible.Data;
using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Generators;

/// <summary>How the innovations z of the filtered historical simulation are drawn, always jointly by date.</summary>
public enum InnovationMarginal
{
    /// <summary>The standardised residuals themselves (classic FHS, Barone-Adesi et al. 1999).</summary>
    Empirical,

    /// <summary>The ranks of the residuals (the empirical copula) mapped through each series' fitted unit-variance Student-t quantile.</summary>
    StudentT,
}

/// <summary>Where the simulated variance starts.</summary>
public enum VarianceStart
{
    /// <summary>The one-step-ahead σ²_{n+1} after the training data: scenarios continue from today's volatility.</summary>
    LastState,

    /// <summary>
    /// The training data's sample variance: the long-run level, estimated without the model (ω / (1 − α − β) is
    /// unusable when the fit is close to integrated, α + β → 1, as it is on data with a change of regime).
    /// </summary>
    SampleVariance,
}

/// <summary>
/// Filtered historical simulation: a GARCH(1,1) with Student-t innovations per series (maximum likelihood), and the
/// dependence of the standardised residuals z_{t,i} = ε_{t,i} / σ_{t,i} kept by drawing whole dates: each simulated
/// step takes the residual vector of one uniformly drawn training date (its empirical copula), optionally with
/// Student-t marginals (<see cref="InnovationMarginal"/>), and runs every series' GARCH recursion forward.
/// </summary>
public sealed class FilteredHistoricalSimulation(InnovationMarginal marginal = InnovationMarginal.Empirical,
    VarianceStart start = VarianceStart.LastState) : IScenarioGenerator
{
    /// <inheritdoc/>
    public string Name => (marginal == InnovationMarginal.Empirical ? "fhs-garch-t" : "garch-t-copula")
        + (start == VarianceStart.SampleVariance ? "-longrun" : "");

    /// <summary>
    /// The largest mean square of a series' standardised residuals z accepted from a fit (about 1 for a fit that did not
    /// degenerate: 0.9 to 1.2 on ordinary data).
    /// </summary>
    internal const double MaxResidualMeanSquare = 100;

    /// <inheritdoc/>
    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
    {
        GeneratorChecks.Fit(logReturns, 50);
        var d = logReturns.ColumnCount;
        var n = logReturns.RowCount;
        // a constant series (a price that never moves) has no GARCH fit: bad input, found before the parallel fits
        for (var i = 0; i < d; i++)
        {
            if (!(Garch11StudentT.SampleVariance(logReturns.Column(i)) > 0))
                throw new InvalidInputException("constant-series", $"series '{logReturns.Columns[i]}' does not vary: a GARCH(1,1) cannot be fitted to it");
        }

        var models = new Garch11StudentT[d];
        var startVariance = new double[d];
        var z = new double[n * d];
        var meanSquare = new double[d];
        Parallel.For(0, d, i =>
        {
            var r = logReturns.Column(i);
            var m = Garch11StudentT.Fit(r);
            var (variances, next) = m.Filter(r);
            double sum = 0;
            for (var t = 0; t < n; t++)
            {
                z[(t * d) + i] = (r[t] - m.Mu) / Math.Sqrt(variances[t]);
                sum += z[(t * d) + i] * z[(t * d) + i];
            }

            meanSquare[i] = sum / n;
            models[i] = m;
            startVariance[i] = start == VarianceStart.LastState ? next : Garch11StudentT.SampleVariance(r);
        });

        // the residuals are standardised (mean square about 1) unless the fit degenerated: a series that repeats one value
        // on most days (a peg, a stale price) has a likelihood that grows without bound as ω → 0, and the few moves' residuals
        // of 1e100 and more made the simulated variance explode (log returns of 1e125)
        for (var i = 0; i < d; i++)
        {
            if (!(meanSquare[i] <= MaxResidualMeanSquare))
            {
                throw new InvalidInputException("constant-series", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"series '{logReturns.Columns[i]}' is too close to constant for a GARCH(1,1) fit: its standardised residuals have a mean square of {meanSquare[i]:G3}, not about 1 (most of its returns repeat one value?)"));
            }
        }
        if (marginal == InnovationMarginal.StudentT) z = CopulaInnovations(z, n, d, models);
        return new Fitted(Name, logReturns.Columns, models, startVariance, z, n);
    }

    /// <summary>Replaces each residual by the unit-variance t_ν quantile of its rank/(n + 1) within its series.</summary>
    private static double[] CopulaInnovations(double[] z, int n, int d, Garch11StudentT[] models)
    {
        var result = new double[z.Length];
        for (var i = 0; i < d; i++)
        {
            var order = Enumerable.Range(0, n).OrderBy(t => z[(t * d) + i]).ThenBy(t => t).ToArray();
            var nu = models[i].Nu;
            var scale = Math.Sqrt((nu - 2) / nu);
            // each quantile is a pure function of its rank, written to its own slot: the same bits on any number of threads
            Parallel.For(0, n, rank => result[(order[rank] * d) + i] = StudentT.InverseCdf((rank + 1.0) / (n + 1), nu) * scale);
        }

        return result;
    }

    /// <summary>The fitted per-series models (for reports and tests).</summary>
    internal sealed class Fitted(string name, IReadOnlyList<string> columns, Garch11StudentT[] models, double[] startVariance,
        double[] innovations, int rows) : IFilteringScenarioGenerator
    {
        public string Name => name;

        public IReadOnlyList<string> Columns => columns;

        public IReadOnlyList<Garch11StudentT> Models => models;

        /// <summary>The variances the next sample starts from.</summary>
        public IReadOnlyList<double> StartVariance => startVariance;

        /// <summary>σ²_{n+2} = ω + α (r − μ)² + β σ²_{n+1}: the GARCH filter one day on, parameters and residuals unchanged.</summary>
        public IFittedScenarioGenerator Observe(ReadOnlySpan<double> logReturns)
        {
            if (logReturns.Length != columns.Count) throw new ArgumentException("one return per series is needed", nameof(logReturns));
            var next = new double[startVariance.Length];
            for (var i = 0; i < next.Length; i++)
            {
                var m = models[i];
                var e = logReturns[i] - m.Mu;
                next[i] = m.Omega + (m.AlphaArch * e * e) + (m.Beta * startVariance[i]);
            }

            return new Fitted(name, columns, models, next, innovations, rows);
        }

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            GeneratorChecks.Sample(count, window, Columns.Count);
            var d = columns.Count;
            var rng = new Philox(seed);
            var result = new double[count * window * d];
            var s2 = new double[d];
            for (var c = 0; c < count; c++)
            {
                Array.Copy(startVariance, s2, d);
                for (var t = 0; t < window; t++)
                {
                    var row = rng.NextInt(rows);
                    var offset = ((c * window) + t) * d;
                    for (var i = 0; i < d; i++)
                    {
                        var m = models[i];
                        var e = Math.Sqrt(s2[i]) * innovations[(row * d) + i];
                        result[offset + i] = m.Mu + e;
                        s2[i] = m.Omega + (m.AlphaArch * e * e) + (m.Beta * s2[i]);
                    }
                }
            }

            return new ScenarioWindows(columns, count, window, result);
        }
    }
}
