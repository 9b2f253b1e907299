using System.Globalization;

namespace Crucible.Diffusion.Steering;

/// <summary>
/// One linear inequality a·r ≤ b on a window of log returns r (D series × W steps, row-major: element i·W + t is
/// series i at step t). Only the non-zero coefficients are listed.
/// </summary>
/// <param name="Indices">Element indices i·W + t of the non-zero coefficients (distinct).</param>
/// <param name="Coefficients">The coefficients a, one per index.</param>
/// <param name="Bound">The right-hand side b, in log-return units.</param>
/// <param name="Label">A readable description, e.g. <c>SPY cumulative ≤ -0.223144</c>.</param>
public sealed record LinearInequality(IReadOnlyList<int> Indices, IReadOnlyList<double> Coefficients, double Bound, string Label);

/// <summary>
/// A set of soft linear constraints a_k·r ≤ b_k on windows of log returns r of shape (D, W) (row-major, row i =
/// series i), with the penalty P(r) = Σ_k max(0, a_k·r − b_k)², its exact gradient ∇P(r) = 2 Σ_k max(0, a_k·r − b_k) a_k,
/// and violation rates of sets of windows. Immutable: the <c>With…</c> methods return a new set.
/// </summary>
/// <remarks>
/// Builders cover the usual stress constraints: per-series bounds on every step's return
/// (<see cref="WithSeriesBounds"/>), cross-sectional bounds on a weighted sum of the series at every step
/// (<see cref="WithCrossSectionalBounds"/>), cumulative-return bounds over the window (<see cref="WithCumulativeBounds"/>:
/// "SPY fell at least 20%" is Σ_t r_SPY,t ≤ ln 0.8), bounds on a portfolio's cumulative log return
/// (<see cref="WithPortfolioCumulativeBounds"/>), and any user-defined inequality (<see cref="With"/>).
/// </remarks>
public sealed class LinearConstraintSet
{
    private readonly LinearInequality[] _rows;

    /// <summary>An empty set for windows of the named series (D = series.Count) and <paramref name="window"/> steps.</summary>
    public LinearConstraintSet(IReadOnlyList<string> series, int window)
        : this(Validate(series, window), window, [])
    {
    }

    private LinearConstraintSet(IReadOnlyList<string> series, int window, LinearInequality[] rows)
    {
        SeriesNames = series;
        Window = window;
        _rows = rows;
    }

    /// <summary>The series names, in row order (D of them).</summary>
    public IReadOnlyList<string> SeriesNames { get; }

    /// <summary>D, the number of series.</summary>
    public int Series => SeriesNames.Count;

    /// <summary>W, the window length.</summary>
    public int Window { get; }

    /// <summary>D · W, the size of one window.</summary>
    public int Size => Series * Window;

    /// <summary>The inequalities, in the order they were added.</summary>
    public IReadOnlyList<LinearInequality> Inequalities => _rows;

    /// <summary>The number of inequalities.</summary>
    public int Count => _rows.Length;

    /// <summary>The row of the series named <paramref name="name"/> (exact match first, then case-insensitive); −1 when absent.</summary>
    public int SeriesIndex(string name)
    {
        for (int i = 0; i < Series; i++)
        {
            if (string.Equals(SeriesNames[i], name, StringComparison.Ordinal)) return i;
        }

        for (int i = 0; i < Series; i++)
        {
            if (string.Equals(SeriesNames[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }

    /// <summary>Adds a user-defined inequality a·r ≤ b (indices i·W + t, distinct and in range; finite values).</summary>
    public LinearConstraintSet With(LinearInequality inequality)
    {
        ArgumentNullException.ThrowIfNull(inequality);
        if (inequality.Indices.Count != inequality.Coefficients.Count)
            throw new ArgumentException($"{inequality.Indices.Count} indices for {inequality.Coefficients.Count} coefficients", nameof(inequality));
        if (inequality.Indices.Count == 0) throw new ArgumentException("an inequality needs at least one coefficient", nameof(inequality));
        if (!double.IsFinite(inequality.Bound)) throw new ArgumentException("the bound must be finite", nameof(inequality));
        var seen = new HashSet<int>();
        for (int k = 0; k < inequality.Indices.Count; k++)
        {
            int index = inequality.Indices[k];
            if (index < 0 || index >= Size) throw new ArgumentOutOfRangeException(nameof(inequality), $"index {index} is outside the window (0..{Size - 1})");
            if (!seen.Add(index)) throw new ArgumentException($"index {index} appears twice", nameof(inequality));
            if (!double.IsFinite(inequality.Coefficients[k])) throw new ArgumentException("coefficients must be finite", nameof(inequality));
        }

        var copy = new LinearInequality(inequality.Indices.ToArray(), inequality.Coefficients.ToArray(), inequality.Bound, inequality.Label);
        return new LinearConstraintSet(SeriesNames, Window, [.. _rows, copy]);
    }

    /// <summary>Adds every inequality of <paramref name="other"/> (same series and window).</summary>
    public LinearConstraintSet Concat(LinearConstraintSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Window != Window || !other.SeriesNames.SequenceEqual(SeriesNames, StringComparer.Ordinal))
            throw new ArgumentException("the sets constrain different series or windows", nameof(other));
        return new LinearConstraintSet(SeriesNames, Window, [.. _rows, .. other._rows]);
    }

    /// <summary>
    /// Per-step bounds on one series: <paramref name="lower"/> ≤ r_{i,t} ≤ <paramref name="upper"/> for every step t
    /// (log returns; a null side is absent). Adds up to 2W inequalities.
    /// </summary>
    public LinearConstraintSet WithSeriesBounds(int series, double? lower, double? upper)
    {
        CheckSeries(series);
        var set = this;
        for (int t = 0; t < Window; t++)
        {
            int[] index = [(series * Window) + t];
            string name = $"{SeriesNames[series]}[{t}]";
            if (upper is double u) set = set.With(new LinearInequality(index, [1.0], u, $"{name} ≤ {Format(u)}"));
            if (lower is double l) set = set.With(new LinearInequality(index, [-1.0], -l, $"{name} ≥ {Format(l)}"));
        }

        return set;
    }

    /// <summary>
    /// Cross-sectional bounds at every step: <paramref name="lower"/> ≤ Σ_i w_i r_{i,t} ≤ <paramref name="upper"/> for each t
    /// (weights 1/D give the average across series, weights 1 the sum; zero weights are skipped).
    /// </summary>
    public LinearConstraintSet WithCrossSectionalBounds(IReadOnlyList<double> weights, double? lower, double? upper)
    {
        CheckWeights(weights);
        var set = this;
        for (int t = 0; t < Window; t++)
        {
            var index = new List<int>();
            var a = new List<double>();
            for (int i = 0; i < Series; i++)
            {
                if (weights[i] == 0) continue;
                index.Add((i * Window) + t);
                a.Add(weights[i]);
            }

            string name = $"{WeightsLabel(weights)}[{t}]";
            if (upper is double u) set = set.With(new LinearInequality(index, a, u, $"{name} ≤ {Format(u)}"));
            if (lower is double l) set = set.With(new LinearInequality(index, [.. a.Select(v => -v)], -l, $"{name} ≥ {Format(l)}"));
        }

        return set;
    }

    /// <summary>
    /// Bounds on one series' cumulative log return over the window: <paramref name="lower"/> ≤ Σ_t r_{i,t} ≤
    /// <paramref name="upper"/>. A fall of at least 20% is <c>upper: Math.Log(0.8)</c>.
    /// </summary>
    public LinearConstraintSet WithCumulativeBounds(int series, double? lower, double? upper)
    {
        CheckSeries(series);
        var weights = new double[Series];
        weights[series] = 1.0;
        return WithPortfolioCumulativeBounds(weights, lower, upper, $"{SeriesNames[series]} cumulative");
    }

    /// <summary>
    /// Bounds on a weighted sum of the series' cumulative log returns: <paramref name="lower"/> ≤ Σ_i w_i Σ_t r_{i,t} ≤
    /// <paramref name="upper"/> (weights 1/n over n series: their average cumulative log return).
    /// </summary>
    public LinearConstraintSet WithPortfolioCumulativeBounds(IReadOnlyList<double> weights, double? lower, double? upper, string? label = null)
    {
        CheckWeights(weights);
        var index = new List<int>();
        var a = new List<double>();
        for (int i = 0; i < Series; i++)
        {
            if (weights[i] == 0) continue;
            for (int t = 0; t < Window; t++)
            {
                index.Add((i * Window) + t);
                a.Add(weights[i]);
            }
        }

        string name = label ?? $"{WeightsLabel(weights)} cumulative";
        var set = this;
        if (upper is double u) set = set.With(new LinearInequality(index, a, u, $"{name} ≤ {Format(u)}"));
        if (lower is double l) set = set.With(new LinearInequality(index, [.. a.Select(v => -v)], -l, $"{name} ≥ {Format(l)}"));
        return set;
    }

    /// <summary>a_k·r − b_k for inequality <paramref name="k"/> and one window r (positive: violated by that much).</summary>
    public double Excess(int k, ReadOnlySpan<double> returns)
    {
        CheckWindow(returns.Length);
        return ExcessOf(_rows[k], returns);
    }

    internal static double ExcessOf(LinearInequality row, ReadOnlySpan<double> returns)
    {
        double dot = 0;
        for (int j = 0; j < row.Indices.Count; j++) dot += row.Coefficients[j] * returns[row.Indices[j]];
        return dot - row.Bound;
    }

    /// <summary>The penalty P(r) = Σ_k max(0, a_k·r − b_k)² of one window r (D · W log returns).</summary>
    public double Penalty(ReadOnlySpan<double> returns)
    {
        CheckWindow(returns.Length);
        double p = 0;
        for (int k = 0; k < _rows.Length; k++)
        {
            double e = ExcessOf(_rows[k], returns);
            if (e > 0) p += e * e;
        }

        return p;
    }

    /// <summary>
    /// The penalty P(r) of one window and its gradient ∇P(r) = 2 Σ_k max(0, a_k·r − b_k) a_k, written to
    /// <paramref name="gradient"/> (overwritten, D · W long). P is continuously differentiable: the gradient is exact.
    /// </summary>
    public double Penalty(ReadOnlySpan<double> returns, Span<double> gradient)
    {
        CheckWindow(returns.Length);
        CheckWindow(gradient.Length);
        gradient.Clear();
        double p = 0;
        for (int k = 0; k < _rows.Length; k++)
        {
            double e = ExcessOf(_rows[k], returns);
            if (e <= 0) continue;
            p += e * e;
            var row = _rows[k];
            for (int j = 0; j < row.Indices.Count; j++) gradient[row.Indices[j]] += 2.0 * e * row.Coefficients[j];
        }

        return p;
    }

    /// <summary>Whether one window satisfies every inequality to within <paramref name="tolerance"/> (a_k·r − b_k ≤ tolerance).</summary>
    public bool IsSatisfied(ReadOnlySpan<double> returns, double tolerance = 0)
    {
        CheckWindow(returns.Length);
        for (int k = 0; k < _rows.Length; k++)
        {
            if (ExcessOf(_rows[k], returns) > tolerance) return false;
        }

        return true;
    }

    /// <summary>
    /// The share of <paramref name="count"/> windows (row-major, count × D × W log returns) that violate at least one
    /// inequality by more than <paramref name="tolerance"/>; 0 when count is 0.
    /// </summary>
    public double ViolationRate(ReadOnlySpan<float> returns, int count, double tolerance = 0)
    {
        int violated = 0;
        var window = new double[Size];
        for (int b = 0; b < count; b++)
        {
            Load(returns, b, count, window);
            if (!IsSatisfied(window, tolerance)) violated++;
        }

        return count == 0 ? 0 : violated / (double)count;
    }

    /// <summary>For each inequality, the share of <paramref name="count"/> windows that violate it by more than <paramref name="tolerance"/>.</summary>
    public double[] ViolationRates(ReadOnlySpan<float> returns, int count, double tolerance = 0)
    {
        var rates = new double[_rows.Length];
        var window = new double[Size];
        for (int b = 0; b < count; b++)
        {
            Load(returns, b, count, window);
            for (int k = 0; k < _rows.Length; k++)
            {
                if (ExcessOf(_rows[k], window) > tolerance) rates[k]++;
            }
        }

        for (int k = 0; k < rates.Length && count > 0; k++) rates[k] /= count;
        return rates;
    }

    private void Load(ReadOnlySpan<float> returns, int b, int count, double[] window)
    {
        if (returns.Length != (long)count * Size)
            throw new ArgumentException($"{returns.Length} values for {count} windows of {Series} × {Window}", nameof(returns));
        var source = returns.Slice(b * Size, Size);
        for (int j = 0; j < Size; j++) window[j] = source[j];
    }

    private static IReadOnlyList<string> Validate(IReadOnlyList<string> series, int window)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        if (series.Count == 0) throw new ArgumentException("at least one series", nameof(series));
        return series.ToArray();
    }

    private void CheckSeries(int series)
    {
        if (series < 0 || series >= Series) throw new ArgumentOutOfRangeException(nameof(series), $"series {series} is not in 0..{Series - 1}");
    }

    private void CheckWeights(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != Series) throw new ArgumentException($"{weights.Count} weights for {Series} series", nameof(weights));
        if (weights.All(w => w == 0) || weights.Any(w => !double.IsFinite(w))) throw new ArgumentException("weights must be finite and not all zero", nameof(weights));
    }

    private void CheckWindow(int length)
    {
        if (length != Size) throw new ArgumentException($"a window has {Size} values (D = {Series}, W = {Window}), not {length}");
    }

    private string WeightsLabel(IReadOnlyList<double> weights) =>
        string.Join(" + ", Enumerable.Range(0, Series).Where(i => weights[i] != 0).Select(i => weights[i] == 1 ? SeriesNames[i] : $"{Format(weights[i])}·{SeriesNames[i]}"));

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
