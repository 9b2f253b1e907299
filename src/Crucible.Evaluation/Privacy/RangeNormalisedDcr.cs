using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Crucible.Evaluation.Privacy;

/// <summary>How a column's values are compared by <see cref="RangeNormalisedDcr"/>.</summary>
public enum DcrColumnKind
{
    /// <summary>Numbers (and datetimes as seconds): |s − r| / range, capped at 1; range = max − min of the reference column.</summary>
    Numerical,

    /// <summary>Codes of categories or booleans: 0 when equal, else 1.</summary>
    Categorical,
}

/// <summary>
/// Distance to closest record in SDMetrics' convention (RELIABILITY.md PRIV-2; re-implemented from its description):
/// every column contributes a distance in [0, 1] — numerical columns |s − r| / range capped at 1, with the range of the
/// reference (real) column; categorical columns 0 on a match, else 1 — and a row's distance to a record is the mean of
/// its columns'. Missing values (NaN) are at distance 0 from a missing value and 1 from any value. A numerical column
/// whose reference range is 0 (or has no finite value) scores 0 on equal values and 1 otherwise. The DCR of a synthetic
/// row is its smallest distance to a reference row. Unlike the report's z-scored Euclidean DCR (the peer's), every
/// column weighs at most 1/D, so one extreme series cannot dominate.
/// </summary>
public static class RangeNormalisedDcr
{
    /// <summary>
    /// The DCR of each synthetic row against the reference rows: <paramref name="synthetic"/> and
    /// <paramref name="reference"/> hold one array per column (same order as <paramref name="kinds"/>), NaN for missing.
    /// </summary>
    /// <remarks>Each row's sums are those of <see cref="ComputeReference"/> (min(|s − r| / range, 1) in double, the columns
    /// added in order), computed 32 reference rows at a time in <see cref="Vector512{T}"/> registers in one pass over the
    /// columns instead of five vector passes per column over every reference row: bit-identical to it.</remarks>
    public static double[] Compute(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, IReadOnlyList<DcrColumnKind> kinds,
        int maxDegreeOfParallelism = -1)
    {
        var (d, ns, nr, range, fast) = Prepare(synthetic, reference, kinds);
        var dcr = new double[ns];
        Parallel.For(0, ns, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => dcr[i] = Row(i, synthetic, reference, kinds, d, nr, range, fast));
        return dcr;
    }

    // the DCR of synthetic row i (Compute); optimised at once (a tier-0 first call ran the whole search slowly)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Row(int i, IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, IReadOnlyList<DcrColumnKind> kinds,
        int d, int nr, double[] range, bool[] fast)
    {
        const int lanes = 8, tile = 4 * lanes;
        Span<double> spill = stackalloc double[tile];
        var min = Vector512.Create(double.PositiveInfinity);
        var nan = Vector512<double>.Zero; // all-ones lanes where a sum was NaN
        var one = Vector512<double>.One;
        var tailMin = double.PositiveInfinity;
        var tailNaN = false;
        var r0 = 0;
        for (; r0 + tile <= nr; r0 += tile)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0; j < d; j++)
            {
                double s = synthetic[j][i];
                ref var col = ref MemoryMarshal.GetArrayDataReference(reference[j]);
                if (fast[j] && !double.IsNaN(s))
                {
                    // term = min(|r − s| / range, 1), as the reference path's Subtract, Abs, Divide, Min, Add
                    var sv = Vector512.Create(s);
                    var rv = Vector512.Create(range[j]);
                    a0 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref col, (nuint)r0) - sv) / rv, one);
                    a1 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref col, (nuint)(r0 + lanes)) - sv) / rv, one);
                    a2 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref col, (nuint)(r0 + (2 * lanes))) - sv) / rv, one);
                    a3 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref col, (nuint)(r0 + (3 * lanes))) - sv) / rv, one);
                }
                else
                {
                    a0.CopyTo(spill);
                    a1.CopyTo(spill[lanes..]);
                    a2.CopyTo(spill[(2 * lanes)..]);
                    a3.CopyTo(spill[(3 * lanes)..]);
                    for (int l = 0; l < tile; l++) spill[l] += Value(s, reference[j][r0 + l], kinds[j], range[j]);
                    a0 = Vector512.Create<double>(spill);
                    a1 = Vector512.Create<double>(spill[lanes..]);
                    a2 = Vector512.Create<double>(spill[(2 * lanes)..]);
                    a3 = Vector512.Create<double>(spill[(3 * lanes)..]);
                }
            }
            nan |= ~Vector512.Equals(a0, a0) | ~Vector512.Equals(a1, a1) | ~Vector512.Equals(a2, a2) | ~Vector512.Equals(a3, a3);
            min = Vector512.Min(min, Vector512.Min(Vector512.Min(a0, a1), Vector512.Min(a2, a3)));
        }
        for (; r0 < nr; r0++)
        {
            double sum = 0;
            for (int j = 0; j < d; j++)
            {
                double s = synthetic[j][i];
                sum += fast[j] && !double.IsNaN(s) ? Math.Min(Math.Abs(reference[j][r0] - s) / range[j], 1) : Value(s, reference[j][r0], kinds[j], range[j]);
            }
            if (double.IsNaN(sum)) tailNaN = true;
            else tailMin = Math.Min(tailMin, sum);
        }
        // the smallest sum (NaN when any is, as TensorPrimitives.Min over the sums), over d
        if (tailNaN || nan != Vector512<double>.Zero) return double.NaN;
        var smallest = tailMin;
        for (int l = 0; l < lanes; l++) smallest = Math.Min(smallest, min[l]);
        return smallest / d;
    }

    // the column count, row counts, each numerical column's reference range, and which columns take the vector path
    private static (int D, int Ns, int Nr, double[] Range, bool[] Fast) Prepare(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference,
        IReadOnlyList<DcrColumnKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(kinds);
        int d = kinds.Count;
        if (d == 0 || synthetic.Count != d || reference.Count != d) throw new ArgumentException("one column array per kind, in both sets");
        int ns = synthetic[0].Length, nr = reference[0].Length;
        if (synthetic.Any(c => c.Length != ns) || reference.Any(c => c.Length != nr)) throw new ArgumentException("columns of one set must have the same length");
        if (nr == 0) throw new ArgumentException("the reference set has no rows");

        var range = new double[d];
        for (int j = 0; j < d; j++)
        {
            if (kinds[j] != DcrColumnKind.Numerical) continue;
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            foreach (var v in reference[j])
            {
                if (double.IsNaN(v)) continue;
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }

            range[j] = hi > lo ? hi - lo : 0;
        }

        // a column takes the vectorised path (over all reference rows at once) when it is numerical with a positive range
        // and no missing reference value; the per-element rules (missing values, zero range, codes) otherwise. Either
        // path computes min(|s − r| / range, 1) in double and sums the columns in order, so they agree bit for bit.
        var fast = new bool[d];
        for (int j = 0; j < d; j++) fast[j] = kinds[j] == DcrColumnKind.Numerical && range[j] > 0 && !reference[j].Any(double.IsNaN);
        return (d, ns, nr, range, fast);
    }

    /// <summary><see cref="Compute"/> by five vector passes per column over every reference row: the oracle of its bits (tests).</summary>
    internal static double[] ComputeReference(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, IReadOnlyList<DcrColumnKind> kinds,
        int maxDegreeOfParallelism = -1)
    {
        var (d, ns, nr, range, fast) = Prepare(synthetic, reference, kinds);
        var dcr = new double[ns];
        Parallel.For(0, ns, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            () => (Sum: new double[nr], Term: new double[nr]),
            (i, _, buffers) =>
            {
                var (sum, term) = buffers;
                Array.Clear(sum);
                for (int j = 0; j < d; j++)
                {
                    double s = synthetic[j][i];
                    if (fast[j] && !double.IsNaN(s))
                    {
                        // term = min(|r − s| / range, 1) for every reference row r
                        TensorPrimitives.Subtract(reference[j], s, term);
                        TensorPrimitives.Abs(term, term);
                        TensorPrimitives.Divide(term, range[j], term);
                        TensorPrimitives.Min(term, 1.0, term);
                        TensorPrimitives.Add(sum, term, sum);
                    }
                    else
                    {
                        var column = reference[j];
                        for (int r = 0; r < nr; r++) sum[r] += Value(s, column[r], kinds[j], range[j]);
                    }
                }

                dcr[i] = TensorPrimitives.Min(sum) / d;
                return buffers;
            },
            _ => { });
        return dcr;
    }

    /// <summary>One column's distance between a synthetic value <paramref name="s"/> and a reference value <paramref name="r"/>.</summary>
    public static double Value(double s, double r, DcrColumnKind kind, double range)
    {
        bool sMissing = double.IsNaN(s), rMissing = double.IsNaN(r);
        if (sMissing || rMissing) return sMissing && rMissing ? 0 : 1;
        if (kind == DcrColumnKind.Categorical || range <= 0) return s == r ? 0 : 1;
        return Math.Min(Math.Abs(s - r) / range, 1);
    }
}
