using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Privacy;

/// <summary>The outcome of the attribute-inference attack on one sensitive series.</summary>
/// <param name="Column">The sensitive series.</param>
/// <param name="Targets">Train rows attacked (and holdout rows used as the control, as many).</param>
/// <param name="Tolerance">A guess succeeds when |guess − truth| ≤ Tolerance (the tolerance factor × the synthetic standard deviation).</param>
/// <param name="MaeTrain">Mean absolute error of the guesses for train rows.</param>
/// <param name="MaeHoldout">The same for holdout rows (control: the generator never saw them).</param>
/// <param name="MaeBaseline">The same for the baseline guess (a random synthetic row's value) on the train rows.</param>
/// <param name="Attack">Success rate on train rows (Wilson 95%).</param>
/// <param name="Control">Success rate on holdout rows.</param>
/// <param name="Baseline">Success rate of the baseline.</param>
/// <param name="Risk">Residual risk (attack − control)/(1 − control) with its propagated 95% half-width; the value is clamped to [0, 1] in reports.</param>
/// <param name="Trusted">False when the attack does no better than the baseline: then the risk says nothing (it is not "safe").</param>
public sealed record AttributeInferenceReport(string Column, int Targets, double Tolerance, double MaeTrain, double MaeHoldout, double MaeBaseline,
    SuccessRate Attack, SuccessRate Control, SuccessRate Baseline, SuccessRate Risk, bool Trusted);

/// <summary>
/// Nearest-neighbour attribute inference (the inference attack of Giomi et al. 2023's "main / control / baseline"
/// design, re-implemented from its description; RELIABILITY.md PRIV-6): the attacker knows every series of a target
/// record but the sensitive one, finds the synthetic row nearest on the known series (standardised with the synthetic
/// rows' mean and standard deviation, which the attacker holds) and guesses its sensitive value. Run on train rows
/// (attack) and on holdout rows (control), the excess of the former over the latter is what the generator leaks
/// about its own records beyond what the population's structure gives away.
/// </summary>
public static class AttributeInference
{
    /// <summary>
    /// Why the series named <paramref name="sensitive"/> cannot each be attacked among the series <paramref name="names"/>
    /// (one that is not a series, one named twice, whose attacks would share their report keys, or a single series, which
    /// leaves the attacker nothing to know), or null when they can (or none is named).
    /// </summary>
    public static string? WhyNot(IReadOnlyList<string>? sensitive, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (sensitive is not { Count: > 0 }) return null;
        if (sensitive.FirstOrDefault(s => !names.Contains(s, StringComparer.Ordinal)) is { } unknown)
            return $"sensitive series '{unknown}' is not among the series ({string.Join(", ", names)})";
        if (sensitive.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return $"sensitive series '{twice.Key}' is given twice";
        return names.Count < 2 ? "attribute inference needs at least two series (the attacker knows the others)" : null;
    }

    /// <summary>Runs the attack on series <paramref name="sensitive"/> (index) with up to <paramref name="maxTargets"/> rows each (Philox stream 5).</summary>
    public static AttributeInferenceReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, int sensitive, ulong seed = 0,
        int maxTargets = 500, double toleranceFactor = 0.1, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        var d = synthetic.SeriesCount;
        if (d < 2) throw new ArgumentException("attribute inference needs at least one known series besides the sensitive one");
        ArgumentOutOfRangeException.ThrowIfNegative(sensitive);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sensitive, d);
        if (synthetic.RowCount < 2 || train.RowCount < 1 || holdout.RowCount < 1) throw new ArgumentException("attribute inference needs synthetic, train and holdout rows");
        var rng = new Philox(seed, 5);
        var n = Math.Min(maxTargets, Math.Min(train.RowCount, holdout.RowCount));
        var trainIdx = MembershipInference.Shuffled(train.RowCount, rng)[..n];
        var holdIdx = MembershipInference.Shuffled(holdout.RowCount, rng)[..n];
        var synRows = MembershipInference.Rows(synthetic);
        var (mean, sd) = AttackRows.Scale(synRows, d);
        var known = Enumerable.Range(0, d).Where(j => j != sensitive).ToArray();
        var synKnown = AttackRows.Standardise(synRows, d, mean, sd, known);
        var synSensitive = synthetic.Columns[sensitive];
        var tolerance = toleranceFactor * Descriptive.StandardDeviation(synSensitive);

        (double Mae, int Hits) Attack(SeriesSet set, int[] rows)
        {
            var targets = MembershipInference.Take(MembershipInference.Rows(set), rows, d);
            var (_, nearest) = AttackRows.KNearest(AttackRows.Standardise(targets, d, mean, sd, known), synKnown, known.Length, 1,
                maxDegreeOfParallelism: maxDegreeOfParallelism);
            return Score(rows.Select(r => set.Columns[sensitive][r]).ToArray(), nearest.Select(i => synSensitive[i]).ToArray(), tolerance);
        }

        var (maeTrain, hitsTrain) = Attack(train, trainIdx);
        var (maeHold, hitsHold) = Attack(holdout, holdIdx);
        var baselineGuesses = new double[n];
        for (var i = 0; i < n; i++) baselineGuesses[i] = synSensitive[rng.NextInt(synthetic.RowCount)];
        var (maeBase, hitsBase) = Score(trainIdx.Select(r => train.Columns[sensitive][r]).ToArray(), baselineGuesses, tolerance);
        var attack = SuccessRate.Wilson(n, hitsTrain);
        var control = SuccessRate.Wilson(n, hitsHold);
        var baseline = SuccessRate.Wilson(n, hitsBase);
        return new AttributeInferenceReport(synthetic.Names[sensitive], n, tolerance, maeTrain, maeHold, maeBase,
            attack, control, baseline, SuccessRate.Residual(attack, control), attack.Value > baseline.Value);
    }

    internal static (double Mae, int Hits) Score(double[] truth, double[] guess, double tolerance)
    {
        double sum = 0;
        var hits = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            var e = Math.Abs(guess[i] - truth[i]);
            sum += e;
            if (e <= tolerance) hits++;
        }

        return (truth.Length == 0 ? double.NaN : sum / truth.Length, hits);
    }
}
