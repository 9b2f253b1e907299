using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>Trains a generator of the kind under audit on <c>train</c> (seeded) and returns <c>count</c> rows sampled from it.</summary>
public delegate SeriesSet ShadowGenerator(SeriesSet train, ulong seed, int count);

/// <summary>The shadow-model membership attack's outcome (AUC and TPR at low FPR on the target generator).</summary>
/// <param name="ShadowModels">Shadow generators trained.</param>
/// <param name="ShadowTrainRows">Rows in each shadow generator's train set.</param>
/// <param name="SyntheticRows">Rows sampled from each generator (target and shadows alike).</param>
/// <param name="Members">Train rows scored as members.</param>
/// <param name="NonMembers">Holdout rows scored as non-members (never used to train a shadow).</param>
/// <param name="ClassifierRows">Labelled shadow examples the classifier was fitted on.</param>
/// <param name="ClassifierTrainAuc">The classifier's AUC on its own shadow examples (how learnable the signal was).</param>
/// <param name="Auc">ROC AUC on the target generator (0.5: no leakage).</param>
/// <param name="TprAtFpr10">The highest TPR at FPR ≤ 0.1.</param>
/// <param name="TprAtFpr01">The highest TPR at FPR ≤ 0.01.</param>
public sealed record ShadowAttackReport(int ShadowModels, int ShadowTrainRows, int SyntheticRows, int Members, int NonMembers,
    int ClassifierRows, double ClassifierTrainAuc, double Auc, double TprAtFpr10, double TprAtFpr01)
{
    /// <summary>The attack's name.</summary>
    public string Attack => "shadow-knn-logistic";

    /// <summary>The PRIV-7 gate (<see cref="MembershipGate.Check"/>), set by the evaluator; null when not checked.</summary>
    public MembershipGate? Gate { get; init; }
}

/// <summary>
/// A shadow-model membership attack (Shokri et al. 2017) adapted to generators (as in Stadler et al. 2022 and LOGAN):
/// the attacker knows the training algorithm and holds data from the same population. It trains shadow generators on
/// sets of known membership, describes each candidate record by the profile of its distances to the generator's samples,
/// fits a classifier (in / out) on the shadows, and applies it to the target generator's samples.
/// </summary>
/// <remarks>
/// <para>Split (Philox stream 4 of the seed): the holdout is permuted; its first half are the non-members scored on the
/// target, the second half the attacker's auxiliary data. Each shadow draws, from a fresh permutation of the auxiliary
/// rows, n_s = min(train rows, auxiliary/2) "in" rows (its train set) and n_s "out" rows. Every generator (target and
/// shadows) contributes the same number of synthetic rows m = min(synthetic rows, <c>maxSynthetic</c>).</para>
/// <para>Features of a record x against synthetic rows S, in the space standardised with the auxiliary rows' mean and
/// standard deviation: ln(d_k + 1e-8) for the distances d_1 ≤ d_2 ≤ … to its 1st, 2nd, 3rd, 5th and 10th nearest rows of
/// S. Classifier: <see cref="LogisticRegression"/> (λ = 1) on features standardised over the shadow examples. Scores
/// are the classifier's linear score; AUC and TPR as in <see cref="MembershipInference"/>.</para>
/// </remarks>
public static class ShadowModelAttack
{
    private static readonly int[] NeighbourRanks = [1, 2, 3, 5, 10];

    /// <summary>Why the attack cannot run on these sets, else null.</summary>
    public static string? WhyNot(SeriesSet synthetic, SeriesSet train, SeriesSet holdout)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        if (holdout.RowCount < 40) return $"the holdout has {holdout.RowCount} rows; the shadow attack needs at least 40 (half to score, half for the shadows)";
        if (synthetic.RowCount < NeighbourRanks[^1]) return $"synthetic has {synthetic.RowCount} rows; the distance profile needs {NeighbourRanks[^1]}";
        return train.RowCount < 10 ? "the train set has fewer than 10 rows" : null;
    }

    /// <summary>Runs the attack with <paramref name="shadowModels"/> shadows trained by <paramref name="generator"/>.</summary>
    public static ShadowAttackReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ShadowGenerator generator, int shadowModels = 4,
        ulong seed = 0, int maxTargets = 500, int maxSynthetic = 2000, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shadowModels);
        if (WhyNot(synthetic, train, holdout) is { } why) throw new ArgumentException(why);
        var d = holdout.SeriesCount;
        var rng = new Philox(seed, 4);
        var holdRows = MembershipInference.Rows(holdout);
        var hold = MembershipInference.Shuffled(holdout.RowCount, rng);
        var half = holdout.RowCount / 2;
        var nonMembers = hold[..Math.Min(half, maxTargets)];
        var auxiliary = hold[half..];
        var members = MembershipInference.Shuffled(train.RowCount, rng)[..Math.Min(train.RowCount, nonMembers.Length)];
        var m = Math.Min(synthetic.RowCount, maxSynthetic);
        var auxRows = MembershipInference.Take(holdRows, auxiliary, d);
        var (mean, sd) = AttackRows.Scale(auxRows, d);
        var nShadow = Math.Min(train.RowCount, auxiliary.Length / 2);
        var perShadow = Math.Min(nShadow, maxTargets);

        var features = new List<double>();
        var labels = new List<int>();
        for (var s = 0; s < shadowModels; s++)
        {
            var order = MembershipInference.Shuffled(auxiliary.Length, rng);
            var inRows = MembershipInference.Take(auxRows, order[..nShadow], d);
            var outRows = MembershipInference.Take(auxRows, order[nShadow..(2 * nShadow)], d);
            var shadowSynthetic = generator(ToSet(inRows, holdout.Names), (seed * 1000) + (ulong)s + 1, m);
            if (shadowSynthetic.SeriesCount != d || shadowSynthetic.RowCount < NeighbourRanks[^1])
                throw new InvalidOperationException($"a shadow generator returned {shadowSynthetic.RowCount} rows of {shadowSynthetic.SeriesCount} series");
            var synZ = AttackRows.Standardise(MembershipInference.Rows(shadowSynthetic), d, mean, sd);
            features.AddRange(Profile(AttackRows.Standardise(inRows, d, mean, sd)[..(perShadow * d)], synZ, d, maxDegreeOfParallelism));
            features.AddRange(Profile(AttackRows.Standardise(outRows, d, mean, sd)[..(perShadow * d)], synZ, d, maxDegreeOfParallelism));
            labels.AddRange(Enumerable.Repeat(1, perShadow));
            labels.AddRange(Enumerable.Repeat(0, perShadow));
        }

        var p = NeighbourRanks.Length;
        var x = features.ToArray();
        var (fMean, fSd) = AttackRows.Scale(x, p);
        var model = LogisticRegression.Fit(AttackRows.Standardise(x, p, fMean, fSd), p, labels, lambda: 1.0);
        var trainScores = model.Score(AttackRows.Standardise(x, p, fMean, fSd));
        var (trainAuc, _, _) = MembershipInference.Roc(
            [.. trainScores.Where((_, i) => labels[i] == 1)], [.. trainScores.Where((_, i) => labels[i] == 0)]);

        // the target: its synthetic rows (subsampled to m), members from train, non-members from the scored holdout half
        var synIndex = MembershipInference.Shuffled(synthetic.RowCount, rng)[..m];
        Array.Sort(synIndex);
        var targetZ = AttackRows.Standardise(MembershipInference.Take(MembershipInference.Rows(synthetic), synIndex, d), d, mean, sd);
        double[] Score(double[] rows) =>
            model.Score(AttackRows.Standardise(Profile(AttackRows.Standardise(rows, d, mean, sd), targetZ, d, maxDegreeOfParallelism), p, fMean, fSd));
        var memberScores = Score(MembershipInference.Take(MembershipInference.Rows(train), members, d));
        var nonMemberScores = Score(MembershipInference.Take(holdRows, nonMembers, d));
        var (auc, tpr10, tpr01) = MembershipInference.Roc(memberScores, nonMemberScores);
        return new ShadowAttackReport(shadowModels, nShadow, m, members.Length, nonMembers.Length, labels.Count, trainAuc, auc, tpr10, tpr01);
    }

    /// <summary>The distance-profile features (row-major, one row of <see cref="NeighbourRanks"/> per record).</summary>
    internal static double[] Profile(double[] records, double[] synthetic, int d, int maxDegreeOfParallelism = -1)
    {
        var k = NeighbourRanks[^1];
        var (distances, _) = AttackRows.KNearest(records, synthetic, d, k, maxDegreeOfParallelism: maxDegreeOfParallelism);
        var n = records.Length / d;
        var p = NeighbourRanks.Length;
        var f = new double[n * p];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < p; j++) f[(i * p) + j] = Math.Log(distances[(i * k) + NeighbourRanks[j] - 1] + 1e-8);
        }

        return f;
    }

    private static SeriesSet ToSet(double[] rows, string[] names)
    {
        var d = names.Length;
        var n = rows.Length / d;
        var columns = new double[d][];
        for (var j = 0; j < d; j++)
        {
            columns[j] = new double[n];
            for (var i = 0; i < n; i++) columns[j][i] = rows[(i * d) + j];
        }

        return new SeriesSet(names, columns);
    }
}
