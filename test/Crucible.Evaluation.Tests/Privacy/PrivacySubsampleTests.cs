using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// <see cref="EvaluationOptions.PrivacyRows"/>: the draw (uniform without replacement, in order, reproducible from the
/// seed), a limit that cuts nothing (the same bytes), the report's record, and the privacy section on a subsample equal
/// to the section computed on the drawn rows themselves; the other sections keep every row.
/// </summary>
public sealed class PrivacySubsampleTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 12, Names, 0.6, 0.8);

    // the sections the limit must not touch: everything but privacy (the DCR histogram is privacy's, in the page only)
    private static JsonObject WithoutPrivacy(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("privacy");
        return node;
    }

    private static JsonObject PrivacyOf(string json) => JsonNode.Parse(json)!["privacy"]!.AsObject();

    [Fact]
    public void Draw_EveryCountSubsetIsEquallyLikely_InIncreasingOrder_WithoutRepeats()
    {
        // 3 of 6 indices: 20 subsets, each 1/20; 40,000 draws from one generator, a chi-square over the subsets (19 degrees
        // of freedom; 57.37 is its 99.999% quantile) and each index's inclusion share (1/2, 5 standard errors)
        const int total = 6, count = 3, draws = 40_000;
        var rng = new Philox(20261124, PrivacySubsample.Stream);
        var subsets = new Dictionary<int, int>();
        var included = new int[total];
        for (var k = 0; k < draws; k++)
        {
            var pick = PrivacySubsample.Draw(total, count, rng);
            Assert.Equal(count, pick.Length);
            for (var i = 0; i < count; i++)
            {
                Assert.InRange(pick[i], 0, total - 1);
                if (i > 0) Assert.True(pick[i - 1] < pick[i], "increasing, no index twice");
                included[pick[i]]++;
            }
            var key = pick.Aggregate(0, (mask, i) => mask | (1 << i));
            subsets[key] = subsets.GetValueOrDefault(key) + 1;
        }

        Assert.Equal(20, subsets.Count);
        var expected = draws / 20.0;
        var chiSquare = subsets.Values.Sum(o => (o - expected) * (o - expected) / expected);
        Assert.True(chiSquare < 57.37, $"chi-square {chiSquare} over the 20 subsets");
        var se = Math.Sqrt(0.25 / draws);
        foreach (var c in included) Assert.InRange((double)c / draws, 0.5 - (5 * se), 0.5 + (5 * se));
    }

    [Fact]
    public void Draw_AllRowsInOrder_WhenTheCountReachesTheTotal_AndNothingIsDrawnThen()
    {
        var rng = new Philox(3, PrivacySubsample.Stream);
        var before = rng.GetState();
        Assert.Equal([0, 1, 2, 3, 4], PrivacySubsample.Draw(5, 5, rng));
        Assert.Equal([0, 1, 2, 3, 4], PrivacySubsample.Draw(5, 9, rng));
        Assert.Equal(before, rng.GetState());
        Assert.Empty(PrivacySubsample.Draw(5, 0, rng));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrivacySubsample.Draw(5, -1, rng));
    }

    [Fact]
    public void Of_DrawsEachSetFromItsOwnChildOfStream9_SoADrawDependsOnlyOnTheSeedAndItsSetsSize()
    {
        SeriesSet train = Population(900, 1), holdout = Population(700, 2), synthetic = Population(800, 3);
        var a = PrivacySubsample.Of(synthetic, train, holdout, 250, 7)!;
        var b = PrivacySubsample.Of(synthetic, train, holdout, 250, 7)!;
        Assert.Equal(a.TrainRows, b.TrainRows);
        Assert.Equal(a.Holdout.Columns[0], b.Holdout.Columns[0]);
        // the oracle: child 0 (train), 1 (holdout), 2 (synthetic) of Philox(seed, 9)
        Assert.Equal(PrivacySubsample.Draw(900, 250, new Philox(7, 9).Split(0)), a.TrainRows);
        var holdoutRows = PrivacySubsample.Draw(700, 250, new Philox(7, 9).Split(1));
        Assert.Equal(holdoutRows.Select(t => holdout.Columns[2][t]), a.Holdout.Columns[2]);
        var syntheticRows = PrivacySubsample.Draw(800, 250, new Philox(7, 9).Split(2));
        Assert.Equal(syntheticRows.Select(t => synthetic.Columns[1][t]), a.Synthetic.Columns[1]);
        Assert.Equal(a.TrainRows.Select(t => train.Columns[0][t]), a.Train.Columns[0]);
        Assert.Equal(new PrivacySubsample(250, 7, new(900, 250), new(700, 250), new(800, 250)), a.Record);
        // a smaller synthetic set leaves the train and holdout draws as they were; another seed draws other rows
        var small = Population(200, 3);
        var c = PrivacySubsample.Of(small, train, holdout, 250, 7)!;
        Assert.Equal(a.TrainRows, c.TrainRows);
        Assert.Equal(a.Holdout.Columns[0], c.Holdout.Columns[0]);
        Assert.NotEqual(a.TrainRows, PrivacySubsample.Of(synthetic, train, holdout, 250, 8)!.TrainRows);
        // a set within the limit is the set itself; no set beyond it: no subsample at all
        Assert.Same(small, c.Synthetic);
        Assert.Equal(new SubsampleCount(200, 200), c.Record.Synthetic);
        Assert.Null(PrivacySubsample.Of(synthetic, train, holdout, 900, 7));
    }

    [Fact]
    public void Draw_KnownAnswer_PinsTheDrawAcrossVersions()
    {
        // a change of the draw changes every subsampled report: this pins it (seed 0, child 0 of stream 9, 4 of 10)
        Assert.Equal([0, 4, 8, 9], PrivacySubsample.Draw(10, 4, PrivacySubsample.Generator(0, PrivacySubsample.Draws.Train)));
    }

    [Fact]
    public void Evaluate_ALimitNoSmallerThanEverySet_WritesTheReportOfNoLimit_ByteForByte()
    {
        SeriesSet train = Population(300, 1), holdout = Population(260, 2), synthetic = Population(320, 3);
        var input = new EvaluationInput(holdout, synthetic, train);
        var none = Evaluator.Evaluate(input, new EvaluationOptions { Utility = false });
        foreach (var limit in new[] { 320, 10_000, int.MaxValue })
        {
            var same = Evaluator.Evaluate(input, new EvaluationOptions { Utility = false, PrivacyRows = limit });
            Assert.Null(same.Privacy!.Subsample);
            Assert.Equal(ReportJson.ToJson(none), ReportJson.ToJson(same));
            Assert.Equal(ReportHtml.ToHtml(none), ReportHtml.ToHtml(same));
        }
        // one row fewer than the synthetic set cuts it, and the report says so
        Assert.NotNull(Evaluator.Evaluate(input, new EvaluationOptions { Utility = false, PrivacyRows = 319 }).Privacy!.Subsample);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-5)]
    public void Evaluate_ALimitBelowTwo_IsRefused(int limit)
    {
        var input = new EvaluationInput(Population(50, 2), Population(50, 3), Population(50, 1));
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(input, new EvaluationOptions { PrivacyRows = limit }));
        Assert.Equal("invalid-option", e.Rule);
        Assert.Contains($"privacy rows must be at least 2 (a nearest other row and a standard deviation need two), got {limit}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_OnASubsample_ThePrivacySectionIsTheDrawnRowsOwn_TheOtherSectionsKeepEveryRow()
    {
        SeriesSet train = Population(700, 1), holdout = Population(500, 2), synthetic = Population(900, 3);
        const int limit = 240;
        const ulong seed = 5;
        // the holdout's file hash is the caller's; both reports carry the same one
        var options = new EvaluationOptions { Seed = seed, HoldoutSha256 = new string('a', 64), SensitiveColumns = ["b"] };
        var all = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options);
        var cut = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options with { PrivacyRows = limit });
        var drawn = PrivacySubsample.Of(synthetic, train, holdout, limit, seed)!;
        var direct = Evaluator.Evaluate(new EvaluationInput(drawn.Holdout, drawn.Synthetic, drawn.Train), options);

        // the record
        var sub = cut.Privacy!.Subsample!;
        Assert.Equal(new PrivacySubsample(limit, seed, new(700, limit), new(500, limit), new(900, limit)), sub);
        var json = ReportJson.ToJson(cut);
        var record = PrivacyOf(json)["subsample"]!;
        Assert.Equal(limit, (int)record["limit"]!);
        Assert.Equal(seed, (ulong)record["seed"]!);
        Assert.Equal(9, (int)record["stream"]!);
        Assert.Equal(700, (int)record["train"]!["rows"]!);
        Assert.Equal(limit, (int)record["train"]!["drawn"]!);
        Assert.Equal(500, (int)record["holdout"]!["rows"]!);
        Assert.Equal(900, (int)record["synthetic"]!["rows"]!);
        Assert.Null(record["windows"]);
        Assert.StartsWith("every privacy measure was computed on these rows", (string)record["note"]!, StringComparison.Ordinal);
        Assert.Contains("id=\"privacy-subsample\">Measured on a subsample (at most 240 rows of each set, drawn uniformly without replacement, seed 5, Philox stream 9): 240 of 700 train rows, 240 of 500 holdout rows, 240 of 900 synthetic rows.",
            ReportHtml.ToHtml(cut), StringComparison.Ordinal);

        // the section: every measure (DCR, share, audit with its control, DOMIAS, attribute inference, outliers) is the
        // drawn rows' own, an isolated record named by its row in the whole train set
        var expected = PrivacyOf(ReportJson.ToJson(direct));
        foreach (var r in expected["outlier_risk"]!["records"]!.AsArray())
            r!["train_row"] = drawn.TrainRows[(int)r["train_row"]!];
        var actual = PrivacyOf(json);
        actual.Remove("subsample");
        Assert.Equal(expected.ToJsonString(), actual.ToJsonString());
        Assert.Equal(limit, cut.Privacy.Audit!.Split.N);
        Assert.Equal(limit, cut.Privacy.Audit.HoldoutExchangeability!.N);
        Assert.NotEqual(ReportJson.ToJson(all), json);

        // the other sections: every row, as without the limit (rows, utility, regimes fitted on the whole train set)
        Assert.Equal(WithoutPrivacy(ReportJson.ToJson(all)).ToJsonString(), WithoutPrivacy(json).ToJsonString());
        Assert.Equal(700, cut.Rows.Train);
    }

    [Fact]
    public void Evaluate_OnASubsample_TheHoldoutHashIsTheWholeHoldouts()
    {
        SeriesSet train = Population(400, 1), holdout = Population(400, 2), synthetic = Population(400, 3);
        var input = new EvaluationInput(holdout, synthetic, train);
        var options = new EvaluationOptions { Utility = false, MembershipInference = false, OutlierRisk = false };
        var all = Evaluator.Evaluate(input, options);
        var cut = Evaluator.Evaluate(input, options with { PrivacyRows = 100 });
        Assert.Equal("values", cut.Privacy!.Audit!.Split.HoldoutHashOf);
        Assert.Equal(all.Privacy!.Audit!.Split.HoldoutSha256, cut.Privacy.Audit.Split.HoldoutSha256);
    }

    [Fact]
    public void Evaluate_OnASubsample_TheWindowDcrIsThatOfTheDrawnWindows()
    {
        // 5-step synthetic paths against histories: the window DCR draws at most the limit of each set's windows
        const int w = 5, limit = 60;
        SeriesSet train = Population(400, 1), holdout = Population(300, 2);
        var rows = Population(90 * w, 3);
        var synthetic = rows with { ScenarioIds = [.. Enumerable.Range(0, 90 * w).Select(t => 1 + (t / w))] };
        var options = new EvaluationOptions { Utility = false, MembershipInference = false, OutlierRisk = false, Seed = 2 };
        var cut = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options with { PrivacyRows = limit });
        var counts = cut.Privacy!.Subsample!.Windows!;
        Assert.Equal(new WindowSubsampleCounts(new(396, limit), new(296, limit), new(90, limit)), counts);

        // the windows drawn, each one path of a set of its own, measured with the drawn train rows' statistics
        var drawn = PrivacySubsample.Of(synthetic, train, holdout, limit, 2)!;
        static SeriesSet Windows(SeriesSet set, int[] starts) => new(set.Names,
            [.. set.Columns.Select(column => starts.SelectMany(s => column.AsSpan(s, w).ToArray()).ToArray())],
            [.. starts.SelectMany((_, k) => Enumerable.Repeat(k + 1, w))]);
        int[] Starts(int total, PrivacySubsample.Draws child, int stride) =>
            [.. PrivacySubsample.Draw(total, limit, PrivacySubsample.Generator(2, child)).Select(i => i * stride)];
        var (toTrain, toHoldout, _) = DistanceToClosestRecord.ScaledWindowDistances(
            Windows(synthetic, Starts(90, PrivacySubsample.Draws.SyntheticWindows, w)),
            Windows(train, Starts(396, PrivacySubsample.Draws.TrainWindows, 1)),
            Windows(holdout, Starts(296, PrivacySubsample.Draws.HoldoutWindows, 1)),
            w, DistanceToClosestRecord.TrainScale(drawn.Train), null, -1);
        Assert.Equal(DistanceToClosestRecord.Summarise(toTrain, toHoldout), cut.Privacy.Windows!.Dcr);
        var html = ReportHtml.ToHtml(cut);
        Assert.Contains("; the window DCR on 60 of 396 train windows, 60 of 296 holdout windows, 60 of 90 synthetic paths.", html, StringComparison.Ordinal);
        Assert.Equal(396, (int)PrivacyOf(ReportJson.ToJson(cut))["subsample"]!["windows"]!["train"]!["windows"]!);
        // the audit entry and evaluate --json record the windows drawn too, in report.json's words
        Assert.Equal("""{"train":{"windows":396,"drawn":60},"holdout":{"windows":296,"drawn":60},"synthetic":{"windows":90,"drawn":60}}""",
            PrivacyAuditEntry.Subsample(cut.Privacy.Subsample)["windows"]!.ToJsonString());
    }

    [Fact]
    public void Evaluate_OnASubsampleOfEqualTrainAndHoldoutRows_ThePeerShareIsBalanced()
    {
        // 2,000 train rows against 300 holdout rows of one population: over every row share_closer_to_train leans to train
        // (about 2000/2300); at 300 rows of each it is the balanced share, 0.5 up to noise (mean of 40 seeds, 5 standard errors)
        var options = new EvaluationOptions { Utility = false, MembershipInference = false, OutlierRisk = false };
        double sumAll = 0, sumCut = 0;
        const int runs = 40;
        for (var s = 0; s < runs; s++)
        {
            var seed = (ulong)(100 + (3 * s));
            var input = new EvaluationInput(Population(300, seed), Population(300, seed + 1), Population(2000, seed + 2));
            sumAll += Evaluator.Evaluate(input, options).Privacy!.ShareCloserToTrain;
            sumCut += Evaluator.Evaluate(input, options with { PrivacyRows = 300, Seed = (ulong)s }).Privacy!.ShareCloserToTrain;
        }

        Assert.True(sumAll / runs > 0.8, $"every row: {sumAll / runs}");
        Assert.InRange(sumCut / runs, 0.5 - (5 * Math.Sqrt(0.25 / (300 * runs))), 0.5 + (5 * Math.Sqrt(0.25 / (300 * runs))));
    }

    /// <summary>
    /// The advice to take a limit: from 10^11 train × holdout pairs (800,000 × 200,000 took 5 min 26 s on every row), in
    /// the caller's words for the limit, and none below (500,000 × 50,000 took 24 s).
    /// </summary>
    [Fact]
    public void LargeSetsAdvice_FromTheLargePairs_NamesTheCallersLimit()
    {
        Assert.Null(PrivacySubsample.LargeSetsAdvice(160_000, 40_000, "--privacy-rows"));
        Assert.Null(PrivacySubsample.LargeSetsAdvice(500_000, 50_000, "--privacy-rows"));
        Assert.Null(PrivacySubsample.LargeSetsAdvice(999_999, 100_000, "--privacy-rows"));
        Assert.Null(PrivacySubsample.LargeSetsAdvice(int.MaxValue, 0, "--privacy-rows"));
        Assert.Equal("the privacy section compares all 1,000,000 train rows with all 100,000 holdout rows, and the time of its nearest-row searches grows with their product; --privacy-rows 50000 measures it on at most 50,000 rows drawn from each set, at the cost of power: a copy of a train row that was not drawn is invisible",
            PrivacySubsample.LargeSetsAdvice(1_000_000, 100_000, "--privacy-rows"));
        Assert.StartsWith("the privacy section compares all 800,000 train rows with all 200,000 holdout", PrivacySubsample.LargeSetsAdvice(800_000, 200_000, "privacy_rows"), StringComparison.Ordinal);
        Assert.Contains("; privacy_rows 50000 measures", PrivacySubsample.LargeSetsAdvice(800_000, 200_000, "privacy_rows"), StringComparison.Ordinal);
        Assert.Contains("all 2,147,483,647 train rows", PrivacySubsample.LargeSetsAdvice(int.MaxValue, int.MaxValue, "x"), StringComparison.Ordinal);
    }
}
