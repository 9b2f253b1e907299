using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>The outcome of the linkability attack.</summary>
/// <param name="FirstColumns">The series of the attacker's first dataset.</param>
/// <param name="SecondColumns">The series of the attacker's second dataset (disjoint from the first).</param>
/// <param name="Neighbours">k: a link is made when the k nearest synthetic rows of the two halves share a row.</param>
/// <param name="Targets">Train rows attacked, and holdout rows used as the control (as many).</param>
/// <param name="Attack">Share of train rows whose two halves are linked (Wilson 95%).</param>
/// <param name="Control">The same share for holdout rows (the generator never saw them).</param>
/// <param name="Baseline">The share linked by guessing: two independent draws of k distinct synthetic rows that share one.</param>
/// <param name="Risk">Residual risk (attack − control)/(1 − control) with its propagated 95% half-width; the value is clamped to [0, 1] in reports.</param>
/// <param name="Trusted">False when the attack does no better than the baseline: then the risk says nothing (it is not "safe").</param>
public sealed record LinkabilityReport(IReadOnlyList<string> FirstColumns, IReadOnlyList<string> SecondColumns, int Neighbours, int Targets,
    SuccessRate Attack, SuccessRate Control, SuccessRate Baseline, SuccessRate Risk, bool Trusted);

/// <summary>The attacker's two datasets of the linkability attack, by series name (disjoint, neither empty).</summary>
/// <param name="First">The series of the first dataset.</param>
/// <param name="Second">The series of the second dataset.</param>
public sealed record LinkabilityDatasets(IReadOnlyList<string> First, IReadOnlyList<string> Second)
{
    /// <summary>Why the datasets are no pair of disjoint, non-empty lists of <paramref name="names"/> (a series named twice,
    /// a name that is not a series, an empty dataset, in that order), or null when they are.</summary>
    public string? WhyNot(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var all = First.Concat(Second);
        if (all.GroupBy(name => name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            return $"series '{repeated.Key}' is named twice; the attacker's two datasets hold disjoint series";
        if (all.FirstOrDefault(name => !names.Contains(name, StringComparer.Ordinal)) is { } unknown)
            return $"'{unknown}' is not a series of the data ({string.Join(", ", names)})";
        return First.Count == 0 || Second.Count == 0 ? "each of the attacker's two datasets needs at least one series" : null;
    }

    /// <summary>The datasets as series indices of <paramref name="names"/>.</summary>
    /// <exception cref="ArgumentException">What <see cref="WhyNot"/> names.</exception>
    public (int[] First, int[] Second) Indices(IReadOnlyList<string> names)
    {
        if (WhyNot(names) is { } why) throw new ArgumentException(why);
        int Index(string name) => names.Select((n, j) => (n, j)).First(p => string.Equals(p.n, name, StringComparison.Ordinal)).j;
        return (First.Select(Index).ToArray(), Second.Select(Index).ToArray());
    }
}

/// <summary>
/// The linkability attack of the Article 29 Working Party's three criteria (opinion 05/2014), re-implemented from the
/// description of Giomi et al. 2023 ("A unified framework for quantifying privacy risk in synthetic data", PoPETs;
/// RELIABILITY.md PRIV-6): the attacker holds two datasets about the same records, each with only some of the series
/// (<c>first</c> and <c>second</c>, disjoint), and uses the synthetic set to join them. For a target record, the k
/// synthetic rows nearest to its first half (on the first series) and the k nearest to its second half are found; the
/// halves are linked when the two sets share a row. Run on train rows (attack) and holdout rows (control), the excess
/// of the former over the latter is what the synthetic set reveals about its own training records; the baseline links
/// by random rows.
/// </summary>
/// <remarks>Distances are Euclidean over the half's series standardised with the synthetic rows' mean and standard
/// deviation (the attacker holds the synthetic set), as <see cref="AttributeInference"/>; ties go to the lower synthetic
/// row. On a single series per half any monotone scaling gives the same neighbours, so Anonymeter's 4-row fixture gives
/// its published rates.</remarks>
public static class Linkability
{
    /// <summary>Philox stream of the targets and the baseline (DOMIAS 2, shadow 4, attribute inference 5, audit subsets 8,
    /// privacy subsample 9, singling out 10).</summary>
    public const ulong Stream = 11;

    /// <summary>k of the attack's default: the two halves must have the same nearest synthetic row.</summary>
    public const int DefaultNeighbours = 1;

    /// <summary>
    /// The default split of <paramref name="seriesCount"/> series into the attacker's two datasets: the first ⌈D/2⌉ series
    /// in their order, and the rest.
    /// </summary>
    public static (int[] First, int[] Second) DefaultSplit(int seriesCount)
    {
        if (seriesCount < 2) throw new ArgumentOutOfRangeException(nameof(seriesCount), seriesCount, "linkability needs at least 2 series, one for each dataset");
        var half = (seriesCount + 1) / 2;
        return ([.. Enumerable.Range(0, half)], [.. Enumerable.Range(half, seriesCount - half)]);
    }

    /// <summary>
    /// Runs the attack on up to <paramref name="maxTargets"/> train rows and as many holdout rows (drawn without
    /// replacement, Philox stream <see cref="Stream"/>), with the series <paramref name="first"/> and
    /// <paramref name="second"/> (indices, disjoint, non-empty) as the attacker's two datasets.
    /// </summary>
    public static LinkabilityReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, IReadOnlyList<int> first, IReadOnlyList<int> second,
        ulong seed = 0, int maxTargets = 500, int neighbours = DefaultNeighbours, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var d = synthetic.SeriesCount;
        if (train.SeriesCount != d || holdout.SeriesCount != d) throw new ArgumentException("synthetic, train and holdout must have the same series");
        CheckColumns(first, second, d);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTargets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(neighbours);
        if (train.RowCount < 1 || holdout.RowCount < 1) throw new ArgumentException("linkability needs train and holdout rows");
        if (neighbours > synthetic.RowCount)
            throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, $"the synthetic set has {synthetic.RowCount} rows, fewer than k");

        var rng = new Philox(seed, Stream);
        var n = Math.Min(maxTargets, Math.Min(train.RowCount, holdout.RowCount));
        var trainIdx = MembershipInference.Shuffled(train.RowCount, rng)[..n];
        var holdIdx = MembershipInference.Shuffled(holdout.RowCount, rng)[..n];
        var synRows = MembershipInference.Rows(synthetic);
        var (mean, sd) = AttackRows.Scale(synRows, d);
        int[] a = [.. first], b = [.. second];
        var synA = AttackRows.Standardise(synRows, d, mean, sd, a);
        var synB = AttackRows.Standardise(synRows, d, mean, sd, b);

        int Links(SeriesSet set, int[] rows)
        {
            var targets = MembershipInference.Take(MembershipInference.Rows(set), rows, d);
            var nearA = NearestRows(AttackRows.Standardise(targets, d, mean, sd, a), synA, a.Length, neighbours, maxDegreeOfParallelism);
            var nearB = NearestRows(AttackRows.Standardise(targets, d, mean, sd, b), synB, b.Length, neighbours, maxDegreeOfParallelism);
            return CountLinks(nearA, nearB, neighbours);
        }

        var attack = SuccessRate.Wilson(n, Links(train, trainIdx));
        var control = SuccessRate.Wilson(n, Links(holdout, holdIdx));
        var baseline = SuccessRate.Wilson(n, CountLinks(RandomRows(n, synthetic.RowCount, neighbours, rng), RandomRows(n, synthetic.RowCount, neighbours, rng), neighbours));
        return new LinkabilityReport([.. a.Select(j => synthetic.Names[j])], [.. b.Select(j => synthetic.Names[j])], neighbours, n,
            attack, control, baseline, SuccessRate.Residual(attack, control), attack.Value > baseline.Value);
    }

    /// <summary>
    /// How many targets are linked: target t (row t of the two tables, <paramref name="k"/> synthetic row numbers each)
    /// is linked when its first-half rows <paramref name="first"/>[t·k .. t·k + k) and second-half rows share one.
    /// </summary>
    public static int CountLinks(ReadOnlySpan<int> first, ReadOnlySpan<int> second, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (first.Length != second.Length || first.Length % k != 0) throw new ArgumentException("both tables hold k synthetic rows per target");
        var links = 0;
        for (var t = 0; t < first.Length / k; t++)
        {
            var x = first.Slice(t * k, k);
            var y = second.Slice(t * k, k);
            foreach (var r in x)
            {
                if (y.Contains(r))
                {
                    links++;
                    break;
                }
            }
        }
        return links;
    }

    /// <summary>
    /// The <paramref name="k"/> nearest rows of <paramref name="references"/> to each query (row-major, d columns), nearest
    /// first: Σ (q − r)² in double over the columns in order, ties to the lower row. Queries × k row numbers, row-major.
    /// </summary>
    /// <remarks>k = 1 (the default attack) takes <see cref="NearestNeighbors"/>' search (a k-d tree or the screened brute
    /// force), which gives the plain loop's row bit for bit; larger k the plain loop (<see cref="NearestRowsReference"/>).</remarks>
    public static int[] NearestRows(double[] queries, double[] references, int d, int k, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var n = references.Length / d;
        if (k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"{n} references cannot give {k} neighbours");
        return k == 1 ? NearestNeighbors.KNearestSquared(queries, references, d, 1, null, maxDegreeOfParallelism).Nearest
            : NearestRowsReference(queries, references, d, k, maxDegreeOfParallelism);
    }

    /// <summary><see cref="NearestRows"/> by the plain loop over every reference: its path for k &gt; 1 and its oracle (tests).</summary>
    internal static int[] NearestRowsReference(double[] queries, double[] references, int d, int k, int maxDegreeOfParallelism = -1) =>
        AttackRows.KNearestReferenceRows(queries, references, d, k, null, maxDegreeOfParallelism).Rows;

    // the baseline's guesses: for each of n targets, k distinct synthetic rows drawn uniformly (a repeat is drawn again)
    private static int[] RandomRows(int n, int syntheticRows, int k, Philox rng)
    {
        var rows = new int[n * k];
        var picked = new HashSet<int>();
        for (var t = 0; t < n; t++)
        {
            picked.Clear();
            for (var i = 0; i < k; i++)
            {
                int r;
                do r = rng.NextInt(syntheticRows); while (!picked.Add(r));
                rows[(t * k) + i] = r;
            }
        }
        return rows;
    }

    internal static void CheckColumns(IReadOnlyList<int> first, IReadOnlyList<int> second, int d)
    {
        if (first.Count == 0 || second.Count == 0) throw new ArgumentException("each of the attacker's two datasets needs at least one series");
        var seen = new HashSet<int>();
        foreach (var j in first.Concat(second))
        {
            if (j < 0 || j >= d) throw new ArgumentOutOfRangeException(nameof(first), j, $"series index outside 0..{d - 1}");
            if (!seen.Add(j)) throw new ArgumentException($"series {j} is named twice: the attacker's two datasets hold disjoint series");
        }
    }
}
