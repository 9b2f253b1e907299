using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// The outcome of a membership-inference attack: how well the attacker's score separates members (train rows) from
/// non-members (holdout rows). AUC 0.5 means no leakage; TPR at a low FPR shows leakage of a few records.
/// </summary>
/// <param name="Attack">The attack's name (<c>domias-kde</c>).</param>
/// <param name="Members">Member rows scored.</param>
/// <param name="NonMembers">Non-member rows scored.</param>
/// <param name="Reference">Holdout rows the reference density was fitted on (never scored).</param>
/// <param name="SyntheticUsed">Synthetic rows the synthetic density was fitted on.</param>
/// <param name="Auc">ROC AUC of members (positive) against non-members (scikit-learn <c>roc_auc_score</c>, ties half).</param>
/// <param name="TprAtFpr10">The highest TPR of a ROC point with FPR ≤ 0.1.</param>
/// <param name="TprAtFpr01">The highest TPR of a ROC point with FPR ≤ 0.01.</param>
public sealed record MembershipReport(string Attack, int Members, int NonMembers, int Reference, int SyntheticUsed,
    double Auc, double TprAtFpr10, double TprAtFpr01)
{
    /// <summary>The PRIV-7 gate (<see cref="MembershipGate.Check"/>), set by the evaluator; null when not checked.</summary>
    public MembershipGate? Gate { get; init; }
}

/// <summary>
/// A DOMIAS-style density-ratio membership attack (van Breugel et al., AISTATS 2023; synthcity's <c>DomiasMIA</c> with
/// its Gaussian-KDE density; METRICS.md privacy table): a record is scored by log p_G(x) − log p_R(x), where p_G is a
/// density of the synthetic data and p_R one of reference data from the same population that the generator did not
/// see. Members are overrepresented where the generator memorised them, so a high ratio points to membership.
/// </summary>
/// <remarks>
/// Split (Philox stream 2 of the seed; the utility uses streams 0 and 1): the holdout is permuted; its first ⌊n/2⌋ rows are the non-members and the rest the
/// reference set for p_R; as many members are drawn at random from the train set (all of it when smaller). p_G is fitted
/// on at most <c>maxSynthetic</c> synthetic rows drawn at random (all when fewer). Both densities are
/// <see cref="GaussianKde"/> (Scott's bandwidth). synthcity divides by p_R + 1e-10; the log ratio orders records the
/// same way without the constant, which would swamp densities in more than a few dimensions.
/// </remarks>
public static class MembershipInference
{
    /// <summary>The attack on rows of the three sets (same series, in order).</summary>
    /// <exception cref="ArgumentNullException">A set is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSynthetic"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A set is below the attack's minimum (<see cref="WhyNot(SeriesSet, SeriesSet, SeriesSet)"/>:
    /// fewer than 2(d + 2) <paramref name="holdout"/> rows, fewer than d + 2 <paramref name="synthetic"/> rows, no
    /// <paramref name="train"/> row, or every series of a set constant), or a density cannot be fitted on the rows this
    /// <paramref name="seed"/> draws for it (<paramref name="synthetic"/>: the synthetic rows; <paramref name="holdout"/>:
    /// the reference half): a value that is not finite, no spread (every series constant on them) or variances that
    /// overflow or underflow the range of a double (<see cref="GaussianKde.Fit"/>'s refusals). The message is the
    /// evaluator's reason for skipping the attack on these sets (<c>privacy.membership_inference.skipped</c>), and the
    /// parameter name the set's.</exception>
    public static MembershipReport Domias(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed = 0, int maxSynthetic = 5000,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSynthetic);
        if (Refusal(synthetic, train, holdout, seed, maxSynthetic) is { } refusal) throw new ArgumentException(refusal.Why, refusal.Argument);
        return Fit(synthetic, train, holdout, seed, maxSynthetic, maxDegreeOfParallelism).Report();
    }

    /// <summary>
    /// The attack's split and fitted densities for <paramref name="seed"/> (<see cref="DomiasFit"/>): what
    /// <see cref="Domias(SeriesSet, SeriesSet, SeriesSet, ulong, int, int)"/> reports on, and what the outlier analysis
    /// (<see cref="OutlierRisk"/>) scores its isolated records with, so that the evaluator fits and scores the non-members once.
    /// </summary>
    internal static DomiasFit Fit(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed, int maxSynthetic, int maxDegreeOfParallelism)
    {
        var (members, nonMembers, reference, syn) = Split(synthetic.RowCount, train.RowCount, holdout.RowCount, seed, maxSynthetic);
        return new DomiasFit(Rows(synthetic), Rows(train), Rows(holdout), synthetic.SeriesCount, members, nonMembers, reference, syn, maxDegreeOfParallelism);
    }

    // Philox stream 2 of the seed: holdout permuted, first half non-members, rest reference; as many members drawn from train; synthetic subsample
    private static (int[] Members, int[] NonMembers, int[] Reference, int[] Synthetic) Split(int synthetic, int train, int holdout, ulong seed, int maxSynthetic)
    {
        var rng = new Philox(seed, 2);
        var hold = Shuffled(holdout, rng);
        var half = holdout / 2;
        var members = Shuffled(train, rng)[..Math.Min(train, half)];
        var syn = Shuffled(synthetic, rng)[..Math.Min(synthetic, maxSynthetic)];
        Array.Sort(syn); // the sample's order does not matter to the density; sorted rows read memory in order
        return (members, hold[..half], hold[half..], syn);
    }

    /// <summary>Why the attack cannot run on these sets (too few rows for two densities and two scored groups), else null.</summary>
    public static string? WhyNot(SeriesSet synthetic, SeriesSet train, SeriesSet holdout)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        return SetRefusal(synthetic, train, holdout)?.Why;
    }

    // WhyNot's test, with the argument whose set it refuses (Domias's ArgumentException names it)
    private static (string Argument, string Why)? SetRefusal(SeriesSet synthetic, SeriesSet train, SeriesSet holdout)
    {
        var d = holdout.SeriesCount;
        if (holdout.RowCount < 2 * (d + 2)) return (nameof(holdout), $"the holdout has {holdout.RowCount} rows; the attack needs at least {2 * (d + 2)} (half of them fit a {d}-dimensional density)");
        if (synthetic.RowCount < d + 2) return (nameof(synthetic), $"synthetic has {synthetic.RowCount} rows; the density needs at least {d + 2}");
        if (train.RowCount < 1) return (nameof(train), "the train set is empty");
        // a kernel density needs some spread: with every series constant its covariance is zero (GaussianKde cannot factor it)
        if (AllConstant(synthetic)) return (nameof(synthetic), ConstantSynthetic);
        return AllConstant(holdout) ? (nameof(holdout), ConstantHoldout) : null;
    }

    private const string ConstantSynthetic = "every synthetic series is constant (a collapsed generator): its density has no spread to fit";
    private const string ConstantHoldout = "every holdout series is constant: its reference density has no spread to fit";

    private static bool AllConstant(SeriesSet set) => set.Columns.All(c => !c.AsSpan().ContainsAnyExcept(c[0]));

    /// <summary>
    /// <see cref="WhyNot(SeriesSet, SeriesSet, SeriesSet)"/>, and then whether <see cref="GaussianKde.Fit"/> fits the rows
    /// the densities are fitted on with this <paramref name="seed"/> and <paramref name="maxSynthetic"/> (<see cref="Fit"/>'s
    /// split): a holdout that is not constant can leave a constant reference half (a series that seldom moves, a small
    /// holdout), and a synthetic set a constant subsample, whose kernel covariance is zero.
    /// </summary>
    internal static string? WhyNot(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed, int maxSynthetic)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        return Refusal(synthetic, train, holdout, seed, maxSynthetic)?.Why;
    }

    // the one test of the evaluator's skip (WhyNot) and Domias's refusal, so that the two cannot disagree: the sets'
    // minimum, then the densities' fit on this seed's rows
    private static (string Argument, string Why)? Refusal(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed, int maxSynthetic) =>
        SetRefusal(synthetic, train, holdout) ?? FitRefusal(synthetic, train, holdout, seed, maxSynthetic);

    /// <summary>
    /// Why <see cref="GaussianKde.Fit"/> refuses the rows the densities are fitted on with this <paramref name="seed"/> and
    /// <paramref name="maxSynthetic"/> (<see cref="Fit"/>'s split), and the argument whose rows they are; null when it
    /// fits both. Exactly <see cref="GaussianKde.WhyNot"/> of each, so the evaluator skips the attack where
    /// <see cref="Domias(SeriesSet, SeriesSet, SeriesSet, ulong, int, int)"/> refuses it, and only there.
    /// </summary>
    private static (string Argument, string Why)? FitRefusal(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed, int maxSynthetic)
    {
        var (_, _, reference, syn) = Split(synthetic.RowCount, train.RowCount, holdout.RowCount, seed, maxSynthetic);
        var d = holdout.SeriesCount;
        var onSynthetic = GaussianKde.WhyNot(Take(Rows(synthetic), syn, d), d);
        var onReference = GaussianKde.WhyNot(Take(Rows(holdout), reference, d), d);
        const string drawnSynthetic = "synthetic rows drawn for the synthetic density";
        const string drawnReference = "holdout rows drawn for the reference density";
        // a constant set (WhyNot's words), and a holdout that is not constant can leave a constant reference half (a
        // series that seldom moves, a small holdout), and a synthetic set a constant subsample: the kernel covariance is zero
        if (onSynthetic == KdeRefusal.NoSpread)
        {
            return (nameof(synthetic), AllConstant(synthetic) ? ConstantSynthetic
                : $"every series is constant on the {syn.Length} {drawnSynthetic}: it has no spread to fit");
        }
        if (onReference == KdeRefusal.NoSpread)
        {
            return (nameof(holdout), AllConstant(holdout) ? ConstantHoldout
                : $"every series is constant on the {reference.Length} {drawnReference} (the holdout less its non-member half): it has no spread to fit");
        }
        if (onSynthetic != KdeRefusal.None) return (nameof(synthetic), Words(onSynthetic, syn.Length, drawnSynthetic));
        return onReference != KdeRefusal.None ? (nameof(holdout), Words(onReference, reference.Length, drawnReference)) : null;

        static string Words(KdeRefusal refusal, int rows, string what) => refusal switch
        {
            // not constant, but a variance below the range of a double (values of about 1e-154 and less) is zero all the same
            KdeRefusal.VarianceUnderflows =>
                $"the variances of the {rows} {what} are below the range of a double (values this small are not returns): it has no spread to fit",
            KdeRefusal.VarianceOverflows =>
                $"the variances of the {rows} {what} are beyond the range of a double (values this large are not returns): its density cannot be fitted",
            KdeRefusal.NotFinite => $"the {rows} {what} hold a value that is not finite: its density cannot be fitted",
            _ => $"{rows} {what}: the density needs at least 2",
        };
    }

    /// <summary>The attack with its random parts given: row indices of members (into train), non-members and reference
    /// (into holdout), and the synthetic rows p_G is fitted on.</summary>
    internal static MembershipReport Domias(double[] synthetic, double[] train, double[] holdout, int d, int[] members, int[] nonMembers,
        int[] reference, int[] syntheticRows, int maxDegreeOfParallelism = -1) =>
        new DomiasFit(synthetic, train, holdout, d, members, nonMembers, reference, syntheticRows, maxDegreeOfParallelism).Report();

    /// <summary>
    /// ROC of positives against negatives by score (higher = positive): the AUC by average ranks (Mann–Whitney, ties
    /// count half), and the highest TPR over the ROC points, one per distinct threshold, with FPR ≤ 0.1 and ≤ 0.01.
    /// </summary>
    internal static (double Auc, double TprAtFpr10, double TprAtFpr01) Roc(double[] positive, double[] negative)
    {
        int n1 = positive.Length, n0 = negative.Length;
        if (n1 == 0 || n0 == 0) return (double.NaN, double.NaN, double.NaN);
        var all = positive.Concat(negative).ToArray();
        var ranks = Descriptive.Ranks(all);
        double rankSum = 0;
        for (var i = 0; i < n1; i++) rankSum += ranks[i];
        var auc = (rankSum - (n1 * (n1 + 1.0) / 2)) / ((double)n1 * n0);
        // walk thresholds from the highest score down; a ROC point after each group of equal scores
        var order = Enumerable.Range(0, all.Length).OrderByDescending(i => all[i]).ToArray();
        double best10 = 0, best01 = 0;
        int tp = 0, fp = 0;
        for (var k = 0; k < order.Length; k++)
        {
            if (order[k] < n1) tp++;
            else fp++;
            if (k + 1 < order.Length && all[order[k + 1]].Equals(all[order[k]])) continue;
            double tpr = (double)tp / n1, fpr = (double)fp / n0;
            if (fpr <= 0.1) best10 = Math.Max(best10, tpr);
            if (fpr <= 0.01) best01 = Math.Max(best01, tpr);
        }
        return (auc, best10, best01);
    }

    internal static int[] Shuffled(int n, Philox rng)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++) p[i] = i;
        rng.Shuffle(p.AsSpan());
        return p;
    }

    internal static double[] Rows(SeriesSet set)
    {
        int n = set.RowCount, d = set.SeriesCount;
        var rows = new double[n * d];
        for (var i = 0; i < d; i++)
        {
            var col = set.Columns[i];
            for (var t = 0; t < n; t++) rows[(t * d) + i] = col[t];
        }
        return rows;
    }

    internal static double[] Take(double[] rows, int[] indices, int d)
    {
        var result = new double[indices.Length * d];
        for (var k = 0; k < indices.Length; k++) Array.Copy(rows, indices[k] * d, result, k * d, d);
        return result;
    }
}

/// <summary>
/// The DOMIAS attack of <see cref="MembershipInference"/> with its split given and its densities fitted: p_G on the
/// synthetic rows <see cref="SyntheticRows"/>, p_R on the holdout rows <see cref="Reference"/>; the score of a point is
/// log p_G − log p_R. The non-members' scores are computed once, on first use.
/// </summary>
internal sealed class DomiasFit
{
    private readonly double[] _memberRows;
    private readonly double[] _nonMemberRows;
    private readonly GaussianKde _pG;
    private readonly GaussianKde _pR;
    private readonly int _maxDegreeOfParallelism;
    private double[]? _nonMemberScores;

    public DomiasFit(double[] synthetic, double[] train, double[] holdout, int d, int[] members, int[] nonMembers, int[] reference,
        int[] syntheticRows, int maxDegreeOfParallelism)
    {
        // the rows scored later, not the whole sets
        _memberRows = MembershipInference.Take(train, members, d);
        _nonMemberRows = MembershipInference.Take(holdout, nonMembers, d);
        Members = members;
        NonMembers = nonMembers;
        Reference = reference;
        SyntheticRows = syntheticRows;
        _maxDegreeOfParallelism = maxDegreeOfParallelism;
        _pG = GaussianKde.Fit(MembershipInference.Take(synthetic, syntheticRows, d), d);
        _pR = GaussianKde.Fit(MembershipInference.Take(holdout, reference, d), d);
    }

    /// <summary>Rows of train scored as members.</summary>
    public int[] Members { get; }

    /// <summary>Rows of holdout scored as non-members.</summary>
    public int[] NonMembers { get; }

    /// <summary>Rows of holdout p_R is fitted on.</summary>
    public int[] Reference { get; }

    /// <summary>Rows of synthetic p_G is fitted on.</summary>
    public int[] SyntheticRows { get; }

    /// <summary>log p_G − log p_R at each row of <paramref name="points"/> (row-major).</summary>
    public double[] Score(double[] points) =>
        _pG.LogDensity(points, _maxDegreeOfParallelism).Zip(_pR.LogDensity(points, _maxDegreeOfParallelism), (g, r) => g - r).ToArray();

    /// <summary>The scores of the non-members (computed on first use).</summary>
    public double[] NonMemberScores => _nonMemberScores ??= Score(_nonMemberRows);

    /// <summary>The attack's report: members against non-members.</summary>
    public MembershipReport Report()
    {
        var memberScores = Score(_memberRows);
        var (auc, tpr10, tpr01) = MembershipInference.Roc(memberScores, NonMemberScores);
        return new MembershipReport("domias-kde", Members.Length, NonMembers.Length, Reference.Length, SyntheticRows.Length, auc, tpr10, tpr01);
    }
}
