using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// RELIABILITY.md PRIV-1/3/4/5/9: the split discipline, the DCR share bound, IMS and NNDR (hand-computed cases and the
/// numpy/scipy golden values of TestData/reference_copy_metrics.py), and the report keys with the holdout hash.
/// </summary>
public sealed class PrivacyAuditTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int D = 3;

    /// <summary>n rows of a correlated 3-series Gaussian from Philox(seed).</summary>
    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 12, ["a", "b", "c"], 0.6, 0.8);

    /// <summary>The memorising "generator" of PRIV-3: every train row plus Gaussian noise of std <paramref name="noise"/>.</summary>
    private static SeriesSet Memorised(SeriesSet train, double noise, ulong seed)
    {
        var rng = new Philox(seed, 13);
        var columns = train.Columns.Select(c => c.Select(v => v + (noise * rng.NextNormal())).ToArray()).ToArray();
        return new SeriesSet(train.Names, columns);
    }

    // RELIABILITY PRIV-4
    [Fact]
    public void IdenticalMatch_HandComputed()
    {
        // query rows (2 columns) and references; tolerance 1% of the query's value
        double[] queries = [1.0, 2.0, /**/ 0.0, 5.0, /**/ 3.0, -4.0, /**/ 0.0, 1.0];
        double[] references = [1.005, 1.99, /**/ 0.0, 5.04, /**/ 3.0, -4.1, /**/ 1e-12, 1.0];
        // row 0: |0.005| ≤ 0.01 and |0.01| ≤ 0.02 → match; row 1: 0 ≤ 0 and 0.04 ≤ 0.05 → match;
        // row 2: |−4.1 + 4| = 0.1 > 0.04 → no; row 3: a zero matches only a zero, 1e-12 > 0 → no
        Assert.Equal([true, true, false, false], IdenticalMatch.Matches(queries, references, 2));
        Assert.Equal(2, IdenticalMatch.Count(queries, references, 2));
        // the boundary is inclusive (SDMetrics: abs(real − synthetic) <= |0.01·synthetic|)
        Assert.Equal([true], IdenticalMatch.Matches([100.0], [101.0], 1));
        Assert.Equal([false], IdenticalMatch.Matches([100.0], [101.5], 1));
    }

    // RELIABILITY PRIV-4
    [Fact]
    public void IdenticalMatchMargin_IsThePooledOneSidedTwoProportionBound()
    {
        // k_train 3, k_holdout 0, n 1000: p̄ = 0.0015, margin = 1.6448536·√(2·0.0015·0.9985/1000) = 1.6448536·0.00173075 = 0.0028468
        Assert.Equal(1.6448536269514722 * Math.Sqrt(2 * 0.0015 * 0.9985 / 1000), IdenticalMatch.Margin(3, 0, 1000), 15);
        Assert.Equal(0.0028468, IdenticalMatch.Margin(3, 0, 1000), 7);
        Assert.Equal(0, IdenticalMatch.Margin(0, 0, 1000));
        // one stray match with none in the holdout is inside the margin (0.001 ≤ 0.00164), three are not (0.003 > 0.0028468)
        Assert.True(0.001 <= IdenticalMatch.Margin(1, 0, 1000));
        Assert.False(0.003 <= IdenticalMatch.Margin(3, 0, 1000));
    }

    // RELIABILITY PRIV-5
    [Fact]
    public void NearestNeighborRatio_HandComputed()
    {
        double[] references = [0, 1, 3];
        // 0.5: d1 = d2 = 0.5 → 1; 2.9: 0.1 / 1.9; 3: 0 / 2 → 0; 10: 7 / 9
        var ratios = NearestNeighborRatio.Ratios([0.5, 2.9, 3, 10], references, 1);
        Assert.Equal(1, ratios[0], 15);
        Assert.Equal(0.1 / 1.9, ratios[1], 14);
        Assert.Equal(0, ratios[2]);
        Assert.Equal(7.0 / 9, ratios[3], 15);
        // two references on the query: d2 = 0, the ratio is defined as 0
        Assert.Equal([0.0], NearestNeighborRatio.Ratios([5.0, 5.0], [5.0, 5.0, 5.0, 5.0, 9.0, 9.0], 2));
        // 2-D: query (0, 0), references (3, 4) and (6, 8): 5 / 10
        Assert.Equal(0.5, NearestNeighborRatio.Ratios([0.0, 0.0], [6.0, 8.0, 3.0, 4.0], 2)[0], 15);
        Assert.Throws<ArgumentException>(() => NearestNeighborRatio.Ratios([0.0], [1.0], 1));
        // the 10th smallest of 12 values, and NaN under 10
        Assert.Equal(10, NearestNeighborRatio.KthSmallest([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]));
        Assert.True(double.IsNaN(NearestNeighborRatio.KthSmallest([1, 2, 3])));
    }

    // RELIABILITY PRIV-4, PRIV-5
    /// <summary>The golden values of reference_copy_metrics.py (numpy broadcasting for IMS, scipy cKDTree k=2 for NNDR).</summary>
    [Fact]
    public void CopyMetrics_AgreeWithNumpyAndScipy()
    {
        var real = Fixtures.Load("real.csv");
        var synthetic = Fixtures.Load("synthetic.csv");
        var train = Fixtures.Load("train.csv");
        var expected = Fixtures.Expected("expected_copy_metrics.json");
        var d = train.SeriesCount;
        var t = MembershipInference.Rows(train);
        // the first 100 train rows as near copies: even rows × 1.004 (inside 1%), odd rows first value × 1.03 (outside)
        var copies = new double[100 * d];
        for (var i = 0; i < 100; i++)
        {
            for (var j = 0; j < d; j++)
                copies[(i * d) + j] = t[(i * d) + j] * (i % 2 == 1 && j == 0 ? 1.03 : 1.004);
        }
        var q = copies.Concat(MembershipInference.Rows(synthetic)).ToArray();
        var h = MembershipInference.Rows(real);

        var mTrain = IdenticalMatch.Matches(q, t, d);
        var mHold = IdenticalMatch.Matches(q, h, d);
        Assert.Equal(expected.GetProperty("ims_train_matches").EnumerateArray().Select(e => e.GetInt32()),
            Enumerable.Range(0, mTrain.Length).Where(i => mTrain[i]));
        Assert.Equal(expected.GetProperty("ims_holdout_matches").EnumerateArray().Select(e => e.GetInt32()),
            Enumerable.Range(0, mHold.Length).Where(i => mHold[i]));
        Assert.Equal(50, mTrain.Count(m => m));

        var (mean, sd) = DistanceToClosestRecord.TrainScale(train);
        double[] Z(double[] rows) => rows.Select((v, k) => (v - mean[k % d]) / sd[k % d]).ToArray();
        foreach (var (name, ratios) in new[]
        {
            ("synthetic_to_training", NearestNeighborRatio.Ratios(Z(q), Z(t), d)),
            ("synthetic_to_holdout", NearestNeighborRatio.Ratios(Z(q), Z(h), d)),
            ("training_to_holdout", NearestNeighborRatio.Ratios(Z(t), Z(h), d)),
        })
        {
            var all = expected.GetProperty("nndr_" + name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(all.Length, ratios.Length);
            for (var i = 0; i < all.Length; i++) Assert.True(Math.Abs(ratios[i] - all[i]) <= 1e-9 * Math.Max(all[i], 1e-3), $"{name}[{i}]");
            var tenth = expected.GetProperty("nndr10_" + name).GetDouble();
            Assert.Equal(tenth, NearestNeighborRatio.KthSmallest(ratios), 9);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nndr10 {name}: {NearestNeighborRatio.KthSmallest(ratios):R} (scipy {tenth:R})"));
        }
    }

    [Fact]
    public void ShareBound_IsTheOneSidedBinomialBound()
    {
        // RELIABILITY.md: ≤ 0.5082 at n = 10⁴ (0.508225 unrounded)
        Assert.Equal(0.508225, PrivacyAudit.ShareBound(10_000), 12);
        Assert.Equal(0.5082, PrivacyAudit.ShareBound(10_000), 4);
        Assert.Equal(0.5 + (1.645 * Math.Sqrt(0.25 / 400)), PrivacyAudit.ShareBound(400), 15);
    }

    /// <summary>PRIV-3: a memorising generator (train rows + tiny noise) is above the bound, fails IMS and NNDR; a fresh
    /// sample from the distribution of train and holdout is within all three.</summary>
    [Fact]
    public void MemorisingGenerator_FailsTheGates_AndAFreshSample_Passes()
    {
        var train = Population(1500, 1);
        var holdout = Population(1500, 2);
        var memorised = PrivacyAudit.Run(Memorised(train, 1e-4, 3), train, holdout, seed: 4);
        var fresh = PrivacyAudit.Run(Population(1500, 5), train, holdout, seed: 4);
        foreach (var (label, a) in new[] { ("memorised", memorised), ("fresh", fresh) })
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: share {a.DcrShare.Share:R} (bound {a.DcrShare.Bound:R}), IMS train {a.Ims.SyntheticToTraining:R} holdout {a.Ims.SyntheticToHoldout:R} margin {a.Ims.Margin:R}, NNDR10 s→t {a.Nndr.SyntheticToTraining:R} s→h {a.Nndr.SyntheticToHoldout:R} t→h {a.Nndr.TrainingToHoldout:R}"));

        Assert.Equal(1500, memorised.DcrShare.N);
        Assert.True(memorised.DcrShare.Share > 0.99);
        Assert.False(memorised.DcrShare.WithinBound);
        Assert.Equal(0, memorised.DcrShare.Score, 1);
        Assert.True(memorised.Ims.SyntheticToTraining > 0.9);
        Assert.Equal(0, memorised.Ims.SyntheticToHoldout);
        Assert.False(memorised.Ims.WithinMargin);
        Assert.True(memorised.Nndr.SyntheticToTraining < 0.01);
        Assert.True(memorised.Nndr.SyntheticBelowTraining);
        Assert.Contains(memorised.Warnings, w => w.Contains("above its bound", StringComparison.Ordinal));

        Assert.True(fresh.DcrShare.WithinBound, $"fresh share {fresh.DcrShare.Share}");

        // PRIV-2: the same test with SDMetrics' range-normalised distances gives the same verdicts
        Assert.False(memorised.RangeNormalised!.WithinBound);
        Assert.True(memorised.RangeNormalised.Share > 0.99);
        Assert.True(memorised.RangeNormalised.SyntheticToTrainingMedian < 0.01 * memorised.RangeNormalised.SyntheticToHoldoutMedian);
        Assert.True(fresh.RangeNormalised!.WithinBound, $"fresh range-normalised share {fresh.RangeNormalised.Share}");
        Assert.True(Math.Abs(fresh.DcrShare.Share - 0.5) < 0.04);
        Assert.True(fresh.DcrShare.Ci.Value - fresh.DcrShare.Ci.Error < 0.5 && 0.5 < fresh.DcrShare.Ci.Value + fresh.DcrShare.Ci.Error);
        Assert.Equal(1, fresh.DcrShare.Score, 1);
        Assert.True(fresh.Ims.WithinMargin);
        // the NNDR of fresh rows is of the size of the real rows' own (the flag itself is a coin toss for them)
        Assert.True(fresh.Nndr.SyntheticToTraining > 0.5 * fresh.Nndr.TrainingToHoldout);
        Assert.True(memorised.Nndr.SyntheticToTraining < 0.01 * memorised.Nndr.TrainingToHoldout);
        Assert.Empty(fresh.Warnings);
    }

    /// <summary>PRIV-1: a holdout that shares rows with train (the train file given as the holdout, overlapping periods)
    /// is warned about with the count: there the distances tie and a memorising generator passes every gate.</summary>
    [Fact]
    public void HoldoutRowsThatAreTrainRows_AreWarnedAbout()
    {
        var train = Population(400, 1);
        var memorised = Memorised(train, 1e-4, 3);
        var same = PrivacyAudit.Run(memorised, train, train, seed: 4);
        Assert.True(same.DcrShare.WithinBound);         // the gate cannot see the copies when holdout = train
        Assert.Contains(same.Warnings, w => w.StartsWith("400 of the holdout's 400 rows equal a train row exactly (PRIV-1", StringComparison.Ordinal));

        // ten shared rows (one with -0 where train has 0); a disjoint holdout has no such warning
        var holdout = Population(400, 2);
        var columns = holdout.Columns.Select(c => c.ToArray()).ToArray();
        for (var r = 0; r < 10; r++)
        {
            for (var j = 0; j < D; j++) columns[j][r] = train.Columns[j][(r * 7) + 1];
        }
        var trainColumns = train.Columns.Select(c => c.ToArray()).ToArray();
        trainColumns[0][1] = 0.0;
        columns[0][0] = -0.0;
        var overlapping = PrivacyAudit.Run(memorised, new SeriesSet(train.Names, trainColumns), new SeriesSet(holdout.Names, columns), seed: 4);
        Assert.Contains(overlapping.Warnings, w => w.StartsWith("10 of the holdout's 400 rows equal a train row exactly", StringComparison.Ordinal));
        Assert.DoesNotContain(PrivacyAudit.Run(memorised, train, holdout, seed: 4).Warnings, w => w.Contains("equal a train row", StringComparison.Ordinal));
    }

    /// <summary>PRIV-1: a holdout under half the train size is warned about; the references are made equal (a seeded train
    /// subset of the holdout's size) and the synthetic set is cut to the holdout's n.</summary>
    [Fact]
    public void SmallHoldout_IsWarned_AndTheSetsAreBalanced()
    {
        var train = Population(1000, 1);
        var holdout = Population(300, 2);
        var synthetic = Population(800, 3);
        var a = PrivacyAudit.Run(synthetic, train, holdout, seed: 7);
        Assert.Equal((1000, 300, 800, 300, 300), (a.Split.TrainRows, a.Split.HoldoutRows, a.Split.SyntheticRows, a.Split.N, a.Split.SyntheticUsed));
        Assert.Equal(0.3, a.Split.HoldoutToTrain, 15);
        Assert.Equal(300, a.DcrShare.N);
        Assert.Equal(PrivacyAudit.ShareBound(300), a.DcrShare.Bound);
        Assert.Contains(a.Warnings, w => w.Contains("under half", StringComparison.Ordinal));
        // it names the metrics that take the subset, and says the peer-compatible share does not (it uses every train row)
        Assert.Contains(a.Warnings, w => w.Contains("(dcr_share, dcr_range_normalised, ims, nndr) use a random", StringComparison.Ordinal)
            && w.Contains("share_closer_to_train uses every train row", StringComparison.Ordinal));
        // reproducible: the same seed, the same subsets
        Assert.Equal(a.DcrShare.Share, PrivacyAudit.Run(synthetic, train, holdout, seed: 7).DcrShare.Share);

        // the balanced share equals the share recomputed by hand on subsets of the documented sizes: when no set is cut,
        // it is exactly the peer-compatible share over every row
        var even = PrivacyAudit.Run(Population(300, 3), Population(300, 1), holdout, seed: 7);
        var (toTrain, toHold) = DistanceToClosestRecord.Distances(Population(300, 3), Population(300, 1), holdout);
        Assert.Equal(DistanceToClosestRecord.Summarise(toTrain, toHold).ShareCloserToTrain, even.DcrShare.Share);
        Assert.DoesNotContain(even.Warnings, w => w.Contains("under half", StringComparison.Ordinal));

        // exactly half is allowed; fewer synthetic rows than the references is warned about
        var half = PrivacyAudit.Run(Population(100, 3), Population(600, 1), holdout, seed: 7);
        Assert.DoesNotContain(half.Warnings, w => w.Contains("under half", StringComparison.Ordinal));
        Assert.Contains(half.Warnings, w => w.Contains("fewer than the 300-row references", StringComparison.Ordinal));
        Assert.Equal(100, half.DcrShare.N);

        // a holdout larger than train breaks no rule: a train-sized random subset of it is the reference, no warning
        var large = PrivacyAudit.Run(Population(300, 3), Population(300, 1), Population(600, 2), seed: 7);
        Assert.Equal((300, 300), (large.Split.N, large.DcrShare.N));
        Assert.DoesNotContain(large.Warnings, w => w.Contains("holdout", StringComparison.Ordinal));
    }

    /// <summary>The decision for a small holdout: warned, not refused, and a declared threshold on
    /// <c>privacy.warning_count</c> makes it a hard gate; the pass flags are scalars too.</summary>
    [Fact]
    public void WarningCount_AndPassFlags_AreThresholdableScalars()
    {
        var options = new EvaluationOptions { MembershipInference = false, Utility = false, OutlierRisk = false };
        var small = Evaluator.Evaluate(new EvaluationInput(Population(100, 2), Population(100, 3), Population(400, 1)), options);
        var even = Evaluator.Evaluate(new EvaluationInput(Population(300, 2), Population(300, 3), Population(400, 1)), options);
        var gate = ThresholdCheck.Parse(
            """{"privacy.warning_count": {"max": 0}, "privacy.share_within_bound": {"min": 1}, "privacy.ims.within_margin": {"min": 1}}""");
        Assert.False(ThresholdCheck.Evaluate(small, gate).Single(v => v.Threshold.Key == "privacy.warning_count").Passed);
        Assert.True(ThresholdCheck.AllPassed(ThresholdCheck.Evaluate(even, gate)));
        var memorising = Evaluator.Evaluate(
            new EvaluationInput(Population(400, 2), Memorised(Population(400, 1), 1e-4, 3), Population(400, 1)), options);
        var failed = ThresholdCheck.Evaluate(memorising, gate).Where(v => !v.Passed).Select(v => v.Threshold.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["privacy.ims.within_margin", "privacy.share_within_bound", "privacy.warning_count"], failed);
    }

    /// <summary>The values hash's header quotes a name holding a comma, quote or line break (RFC 4180): the names
    /// (a,b | c) and (a | b,c) over the same values joined to one header and so one holdout_sha256.</summary>
    [Fact]
    public void ContentBytes_QuotesNamesThatHoldACommaQuoteOrLineBreak_SoDifferentNamesNeverCollide()
    {
        double[][] columns = [[0.5, -1.25], [2, 3]];
        var left = PrivacyAudit.ContentBytes(new SeriesSet(["a,b", "c"], columns));
        var right = PrivacyAudit.ContentBytes(new SeriesSet(["a", "b,c"], columns));
        Assert.NotEqual(left, right);
        Assert.Equal("\"a,b\",c\n0.5,2\n-1.25,3\n", Encoding.UTF8.GetString(left));
        Assert.Equal("a,\"b,c\"\n0.5,2\n-1.25,3\n", Encoding.UTF8.GetString(right));
        Assert.Equal("\"x\"\"y\",\"p\nq\"\n0.5,2\n-1.25,3\n", Encoding.UTF8.GetString(PrivacyAudit.ContentBytes(new SeriesSet(["x\"y", "p\nq"], columns))));
        // a name that needs no quoting keeps its bytes
        Assert.Equal("-a,b\n0.5,2\n-1.25,3\n", Encoding.UTF8.GetString(PrivacyAudit.ContentBytes(new SeriesSet(["-a", "b"], columns))));
    }

    /// <summary>PRIV-9: every new metric carries its threat model, n, CI where it has one and the holdout hash; the hash
    /// of the values is SHA-256 of the documented canonical text.</summary>
    [Fact]
    public void Report_CarriesThreatModels_N_Ci_AndTheHoldoutHash()
    {
        var train = Population(200, 1);
        var holdout = Population(200, 2);
        var report = Evaluator.Evaluate(new EvaluationInput(holdout, Population(200, 3), train), new EvaluationOptions { SensitiveColumns = ["b"] });
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        var p = doc.RootElement.GetProperty("privacy");

        var text = new StringBuilder("a,b,c\n");
        for (var t = 0; t < holdout.RowCount; t++)
            text.Append(string.Join(',', holdout.Columns.Select(c => c[t].ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        Assert.Equal(hash, p.GetProperty("holdout_sha256").GetString());
        Assert.Equal("values", p.GetProperty("split").GetProperty("holdout_hash_of").GetString());

        foreach (var metric in new[] { "dcr_share", "ims", "nndr" })
        {
            var m = p.GetProperty(metric);
            Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("threat_model").GetString()), metric);
            Assert.Equal(200, m.GetProperty("n").GetInt32());
            Assert.Equal(hash, m.GetProperty("holdout_sha256").GetString());
        }
        Assert.Equal(2, p.GetProperty("dcr_share").GetProperty("ci95").GetArrayLength());
        Assert.Equal(2, p.GetProperty("ims").GetProperty("synthetic_to_training_ci95").GetArrayLength());
        Assert.Equal(2, p.GetProperty("ims").GetProperty("synthetic_to_holdout_ci95").GetArrayLength());
        Assert.Equal(PrivacyAudit.ShareBound(200), p.GetProperty("share_bound").GetDouble());
        Assert.Equal(JsonValueKind.True, p.GetProperty("share_within_bound").ValueKind);
        Assert.Equal(JsonValueKind.Array, p.GetProperty("warnings").ValueKind);
        foreach (var k in new[] { "dcr", "dcr_share", "ims", "nndr", "membership_inference", "outlier_risk" })
            Assert.True(p.GetProperty("threat_models").TryGetProperty(k, out _), k);
        foreach (var k in new[] { "singling_out", "linkability" })
            Assert.True(p.GetProperty("threat_models").TryGetProperty(k, out _), k);
        foreach (var m in new[] { p.GetProperty("membership_inference"), p.GetProperty("outlier_risk"), p.GetProperty("attribute_inference")[0],
            p.GetProperty("singling_out")[0], p.GetProperty("singling_out")[1], p.GetProperty("linkability") })
        {
            Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("threat_model").GetString()));
            Assert.Equal(hash, m.GetProperty("holdout_sha256").GetString());
        }
        Assert.True(p.GetProperty("threat_models").TryGetProperty("attribute_inference", out _));
        // the peer keys are still there, with the figures eval_ref.py defines
        Assert.Equal(report.Privacy!.ShareCloserToTrain, p.GetProperty("share_closer_to_train").GetDouble());
        // a caller-supplied file hash is recorded as such
        var fileHash = new string('a', 64);
        var withFile = Evaluator.Evaluate(new EvaluationInput(holdout, Population(200, 3), train),
            new EvaluationOptions { HoldoutSha256 = fileHash, MembershipInference = false, Utility = false, OutlierRisk = false });
        Assert.Equal(fileHash, withFile.Privacy!.Audit!.Split.HoldoutSha256);
        Assert.Equal("file", withFile.Privacy.Audit.Split.HoldoutHashOf);
        Assert.Contains(report.ScalarMetrics(), kv => kv.Key == "privacy.nndr.training_to_holdout");
    }
    /// <summary>The DCR share's control: with a holdout from train's distribution, the train rows themselves (leave-one-out)
    /// score about 0.5 and nothing is said; with a shifted holdout (every value moved by one standard deviation, as a later period can move), they score well
    /// above 0.5, the holdout is flagged, and a fresh sample from train's distribution, which copies nothing, lands
    /// above PRIV-3's bound and near the control's share, which is what the warning tells the reader.</summary>
    [Fact]
    public void HoldoutExchangeability_IsHalfForOneDistribution_AndFlagsAShiftedHoldout()
    {
        var train = Population(1500, 1);
        var fresh = Population(1500, 5);
        var same = PrivacyAudit.Run(fresh, train, Population(1500, 2), seed: 4);
        var x = same.HoldoutExchangeability!;
        Assert.Equal((1500, 1500), (x.N, x.ReferenceRows));
        Assert.Equal(PrivacyAudit.ExchangeabilityBound(1500), x.Bound);
        Assert.True(Math.Abs(x.Share - 0.5) < 0.04, $"control share {x.Share}");
        Assert.True(x.Exchangeable);
        Assert.DoesNotContain(same.Warnings, w => w.Contains("held-back", StringComparison.Ordinal));

        var moved = Population(1500, 2);
        var shifted = new SeriesSet(moved.Names, [.. moved.Columns.Select(c => c.Select(v => v + 1.0).ToArray())]);
        var a = PrivacyAudit.Run(fresh, train, shifted, seed: 4);
        var y = a.HoldoutExchangeability!;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one distribution: control {x.Share:R}, fresh dcr share {same.DcrShare.Share:R}; shifted: control {y.Share:R} (bound {y.Bound:R}), fresh dcr share {a.DcrShare.Share:R} (bound {a.DcrShare.Bound:R})"));
        Assert.False(y.Exchangeable);
        Assert.False(a.DcrShare.WithinBound);                      // a generator that copies nothing fails PRIV-3 here
        Assert.True(Math.Abs(a.DcrShare.Share - y.Share) < 0.05);  // and scores what the real rows score, up to noise
        var warning = Assert.Single(a.Warnings, w => w.StartsWith("real train rows are closer to another train row than to the holdout", StringComparison.Ordinal));
        Assert.Contains(y.Share.ToString("G4", CultureInfo.InvariantCulture), warning, StringComparison.Ordinal);

        // the control by hand: each train row's nearest other train row against its nearest holdout row, plain loops
        var (mean, sd) = DistanceToClosestRecord.TrainScale(train);
        double Z(SeriesSet set, int row, int j) => (set.Columns[j][row] - mean[j]) / sd[j];
        double Distance(SeriesSet u, int i, SeriesSet v, int k)
        {
            double s = 0;
            for (var j = 0; j < D; j++) s += (Z(u, i, j) - Z(v, k, j)) * (Z(u, i, j) - Z(v, k, j));
            return s;
        }
        var closer = 0;
        for (var i = 0; i < 1500; i++)
        {
            double t = double.PositiveInfinity, h = double.PositiveInfinity;
            for (var k = 0; k < 1500; k++)
            {
                if (k != i) t = Math.Min(t, Distance(train, i, train, k));
                h = Math.Min(h, Distance(train, i, shifted, k));
            }
            if (t < h) closer++;
        }
        Assert.Equal(closer / 1500.0, y.Share);
        Assert.Null(PrivacyAudit.Run(Population(3, 5), Population(3, 1), Population(3, 2), seed: 4).HoldoutExchangeability);
    }

    /// <summary>The control in report.json (with its bound, interval and holdout hash), the scalars, and report.html.</summary>
    [Fact]
    public void HoldoutExchangeability_IsInTheReports()
    {
        var moved = Population(400, 2);
        var shifted = new SeriesSet(moved.Names, [.. moved.Columns.Select(c => c.Select(v => v + 1.0).ToArray())]);
        var report = Evaluator.Evaluate(new EvaluationInput(shifted, Population(400, 3), Population(400, 1)),
            new EvaluationOptions { MembershipInference = false, Utility = false, OutlierRisk = false });
        var x = report.Privacy!.Audit!.HoldoutExchangeability!;
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        var p = doc.RootElement.GetProperty("privacy");
        var j = p.GetProperty("holdout_exchangeability");
        Assert.Equal(x.Share, j.GetProperty("share_closer_to_train").GetDouble());
        Assert.Equal(x.Bound, j.GetProperty("bound").GetDouble());
        Assert.Equal(400, j.GetProperty("n").GetInt32());
        Assert.Equal(2, j.GetProperty("ci95").GetArrayLength());
        Assert.Equal(JsonValueKind.False, j.GetProperty("exchangeable").ValueKind);
        Assert.Equal(p.GetProperty("holdout_sha256").GetString(), j.GetProperty("holdout_sha256").GetString());
        Assert.Contains(report.ScalarMetrics(), kv => kv.Key == "privacy.holdout_exchangeability.exchangeable" && kv.Value == 0);
        var html = ReportHtml.ToHtml(report);
        Assert.Contains("id=\"holdout-exchangeability\"", html, StringComparison.Ordinal);
        Assert.Contains("the holdout is shifted from train", html, StringComparison.Ordinal);
    }
}
