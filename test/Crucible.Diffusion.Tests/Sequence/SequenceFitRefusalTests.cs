using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

/// <summary>
/// What <see cref="SequenceGenerator.Fit"/> refuses, named, before any training (session 13's QA): a constant series
/// (it was sampled as ±1e-8 noise; the tabular generator refuses it too), a ±∞ condition (it was taken as missing, like
/// NaN) and a constant condition feature (its std floor of 1e-12 made every later request "1E+13 training standard
/// deviations" away); and (session 18) a request naming one condition feature twice in different case.
/// </summary>
public class SequenceFitRefusalTests
{
    private static readonly SequenceGeneratorOptions Tiny = new()
    {
        Window = 5, DiffusionSteps = 20, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8,
        Training = new TrainerOptions(Steps: 2, BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1), Seed = 1,
    };

    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data(double? constantB = null, double? conditionAt10 = null, bool constantCondition = false)
    {
        var rng = new System.Random(3);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 40);
        var values = new double[40 * 2];
        var vix = new double[40];
        for (int r = 0; r < 40; r++)
        {
            values[2 * r] = 0.01 * (rng.NextDouble() - 0.5);
            values[(2 * r) + 1] = constantB ?? 0.02 * (rng.NextDouble() - 0.5);
            vix[r] = constantCondition ? 20 : 15 + (r % 7);
        }

        if (conditionAt10 is { } c) vix[10] = c;
        return (new TimeSeriesFrame([.. dates], ["SPY", "TLT"], values), new TimeSeriesFrame([.. dates], ["VIXCLS"], vix));
    }

    [Theory]
    [InlineData(SequenceTransform.None, 0.0)]
    [InlineData(SequenceTransform.None, 0.001)]
    [InlineData(SequenceTransform.Standardize, 0.0)]
    public void AConstantSeries_IsRefusedAtFit_NamingIt(SequenceTransform transform, double value)
    {
        var (returns, _) = Data(constantB: value);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny with { Transform = transform }).Fit(returns));
        Assert.Equal("constant-series", e.Rule);
        Assert.Contains("series 'TLT' does not vary: every one of its 40 training returns is", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scenario")]
    [InlineData("step")]
    public void ASeriesNamedAsAScenarioFileColumn_IsRefusedAtFit_NamingIt(string name)
    {
        // it trained, and generate wrote "scenario,step,…,step", a header every reader of scenario files refuses
        var (returns, _) = Data();
        var renamed = new TimeSeriesFrame([.. returns.Dates], ["SPY", name], returns.Values);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny).Fit(renamed));
        Assert.Equal("reserved-column", e.Rule);
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASeriesThatFloat32FlushesToOneValue_IsRefusedAtFit_NamingIt()
    {
        // returns of about 1e-300 vary in float64 but are all 0 once mapped to the network's float32 model space (no
        // transform: scale 1): the network saw a constant series and the scenarios came out as ±1e-8 noise, 1e292 times
        // the data's size, without a word
        var (returns, _) = Data();
        var values = returns.Values.ToArray();
        for (int r = 0; r < returns.RowCount; r++) values[(2 * r) + 1] *= 1e-300;
        var tiny = new TimeSeriesFrame([.. returns.Dates], ["SPY", "TLT"], values);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny).Fit(tiny));
        Assert.Equal("model-space-range", e.Rule);
        Assert.Contains("series 'TLT'", e.Message, StringComparison.Ordinal);
        Assert.Contains("one value in float32", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+∞")]
    [InlineData(double.NegativeInfinity, "−∞")]
    public void AnInfiniteCondition_IsRefusedNamingItsColumnAndDate(double value, string shown)
    {
        var (returns, conditions) = Data(conditionAt10: value);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny).Fit(returns, conditions));
        Assert.Equal("condition-value", e.Rule);
        Assert.Contains($"condition 'VIXCLS' is {shown} on 2021-01-18 (condition row 10): a condition must be finite, or missing (NaN)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANaNCondition_IsStillAMissingOne()
    {
        var (returns, conditions) = Data(conditionAt10: double.NaN);
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        Assert.Equal(["VIXCLS"], g.Manifest.Conditions.Names);
    }

    [Fact]
    public void AConstantConditionFeature_IsRefusedAtFit_NamingIt()
    {
        var (returns, conditions) = Data(constantCondition: true);
        var e = Assert.Throws<ConstantConditionException>(() => new SequenceGenerator(Tiny).Fit(returns, conditions));
        Assert.Equal("constant-condition", e.Rule);
        Assert.Contains("condition 'VIXCLS' does not vary: it is 20 in every one of the 36 conditioned training windows (condition dates 2021-01-04 .. 2021-02-22)", e.Message, StringComparison.Ordinal);
        // the feature and the dates, for the caller that read the state file to name its column and rows
        Assert.Equal(("VIXCLS", new DateOnly(2021, 1, 4), new DateOnly(2021, 2, 22)), (e.Feature, e.From, e.To));
    }

    [Theory]
    [InlineData(SequenceTransform.None, 1e39, 7)]          // the default transform: the value itself leaves float32 (first in window 3, step 4)
    [InlineData(SequenceTransform.Standardize, 1e200, 0)]  // the standard deviation overflows: every window became 0
    public void AFiniteReturnBeyondTheNetworksFloatRange_IsRefusedAtFit_NamingIt(SequenceTransform transform, double huge, int firstRow)
    {
        var (returns, _) = Data();
        var values = (double[])returns.Values.Clone();
        values[(2 * 7) + 1] = huge;
        var frame = new TimeSeriesFrame(returns.Dates, returns.Columns, values);
        var e = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Tiny with { Transform = transform }).Fit(frame));
        Assert.Equal("model-space-range", e.Rule);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"series 'TLT': its training returns (largest {huge:G6}, row 7) leave the float32 range"),
            e.Message, StringComparison.Ordinal);
        Assert.Contains($"first at row {firstRow})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFeatureNamedTwiceInARequest_IsRefused_NotTheLastValueSilently()
    {
        // condition names ignore case, so {"VIXCLS": 30, "vixcls": 20} (the service's JSON object, an ordinal dictionary)
        // names one feature twice; it sampled under whichever came last and recorded that one
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var twice = new Dictionary<string, double>(StringComparer.Ordinal) { ["VIXCLS"] = 30, ["vixcls"] = 20 };
        foreach (Action call in new Action[]
        {
            () => g.Sample(2, 1, new SequenceSampleRequest(twice)),
            () => g.Generate(2, 1, new SequenceSampleRequest(twice)),
            () => g.CheckRequest(new SequenceSampleRequest(twice)),
            () => g.Generate(2, 1, new SequenceSampleRequest(twice, Stress: "SPY<=-1%")),
        })
        {
            var e = Assert.Throws<InvalidInputException>(call);
            Assert.Equal("condition-name", e.Rule);
            Assert.Contains("is given twice (names ignore case)", e.Message, StringComparison.Ordinal);
        }

        // a name set by the stress specification and by the request is still the conflict it was
        var both = Assert.Throws<InvalidInputException>(() => g.Generate(2, 1,
            new SequenceSampleRequest(new Dictionary<string, double> { ["vixcls"] = 20 }, Stress: "VIXCLS=30")));
        Assert.Equal("condition-conflict", both.Rule);
        Assert.Equal(30, g.Generate(2, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["vixcls"] = 30 })).Metadata.Conditions!["VIXCLS"]);
    }
}
