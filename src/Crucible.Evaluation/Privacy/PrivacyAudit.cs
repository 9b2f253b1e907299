using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// The split behind the distance metrics (RELIABILITY.md PRIV-1). <paramref name="N"/> rows of train and of holdout
/// (a seeded random subset of the larger one, so both references have the same size) and
/// <paramref name="SyntheticUsed"/> = min(synthetic rows, N) synthetic rows (a seeded random subset) enter the balanced
/// DCR share, IMS and NNDR.
/// </summary>
/// <param name="TrainRows">Rows of the train set given.</param>
/// <param name="HoldoutRows">Rows of the holdout given.</param>
/// <param name="SyntheticRows">Rows of the synthetic set given.</param>
/// <param name="N">Rows of each reference (train subset, holdout subset) used: min(train, holdout).</param>
/// <param name="SyntheticUsed">Synthetic rows used: min(synthetic, N).</param>
/// <param name="HoldoutToTrain">Holdout rows / train rows; PRIV-1 wants at least 0.5.</param>
/// <param name="HoldoutSha256">SHA-256 of the holdout (lower-case hex).</param>
/// <param name="HoldoutHashOf"><c>file</c>: of the holdout file's bytes, as given by the caller; <c>values</c>: of
/// <see cref="PrivacyAudit.ContentBytes"/> of the holdout set.</param>
/// <param name="Seed">Seed of the subsets (Philox stream 8).</param>
public sealed record PrivacySplit(int TrainRows, int HoldoutRows, int SyntheticRows, int N, int SyntheticUsed, double HoldoutToTrain,
    string HoldoutSha256, string HoldoutHashOf, ulong Seed);

/// <summary>
/// The PRIV-3 gate on the balanced split: <paramref name="Share"/> of the <paramref name="N"/> synthetic rows strictly
/// closer to the train subset than to the holdout subset (standardised with train's statistics, as
/// <see cref="DistanceToClosestRecord"/>), with a 95% Wilson interval, against the one-sided 95% binomial bound
/// 0.5 + 1.645·√(0.25/n); <paramref name="Score"/> = min(2(1 − share), 1) (SDMetrics DCROverfittingProtection).
/// </summary>
public sealed record DcrShareTest(string ThreatModel, int N, double Share, SuccessRate Ci, double Bound, bool WithinBound, double Score);

/// <summary>
/// PRIV-4: the identical match shares (<see cref="IdenticalMatch"/>) of the <paramref name="N"/> synthetic rows against
/// the train subset and against the holdout subset, each with a 95% Wilson interval, and the check
/// IMS(train) ≤ IMS(holdout) + <paramref name="Margin"/> (<see cref="IdenticalMatch.Margin"/>).
/// </summary>
public sealed record ImsTest(string ThreatModel, int N, double Tolerance, double SyntheticToTraining, double SyntheticToHoldout,
    SuccessRate TrainingCi, SuccessRate HoldoutCi, double Margin, bool WithinMargin);

/// <summary>
/// PRIV-5: the <paramref name="Rank"/>-th smallest NNDR (<see cref="NearestNeighborRatio"/>) of the synthetic rows against
/// the train subset and against the holdout subset, and of the train subset against the holdout subset (standardised with
/// train's statistics). <paramref name="SyntheticBelowTraining"/> flags synthetic→training &lt; training→holdout (PRIV-5);
/// it is reported, not warned about: for a generator that copies nothing the two order statistics are exchangeable and
/// the flag fires about half of the time, so only its size (a ratio near 0) says something.
/// No interval: an order statistic of 10 values has none worth the name.
/// </summary>
public sealed record NndrTest(string ThreatModel, int N, int Rank, double SyntheticToTraining, double SyntheticToHoldout,
    double TrainingToHoldout, bool SyntheticBelowTraining);

/// <summary>
/// The DCR share of real rows, generator left out: <paramref name="Share"/> is the fraction of the <paramref name="N"/>
/// rows of the train subset strictly closer to another train-subset row than to the holdout subset
/// (<paramref name="ReferenceRows"/> rows; standardised with train's statistics, as <see cref="DcrShareTest"/>). When train
/// and holdout are exchangeable (drawn from one distribution) it is 0.5 up to sampling noise; a share above
/// <paramref name="Bound"/> = 0.5 + 3.090·√(0.25/n) (one-sided, a false alarm in 1,000 exchangeable splits) says the
/// holdout is shifted from train, e.g. a later period, and then a generator that copies nothing but learned train's
/// distribution also scores a DCR share near this one, above PRIV-3's 0.5-anchored bound. The control the DCR share is
/// read against; not a gate.
/// </summary>
/// <param name="N">Train-subset rows measured (the queries).</param>
/// <param name="ReferenceRows">Rows of the holdout subset (the train reference is the other N − 1 train rows).</param>
/// <param name="Share">Share of train rows strictly closer to another train row than to the holdout subset.</param>
/// <param name="Ci">Its 95% Wilson interval.</param>
/// <param name="Bound">0.5 + 3.090·√(0.25/n).</param>
/// <param name="Exchangeable">Share ≤ bound: no evidence that the holdout is shifted from train.</param>
public sealed record HoldoutExchangeabilityTest(int N, int ReferenceRows, double Share, SuccessRate Ci, double Bound, bool Exchangeable);

/// <summary>The split-disciplined distance metrics of the privacy report, and the warnings about the split.</summary>
public sealed record PrivacyAuditReport(PrivacySplit Split, DcrShareTest DcrShare, ImsTest Ims, NndrTest Nndr, IReadOnlyList<string> Warnings)
{
    /// <summary>The DCR in SDMetrics' range-normalised convention on the same subsets (PRIV-2), or null when not computed.</summary>
    public RangeNormalisedDcrTest? RangeNormalised { get; init; }

    /// <summary>The DCR share of the real train rows themselves (leave-one-out) against the same holdout, or null when the
    /// train subset has fewer than 4 rows (<see cref="PrivacyAudit.HoldoutExchangeability"/>).</summary>
    public HoldoutExchangeabilityTest? HoldoutExchangeability { get; init; }
}

/// <summary>
/// The DCR share test with <see cref="RangeNormalisedDcr"/> distances (SDMetrics' convention: per-series |Δ|/range capped
/// at 1, averaged) on the same subsets as <see cref="DcrShareTest"/>: the medians of the synthetic rows' DCR to training
/// and to holdout, and the share strictly closer to training with its bound.
/// </summary>
public sealed record RangeNormalisedDcrTest(int N, double SyntheticToTrainingMedian, double SyntheticToHoldoutMedian, double Share, double Bound, bool WithinBound);

/// <summary>
/// Runs the PRIV-1/3/4/5 distance metrics under the split discipline of RELIABILITY.md: equal-size train and holdout
/// references (a seeded random subset of the larger, as <c>bench/tabular</c> does) and synthetic n = holdout n (a seeded
/// random subset when there are more synthetic rows). The peer-compatible <c>privacy.share_closer_to_train</c> (every
/// row of every set, as eval_ref.py) is left as it is; these results go under new keys.
/// </summary>
public static class PrivacyAudit
{
    /// <summary>Philox stream of the subsets (utility 0/1, DOMIAS 2, shadow 4, attribute inference 5).</summary>
    public const ulong Stream = 8;

    /// <summary>Threat model of the DCR share.</summary>
    public const string DcrThreatModel =
        "an attacker holding a real record asks whether a synthetic row lies closer to it than records the generator never saw would (memorisation of training rows)";

    /// <summary>Threat model of IMS.</summary>
    public const string ImsThreatModel =
        "an attacker searches the synthetic set for verbatim copies (every value within 1%) of a training record, compared with the copies of unseen holdout records";

    /// <summary>Threat model of NNDR.</summary>
    public const string NndrThreatModel =
        "an attacker links a synthetic row to the one real record it sits on, far from every other record (a low nearest/second-nearest distance ratio)";

    /// <summary>Threat model of the peer-compatible DCR summary (privacy.dcr_*, share_closer_to_train over every row).</summary>
    public const string DcrSummaryThreatModel =
        "distance of synthetic rows to the nearest train and holdout rows, every row of each set (eval_ref.py): a smoke test of memorisation, not a proof of privacy";

    /// <summary>Threat model of the DOMIAS-style membership attack.</summary>
    public const string MembershipThreatModel =
        "an attacker with the synthetic set and reference real data decides whether a given record was in the training set (density ratio, no model access)";

    /// <summary>Threat model of the shadow-model membership attack.</summary>
    public const string ShadowThreatModel =
        "an attacker who can train generators of the audited kind on data of known membership decides whether a given record was in the training set";

    /// <summary>Threat model of attribute inference.</summary>
    public const string AttributeThreatModel =
        "an attacker who knows a record's other series infers its sensitive series from the nearest synthetic row";

    /// <summary>Threat model of singling out.</summary>
    public const string SinglingOutThreatModel =
        "an attacker writes predicates from the synthetic rows (a series' extreme, a value found once, a few series beyond a row's values) that claim to match exactly one training record";

    /// <summary>Threat model of linkability.</summary>
    public const string LinkabilityThreatModel =
        "an attacker holding two datasets with different series about the same records joins them through the nearest synthetic rows";

    /// <summary>Threat model of the isolated-record risk.</summary>
    public const string OutlierThreatModel =
        "the same attacks aimed at the most isolated 1% of training records, which average-case metrics hide";

    /// <summary>The one-sided 95% binomial bound of the DCR share for n synthetic rows: 0.5 + 1.645·√(0.25/n).</summary>
    public static double ShareBound(int n) => 0.5 + (1.645 * Math.Sqrt(0.25 / n));

    /// <summary>
    /// The audit of <paramref name="synthetic"/> against <paramref name="train"/> and <paramref name="holdout"/> (same
    /// series, validated). <paramref name="holdoutFileSha256"/>: SHA-256 of the holdout file when the caller read one
    /// (else the hash of the values is recorded).
    /// </summary>
    public static PrivacyAuditReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed,
        string? holdoutFileSha256 = null, int maxDegreeOfParallelism = -1) =>
        Run(synthetic, train, holdout, seed, holdoutFileSha256, maxDegreeOfParallelism, null);

    // Run; search: the evaluator's DCR search of the same sets (its rows standardised as the audit's), whose nearest two in
    // holdout of every synthetic and train row serve the NNDR when the holdout subset is the whole holdout; hashed: the set
    // whose values are hashed without a file hash (the whole holdout when `holdout` is the rows drawn from it), else holdout
    internal static PrivacyAuditReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed,
        string? holdoutFileSha256, int maxDegreeOfParallelism, DcrSearch? search, SeriesSet? hashed = null)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        int d = train.SeriesCount, nTrain = train.RowCount, nHold = holdout.RowCount, nSyn = synthetic.RowCount;
        var n = Math.Min(nTrain, nHold);
        var m = Math.Min(nSyn, n);
        var rng = new Philox(seed, Stream);
        var trainIdx = Subset(nTrain, n, rng);
        var holdIdx = Subset(nHold, n, rng);
        var synIdx = Subset(nSyn, m, rng);

        var warnings = new List<string>();
        var ratio = (double)nHold / nTrain;
        if (ratio < 0.5)
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"holdout has {nHold} rows, under half the train set's {nTrain} (PRIV-1 wants at least 1/2, 50/50 preferred): the split-disciplined distance metrics (dcr_share, dcr_range_normalised, ims, nndr) use a random {n}-row train subset, so they see only {(double)n / nTrain:P1} of the training records; the peer-compatible share_closer_to_train uses every train row against the smaller holdout, which leans it toward train"));
        if (nSyn < n)
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"synthetic set has {nSyn} rows, fewer than the {n}-row references (PRIV-1 wants synthetic n = holdout n): the DCR share's bound is for n = {nSyn}"));
        // a holdout larger than train breaks no rule (a random train-sized subset of it is the reference; split.reference_rows)
        // PRIV-1/MRM-4: the holdout is disjoint from train; a holdout row equal to a train row is at the same distance from
        // every synthetic row on both sides, so the share, IMS and NNDR cannot tell memorised rows there (the train file
        // given as --real makes every gate pass)
        var copies = RowsAlsoIn(holdout, train);
        if (copies > 0)
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{copies} of the holdout's {nHold} rows equal a train row exactly (PRIV-1 wants a holdout disjoint from train, e.g. a later period): at those rows the synthetic set's distances to train and holdout tie, so the DCR share, IMS and NNDR understate memorisation"));

        // raw rows for IMS; rows standardised with train's statistics for distances
        var raw = (Syn: Take(MembershipInference.Rows(synthetic), synIdx, d), Train: Take(MembershipInference.Rows(train), trainIdx, d),
            Hold: Take(MembershipInference.Rows(holdout), holdIdx, d));
        var (mean, sd) = DistanceToClosestRecord.TrainScale(train);
        var z = (Syn: AttackRows.Standardise(raw.Syn, d, mean, sd), Train: AttackRows.Standardise(raw.Train, d, mean, sd), Hold: AttackRows.Standardise(raw.Hold, d, mean, sd));
        var dop = maxDegreeOfParallelism;

        // the nearest two of each synthetic row in train and in holdout, and of each train row in holdout, are searched once:
        // the NNDR takes both, the DCR share and the control the nearest (the same bits as searching the nearest alone)
        double[]? synTrain2 = null, synHold2 = null, trainHold2 = null;
        if (n >= 2)
        {
            // the holdout subset is all of the holdout, in order, when it is no larger than train: then each synthetic and
            // train row's nearest two in it are rows of the DCR's searches over every row
            var wholeHoldout = holdIdx.Length == nHold;
            synTrain2 = NearestNeighbors.KNearestSquared(z.Syn, z.Train, d, 2, null, dop).Squared;
            synHold2 = wholeHoldout && search?.SyntheticHoldoutTwo is { } sh ? RowsOf(sh, synIdx, 2)
                : NearestNeighbors.KNearestSquared(z.Syn, z.Hold, d, 2, null, dop).Squared;
            trainHold2 = wholeHoldout && search?.TrainHoldoutTwo is { } th ? RowsOf(th, trainIdx, 2)
                : NearestNeighbors.KNearestSquared(z.Train, z.Hold, d, 2, null, dop).Squared;
        }
        var toTrain = synTrain2 is null ? NearestNeighbors.NearestDistances(z.Syn, z.Train, d, dop) : DistanceToClosestRecord.FirstRoot(synTrain2);
        var toHold = synHold2 is null ? NearestNeighbors.NearestDistances(z.Syn, z.Hold, d, dop) : DistanceToClosestRecord.FirstRoot(synHold2);
        var closer = 0;
        for (var i = 0; i < m; i++)
        {
            if (toTrain[i] < toHold[i]) closer++;
        }
        var share = (double)closer / m;
        var bound = ShareBound(m);
        var dcr = new DcrShareTest(DcrThreatModel, m, share, SuccessRate.Wilson(m, closer), bound, share <= bound, Math.Min(2 * (1 - share), 1));

        var kTrain = IdenticalMatch.Count(raw.Syn, raw.Train, d, IdenticalMatch.NumericTolerance, dop);
        var kHold = IdenticalMatch.Count(raw.Syn, raw.Hold, d, IdenticalMatch.NumericTolerance, dop);
        var margin = IdenticalMatch.Margin(kTrain, kHold, m);
        double imsTrain = (double)kTrain / m, imsHold = (double)kHold / m;
        var ims = new ImsTest(ImsThreatModel, m, IdenticalMatch.NumericTolerance, imsTrain, imsHold, SuccessRate.Wilson(m, kTrain),
            SuccessRate.Wilson(m, kHold), margin, imsTrain <= imsHold + margin);

        NndrTest nndr;
        if (n >= 2)
        {
            var st = NearestNeighborRatio.KthSmallest(NearestNeighborRatio.FromSquared(synTrain2!));
            var sh = NearestNeighborRatio.KthSmallest(NearestNeighborRatio.FromSquared(synHold2!));
            var th = NearestNeighborRatio.KthSmallest(NearestNeighborRatio.FromSquared(trainHold2!));
            nndr = new NndrTest(NndrThreatModel, m, NearestNeighborRatio.Rank, st, sh, th, st < th);
        }
        else
        {
            nndr = new NndrTest(NndrThreatModel, m, NearestNeighborRatio.Rank, double.NaN, double.NaN, double.NaN, false);
        }
        if (m < NearestNeighborRatio.Rank)
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"only {m} rows: the {NearestNeighborRatio.Rank}th-smallest NNDR is not defined"));
        // the NNDR flag is not a warning: two order statistics of exchangeable samples, it fires for about half of the
        // generators that copy nothing (nndr.synthetic_below_training reports it)
        if (!dcr.WithinBound)
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"DCR share {share:G4} is above its bound {bound:G4}"));
        if (!ims.WithinMargin)
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"IMS synthetic→training {imsTrain:G4} exceeds synthetic→holdout {imsHold:G4} + margin {margin:G4}"));

        // PRIV-2: the same share with SDMetrics' range-normalised distances (ranges from the training subset)
        var kinds = Enumerable.Repeat(DcrColumnKind.Numerical, d).ToArray();
        var columns = (Syn: ColumnsOf(synthetic, synIdx), Train: ColumnsOf(train, trainIdx), Hold: ColumnsOf(holdout, holdIdx));
        var rnTrain = RangeNormalisedDcr.Compute(columns.Syn, columns.Train, kinds, dop);
        var rnHold = RangeNormalisedDcr.Compute(columns.Syn, columns.Hold, kinds, dop);
        var rnCloser = Enumerable.Range(0, m).Count(i => rnTrain[i] < rnHold[i]);
        var rnShare = (double)rnCloser / m;
        var rangeNormalised = new RangeNormalisedDcrTest(m, Descriptive.Percentile(rnTrain, 50), Descriptive.Percentile(rnHold, 50), rnShare, bound, rnShare <= bound);

        // the control: what real rows score against this holdout when the generator is left out (no random draw)
        var exchangeability = Exchangeability(z.Train, z.Hold, d, dop, trainHold2 is null ? null : DistanceToClosestRecord.FirstRoot(trainHold2));
        if (exchangeability is { Exchangeable: false } x)
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"real train rows are closer to another train row than to the holdout {x.Share:G4} of the time ({x.N} rows, 95% CI {x.Ci.Lower:G4}–{x.Ci.Upper:G4}; 0.5 when train and holdout come from one distribution, bound {x.Bound:G4}): the holdout is shifted from train (e.g. a later period), so a generator that copies nothing also scores a DCR share above 0.5; read dcr_share against {x.Share:G4} (privacy.holdout_exchangeability), not against 0.5 alone"));

        var split = new PrivacySplit(nTrain, nHold, nSyn, n, m, ratio, holdoutFileSha256 ?? Sha256Hex(ContentBytes(hashed ?? holdout)),
            holdoutFileSha256 is null ? "values" : "file", seed);
        return new PrivacyAuditReport(split, dcr, ims, nndr, warnings) { RangeNormalised = rangeNormalised, HoldoutExchangeability = exchangeability };
    }

    /// <summary>The one-sided bound of <see cref="HoldoutExchangeabilityTest"/> for n held-back rows: 0.5 + 3.090·√(0.25/n)
    /// (3.090 = Φ⁻¹(0.999): one false alarm in 1,000 exchangeable splits).</summary>
    public static double ExchangeabilityBound(int n) => 0.5 + (3.090 * Math.Sqrt(0.25 / n));

    /// <summary>
    /// The control of the DCR share (<see cref="HoldoutExchangeabilityTest"/>), leave-one-out: each of the n standardised
    /// train rows <paramref name="train"/> (row-major, n × <paramref name="dimension"/>) is measured against the n − 1
    /// other train rows and against the rows of <paramref name="holdout"/> (n of them in the audit, so both references
    /// have the gate's size), and the share strictly closer to train is reported. Its one row fewer leans the share
    /// toward the holdout, by far less than its noise. Null when n &lt; 4 or there is no holdout row.
    /// </summary>
    /// <remarks>Both distances are Σ_d (q_d − r_d)² in double, summed in dimension order, then √ (as
    /// <see cref="NearestNeighbors"/> and <see cref="AttackRows.KNearest"/> compute them), so a tie is a true tie.
    /// A holdout drawn from train's own period and distribution (interleaved days, as a random split gives) scores
    /// about 0.5; a later period scores what a generator that learned train's distribution exactly would.</remarks>
    public static HoldoutExchangeabilityTest? HoldoutExchangeability(double[] train, double[] holdout, int dimension, int maxDegreeOfParallelism = -1) =>
        Exchangeability(train, holdout, dimension, maxDegreeOfParallelism, null);

    // HoldoutExchangeability; toHoldout: each train row's distance to the nearest holdout row when the caller has it (the audit's NNDR search)
    private static HoldoutExchangeabilityTest? Exchangeability(double[] train, double[] holdout, int dimension, int maxDegreeOfParallelism,
        double[]? toHoldout)
    {
        var (n, nHold) = NearestNeighbors.RowCounts(train, holdout, dimension);
        if (n < 4 || nHold == 0) return null;
        // each unordered pair of train rows measured once for both rows
        var toTrain = NearestNeighbors.SelfNearestSquared(train, dimension, maxDegreeOfParallelism);
        for (var i = 0; i < n; i++) toTrain[i] = Math.Sqrt(toTrain[i]);
        var toHold = toHoldout ?? NearestNeighbors.NearestDistances(train, holdout, dimension, maxDegreeOfParallelism);
        var closer = 0;
        for (var i = 0; i < n; i++)
        {
            if (toTrain[i] < toHold[i]) closer++;
        }
        var share = (double)closer / n;
        var bound = ExchangeabilityBound(n);
        return new HoldoutExchangeabilityTest(n, nHold, share, SuccessRate.Wilson(n, closer), bound, share <= bound);
    }

    // how many rows of `set` equal (value for value, -0 as 0) some row of `reference`: the rows' values (v + 0.0, so −0
    // is 0) in one table, reference rows first, and a hash set of reference row numbers comparing their bits
    private static int RowsAlsoIn(SeriesSet set, SeriesSet reference)
    {
        int d = reference.SeriesCount, n = reference.RowCount;
        var values = new double[(n + set.RowCount) * d];
        for (var i = 0; i < d; i++)
        {
            var (r, s) = (reference.Columns[i], set.Columns[i]);
            for (var t = 0; t < n; t++) values[(t * d) + i] = r[t] + 0.0;
            for (var t = 0; t < s.Length; t++) values[((n + t) * d) + i] = s[t] + 0.0;
        }
        var rows = new HashSet<int>(n, new RowBits(values, d));
        for (var t = 0; t < n; t++) rows.Add(t);
        var count = 0;
        for (var t = 0; t < set.RowCount; t++)
        {
            if (rows.Contains(n + t)) count++;
        }
        return count;
    }

    // the rows of a set at the subset's indices, one array per series
    private static double[][] ColumnsOf(SeriesSet set, int[] indices) => [.. set.Columns.Select(column => indices.Select(i => column[i]).ToArray())];

    /// <summary>
    /// The canonical bytes of a set that <c>hash_of: values</c> hashes: UTF-8 text, a header line of the series names
    /// joined by commas (preceded by <c>scenario,</c> when the set has scenario ids), then one line per row with the
    /// scenario id (if any) and each value in round-trip invariant form ("R"), comma-separated, every line ending in \n.
    /// A name holding a comma, a double quote or a line break is written as RFC 4180 writes it (in double quotes, inner
    /// quotes doubled), so that two different sets of names never give the same header; every other name is as is.
    /// </summary>
    public static byte[] ContentBytes(SeriesSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var sb = new StringBuilder();
        if (set.ScenarioIds is not null) sb.Append("scenario,");
        for (var i = 0; i < set.SeriesCount; i++)
        {
            if (i > 0) sb.Append(',');
            var name = set.Names[i];
            if (name.AsSpan().IndexOfAny(",\"\n\r") < 0) sb.Append(name);
            else sb.Append('"').Append(name.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        sb.Append('\n');
        for (var t = 0; t < set.RowCount; t++)
        {
            if (set.ScenarioIds is { } ids) sb.Append(ids[t].ToString(CultureInfo.InvariantCulture)).Append(',');
            for (var i = 0; i < set.SeriesCount; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(set.Columns[i][t].ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    // all rows in order when count == total, else a seeded random subset in row order
    private static int[] Subset(int total, int count, Philox rng)
    {
        if (count >= total) return Enumerable.Range(0, total).ToArray();
        var pick = MembershipInference.Shuffled(total, rng)[..count];
        Array.Sort(pick);
        return pick;
    }

    private static double[] Take(double[] rows, int[] indices, int d) => MembershipInference.Take(rows, indices, d);

    private static double[] RowsOf(double[] rows, int[] indices, int width) => MembershipInference.Take(rows, indices, width);
}
