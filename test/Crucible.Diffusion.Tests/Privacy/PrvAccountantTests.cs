using System.Numerics;
using Crucible.Diffusion.Privacy;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>The PRV accountant against Opacus's test_prv_accountant (RELIABILITY.md §2.2 A2) and basic properties.</summary>
public class PrvAccountantTests
{
    [Fact]
    public void A2_OpacusPrvAccountant_6p777395712150674()
    {
        // Opacus's test takes int(90 // 0.04) = 2249 steps (floor division of floats), eps_error 0.01, delta_error δ/1000.
        var accountant = new PrvAccountant();
        accountant.Step(1.5, 0.04, 2249);
        Assert.Equal(6.777395712150674, accountant.GetEpsilon(1e-5), 5e-8);
    }

    [Fact]
    public void Prv_RefusesWhatIsNoPrivacyQuestion_AndAStepCountPastLongMaxValue()
    {
        var accountant = new PrvAccountant();
        accountant.Step(1.5, 0.04, 100);
        // δ ≥ 1 gave a number, as if it were a privacy statement
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(1e-5, epsError: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(1e-5, deltaError: 1e-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrvAccountant().GetEpsilon(2)); // an empty history too

        // the merged segment's count wrapped to a negative number
        accountant.Step(1.5, 0.04, long.MaxValue - 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(1.5, 0.04, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(2.0, 0.04, 1));
        Assert.Equal(long.MaxValue, accountant.History.Sum(h => h.Steps));
    }

    [Theory]
    [InlineData(double.NaN, 0.04)]
    [InlineData(-1.0, 0.04)]
    [InlineData(double.PositiveInfinity, 0.04)]
    [InlineData(90.0, 0.0)]
    [InlineData(90.0, double.NaN)]
    [InlineData(90.0, 1.5)]
    [InlineData(1e300, 1e-10)]
    public void StepsForEpochs_RefusesWhatGivesNoCount(double epochs, double q)
    {
        // (long)(NaN) and (long)(1e310) gave arbitrary counts; q = 0 gave long.MinValue
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseCalibration.StepsForEpochs(epochs, q));
    }

    [Fact]
    public void StepsForEpochs_IsOpacusesIntOfEpochsOverQ() => Assert.Equal((2250L, 0L, 100L),
        (NoiseCalibration.StepsForEpochs(90, 0.04), NoiseCalibration.StepsForEpochs(0, 0.5), NoiseCalibration.StepsForEpochs(1, 0.01)));

    [Fact]
    public async Task A2_PrvDomainBeyondExpOverflow_Returns_AndStaysBelowRdp()
    {
        // σ = 0.03, q = 0.01, one step: the domain is ±742 and e^742 overflows; erfc(∞) was NaN, so the truncated CDF was NaN
        // and the mean's adaptive quadrature split every interval to depth ~47 (σ = 0.1 over 100 steps ran for 10+ minutes)
        var accountant = new PrvAccountant();
        accountant.Step(0.03, 0.01, 1);
        var eps = await Task.Run(() => accountant.GetEpsilon(1e-5)).WaitAsync(TimeSpan.FromSeconds(60));
        var rdp = new RdpAccountant();
        rdp.Step(0.03, 0.01, 1);
        Assert.InRange(eps, 1.0, rdp.GetEpsilon(1e-5).Epsilon);
    }

    [Theory]
    [InlineData(0.01, 0.01, 1000L)]
    [InlineData(0.1, 0.01, 1000L)]
    [InlineData(1e-160, 0.01, 10L)]
    public async Task Prv_ANoiseTooSmallForItsGrid_IsRefusedQuickly_NamingTheBound(double sigma, double q, long steps)
    {
        // σ = 0.01 failed "could not align the domain to the mesh" (an internal error); σ = 0.1 took 22 s and 2.8 GB
        var accountant = new PrvAccountant();
        accountant.Step(sigma, q, steps);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<Crucible.Data.InvalidInputException>(() => Task.Run(() => accountant.GetEpsilon(1e-5)).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(PrvAccountant.GridRule, e.Rule);
        Assert.Contains($"more than the {PrvAccountant.MaxGridPoints} it takes", e.Message, StringComparison.Ordinal);
        Assert.Contains("use the RDP accountant", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Theory]
    [InlineData(1e-160)]
    [InlineData(1e-200)]
    [InlineData(double.Epsilon)]
    public void Rdp_ASigmaWhose1Over2SigmaSquaredOverflows_GivesInfiniteEpsilon_NeverAnError(double sigma)
    {
        // σ = 1e-160 used to throw "the fractional-order series did not converge" (∞ − ∞ = NaN in every term)
        foreach (var formula in new[] { RdpFormula.Opacus, RdpFormula.DpAccounting })
        {
            foreach (var alpha in new[] { 1.5, 2.0, 10.9, 63.0 })
                Assert.Equal(double.PositiveInfinity, Rdp.SampledGaussian(0.01, sigma, alpha, formula));
            var accountant = new RdpAccountant(formula == RdpFormula.Opacus ? Rdp.OpacusOrders : Rdp.TfPrivacyOrders, formula);
            accountant.Step(sigma, 0.01, 100);
            Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(1e-5).Epsilon);
        }
    }

    [Theory]
    [InlineData(1e-152)]
    [InlineData(1e-140)]
    [InlineData(1e-20)]
    public void Rdp_ATinySigmaStillInDoublePrecision_GivesAnEnormousEpsilonOrInfinity_NeverAnError(double sigma)
    {
        foreach (var formula in new[] { RdpFormula.Opacus, RdpFormula.DpAccounting })
        {
            var accountant = new RdpAccountant(formula == RdpFormula.Opacus ? Rdp.OpacusOrders : Rdp.TfPrivacyOrders, formula);
            accountant.Step(sigma, 0.01, 100);
            var eps = accountant.GetEpsilon(1e-5).Epsilon;
            Assert.False(double.IsNaN(eps));
            Assert.True(eps > 1e30, $"σ = {sigma}: ε = {eps}");
        }
    }

    [Theory]
    // RELIABILITY.md §2.2, inverse problem: target ε = 8, δ = 1e-5, q = 0.04; σ to 4 places (Opacus accountants_test.py).
    [InlineData(2250L, 1.34765625)]
    [InlineData(2000L, 1.2915)]
    public void NoiseForBudget_Prv_MatchesOpacus(long steps, double expected)
    {
        var sigma = NoiseCalibration.NoiseMultiplier(s =>
        {
            var a = new PrvAccountant();
            a.Step(s, 0.04, steps);
            return a.GetEpsilon(1e-5);
        }, 8);
        Assert.Equal(Math.Round(expected, 4), Math.Round(sigma, 4));
    }

    [Fact]
    public void NoiseForBudget_Gdp_MatchesOpacus()
    {
        var sigma = NoiseCalibration.NoiseMultiplier(s => GdpAccountant.Epsilon(GdpAccountant.Mu(s, 0.04, 2250), 1e-5), 8);
        Assert.Equal(1.3232421875, sigma);
    }

    [Fact]
    public void Prv_IsTighterThanRdp_AndItsBoundsBracketTheEstimate()
    {
        var prv = new PrvAccountant();
        prv.Step(1.5, 0.04, 2249);
        var (lower, estimate, upper) = prv.GetEpsilonBounds(1e-5);
        Assert.True(lower <= estimate && estimate <= upper);
        var rdp = new RdpAccountant();
        rdp.Step(1.5, 0.04, 2249);
        Assert.True(upper < rdp.GetEpsilon(1e-5).Epsilon);
    }

    [Fact]
    public void Prv_HeterogeneousHistory_LiesBetweenItsParts()
    {
        var a = new PrvAccountant();
        a.Step(2.0, 0.02, 300);
        var both = new PrvAccountant();
        both.Step(2.0, 0.02, 300);
        both.Step(1.0, 0.02, 100);
        var b = new PrvAccountant();
        b.Step(2.0, 0.02, 300);
        b.Step(2.0, 0.02, 100);
        Assert.True(a.GetEpsilon(1e-5) < b.GetEpsilon(1e-5));
        Assert.True(b.GetEpsilon(1e-5) < both.GetEpsilon(1e-5)); // less noise in the last 100 steps costs more
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(100)]
    [InlineData(391570)]
    public void Fft_MatchesTheNaiveDft(int n)
    {
        var rng = new System.Random(n);
        var x = Enumerable.Range(0, n).Select(_ => new Complex(rng.NextDouble() - 0.5, rng.NextDouble() - 0.5)).ToArray();
        var fast = Fft.Forward(x);
        var checkAt = n > 1000 ? new[] { 0, 1, 7, n / 3, n - 1 } : Enumerable.Range(0, n).ToArray();
        foreach (var k in checkAt)
        {
            var s = Complex.Zero;
            for (var j = 0; j < n; j++) s += x[j] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((long)j * k % n) / n);
            Assert.True((fast[k] - s).Magnitude <= 1e-9 * Math.Sqrt(n), $"n={n}, k={k}: {fast[k]} vs {s}");
        }

        var back = Fft.Inverse(fast);
        for (var i = 0; i < n; i += Math.Max(1, n / 50)) Assert.True((back[i] - x[i]).Magnitude < 1e-12);
    }
}
