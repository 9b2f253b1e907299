using System.Text.Json;
using System.Text.Json.Serialization;
using Crucible.Evaluation.Privacy;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The evaluator searches some neighbours once for several measures (the DCR's synthetic→train pass also gives the
/// outlier analysis' train→synthetic distances; one DOMIAS fit and one scoring of its non-members serve the attack and
/// the isolated records; the audit's NNDR searches give the DCR share's and the control's nearest distances): its
/// privacy report must be, value for value, what each measure computes alone.
/// </summary>
public class SharedPrivacySearchTests
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    // every public value of the record, doubles in round-trip form (−0 and NaN included)
    private static string Text(object? value) => JsonSerializer.Serialize(value, Json);

    // the set with every value rounded to a multiple of 1/2: many exactly equal distances between different rows
    private static SeriesSet OnGrid(SeriesSet set) => new(set.Names, [.. set.Columns.Select(c => c.Select(v => Math.Round(2 * v) / 2).ToArray())]);

    [Theory]
    [InlineData(1200, 900, 2000, 4, 0.05, false)]
    [InlineData(700, 1500, 400, 3, 0.0, false)]
    [InlineData(800, 800, 900, 3, 0.3, true)]
    public void Evaluate_PrivacyReport_SameAsEachMeasureAlone(int trainRows, int holdoutRows, int syntheticRows, int series, double jitter, bool grid)
    {
        string[] names = [.. Enumerable.Range(0, series).Select(i => $"s{i}")];
        var train = CorrelatedPopulation.Sample(trainRows, 31, 0, names, 0.6, 0.8);
        var holdout = CorrelatedPopulation.Sample(holdoutRows, 32, 0, names, 0.6, 0.8);
        // a memorising generator (copies of train rows, exact ones when jitter is 0): many near and exact ties
        var synthetic = CorrelatedPopulation.Copies(train, syntheticRows, 33, jitter);
        if (grid) (train, holdout, synthetic) = (OnGrid(train), OnGrid(holdout), OnGrid(synthetic));
        var options = new EvaluationOptions { Utility = false, Seed = 7 };
        var privacy = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options).Privacy!;

        var (toTrain, toHoldout) = DistanceToClosestRecord.Distances(synthetic, train, holdout);
        var alone = DistanceToClosestRecord.Summarise(toTrain, toHoldout);
        Assert.Equal(Text(new[] { alone.DcrTrainMedian, alone.DcrTrainP05, alone.DcrHoldoutMedian, alone.ShareCloserToTrain }),
            Text(new[] { privacy.DcrTrainMedian, privacy.DcrTrainP05, privacy.DcrHoldoutMedian, privacy.ShareCloserToTrain }));
        Assert.Equal(Text(MembershipInference.Domias(synthetic, train, holdout, options.Seed, options.MembershipMaxSynthetic)),
            Text(privacy.Membership! with { Gate = null }));
        Assert.Equal(Text(OutlierRisk.Run(synthetic, train, holdout, options.Seed, maxSynthetic: options.MembershipMaxSynthetic)),
            Text(privacy.OutlierRisk));
        // the audit's warnings gain the membership gate's, if any, after it: compare the rest and the leading warnings
        var audit = PrivacyAudit.Run(synthetic, train, holdout, options.Seed);
        Assert.Equal(Text(audit with { Warnings = [] }), Text(privacy.Audit! with { Warnings = [] }));
        Assert.Equal(audit.Warnings, privacy.Audit!.Warnings.Take(audit.Warnings.Count));
    }

    [Theory]
    [InlineData(300, 4)]
    [InlineData(1000, 10)]
    public void Standardisations_OfTheDcrAndOfTheAttacks_AgreeBitForBit(int rows, int series)
    {
        // the outlier analysis takes the DCR's train→synthetic and train→holdout distances, and the audit its nearest two in
        // holdout, searched on the DCR's rows: all standardise with train's mean and sample deviation, so the rows must be
        // the same bits, and each shared search what its own search gives
        string[] names = [.. Enumerable.Range(0, series).Select(i => $"s{i}")];
        var train = CorrelatedPopulation.Sample(rows, 41, 0, names, 0.5, 0.9);
        var synthetic = CorrelatedPopulation.Sample(rows / 2, 42, 0, names, 0.5, 1.3);
        var holdout = CorrelatedPopulation.Sample(rows / 3, 43, 0, names, 0.5, 1.1);
        var search = DistanceToClosestRecord.Search(synthetic, train, holdout, outliers: true, nearestTwo: true, maxDegreeOfParallelism: 2);
        var trainRows = MembershipInference.Rows(train);
        var (mean, sd) = AttackRows.Scale(trainRows, series);
        Assert.Equal(Text(AttackRows.Standardise(trainRows, series, mean, sd)), Text(search.Train));
        Assert.Equal(Text(AttackRows.Standardise(MembershipInference.Rows(synthetic), series, mean, sd)), Text(search.Synthetic));
        Assert.Equal(Text(AttackRows.Standardise(MembershipInference.Rows(holdout), series, mean, sd)), Text(search.Holdout));
        Assert.Equal(Text(NearestNeighbors.NearestDistances(search.Train, search.Synthetic, series)), Text(search.TrainToSynthetic));
        Assert.Equal(Text(NearestNeighbors.NearestDistances(search.Train, search.Holdout, series)), Text(search.TrainToHoldout));
        Assert.Equal(Text(NearestNeighbors.NearestDistances(search.Synthetic, search.Holdout, series)), Text(search.ToHoldout));
        Assert.Equal(Text(NearestNeighbors.KNearestSquared(search.Synthetic, search.Holdout, series, 2).Squared), Text(search.SyntheticHoldoutTwo));
        Assert.Equal(Text(NearestNeighbors.KNearestSquared(search.Train, search.Holdout, series, 2).Squared), Text(search.TrainHoldoutTwo));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Audit_NndrSearchesServingTheShareAndTheControl_SameAsTheirOwnSearches(bool grid)
    {
        // train and holdout of one size and fewer synthetic rows: every subset of the audit is its whole set, in order, so
        // its measures can be recomputed here from each one's own search
        string[] names = ["a", "b", "c"];
        var train = CorrelatedPopulation.Sample(700, 51, 0, names, 0.6, 0.8);
        var holdout = CorrelatedPopulation.Sample(700, 52, 0, names, 0.6, 0.8);
        var synthetic = CorrelatedPopulation.Copies(train, 600, 53, 0.3);
        if (grid) (train, holdout, synthetic) = (OnGrid(train), OnGrid(holdout), OnGrid(synthetic));
        var audit = PrivacyAudit.Run(synthetic, train, holdout, seed: 3);
        var z = DistanceToClosestRecord.Search(synthetic, train, holdout, outliers: false, nearestTwo: false, maxDegreeOfParallelism: 2);
        const int d = 3;
        var toTrain = NearestNeighbors.NearestDistances(z.Synthetic, z.Train, d);
        var toHold = NearestNeighbors.NearestDistances(z.Synthetic, z.Holdout, d);
        Assert.Equal(Enumerable.Range(0, 600).Count(i => toTrain[i] < toHold[i]) / 600.0, audit.DcrShare.Share);
        Assert.Equal(Text(new[]
            {
                NearestNeighborRatio.KthSmallest(NearestNeighborRatio.Ratios(z.Synthetic, z.Train, d)),
                NearestNeighborRatio.KthSmallest(NearestNeighborRatio.Ratios(z.Synthetic, z.Holdout, d)),
                NearestNeighborRatio.KthSmallest(NearestNeighborRatio.Ratios(z.Train, z.Holdout, d)),
            }),
            Text(new[] { audit.Nndr.SyntheticToTraining, audit.Nndr.SyntheticToHoldout, audit.Nndr.TrainingToHoldout }));
        Assert.Equal(Text(PrivacyAudit.HoldoutExchangeability(z.Train, z.Holdout, d)), Text(audit.HoldoutExchangeability));
    }

    [Theory]
    [InlineData(600, 900)]
    [InlineData(900, 600)]
    public void Audit_TakesTheDcrSearchesNearestTwo_OnlyWhenItsHoldoutSubsetIsTheWholeHoldout(int trainRows, int holdoutRows)
    {
        // a holdout larger than train is subsampled by the audit: the DCR's nearest two over every holdout row are not its
        // NNDR's then, and the audit must search its own; with the holdout no larger, they are its own, row for row
        string[] names = ["a", "b", "c"];
        var train = OnGrid(CorrelatedPopulation.Sample(trainRows, 61, 0, names, 0.6, 0.8));
        var holdout = OnGrid(CorrelatedPopulation.Sample(holdoutRows, 62, 0, names, 0.6, 0.8));
        var synthetic = OnGrid(CorrelatedPopulation.Copies(train, 700, 63, 0.3));
        var search = DistanceToClosestRecord.Search(synthetic, train, holdout, outliers: true, nearestTwo: true, maxDegreeOfParallelism: 2);
        Assert.Equal(Text(PrivacyAudit.Run(synthetic, train, holdout, seed: 5)),
            Text(PrivacyAudit.Run(synthetic, train, holdout, 5, null, -1, search)));
    }
}
