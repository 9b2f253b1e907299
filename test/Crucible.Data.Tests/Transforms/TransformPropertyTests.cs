using Crucible.Data.Transforms;
using FsCheck;
using FsCheck.Fluent;

namespace Crucible.Data.Tests.Transforms;

/// <summary>Property tests: Inverse(Forward(x)) ≈ x for every transform, and pipelines round-trip through JSON exactly.</summary>
public class TransformPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(200);

    /// <summary>Frames of 5–80 rows × 1–4 columns, values lo/scale … hi/scale, made distinct per column by a small ramp.</summary>
    private static Arbitrary<TimeSeriesFrame> Frames(int lo, int hi, double scale) =>
        (from rows in Gen.Choose(5, 80)
         from cols in Gen.Choose(1, 4)
         from raw in Gen.Choose(lo, hi).ArrayOf(rows * cols)
         select MakeFrame(rows, cols, raw.Select((v, i) => v / scale + (i / cols) * 1e-7).ToArray())).ToArbitrary();

    private static TimeSeriesFrame MakeFrame(int rows, int cols, double[] values)
    {
        var dates = Enumerable.Range(0, rows).Select(i => new DateOnly(2001, 1, 1).AddDays(i)).ToArray();
        return new TimeSeriesFrame(dates, Enumerable.Range(0, cols).Select(c => $"S{c}").ToArray(), values);
    }

    private static bool Close(TimeSeriesFrame expected, TimeSeriesFrame actual, double relative)
    {
        if (expected.RowCount != actual.RowCount || !expected.Dates.SequenceEqual(actual.Dates)) return false;
        for (var i = 0; i < expected.Values.Length; i++)
        {
            if (Math.Abs(expected.Values[i] - actual.Values[i]) > relative * (1 + Math.Abs(expected.Values[i]))) return false;
        }

        return true;
    }

    private static bool RoundTrips(ISeriesTransform t, TimeSeriesFrame x, double tolerance)
    {
        t.Fit(x);
        return Close(x, t.Inverse(t.Forward(x)), tolerance);
    }

    [Fact]
    public void LogReturn_Prices_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(1, 1_000_000, 100.0), x => RoundTrips(new LogReturnTransform(InputKind.Prices), x, 1e-11))
            .Check(Runs);

    [Fact]
    public void LogReturn_SimpleReturns_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(-99_000, 300_000, 100_000.0), x => RoundTrips(new LogReturnTransform(InputKind.SimpleReturns), x, 1e-12))
            .Check(Runs);

    [Fact]
    public void LogReturn_PercentReturns_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(-9_900, 30_000, 100.0), x => RoundTrips(new LogReturnTransform(InputKind.PercentReturns), x, 1e-12))
            .Check(Runs);

    [Fact]
    public void LogReturn_LogReturns_IsIdentity() =>
        Prop.ForAll(Frames(-500_000, 500_000, 100_000.0), x => RoundTrips(new LogReturnTransform(InputKind.LogReturns), x, 0))
            .Check(Runs);

    [Fact]
    public void StandardScaler_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(-1_000_000, 1_000_000, 1_000.0), x => RoundTrips(new StandardScaler(), x, 1e-12)).Check(Runs);

    // values near double.MaxValue overflowed the sum (mean ∞: every output −∞ or NaN) or the sum of squares (sd ∞, then
    // scale 1 silently: nothing standardised); both are computed on scaled values when they overflow
    [Fact]
    public void StandardScaler_ValuesNearDoubleMax_AreStandardised()
    {
        var t = new StandardScaler();
        t.Fit(MakeFrame(2, 1, [1.5e308, 1.5e308]));
        Assert.Equal(1.5e308, t.Mean[0]);
        Assert.Equal([0.0], t.Forward(MakeFrame(1, 1, [1.5e308])).Values);

        t.Fit(MakeFrame(2, 1, [1e308, -1e308]));
        Assert.Equal((0.0, 1e308), (t.Mean[0], t.Scale[0]));
        Assert.Equal([1.0, -1.0], t.Forward(MakeFrame(2, 1, [1e308, -1e308])).Values);
    }

    // values of magnitude 1e-150 … 1e-300 underflowed the squared deviations (below 2.2e-308 they lose bits, below 5e-324
    // they are 0): a column that varies got a wrong scale, or scale 1 as if it were constant (nothing standardised); the
    // deviations are now scaled by the largest magnitude before squaring when the sum of squares is that small
    [Theory]
    [InlineData(1e-150)]
    [InlineData(1e-160)]
    [InlineData(1e-200)]
    [InlineData(1e-250)]
    [InlineData(1e-300)]
    public void StandardScaler_TinyValues_AreStandardised(double unit)
    {
        var t = new StandardScaler();
        t.Fit(MakeFrame(4, 1, [1 * unit, 3 * unit, 1 * unit, 3 * unit]));
        Assert.Equal(1.0, t.Scale[0] / unit, 14);
        var z = t.Forward(MakeFrame(2, 1, [1 * unit, 3 * unit])).Values;
        Assert.Equal(-1.0, z[0], 14);
        Assert.Equal(1.0, z[1], 14);
    }

    // the scale-robust form is taken only where the squares underflow: on ordinary data (prices, returns, the demo's
    // returns) the scale is, bit for bit, the population standard deviation as it was always computed
    [Fact]
    public void StandardScaler_OrdinaryData_ScaleIsBitForBitThePlainFormula()
    {
        static bool SameAsPlainFormula(TimeSeriesFrame x)
        {
            var t = new StandardScaler();
            t.Fit(x);
            for (var c = 0; c < x.ColumnCount; c++)
            {
                var col = x.Column(c);
                var mean = col.Average();
                var ss = 0.0;
                foreach (var v in col) ss += (v - mean) * (v - mean);
                var sd = Math.Sqrt(ss / col.Length);
                if (BitConverter.DoubleToInt64Bits(t.Mean[c]) != BitConverter.DoubleToInt64Bits(mean)) return false;
                if (BitConverter.DoubleToInt64Bits(t.Scale[c]) != BitConverter.DoubleToInt64Bits(sd > 0 ? sd : 1.0)) return false;
            }

            return true;
        }

        Prop.ForAll(Frames(1, 1_000_000, 100.0), SameAsPlainFormula).Check(Runs);          // prices
        Prop.ForAll(Frames(-50_000, 50_000, 1_000_000.0), SameAsPlainFormula).Check(Runs); // daily returns
        Prop.ForAll(Frames(-5, 5, 1e12), SameAsPlainFormula).Check(Runs);                  // tiny returns (±5e-12)
        Assert.True(SameAsPlainFormula(DemoData.Load().Returns));
    }

    [Fact]
    public void QuantileNormal_InverseOfForwardIsIdentity_InsideAndBeyondTrainRange() =>
        Prop.ForAll(Frames(-1_000_000, 1_000_000, 1_000.0), x =>
        {
            var t = new QuantileNormalTransform(maxKnots: 50);
            t.Fit(x);
            var beyond = x.WithValues(x.Values.Select(v => v * 3 + 17).ToArray()); // partly outside the train range
            return Close(x, t.Inverse(t.Forward(x)), 1e-9) && Close(beyond, t.Inverse(t.Forward(beyond)), 1e-9);
        }).Check(Runs);

    [Fact]
    public void QuantileNormal_IsMonotoneAndGaussianAtKnots()
    {
        var values = Enumerable.Range(0, 1000).Select(i => Math.Pow(i - 500, 3)).ToArray(); // heavy tails
        var frame = MakeFrame(1000, 1, values);
        var t = new QuantileNormalTransform();
        t.Fit(frame);
        var z = t.Forward(frame).Values;
        for (var i = 1; i < z.Length; i++) Assert.True(z[i] > z[i - 1]);
        Assert.Equal(Data.Statistics.NormalDistribution.InvCdf(0.5 / 1000), z[0], 12);
        Assert.Equal(0.0, z[500], 2);
    }

    // knots more than double.MaxValue apart (a train column spanning −1e308 … 1e308): the span overflowed to ∞, the slope
    // was 0 forward (every value mapped to the first knot's z, the last knot itself to NaN) and ∞ inverse (NaN)
    [Fact]
    public void QuantileNormal_KnotsFartherApartThanDoubleMax_InterpolateFinitely()
    {
        var t = new QuantileNormalTransform();
        t.Fit(MakeFrame(2, 1, [-1e308, 1e308]));
        double z0 = Data.Statistics.NormalDistribution.InvCdf(0.25), z1 = -z0;
        var forward = t.Forward(MakeFrame(4, 1, [-1e308, 0, 1e308, -5e307])).Values;
        Assert.Equal([z0, 0.0, z1], forward[..3]);
        Assert.Equal(z0 / 2, forward[3], 15);
        var inverse = t.Inverse(MakeFrame(4, 1, [z0, 0, z1, z0 / 2])).Values;
        Assert.Equal([-1e308, 0.0, 1e308], inverse[..3]);
        Assert.True(Math.Abs(inverse[3] - -5e307) <= 1e-15 * 5e307, $"{inverse[3]:R}");
    }

    [Fact]
    public void VolatilityScaler_Ewma_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(-100_000, 100_000, 1_000_000.0), x => RoundTrips(new VolatilityScaler(VolatilityMethod.Ewma), x, 1e-10))
            .Check(Runs);

    [Fact]
    public void VolatilityScaler_Rolling_InverseOfForwardIsIdentity() =>
        Prop.ForAll(Frames(-100_000, 100_000, 1_000_000.0), x => RoundTrips(new VolatilityScaler(VolatilityMethod.Rolling, window: 5), x, 1e-10))
            .Check(Runs);

    [Fact]
    public void VolatilityScaler_IsCausal()
    {
        var x = MakeFrame(50, 1, Enumerable.Range(0, 50).Select(i => Math.Sin(i) * 0.01).ToArray());
        var t = new VolatilityScaler();
        t.Fit(x);
        var changed = x.Values.ToArray();
        changed[30] = 0.5; // a shock at t = 30 must not change sigma at t <= 30
        var s1 = t.Sigma(x);
        var s2 = t.Sigma(x.WithValues(changed));
        Assert.Equal(s1[..31], s2[..31]);
        Assert.NotEqual(s1[31], s2[31]);
    }

    [Theory]
    [InlineData(VolatilityMethod.Ewma)]
    [InlineData(VolatilityMethod.Rolling)]
    public void VolatilityScaler_ANaNReturn_IsNaNItself_AndLeavesTheRestOfItsColumnAlone(VolatilityMethod method)
    {
        // one NaN made the running volatility NaN for every later row of the column
        var x = MakeFrame(50, 1, Enumerable.Range(0, 50).Select(i => Math.Sin(i) * 0.01).ToArray());
        var t = new VolatilityScaler(method, window: 5);
        t.Fit(x);
        var holed = x.Values.ToArray();
        holed[20] = double.NaN;
        var sigma = t.Sigma(x.WithValues(holed));
        var y = t.Forward(x.WithValues(holed)).Values;
        Assert.True(double.IsNaN(y[20]));
        Assert.All(sigma, s => Assert.True(double.IsFinite(s) && s > 0));
        Assert.All(y.Where((_, i) => i != 20), v => Assert.True(double.IsFinite(v)));
        Assert.Equal(t.Sigma(x)[..21], sigma[..21]); // causal: nothing before it moves
        if (method == VolatilityMethod.Ewma) Assert.Equal(sigma[20], sigma[21]); // the estimate stays where it was
    }

    [Theory]
    [InlineData(VolatilityMethod.Ewma)]
    [InlineData(VolatilityMethod.Rolling)]
    public void VolatilityScaler_ReturnsAbove1e154_DoNotOverflowTheVolatility(VolatilityMethod method)
    {
        // r² overflowed to ∞ above about 1e154: σ = ∞ and every later scaled value 0
        var x = MakeFrame(50, 1, Enumerable.Range(0, 50).Select(i => Math.Sin(i) * 0.01).ToArray());
        var t = new VolatilityScaler(method, window: 5);
        t.Fit(x);
        var huge = x.Values.ToArray();
        for (var i = 10; i < 50; i++) huge[i] = (i % 2 == 0 ? 1 : -1) * 1e200;
        var y = t.Forward(x.WithValues(huge)).Values;
        Assert.All(t.Sigma(x.WithValues(huge)), s => Assert.True(double.IsFinite(s) && s > 0));
        Assert.InRange(Math.Abs(y[^1]), 0.5, 2); // a steady ±1e200 scales to about ±1
        var back = t.Inverse(x.WithValues(y)).Values;
        for (var i = 0; i < 50; i++) Assert.Equal(huge[i], back[i], Math.Abs(huge[i]) * 1e-12);
        // a train set whose mean square is beyond double range is refused, not fitted as σ = ∞
        var e = Assert.Throws<InvalidInputException>(() => new VolatilityScaler(method).Fit(MakeFrame(5, 1, [1e200, -1e200, 1e200, 1e200, 1e200])));
        Assert.Contains("too large", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_JsonRoundTripIsExact_AndInverts() =>
        Prop.ForAll(Frames(-9_000, 9_000, 100.0), x =>
        {
            var pipeline = new TransformPipeline(new LogReturnTransform(InputKind.PercentReturns), new StandardScaler(),
                new QuantileNormalTransform(64), new VolatilityScaler());
            var transformed = pipeline.Fit(x);
            var json = pipeline.ToJson();
            var restored = TransformPipeline.FromJson(json);
            var again = restored.Forward(x);
            return restored.ToJson() == json
                && again.Values.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(transformed.Values.Select(BitConverter.DoubleToInt64Bits))
                && Close(x, restored.Inverse(again), 1e-8);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(100));

    // a pipeline read back from a model manifest (not covered by the weights' hash) with a broken state threw FormatException,
    // NullReferenceException, ArgumentException, or IndexOutOfRangeException only later in Forward/Inverse (one knot), or
    // mapped every value to NaN (a zero scale); each is refused when read, as TRANSFORM-E
    [Theory]
    [InlineData("""{"version":1}""")]
    [InlineData("""{"version":1,"transforms":[null]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"StandardScaler","arrays":{"mean":[1],"scale":[1]},"settings":{}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"StandardScaler","columns":["A"],"settings":{}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"StandardScaler","columns":["A"],"arrays":{"mean":[1],"scale":[1]}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"StandardScaler","columns":["A"],"arrays":{"mean":[1],"scale":[0]},"settings":{}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"StandardScaler","columns":["A"],"arrays":{"mean":[1],"scale":[-2]},"settings":{}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[1],"z0":[0]},"settings":{"max_knots":"1000"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[],"z0":[]},"settings":{"max_knots":"1000"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[2,1],"z0":[0,1]},"settings":{"max_knots":"1000"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[1,2],"z0":[1,1]},"settings":{"max_knots":"1000"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[1,2],"z0":[0,1]},"settings":{"max_knots":"x"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[1,2],"z0":[0,1]},"settings":{"max_knots":"1"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"QuantileNormal","columns":["A"],"arrays":{"x0":[1,2,3],"z0":[0,1,2]},"settings":{"max_knots":"2"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"LogReturn","columns":["A"],"arrays":{},"settings":{"input":"Bogus"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"LogReturn","columns":["A"],"arrays":{},"settings":{"input":"7"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"LogReturn","columns":["A"],"arrays":{"anchor":[1]},"settings":{"input":"Prices","anchor_date":"x"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"LogReturn","columns":["A"],"arrays":{},"settings":{"input":"Prices"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"LogReturn","columns":["A"],"arrays":{"anchor":[0]},"settings":{"input":"Prices"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"VolatilityScaler","columns":["A"],"arrays":{"initial_variance":[1]},"settings":{"method":"Ewma","lambda":"2","window":"20"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"VolatilityScaler","columns":["A"],"arrays":{"initial_variance":[1]},"settings":{"method":"X","lambda":"0.5","window":"20"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"VolatilityScaler","columns":["A"],"arrays":{"initial_variance":[1]},"settings":{"method":"Rolling","lambda":"0.5","window":"1"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"VolatilityScaler","columns":["A"],"arrays":{"initial_variance":[1]},"settings":{"method":"Ewma","lambda":"0,5","window":"20"}}]}""")]
    [InlineData("""{"version":1,"transforms":[{"kind":"VolatilityScaler","columns":["A"],"arrays":{"initial_variance":[-1]},"settings":{"method":"Ewma","lambda":"0.5","window":"20"}}]}""")]
    public void Pipeline_BrokenStateFromJson_IsRefusedWhenRead(string json)
    {
        var e = Assert.Throws<InvalidInputException>(() => TransformPipeline.FromJson(json));
        Assert.Equal(Data.Csv.CsvRules.Transform, e.Rule);
    }

    [Fact]
    public void Transform_UsedBeforeFit_Throws()
    {
        var x = MakeFrame(3, 1, [1, 2, 3]);
        var e = Assert.Throws<InvalidInputException>(() => new StandardScaler().Forward(x));
        Assert.Equal(Data.Csv.CsvRules.Transform, e.Rule);
    }

    [Fact]
    public void Transform_FrozenAfterFit_HoldoutDoesNotChangeState()
    {
        var train = MakeFrame(4, 1, [1, 2, 3, 4]);
        var t = new StandardScaler();
        t.Fit(train);
        var before = t.ToState();
        _ = t.Forward(MakeFrame(2, 1, [100, 200]));
        Assert.Equal(before.Arrays["mean"], t.ToState().Arrays["mean"]);
        Assert.Equal(2.5, t.Mean[0]);
        Assert.Equal(Math.Sqrt(1.25), t.Scale[0], 15);
    }
}
