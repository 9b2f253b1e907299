using System.Globalization;
using System.Text;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

/// <summary>
/// Public-state volatility scaling (<see cref="SequenceGeneratorOptions.StateScale"/>): the training windows divided by
/// s_b = v_b / v̄ before the transform, generated windows multiplied by the s of the requested level (or of a level drawn
/// from the recorded public distribution), the manifest's record and the DP statement, and the refusals.
/// </summary>
public sealed class StateScaleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-state-scale-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SequenceGeneratorOptions Tiny = SequenceGeneratorTests.TinyOptions with { StateScale = "VIXCLS" };

    /// <summary>
    /// 80 days of 2 series whose volatility follows a VIXCLS level dated on the return days from day 2 on: about 60 for the
    /// first 40 days and about 10 after (a window takes the level of its first day, so the windows across the fall are
    /// scaled by the higher one).
    /// </summary>
    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data()
    {
        var rng = new Random(3);
        var dates = Enumerable.Range(0, 80).Select(i => new DateOnly(2021, 1, 4).AddDays(i)).ToArray();
        var vix = dates.Select((_, i) => (i < 40 ? 60.0 : 10.0) + rng.Next(3)).ToArray();
        var values = new double[80 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = vix[i / 2] / 1000 * (rng.NextDouble() - 0.5);
        var cDates = dates[2..];
        return (new TimeSeriesFrame(dates, ["SPY", "TLT"], values), new TimeSeriesFrame(cDates, ["VIXCLS"], vix[2..]));
    }

    // no guidance without a level (it would change nothing: SequenceGenerator.GuidanceWithoutConditionsRule)
    private static SequenceSampleRequest At(double? vix, double guidance = 0) => new(
        vix is { } v ? new Dictionary<string, double> { ["VIXCLS"] = v } : null, vix is null ? null : guidance, new SamplerOptions(Steps: 8, MaxDegreeOfParallelism: 1));

    [Fact]
    public void Fit_DividesEachWindowByItsStatesLevelOverTheMean_BeforeTheTransform_AndRecordsTheScaling()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny with { Transform = SequenceTransform.Standardize }).Fit(returns, conditions);

        // by hand: windows 0 and 1 start before the first condition (s = 1); v̄ over the conditioned windows' levels
        int w = Tiny.Window, count = returns.RowCount - w + 1;
        var levels = new double?[count];
        for (int b = 0; b < count; b++)
        {
            int r = Array.IndexOf(conditions.Dates, returns.Dates[b]);
            levels[b] = r < 0 ? null : conditions[r, 0];
        }

        double reference = levels.Where(v => v is not null).Average(v => v!.Value);
        var ss = g.Manifest.StateScale!;
        Assert.Equal("VIXCLS", ss.Feature);
        Assert.Equal(reference, ss.Reference, 1e-12);
        Assert.Equal(count - 2, ss.ScaledWindows);
        Assert.Equal(SequenceGenerator.StateScaleLevels, ss.Levels.Count);
        Assert.Equal(levels.Where(v => v is not null).Min(), ss.Levels[0]);
        Assert.True(ss.Levels.Zip(ss.Levels.Skip(1)).All(p => p.First <= p.Second));
        Assert.Equal(reference, g.ConditionSpace.Mean[0], 1e-12);                    // v̄ is the conditions' own mean
        for (int i = 0; i < 2; i++)
        {
            var scaled = new List<double>();
            for (int b = 0; b < count; b++)
            {
                double s = levels[b] is { } v ? v / reference : 1;
                for (int t = 0; t < w; t++) scaled.Add(returns[b + t, i] / s);
            }

            double mean = scaled.Average(), sd = Math.Sqrt(scaled.Sum(v => (v - mean) * (v - mean)) / (scaled.Count - 1));
            Assert.Equal(mean, g.Affine.Offset[i], 1e-12);
            Assert.Equal(sd, g.Affine.Scale[i], 1e-12);
        }

        // the model-space windows themselves (no transform): the volatility-adaptive schedule's σ_i is their std, that of r / s_b
        var raw = new SequenceGenerator(Tiny).Fit(returns, conditions);
        for (int i = 0; i < 2; i++)
        {
            var x = new List<double>();
            for (int b = 0; b < count; b++)
            {
                double s = levels[b] is { } v ? v / reference : 1;
                for (int t = 0; t < w; t++) x.Add((float)(returns[b + t, i] / s));
            }

            double mean = x.Average(), sd = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Count - 1));
            Assert.Equal(sd, raw.Schedule.NoiseScale[i], 1e-9);
        }

        // the volatility-following data has a wider raw spread than the scaled one: the scaling did something
        var plain = new SequenceGenerator(Tiny with { StateScale = null, Transform = SequenceTransform.Standardize }).Fit(returns, conditions);
        Assert.True(plain.Affine.Scale[0] > 1.15 * g.Affine.Scale[0], $"{plain.Affine.Scale[0]} vs {g.Affine.Scale[0]}");
        Assert.Null(plain.Manifest.StateScale);
    }

    [Fact]
    public void Sample_MultipliesTheWindowsByTheRequestedLevelOverTheMean_ExactlyInvertingTheTraining()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny with { Transform = SequenceTransform.Standardize }).Fit(returns, conditions);
        double reference = g.Manifest.StateScale!.Reference;

        // guidance 0: the unconditional network, so the model-space windows are the same at every level
        var z = g.SampleModelSpace(50, 9, At(15));
        var calm = g.Sample(50, 9, At(15)).Values;
        var stressed = g.Sample(50, 9, At(45)).Values;
        int d = 2, w = Tiny.Window;
        for (int b = 0; b < 50; b++)
        {
            for (int t = 0; t < w; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    double x = z[(((b * d) + i) * w) + t], model = g.Affine.Offset[i] + (g.Affine.Scale[i] * x);
                    int k = (((b * w) + t) * d) + i;
                    Assert.Equal(15 / reference * model, calm[k], 1e-12);
                    Assert.Equal(stressed[k], 3 * calm[k], 1e-12);
                }
            }
        }

        // the ES of the equal-weight portfolio follows the level: 45 against 15 is about 3 times (log of a mean of exps)
        double es15 = EconomicState.EqualWeightWindowExpectedShortfall(g.Sample(400, 9, At(15, guidance: 1)), w, 400, w, 0.9);
        double es45 = EconomicState.EqualWeightWindowExpectedShortfall(g.Sample(400, 9, At(45, guidance: 1)), w, 400, w, 0.9);
        Assert.InRange(es45 / es15, 2.0, 4.5);

        // Generate gives the same values, and a saved and loaded model the same bytes
        Assert.Equal(stressed, g.Generate(50, 9, At(45)).Values.Values);
        var folder = Path.Combine(_dir, "m");
        g.Save(folder);
        var loaded = SequenceGenerator.Load(folder);
        Assert.Equal(g.ManifestBytes(), loaded.ManifestBytes());
        Assert.Equal(stressed, loaded.Sample(50, 9, At(45)).Values);
    }

    [Fact]
    public void Sample_WithoutTheLevel_DrawsEachWindowsScaleFromTheRecordedLevels_Reproducibly()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var ss = g.Manifest.StateScale!;
        var scales = g.WindowScales(300, 4, null)!;
        Assert.Equal(scales, g.WindowScales(300, 4, null));
        Assert.NotEqual(scales, g.WindowScales(300, 5, null));
        var allowed = ss.Levels.Select(v => v / ss.Reference).ToHashSet();
        Assert.All(scales, s => Assert.Contains(s, allowed));
        Assert.True(scales.Min() < 0.5 && scales.Max() > 1.5, $"{scales.Min()} .. {scales.Max()}");       // both regimes are drawn
        Assert.Equal(Enumerable.Repeat(45 / ss.Reference, 300), g.WindowScales(300, 4, new Dictionary<string, double> { ["vixcls"] = 45 }));

        var z = g.SampleModelSpace(300, 4, At(null));
        var r = g.Sample(300, 4, At(null)).Values;
        for (int b = 0; b < 300; b++)
        {
            double x = z[b * 2 * Tiny.Window];
            Assert.Equal(scales[b] * (g.Affine.Offset[0] + (g.Affine.Scale[0] * x)), r[b * Tiny.Window * 2], 1e-12);
        }

        // a model without the scaling has none
        Assert.Null(new SequenceGenerator(SequenceGeneratorTests.TinyOptions).Fit(returns, conditions).WindowScales(3, 4, null));
    }

    [Theory]
    [InlineData(int.MaxValue, 45.0)]
    [InlineData(int.MaxValue, null)]
    [InlineData(20_000_000, null)]
    public void ACountBeyondWhatOneDrawHolds_IsTheCountRefusal_BeforeAnyScaleIsDrawn(int count, double? vix)
    {
        // the windows' scales were drawn (or filled) before the sampler checked the count: 2^31 − 1 scenarios threw an
        // OutOfMemoryException (the CLI's --count, the service's count), and 20 million drew 20 million levels first
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var plain = new SequenceGenerator(SequenceGeneratorTests.TinyOptions).Fit(returns, conditions);
        var expected = Assert.Throws<InvalidInputException>(() => plain.Generate(count, 1, At(vix)));
        foreach (var draw in new Action[] { () => g.Generate(count, 1, At(vix)), () => g.Sample(count, 1, At(vix)), () => g.WindowScales(count, 1, At(vix).Conditions) })
        {
            var e = Assert.Throws<InvalidInputException>(draw);
            Assert.Equal(("count", expected.Message), (e.Rule, e.Message));
        }
    }

    [Theory]
    [InlineData("affine", "scale", "[0, 1]")]                 // loaded, and every scenario of SPY was its offset: a constant series
    [InlineData("affine", "scale", "[-1, 1]")]                // loaded, and SPY's scenarios came out mirrored
    [InlineData("conditions", "std", "[0]")]                  // loaded, and every condition was refused as ∞ training sd away
    [InlineData("state_scale", "levels", "[]")]               // loaded, and a request without the level threw ArgumentOutOfRangeException
    [InlineData("state_scale", "levels", "[0, 10]")]
    [InlineData("state_scale", "reference", "0")]             // loaded, and the scenarios were ±Infinity
    [InlineData("state_scale", "reference", "-20")]
    [InlineData("state_scale", "feature", "\"DFF\"")]         // loaded, and no request could set the level
    public void Load_AManifestWhoseNumbersTheModelCannotUse_IsModelInvalid(string part, string key, string value)
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        string folder = Path.Combine(_dir, $"{part}-{key}-{Math.Abs(value.GetHashCode())}");
        g.Save(folder);
        string path = Path.Combine(folder, "manifest.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        root[part]![key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder));
        Assert.Equal(("model-invalid", new InputLocation(folder, 0, 0)), (e.Rule, e.Location));
        Assert.Contains($"{part}.{key}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRefusals_NameTheRule()
    {
        var (returns, conditions) = Data();
        // session 29: Fit called directly (no SequenceTraining.Train before it) refuses conditions without the feature by
        // Train's check, in its words: the library's, and each shell's (it named --state and --state-columns)
        var none = Assert.Throws<SequenceOptionException>(() => new SequenceGenerator(Tiny).Fit(returns));
        Assert.Equal((SequenceGenerator.StateScaleRule, (InputLocation?)null), (none.Rule, none.Location));
        Assert.Equal("state_scale VIXCLS scales each window by its state's VIXCLS, but no state was given (a state file)", none.Message);
        Assert.Equal("<StateScale> VIXCLS scales each window by its state's VIXCLS, but no state was given (<State>)", none.Worded(MarkedOptionNames.Instance).Message);
        var other = new TimeSeriesFrame(conditions.Dates, ["DFF"], [.. conditions.Values]);
        var without = Assert.Throws<SequenceOptionException>(() => new SequenceGenerator(Tiny).Fit(returns, other));
        Assert.Equal(SequenceGenerator.StateScaleRule, without.Rule);
        Assert.Equal("state_scale VIXCLS is not among the condition features (DFF): add it to the state columns", without.Message);
        Assert.Equal("<StateScale> VIXCLS is not among the condition features (DFF): add it to <StateColumns>", without.Worded(MarkedOptionNames.Instance).Message);
        var negative = new TimeSeriesFrame(conditions.Dates, ["VIXCLS"], [.. conditions.Values.Select((v, i) => i == 7 ? -1 : v)]);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny).Fit(returns, negative));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        Assert.Contains("> 0", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SequenceGenerator(Tiny with { StateScale = "RV20" }));

        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        e = Assert.Throws<InvalidInputException>(() => g.Sample(5, 1, At(0)));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        // moves are constraints on the returns: they need the one s of a requested level
        e = Assert.Throws<InvalidInputException>(() => g.Generate(5, 1, new SequenceSampleRequest(Stress: "SPY<=-5%", Sampler: new SamplerOptions(Steps: 4))));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        // located at the first move of the specification (the --stress option), saying what to add; CheckRequest refuses it before any sampling
        Assert.Equal(new InputLocation("--stress", 1, 1), e.Location);
        Assert.Contains("the move SPY<=-5% is a constraint on the returns", e.Message, StringComparison.Ordinal);
        Assert.Contains("add a level, VIXCLS=VALUE as a condition or in the specification", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidInputException>(() => g.CheckRequest(new SequenceSampleRequest(Stress: "mean(SPY,TLT)<=-3%")));
        Assert.Equal(new InputLocation("--stress", 1, 1), e.Location);
        Assert.Contains("the move mean(SPY,TLT)<=-3%", e.Message, StringComparison.Ordinal);
        g.CheckRequest(new SequenceSampleRequest(Stress: "SPY<=-5%, VIXCLS=40"));
        Assert.NotNull(g.Generate(5, 1, new SequenceSampleRequest(Stress: "SPY<=-5%, VIXCLS=40", Sampler: new SamplerOptions(Steps: 4))));
    }

    private SequenceState State(string header)
    {
        var csv = new StringBuilder($"Date,{header}\n");
        var rng = new Random(8);
        foreach (var d in TestDates.Weekdays(new DateOnly(2020, 6, 1), 300))
            csv.Append(CultureInfo.InvariantCulture, $"{d:yyyy-MM-dd},{15 + (20 * rng.NextDouble()):F2},{0.1 + rng.NextDouble():F2}\n");
        var path = Path.Combine(_dir, header.Replace(',', '-') + ".csv");
        File.WriteAllText(path, csv.ToString());
        return SequenceState.Load(path);
    }

    private static TimeSeriesFrame Returns()
    {
        var rng = new Random(6);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 80);
        var values = new double[80 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * 0.03;
        return new TimeSeriesFrame([.. dates], ["A", "B"], values);
    }

    [Fact]
    public void Train_RefusesAStateWithoutTheScaleColumn_NamingTheStateFile()
    {
        var returns = Returns();
        var state = State("OTHER,DFF");
        var e = Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(returns, returns, Tiny, state, ["VIXCLS"]));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        Assert.Equal(state.Path, e.Location!.File);
        Assert.Equal("state_scale VIXCLS needs the state column VIXCLS, which the state file lacks (it has OTHER, DFF)", e.Message);
        // session 28: each shell names the option its own way (a job's config.state_scale), rule and location kept
        var worded = e.Worded(MarkedOptionNames.Instance);
        Assert.Equal((e.Rule, e.Location, "<StateScale> VIXCLS needs the state column VIXCLS, which the state file lacks (it has OTHER, DFF)"),
            (worded.Rule, worded.Location, worded.Message));

        e = Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(returns, returns, Tiny, State("VIXCLS,DFF"), ["DFF"]));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        Assert.Equal("state_scale VIXCLS is not among the condition features (DFF): add it to the state columns", e.Message);
        Assert.Equal("<StateScale> VIXCLS is not among the condition features (DFF): add it to <StateColumns>", e.Worded(MarkedOptionNames.Instance).Message);

        e = Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(returns, returns, Tiny));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        Assert.Null(e.Location);
        Assert.Equal("state_scale VIXCLS scales each window by its state's VIXCLS, but no state was given (a state file)", e.Message);
        Assert.Equal("<StateScale> VIXCLS scales each window by its state's VIXCLS, but no state was given (<State>)", e.Worded(MarkedOptionNames.Instance).Message);
    }

    [Fact]
    public void UnderDp_TheReferenceIsThePublicStatesMean_AndTheStatementRecordsTheScaling()
    {
        var returns = Returns();
        var state = State("VIXCLS,DFF");
        var end = returns.Dates[^1];
        var options = Tiny.WithPrivacy(new DpTrainingOptions { NoiseMultiplier = 3, Delta = 1e-4, PublicState = true })
            with { Training = new TrainerOptions(Steps: 4, BatchSize: 8, LearningRate: 2e-3, WarmupSteps: 1) };
        var g = SequenceTraining.Train(returns, returns, options, state, ["VIXCLS", "DFF"], publicStateEnd: end).Generator;
        var publicRows = EconomicState.BuildPublic(state.Frame, ["VIXCLS", "DFF"], end);
        double mean = Enumerable.Range(0, publicRows.RowCount).Average(r => publicRows[r, 0]);
        Assert.Equal(mean, g.Manifest.StateScale!.Reference, 1e-12);
        Assert.Contains("state_scale", g.Manifest.Privacy!.Statement, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"VIXCLS / {mean:G6}"), g.Manifest.Privacy.Statement, StringComparison.Ordinal);

        // a neighbouring training set (one day's returns changed) gives the same scaling: nothing of it reads the returns
        var values = returns.Values.ToArray();
        values[10] += 0.05;
        var neighbour = SequenceTraining.Train(new TimeSeriesFrame(returns.Dates, returns.Columns, values), returns, options, state, ["VIXCLS", "DFF"], publicStateEnd: end).Generator;
        Assert.Equal(g.Manifest.StateScale.Reference, neighbour.Manifest.StateScale!.Reference);
        Assert.Equal(g.Manifest.StateScale.Levels, neighbour.Manifest.StateScale.Levels);
    }
}
