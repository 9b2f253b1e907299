using System.Numerics;
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
    /// added in order), and its DCR their smallest: bit-identical to it. When every column is numerical with a positive
    /// finite range and every value is finite (<see cref="Screens"/>), a lower bound of each sum is computed first with a
    /// multiplication by a reciprocal rounded down, 32 reference rows at a time, and only the rows whose bound does not
    /// exceed the smallest sum so far are summed exactly (<see cref="ComputeScreened"/>); otherwise every sum is computed,
    /// 32 reference rows at a time in <see cref="Vector512{T}"/> registers.</remarks>
    public static double[] Compute(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, IReadOnlyList<DcrColumnKind> kinds,
        int maxDegreeOfParallelism = -1)
    {
        var (d, ns, nr, range, fast) = Prepare(synthetic, reference, kinds);
        if (Screens(synthetic, reference, range, fast)) return ComputeScreened(synthetic, reference, range, maxDegreeOfParallelism);
        var dcr = new double[ns];
        Parallel.For(0, ns, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => dcr[i] = Row(i, synthetic, reference, kinds, d, nr, range, fast));
        return dcr;
    }

    /// <summary>Whether <see cref="ComputeScreened"/> applies: every column numerical with a finite positive range and no
    /// missing value, and every value of both sets finite (so no sum is NaN).</summary>
    private static bool Screens(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, double[] range, bool[] fast)
    {
        if (range.Length * Math.Pow(2, -22) >= 0.5) return false;
        for (var j = 0; j < range.Length; j++)
        {
            if (!fast[j] || !double.IsFinite(range[j])) return false;
        }
        return synthetic.All(AllFinite) && reference.All(AllFinite);

        static bool AllFinite(double[] column)
        {
            foreach (var v in column)
            {
                if (!double.IsFinite(v)) return false;
            }
            return true;
        }
    }

    private const int ScreenBlock = 8;     // synthetic rows that share a pass over a chunk of reference rows
    private const int ScreenChunk = 4096;  // reference rows per chunk (their columns stay in cache for the block)
    private const int ScreenTile = 32;     // reference rows per screening (two vectors of 16 floats)

    /// <summary>
    /// <see cref="Compute"/> when <see cref="Screens"/> holds: each reference row's sum is screened in single precision and
    /// summed exactly only where the screening cannot rule it out.
    /// </summary>
    /// <remarks>
    /// <para>Every value is mapped to u = fl32(fl(fl(v − lo)·w)), with lo the reference column's smallest value and
    /// w ≤ 1/range (1/range rounded, then stepped one double down), so the reference rows' u lie in [0, 1]. The screen of a
    /// reference row r for a synthetic row s is F = fl32(Σ_j min(|u_rj − u_sj|, 1)).</para>
    /// <para>Bound. Per column, with X = |r − s|/range (real) and the exact term T = min(fl(fl(|r − s|)/range), 1) ≥
    /// min(X, 1) − 2⁻⁵²: the u carry errors of at most 2⁻²³·|u| + 2⁻¹⁵⁰ (two double roundings, the conversion to float
    /// and its underflow), (r − lo)·w − (s − lo)·w = (r − s)·w ≤ X, and the float subtraction adds 2⁻²⁴ of its result,
    /// so min(|u_r − u_s|, 1) ≤ T + e with e = 2⁻²¹·(1 + |u_s|) (the reference's |u_r| ≤ 1 is folded in). The float sum of
    /// the d terms (each at most 1) exceeds their real sum by at most a factor 1 + d·2⁻²³ and the double sum S of the
    /// exact terms falls short of theirs by at most d²·2⁻⁵³. So F·(1 − d·2⁻²²) − Σ_j e_j − d(d + 2)·2⁻⁵³ ≤ S, and a row
    /// with F &gt; (best + Σ_j e_j + d(d + 2)·2⁻⁵³)/(1 − d·2⁻²²) (rounded up to float) has S &gt; best, the
    /// smallest exact sum so far: it is skipped. Every other row is summed exactly as <see cref="ComputeReference"/> sums
    /// it, so the smallest exact sum is the smallest of all (no sum is NaN here), whatever rows were skipped.</para>
    /// <para>When d·2⁻²² ≥ 1/2 (more than 2²¹ columns) the screening is not used.</para>
    /// </remarks>
    private static double[] ComputeScreened(IReadOnlyList<double[]> synthetic, IReadOnlyList<double[]> reference, double[] range,
        int maxDegreeOfParallelism)
    {
        var d = range.Length;
        int ns = synthetic[0].Length, nr = reference[0].Length;
        var columns = reference.ToArray();
        var lo = new double[d];
        var inverse = new double[d];
        var scaled = new float[d * nr];
        for (var j = 0; j < d; j++)
        {
            lo[j] = columns[j].Min();
            inverse[j] = Math.BitDecrement(1.0 / range[j]);
            for (var r = 0; r < nr; r++) scaled[(j * nr) + r] = (float)((columns[j][r] - lo[j]) * inverse[j]);
        }
        var dcr = new double[ns];
        Parallel.For(0, (ns + ScreenBlock - 1) / ScreenBlock, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            b => ScreenedBlock(b, synthetic, columns, range, lo, inverse, scaled, ns, nr, dcr));
        return dcr;
    }

    // one block of ScreenBlock synthetic rows of ComputeScreened; optimised at once (a tier-0 first call ran slowly)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScreenedBlock(int b, IReadOnlyList<double[]> synthetic, double[][] columns, double[] range, double[] lo, double[] inverse,
        float[] scaled, int ns, int nr, double[] dcr)
    {
        const int lanes = 16;
        var d = range.Length;
        var start = b * ScreenBlock;
        var count = Math.Min(ScreenBlock, ns - start);
        var s = new double[count * d];
        var u = new float[count * d];
        Span<double> slack = stackalloc double[ScreenBlock];
        for (var i = 0; i < count; i++)
        {
            double e = d * (d + 2) * Math.Pow(2, -53);
            for (var j = 0; j < d; j++)
            {
                var v = synthetic[j][start + i];
                s[(i * d) + j] = v;
                u[(i * d) + j] = (float)((v - lo[j]) * inverse[j]);
                e += Math.Pow(2, -21) * (1 + Math.Abs((double)u[(i * d) + j]));
            }
            slack[i] = e;
        }
        var shrink = 1 - (d * Math.Pow(2, -22));
        Span<double> best = stackalloc double[ScreenBlock];
        best.Fill(double.PositiveInfinity);
        var one = Vector512<float>.One;
        ref var su = ref MemoryMarshal.GetArrayDataReference(scaled);
        var tiled = nr / ScreenTile * ScreenTile;
        for (var c0 = 0; c0 < tiled; c0 += ScreenChunk)
        {
            var c1 = Math.Min(tiled, c0 + ScreenChunk);
            for (var i = 0; i < count; i++)
            {
                var row = s.AsSpan(i * d, d);
                var rowU = u.AsSpan(i * d, d);
                var smallest = best[i];
                var limit = Limit(smallest, slack[i], shrink);
                for (var r0 = c0; r0 < c1; r0 += ScreenTile)
                {
                    Vector512<float> a0 = Vector512<float>.Zero, a1 = a0;
                    for (var j = 0; j < d; j++)
                    {
                        var sv = Vector512.Create(rowU[j]);
                        var offset = (nuint)((j * nr) + r0);
                        a0 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref su, offset) - sv), one);
                        a1 += Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref su, offset + lanes) - sv), one);
                    }
                    var lv = Vector512.Create(limit);
                    var mask = (ulong)Vector512.LessThanOrEqual(a0, lv).ExtractMostSignificantBits()
                        | ((ulong)Vector512.LessThanOrEqual(a1, lv).ExtractMostSignificantBits() << lanes);
                    while (mask != 0)
                    {
                        var r = r0 + BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        var exact = ExactSum(columns, row, range, r);
                        if (exact < smallest)
                        {
                            smallest = exact;
                            limit = Limit(smallest, slack[i], shrink);
                        }
                    }
                }
                best[i] = smallest;
            }
        }
        for (var i = 0; i < count; i++)
        {
            var row = s.AsSpan(i * d, d);
            var smallest = best[i];
            for (var r = tiled; r < nr; r++)
            {
                var exact = ExactSum(columns, row, range, r);
                if (exact < smallest) smallest = exact;
            }
            dcr[start + i] = smallest / d;
        }
    }

    // the screen's threshold (ComputeScreened's remarks): (best + slack)/shrink, rounded up (two roundings in double, each
    // covered by a step up, then to float)
    private static float Limit(double best, double slack, double shrink)
    {
        var limit = Math.BitIncrement(Math.BitIncrement((best + slack) / shrink));
        var f = (float)limit;
        return f < limit ? MathF.BitIncrement(f) : f;
    }

    // Σ_j min(|r_j − s_j| / range_j, 1), the columns in order from 0 (ComputeReference's sum for one reference row)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ExactSum(double[][] columns, ReadOnlySpan<double> s, double[] range, int r)
    {
        double sum = 0;
        for (var j = 0; j < s.Length; j++) sum += Math.Min(Math.Abs(columns[j][r] - s[j]) / range[j], 1);
        return sum;
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
