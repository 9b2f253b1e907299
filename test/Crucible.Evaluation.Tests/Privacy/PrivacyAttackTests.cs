using System.Text.Json;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The shadow-model attack, attribute inference and isolated-record risk: their maths against references (Anonymeter's
/// confidence vectors, scikit-learn's logistic regression, naive loops, hand computations) and their behaviour on a
/// memorising "generator" (positive control) against a fresh population sample (negative control).
/// </summary>
public sealed class PrivacyAttackTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int D = 4;

    /// <summary>n rows of a correlated 4-series Gaussian from Philox(seed).</summary>
    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 9, ["a", "b", "c", "d"], 0.7, 0.7);

    private static SeriesSet Copies(SeriesSet train, int count, ulong seed, double jitter = 0.05) => CorrelatedPopulation.Copies(train, count, seed, jitter);

    // RELIABILITY PRIV-6
    [Fact]
    public void Wilson_AndResidual_ReproduceAnonymetersVectors()
    {
        var r = SuccessRate.Wilson(1000, 850);
        Assert.Equal(0.849, r.Value, 0.0005);
        Assert.Equal(0.022, r.Error, 0.0005);
        var zero = SuccessRate.Wilson(1000, 0);
        Assert.Equal(0.002, zero.Value, 0.0005);
        Assert.Equal(0.002, zero.Error, 0.0005);
        Assert.Equal(0.5, SuccessRate.Residual(new(0.9, 0), new(0.8, 0)).Value, 1e-12);
        var res = SuccessRate.Residual(new(0.9, 0.02), new(0.85, 0.02));
        Assert.Equal(1.0 / 3, res.Value, 1e-12);
        Assert.Equal(0.16, res.Error, 0.001);
        // the centre and half-width by hand: (k + z²/2)/(n + z²) and z/(n + z²)·√(k(n−k)/n + z²/4)
        const double z = 1.959963984540054;
        Assert.Equal((7 + (z * z / 2)) / (20 + (z * z)), SuccessRate.Wilson(20, 7).Value, 1e-15);
        Assert.Equal(z / (20 + (z * z)) * Math.Sqrt((7.0 * 13 / 20) + (z * z / 4)), SuccessRate.Wilson(20, 7).Error, 1e-15);
    }

    [Fact]
    public void LogisticRegression_MatchesScikitLearn()
    {
        // sklearn 1.2.1: LogisticRegression(C, solver newton-cg / lbfgs, tol 1e-12).fit(x, y), x_i = (sin i, cos 1.7i, 0.1 i)
        var x = new double[30 * 3];
        var y = new int[30];
        for (var i = 0; i < 30; i++)
        {
            x[(3 * i) + 0] = Math.Sin(i);
            x[(3 * i) + 1] = Math.Cos(1.7 * i);
            x[(3 * i) + 2] = 0.1 * i;
            y[i] = Math.Sin(i) + (0.5 * Math.Cos(1.7 * i)) + (0.8 * Math.Sin(3.0 * i)) > 0 ? 1 : 0;
        }

        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0], y);
        var c1 = LogisticRegression.Fit(x, 3, y, lambda: 1.0);
        Assert.Equal(0.8415315367715078, c1.Intercept, 1e-7);
        Assert.Equal([2.221710263446327, 0.5626997755640895, -0.2258230674331808], c1.Weights.ToArray(), (a, b) => Math.Abs(a - b) < 1e-7);
        var c4 = LogisticRegression.Fit(x, 3, y, lambda: 0.25);
        Assert.Equal(1.2010955269908388, c4.Intercept, 1e-6);
        Assert.Equal([3.559341448719572, 1.078461067036349, -0.3256136550099026], c4.Weights.ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void KNearest_MatchesANaiveSort_AndSkipsSelf()
    {
        var rng = new System.Random(3);
        var q = Enumerable.Range(0, 7 * 3).Select(_ => rng.NextDouble()).ToArray();
        var r = Enumerable.Range(0, 40 * 3).Select(_ => rng.NextDouble()).ToArray();
        var (dist, nearest) = AttackRows.KNearest(q, r, 3, 5, [0, 1, 2, 3, 4, 5, 6]);
        for (var i = 0; i < 7; i++)
        {
            var naive = Enumerable.Range(0, 40).Where(j => j != i)
                .Select(j => (j, Math.Sqrt(Enumerable.Range(0, 3).Sum(c => Math.Pow(q[(3 * i) + c] - r[(3 * j) + c], 2))))).OrderBy(t => t.Item2).ToArray();
            for (var k = 0; k < 5; k++) Assert.Equal(naive[k].Item2, dist[(i * 5) + k], 1e-12);
            Assert.Equal(naive[0].j, nearest[i]);
        }
    }

    // RELIABILITY PRIV-6
    [Fact]
    public void AttributeInference_HandComputedTinyCase()
    {
        // synthetic rows (a, b): (0, 10), (1, 20), (2, 30), (3, 40); sensitive b, known a (standardised with synthetic's a).
        var synthetic = new SeriesSet(["a", "b"], [[0, 1, 2, 3], [10, 20, 30, 40]]);
        var train = new SeriesSet(["a", "b"], [[0.1, 2.9], [10, 40]]);      // nearest: rows 0 and 3 → guesses 10, 40: exact
        var holdout = new SeriesSet(["a", "b"], [[1.2, 1.9], [25, 26]]);    // nearest: rows 1 and 2 → guesses 20, 30: errors 5, 4
        var report = AttributeInference.Run(synthetic, train, holdout, sensitive: 1, toleranceFactor: 0.3);
        var sd = Math.Sqrt(((15.0 * 15) + (5 * 5) + (5 * 5) + (15 * 15)) / 3);
        Assert.Equal(0.3 * sd, report.Tolerance, 1e-12); // 3.87: holdout errors 5 and 4 miss, train errors 0 hit
        Assert.Equal(0, report.MaeTrain, 1e-12);
        Assert.Equal(4.5, report.MaeHoldout, 1e-12);
        Assert.Equal(SuccessRate.Wilson(2, 2), report.Attack);
        Assert.Equal(SuccessRate.Wilson(2, 0), report.Control);
        Assert.Equal("b", report.Column);
    }

    // RELIABILITY PRIV-6
    [Fact]
    public void AttributeInference_MemorisingGeneratorLeaks_FreshSampleDoesNot()
    {
        var train = Population(400, 1);
        var holdout = Population(400, 2);
        var leaky = AttributeInference.Run(Copies(train, 2000, 3, jitter: 0.01), train, holdout, sensitive: 2, seed: 1);
        var fresh = AttributeInference.Run(Population(2000, 4), train, holdout, sensitive: 2, seed: 1);
        output.WriteLine($"attribute inference: memorising attack {leaky.Attack} control {leaky.Control} baseline {leaky.Baseline} risk {leaky.Risk}; fresh attack {fresh.Attack} control {fresh.Control} risk {fresh.Risk}");
        Assert.True(leaky.Attack.Value > 0.9, $"copies give the value away: {leaky.Attack}");
        Assert.True(leaky.Risk.Value - leaky.Risk.Error > 0.5, $"risk {leaky.Risk}");
        Assert.True(leaky.Trusted);
        Assert.InRange(fresh.Risk.Value, -fresh.Risk.Error - 0.05, fresh.Risk.Error + 0.05); // no excess over the control
        Assert.True(leaky.MaeTrain < leaky.MaeHoldout);
    }

    // RELIABILITY PRIV-7
    [Fact]
    public void ShadowAttack_CatchesAMemorisingGenerator_NotAFreshSampler()
    {
        var train = Population(300, 1);
        var holdout = Population(1200, 2);
        // the audited algorithm, as the attacker can run it: memorise the train set
        ShadowGenerator memorise = (set, seed, count) => Copies(set, count, seed);
        var leaky = ShadowModelAttack.Run(Copies(train, 1500, 77), train, holdout, memorise, shadowModels: 2, seed: 3);
        Assert.True(leaky.Auc >= 0.9, $"AUC {leaky.Auc}");
        Assert.True(leaky.TprAtFpr10 >= 0.5, $"TPR@0.1 {leaky.TprAtFpr10}");
        Assert.True(leaky.ClassifierTrainAuc >= 0.9);
        Assert.Equal(300, leaky.ShadowTrainRows);
        Assert.Equal(300, leaky.Members);

        // an algorithm that ignores its data: the attack is at chance
        ulong calls = 100;
        ShadowGenerator fresh = (_, _, count) => Population(count, calls++);
        var safe = ShadowModelAttack.Run(Population(1500, 99), train, holdout, fresh, shadowModels: 2, seed: 3);
        output.WriteLine($"shadow attack: memorising AUC {leaky.Auc:F3} TPR@0.1 {leaky.TprAtFpr10:F3} TPR@0.01 {leaky.TprAtFpr01:F3} (classifier {leaky.ClassifierTrainAuc:F3}); fresh AUC {safe.Auc:F3} TPR@0.1 {safe.TprAtFpr10:F3}");
        Assert.InRange(safe.Auc, 0.42, 0.58);
    }

    // RELIABILITY PRIV-8
    [Fact]
    public void OutlierRisk_FindsThePlantedOutliers_AndTheirExposure()
    {
        var train = Population(300, 1);
        for (var j = 0; j < D; j++)
        {
            train.Columns[j][17] = 6 + j;   // two far-away records: the 1% most isolated of 300 are 3 records
            train.Columns[j][123] = -6 - j;
        }

        var holdout = Population(600, 2);
        var leaky = OutlierRisk.Run(Copies(train, 1500, 5, jitter: 0.01), train, holdout, seed: 1);
        Assert.Equal(3, leaky.Records.Count);
        Assert.Equal(new[] { 17, 123 }, leaky.Records.Take(2).Select(r => r.TrainRow).Order().ToArray());
        Assert.All(leaky.Records.Take(2), r => Assert.True(r.DcrRatio < 0.1, $"row {r.TrainRow}: ratio {r.DcrRatio}"));
        Assert.True(leaky.MaxScorePercentile > 0.95);
        // isolation by hand for the top record
        var top = leaky.Records[0];
        var others = Enumerable.Range(0, 300).Where(i => i != top.TrainRow).Min(i =>
            Math.Sqrt(Enumerable.Range(0, D).Sum(j => Math.Pow((train.Columns[j][top.TrainRow] - train.Columns[j][i]) / Sd(train.Columns[j]), 2))));
        Assert.Equal(others, top.Isolation, 1e-9);

        var fresh = OutlierRisk.Run(Population(1500, 7), train, holdout, seed: 1);
        output.WriteLine($"outliers: memorising ratios {string.Join(", ", leaky.Records.Select(r => r.DcrRatio.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))} percentile max {leaky.MaxScorePercentile:F3}; fresh ratios {string.Join(", ", fresh.Records.Select(r => r.DcrRatio.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))} percentile max {fresh.MaxScorePercentile:F3}");
        Assert.All(fresh.Records.Take(2), r => Assert.True(r.DcrRatio > 0.2, $"row {r.TrainRow}: ratio {r.DcrRatio}"));
        Assert.True(fresh.MedianRatioAll > leaky.MedianRatioAll);
    }

    private static double Sd(double[] x)
    {
        var m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
    }

    [Fact]
    public void Evaluator_WritesTheNewPrivacyKeys_AndTheHtmlSection()
    {
        var train = Population(300, 1);
        var real = Population(300, 2);
        var synthetic = Copies(train, 600, 3);
        var report = Evaluator.Evaluate(new EvaluationInput(real, synthetic, train), new EvaluationOptions
        {
            SensitiveColumns = ["b"], ShadowGenerator = (set, seed, count) => Copies(set, count, seed), ShadowModels = 2, Utility = false,
        });
        var p = report.Privacy!;
        Assert.NotNull(p.Shadow);
        Assert.Single(p.AttributeInference!);
        Assert.NotNull(p.OutlierRisk);
        Assert.Equal([SinglingOutMode.Univariate, SinglingOutMode.Multivariate], p.SinglingOut!.Select(so => so.Mode));
        Assert.Equal(["a", "b"], p.Linkability!.FirstColumns);
        Assert.Equal(["c", "d"], p.Linkability.SecondColumns);
        var dir = Directory.CreateTempSubdirectory("crucible-attacks-").FullName;
        try
        {
            var json = Path.Combine(dir, "report.json");
            ReportJson.Write(report, json);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var privacy = doc.RootElement.GetProperty("privacy");
            Assert.Equal(p.Shadow!.Auc, privacy.GetProperty("shadow_membership_inference").GetProperty("auc").GetDouble(), 1e-9);
            Assert.Equal("b", privacy.GetProperty("attribute_inference")[0].GetProperty("column").GetString());
            Assert.Equal(3, privacy.GetProperty("outlier_risk").GetProperty("records").GetArrayLength());
            Assert.Contains(report.ScalarMetrics(), kv => kv.Key == "privacy.attribute_inference.b.risk");
            var singling = privacy.GetProperty("singling_out");
            Assert.Equal(["univariate", "multivariate"], singling.EnumerateArray().Select(e => e.GetProperty("mode").GetString()));
            Assert.Equal(p.SinglingOut![1].Attack.Value, singling[1].GetProperty("success_train").GetDouble(), 1e-12);
            Assert.Equal(p.SinglingOut[1].Queries, singling[1].GetProperty("queries").GetInt32());
            var link = privacy.GetProperty("linkability");
            Assert.Equal(["c", "d"], link.GetProperty("second_series").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(Math.Clamp(p.Linkability!.Risk.Value, 0, 1), link.GetProperty("risk").GetDouble(), 1e-12);
            Assert.Equal(p.Linkability.Trusted, link.GetProperty("trusted").GetBoolean());
            foreach (var key in new[] { "privacy.singling_out.univariate.risk", "privacy.singling_out.multivariate.success_train", "privacy.linkability.risk", "privacy.linkability.success_holdout" })
                Assert.Contains(report.ScalarMetrics(), kv => kv.Key == key);
            var html = Path.Combine(dir, "report.html");
            ReportHtml.Write(report, html);
            var text = File.ReadAllText(html);
            Assert.Contains("id=\"shadow\"", text, StringComparison.Ordinal);
            Assert.Contains("id=\"attribute-inference\"", text, StringComparison.Ordinal);
            Assert.Contains("id=\"outlier-risk\"", text, StringComparison.Ordinal);
            Assert.Contains("id=\"anonymity-attacks\"", text, StringComparison.Ordinal);
            Assert.Contains("linkability: a, b | c, d, k = 1", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        Assert.Throws<Crucible.Data.InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(real, synthetic, train), new EvaluationOptions { SensitiveColumns = ["nope"] }));
        var unknown = Assert.Throws<Crucible.Data.InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synthetic, train),
            new EvaluationOptions { LinkabilityColumns = new(["a"], ["nope"]) }));
        Assert.Contains("'nope' is not a series of the data", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<Crucible.Data.InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synthetic, train),
            new EvaluationOptions { LinkabilityNeighbours = 0 }));
    }

    [Fact]
    public void Evaluator_ChosenLinkabilityDatasets_AreTheOnesAttacked_OneSeriesSkipsIt_AndTheSwitchesTurnThemOff()
    {
        var train = Population(200, 1);
        var real = Population(200, 2);
        var synthetic = Population(400, 3);
        var chosen = Evaluator.Evaluate(new EvaluationInput(real, synthetic, train), new EvaluationOptions
        {
            Utility = false, LinkabilityColumns = new(["d"], ["a", "c"]), LinkabilityNeighbours = 2,
        }).Privacy!.Linkability!;
        Assert.Equal(["d"], chosen.FirstColumns);
        Assert.Equal(["a", "c"], chosen.SecondColumns);
        Assert.Equal(2, chosen.Neighbours);
        var expected = Linkability.Run(synthetic, train, real, [3], [0, 2], 0, 500, 2);
        Assert.Equal((expected.Attack, expected.Control, expected.Baseline), (chosen.Attack, chosen.Control, chosen.Baseline));

        SeriesSet One(SeriesSet set) => new(["a"], [set.Columns[0]]);
        var singleReport = Evaluator.Evaluate(new EvaluationInput(One(real), One(synthetic), One(train)), new EvaluationOptions { Utility = false });
        var single = singleReport.Privacy!;
        Assert.Null(single.Linkability);
        Assert.Equal("one series: the attacker's two datasets need a series each", single.LinkabilitySkipped);
        Assert.Equal(2, single.SinglingOut!.Count);
        using (var doc = JsonDocument.Parse(ReportJson.ToJson(singleReport)))
            Assert.Equal(single.LinkabilitySkipped, doc.RootElement.GetProperty("privacy").GetProperty("linkability").GetProperty("skipped").GetString());

        var off = Evaluator.Evaluate(new EvaluationInput(real, synthetic, train), new EvaluationOptions { Utility = false, SinglingOut = false, Linkability = false }).Privacy!;
        Assert.Null(off.SinglingOut);
        Assert.Null(off.Linkability);
        Assert.Null(off.LinkabilitySkipped);
    }

    [Fact]
    public void AttributeInference_OnOneSyntheticRow_IsATypedInputError()
    {
        // one scenario row: the attack's tolerance (a tenth of the synthetic standard deviation) is undefined; the CLI
        // answered "internal error: ArgumentException" (exit 1) instead of a bad-input error
        var train = Population(50, 1);
        var real = Population(50, 2);
        var one = Population(1, 3);
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(real, one, train), new EvaluationOptions { SensitiveColumns = ["b"], Utility = false }));
        Assert.Equal("too-few-rows", e.Rule);
        Assert.Contains("at least 2 synthetic rows; the synthetic set has 1", e.Message, StringComparison.Ordinal);
        Assert.Null(Evaluator.Evaluate(new EvaluationInput(real, one, train), new EvaluationOptions { Utility = false }).Privacy!.AttributeInference);
    }
}
