using System.Text.Json;
using Crucible.Evaluation.Privacy;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// DCR (row and window) and attribute inference against a brute-force numpy/scipy/statsmodels computation on a few
/// hundred rows (TestData/s14_privacy_ref.py states every formula).
/// </summary>
public sealed class BruteForceReferenceTests
{
    private static readonly Lazy<JsonElement> Reference = new(() => Fixtures.Expected("s14_privacy_ref.json"));

    private static double[] Doubles(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];

    private static SeriesSet Set(string rows, string ids)
    {
        var r = Reference.Value;
        var names = r.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToArray();
        var data = r.GetProperty(rows).EnumerateArray().Select(Doubles).ToArray();
        var columns = names.Select((_, i) => data.Select(row => row[i]).ToArray()).ToArray();
        return new SeriesSet(names, columns, [.. r.GetProperty(ids).EnumerateArray().Select(v => v.GetInt32())]);
    }

    private static void Close(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void Dcr_RowAndWindow_MatchBruteForce()
    {
        var (synthetic, train, holdout) = (Set("synthetic", "synthetic_ids"), Set("train", "train_ids"), Set("holdout", "holdout_ids"));
        var dcr = Reference.Value.GetProperty("dcr");
        var (toTrain, toHoldout) = DistanceToClosestRecord.Distances(synthetic, train, holdout);
        var expectedTrain = Doubles(dcr.GetProperty("to_train"));
        var expectedHoldout = Doubles(dcr.GetProperty("to_holdout"));
        for (var i = 0; i < expectedTrain.Length; i++)
        {
            Close(expectedTrain[i], toTrain[i], 1e-9, $"to train {i}");
            Close(expectedHoldout[i], toHoldout[i], 1e-9, $"to holdout {i}");
        }

        var summary = DistanceToClosestRecord.Summarise(toTrain, toHoldout);
        Close(dcr.GetProperty("train_median").GetDouble(), summary.DcrTrainMedian, 1e-9, "median");
        Close(dcr.GetProperty("train_p05").GetDouble(), summary.DcrTrainP05, 1e-9, "p05");
        Close(dcr.GetProperty("holdout_median").GetDouble(), summary.DcrHoldoutMedian, 1e-9, "holdout median");
        Assert.Equal(dcr.GetProperty("share_closer").GetDouble(), summary.ShareCloserToTrain, 12);

        var window = Reference.Value.GetProperty("window_dcr");
        var (wTrain, wHoldout) = DistanceToClosestRecord.WindowDistances(synthetic, train, holdout, window.GetProperty("window").GetInt32());
        var ewTrain = Doubles(window.GetProperty("to_train"));
        var ewHoldout = Doubles(window.GetProperty("to_holdout"));
        Assert.Equal(ewTrain.Length, wTrain.Length);
        for (var i = 0; i < ewTrain.Length; i++)
        {
            Close(ewTrain[i], wTrain[i], 1e-9, $"window to train {i}");
            Close(ewHoldout[i], wHoldout[i], 1e-9, $"window to holdout {i}");
        }
    }

    // RELIABILITY PRIV-6
    [Fact]
    public void AttributeInference_MatchesBruteForce_WhenEveryRowIsAttacked()
    {
        var (synthetic, train, holdout) = (Set("synthetic", "synthetic_ids"), Set("train", "train_ids"), Set("holdout", "holdout_ids"));
        var e = Reference.Value.GetProperty("attribute");
        var report = AttributeInference.Run(synthetic, train, holdout, e.GetProperty("sensitive").GetInt32(), seed: 3, maxTargets: 500);
        Assert.Equal(240, report.Targets);
        Close(e.GetProperty("tolerance").GetDouble(), report.Tolerance, 1e-12, "tolerance");
        Close(e.GetProperty("mae_train").GetDouble(), report.MaeTrain, 1e-12, "MAE train");
        Close(e.GetProperty("mae_holdout").GetDouble(), report.MaeHoldout, 1e-12, "MAE holdout");
        var attack = Doubles(e.GetProperty("attack"));
        var control = Doubles(e.GetProperty("control"));
        Close(attack[0], report.Attack.Value, 1e-12, "attack rate");
        Close(attack[1], report.Attack.Error, 1e-12, "attack half-width");
        Close(control[0], report.Control.Value, 1e-12, "control rate");
        Close(control[1], report.Control.Error, 1e-12, "control half-width");
        Close(e.GetProperty("risk").GetDouble(), report.Risk.Value, 1e-12, "risk");
    }
}
