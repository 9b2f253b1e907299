using Crucible.Diffusion.Privacy;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>The golden values of RELIABILITY.md §2.2 (DP-1, DP-2, DP-3, DP-4), each to its stated tolerance.</summary>
public class RdpAccountantTests
{
    private static IReadOnlyList<double> IntOrders(int from, int to) => Enumerable.Range(from, to - from + 1).Select(i => (double)i).ToArray();

    [Fact]
    public void A1_OpacusRdpAccountant_7p32911117143_AtOrder3p9()
    {
        var accountant = new RdpAccountant();
        accountant.Step(1.5, 0.04, NoiseCalibration.StepsForEpochs(90, 0.04));
        Assert.Equal(2250, accountant.Steps);
        var spent = accountant.GetEpsilon(1e-5);
        Assert.Equal(7.32911117143, spent.Epsilon, 5e-8);
        Assert.Equal(3.9, spent.BestOrder);
        Assert.False(spent.OrderOnBoundary);
    }

    [Theory]
    // TF Privacy compute_dp_sgd_privacy_test.py Test0..Test2: (σ, q, steps, δ) → ε at the exact best order.
    [InlineData(1.3, 0.0025, 6000L, 1e-5, 0.7242234026109595, 19.0)]
    [InlineData(1.0, 0.001, 30000L, 1e-7, 1.4154988495444842, 13.0)]
    [InlineData(0.1, 1.024e-5, 976563L, 1e-7, 5907982.3113984, 1.25)]
    public void A4toA6_TfPrivacyGoldenValues(double sigma, double q, long steps, double delta, double epsilon, double order)
    {
        var accountant = new RdpAccountant(Rdp.TfPrivacyOrders, RdpFormula.DpAccounting);
        accountant.Step(sigma, q, steps);
        var spent = accountant.GetEpsilon(delta);
        Assert.Equal(epsilon, spent.Epsilon, 5e-8);
        Assert.Equal(order, spent.BestOrder);
    }

    [Fact]
    public void A7_OpacusDoctest_MixedHistory_0p336AtOrder23()
    {
        var accountant = new RdpAccountant(IntOrders(2, 32));
        accountant.Step(1.0, 1e-5, 10);
        accountant.Step(3.0, 1e-4, 4);
        var spent = accountant.GetEpsilon(1e-5);
        Assert.Equal("0.336", spent.Epsilon.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0.3363440633925957, spent.Epsilon, 5e-8); // RELIABILITY.md [run] with Opacus's own rdp.py
        Assert.Equal(23, spent.BestOrder);
    }

    [Fact]
    public void A8_DpAccountingRdpVector_Rtol1e4()
    {
        double[] orders = [1.5, 2.5, 5, 50, 100, double.PositiveInfinity];
        double[] expected = [6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02, 1.67416308e+02, double.PositiveInfinity];
        var rdp = Rdp.Compute(0.01, 2.5, 50, orders, RdpFormula.DpAccounting);
        for (var i = 0; i < orders.Length; i++)
        {
            if (double.IsPositiveInfinity(expected[i])) Assert.True(double.IsPositiveInfinity(rdp[i]));
            else Assert.True(Math.Abs(rdp[i] - expected[i]) <= 1e-4 * expected[i], $"order {orders[i]}: {rdp[i]:R} vs {expected[i]:R}");
        }
    }

    [Fact]
    public void Formulas_AgreeAtIntegerOrders_DpAccountingIsAnUpperBoundAtFractionalOnes()
    {
        // dp_accounting < 0.4.4 (and Opacus) gave 6.5007e-04 at order 1.5 for A8's setting: the signed series.
        Assert.Equal(6.5007e-04, Rdp.SampledGaussian(0.01, 2.5, 1.5) * 50, 1e-8);
        foreach (var (q, sigma) in new[] { (0.01, 2.5), (0.04, 1.5), (0.2, 0.8) })
        {
            foreach (var alpha in Rdp.OpacusOrders)
            {
                var opacus = Rdp.SampledGaussian(q, sigma, alpha);
                var dpAccounting = Rdp.SampledGaussian(q, sigma, alpha, RdpFormula.DpAccounting);
                if (alpha == Math.Floor(alpha)) Assert.Equal(opacus, dpAccounting, 1e-12 * opacus);
                else Assert.True(dpAccounting >= opacus * (1 - 1e-10), $"q={q} σ={sigma} α={alpha}");
            }
        }
    }

    [Fact]
    public void A9_PureDpConversion_1p32783806176AtOrder32_AndTheInverse()
    {
        var orders = IntOrders(2, 32);
        var rdp = orders.Select(_ => 1.1).ToArray();
        var spent = Rdp.Epsilon(orders, rdp, 1e-5);
        Assert.Equal(1.32783806176, spent.Epsilon, 5e-8);
        Assert.Equal(32, spent.BestOrder);
        var (delta, order) = Rdp.Delta(orders, rdp, 1.32783806176);
        Assert.Equal(1e-5, delta, 5e-8);
        Assert.Equal(32, order);
    }

    [Fact]
    public void A10_GaussianMechanism_Sigma4p530877117_GivesEpsilon1AtDelta1e6()
    {
        var orders = Enumerable.Range(1000, 99000).Select(i => 0.001 * i).ToArray();
        var rdp = Rdp.Compute(1.0, 4.530877117, 1, orders);
        Assert.Equal(1.0, Rdp.Epsilon(orders, rdp, 1e-6).Epsilon, 5e-8);
    }

    [Theory]
    [InlineData(0.7, 2.0)]
    [InlineData(1.5, 3.9)]
    [InlineData(10.0, 64.0)]
    public void A11_FullBatch_IsAlphaOverTwoSigmaSquared(double sigma, double alpha) =>
        Assert.Equal(alpha / (2 * sigma * sigma), Rdp.SampledGaussian(1.0, sigma, alpha), 1e-15);

    [Fact]
    public void R7_IntegerOrdersOnly_7p329876773834586AtOrder4()
    {
        var accountant = new RdpAccountant(IntOrders(2, 63));
        accountant.Step(1.5, 0.04, 2250);
        var spent = accountant.GetEpsilon(1e-5);
        Assert.Equal(7.329876773834586, spent.Epsilon, 5e-8);
        Assert.Equal(4, spent.BestOrder);
    }

    [Theory]
    // RELIABILITY.md R8: per-step RDP of σ = 1.5, q = 0.04 from Opacus's rdp.py.
    [InlineData(2.0, 0.000894996966873696)]
    [InlineData(3.0, 0.00137687239217031)]
    [InlineData(4.0, 0.001885340064445743)]
    [InlineData(8.0, 0.004271584526737403)]
    [InlineData(16.0, 0.1670092793697134)]
    [InlineData(32.0, 3.788426314311532)]
    [InlineData(3.9, 0.0018332021995636277)]
    public void R8_PerStepRdp(double alpha, double expected)
    {
        var rdp = Rdp.SampledGaussian(0.04, 1.5, alpha);
        Assert.True(Math.Abs(rdp - expected) <= 1e-12 * expected, $"α={alpha}: {rdp:R} vs {expected:R}");
    }

    [Theory]
    // DP-2: R3 (MNIST tutorial, 60 epochs) and R6 (Abadi et al. §3.1), both conversions, tolerance 1e-6.
    [InlineData(1.1, 256.0 / 60000, 14063L, RdpConversion.Classic, 3.0083810468253627, 8.8)]
    [InlineData(1.1, 256.0 / 60000, 14063L, RdpConversion.Balle2020, 2.5966555286883684, 8.1)]
    [InlineData(4.0, 0.01, 10000L, RdpConversion.Classic, 1.2585747412527164, 20.0)]
    [InlineData(4.0, 0.01, 10000L, RdpConversion.Balle2020, 1.0354900660362476, 17.0)]
    [InlineData(1.3, 256.0 / 60000, 3516L, RdpConversion.Balle2020, 0.9545639531462444, 17.0)]
    [InlineData(0.7, 256.0 / 60000, 10547L, RdpConversion.Balle2020, 6.3183839653375635, 3.8)]
    public void DP2_ConversionSwitch(double sigma, double q, long steps, RdpConversion conversion, double epsilon, double order)
    {
        var accountant = new RdpAccountant();
        accountant.Step(sigma, q, steps);
        var spent = accountant.GetEpsilon(1e-5, conversion);
        Assert.Equal(epsilon, spent.Epsilon, 1e-6);
        Assert.Equal(order, spent.BestOrder);
    }

    [Theory]
    // DP-4: Opacus accountants_test.py, target ε = 8, δ = 1e-5, q = 0.04; σ to 4 places.
    [InlineData(2250L, 1.416)]
    [InlineData(2000L, 1.3562)]
    public void DP4_NoiseForBudget_MatchesOpacus(long steps, double expected)
    {
        var sigma = NoiseCalibration.NoiseMultiplier(8, 1e-5, 0.04, steps);
        Assert.Equal(expected, Math.Round(sigma, 4));
        var eps = RdpAccountantFor(sigma, 0.04, steps).GetEpsilon(1e-5).Epsilon;
        Assert.True(eps <= 8 && 8 - eps <= 0.01, $"ε(σ) = {eps}");
    }

    [Theory]
    [InlineData(15.0, 0.3)] // best order 2.5
    [InlineData(30.0, 0.01)] // best order 1.5
    [InlineData(60.0, 0.3)]
    [InlineData(100.0, 0.3)] // best order 1.25
    public void DP4_NoiseForBudget_WithTheTfOrders_NeverOvershootsUnderTheirFormula(double target, double q)
    {
        // calibrated with the Opacus series but accounted with dp_accounting's (crucible privacy noise --orders tf), the σ
        // spent up to 2% over the budget (e.g. 30.58 for ε* = 30); with the accountant's own formula it never overshoots
        var sigma = NoiseCalibration.NoiseMultiplier(target, 1e-5, q, 100, Rdp.TfPrivacyOrders, formula: RdpFormula.DpAccounting);
        var accountant = new RdpAccountant(Rdp.TfPrivacyOrders, RdpFormula.DpAccounting);
        accountant.Step(sigma, q, 100);
        var eps = accountant.GetEpsilon(1e-5).Epsilon;
        Assert.True(eps <= target && target - eps <= 0.01, $"ε(σ = {sigma}) = {eps} for ε* = {target}");
    }

    [Theory]
    [InlineData(0.0, 1000L)]
    [InlineData(0.04, 0L)]
    public async Task DP4_NoiseForBudget_RefusesAMechanismThatReleasesNothing(double q, long steps)
    {
        // ε(σ) = 0 for every σ: the bisection never met its tolerance and the call never returned (a timeout here)
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Task.Run(() => NoiseCalibration.NoiseMultiplier(8, 1e-5, q, steps)).WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task DP4_NoiseForAnyAccountant_ReturnsWhenEpsilonDoesNotDependOnSigma()
    {
        var sigma = await Task.Run(() => NoiseCalibration.NoiseMultiplier(_ => 0.0, 8)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(sigma >= 0);
    }

    [Fact]
    public async Task DP4_NoiseForAnyAccountant_ReturnsWhenTheIntervalReachesAdjacentDoubles()
    {
        // ε(σ) steps from above the target to 0 near σ = 1e5 (as Opacus's orders do at δ = 1e-5, the KL bound giving 0):
        // the interval ends between two adjacent doubles 1.5e-11 apart, never below the 1e-12 width test, and the
        // bisection looped for ever (`crucible privacy noise --epsilon 0.05 --sampling-rate 0.04 --steps 2250 --delta 1e-5`)
        var calls = 0;
        double EpsilonOf(double sigma)
        {
            if (++calls > 10_000) throw new InvalidOperationException("the bisection does not end");
            return sigma < 100_000.3 ? 0.1029 : 0;
        }

        var sigma = await Task.Run(() => NoiseCalibration.NoiseMultiplier(EpsilonOf, 0.05)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(sigma >= 100_000.3 && sigma < 100_000.3 + 1e-10, $"σ = {sigma}");
    }

    [Theory]
    [InlineData(1e6)]
    [InlineData(1e8)]
    [InlineData(1e12)]
    [InlineData(1e300)]
    public void DP3_LargeSigma_GivesAFiniteBoundNotAnException(double sigma)
    {
        // A_α rounds to 1 from below (σ = 1e6, 1e12, 1e300: "RDP must be ≥ 0") or the signed fractional series subtracts
        // a term larger than its sum (σ = 1e8: "ln(e^x − e^y) would be complex"); `crucible privacy epsilon` exited 1
        foreach (var formula in new[] { RdpFormula.Opacus, RdpFormula.DpAccounting })
        {
            foreach (var alpha in Rdp.OpacusOrders.Concat(Rdp.TfPrivacyOrders))
            {
                var rdp = Rdp.SampledGaussian(0.04, sigma, alpha, formula);
                Assert.True(rdp >= 0 && rdp <= alpha / (2 * sigma * sigma), $"α = {alpha}, {formula}: RDP {rdp}");
            }
        }

        var eps = RdpAccountantFor(sigma, 0.04, 2250).GetEpsilon(1e-5).Epsilon;
        Assert.True(eps >= 0 && eps <= RdpAccountantFor(1e5, 0.04, 2250).GetEpsilon(1e-5).Epsilon, $"ε = {eps}");
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseCalibration.NoiseMultiplier(5, 1e-300, 0.04, 2250)); // unreachable: DP-E-BUDGET, not a crash
    }

    [Fact]
    public void DP3_HugeStepCounts_DoNotTurnTheSeriesRoundingIntoEpsilonZero()
    {
        // σ = 477235, q = 0.04: log A_α rounds to 0 at most orders; times 2^63 − 1 steps that printed ε = 0
        // (`crucible privacy noise --epsilon 8 … --steps 9223372036854775807` answered σ = 477235 "spending" 0)
        const double sigma = 477_235.3685706791, q = 0.04;
        foreach (var alpha in new[] { 2.0, 3.0, 1.5, 10.9 })
        {
            // the exact per-step RDP is about q²·α/(2σ²)·(1 + O(q)) for σ this large (e^{1/σ²} − 1 ≈ 1/σ²)
            var rdp = Rdp.SampledGaussian(q, sigma, alpha);
            var leading = q * q * alpha / (2 * sigma * sigma);
            Assert.True(rdp >= 0.9 * leading && rdp <= alpha / (2 * sigma * sigma), $"α = {alpha}: RDP {rdp}, q²α/(2σ²) = {leading}");
        }

        var eps = RdpAccountantFor(sigma, q, long.MaxValue).GetEpsilon(1e-5).Epsilon;
        Assert.True(eps > 1000, $"ε = {eps}");
    }

    [Fact]
    public void DP3_NearZeroSeries_AtAnOrderPastTheIntegerSumsReach_StillBoundsFromAbove()
    {
        // σ = 1e12: log A_α rounds below the series' precision at every order, and the bound comes from the integer
        // order ⌈α⌉, summed term by term up to 10,000 terms; past that the RDP at α must not fall back to a lower order's
        // (a lower bound: the RDP is non-decreasing in α), so α = 2e4 gives at least the RDP at α = 1e4, strictly more here
        const double sigma = 1e12, q = 0.04;
        var atTenThousand = Rdp.SampledGaussian(q, sigma, 10_000);
        var atTwentyThousand = Rdp.SampledGaussian(q, sigma, 20_000);
        Assert.True(atTwentyThousand > atTenThousand, $"RDP at 2e4 {atTwentyThousand}, at 1e4 {atTenThousand}");
        Assert.True(atTwentyThousand <= 20_000 / (2 * sigma * sigma));
    }

    [Theory]
    [InlineData(10.0)]
    [InlineData(10.5)] // bounded by order 11
    public void DP3_TinySamplingRate_WithLittleNoise_GivesTheLeadingTermNotNaN(double alpha)
    {
        // q = 1e-100, σ = 0.2: log A_α ≈ 1e-188 goes to the near-zero sum, whose i = 10 term was e^{−2303} · (e^{1125} − 1)
        // = 0 · ∞ = NaN, so the RDP was NaN and GetEpsilon threw "RDP must be ≥ 0". The i = 2 term
        // C(n, 2) q² (e^{1/σ²} − 1) dominates: the RDP is that over n − 1, n = ⌈α⌉.
        const double q = 1e-100, sigma = 0.2;
        var n = Math.Ceiling(alpha);
        var leading = n * (n - 1) / 2 * q * q * Math.Exp(1 / (sigma * sigma)) / (n - 1);
        foreach (var formula in new[] { RdpFormula.Opacus, RdpFormula.DpAccounting })
        {
            var rdp = Rdp.SampledGaussian(q, sigma, alpha, formula);
            Assert.True(Math.Abs(rdp - leading) <= 1e-6 * leading, $"{formula}: RDP {rdp}, leading term {leading}");
        }

        var eps = RdpAccountantFor(sigma, q, 100).GetEpsilon(1e-5).Epsilon;
        Assert.True(eps >= 0 && double.IsFinite(eps), $"ε = {eps}");
    }

    [Fact]
    public void DP4_NoiseForBudget_NeverOvershoots_OverOpacusRanges()
    {
        var rng = new System.Random(11);
        double[] rates = [1e-4, 1e-3, 1e-2, 1e-1];
        double[] deltas = [1e-4, 1e-5, 1e-6];
        for (var trial = 0; trial < 12; trial++)
        {
            var target = 1 + 9 * rng.NextDouble();
            var q = rates[rng.Next(rates.Length)];
            var delta = deltas[rng.Next(deltas.Length)];
            var epochs = rng.Next(10, 101);
            var steps = NoiseCalibration.StepsForEpochs(epochs, q);
            var sigma = NoiseCalibration.NoiseMultiplier(target, delta, q, steps);
            var eps = RdpAccountantFor(sigma, q, steps).GetEpsilon(delta).Epsilon;
            Assert.True(eps <= target, $"overshoot: ε*={target}, q={q}, δ={delta}, epochs={epochs}: ε(σ={sigma}) = {eps}");
            Assert.True(target - eps <= 0.01, $"too loose: ε*={target}, ε={eps}");
        }
    }

    [Fact]
    public void DP3_Properties_MonotoneAndEdgeCases()
    {
        double Eps(double sigma, double q, long steps) => RdpAccountantFor(sigma, q, steps).GetEpsilon(1e-5).Epsilon;
        Assert.True(Eps(1.0, 0.01, 100) <= Eps(1.0, 0.01, 200));
        Assert.True(Eps(1.0, 0.01, 200) <= Eps(1.0, 0.01, 2000));
        Assert.True(Eps(2.0, 0.01, 1000) < Eps(1.0, 0.01, 1000));
        Assert.True(Eps(1.0, 0.01, 1000) < Eps(1.0, 0.02, 1000));
        Assert.Equal(0, Rdp.SampledGaussian(0, 1.0, 4));
        Assert.Equal(0, Eps(1.0, 0.0, 1000));
        Assert.True(double.IsPositiveInfinity(Rdp.SampledGaussian(0.1, 0, 4)));
        Assert.True(double.IsPositiveInfinity(Eps(0, 0.1, 10)));
        Assert.Equal(0, new RdpAccountant().GetEpsilon(1e-5).Epsilon);
    }

    [Fact]
    public void DP3_EpsilonDeltaRoundTrip_7Places()
    {
        foreach (var q in new[] { 0.01, 0.1, 0.8, 1.0 })
        {
            foreach (var sigma in new[] { 0.5, 1.0, 10.0 })
            {
                var a = RdpAccountantFor(sigma, q, 100);
                var eps = a.GetEpsilon(1e-5).Epsilon;
                if (eps == 0) continue;
                Assert.Equal(1e-5, a.GetDelta(eps), 1e-12);
            }
        }
    }

    [Theory]
    [InlineData(2.0, -1.0)]
    [InlineData(2.0, double.NaN)]
    [InlineData(0.5, 1.0)]
    public void DP3_Delta_RefusesWhatEpsilonRefuses(double order, double rdp)
    {
        // Delta skipped a negative or NaN RDP (log1p of < −1 is NaN, never "smaller") and answered from the other orders,
        // where Epsilon and dp_accounting's compute_delta refuse it
        double[] orders = [order, 3.0], curve = [rdp, 0.5];
        Assert.Throws<ArgumentOutOfRangeException>(() => Rdp.Epsilon(orders, curve, 1e-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rdp.Delta(orders, curve, 1.0));
    }

    [Fact]
    public void DP3_BoundaryOrder_IsFlagged()
    {
        // Very little noise: the best order is the smallest one tried.
        var spent = RdpAccountantFor(0.3, 0.5, 100).GetEpsilon(1e-5);
        Assert.True(spent.OrderOnBoundary);
        Assert.Equal(1.1, spent.BestOrder);
    }

    [Fact]
    public void DP3_MixedHistory_IsTheSumOfSegments()
    {
        var mixed = new RdpAccountant();
        mixed.Step(1.0, 0.01, 300);
        mixed.Step(2.0, 0.05, 200);
        mixed.Step(1.0, 0.01, 100);
        var a = Rdp.Compute(0.01, 1.0, 400, Rdp.OpacusOrders);
        var b = Rdp.Compute(0.05, 2.0, 200, Rdp.OpacusOrders);
        var total = mixed.TotalRdp();
        for (var i = 0; i < total.Length; i++) Assert.Equal(a[i] + b[i], total[i], 1e-12 * total[i]);
        Assert.Equal(3, mixed.History.Count);
        mixed.Step(1.0, 0.01);
        Assert.Equal(3, mixed.History.Count); // merged into the last segment
    }

    // RELIABILITY DP-9
    [Fact]
    public void DP9_StateSurvivesSaveAndLoad_ResumeReproducesA1()
    {
        var first = new RdpAccountant();
        for (var i = 0; i < 1250; i++) first.Step(1.5, 0.04);
        var resumed = RdpAccountant.FromJson(first.ToJson());
        Assert.Equal(RdpFormula.Opacus, resumed.Formula);
        Assert.Equal(RdpFormula.DpAccounting, RdpAccountant.FromJson(new RdpAccountant(null, RdpFormula.DpAccounting).ToJson()).Formula);
        resumed.Step(1.5, 0.04, 1000);
        Assert.Equal(7.32911117143, resumed.GetEpsilon(1e-5).Epsilon, 5e-8);
        var straight = RdpAccountantFor(1.5, 0.04, 2250).GetEpsilon(1e-5).Epsilon;
        Assert.Equal(straight, resumed.GetEpsilon(1e-5).Epsilon, 1e-9);
        Assert.Throws<Crucible.Data.InvalidInputException>(() => RdpAccountant.FromJson("{\"accountant\":\"prv\"}"));
    }

    [Theory]
    [InlineData(1.0, 0.04, -5L)]
    [InlineData(1.0, 1.5, 5L)]
    [InlineData(-1.0, 0.04, 5L)]
    [InlineData(1.0, 0.04, long.MaxValue)] // after 10 steps: a total past long.MaxValue
    public void DP9_StateWithAnImpossibleHistory_IsRefusedOnLoad(double sigma, double q, long steps)
    {
        // a segment of −5 steps, q = 1.5 or σ = −1 loaded as is; the error came later, from GetEpsilon, as an
        // ArgumentOutOfRangeException (and −5 steps after 10 passed a resumed engine's step count check with 5 in all)
        var segment = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"noise_multiplier\":{sigma:R},\"sample_rate\":{q:R},\"steps\":{steps}}}");
        var json = $"{{\"accountant\":\"rdp\",\"formula\":\"opacus\",\"orders\":[2,3],\"history\":[{{\"noise_multiplier\":1,\"sample_rate\":0.04,\"steps\":10}},{segment}]}}";
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() => RdpAccountant.FromJson(json));
        Assert.Equal("DP-E-STATE", e.Rule);
    }

    [Fact]
    public void Step_PastLongMaxValueInAll_IsRefused_NotWrappedToANegativeCount()
    {
        // the merged segment's count wrapped to −9223372036854775804 and ε then failed with "steps must be non-negative"
        var accountant = RdpAccountantFor(1, 0.1, long.MaxValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(1, 0.1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(2, 0.1, 5)); // a new segment: the total overflows too
        Assert.Equal(long.MaxValue, accountant.Steps);
        Assert.Single(accountant.History);
    }

    [Fact]
    public void A3_GaussianDpApproximation_Between6p59And6p6()
    {
        // Opacus's test_gdp_accountant takes int(90 // 0.04) = 2249 steps (floor division of floats), not 2250.
        var eps = GdpAccountant.Epsilon(GdpAccountant.Mu(1.5, 0.04, 2249), 1e-5);
        Assert.InRange(eps, 6.59, 6.6);
    }

    [Theory]
    [InlineData(0.0)]      // no noise: μ = ∞
    [InlineData(0.01)]     // e^{1/σ²} − 1 overflows: μ = ∞ (the CLI accepts this σ)
    [InlineData(0.05)]     // μ ≈ 9e86: e^ε Φ(−ε/μ − μ/2) is ∞ · 0 past ε ≈ 709
    public void A3_GaussianDp_OfLittleOrNoNoise_IsNotSmall(double sigma)
    {
        // these gave ε ≈ 9e-13 (σ = 0, 0.01) and 709.78 (σ = 0.05): δ(ε) was NaN and NaN counted as "at most δ"
        var mu = GdpAccountant.Mu(sigma, 0.04, 1000);
        var eps = GdpAccountant.Epsilon(mu, 1e-5);
        Assert.True(eps > 1e3, $"μ = {mu}: ε = {eps}");
        Assert.Equal(0.0, GdpAccountant.Epsilon(0, 1e-5));                 // q = 0: nothing is released
        Assert.Equal(0.0, GdpAccountant.Epsilon(GdpAccountant.Mu(sigma, 0, 1000), 1e-5));
    }

    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, -1.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(1.0, double.NaN)]
    [InlineData(double.NaN, 1e-5)]
    [InlineData(-1.0, 1e-5)]
    public void A3_GaussianDp_RefusesADeltaOutsideZeroOne_AndAnInvalidMu(double mu, double delta)
    {
        // δ = −1 gave ε = 709.78, δ = 0 gave 38.98, δ = NaN and μ = NaN gave ≈ 0
        Assert.Throws<ArgumentOutOfRangeException>(() => GdpAccountant.Epsilon(mu, delta));
    }

    [Theory]
    [InlineData(double.NaN, 0.04, 10)]
    [InlineData(-1.0, 0.04, 10)]
    [InlineData(1.0, 1.5, 10)]
    [InlineData(1.0, -0.1, 10)]
    [InlineData(1.0, 0.04, -1)]
    public void A3_GaussianDpMu_RefusesAnInvalidMechanism(double sigma, double q, long steps)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GdpAccountant.Mu(sigma, q, steps));
    }

    private static RdpAccountant RdpAccountantFor(double sigma, double q, long steps)
    {
        var a = new RdpAccountant();
        a.Step(sigma, q, steps);
        return a;
    }
}
