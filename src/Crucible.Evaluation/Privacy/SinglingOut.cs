using System.Globalization;
using Crucible.Data;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>How the singling-out attack writes its predicates.</summary>
public enum SinglingOutMode
{
    /// <summary>
    /// One condition per query: per series, <c>x ≤ min</c> and <c>x ≥ max</c> of its synthetic values and <c>x = v</c> for
    /// each value v that occurs once among them, shuffled; the first ones that single out a synthetic row are kept.
    /// </summary>
    Univariate,

    /// <summary>
    /// Several conditions per query: a random synthetic row and random distinct series, each condition <c>x ≥ v</c> when the
    /// row's value v is above the series' synthetic median, else <c>x ≤ v</c> (the tail away from the median); kept when
    /// it singles out a synthetic row and is new.
    /// </summary>
    Multivariate,
}

/// <summary>The comparison of one condition of a singling-out query.</summary>
public enum SinglingOutComparison
{
    /// <summary><c>x ≤ v</c>.</summary>
    LessOrEqual,

    /// <summary><c>x ≥ v</c>.</summary>
    GreaterOrEqual,

    /// <summary><c>x = v</c>.</summary>
    Equal,
}

/// <summary>One condition of a singling-out query: series <paramref name="Column"/> compared with <paramref name="Value"/>.</summary>
/// <param name="Column">The series (index) the condition reads.</param>
/// <param name="Comparison">How the series' value is compared with <paramref name="Value"/>.</param>
/// <param name="Value">The threshold or the value to equal.</param>
public readonly record struct SinglingOutCondition(int Column, SinglingOutComparison Comparison, double Value)
{
    /// <summary>Whether <paramref name="x"/> satisfies the condition (IEEE comparison: −0 equals 0).</summary>
    public bool Holds(double x) => Comparison switch
    {
        SinglingOutComparison.LessOrEqual => x <= Value,
        SinglingOutComparison.GreaterOrEqual => x >= Value,
        _ => x == Value,
    };

    /// <summary>The condition as text, <c>name op value</c> (invariant culture, round-trip value).</summary>
    public string ToString(IReadOnlyList<string>? names)
    {
        var name = names is null ? "x" + Column.ToString(CultureInfo.InvariantCulture) : names[Column];
        var op = Comparison switch
        {
            SinglingOutComparison.LessOrEqual => "<=",
            SinglingOutComparison.GreaterOrEqual => ">=",
            _ => "==",
        };
        return $"{name} {op} {Value.ToString("R", CultureInfo.InvariantCulture)}";
    }

    /// <summary>The condition as text with the series named <c>x0</c>, <c>x1</c>, ….</summary>
    public override string ToString() => ToString(null);
}

/// <summary>
/// A singling-out predicate: the conjunction of conditions on distinct series, kept in order of column so that the same
/// set of conditions is the same query (equality compares the conditions). It singles out a record in a set when
/// exactly one row of the set matches it.
/// </summary>
public sealed class SinglingOutQuery : IEquatable<SinglingOutQuery>
{
    private readonly SinglingOutCondition[] _conditions;

    /// <summary>The query of <paramref name="conditions"/> (any order; at least one, on distinct series).</summary>
    /// <exception cref="ArgumentException">No condition, or two conditions on the same series.</exception>
    public SinglingOutQuery(IEnumerable<SinglingOutCondition> conditions)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        _conditions = [.. conditions.OrderBy(c => c.Column)];
        if (_conditions.Length == 0) throw new ArgumentException("a query needs at least one condition", nameof(conditions));
        for (var i = 1; i < _conditions.Length; i++)
        {
            if (_conditions[i].Column == _conditions[i - 1].Column)
                throw new ArgumentException($"a query has at most one condition per series ({_conditions[i].Column.ToString(CultureInfo.InvariantCulture)} repeats)", nameof(conditions));
        }

        if (_conditions[0].Column < 0) throw new ArgumentException("series indices are ≥ 0", nameof(conditions));
    }

    /// <summary>The conditions, in order of column.</summary>
    public IReadOnlyList<SinglingOutCondition> Conditions => _conditions;

    /// <summary>Whether one row (one value per series) satisfies every condition.</summary>
    public bool Matches(ReadOnlySpan<double> row)
    {
        foreach (var c in _conditions)
        {
            if (!c.Holds(row[c.Column])) return false;
        }

        return true;
    }

    /// <summary>
    /// The number of rows of <paramref name="set"/> (every row, duplicates included) that match, counting stopped once it
    /// reaches <paramref name="stopAt"/> (2 answers "does it single out?" without reading the rest).
    /// </summary>
    public int Count(SeriesSet set, int stopAt = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Count(set.Columns, set.RowCount, stopAt);
    }

    /// <summary>Whether exactly one row of <paramref name="set"/> matches.</summary>
    public bool SinglesOut(SeriesSet set) => Count(set, 2) == 1;

    /// <summary>The matches among the first <paramref name="rows"/> rows of column-major <paramref name="columns"/>, up to <paramref name="stopAt"/>.</summary>
    internal int Count(double[][] columns, int rows, int stopAt)
    {
        var count = 0;
        for (var i = 0; i < rows && count < stopAt; i++)
        {
            if (MatchesRow(columns, i)) count++;
        }

        return count;
    }

    /// <summary>Whether row <paramref name="i"/> of column-major <paramref name="columns"/> matches.</summary>
    internal bool MatchesRow(double[][] columns, int i)
    {
        foreach (var c in _conditions)
        {
            if (!c.Holds(columns[c.Column][i])) return false;
        }

        return true;
    }

    /// <summary>The query as text, its conditions joined by <c>AND</c>, with the series' <paramref name="names"/> when given.</summary>
    public string ToString(IReadOnlyList<string>? names) => string.Join(" AND ", _conditions.Select(c => c.ToString(names)));

    /// <inheritdoc/>
    public override string ToString() => ToString(null);

    /// <inheritdoc/>
    public bool Equals(SinglingOutQuery? other) => other is not null && _conditions.AsSpan().SequenceEqual(other._conditions);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SinglingOutQuery);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var c in _conditions) hash.Add(c);
        return hash.ToHashCode();
    }
}

/// <summary>The outcome of the singling-out attack.</summary>
/// <param name="Mode">How the queries were written.</param>
/// <param name="ColumnsPerQuery">Conditions per query: 1 in univariate mode, else the requested count capped at the series count.</param>
/// <param name="Requested">The queries asked for.</param>
/// <param name="Queries">The distinct queries found that single out a synthetic row (at most <paramref name="Requested"/>); every rate is out of this number. 0 when none was found: then every rate is (0 ± 0) and <paramref name="Trusted"/> is false (nothing was measured).</param>
/// <param name="Attempts">Candidate queries tried to find them.</param>
/// <param name="TrainRows">Distinct train rows the queries were counted on.</param>
/// <param name="HoldoutRows">Distinct holdout rows the queries were counted on.</param>
/// <param name="Attack">Share of the queries that single out a train record (Wilson 95%).</param>
/// <param name="Control">Share that single out a holdout record, corrected to the train set's size (Wilson 95% of the corrected proportion).</param>
/// <param name="ControlCorrection">f(train rows)/f(holdout rows) of the fitted isolation model, the factor applied to the holdout count (1 when the sizes are equal, or when the model cannot be fitted).</param>
/// <param name="Baseline">Share of as many random queries (random series, synthetic value and comparison) that single out a train record.</param>
/// <param name="Risk">Residual risk (attack − control)/(1 − control) with its propagated 95% half-width.</param>
/// <param name="Trusted">False when the attack does no better than the baseline: then the risk says nothing (it is not "safe").</param>
public sealed record SinglingOutReport(SinglingOutMode Mode, int ColumnsPerQuery, int Requested, int Queries, int Attempts,
    int TrainRows, int HoldoutRows, SuccessRate Attack, SuccessRate Control, double ControlCorrection, SuccessRate Baseline,
    SuccessRate Risk, bool Trusted);

/// <summary>
/// The singling-out attack (RELIABILITY.md PRIV-6; "singling out" in the sense of the Article 29 Working Party's opinion
/// 05/2014): the attacker reads the synthetic rows and writes predicates that each match exactly one synthetic row,
/// betting that they match exactly one record of the training set too. Counted on train rows (attack) and holdout rows
/// (control), the excess of the former over the latter is what the generator gives away about its own records.
/// </summary>
/// <remarks>
/// Re-implemented from the description of Giomi et al. 2023, "A Unified Framework for Quantifying Privacy Risk in
/// Synthetic Data" (the main / control / baseline design); the correction of the control for the holdout's size uses
/// the predicate isolation probability of Cohen &amp; Nissim 2020, "Towards formalizing the GDPR's notion of singling
/// out" (<see cref="ProbabilityIntegral"/>). Every set is reduced to its distinct rows first (compared by the bits of
/// v + 0, so −0 and 0 are one value): a duplicated record can be singled out by no predicate.
/// </remarks>
public static class SinglingOut
{
    /// <summary>The Philox stream of this attack.</summary>
    public const ulong Stream = 10;

    /// <summary>Queries asked for by default.</summary>
    public const int DefaultAttacks = 500;

    /// <summary>Conditions per multivariate query by default.</summary>
    public const int DefaultColumns = 3;

    /// <summary>Candidate queries tried per query asked for, when no <c>maxAttempts</c> is given.</summary>
    public const int DefaultAttemptsPerAttack = 200;

    // subsets of the holdout measured for the size correction: this many sizes, this many subsets of each
    private const int CorrectionSizes = 10;
    private const int CorrectionRepeats = 5;

    /// <summary>
    /// Runs the attack (Philox stream <see cref="Stream"/>): finds up to <paramref name="attacks"/> distinct queries that
    /// single out a distinct synthetic row, trying at most <paramref name="maxAttempts"/> candidates (default
    /// <see cref="DefaultAttemptsPerAttack"/> × <paramref name="attacks"/>), and counts those that single out a distinct
    /// train row, a distinct holdout row, and as many random baseline queries that single out a train row. The result
    /// depends on the seed only, never on <paramref name="maxDegreeOfParallelism"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The sets differ in series count, one has no rows, a value is not finite, or a count is below 1.</exception>
    public static SinglingOutReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, SinglingOutMode mode,
        ulong seed = 0, int attacks = DefaultAttacks, int columnsPerQuery = DefaultColumns, int? maxAttempts = null,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        Validate(synthetic.SeriesCount, synthetic.RowCount, attacks, columnsPerQuery, maxAttempts);
        return Run(Distinct.Of(synthetic, train, holdout), mode, seed, attacks, columnsPerQuery, maxAttempts, maxDegreeOfParallelism);
    }

    /// <summary>
    /// <see cref="Run(SeriesSet, SeriesSet, SeriesSet, SinglingOutMode, ulong, int, int, int?, int)"/> on the sets' distinct
    /// rows, reduced once by <see cref="Distinct.Of"/> (the evaluator runs both modes on the same sets). The sets were
    /// checked by <see cref="Distinct.Of"/>; the counts are checked here.
    /// </summary>
    internal static SinglingOutReport Run(Distinct sets, SinglingOutMode mode, ulong seed = 0, int attacks = DefaultAttacks,
        int columnsPerQuery = DefaultColumns, int? maxAttempts = null, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(sets);
        Validate(sets.SeriesCount, sets.Synthetic.Count, attacks, columnsPerQuery, maxAttempts);
        var d = sets.SeriesCount;
        var attempts = maxAttempts ?? DefaultAttemptsPerAttack * attacks;
        var rng = new Philox(seed, Stream);
        var (syn, trn, hold) = (sets.Synthetic, sets.Train, sets.Holdout);
        var perQuery = mode == SinglingOutMode.Univariate ? 1 : Math.Min(columnsPerQuery, d);
        var (queries, tried) = Find(syn, mode, perQuery, attacks, attempts, rng);
        var q = queries.Length;
        if (q == 0)
        {
            return new SinglingOutReport(mode, perQuery, attacks, 0, tried, trn.Count, hold.Count, default, default, 1, default, default, false);
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        var trainHits = new bool[q];
        var holdMatches = new int[q][];
        Parallel.For(0, q, options, i =>
        {
            trainHits[i] = queries[i].Count(trn.Columns, trn.Count, 2) == 1;
            holdMatches[i] = Matching(queries[i], hold);
        });
        var attackCount = trainHits.Count(h => h);
        var controlCount = holdMatches.Count(m => m.Length == 1);
        var correction = trn.Count == hold.Count ? 1.0 : SizeCorrection(holdMatches, hold.Count, trn.Count, rng);
        var baselineQueries = Baseline(syn, perQuery, q, rng);
        var baselineHits = new bool[q];
        Parallel.For(0, q, options, i => baselineHits[i] = baselineQueries[i].Count(trn.Columns, trn.Count, 2) == 1);
        var attack = SuccessRate.Wilson(q, attackCount);
        var control = SuccessRate.WilsonOfProportion(q, Math.Clamp(controlCount * correction / q, 0, 1));
        var baseline = SuccessRate.Wilson(q, baselineHits.Count(h => h));
        return new SinglingOutReport(mode, perQuery, attacks, q, tried, trn.Count, hold.Count, attack, control, correction, baseline,
            SuccessRate.Residual(attack, control), attack.Value > baseline.Value);
    }

    /// <summary>
    /// ∫ n·u·(1 − u)^(n − 1) du from <paramref name="wMin"/> to <paramref name="wMax"/>: the probability that a predicate
    /// whose weight (the population share it matches) is uniform on [0, 1] has weight in [wMin, wMax] and isolates exactly
    /// one of <paramref name="n"/> independent records (Cohen &amp; Nissim 2020). In closed form
    /// ((n·a + 1)(1 − a)^n − (n·b + 1)(1 − b)^n)/(n + 1) with a = wMin, b = wMax, evaluated through log1p/expm1 so that
    /// small weights keep their digits; the whole range [0, 1] gives 1/(n + 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is below 1, or not 0 ≤ wMin ≤ wMax ≤ 1.</exception>
    public static double ProbabilityIntegral(int n, double wMin, double wMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (!(wMin >= 0 && wMin <= 1)) throw new ArgumentOutOfRangeException(nameof(wMin), wMin, "the weights are in [0, 1]");
        if (!(wMax >= wMin && wMax <= 1)) throw new ArgumentOutOfRangeException(nameof(wMax), wMax, "wMax is in [wMin, 1]");
        return (NotIsolated(n, wMax) - NotIsolated(n, wMin)) / (n + 1.0);
    }

    // 1 − (n·w + 1)(1 − w)^n = −expm1(log1p(n·w) + n·log1p(−w)), in [0, 1]
    private static double NotIsolated(int n, double w) =>
        Math.Clamp(-Numeric.ExpM1(Numeric.Log1P(n * w) + (n * Numeric.Log1P(-w))), 0, 1);

    /// <summary>The queries <see cref="Run(SeriesSet, SeriesSet, SeriesSet, SinglingOutMode, ulong, int, int, int?, int)"/> finds for <paramref name="synthetic"/> with this seed, and the candidates it tried (tests).</summary>
    internal static (SinglingOutQuery[] Queries, int Attempts) FindQueries(SeriesSet synthetic, SinglingOutMode mode, ulong seed = 0,
        int attacks = DefaultAttacks, int columnsPerQuery = DefaultColumns, int? maxAttempts = null)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        Validate(synthetic.SeriesCount, synthetic.RowCount, attacks, columnsPerQuery, maxAttempts);
        var perQuery = mode == SinglingOutMode.Univariate ? 1 : Math.Min(columnsPerQuery, synthetic.SeriesCount);
        return Find(DistinctRows.Of(synthetic, nameof(synthetic)), mode, perQuery, attacks, maxAttempts ?? DefaultAttemptsPerAttack * attacks,
            new Philox(seed, Stream));
    }

    private static void Validate(int seriesCount, int syntheticRows, int attacks, int columnsPerQuery, int? maxAttempts)
    {
        if (seriesCount < 1) throw new ArgumentException("singling out needs at least one series", "synthetic");
        if (syntheticRows < 1) throw new ArgumentException("singling out needs at least one synthetic row", "synthetic");
        if (attacks < 1) throw new ArgumentException("singling out needs at least one query (attacks ≥ 1)", nameof(attacks));
        if (columnsPerQuery < 1) throw new ArgumentException("a query needs at least one column (columnsPerQuery ≥ 1)", nameof(columnsPerQuery));
        if (maxAttempts < 1) throw new ArgumentException("maxAttempts must be ≥ 1", nameof(maxAttempts));
    }

    private static (SinglingOutQuery[] Queries, int Attempts) Find(DistinctRows syn, SinglingOutMode mode, int perQuery, int attacks,
        int maxAttempts, Philox rng)
    {
        var kept = new List<SinglingOutQuery>();
        var seen = new HashSet<SinglingOutQuery>();
        var tried = 0;
        if (mode == SinglingOutMode.Univariate)
        {
            var candidates = UnivariateCandidates(syn);
            rng.Shuffle(candidates.AsSpan());
            for (var i = 0; i < candidates.Length && kept.Count < attacks && tried < maxAttempts; i++)
            {
                tried++;
                var query = new SinglingOutQuery([candidates[i]]);
                if (!seen.Contains(query) && query.Count(syn.Columns, syn.Count, 2) == 1 && seen.Add(query)) kept.Add(query);
            }

            return ([.. kept], tried);
        }

        var d = syn.Columns.Length;
        var medians = syn.Columns.Select(Median).ToArray();
        var columns = Enumerable.Range(0, d).ToArray();
        var conditions = new SinglingOutCondition[perQuery];
        while (kept.Count < attacks && tried < maxAttempts)
        {
            tried++;
            var row = rng.NextInt(syn.Count);
            for (var c = 0; c < perQuery; c++)
            {
                // a partial Fisher–Yates draw: columns[0 .. perQuery) become a uniform random subset
                var pick = c + rng.NextInt(d - c);
                (columns[c], columns[pick]) = (columns[pick], columns[c]);
                var j = columns[c];
                var v = syn.Columns[j][row];
                conditions[c] = new SinglingOutCondition(j, v > medians[j] ? SinglingOutComparison.GreaterOrEqual : SinglingOutComparison.LessOrEqual, v);
            }

            var query = new SinglingOutQuery(conditions);
            // a known query is not counted again; the count stops at the second match, so common regions cost little
            if (!seen.Contains(query) && query.Count(syn.Columns, syn.Count, 2) == 1 && seen.Add(query)) kept.Add(query);
        }

        return ([.. kept], tried);
    }

    // per column: x ≤ min, x ≥ max, and x = v for each value v that occurs once in the column (in column, then row order)
    private static SinglingOutCondition[] UnivariateCandidates(DistinctRows syn)
    {
        var list = new List<SinglingOutCondition>();
        for (var j = 0; j < syn.Columns.Length; j++)
        {
            var column = syn.Columns[j];
            list.Add(new SinglingOutCondition(j, SinglingOutComparison.LessOrEqual, column.Min()));
            list.Add(new SinglingOutCondition(j, SinglingOutComparison.GreaterOrEqual, column.Max()));
            var occurrences = new Dictionary<double, int>();
            foreach (var v in column) occurrences[v] = occurrences.GetValueOrDefault(v) + 1;
            foreach (var v in column)
            {
                if (occurrences[v] == 1) list.Add(new SinglingOutCondition(j, SinglingOutComparison.Equal, v));
            }
        }

        return [.. list];
    }

    /// <summary>
    /// The baseline's <paramref name="count"/> random queries: each on <paramref name="perQuery"/> random distinct series,
    /// each condition a uniformly random comparison among ≤, ≥ and = against the series' value in a random distinct
    /// synthetic row (the guess of an attacker who reads the synthetic values but not which combinations are rare).
    /// </summary>
    private static SinglingOutQuery[] Baseline(DistinctRows syn, int perQuery, int count, Philox rng)
    {
        var d = syn.Columns.Length;
        var columns = Enumerable.Range(0, d).ToArray();
        var queries = new SinglingOutQuery[count];
        var conditions = new SinglingOutCondition[perQuery];
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < perQuery; c++)
            {
                var pick = c + rng.NextInt(d - c);
                (columns[c], columns[pick]) = (columns[pick], columns[c]);
                var j = columns[c];
                conditions[c] = new SinglingOutCondition(j, (SinglingOutComparison)rng.NextInt(3), syn.Columns[j][rng.NextInt(syn.Count)]);
            }

            queries[i] = new SinglingOutQuery(conditions);
        }

        return queries;
    }

    // the rows of a set that match a query, in row order
    private static int[] Matching(SinglingOutQuery query, DistinctRows rows)
    {
        var list = new List<int>();
        for (var i = 0; i < rows.Count; i++)
        {
            if (query.MatchesRow(rows.Columns, i)) list.Add(i);
        }

        return [.. list];
    }

    /// <summary>
    /// f(train)/f(holdout) of the isolation model f(n) = A·I(n, w) (<see cref="FitIsolationModel"/>) fitted to
    /// <see cref="SubsetCounts"/> of the holdout. 1 when the fitted model is zero at N_h (no query ever singled out a
    /// holdout row: there is nothing to scale).
    /// </summary>
    private static double SizeCorrection(int[][] holdMatches, int holdRows, int trainRows, Philox rng)
    {
        var (sizes, means) = SubsetCounts(holdMatches, holdRows, rng);
        var (w, a) = FitIsolationModel(sizes, means);
        var atHoldout = a * ProbabilityIntegral(holdRows, 0, w);
        if (!(atHoldout > 0)) return 1;
        var factor = a * ProbabilityIntegral(trainRows, 0, w) / atHoldout;
        return double.IsFinite(factor) ? factor : 1;
    }

    /// <summary>
    /// How many queries single out a row in random subsets of the holdout (without replacement, Philox):
    /// <see cref="CorrectionSizes"/> sizes linearly spaced (rounded) from min(1000, ⌈N_h/2⌉) to N_h, and per size the
    /// mean count over <see cref="CorrectionRepeats"/> subsets. <paramref name="holdMatches"/>[q] lists the holdout rows
    /// query q matches, so a subset's count reads only those rows (and stops at the second one in the subset).
    /// </summary>
    internal static (int[] Sizes, double[] Means) SubsetCounts(int[][] holdMatches, int holdRows, Philox rng)
    {
        var low = Math.Min(1000, (holdRows + 1) / 2);
        var sizes = new int[CorrectionSizes];
        var means = new double[CorrectionSizes];
        var order = Enumerable.Range(0, holdRows).ToArray();
        var member = new int[holdRows]; // the stamp of the last subset that holds each row
        var stamp = 0;
        for (var s = 0; s < CorrectionSizes; s++)
        {
            sizes[s] = low + (int)Math.Round((holdRows - low) * (double)s / (CorrectionSizes - 1), MidpointRounding.AwayFromZero);
            var total = 0;
            for (var r = 0; r < CorrectionRepeats; r++)
            {
                stamp++;
                for (var i = 0; i < sizes[s]; i++)
                {
                    var pick = i + rng.NextInt(holdRows - i);
                    (order[i], order[pick]) = (order[pick], order[i]);
                    member[order[i]] = stamp;
                }

                foreach (var matches in holdMatches)
                {
                    var inSubset = 0;
                    for (var k = 0; k < matches.Length && inSubset < 2; k++)
                    {
                        if (member[matches[k]] == stamp) inSubset++;
                    }

                    if (inSubset == 1) total++;
                }
            }

            means[s] = total / (double)CorrectionRepeats;
        }

        return (sizes, means);
    }

    /// <summary>
    /// The least-squares fit of f(n) = A·I(n, w), I(n, w) = <see cref="ProbabilityIntegral"/>(n, 0, w), to the points
    /// (<paramref name="sizes"/>[i], <paramref name="counts"/>[i]), with w ∈ [1e-9, 1] and A ≥ 0. For a fixed w the best
    /// A is Σ I·y / Σ I² (clamped at 0); w is searched on a grid of 181 points uniform in log w, then refined by 200
    /// golden-section steps on log w between the best grid point's neighbours. Deterministic.
    /// </summary>
    internal static (double W, double A) FitIsolationModel(IReadOnlyList<int> sizes, IReadOnlyList<double> counts)
    {
        if (sizes.Count != counts.Count || sizes.Count == 0) throw new ArgumentException("the fit needs as many counts as sizes, at least one");
        const double logLow = -9 * 2.302585092994046; // ln 1e-9
        const int grid = 181;
        var best = 0;
        var bestError = double.PositiveInfinity;
        for (var g = 0; g < grid; g++)
        {
            var error = Fit(logLow * (1 - (g / (grid - 1.0)))).Error;
            if (error < bestError)
            {
                bestError = error;
                best = g;
            }
        }

        double At(int g) => logLow * (1 - (Math.Clamp(g, 0, grid - 1) / (grid - 1.0)));
        double lo = At(best - 1), hi = At(best + 1);
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double x1 = hi - (ratio * (hi - lo)), x2 = lo + (ratio * (hi - lo));
        double f1 = Fit(x1).Error, f2 = Fit(x2).Error;
        for (var step = 0; step < 200 && hi - lo > 1e-14; step++)
        {
            if (f1 <= f2)
            {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - (ratio * (hi - lo));
                f1 = Fit(x1).Error;
            }
            else
            {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + (ratio * (hi - lo));
                f2 = Fit(x2).Error;
            }
        }

        // the refined point, unless a grid point is no worse (a flat or rounding-noisy error surface)
        var logW = (lo + hi) / 2;
        var refined = Fit(logW);
        if (!(refined.Error <= bestError))
        {
            logW = At(best);
            refined = Fit(logW);
        }

        return (Math.Min(1, Math.Exp(logW)), refined.A);

        (double A, double Error) Fit(double logW)
        {
            var w = Math.Min(1, Math.Exp(logW));
            double sIy = 0, sII = 0;
            var model = new double[sizes.Count];
            for (var i = 0; i < sizes.Count; i++)
            {
                model[i] = ProbabilityIntegral(sizes[i], 0, w);
                sIy += model[i] * counts[i];
                sII += model[i] * model[i];
            }

            var a = sII > 0 ? Math.Max(0, sIy / sII) : 0;
            double error = 0;
            for (var i = 0; i < sizes.Count; i++)
            {
                var r = counts[i] - (a * model[i]);
                error += r * r;
            }

            return (a, error);
        }
    }

    /// <summary>
    /// The distinct rows of the synthetic, train and holdout sets (<see cref="DistinctRows"/>), the attack's input in both
    /// modes: reduced once, they serve the univariate and the multivariate run alike.
    /// </summary>
    internal sealed class Distinct
    {
        private Distinct(DistinctRows synthetic, DistinctRows train, DistinctRows holdout, int seriesCount)
        {
            Synthetic = synthetic;
            Train = train;
            Holdout = holdout;
            SeriesCount = seriesCount;
        }

        public DistinctRows Synthetic { get; }

        public DistinctRows Train { get; }

        public DistinctRows Holdout { get; }

        public int SeriesCount { get; }

        /// <summary>The three sets' distinct rows; throws as <see cref="Run(SeriesSet, SeriesSet, SeriesSet, SinglingOutMode, ulong, int, int, int?, int)"/>
        /// does when the sets differ in series count, one has no rows or a value is not finite.</summary>
        public static Distinct Of(SeriesSet synthetic, SeriesSet train, SeriesSet holdout)
        {
            ArgumentNullException.ThrowIfNull(synthetic);
            ArgumentNullException.ThrowIfNull(train);
            ArgumentNullException.ThrowIfNull(holdout);
            var d = synthetic.SeriesCount;
            if (d < 1) throw new ArgumentException("singling out needs at least one series", nameof(synthetic));
            if (synthetic.RowCount < 1) throw new ArgumentException("singling out needs at least one synthetic row", nameof(synthetic));
            if (train.SeriesCount != d || holdout.SeriesCount != d)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"singling out needs the same series in every set: synthetic has {d}, train {train.SeriesCount}, holdout {holdout.SeriesCount}"));
            }

            if (train.RowCount < 1) throw new ArgumentException("singling out needs at least one train row", nameof(train));
            if (holdout.RowCount < 1) throw new ArgumentException("singling out needs at least one holdout row", nameof(holdout));
            return new Distinct(DistinctRows.Of(synthetic, nameof(synthetic)), DistinctRows.Of(train, nameof(train)),
                DistinctRows.Of(holdout, nameof(holdout)), d);
        }
    }

    /// <summary>A set's distinct rows, column-major, in order of first appearance (values stored as v + 0, so −0 is 0).</summary>
    internal sealed class DistinctRows
    {
        private DistinctRows(double[][] columns, int count)
        {
            Columns = columns;
            Count = count;
        }

        public double[][] Columns { get; }

        public int Count { get; }

        public static DistinctRows Of(SeriesSet set, string label)
        {
            int n = set.RowCount, d = set.SeriesCount;
            var rows = new double[n * d];
            for (var j = 0; j < d; j++)
            {
                var column = set.Columns[j];
                if (column.Length != n) throw new ArgumentException($"{label}: the series differ in length", label);
                for (var i = 0; i < n; i++)
                {
                    var v = column[i] + 0.0;
                    if (!double.IsFinite(v)) throw new ArgumentException($"{label}: a value is not finite (series {j.ToString(CultureInfo.InvariantCulture)}, row {i.ToString(CultureInfo.InvariantCulture)})", label);
                    rows[(i * d) + j] = v;
                }
            }

            var unique = new HashSet<int>(new RowBits(rows, d));
            var keep = new List<int>();
            for (var i = 0; i < n; i++)
            {
                if (unique.Add(i)) keep.Add(i);
            }

            var columns = new double[d][];
            for (var j = 0; j < d; j++)
            {
                columns[j] = new double[keep.Count];
                for (var k = 0; k < keep.Count; k++) columns[j][k] = rows[(keep[k] * d) + j];
            }

            return new DistinctRows(columns, keep.Count);
        }
    }

    private static double Median(double[] column)
    {
        var sorted = column.Order().ToArray();
        var m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
