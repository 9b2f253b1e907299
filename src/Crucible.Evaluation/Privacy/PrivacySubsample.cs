using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>One set's part in a privacy subsample: the records it has and how many of them were drawn.</summary>
/// <param name="Rows">Records of the set (rows; for the window DCR, windows).</param>
/// <param name="Drawn">Records drawn: min(<paramref name="Rows"/>, the limit).</param>
public sealed record SubsampleCount(int Rows, int Drawn);

/// <summary>The window DCR's part in a privacy subsample: windows of each set and how many were drawn.</summary>
/// <param name="Train">The train set's windows of W rows (stride 1, within each path).</param>
/// <param name="Holdout">The holdout's windows of W rows.</param>
/// <param name="Synthetic">The synthetic paths (one window each).</param>
public sealed record WindowSubsampleCounts(SubsampleCount Train, SubsampleCount Holdout, SubsampleCount Synthetic);

/// <summary>
/// The privacy section measured on a subsample (<see cref="EvaluationOptions.PrivacyRows"/>): at most
/// <paramref name="Limit"/> rows of each of the train, holdout and synthetic sets, drawn uniformly without replacement
/// (<see cref="Draw"/>) and kept in their order, and every privacy measure computed on the drawn rows as if they were the
/// sets given. Only a set with more rows than the limit is cut; the record exists only when one was.
/// </summary>
/// <remarks>
/// <para>Train and holdout are both drawn, each independently of membership, so the drawn train rows and the drawn
/// holdout rows stay as exchangeable as the sets were: the DCR share's null of 0.5 and its bound, and its control
/// (<see cref="HoldoutExchangeabilityTest"/>), keep their meaning, and with a limit below both sets the two references
/// have the limit's size (the audit's equal-size split then cuts nothing more). What a subsample gives up is power: a
/// synthetic copy of a train row that was not drawn is invisible, so the measures see Drawn / Rows of the training
/// records. The synthetic set is drawn too (each of its rows is one trial of the share). Row numbers the report gives
/// (<c>outlier_risk.records[].train_row</c>) are rows of the whole train set.</para>
/// <para>Randomness: Philox stream <see cref="Stream"/> of the evaluation's seed, one child generator per draw
/// (<see cref="Philox.Split"/>: train 0, holdout 1, synthetic 2; the window DCR's train 3, holdout 4, synthetic 5), so a
/// set's draw depends only on the seed and that set's size.</para>
/// </remarks>
/// <param name="Limit">The most rows (windows) drawn from each set.</param>
/// <param name="Seed">The evaluation's seed (<see cref="EvaluationOptions.Seed"/>).</param>
/// <param name="Train">Train rows given and drawn.</param>
/// <param name="Holdout">Holdout (real) rows given and drawn.</param>
/// <param name="Synthetic">Synthetic rows given and drawn.</param>
public sealed record PrivacySubsample(int Limit, ulong Seed, SubsampleCount Train, SubsampleCount Holdout, SubsampleCount Synthetic)
{
    /// <summary>Philox stream of the draws (utility 0/1, DOMIAS 2, shadow 4, attribute inference 5, the audit's split 8).</summary>
    public const ulong Stream = 9;

    /// <summary>The smallest limit: a nearest other row and a standard deviation need two rows.</summary>
    public const int MinimumLimit = 2;

    /// <summary>How to read a section measured on a subsample (report.json's <c>privacy.subsample.note</c>).</summary>
    public const string Note =
        "every privacy measure was computed on these rows, drawn uniformly without replacement and kept in their order, standardised with the drawn train rows' statistics; train and holdout were drawn independently of membership, so the DCR share's null of 0.5, its bound and its control hold, but a copy of a train row that was not drawn is invisible: the measures see drawn/rows of the training records; outlier_risk.records[].train_row numbers rows of the whole train set";

    /// <summary>Child generators of <see cref="Stream"/> (<see cref="Philox.Split"/>), one per drawn set.</summary>
    internal enum Draws : ulong
    {
        Train = 0,
        Holdout = 1,
        Synthetic = 2,
        TrainWindows = 3,
        HoldoutWindows = 4,
        SyntheticWindows = 5,
    }

    /// <summary>The window DCR's windows given and drawn, when that DCR ran on a subsample; else null.</summary>
    public WindowSubsampleCounts? Windows { get; init; }

    /// <summary>
    /// <paramref name="count"/> of the indices 0 … <paramref name="total"/> − 1, drawn uniformly without replacement and
    /// returned in increasing order; all of them, in order and without drawing, when <paramref name="count"/> ≥
    /// <paramref name="total"/>. A partial Fisher–Yates shuffle: for i = 0 … count − 1, swap position i with
    /// i + NextInt(total − i); the first count positions are a uniform sample (every count-subset equally likely).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="total"/> or <paramref name="count"/> is negative.</exception>
    public static int[] Draw(int total, int count, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var p = new int[total];
        for (var i = 0; i < total; i++) p[i] = i;
        if (count >= total) return p;
        for (var i = 0; i < count; i++)
        {
            var j = i + rng.NextInt(total - i);
            (p[i], p[j]) = (p[j], p[i]);
        }

        var pick = p[..count];
        Array.Sort(pick);
        return pick;
    }

    /// <summary>
    /// The train × holdout row pairs from which <see cref="LargeSetsAdvice"/> advises a limit: 10^11 (1,000,000 train rows
    /// against 100,000 holdout rows). The section's nearest-row searches grow with that product (each train row's nearest
    /// two holdout rows, the DOMIAS densities): on 2 shared cores 1.6 × 10^11 pairs (20,000 synthetic rows) took 5 min 26 s,
    /// 191 s of CPU, and 2.5 × 10^10 pairs (5,001 synthetic rows) 24 s, 29 s of CPU (README, Performance: Tall data).
    /// </summary>
    public const long LargePairs = 100_000_000_000;

    /// <summary>The limit <see cref="LargeSetsAdvice"/> suggests: 50,000 rows of each set (24–27 s at 800,000 train rows).</summary>
    public const int SuggestedLimit = 50_000;

    /// <summary>
    /// Advice for an evaluation with a train set and no row limit whose privacy section compares
    /// <paramref name="trainRows"/> train rows with <paramref name="holdoutRows"/> holdout rows: when the pairs reach
    /// <see cref="LargePairs"/>, a sentence saying so and what a limit of <see cref="SuggestedLimit"/> gives up
    /// (<paramref name="limitOption"/> names it in the caller's words: <c>--privacy-rows</c>, <c>privacy_rows</c>); else null.
    /// </summary>
    public static string? LargeSetsAdvice(int trainRows, int holdoutRows, string limitOption)
    {
        ArgumentNullException.ThrowIfNull(limitOption);
        if ((long)trainRows * holdoutRows < LargePairs) return null;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the privacy section compares all {trainRows:N0} train rows with all {holdoutRows:N0} holdout rows, and the time of its nearest-row searches grows with their product; {limitOption} {SuggestedLimit} measures it on at most {SuggestedLimit:N0} rows drawn from each set, at the cost of power: a copy of a train row that was not drawn is invisible");
    }

    /// <summary>The generator of one draw: child <paramref name="draw"/> of Philox stream <see cref="Stream"/> of <paramref name="seed"/>.</summary>
    internal static Philox Generator(ulong seed, Draws draw) => new Philox(seed, Stream).Split((ulong)draw);

    /// <summary>
    /// The rows the privacy section measures under <paramref name="limit"/>: each set cut to at most that many rows
    /// (<see cref="Draw"/>), with the record of what was drawn; null when no set has more rows than the limit (then
    /// the section runs on the sets themselves and the report is the one without a limit, byte for byte).
    /// </summary>
    internal static PrivacyRows? Of(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, int limit, ulong seed)
    {
        if (train.RowCount <= limit && holdout.RowCount <= limit && synthetic.RowCount <= limit) return null;
        var trainRows = Draw(train.RowCount, limit, Generator(seed, Draws.Train));
        var holdoutRows = Draw(holdout.RowCount, limit, Generator(seed, Draws.Holdout));
        var syntheticRows = Draw(synthetic.RowCount, limit, Generator(seed, Draws.Synthetic));
        var record = new PrivacySubsample(limit, seed, new(train.RowCount, trainRows.Length), new(holdout.RowCount, holdoutRows.Length),
            new(synthetic.RowCount, syntheticRows.Length));
        return new PrivacyRows(Rows(synthetic, syntheticRows), Rows(train, trainRows), Rows(holdout, holdoutRows), trainRows, record);
    }

    /// <summary>The set of the rows at <paramref name="rows"/> (increasing), with their scenario ids when the set has them.</summary>
    internal static SeriesSet Rows(SeriesSet set, int[] rows)
    {
        if (rows.Length == set.RowCount) return set;
        var columns = set.Columns.Select(column => rows.Select(t => column[t]).ToArray()).ToArray();
        return new SeriesSet(set.Names, columns, set.ScenarioIds is { } ids ? rows.Select(t => ids[t]).ToArray() : null);
    }
}

/// <summary>
/// What the privacy section measures under a row limit (<see cref="PrivacySubsample.Of"/>): the drawn rows of each set,
/// the train rows drawn (to number a record by its row in the whole train set), and the record for the report.
/// </summary>
internal sealed record PrivacyRows(SeriesSet Synthetic, SeriesSet Train, SeriesSet Holdout, int[] TrainRows, PrivacySubsample Record);
