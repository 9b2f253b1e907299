using System.Globalization;
using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The singling-out attack: the isolation integral against quadrature, hand-counted tiny sets, the query generation
/// against naive counts, the size correction's fit, and the attack's behaviour on a memorising "generator" (positive
/// control) against a fresh population sample (negative control).
/// </summary>
// RELIABILITY PRIV-6
public sealed class SinglingOutTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] Names4 = ["a", "b", "c", "d"];

    private static SeriesSet Population(int n, ulong seed, ulong stream = 9) => CorrelatedPopulation.Sample(n, seed, stream, Names4, 0.7, 0.7);

    private static SeriesSet Set(params double[][] rows) =>
        new(["a", "b"], [[.. rows.Select(r => r[0])], [.. rows.Select(r => r[1])]]);

    // ∫ n·u·(1 − u)^(n − 1) du by adaptive Simpson on 1000 equal panels (the peak at u ≈ 1/n is narrow for large n)
    private static double Quadrature(int n, double a, double b)
    {
        double F(double u) => u >= 1 ? 0 : n * u * Math.Exp((n - 1) * Math.Log(1 - u));
        double Simpson(double x, double y, double fx, double fm, double fy) => (y - x) / 6 * (fx + (4 * fm) + fy);
        double Adaptive(double x, double y, double fx, double fm, double fy, double whole, double eps, int depth)
        {
            var m = (x + y) / 2;
            double lm = (x + m) / 2, rm = (m + y) / 2;
            double flm = F(lm), frm = F(rm);
            var left = Simpson(x, m, fx, flm, fm);
            var right = Simpson(m, y, fm, frm, fy);
            if (depth <= 0 || Math.Abs(left + right - whole) <= 15 * eps) return left + right + ((left + right - whole) / 15);
            return Adaptive(x, m, fx, flm, fm, left, eps / 2, depth - 1) + Adaptive(m, y, fm, frm, fy, right, eps / 2, depth - 1);
        }

        const int panels = 1000;
        double sum = 0;
        for (var k = 0; k < panels; k++)
        {
            double x = a + ((b - a) * k / panels), y = a + ((b - a) * (k + 1) / panels);
            double fx = F(x), fm = F((x + y) / 2), fy = F(y);
            sum += Adaptive(x, y, fx, fm, fy, Simpson(x, y, fx, fm, fy), 1e-15, 40);
        }

        return sum;
    }

    [Theory]
    [InlineData(100, 0, 1)]
    [InlineData(100, 1e-4, 1e-3)]
    [InlineData(100, 0.0013414, 0.2314)]
    [InlineData(4242, 0, 1)]
    [InlineData(4242, 1e-4, 1e-3)]
    [InlineData(4242, 0.0013414, 0.2314)]
    [InlineData(11235, 0, 1)]
    [InlineData(11235, 1e-4, 1e-3)]
    [InlineData(11235, 0.0013414, 0.2314)]
    public void ProbabilityIntegral_MatchesQuadrature(int n, double wMin, double wMax)
    {
        var closed = SinglingOut.ProbabilityIntegral(n, wMin, wMax);
        var numeric = Quadrature(n, wMin, wMax);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n={n} [{wMin}, {wMax}]: closed {closed:R}, quadrature {numeric:R}"));
        Assert.Equal(numeric, closed, 1e-7);
        if (wMin == 0 && wMax == 1) Assert.Equal(1.0 / (n + 1), closed, 1e-15);
    }

    [Fact]
    public void ProbabilityIntegral_RejectsInvalidRanges()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SinglingOut.ProbabilityIntegral(100, -0.1, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SinglingOut.ProbabilityIntegral(100, 0.5, 0.4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SinglingOut.ProbabilityIntegral(100, 0.5, 1.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SinglingOut.ProbabilityIntegral(100, double.NaN, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SinglingOut.ProbabilityIntegral(0, 0, 0.5));
        Assert.Equal(0, SinglingOut.ProbabilityIntegral(100, 0.3, 0.3));
    }

    [Fact]
    public void Univariate_TinySets_GiveTheHandCountedAttackAndControl()
    {
        // synthetic, distinct: (1,10) (2,20) (3,20) (2,30); the duplicate (1,10) counts once, else a = 1 and b = 10 would not
        // be unique. Candidates, all of which single out a synthetic row: a ≤ 1, a ≥ 3, a = 1, a = 3, b ≤ 10, b ≥ 30, b = 10, b = 30.
        var synthetic = Set([1, 10], [2, 20], [1, 10], [3, 20], [2, 30]);
        // train: a ≤ 1 matches 1, 0.5 (no); a ≥ 3 two rows (no); a = 1 (yes); a = 3 two (no); b ≤ 10 (yes); b ≥ 30 two (no);
        // b = 10 (yes); b = 30 (yes): 4 of 8
        var train = Set([1, 10], [0.5, 30], [3, 25], [3, 40]);
        // holdout, distinct 4 rows like train (no size correction): a ≤ 1 (0: yes); a ≥ 3 (5, 4: no); a = 1, a = 3 (none);
        // b ≤ 10 (5: yes); b ≥ 30 (31: yes); b = 10, b = 30 (none): 3 of 8
        var holdout = Set([5, 5], [2, 20], [2, 20], [0, 31], [4, 12]);
        var report = SinglingOut.Run(synthetic, train, holdout, SinglingOutMode.Univariate, seed: 3, attacks: 100);
        Assert.Equal(8, report.Queries);
        Assert.Equal(8, report.Attempts);
        Assert.Equal(1, report.ColumnsPerQuery);
        Assert.Equal(100, report.Requested);
        Assert.Equal(4, report.TrainRows);
        Assert.Equal(4, report.HoldoutRows);
        Assert.Equal(1.0, report.ControlCorrection);
        Assert.Equal(SuccessRate.Wilson(8, 4), report.Attack);
        Assert.Equal(SuccessRate.WilsonOfProportion(8, 3.0 / 8), report.Control);
        Assert.Equal(SuccessRate.Wilson(8, 3).Value, report.Control.Value, 1e-15);
        Assert.Equal(SuccessRate.Residual(SuccessRate.Wilson(8, 4), report.Control), report.Risk);
        var (queries, _) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Univariate, seed: 3, attacks: 100);
        string[] expected = ["a <= 1", "a >= 3", "a == 1", "a == 3", "b <= 10", "b >= 30", "b == 10", "b == 30"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), queries.Select(q => q.ToString(synthetic.Names)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NoQueryFound_GivesAnEmptyUntrustedReport()
    {
        // every value of every column is tied: no extreme and no value is unique, so no univariate query singles out
        var synthetic = Set([0, 0], [0, 1], [1, 0], [1, 1]);
        var report = SinglingOut.Run(synthetic, Set([0, 0]), Set([1, 1]), SinglingOutMode.Univariate);
        Assert.Equal(0, report.Queries);
        Assert.Equal(4, report.Attempts);
        Assert.Equal(default, report.Attack);
        Assert.Equal(default, report.Risk);
        Assert.False(report.Trusted);
        Assert.Equal(1.0, report.ControlCorrection);
    }

    [Fact]
    public void Multivariate_KeptQueries_SingleOut_AreDistinct_AndFollowTheMedianRule()
    {
        var synthetic = Population(2000, 1);
        var (queries, attempts) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Multivariate, seed: 4, attacks: 200, columnsPerQuery: 3,
            maxAttempts: 50_000);
        output.WriteLine($"{queries.Length} queries in {attempts} attempts");
        Assert.Equal(200, queries.Length);
        Assert.InRange(attempts, 200, 50_000);
        Assert.Equal(queries.Length, queries.Distinct().Count());
        Assert.Equal(queries.Length, queries.Select(q => q.ToString()).Distinct(StringComparer.Ordinal).Count());
        var medians = synthetic.Columns.Select(c =>
        {
            var s = c.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
        }).ToArray();
        foreach (var q in queries)
        {
            // a naive count over every row, no early stop
            var matches = 0;
            var row = new double[synthetic.SeriesCount];
            for (var i = 0; i < synthetic.RowCount; i++)
            {
                for (var j = 0; j < row.Length; j++) row[j] = synthetic.Columns[j][i];
                if (q.Matches(row)) matches++;
            }

            Assert.Equal(1, matches);
            Assert.Equal(3, q.Conditions.Count);
            Assert.Equal(q.Conditions.Select(c => c.Column).Order(), q.Conditions.Select(c => c.Column));
            Assert.Equal(3, q.Conditions.Select(c => c.Column).Distinct().Count());
            foreach (var c in q.Conditions)
            {
                Assert.Contains(c.Value, synthetic.Columns[c.Column]);
                Assert.Equal(c.Value > medians[c.Column] ? SinglingOutComparison.GreaterOrEqual : SinglingOutComparison.LessOrEqual, c.Comparison);
            }
        }
    }

    [Fact]
    public void Multivariate_TinyMaxAttempts_CapsQueriesAndAttempts()
    {
        var synthetic = Population(500, 2);
        var (queries, attempts) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Multivariate, seed: 1, attacks: 100, maxAttempts: 5);
        Assert.Equal(5, attempts);
        Assert.InRange(queries.Length, 0, 5);
        var report = SinglingOut.Run(synthetic, Population(500, 3), Population(500, 4), SinglingOutMode.Multivariate, seed: 1, attacks: 100, maxAttempts: 5);
        Assert.Equal(5, report.Attempts);
        Assert.Equal(queries.Length, report.Queries);
        // columnsPerQuery above the series count is capped
        Assert.Equal(4, SinglingOut.Run(synthetic, synthetic, synthetic, SinglingOutMode.Multivariate, attacks: 5, columnsPerQuery: 9).ColumnsPerQuery);
    }

    [Theory]
    [InlineData(SinglingOutMode.Univariate)]
    [InlineData(SinglingOutMode.Multivariate)]
    public void MemorisingGenerator_IsSingledOut(SinglingOutMode mode)
    {
        // copies of train rows without jitter: a univariate x = v query names a train value exactly (continuous values:
        // unique in train, absent from the holdout), and a multivariate tail region around a copied row holds no other
        // synthetic row, so usually no other train row; neither carries over to the holdout as often
        var train = Population(1000, 11);
        var synthetic = CorrelatedPopulation.Copies(train, 1000, 12, jitter: 0);
        var report = SinglingOut.Run(synthetic, train, Population(1000, 13), mode, seed: 5, maxDegreeOfParallelism: 2);
        output.WriteLine(Describe(report));
        // univariate: ~1000 × 4 unique values to draw from; multivariate: only ~632 distinct copied rows × 4 column triples,
        // and most tail regions hold more than one row, so fewer than 500 distinct queries exist (328 for this seed)
        Assert.True(report.Queries >= (mode == SinglingOutMode.Univariate ? 500 : 250), Describe(report));
        Assert.True(report.Attack.Value > 0.5, Describe(report));
        Assert.True(report.Risk.Lower > 0.2, Describe(report));
        Assert.True(report.Trusted, Describe(report));
    }

    [Theory]
    [InlineData(SinglingOutMode.Univariate, 21ul)]
    [InlineData(SinglingOutMode.Univariate, 22ul)]
    [InlineData(SinglingOutMode.Multivariate, 21ul)]
    [InlineData(SinglingOutMode.Multivariate, 22ul)]
    public void FreshSample_LeavesNoResidualRisk(SinglingOutMode mode, ulong seed)
    {
        // the "generator" never saw train: train and holdout are exchangeable for its queries, so the residual is noise
        // around 0 (its 95% interval reaches down to 0) and small
        var train = Population(1000, seed);
        var synthetic = Population(1000, seed + 100, stream: 3);
        var report = SinglingOut.Run(synthetic, train, Population(1000, seed + 200, stream: 5), mode, seed: seed);
        output.WriteLine(Describe(report));
        Assert.True(report.Risk.Value < 0.1, Describe(report));
        Assert.True(report.Risk.Value - report.Risk.Error <= 0, Describe(report));
    }

    [Fact]
    public void ControlCorrection_IsOneForEqualSizes_AndAboveOneForAHalfHoldout()
    {
        var train = Population(2000, 31);
        var synthetic = Population(2000, 32, stream: 3);
        var equal = SinglingOut.Run(synthetic, train, Population(2000, 33, stream: 5), SinglingOutMode.Multivariate, seed: 1);
        Assert.Equal(1.0, equal.ControlCorrection);
        var half = SinglingOut.Run(synthetic, train, Population(1000, 33, stream: 5), SinglingOutMode.Multivariate, seed: 1);
        output.WriteLine(Describe(equal));
        output.WriteLine(Describe(half));
        Assert.Equal(1000, half.HoldoutRows);
        // a query that isolates one of 2000 synthetic rows has weight about 1/2000: in 1000 rows its region is more often
        // empty than in 2000, so fewer queries single out a row of the half holdout, and the fitted model scales them up
        Assert.True(double.IsFinite(half.ControlCorrection) && half.ControlCorrection > 1, Describe(half));
        // the correction brings the half holdout's control close to the full one's
        Assert.InRange(half.Control.Value, equal.Control.Value - 0.1, equal.Control.Value + 0.1);
    }

    [Fact]
    public void SubsetCounts_SpaceTheSizes_AndCountOnlyQueriesWithOneRowInTheSubset()
    {
        // 10 queries match one holdout row, 10 match two, 5 none, 3 match 500 rows: in the whole holdout (the last size)
        // exactly the first 10 single out a row, whatever the draw
        var matches = new List<int[]>();
        for (var q = 0; q < 10; q++) matches.Add([q * 7]);
        for (var q = 0; q < 10; q++) matches.Add([(q * 11) + 1, (q * 13) + 2000]);
        for (var q = 0; q < 5; q++) matches.Add([]);
        for (var q = 0; q < 3; q++) matches.Add([.. Enumerable.Range(q * 900, 500)]);
        var (sizes, means) = SinglingOut.SubsetCounts([.. matches], 3000, new Philox(1, SinglingOut.Stream));
        Assert.Equal([1000, 1222, 1444, 1667, 1889, 2111, 2333, 2556, 2778, 3000], sizes);
        Assert.Equal(10, means[^1]);
        // in a third of the holdout a one-row query keeps its row w.p. 1/3 and a two-row query exactly one w.p. ≈ 4/9:
        // about 3.3 + 4.4 = 7.8 on average; the 500-row queries never single out
        Assert.InRange(means[0], 4, 12);
        var (small, _) = SinglingOut.SubsetCounts([[0]], 7, new Philox(1, SinglingOut.Stream));
        Assert.Equal([4, 4, 5, 5, 5, 6, 6, 6, 7, 7], small);
    }

    [Theory]
    [InlineData(2e-4, 300.0)]
    [InlineData(3e-3, 40.0)]
    [InlineData(5e-6, 1000.0)]
    public void FitIsolationModel_RecoversTheParametersOfExactValues(double w, double a)
    {
        int[] sizes = [.. Enumerable.Range(0, 10).Select(i => 1000 + (i * 1000))];
        double[] counts = [.. sizes.Select(n => a * SinglingOut.ProbabilityIntegral(n, 0, w))];
        var (fw, fa) = SinglingOut.FitIsolationModel(sizes, counts);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"w {fw:R} (true {w}), A {fa:R} (true {a})"));
        Assert.Equal(w, fw, w * 1e-4);
        Assert.Equal(a, fa, a * 1e-4);
        // all-zero counts: A = 0
        Assert.Equal(0, SinglingOut.FitIsolationModel(sizes, new double[10]).A);
    }

    [Theory]
    [InlineData(SinglingOutMode.Univariate)]
    [InlineData(SinglingOutMode.Multivariate)]
    public void SameSeed_SameReport_AnyParallelism(SinglingOutMode mode)
    {
        var train = Population(800, 41);
        var synthetic = CorrelatedPopulation.Copies(train, 800, 42, jitter: 0.05);
        var holdout = Population(600, 43);
        var one = SinglingOut.Run(synthetic, train, holdout, mode, seed: 7, attacks: 200, maxDegreeOfParallelism: 1);
        var many = SinglingOut.Run(synthetic, train, holdout, mode, seed: 7, attacks: 200, maxDegreeOfParallelism: 4);
        Assert.Equal(one, many);
        // multivariate queries single out some holdout rows, so the 600-row holdout's count is scaled (univariate x = v
        // queries match no holdout row: nothing to scale, the factor stays 1)
        if (mode == SinglingOutMode.Multivariate) Assert.NotEqual(1.0, one.ControlCorrection);
    }

    [Fact]
    public void Evaluator_ReducesTheSetsOnce_AndReportsWhatRunReportsForEachMode()
    {
        // the evaluator reduces the three sets to their distinct rows once for both modes: each mode's report is the one
        // SinglingOut.Run gives on the sets (duplicates, −0 against 0 and a holdout smaller than train included)
        var train = Population(300, 61);
        var synthetic = CorrelatedPopulation.Copies(train, 300, 62, jitter: 0.05);
        var holdout = Population(200, 63);
        train.Columns[0][1] = -0.0;
        train.Columns[0][2] = 0.0;
        for (var j = 0; j < 4; j++) synthetic.Columns[j][5] = synthetic.Columns[j][4];
        var options = new EvaluationOptions
        {
            Seed = 9, AttackTargets = 60, MembershipInference = false, Linkability = false, OutlierRisk = false, Utility = false,
        };
        var report = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options);
        var reports = report.Privacy!.SinglingOut!;
        Assert.Equal(2, reports.Count);
        Assert.Equal(SinglingOut.Run(synthetic, train, holdout, SinglingOutMode.Univariate, seed: 9, attacks: 60), reports[0]);
        Assert.Equal(SinglingOut.Run(synthetic, train, holdout, SinglingOutMode.Multivariate, seed: 9, attacks: 60), reports[1]);
        // and one reduction serves both modes as two would
        var distinct = SinglingOut.Distinct.Of(synthetic, train, holdout);
        Assert.Equal(reports[0], SinglingOut.Run(distinct, SinglingOutMode.Univariate, seed: 9, attacks: 60));
        Assert.Equal(reports[1], SinglingOut.Run(distinct, SinglingOutMode.Multivariate, seed: 9, attacks: 60));
    }

    [Fact]
    public void DifferentSeeds_FindDifferentMultivariateQueries()
    {
        var synthetic = Population(1000, 51);
        var (first, _) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Multivariate, seed: 1, attacks: 100);
        var (again, _) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Multivariate, seed: 1, attacks: 100);
        var (second, _) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Multivariate, seed: 2, attacks: 100);
        Assert.Equal(first, again);
        Assert.False(first.ToHashSet().SetEquals(second));
    }

    [Fact]
    public void DuplicateRows_CountOnce_WithNegativeZeroEqualToZero()
    {
        // (−0, 5) and (0, 5) are one row, and the two (2, 5.5) are one: the distinct rows are (0, 5), (0, 7), (2, 5.5)
        var synthetic = Set([-0.0, 5], [0.0, 5], [0, 7], [2, 5.5], [2, 5.5]);
        var (queries, _) = SinglingOut.FindQueries(synthetic, SinglingOutMode.Univariate, attacks: 100);
        // a: 0 twice (rows 1, 3), 2 once → a ≥ 2, a = 2 (a ≤ 0 matches two); b: 5, 7, 5.5 → b ≤ 5, b ≥ 7, b = 5, b = 7, b = 5.5
        Assert.Equal(
            new[] { "a == 2", "a >= 2", "b <= 5", "b == 5", "b == 5.5", "b == 7", "b >= 7" },
            queries.Select(q => q.ToString(synthetic.Names)).Order(StringComparer.Ordinal));
        var train = Set([0.0, 1], [-0.0, 1], [3, 3]);
        var report = SinglingOut.Run(synthetic, train, Set([1, 1], [2, 2]), SinglingOutMode.Univariate, attacks: 100);
        Assert.Equal(2, report.TrainRows);
        Assert.Equal(2, report.HoldoutRows);
    }

    [Fact]
    public void InvalidInputs_Throw()
    {
        var s = Set([1, 2], [3, 4]);
        var wide = new SeriesSet(["a", "b", "c"], [[1.0], [2.0], [3.0]]);
        var empty = new SeriesSet(["a", "b"], [[], []]);
        Assert.Contains("same series", Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, wide, s, SinglingOutMode.Univariate)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, s, wide, SinglingOutMode.Univariate));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(empty, s, s, SinglingOutMode.Univariate));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, empty, s, SinglingOutMode.Univariate));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, s, empty, SinglingOutMode.Univariate));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, s, s, SinglingOutMode.Univariate, attacks: 0));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, s, s, SinglingOutMode.Multivariate, columnsPerQuery: 0));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(s, s, s, SinglingOutMode.Multivariate, maxAttempts: 0));
        Assert.Throws<ArgumentException>(() => SinglingOut.Run(Set([double.NaN, 1]), s, s, SinglingOutMode.Univariate));
        Assert.Throws<ArgumentException>(() => new SinglingOutQuery([]));
        Assert.Throws<ArgumentException>(() => new SinglingOutQuery([new(1, SinglingOutComparison.Equal, 1), new(1, SinglingOutComparison.LessOrEqual, 2)]));
    }

    [Theory]
    [InlineData(SinglingOutMode.Univariate)]
    [InlineData(SinglingOutMode.Multivariate)]
    public void FiveHundredQueries_AreFound_On20000Rows_Of26Series_AndTheMultivariateOnesSingleOutJitteredCopies(SinglingOutMode mode)
    {
        // the size of a panel's synthetic set (its cost is measured in the README, not asserted here)
        string[] names = [.. Enumerable.Range(0, 26).Select(i => "s" + i.ToString(CultureInfo.InvariantCulture))];
        var train = CorrelatedPopulation.Sample(20_000, 61, 9, names, 0.7, 0.7);
        var synthetic = CorrelatedPopulation.Copies(train, 20_000, 62, jitter: 0.05);
        var holdout = CorrelatedPopulation.Sample(10_000, 63, 9, names, 0.7, 0.7);
        var report = SinglingOut.Run(synthetic, train, holdout, mode, seed: 1);
        output.WriteLine(Describe(report));
        Assert.Equal(500, report.Queries);
        // univariate queries are almost all x = v, which a jittered copy never meets; three series' tails beyond a
        // copy's values isolate its train record more often than a holdout record
        if (mode == SinglingOutMode.Multivariate) Assert.True(report.Attack.Value > report.Control.Value, Describe(report));
        else Assert.False(report.Trusted, Describe(report));
    }

    private static string Describe(SinglingOutReport r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Mode} q={r.Queries}/{r.Requested} tries={r.Attempts} train={r.TrainRows} hold={r.HoldoutRows} attack={r.Attack.Value:F3}±{r.Attack.Error:F3} control={r.Control.Value:F3}±{r.Control.Error:F3} corr={r.ControlCorrection:F4} base={r.Baseline.Value:F3} risk={r.Risk.Value:F3}±{r.Risk.Error:F3} trusted={r.Trusted}");
}
