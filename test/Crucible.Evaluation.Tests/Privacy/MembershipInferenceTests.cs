using System.Text.Json;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>The DOMIAS-style attack against TestData/reference_mia.py (scipy gaussian_kde, sklearn roc_auc_score / roc_curve).</summary>
public class MembershipInferenceTests
{
    private static readonly JsonElement Expected = Fixtures.Expected("expected_mia.json");

    private static int[] Ints(string key) => Expected.GetProperty(key).EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static double[] Doubles(string key) => Expected.GetProperty(key).EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static double[] Rows(SeriesSet set, int[] indices)
    {
        var d = set.SeriesCount;
        var rows = new double[indices.Length * d];
        for (var k = 0; k < indices.Length; k++)
        {
            for (var i = 0; i < d; i++) rows[(k * d) + i] = set.Columns[i][indices[k]];
        }
        return rows;
    }

    private static double[] All(SeriesSet set) => Rows(set, Enumerable.Range(0, set.RowCount).ToArray());

    [Fact]
    public void GaussianKde_LogDensity_AgreesWithScipy()
    {
        var (real, synthetic, train) = (Fixtures.Load("real.csv"), Fixtures.Load("synthetic.csv"), Fixtures.Load("train.csv"));
        var pG = GaussianKde.Fit(Rows(synthetic, Ints("synthetic_rows")), 5);
        var pR = GaussianKde.Fit(Rows(real, Ints("reference")), 5);
        void Close(double[] want, double[] got)
        {
            for (var i = 0; i < want.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) <= 1e-9 * Math.Abs(want[i]) + 1e-12, $"[{i}] {want[i]:R} vs {got[i]:R}");
        }
        Close(Doubles("log_p_synthetic_at_members"), pG.LogDensity(Rows(train, Ints("members"))));
        Close(Doubles("log_p_reference_at_non_members"), pR.LogDensity(Rows(real, Ints("non_members"))));
        Assert.Equal(pG.LogDensity(Rows(train, Ints("members")), 1), pG.LogDensity(Rows(train, Ints("members")), 4));
    }

    // RELIABILITY PRIV-7
    [Fact]
    public void Domias_AgreesWithTheReference_GivenItsSplit()
    {
        var (real, synthetic, train) = (Fixtures.Load("real.csv"), Fixtures.Load("synthetic.csv"), Fixtures.Load("train.csv"));
        var report = MembershipInference.Domias(All(synthetic), All(train), All(real), 5, Ints("members"), Ints("non_members"),
            Ints("reference"), Ints("synthetic_rows"));
        Assert.Equal(Expected.GetProperty("auc").GetDouble(), report.Auc, 12);
        Assert.Equal(Expected.GetProperty("tpr_at_fpr_10pct").GetDouble(), report.TprAtFpr10, 12);
        Assert.Equal(Expected.GetProperty("tpr_at_fpr_1pct").GetDouble(), report.TprAtFpr01, 12);
        Assert.Equal((200, 200, 200, 300), (report.Members, report.NonMembers, report.Reference, report.SyntheticUsed));
    }

    [Fact]
    public void Roc_HandlesTies_AsScikitLearn()
    {
        // by hand: positives {3, 2, 2}, negatives {2, 1}: pairs (3,2) 1, (3,1) 1, (2,2) ½ twice, (2,1) 1 twice → 5/6
        var (auc, tpr10, tpr01) = MembershipInference.Roc([3, 2, 2], [2, 1]);
        Assert.Equal(5.0 / 6, auc, 15);
        Assert.Equal(1.0 / 3, tpr10, 15); // at threshold 3: tpr 1/3, fpr 0; at 2: fpr 1/2
        Assert.Equal(1.0 / 3, tpr01, 15);
    }

    // RELIABILITY PRIV-7
    [Fact]
    public void Report_HasTheAttack_AndAMemorisingGeneratorIsCaught()
    {
        var (real, train) = (Fixtures.Load("real.csv"), Fixtures.Load("train.csv"));
        var report = Evaluator.Evaluate(new EvaluationInput(real, Fixtures.Load("synthetic.csv"), train));
        var mia = report.Privacy!.Membership!;
        Assert.Equal("domias-kde", mia.Attack);
        Assert.InRange(mia.Auc, 0.35, 0.65); // an independent generator leaks nothing
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        Assert.Equal(mia.Auc, doc.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("auc").GetDouble());
        Assert.Contains("privacy.membership_inference.auc", report.ScalarMetrics().Select(k => k.Key));

        // a "generator" that outputs its train rows: members sit on synthetic points, the attack sees it
        var leaky = Evaluator.Evaluate(new EvaluationInput(real, train, train), new EvaluationOptions { Utility = false });
        Assert.True(leaky.Privacy!.Membership!.Auc > 0.7, $"AUC {leaky.Privacy.Membership.Auc}"); // measured 0.764 (Scott bandwidth smooths)
    }

    /// <summary>
    /// Session 33 (found by the evaluation's defect hunt): a collapsed generator, every synthetic series constant, has no
    /// density to fit (its kernel covariance is all zero), and evaluate with a train set crashed with "the kernel
    /// covariance could not be factored". The attack is now skipped with its reason, and the rest of the privacy section
    /// is measured; the same for a constant holdout, whose reference density has none either.
    /// </summary>
    [Fact]
    public void ACollapsedGenerator_SkipsTheAttackWithItsReason_NotACrash()
    {
        var (real, train) = (Fixtures.Load("real.csv"), Fixtures.Load("train.csv"));
        var constant = new SeriesSet(real.Names, [.. real.Columns.Select((_, i) => Enumerable.Repeat(0.001 * (i + 1), 300).ToArray())]);
        Assert.Equal("every synthetic series is constant (a collapsed generator): its density has no spread to fit",
            MembershipInference.WhyNot(constant, train, real));
        Assert.Equal("every holdout series is constant: its reference density has no spread to fit",
            MembershipInference.WhyNot(Fixtures.Load("synthetic.csv"), train, new SeriesSet(real.Names, [.. real.Columns.Select(c => Enumerable.Repeat(0.0, c.Length).ToArray())])));
        var report = Evaluator.Evaluate(new EvaluationInput(real, constant, train)); // every section, with the defaults
        Assert.Null(report.Privacy!.Membership);
        Assert.Equal("every synthetic series is constant (a collapsed generator): its density has no spread to fit", report.Privacy.MembershipSkipped);
        Assert.InRange(report.Privacy.ShareCloserToTrain, 0, 1);
    }

    /// <summary>
    /// The densities are fitted on part of each set: p_R on the holdout rows left after the non-member half, p_G on at most
    /// maxSynthetic synthetic rows. A holdout that is not constant can leave a constant reference half (a rate that seldom
    /// moves, a small holdout), whose kernel covariance is zero: GaussianKde threw "the kernel covariance could not be
    /// factored" out of the evaluator (an InvalidOperationException, not a clear refusal). The attack, and the isolated
    /// records scored with it, are now skipped with the reason, as for a constant holdout.
    /// </summary>
    [Fact]
    public void AConstantReferenceHalf_SkipsTheAttackWithItsReason_NotACrash()
    {
        // 8 holdout rows, 7 of them equal: the reference half (4 rows after the seeded shuffle) is constant for about half the seeds
        var holdout = new SeriesSet(["x"], [[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02]]);
        var synthetic = new SeriesSet(["x"], [[0.01, -0.02, 0.0, 0.02, 0.01, -0.01, 0.0, 0.01]]);
        var train = new SeriesSet(["x"], [[0.0, 0.01, -0.01, 0.02, 0.01, 0.0]]);
        var skipped = 0;
        for (ulong seed = 0; seed < 8; seed++)
        {
            var options = new EvaluationOptions { Seed = seed, SinglingOut = false, Linkability = false, Utility = false, AttackTargets = 10 };
            var privacy = Evaluator.Evaluate(new EvaluationInput(holdout, synthetic, train), options).Privacy!;
            if (privacy.Membership is null)
            {
                skipped++;
                Assert.Contains("constant", privacy.MembershipSkipped, StringComparison.Ordinal);
                Assert.Null(privacy.OutlierRisk);
            }
            else
            {
                Assert.Null(privacy.MembershipSkipped);
                Assert.InRange(privacy.Membership.Auc, 0, 1);
            }
        }

        Assert.InRange(skipped, 1, 7);
    }

    /// <summary>
    /// Values of about 1e-170 are not constant, but their variance underflows to zero: GaussianKde's ridge, relative to
    /// that variance, is zero too, and it threw "the kernel covariance could not be factored" out of the evaluator. The
    /// attack is skipped with the reason instead.
    /// </summary>
    [Fact]
    public void VariancesBelowTheDoubleRange_SkipTheAttackWithItsReason_NotACrash()
    {
        double[] tiny = [1e-170, -2e-170, 3e-170, 0, -1e-170, 2e-170, -3e-170, 1.5e-170];
        var set = new SeriesSet(["x"], [tiny]);
        var options = new EvaluationOptions { SinglingOut = false, Linkability = false, Utility = false, AttackTargets = 10 };
        var privacy = Evaluator.Evaluate(new EvaluationInput(set, set, set), options).Privacy!;
        Assert.Null(privacy.Membership);
        Assert.Contains("below the range of a double", privacy.MembershipSkipped, StringComparison.Ordinal);
        Assert.Null(privacy.OutlierRisk);
    }

    // data GaussianKde.Fit must refuse or fit, one dimension unless two columns are interleaved (row-major)
    public static TheoryData<string, double[], int, string?> KdeEdgeCases => new()
    {
        { "varied", [0.01, -0.02, 0.015, 0.0, -0.01], 1, null },
        { "constant", [0.01, 0.01, 0.01, 0.01], 1, "has no spread" },
        { "constant, its mean an ulp off", [0.1, 0.1, 0.1], 1, "has no spread" },
        { "two constant columns", [0.01, 0.02, 0.01, 0.02, 0.01, 0.02], 2, "has no spread" },
        { "one constant column beside a varied one", [0.01, 0.02, -0.01, 0.02, 0.03, 0.02], 2, null },
        { "variance below the range of a double", [1e-170, -2e-170, 3e-170, 0, -1e-170], 1, "variance underflows" },
        { "small but in range", [1e-150, -2e-150, 3e-150, 0, -1e-150], 1, null },
        { "variance beyond the range of a double", [1e200, -2e200, 3e200, 0], 1, "variance overflows" },
        { "NaN", [0.01, double.NaN, 0.02], 1, "not finite" },
        { "infinity", [0.01, double.PositiveInfinity, 0.02], 1, "not finite" },
        { "one point", [0.01, 0.02], 2, "at least two points" },
        { "not whole points", [0.01, 0.02, 0.03], 2, "at least two points" },
    };

    /// <summary>
    /// GaussianKde.Fit threw InvalidOperationException ("the kernel covariance could not be factored") on constant data or
    /// data whose variance underflows, and fitted constant data whose mean rounding left a covariance of noise; the
    /// documented exception for bad arguments is ArgumentException, naming the argument and why. CanFit says exactly what
    /// Fit refuses.
    /// </summary>
    [Theory]
    [MemberData(nameof(KdeEdgeCases))]
    public void GaussianKde_Fit_RefusesDataWithoutSpread_WithAnArgumentException_AndCanFitAgrees(string name, double[] data, int dimension, string? refusal)
    {
        Assert.Equal(refusal is null, GaussianKde.CanFit(data, dimension));
        if (refusal is null)
        {
            Assert.All(GaussianKde.Fit(data, dimension).LogDensity(data), v => Assert.True(double.IsFinite(v), name));
            return;
        }
        var e = Assert.Throws<ArgumentException>(() => GaussianKde.Fit(data, dimension));
        Assert.Equal("data", e.ParamName);
        Assert.Contains(refusal, e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The public DOMIAS entry point threw GaussianKde's InvalidOperationException where the evaluator skips the attack (a
    /// constant synthetic subsample or reference half, variances below the range of a double). It now throws
    /// ArgumentException naming the set whose rows cannot be fitted, with the evaluator's skip reason, and refuses exactly
    /// where that reason is given.
    /// </summary>
    [Fact]
    public void Domias_RefusesWhatTheEvaluatorSkips_WithAnArgumentExceptionNamingTheSet()
    {
        double[] varied = [0.01, -0.02, 0.0, 0.02, 0.01, -0.01, 0.0, 0.01];
        var train = new SeriesSet(["x"], [[0.0, 0.01, -0.01, 0.02, 0.01, 0.0]]);
        (SeriesSet Synthetic, SeriesSet Holdout, string? Argument)[] cases =
        [
            (new(["x"], [varied]), new(["x"], [[0.01, 0.02, 0.0, -0.01, 0.03, 0.01, -0.02, 0.0]]), null),
            (new(["x"], [[.. Enumerable.Repeat(0.01, 8)]]), new(["x"], [varied]), "synthetic"),
            (new(["x"], [varied]), new(["x"], [[.. Enumerable.Repeat(0.01, 8)]]), "holdout"),
            (new(["x"], [[.. varied.Select(v => v * 1e-168)]]), new(["x"], [varied]), "synthetic"),
            (new(["x"], [varied]), new(["x"], [[.. varied.Select(v => v * 1e-168)]]), "holdout"),
            (new(["x"], [[.. varied.Select(v => v * 1e202)]]), new(["x"], [varied]), "synthetic"),
            // 7 of 8 equal: the reference half is constant for some seeds only
            (new(["x"], [varied]), new(["x"], [[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02]]), "holdout"),
        ];
        var refused = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (synthetic, holdout, argument) in cases)
        {
            for (ulong seed = 0; seed < 8; seed++)
            {
                var why = MembershipInference.WhyNot(synthetic, train, holdout, seed, 5000);
                if (why is null)
                {
                    Assert.InRange(MembershipInference.Domias(synthetic, train, holdout, seed).Auc, 0, 1);
                    continue;
                }
                var e = Assert.Throws<ArgumentException>(() => MembershipInference.Domias(synthetic, train, holdout, seed));
                Assert.Equal(argument, e.ParamName);
                Assert.StartsWith(why, e.Message, StringComparison.Ordinal);
                refused.Add(argument!);
            }
        }
        Assert.Equal(["holdout", "synthetic"], refused.Order(StringComparer.Ordinal));
        Assert.Contains("has no spread", Assert.Throws<ArgumentException>(() =>
            MembershipInference.Domias(cases[1].Synthetic, train, cases[1].Holdout)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Domias_RefusesSetsBelowTheEvaluatorsMinimum_WithItsSkipReason()
    {
        // the evaluator skips the attack below 2(d + 2) holdout rows, d + 2 synthetic rows or with no train row (WhyNot), but
        // the library call ran on such sets (a kernel density fits from 2 rows): an AUC from 2 non-members, or from no member
        double[] varied = [0.01, -0.02, 0.0, 0.02, 0.01, -0.01, 0.0, 0.01];
        double[] holdout = [0.01, 0.02, 0.0, -0.01, 0.03, 0.01, -0.02, 0.0];
        var train = new SeriesSet(["x"], [[0.0, 0.01, -0.01, 0.02, 0.01, 0.0]]);
        (SeriesSet Synthetic, SeriesSet Train, SeriesSet Holdout, string Argument)[] cases =
        [
            (new(["x"], [varied]), train, new(["x"], [holdout[..5]]), "holdout"), // d = 1: 6 rows at least
            (new(["x"], [varied[..2]]), train, new(["x"], [holdout]), "synthetic"), // 3 rows at least
            (new(["x"], [varied]), new(["x"], [[]]), new(["x"], [holdout]), "train"),
        ];
        foreach (var (synthetic, t, h, argument) in cases)
        {
            var why = MembershipInference.WhyNot(synthetic, t, h);
            Assert.NotNull(why);
            Assert.Equal(why, MembershipInference.WhyNot(synthetic, t, h, 0, 5000)); // the evaluator's reason
            var e = Assert.Throws<ArgumentException>(() => MembershipInference.Domias(synthetic, t, h));
            Assert.Equal(argument, e.ParamName);
            Assert.StartsWith(why, e.Message, StringComparison.Ordinal);
        }

        // at the minimum: the attack runs
        Assert.InRange(MembershipInference.Domias(new(["x"], [varied[..3]]), train, new(["x"], [holdout[..6]])).Auc, 0, 1);
    }
}
