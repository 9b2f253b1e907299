using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Random;

public class SpecialFunctionsTests
{
    // Reference values: CPython's math.erfc / math.erf (libm), printed with repr; they agree with tables of erfc.
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.3, 0.6713732405408726)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(2.0, 0.004677734981047266)]
    [InlineData(3.0, 2.2090496998585438e-05)]
    [InlineData(5.0, 1.5374597944280351e-12)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(-0.3, 1.3286267594591274)]
    [InlineData(-1.0, 1.842700792949715)]
    public void Erfc_MatchesReferenceToRelative1e14(double x, double expected)
    {
        double actual = SpecialFunctions.Erfc(x);
        Assert.True(Math.Abs(actual - expected) <= 1e-14 * Math.Abs(expected),
            $"erfc({x}) = {actual:R}, expected {expected:R}, rel err {Math.Abs(actual - expected) / expected:E2}");
    }

    [Theory]
    [InlineData(0.3, 0.3286267594591274)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(-1.0, -0.8427007929497149)]
    public void Erf_MatchesReferenceToRelative1e15(double x, double expected)
    {
        double actual = SpecialFunctions.Erf(x);
        Assert.True(Math.Abs(actual - expected) <= 1e-15 * Math.Abs(expected), $"erf({x}) = {actual:R}, expected {expected:R}");
    }

    [Fact]
    public void Erfc_IsZeroBeyondUnderflowAndNaNPropagates()
    {
        Assert.Equal(0.0, SpecialFunctions.Erfc(30.0));
        Assert.Equal(2.0, SpecialFunctions.Erfc(-30.0));
        Assert.True(double.IsNaN(SpecialFunctions.Erfc(double.NaN)));
        Assert.True(double.IsNaN(SpecialFunctions.Erf(double.NaN)));
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.96, 0.9750021048517795)]
    public void NormalCdf_MatchesReference(double x, double expected) =>
        Assert.Equal(expected, SpecialFunctions.NormalCdf(x), 1e-15);

    [Fact]
    public void NormalCdf_IsSymmetric()
    {
        for (double x = -8; x <= 8; x += 0.125)
            Assert.Equal(1.0, SpecialFunctions.NormalCdf(x) + SpecialFunctions.NormalCdf(-x), 1e-15);
    }
}
