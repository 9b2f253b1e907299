using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;
using Xunit.Abstractions;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// RELIABILITY.md DP-12 for DP sequence models, at the window level: an (ε, δ)-DP model per window bounds every
/// membership attack on a window by TPR ≤ e^ε·FPR + δ. The audit attacks each candidate window by its distance to the
/// nearest generated window (members: the stride-1 training windows; non-members: windows of an independent series of
/// the same law) and checks that the empirical ε (<see cref="MembershipGate.EmpiricalEpsilon"/>: a 97.5% lower confidence
/// bound on ε, simultaneous over thresholds set on the non-members at FPR 0, 0.01, 0.05, 0.1, 0.25 and 0.5, from the
/// exact law of the count of members above each) stays at or below the model's ε. The
/// positive control, the same network trained without DP long enough to memorise its few windows, is caught: its
/// empirical ε exceeds the DP model's. The conditional model on a public state (privacy.public_state) is audited the same way.
/// </summary>
public sealed class SequenceMembershipAuditTests(ITestOutputHelper output)
{
    private const int Series = 2, Window = 4, TrainDays = 44, NonMembers = 600, Samples = 1500;
    private const double Delta = 1e-3;

    // days × 2 log returns of scale 0.02 with a common factor (correlation 0.36), from Philox stream `seed`, dated weekdays
    private static TimeSeriesFrame Returns(int days, ulong seed)
    {
        var rng = new Philox(seed);
        var values = new double[days * Series];
        for (int t = 0; t < days; t++)
        {
            double common = rng.NextNormal();
            for (int i = 0; i < Series; i++) values[(t * Series) + i] = 0.02 * ((0.6 * common) + (0.8 * rng.NextNormal()));
        }

        return new TimeSeriesFrame([.. TestDates.Weekdays(new DateOnly(2015, 1, 5), days)], ["A", "B"], values);
    }

    // windows of W days as vectors of D·W values (series-major, as the model lays them out), every `stride` days
    private static double[][] Windows(TimeSeriesFrame returns, int stride)
    {
        var windows = new List<double[]>();
        for (int b = 0; b + Window <= returns.RowCount; b += stride)
        {
            var v = new double[Series * Window];
            for (int i = 0; i < Series; i++)
            {
                for (int t = 0; t < Window; t++) v[(i * Window) + t] = returns[b + t, i];
            }

            windows.Add(v);
        }

        return [.. windows];
    }

    private static double[][] Generated(SequenceGenerator g, SequenceSampleRequest request)
    {
        var frame = g.Sample(Samples, 11, request);
        var windows = new double[Samples][];
        for (int s = 0; s < Samples; s++)
        {
            var v = new double[Series * Window];
            for (int i = 0; i < Series; i++)
            {
                for (int t = 0; t < Window; t++) v[(i * Window) + t] = frame[(s * Window) + t, i];
            }

            windows[s] = v;
        }

        return windows;
    }

    // the attack's score: minus the distance to the nearest generated window (higher: more likely a member)
    private static double[] Scores(double[][] candidates, double[][] generated) => [.. candidates.Select(c => -generated.Min(s =>
    {
        double d = 0;
        for (int j = 0; j < c.Length; j++) d += (c[j] - s[j]) * (c[j] - s[j]);
        return d;
    }))];

    // the empirical ε: MembershipGate.EmpiricalEpsilon, a 97.5% lower confidence bound on ε over six thresholds set on the
    // non-members (the exact law of the count of members above each, Bonferroni over them)
    private static (double Epsilon, double Tpr, double Fpr) EmpiricalEpsilon(double[] members, double[] nonMembers, double delta)
    {
        var bound = MembershipGate.EmpiricalEpsilon(members, nonMembers, delta);
        return (bound.Epsilon, bound.Tpr, bound.Fpr);
    }

    private static SequenceGeneratorOptions Network(int steps, int batch) => new()
    {
        Window = Window,
        DiffusionSteps = 100,
        Hidden = 32,
        Layers = 2,
        Heads = 2,
        TimeEmbedding = 16,
        Training = new TrainerOptions(Steps: steps, BatchSize: batch, LearningRate: 3e-3, WarmupSteps: 20, EmaDecay: 0),
        Seed = 5,
    };

    [Fact]
    public void DP12_WindowMembership_DpModelsStayWithinTheBound_TheOverfitNetworkIsCaught()
    {
        var train = Returns(TrainDays, 1);
        var members = Windows(train, stride: 1);
        var nonMembers = Windows(Returns((NonMembers * Window) + 1, 2), stride: Window);
        var request = new SequenceSampleRequest(Sampler: new SamplerOptions(SamplerKind.Ddim, 50));
        var clock = Stopwatch.StartNew();

        // positive control: the same network, no DP, 2,500 steps of 32 over 41 windows (each seen about 2,000 times)
        var overfit = new SequenceGenerator(Network(2500, 32)).Fit(train);
        var overfitGenerated = Generated(overfit, request);
        var leaky = EmpiricalEpsilon(Scores(members, overfitGenerated), Scores(nonMembers, overfitGenerated), Delta);
        double tOverfit = clock.Elapsed.TotalSeconds;

        // DP-SGD at ε = 3 per window (the membership unit of the attack), the same network
        var dpOptions = Network(300, 16).WithPrivacy(new DpTrainingOptions
        {
            TargetEpsilon = 3, Delta = Delta, MaxGradNorm = 1, Unit = PrivacyUnit.Window, PublicScale = 0.02, PublicBound = 5,
        });
        var dp = new SequenceGenerator(dpOptions).Fit(train);
        var dpGenerated = Generated(dp, request);
        var priv = EmpiricalEpsilon(Scores(members, dpGenerated), Scores(nonMembers, dpGenerated), Delta);
        double tDp = clock.Elapsed.TotalSeconds - tOverfit;

        // the conditional model on a public state (a VIX-like random walk over the whole calendar), same budget
        var dates = TestDates.Weekdays(new DateOnly(2014, 12, 1), TrainDays + 40);
        var vix = new double[dates.Length];
        var walk = new Philox(9);
        double level = 20;
        for (int r = 0; r < vix.Length; r++) vix[r] = level = Math.Clamp(level + walk.NextNormal(), 10, 60);
        var state = new TimeSeriesFrame([.. dates], ["VIXCLS"], vix);
        var stateProvenance = new DataProvenance("state.csv", new string('c', 64), nameof(InputKind.LogReturns));
        var conditional = new SequenceGenerator(Network(300, 16).WithPrivacy(new DpTrainingOptions
        {
            TargetEpsilon = 3, Delta = Delta, MaxGradNorm = 1, Unit = PrivacyUnit.Window, PublicScale = 0.02, PublicBound = 5, PublicState = true,
        })).Fit(train, EconomicState.Build(state, train, ["VIXCLS"]), stateProvenance: stateProvenance,
            publicConditions: EconomicState.BuildPublic(state, ["VIXCLS"]));
        var conditionalGenerated = Generated(conditional, request with { Conditions = new Dictionary<string, double> { ["VIXCLS"] = 20 }, GuidanceScale = 1 });
        var cond = EmpiricalEpsilon(Scores(members, conditionalGenerated), Scores(nonMembers, conditionalGenerated), Delta);
        double tConditional = clock.Elapsed.TotalSeconds - tOverfit - tDp;

        string Line(string name, (double Epsilon, double Tpr, double Fpr) a) =>
            string.Create(CultureInfo.InvariantCulture, $"{name}: empirical ε ≥ {a.Epsilon:F2} (TPR {a.Tpr:F3} at FPR {a.Fpr:F4}; {members.Length} members, {nonMembers.Length} non-members)");
        output.WriteLine(Line("overfit, no DP", leaky) + string.Create(CultureInfo.InvariantCulture, $" ({tOverfit:F1} s)"));
        output.WriteLine(Line($"DP {dp.Manifest.Privacy!.Statement}", priv) + string.Create(CultureInfo.InvariantCulture, $" ({tDp:F1} s)"));
        output.WriteLine(Line($"conditional DP, ε = {conditional.Manifest.Privacy!.Epsilon:F3}", cond) + string.Create(CultureInfo.InvariantCulture, $" ({tConditional:F1} s)"));

        double epsilon = dp.Manifest.Privacy.Epsilon;
        Assert.InRange(epsilon, 2.9, 3.0);
        Assert.Equal(PrivacyUnit.Window, dp.Manifest.Privacy.Unit);
        // the positive control: the audit proves more than the DP model's ε against the overfit network
        Assert.True(leaky.Epsilon > epsilon, $"the overfit network must be caught beyond ε = {epsilon}: empirical ε {leaky.Epsilon}");
        // DP-12: at every threshold TPR_lo ≤ e^ε·FPR_hi + δ
        Assert.True(priv.Epsilon <= epsilon, $"the DP model's empirical ε {priv.Epsilon} exceeds its ε {epsilon}: an implementation bug");
        Assert.True(cond.Epsilon <= conditional.Manifest.Privacy.Epsilon, $"the conditional DP model's empirical ε {cond.Epsilon} exceeds its ε");
    }
}
