using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// DP-SGD for a conditional sequence model on a public economic state (privacy.public_state): the per-example gradients of
/// the conditional TCN (cross-attention to the condition tokens) against a naive per-example backward, one private step of
/// the trainer against the naive clip-sum-noise reference with the conditions' dropout, the condition space computed from
/// the state file alone (a neighbouring training set gives the same one), and what stays refused.
/// </summary>
public sealed class ConditionalSequenceDpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cond-dp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SequenceGeneratorOptions Tiny = Tests.Sequence.SequenceGeneratorTests.TinyOptions with
    {
        Training = new TrainerOptions(Steps: 6, BatchSize: 8, LearningRate: 2e-3, WarmupSteps: 2),
    };

    private static SequenceGeneratorOptions Dp(DpTrainingOptions dp) => Tiny.WithPrivacy(dp);

    private static readonly DpTrainingOptions Public = new() { NoiseMultiplier = 3, Delta = 1e-4, PublicState = true };

    /// <summary>
    /// 160 weekdays of 2 series from 2021-01-04 (train: the first <paramref name="trainDays"/>) and a state file with
    /// VIXCLS and DFF on every weekday from 2020-06-01 to 2021-12-31 (longer than the returns on both sides).
    /// </summary>
    private (TimeSeriesFrame Train, TimeSeriesFrame All, SequenceState State) Data(int trainDays = 80, int seed = 6, double vol = 0.03)
    {
        var rng = new Random(seed);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 160);
        var values = new double[160 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * vol;
        var all = new TimeSeriesFrame([.. dates], ["A", "B"], values);
        var path = Path.Combine(_dir, "state.csv");
        if (!File.Exists(path))
        {
            var state = new Random(99);
            var csv = new StringBuilder("Date,VIXCLS,DFF\n");
            foreach (var d in TestDates.Weekdays(new DateOnly(2020, 6, 1), 420))
                csv.Append(CultureInfo.InvariantCulture, $"{d:yyyy-MM-dd},{15 + (20 * state.NextDouble()):F2},{0.1 + state.NextDouble():F2}\n");
            File.WriteAllText(path, csv.ToString());
        }

        return (all.Slice(0, trainDays), all, SequenceState.Load(path));
    }

    [Fact]
    public void PerExampleGradients_OfTheConditionalTcn_EqualANaivePerExampleBackward_AndClippedNormsAreAtMostC()
    {
        // the private step's per-example gradient (a microbatch of one under the example's own condition) against the
        // gradient of example b's loss inside a forward of the whole batch under all the conditions: equal when nothing
        // (attention, condition tokens, masks) mixes examples
        const int n = 5, d = 2, w = 6, k = 3, steps = 50;
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(d, w, k, 8, 2, 2, 1, 8), new Philox(3));
        var adapter = new ConditionalTcnDenoiserAdapter(net, steps);
        var parameters = net.Parameters().ToList();
        var rng = new Philox(11);
        var x = new float[n * d * w];
        var y = new float[n * d * w];
        var c = new float[n * k];
        rng.FillNormal(x);
        rng.FillNormal(y);
        rng.FillNormal(c);
        // example 0 all features, 1 none (unconditional), 2 one, 3 two, 4 all
        bool[] present = [true, true, true, false, false, false, false, true, false, true, false, true, true, true, true];
        var conditions = new ConditionBatch(c, present, n, k);
        int[] t = [3, 17, 42, 0, 29];
        var (perExample, norms) = PerExampleGradientCheck.AssertEqualsNaive(adapter, parameters, x, y, t, n, d, w, conditions);
        int size = d * w, p = perExample.Length / n;

        // the condition reaches the gradient: the same example unconditioned has another one
        var unconditioned = new MicrobatchGradients(b => Crucible.Tensors.Losses.MseLoss(
            adapter.Forward(new Tensor(x.AsSpan(b * size, size).ToArray(), [1, d, w]), t.AsSpan(b, 1)),
            new Tensor(y.AsSpan(b * size, size).ToArray(), [1, d, w]))).Compute(parameters, n);
        Assert.NotEqual(perExample.AsSpan(0, p).ToArray(), unconditioned.AsSpan(0, p).ToArray());
        Assert.Equal(perExample.AsSpan(p, p).ToArray(), unconditioned.AsSpan(p, p).ToArray()); // example 1 has no feature present
        PerExampleGradientCheck.AssertClipsToTheMedianNorm(perExample, norms);
    }

    [Fact]
    public void OnePrivateStep_OfTheConditionalTrainer_IsTheNaiveClipSumNoiseReference()
    {
        // q = 1 (every window in the batch), σ = 0.7, C below most norms. Replay the trainer's draws (Philox stream 1: N
        // Poisson uniforms, then (t, ε) per example, then the batch's condition dropout with condition noise), compute each
        // example's gradient on a twin network by its own forward and backward under its dropped condition, clip it to C,
        // sum, add σC times the engine's normals (its Philox stream, in parameter order) and divide by q·N = N.
        const int n = 7, d = 2, w = 5, k = 3, diffusionSteps = 40;
        const double sigma = 0.7;
        var rng = new Philox(21);
        var data = new float[n * d * w];
        var values = new float[n * k];
        rng.FillNormal(data);
        rng.FillNormal(values);
        values[(2 * k) + 1] = float.NaN; // a missing feature: never present, and no noise is drawn for it
        var config = new ConditionalTcnDenoiserConfig(d, w, k, 8, 2, 2, 1, 8);
        var options = new TrainerOptions(Steps: 3, BatchSize: n, LearningRate: 1e-2, WarmupSteps: 1, GradClipNorm: 0, EmaDecay: 0, Seed: 7);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Create(BetaScheduleKind.Linear, diffusionSteps), d);
        var dropout = new ConditionDropout(values, n, k, unconditional: 0.2, subset: 0.4, noise: 0.3);

        // the clip bound: the median of the initial per-example norms under the draws below, so clipping bites
        var (xt, target, timesteps, conditions) = Replay(new Philox(7, stream: 1), data, n, schedule, dropout);
        var twin = new ConditionalTcnDenoiser(config, new Philox(3));
        var twinAdapter = new ConditionalTcnDenoiserAdapter(twin, diffusionSteps);
        var parameters = twin.Parameters().ToList();
        int p = parameters.Sum(q => q.Length), size = d * w;
        var rows = new double[n][];
        for (int b = 0; b < n; b++)
        {
            foreach (var q in parameters) q.ZeroGrad();
            var output = twinAdapter.Forward(new Tensor(xt.AsSpan(b * size, size).ToArray(), [1, d, w]), timesteps.AsSpan(b, 1), conditions.Row(b));
            var diff = output - new Tensor(target.AsSpan(b * size, size).ToArray(), [1, d, w]);
            (diff.Square().Sum() * (1f / size)).Backward();
            rows[b] = [.. parameters.SelectMany(q => q.Grad is { } g ? g.Select(v => (double)v) : new double[q.Length])];
        }

        var norms = rows.Select(r => Math.Sqrt(r.Sum(v => v * v))).ToArray();
        double clip = norms.Order().ElementAt(n / 2);
        Assert.True(norms.Count(v => v > clip * 1.01) >= 2, "some examples must be clipped");
        var expected = new double[p];
        for (int b = 0; b < n; b++)
        {
            double factor = Math.Min(1.0, clip / (norms[b] + 1e-6));
            for (int i = 0; i < p; i++) expected[i] += factor * rows[b][i];
        }

        var noise = new Philox(1);
        for (int i = 0; i < p; i++) expected[i] = (expected[i] + (sigma * clip * noise.NextNormal())) / n;

        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = clip, NoiseMultiplier = sigma, Delta = 1e-3, ExpectedBatchSize = n, Steps = options.Steps, EpsilonBudget = double.PositiveInfinity,
        }, n, new Philox(1));
        var net = new ConditionalTcnDenoiser(config, new Philox(3));
        var trainer = new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(net, diffusionSteps), schedule, Objective.Epsilon, options, engine) { Conditions = dropout };
        trainer.Step(data, n);
        var actual = net.Parameters().SelectMany(q => q.Grad!).ToArray();
        Assert.Equal(p, actual.Length);
        double scale = Math.Sqrt(expected.Sum(v => v * v));
        for (int i = 0; i < p; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + scale), $"[{i}] {expected[i]} vs {actual[i]}");
        Assert.Equal(1, engine.StepsTaken);
    }

    // the draws of one private step with q = 1 from the trainer's stream, as the trainer makes them
    private static (float[] Xt, float[] Target, int[] Timesteps, ConditionBatch Conditions) Replay(
        Philox draws, float[] data, int n, VolatilityAdaptiveSchedule schedule, ConditionDropout dropout)
    {
        int size = data.Length / n;
        for (int i = 0; i < n; i++) Assert.True(draws.NextDouble() < 1.0);
        var xt = new float[n * size];
        var target = new float[n * size];
        var timesteps = new int[n];
        var eps = new float[size];
        var scale = new double[size];
        Array.Fill(scale, 1.0);
        for (int i = 0; i < n; i++)
        {
            int t = draws.NextInt(schedule.Steps);
            draws.FillNormal(eps);
            schedule.AddNoise(data.AsSpan(i * size, size), eps, t, scale, xt.AsSpan(i * size, size));
            for (int j = 0; j < size; j++) target[(i * size) + j] = eps[j];
            timesteps[i] = t;
        }

        return (xt, target, timesteps, dropout.Draw(Enumerable.Range(0, n).ToArray(), draws));
    }

    [Fact]
    public void PublicState_TheConditionSpaceIsTheStateFilesAlone_ANeighbouringTrainingSetGivesTheSameOne()
    {
        // two training sets that differ in their last day and in every return value: under DP with a public state the
        // condition space (mean, std, reference state, archetypes) and the statement's public inputs are the same
        var (trainA, allA, state) = Data(trainDays: 80, seed: 6);
        var (trainB, allB, _) = Data(trainDays: 79, seed: 7, vol: 0.08);
        var end = new DateOnly(2021, 4, 30);
        var a = SequenceTraining.Train(trainA, allA, Dp(Public), state, ["VIXCLS", "DFF"], publicStateEnd: end).Generator.Manifest;
        var b = SequenceTraining.Train(trainB, allB, Dp(Public), state, ["VIXCLS", "DFF"], publicStateEnd: end).Generator.Manifest;
        Assert.Equal(Json(a.Conditions), Json(b.Conditions));
        Assert.Equal(Json(a.Privacy!.PublicState!), Json(b.Privacy!.PublicState!));
        Assert.NotEqual(a.Weights.Sha256, b.Weights.Sha256);

        // the statistics written out: the state's rows dated up to the declared end, from the file alone
        var pub = EconomicState.BuildPublic(state.Frame, ["VIXCLS", "DFF"], end);
        var vix = Enumerable.Range(0, pub.RowCount).Select(r => pub[r, 0]).ToArray();
        double mean = vix.Average(), std = Math.Sqrt(vix.Sum(v => (v - mean) * (v - mean)) / (vix.Length - 1));
        Assert.Equal(mean, a.Conditions.Mean[0], 1e-12);
        Assert.Equal(std, a.Conditions.Std[0], 1e-12);
        int last = state.Frame.IndexAtOrBefore(end);
        Assert.Equal(state.Frame[last, state.Frame.ColumnIndex("VIXCLS")], a.Conditions.Reference["VIXCLS"]);
        Assert.Equal(state.Frame.Dates[last].AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), a.Conditions.ReferenceDate);
        Assert.Equal(CrisisArchetypes.Compute(EconomicState.BuildPublic(state.Frame, ["VIXCLS", "DFF"])).Keys.Order(), a.Conditions.Archetypes.Keys.Order());
        Assert.Equal(last + 1, a.Privacy.PublicState!.StatisticsRows);

        // the statement names the public file by SHA-256
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(state.Path)));
        Assert.Equal(sha, a.Privacy.PublicState.Sha256);
        Assert.Equal(["VIXCLS", "DFF"], a.Privacy.PublicState.Features);
        Assert.Contains(sha, a.Privacy.Statement, StringComparison.Ordinal);
        Assert.Contains("public economic state", a.Privacy.Statement, StringComparison.Ordinal);

        // without privacy the same call standardises over the training windows: another condition space
        var plain = SequenceTraining.Train(trainA, allA, Tiny, state, ["VIXCLS", "DFF"]).Generator.Manifest;
        Assert.NotEqual(plain.Conditions.Mean[0], a.Conditions.Mean[0]);
        Assert.Null(plain.Privacy);
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, DiffusionJson.Options);

    [Fact]
    public void DP11_NeighbouringDatasets_OnAPublicState_TheManifestDoesNotTellWhichWasUsed_WithoutDpTheHashesDo()
    {
        // two training sets differing in one day's returns (day 40), from two files with their own SHA-256
        var (trainA, allA, state) = Data();
        var values = allA.Values.ToArray();
        values[40 * 2] += 0.04;
        values[(40 * 2) + 1] -= 0.02;
        var allB = new TimeSeriesFrame(allA.Dates, allA.Columns, values);
        var trainB = allB.Slice(0, trainA.RowCount);
        var fileA = new DataProvenance("returns.csv", new string('a', 64), "LogReturns");
        var fileB = fileA with { FileSha256 = new string('b', 64) };
        var end = new DateOnly(2021, 4, 30);
        SequenceManifest Fit(SequenceGeneratorOptions o, TimeSeriesFrame train, TimeSeriesFrame all, DataProvenance file) =>
            SequenceTraining.Train(train, all, o, state, ["VIXCLS", "DFF"], provenance: file, publicStateEnd: o.Privacy is null ? null : end).Generator.Manifest;
        // the manifest's bytes but the weights' hash (the only field derived from the weights)
        static string Released(SequenceManifest m) => Encoding.UTF8.GetString(DiffusionJson.FileBytes(m with { Weights = m.Weights with { Sha256 = "" } }));

        var a = Fit(Dp(Public), trainA, allA, fileA);
        var b = Fit(Dp(Public), trainB, allB, fileB);
        Assert.Null(a.Data.InputSha256);
        Assert.Null(a.Data.TrainMatrixSha256);
        Assert.Null(a.StateData!.TrainMatrixSha256);       // the state cut on the private return dates
        Assert.Null(a.Windows.ConditionMatrixSha256);
        Assert.NotNull(a.StateData.InputSha256);            // the public state file keeps its hash (also in the statement)
        Assert.Equal(a.StateData.InputSha256, a.Privacy!.PublicState!.Sha256);
        Assert.Equal(Released(a), Released(b));

        // without DP the same pair is told apart by the hashes of the returns (so the comparison above can fail)
        var plainA = Fit(Tiny, trainA, allA, fileA);
        var plainB = Fit(Tiny, trainB, allB, fileB);
        Assert.NotEqual(plainA.Data.TrainMatrixSha256, plainB.Data.TrainMatrixSha256);
        Assert.Equal(new string('a', 64), plainA.Data.InputSha256);
        Assert.NotNull(plainA.StateData!.TrainMatrixSha256);
        Assert.NotNull(plainA.Windows.ConditionMatrixSha256);
    }

    [Fact]
    public void PublicState_Trains_ConditionsSteer_ReproducibleModeIsBitIdentical_SecureModeWorks_AndTheModelRoundTrips()
    {
        var (train, all, state) = Data();
        var r1 = SequenceTraining.Train(train, all, Dp(Public), state, ["VIXCLS"]).Generator;
        var r2 = SequenceTraining.Train(train, all, Dp(Public), state, ["VIXCLS"]).Generator;
        Assert.Equal(r1.WeightsBytes(), r2.WeightsBytes());
        Assert.Equal(r1.ManifestBytes(), r2.ManifestBytes());
        Assert.Equal(["VIXCLS"], r1.Manifest.Conditions.Names);
        Assert.True(r1.Manifest.Windows.Conditioned > 0);

        var s1 = SequenceTraining.Train(train, all, Dp(Public with { SecureMode = true }), state, ["VIXCLS"]).Generator;
        var s2 = SequenceTraining.Train(train, all, Dp(Public with { SecureMode = true }), state, ["VIXCLS"]).Generator;
        Assert.NotEqual(s1.WeightsBytes(), s2.WeightsBytes());
        Assert.True(s1.Manifest.Privacy!.SecureMode);
        Assert.NotNull(s1.Manifest.Privacy.PublicState);

        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(r1.ManifestBytes()));
        var privacy = doc.RootElement.GetProperty("privacy");
        Assert.Equal(r1.Manifest.StateData!.InputSha256, privacy.GetProperty("public_state").GetProperty("sha256").GetString());
        Assert.True(doc.RootElement.GetProperty("config").GetProperty("privacy").GetProperty("public_state").GetBoolean());

        var folder = Path.Combine(_dir, "model");
        r1.Save(folder);
        var loaded = SequenceGenerator.Load(folder);
        var request = new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 30 }, 2, new Samplers.SamplerOptions(Steps: 5));
        var scenarios = loaded.Generate(4, 1, request);
        Assert.Equal(r1.Manifest.Privacy, scenarios.Metadata.Privacy);
        Assert.All(scenarios.Values.Values, v => Assert.True(double.IsFinite(v)));
        // the condition reaches the samples: another VIX, other windows from the same seed
        var other = loaded.Generate(4, 1, request with { Conditions = new Dictionary<string, double> { ["VIXCLS"] = 15 } });
        Assert.NotEqual(scenarios.Values.Values, other.Values.Values);
    }

    [Fact]
    public void WhatReadsThePrivateReturns_StaysRefused_NamingTheRule()
    {
        var (train, all, state) = Data();
        var dp = Public with { PublicState = false };

        // session 29: each refusal in the library's words (it named crucible train's flags, which a library user and a
        // training job never typed) and in each shell's (Worded: the CLI's flags, a job's members), rule kept
        static void Words(SequenceOptionException e, string rule, string library, string shell)
        {
            Assert.Equal((rule, library), (e.Rule, e.Message));
            var worded = e.Worded(Tests.Sequence.MarkedOptionNames.Instance);
            Assert.Equal((rule, e.Location, shell), (worded.Rule, worded.Location, worded.Message));
        }

        // no declaration: refused, naming the declaration
        const string Otherwise = "otherwise their standardisation, reference state and archetypes would be statistics of private data outside DP-SGD's "
            + "accounting (DP-11); declare it public, or train an unconditional model";
        Words(Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Dp(dp), state, ["VIXCLS"])), "DP-E-PREPROCESS",
            "conditions (an economic state) cannot be combined with privacy unless the state is declared public data (privacy.public_state: true): " + Otherwise,
            "conditions (<State>, an economic state) cannot be combined with privacy unless the state is declared public data (<PublicState=true>): " + Otherwise);

        // RV20 (from the returns), named or by default
        const string Rv20 = "condition feature RV20 is computed from the private returns (the equal-weight portfolio's realised volatility), not from the "
            + "public state: under DP it would be a statistic of the private data outside DP-SGD's accounting; name state features only";
        const string Library = Rv20 + " (e.g. VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2)", Shell = Rv20 + " (<StateColumns=VIXCLS|DFF|TERM|BAA10Y|BAMLH0A0HYM2>)";
        Words(Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Dp(Public), state, ["VIXCLS", "RV20"])), "DP-E-PREPROCESS",
            Library, Shell);
        const string ByDefault = "; the default features include it";
        Words(Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Dp(Public), state)), "DP-E-PREPROCESS",
            Library + ByDefault, Shell + ByDefault);

        // the library call refuses RV20 and conditions without the public state's own statistics too
        var features = EconomicState.Build(state.Frame, train, ["VIXCLS"]);
        var rvFeatures = EconomicState.Build(state.Frame, train, ["VIXCLS", "RV20"]);
        Assert.Contains("RV20", Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Dp(Public)).Fit(train, rvFeatures)).Message, StringComparison.Ordinal);
        Assert.Equal("DP-E-PREPROCESS", Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Dp(Public)).Fit(train, features)).Rule);
        Words(Assert.Throws<SequenceOptionException>(() => EconomicState.BuildPublic(state.Frame, ["RV20"])), "DP-E-PREPROCESS", Library, Shell);
        Assert.Throws<ArgumentException>(() => new SequenceGenerator(Dp(Public)).Fit(train, features, publicConditions: EconomicState.BuildPublic(state.Frame, ["DFF"])));

        // the guidance calibration reads the realised ES of the private windows
        var calibration = SequenceTraining.CalibrationFor("covid-2020")!;
        const string Why = "cannot be combined with privacy: it reads the realised expected shortfall of the private training windows outside DP-SGD's accounting";
        Words(Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Dp(Public), state, ["VIXCLS"], calibration)), "DP-E-PREPROCESS",
            $"the guidance calibration {Why}; give the guidance with guidance_scale instead",
            $"<CalibrateGuidance> {Why}; give the guidance with <GuidanceScale> instead");
        var model = SequenceTraining.Train(train, all, Dp(Public), state, ["VIXCLS"]).Generator;
        Assert.Equal("DP-E-PREPROCESS", Assert.Throws<InvalidInputException>(() => model.CalibrateGuidance(train, features, calibration)).Rule);

        // regime guidance and the PACF regulariser: refused by the options
        Assert.Contains("regime_guidance", Assert.Throws<ArgumentException>(() => new SequenceGenerator(Dp(Public) with { RegimeGuidance = 0.5 })).Message, StringComparison.Ordinal);
        Assert.Contains("pacf_weight", Assert.Throws<ArgumentException>(() =>
            new SequenceGenerator(Dp(Public) with { Training = Tiny.Training with { PacfWeight = 0.1, PacfLags = 2 } })).Message, StringComparison.Ordinal);

        // a declaration with no state to declare
        Words(Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Dp(Public))), "DP-E-CONFIG",
            "privacy.public_state declares the economic state public, but no state was given: it applies to conditional sequence models only",
            "<PublicState> declares the economic state public, but no state was given (<State>): it applies to conditional sequence models only");
    }
}
