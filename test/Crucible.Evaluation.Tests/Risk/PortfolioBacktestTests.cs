using System.Text.Json;
using Crucible.Evaluation.Reporting;
using Crucible.Evaluation.Risk;

namespace Crucible.Evaluation.Tests.Risk;

/// <summary>
/// The evaluation report's VaR backtests beside the Basel last-250-days one: the one-day VaR on every real day
/// (portfolio.backtest_all_days) and the scenarios' H-step VaR on non-overlapping real H-step windows
/// (portfolio.backtest_horizon). Expected figures recomputed with scipy 1.x (/usr/bin/python3):
/// <code>
/// from scipy.stats import chi2, binom; from scipy.special import xlogy; import numpy as np
/// kupiec = lambda x, n, a: -2*((xlogy(n-x, a) + xlogy(x, 1-a)) - (xlogy(n-x, 1-x/n) + xlogy(x, x/n)))
/// e = np.zeros(1000, bool); e[0:750:5] = True                    # the calm-tail fixture's exception days
/// kupiec(150, 1000, .99) -> 553.218451135398, chi2.sf(., 1) -> 2.5110184831976986e-122
/// transitions n00, n01, n10, n11 -> 700, 149, 150, 0; LR_ind -> 52.89422432049287 (chi2.sf 3.520031097355462e-13)
/// LR_cc -> 606.1126754558909, chi2.sf(., 2) -> 2.42272889463493e-132
/// kupiec(20, 200, .99) -> 57.79173899020489, chi2.sf -> 2.913909064287344e-14
/// binom.cdf(20, 200, .01) -> 0.9999999999999976, binom.sf(19, 200, .01) -> 2.892428691572964e-14
/// </code>
/// </summary>
public class PortfolioBacktestTests
{
    // 1000 real days: the first 750 volatile (a 5 % loss every fifth day), the last 250 calm (±0.2 %); the synthetic rows
    // an even grid on [−2 %, 2 %], so their one-day VaR 99 % (the 10th largest of 1000 losses) is about 1.98 %: a model
    // that underestimates the period's risk, which its calm last 250 days cannot show
    private static (SeriesSet Real, SeriesSet Synthetic) CalmTail()
    {
        var real = new double[1000];
        for (var t = 0; t < real.Length; t++)
            real[t] = t < 750 ? (t % 5 == 0 ? -0.05 : 0.001) : (t % 2 == 0 ? 0.002 : -0.002);
        var synth = Enumerable.Range(0, 1000).Select(k => -0.02 + (0.04 * k / 999)).ToArray();
        return (new SeriesSet(["EQ"], [real]), new SeriesSet(["EQ"], [synth]));
    }

    [Fact]
    public void CalmTail_LastTwoHundredFiftyDaysGreen_EveryDayRed()
    {
        var (real, synth) = CalmTail();
        var report = Evaluator.Evaluate(new EvaluationInput(real, synth));
        var bt = report.Portfolio.Backtest;

        // the Basel window, kept as it was: the calm end hides the underestimate
        Assert.Equal(250, bt.Result.Observations);
        Assert.Equal(0, bt.Result.Exceptions);
        Assert.Equal(TrafficLight.Green, bt.Result.Zone);

        var all = Assert.IsType<DailyVarBacktest>(bt.AllDays);
        Assert.Equal(1000, all.Result.Observations);
        Assert.Equal(150, all.Result.Exceptions);
        Assert.Equal(1, all.Paths);
        Assert.Equal(TrafficLight.Red, all.Result.Zone);
        Assert.Equal(553.218451135398, all.Result.KupiecStatistic, 1e-9 * 553.2);
        Assert.Equal(2.5110184831976986e-122, all.Result.KupiecPValue, 1e-9 * 2.52e-122);
        var c = Assert.IsType<ChristoffersenResult>(all.Christoffersen);
        Assert.Equal((700, 149, 150, 0), c.Transitions);
        Assert.Equal(52.89422432049287, c.IndependenceStatistic, 1e-9 * 52.9);
        Assert.Equal(3.520031097355462e-13, c.IndependencePValue, 1e-7 * 3.52e-13);
        Assert.Equal(606.1126754558909, c.ConditionalCoverageStatistic, 1e-9 * 606.1);
        Assert.Equal(2.42272889463493e-132, c.ConditionalCoveragePValue, 1e-7 * 2.42e-132);
        // rows: H = 1, the all-days test is the horizon test
        Assert.Null(bt.Horizon);

        using var json = JsonDocument.Parse(ReportJson.ToJson(report));
        var portfolio = json.RootElement.GetProperty("portfolio");
        Assert.Equal("green", portfolio.GetProperty("backtest").GetProperty("traffic_light").GetString());
        var allJson = portfolio.GetProperty("backtest_all_days");
        Assert.Equal("red", allJson.GetProperty("traffic_light").GetString());
        Assert.Equal(1000, allJson.GetProperty("observations").GetInt32());
        Assert.Equal(150, allJson.GetProperty("exceptions").GetInt32());
        Assert.Equal(10.0, allJson.GetProperty("expected_exceptions").GetDouble(), 1e-9);
        Assert.Equal(VarBacktest.Bounds(1000, 0.99).RedFrom, allJson.GetProperty("zone_bounds").GetProperty("red_from").GetInt32());
        Assert.Equal(149, allJson.GetProperty("christoffersen").GetProperty("n01").GetInt32());
        Assert.False(portfolio.TryGetProperty("backtest_horizon", out _));
        // rows, not days: the evaluation cannot know the data are daily (weekly or monthly rows are evaluated the same way)
        var html = ReportHtml.ToHtml(report);
        Assert.Contains("id=\"backtest-all-days\"", html, StringComparison.Ordinal);
        Assert.Contains("the synthetic one-step portfolio VaR ", html, StringComparison.Ordinal);
        Assert.Contains(" of the last 250 real rows (", html, StringComparison.Ordinal);
        Assert.Contains("Over every real row: the same VaR was exceeded on 150 of 1000 rows (", html, StringComparison.Ordinal);
        Assert.DoesNotContain("real day", html, StringComparison.Ordinal);
    }

    [Fact]
    public void HorizonBacktest_CountsNonOverlappingWindows_AndGivesBinomialProbabilities_NoColour()
    {
        // real: 1003 days, 200 windows of 5 (every tenth loses 10 %) and a last partial window of 3 days of −50 % that is
        // left out; synthetic: 200 scenarios of 5 equal steps, horizon returns an even grid on [−5 %, 5 %], so the 5-step
        // VaR 99 % (2nd largest of 200 losses) is 0.05 − 0.1/199
        const int h = 5;
        var real = new double[1003];
        for (var t = 0; t < 1000; t++) real[t] = (t / h) % 10 == 0 ? -0.02 : 0.001;
        for (var t = 1000; t < 1003; t++) real[t] = -0.5;
        var synth = new double[200 * h];
        var ids = new int[200 * h];
        for (var s = 0; s < 200; s++)
        {
            for (var t = 0; t < h; t++)
            {
                synth[(s * h) + t] = (-0.05 + (0.1 * s / 199)) / h;
                ids[(s * h) + t] = s + 1;
            }
        }

        var report = Evaluator.Evaluate(new EvaluationInput(new SeriesSet(["EQ"], [real]), new SeriesSet(["EQ"], [synth], ids)));
        var hb = Assert.IsType<HorizonVarBacktest>(report.Portfolio.Backtest.Horizon);
        Assert.Equal(h, hb.Horizon);
        Assert.Equal(report.Portfolio.Var.Synthetic, hb.ValueAtRisk);
        Assert.Equal(0.05 - (0.1 / 199), hb.ValueAtRisk, 1e-12);
        // 200 non-overlapping windows, 20 exceptions: stride-1 windows would count 1 + 5·20 − … far more, and the partial
        // window of −150 % would be one more
        Assert.Equal(200, hb.Observations);
        Assert.Equal(20, hb.Exceptions);
        Assert.Equal(57.79173899020489, hb.KupiecStatistic, 1e-9 * 57.8);
        Assert.Equal(2.913909064287344e-14, hb.KupiecPValue, 1e-7 * 2.91e-14);
        Assert.Equal(0.9999999999999976, hb.ProbabilityAtMost, 1e-12);
        Assert.Equal(2.892428691572964e-14, hb.ProbabilityAtLeast, 1e-9 * 2.89e-14);

        using var json = JsonDocument.Parse(ReportJson.ToJson(report));
        var hj = json.RootElement.GetProperty("portfolio").GetProperty("backtest_horizon");
        Assert.Equal(5, hj.GetProperty("horizon").GetInt32());
        Assert.Equal(20, hj.GetProperty("exceptions").GetInt32());
        Assert.Equal(2.0, hj.GetProperty("expected_exceptions").GetDouble(), 1e-12);
        Assert.False(hj.TryGetProperty("traffic_light", out _));
        Assert.Contains("daily", hj.GetProperty("note").GetString(), StringComparison.Ordinal);
        // every real day still gets the one-day test (the −50 % days are exceptions there)
        var all = Assert.IsType<DailyVarBacktest>(report.Portfolio.Backtest.AllDays);
        Assert.Equal(1003, all.Result.Observations);
        Assert.Contains("id=\"backtest-horizon\"", ReportHtml.ToHtml(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Christoffersen_OverPaths_CountsTransitionsWithinEachPathOnly()
    {
        bool[] a = [false, true, true, false];
        bool[] b = [true, false, false];
        var pooled = VarBacktest.Christoffersen([a, b], 0.99);
        // a: 0→1, 1→1, 1→0; b: 1→0, 0→0; the a-to-b boundary (false → true) is no transition
        Assert.Equal((1, 1, 2, 1), pooled.Transitions);
        var joined = VarBacktest.Christoffersen([.. a, .. b], 0.99);
        Assert.Equal((1, 2, 2, 1), joined.Transitions);
        // one path is the single-sequence test, bit for bit
        Assert.Equal(VarBacktest.Christoffersen(a.AsSpan(), 0.99), VarBacktest.Christoffersen([a], 0.99));
        Assert.True(double.IsNaN(VarBacktest.Christoffersen([[true], [false]], 0.99).IndependenceStatistic));
    }

    [Theory]
    [InlineData(20, 200, 0.01, 2.892428691572964e-14)]
    [InlineData(0, 200, 0.01, 1.0)]
    [InlineData(5, 250, 0.01, 0.10781237309637479)]
    public void BinomialUpperTail_MatchesScipy(int k, int n, double p, double expected) =>
        // scipy.stats.binom.sf(k - 1, n, p)
        Assert.Equal(expected, VarBacktest.BinomialUpperTail(k, n, p), 1e-9 * expected);

    [Theory]
    [InlineData(924, 0.99, 9.24)]
    [InlineData(46, 0.99, 0.46)]
    [InlineData(250, 0.975, 6.25)]
    [InlineData(1000, 0.95, 50.0)]
    public void ExpectedExceptions_IsTheDecimalProduct_NotTheBinaryOne(int n, double alpha, double expected)
    {
        // exact equality: the demo's card printed "expected 9.240000000000009" from n * (1 - 0.99) in binary
        Assert.Equal(expected, VarBacktest.ExpectedExceptions(n, alpha));
    }

    [Fact]
    public void TheZones_AreNamedGreenYellowRed()
    {
        Assert.Equal(["green", "yellow", "red"], Enum.GetValues<TrafficLight>().Select(z => z.WireName()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TrafficLight)3).WireName());
    }
}
