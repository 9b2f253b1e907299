using Crucible.Data;

namespace Crucible.Evaluation.Tests;

public class EvaluatorTests
{
    private static SeriesSet Set(params double[][] columns) =>
        new(columns.Select((_, i) => $"S{i}").ToArray(), columns);

    // a library caller's null set or report: an ArgumentNullException naming it (they were NullReferenceExceptions from inside)
    [Fact]
    public void Evaluate_ANullSet_AndWritingANullReport_AreArgumentErrorsNamingThem()
    {
        var set = Set([0.01, -0.02, 0.005, 0.0], [0.0, 0.01, -0.01, 0.02]);
        Assert.Equal("input.Real", Assert.Throws<ArgumentNullException>(() => Evaluator.Evaluate(new EvaluationInput(null!, set))).ParamName);
        Assert.Equal("input.Synthetic", Assert.Throws<ArgumentNullException>(() => Evaluator.Evaluate(new EvaluationInput(set, null!))).ParamName);
        Assert.Equal("report", Assert.Throws<ArgumentNullException>(() => Crucible.Evaluation.Reporting.ReportJson.ToJson(null!)).ParamName);
        Assert.Equal("report", Assert.Throws<ArgumentNullException>(() => Crucible.Evaluation.Reporting.ReportHtml.ToHtml(null!)).ParamName);
    }

    [Fact]
    public void Evaluate_WarnsAboutSeriesThatLookLikePrices_NotReturns()
    {
        // the holdout given as prices (a mix-up evaluate cannot refuse: it reads numbers): 200 rows of a price path near 100
        // beside 200 synthetic log returns; KS is 1 and the "VaR" minus the price level, so the report must say why
        var rng = new Crucible.Tensors.Random.Philox(11);
        var returns = Enumerable.Range(0, 200).Select(_ => 0.01 * rng.NextNormal()).ToArray();
        var more = Enumerable.Range(0, 200).Select(_ => 0.01 * rng.NextNormal()).ToArray();
        var prices = new double[200];
        var p = 100.0;
        for (var t = 0; t < prices.Length; t++) prices[t] = p *= Math.Exp(returns[t]);
        var real = new SeriesSet(["SPY", "TLT"], [prices, more]);
        var synth = new SeriesSet(["SPY", "TLT"], [more, returns]);
        var report = Evaluator.Evaluate(new EvaluationInput(real, synth));
        var warning = Assert.Single(report.Warnings);
        Assert.StartsWith("the real set's series 'SPY' (median ", warning, StringComparison.Ordinal);
        Assert.Contains("look like prices", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("TLT", warning, StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(Crucible.Evaluation.Reporting.ReportJson.ToJson(report));
        Assert.Equal(warning, doc.RootElement.GetProperty("warnings")[0].GetString());

        // log returns, rate changes, a positive series of small values: no warning
        Assert.Empty(Evaluator.Evaluate(new EvaluationInput(new SeriesSet(["SPY", "TLT"], [returns, more]), synth)).Warnings);
        Assert.False(PriceLikeSeries.LooksLikePrices([0.5, 0.7, 0.9]));
        Assert.False(PriceLikeSeries.LooksLikePrices([3.0, 4.0, -0.1]));
        Assert.True(PriceLikeSeries.LooksLikePrices([4.1, 4.2, 0.9]));
    }

    [Fact]
    public void Evaluate_RejectsMismatchedNames()
    {
        var real = Set([0.01, 0.02, -0.01]);
        var synth = new SeriesSet(["other"], [[0.01, 0.0, 0.02]]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synth)));
        Assert.Equal("column-mismatch", e.Rule);
    }

    [Fact]
    public void Evaluate_MatchesSeriesByName_TheSameNamesInAnotherOrderGiveTheSameReport()
    {
        double[] a = [0.01, 0.02, -0.01, 0.005, -0.02, 0.0], b = [0.0, -0.01, 0.02, 0.01, -0.005, 0.003], c = [0.02, 0.0, -0.02, 0.01, 0.0, -0.01];
        var real = new SeriesSet(["A", "B", "C"], [a, b, c]);
        var synth = new SeriesSet(["A", "B", "C"], [b, c, a]);
        var shuffled = new SeriesSet(["C", "A", "B"], [a, b, c]); // the same series as synth, in another order
        var options = new EvaluationOptions { MembershipInference = false, Utility = false };
        var expected = Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(real, synth), options));
        Assert.Equal(expected, Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(real, shuffled), options)));
        Assert.Equal(["A", "B", "C"], shuffled.InOrderOf(real.Names, "synthetic").Names);
        Assert.Same(synth, synth.InOrderOf(real.Names, "synthetic"));
    }

    [Fact]
    public void Evaluate_ADifferentSetOfNames_NamesTheMissingAndExtraSeries()
    {
        var real = new SeriesSet(["A", "B", "C"], [[0.01, 0.02], [0.0, 0.01], [0.02, 0.0]]);
        var synth = new SeriesSet(["B", "D", "A", "E"], [[0.01, 0.02], [0.0, 0.01], [0.02, 0.0], [0.0, 0.0]]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, synth)));
        Assert.Equal("column-mismatch", e.Rule);
        Assert.Contains("synthetic: series 'D', 'E' are not in the real data; series 'C' is missing", e.Message, StringComparison.Ordinal);
        var train = new SeriesSet(["A", "B"], [[0.01, 0.02], [0.0, 0.01]]);
        var t = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(real, real, train)));
        Assert.Contains("train: series 'C' is missing", t.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Evaluate_RejectsNonFiniteValues(double bad)
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(Set([0.01, bad, 0.0]), Set([0.01, 0.0, 0.02]))));
        Assert.Equal("non-finite", e.Rule);
    }

    [Fact]
    public void Evaluate_RejectsRaggedColumns()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            Evaluator.Evaluate(new EvaluationInput(Set([0.01, 0.02], [0.0]), Set([0.01, 0.0], [0.0, 0.1]))));
        Assert.Equal("shape", e.Rule);
    }

    [Fact]
    public void Evaluate_ConstantSeries_GivesNaNMomentsAndCorrelations_WithoutThrowing()
    {
        var rng = new Random(3);
        var noise = Enumerable.Range(0, 120).Select(_ => rng.NextDouble() * 0.02 - 0.01).ToArray();
        var constant = Enumerable.Repeat(0.001, 120).ToArray();
        var report = Evaluator.Evaluate(new EvaluationInput(Set(noise, constant), Set(noise, noise)));
        var c = report.PerSeries[1];
        Assert.True(double.IsNaN(c.Skewness.Real));
        Assert.True(double.IsNaN(c.ExcessKurtosis.Real));
        Assert.Equal(0.0, c.Std.Real);
        Assert.True(double.IsNaN(c.Acf.Real[0]));
        // no window defines it: still NaN at every lag, and its one path counted as left out
        Assert.All(c.Leverage.Real, v => Assert.True(double.IsNaN(v)));
        Assert.Equal(new TemporalLeftOut(1, 1, 0, 1), c.TemporalLeftOut);
        Assert.True(double.IsNaN(report.Correlation.Real[0][1]));
        Assert.True(double.IsNaN(report.CorrDistance));
    }

    // a daily series whose days 100..129 are exactly 0 (a rate change at its lower bound, a stale price), and 20-step
    // scenarios of which scenario 7 is flat (dropFlat: without it)
    private static (SeriesSet Real, SeriesSet Scenarios) FlatStretch(bool dropFlat = false)
    {
        var rng = new Random(21);
        var real = Enumerable.Range(0, 300).Select(t => t is >= 100 and < 130 ? 0.0 : (rng.NextDouble() - 0.5) * 0.001).ToArray();
        var steps = new List<double>();
        var ids = new List<int>();
        for (var s = 0; s < 50; s++)
        {
            for (var t = 0; t < 20; t++)
            {
                var v = s == 7 ? 0.0 : (rng.NextDouble() - 0.5) * 0.001;
                if (dropFlat && s == 7) continue;
                steps.Add(v);
                ids.Add(s);
            }
        }
        return (new SeriesSet(["RATE"], [real]), new SeriesSet(["RATE"], [steps.ToArray()], ids.ToArray()));
    }

    [Fact]
    public void Evaluate_AFlatStretch_IsLeftOutOfTheTemporalMeans_NotANullForTheWholeSeries()
    {
        // one flat 20-day window made the series' acf, acf_abs, pacf and leverage null at every lag (a plain mean over
        // the windows, NaN in one propagating); now they are the means over the windows that define them
        var options = new EvaluationOptions { MembershipInference = false, Utility = false };
        var (real, scenarios) = FlatStretch();
        var report = Evaluator.Evaluate(new EvaluationInput(real, scenarios), options);
        var s = report.PerSeries[0];
        foreach (var v in new[] { s.Acf, s.AcfAbs, s.Pacf })
        {
            Assert.All(v.Real.Take(19), x => Assert.True(double.IsFinite(x)));
            Assert.All(v.Synthetic.Take(19), x => Assert.True(double.IsFinite(x)));
            Assert.True(double.IsNaN(v.Real[19]) && double.IsNaN(v.Synthetic[19])); // lag 20 ≥ H: no window has it
        }
        Assert.All(s.Leverage.Real.Take(18), x => Assert.True(double.IsFinite(x)));
        Assert.All(s.Leverage.Synthetic.Take(18), x => Assert.True(double.IsFinite(x)));

        // the flat scenario is undefined at every lag: the synthetic means are those of the other 49, bit for bit
        var without = Evaluator.Evaluate(new EvaluationInput(real, FlatStretch(dropFlat: true).Scenarios), options).PerSeries[0];
        Assert.Equal(without.Acf.Synthetic, s.Acf.Synthetic);
        Assert.Equal(without.AcfAbs.Synthetic, s.AcfAbs.Synthetic);
        Assert.Equal(without.Pacf.Synthetic, s.Pacf.Synthetic);
        Assert.Equal(without.Leverage.Synthetic, s.Leverage.Synthetic);
        Assert.Equal(new TemporalLeftOut(47, 281, 0, 49), without.TemporalLeftOut);

        // real: 281 windows of 20 days. The 11 inside the flat days (starts 100..110) are constant; the leverage's
        // lag-18 pairs (x_0, x_1) against (x²_18, x²_19) have a constant side for starts 100..128 and 82..110: 47 windows
        Assert.Equal(new TemporalLeftOut(47, 281, 1, 50), s.TemporalLeftOut);
        var warning = Assert.Single(report.Warnings, w => w.Contains("temporal_left_out", StringComparison.Ordinal));
        Assert.Contains("'RATE' 47 of 281 real 20-step windows, 1 of 50 synthetic paths", warning, StringComparison.Ordinal);
        var json = Crucible.Evaluation.Reporting.ReportJson.ToJson(report);
        Assert.Contains("\"temporal_left_out\": {", json, StringComparison.Ordinal);
        Assert.Contains("\"real\": 47,", json, StringComparison.Ordinal);
        Assert.Contains("\"real_windows\": 281,", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_NoUndefinedWindow_WritesNoLeftOutCountAndNoWarning()
    {
        var (real, windows) = DailyAndItsWindows(300, 5);
        var report = Evaluator.Evaluate(new EvaluationInput(real, windows), new EvaluationOptions { MembershipInference = false, Utility = false });
        Assert.All(report.PerSeries, s => Assert.Null(s.TemporalLeftOut));
        Assert.DoesNotContain(report.Warnings, w => w.Contains("temporal_left_out", StringComparison.Ordinal));
        Assert.DoesNotContain("temporal_left_out", Crucible.Evaluation.Reporting.ReportJson.ToJson(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ScenarioIds_AverageTemporalStatisticsOverPaths()
    {
        // two scenarios that are the same path: the averages equal the single-path values, marginals pool both copies
        var rng = new Random(9);
        var path = Enumerable.Range(0, 80).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var twice = path.Concat(path).ToArray();
        var ids = Enumerable.Range(0, 160).Select(i => i / 80).ToArray();
        var single = Evaluator.Evaluate(new EvaluationInput(Set(path), Set(path)));
        var scen = Evaluator.Evaluate(new EvaluationInput(Set(path), new SeriesSet(["S0"], [twice], ids)));
        Assert.Equal(single.PerSeries[0].Acf.Synthetic, scen.PerSeries[0].Acf.Synthetic);
        Assert.Equal(single.PerSeries[0].MaxDrawdown.Synthetic, scen.PerSeries[0].MaxDrawdown.Synthetic);
        Assert.Equal(0.0, scen.PerSeries[0].Ks);
        Assert.Equal(2, scen.Rows.SyntheticPaths);
    }

    // a daily real series and its own H-step windows (stride 1) as a synthetic scenario set
    private static (SeriesSet Real, SeriesSet Windows) DailyAndItsWindows(int days, int h)
    {
        var rng = new Random(17);
        double[] a = new double[days], b = new double[days];
        for (var t = 0; t < days; t++)
        {
            a[t] = (rng.NextDouble() - 0.5) * 0.04;
            b[t] = (0.5 * a[t]) + ((rng.NextDouble() - 0.5) * 0.02);
        }

        var n = days - h + 1;
        double[] wa = new double[n * h], wb = new double[n * h];
        var ids = new int[n * h];
        for (var s = 0; s < n; s++)
        {
            for (var t = 0; t < h; t++)
            {
                wa[(s * h) + t] = a[s + t];
                wb[(s * h) + t] = b[s + t];
                ids[(s * h) + t] = s + 1;
            }
        }

        return (new SeriesSet(["A", "B"], [a, b]), new SeriesSet(["A", "B"], [wa, wb], ids));
    }

    [Fact]
    public void Evaluate_PortfolioRisk_OfADailyRealSetAgainstScenarios_IsMeasuredAtTheScenarioHorizon()
    {
        // scenarios that are exactly the real series' own 5-day windows: the real and synthetic portfolio VaR, ES and
        // CDaR are the same numbers (the real one was the one-day VaR and the drawdown series' CDaR of the whole path,
        // beside the synthetic 5-day figures: a faithful generator read as about twice as risky as its data)
        var (real, windows) = DailyAndItsWindows(300, 5);
        var options = new EvaluationOptions { Alpha = 0.95, MembershipInference = false, Utility = false };
        var report = Evaluator.Evaluate(new EvaluationInput(real, windows), options);
        Assert.Equal(5, report.Portfolio.Horizon);
        Assert.Equal(report.Portfolio.Var.Synthetic, report.Portfolio.Var.Real, 15);
        Assert.Equal(report.Portfolio.Es.Synthetic, report.Portfolio.Es.Real, 15);
        Assert.Equal(report.Portfolio.Cdar.Synthetic, report.Portfolio.Cdar.Real, 15);
        for (var i = 0; i < 2; i++)
        {
            // each series' drawdowns too: its 5-day windows', not the whole 300-day path's (several times deeper)
            Assert.Equal(report.PerSeries[i].MaxDrawdown.Synthetic, report.PerSeries[i].MaxDrawdown.Real, 15);
            Assert.Equal(report.PerSeries[i].Cdar.Synthetic, report.PerSeries[i].Cdar.Real, 15);
            // and its serial dependence: ACF, ACF of |r|, PACF and leverage within each 5-day window, averaged over the
            // windows (lags 1..4; lags ≥ 5 are NaN on both sides), not the whole path's long-sample estimates
            Assert.Equal(report.PerSeries[i].Acf.Synthetic, report.PerSeries[i].Acf.Real);
            Assert.Equal(report.PerSeries[i].AcfAbs.Synthetic, report.PerSeries[i].AcfAbs.Real);
            Assert.Equal(report.PerSeries[i].Pacf.Synthetic, report.PerSeries[i].Pacf.Real);
            Assert.Equal(report.PerSeries[i].Leverage.Synthetic, report.PerSeries[i].Leverage.Real);
            Assert.All(report.PerSeries[i].Acf.Real.Take(4), v => Assert.True(double.IsFinite(v)));
            Assert.All(report.PerSeries[i].Acf.Real.Skip(4), v => Assert.True(double.IsNaN(v)));
        }

        Assert.Contains("\"horizon\": 5", Crucible.Evaluation.Reporting.ReportJson.ToJson(report), StringComparison.Ordinal);
        Assert.Contains("portfolio (5-step horizon)", Crucible.Evaluation.Reporting.ReportHtml.ToHtml(report), StringComparison.Ordinal);

        // the same real set against one-step rows keeps the one-day figures; real paths of the scenarios' length are
        // each one window, their sums as before
        var rows = Evaluator.Evaluate(new EvaluationInput(real, real), options);
        Assert.Equal(1, rows.Portfolio.Horizon);
        Assert.Equal(rows.Portfolio.Var.Synthetic, rows.Portfolio.Var.Real);
        Assert.Equal(rows.Portfolio.Cdar.Synthetic, rows.Portfolio.Cdar.Real);
        var paths = Evaluator.Evaluate(new EvaluationInput(windows, windows), options);
        Assert.Equal(report.Portfolio.Var.Synthetic, paths.Portfolio.Var.Real);
        Assert.Equal(report.Portfolio.Cdar.Synthetic, paths.Portfolio.Cdar.Real);
    }

    [Fact]
    public void Evaluate_PortfolioRisk_ARealSetShorterThanTheHorizon_IsUndefinedWithAWarning()
    {
        var (_, windows) = DailyAndItsWindows(300, 5);
        var (shortReal, _) = DailyAndItsWindows(4, 1);
        var report = Evaluator.Evaluate(new EvaluationInput(shortReal, windows), new EvaluationOptions { MembershipInference = false, Utility = false });
        Assert.True(double.IsNaN(report.Portfolio.Var.Real));
        Assert.True(double.IsNaN(report.Portfolio.Es.Real));
        Assert.True(double.IsNaN(report.Portfolio.Cdar.Real));
        Assert.True(double.IsNaN(report.PerSeries[0].MaxDrawdown.Real));
        Assert.True(double.IsNaN(report.PerSeries[0].Cdar.Real));
        Assert.All(report.PerSeries[0].Acf.Real, v => Assert.True(double.IsNaN(v)));
        Assert.All(report.PerSeries[0].Leverage.Real, v => Assert.True(double.IsNaN(v)));
        Assert.Contains(report.Warnings, w => w.Contains("no path of 5 steps", StringComparison.Ordinal)
            && w.Contains("each real series' acf, acf_abs, pacf, leverage, max_drawdown and cdar", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_PortfolioRisk_ScenariosOfSeveralLengths_SayTheHorizonsDiffer()
    {
        // scenarios of 5 steps but the last of 4: the horizon is undefined (null), so the real VaR, ES and CDaR were the
        // one-day figures beside the scenarios' whole-path figures, a 5-day VaR read against a one-day one without a word
        var (real, windows) = DailyAndItsWindows(300, 5);
        var n = windows.RowCount - 1;
        var ragged = new SeriesSet(windows.Names, [.. windows.Columns.Select(c => c[..n])], windows.ScenarioIds![..n]);
        var options = new EvaluationOptions { Alpha = 0.95, MembershipInference = false, Utility = false };
        var report = Evaluator.Evaluate(new EvaluationInput(real, ragged), options);
        Assert.Null(report.Portfolio.Horizon);
        Assert.Contains(report.Warnings, w => w.Contains("scenarios have several lengths (4 to 5 steps)", StringComparison.Ordinal));
        Assert.DoesNotContain(Evaluator.Evaluate(new EvaluationInput(real, windows), options).Warnings,
            w => w.Contains("several lengths", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_Regimes_HStepScenariosWithAnHStepWindow_SayWhyTheirTransitionsAreNull()
    {
        // session 21: 20-step scenarios with the default 20-step regime window have one full window a path, so no
        // transition can be counted and report.json showed null rates without saying why
        var (real, windows) = DailyAndItsWindows(400, 20);
        var options = new EvaluationOptions { MembershipInference = false, Utility = false };
        var report = Evaluator.Evaluate(new EvaluationInput(real, windows), options);
        Assert.Equal(20, report.Regimes.Window);
        Assert.True(double.IsNaN(report.Regimes.CalmToStressed.Synthetic));
        Assert.True(double.IsNaN(report.Regimes.StressedToCalm.Synthetic));
        Assert.True(double.IsFinite(report.Regimes.CalmToStressed.Real));   // the 400-day real path has 380 of them
        Assert.True(double.IsFinite(report.Regimes.HighVolatilityShare.Synthetic));
        var why = report.Regimes.TransitionsUnavailable;
        Assert.NotNull(why);
        Assert.StartsWith("no regime transition can be counted in the synthetic set: its paths have at most 20 steps, the regime window", why, StringComparison.Ordinal);
        Assert.Contains("a regime window of 10 steps (half the path) counts 10 transitions a path", why, StringComparison.Ordinal);
        Assert.DoesNotContain("real set", why, StringComparison.Ordinal);
        Assert.Contains(why, report.Warnings);
        var json = Crucible.Evaluation.Reporting.ReportJson.ToJson(report);
        Assert.Contains("\"transitions_unavailable\": \"no regime transition can be counted in the synthetic set", json, StringComparison.Ordinal);
        Assert.Contains("<p id=\"regimes-transitions-unavailable\">no regime transition", Crucible.Evaluation.Reporting.ReportHtml.ToHtml(report), StringComparison.Ordinal);

        // a shorter window counts them: no reason, and the figures that do not depend on the window are the same
        var shorter = Evaluator.Evaluate(new EvaluationInput(real, windows), options with { RegimeWindow = 10 });
        Assert.Equal(10, shorter.Regimes.Window);
        Assert.True(double.IsFinite(shorter.Regimes.CalmToStressed.Synthetic) && double.IsFinite(shorter.Regimes.StressedToCalm.Synthetic));
        Assert.Null(shorter.Regimes.TransitionsUnavailable);
        Assert.DoesNotContain("transitions_unavailable", Crucible.Evaluation.Reporting.ReportJson.ToJson(shorter), StringComparison.Ordinal);
        Assert.DoesNotContain(shorter.Warnings, w => w.Contains("regime", StringComparison.Ordinal));
        Assert.Equal(report.Portfolio.Var, shorter.Portfolio.Var);
        Assert.Equal(report.Portfolio.Es, shorter.Portfolio.Es);
        Assert.Equal(report.KsMean, shorter.KsMean);
    }

    [Fact]
    public void WhyNoTransitions_NamesTheSetItsLongestPathAndTheWindow()
    {
        Assert.Null(Regimes.RegimeStatistics.WhyNoTransitions("real", [new double[21]], 20));
        Assert.Equal("no regime can be measured in the real set: its paths have at most 5 steps, fewer than the regime window of 20, "
            + "so none has a full window; high_vol_share, calm_to_stressed and stressed_to_calm are undefined (null) for it; "
            + "a regime window of 2 steps (half the path) counts 3 transitions a path",
            Regimes.RegimeStatistics.WhyNoTransitions("real", [new double[5], new double[3]], 20));
        Assert.EndsWith("paths of 3 steps are too short for any regime window (2 steps at least) to count a transition",
            Regimes.RegimeStatistics.WhyNoTransitions("synthetic", [new double[3]], 3), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Regimes.RegimeStatistics.WhyNoTransitions("real", [new double[5]], 1));
    }

    [Fact]
    public void TrainTooShortForARegimeWindow_LeavesTheRegimeSharesUndefined_NotZero()
    {
        // the stressed threshold is fitted on train; 10 train rows have no 20-step window, so it is NaN, and "v > NaN" made
        // every step of the real and synthetic paths calm: high_vol_share 0 and calm_to_stressed 0, measured on nothing
        static SeriesSet Of(int rows, double phase) => new(["A", "B"],
            [.. Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase) * (1 + (t % 7))).ToArray())]);
        var report = Evaluator.Evaluate(new EvaluationInput(Of(200, 0), Of(300, 0.4), Of(10, 0.9)), new EvaluationOptions { Utility = false });
        Assert.True(double.IsNaN(report.Regimes.Threshold));
        Assert.True(double.IsNaN(report.Regimes.HighVolatilityShare.Real));
        Assert.True(double.IsNaN(report.Regimes.HighVolatilityShare.Synthetic));
        Assert.True(double.IsNaN(report.Regimes.CalmToStressed.Real));
        Assert.True(double.IsNaN(report.Regimes.CalmToStressed.Synthetic));
        Assert.True(double.IsNaN(report.Regimes.StressedToCalm.Synthetic));
        Assert.Equal((double.NaN, double.NaN, double.NaN), Regimes.RegimeStatistics.Summarise([new double[30]], 20, double.NaN));
    }

    [Fact]
    public void Regimes_AWindowHoldingAWipedOutStep_IsStressed_NotCalm()
    {
        // a wiped-out step (NaN log return) made its windows' volatility NaN, and "NaN > threshold" counted them calm
        var path = Enumerable.Range(0, 8).Select(t => 0.01 * (t % 2 == 0 ? 1 : -1)).ToArray();
        path[5] = double.NaN;
        // windows of 3: v at t = 2..7; those ending at 5, 6 and 7 hold the NaN; the others are all calm (v ≈ 0.0115 < 1)
        var (share, calmToStressed, stressedToCalm) = Regimes.RegimeStatistics.Summarise([path], 3, 1.0);
        Assert.Equal(3.0 / 6, share);
        Assert.Equal(1.0 / 3, calmToStressed); // calm at 2, 3, 4; 4 → 5 turns stressed
        Assert.Equal(0.0, stressedToCalm);
    }

    [Fact]
    public void ASensitiveSeriesGivenTwice_IsRefused_NotAttackedTwice()
    {
        // --sensitive b,b ran the attribute-inference attack twice and gave the report two privacy.attribute_inference.b.*
        // keys of each name, so checking any threshold (ThresholdCheck.Evaluate's dictionary of the scalar metrics) threw
        static SeriesSet Of(int rows, double phase) => new(["a", "b"],
            [.. Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase)).ToArray())]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(Of(60, 0), Of(50, 1), Of(70, 2)),
            new EvaluationOptions { SensitiveColumns = ["b", "b"], Utility = false }));
        Assert.Equal("invalid-option", e.Rule);
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ANonFinitePortfolioWeight_IsRefused(double weight)
    {
        // a NaN weight made every portfolio log return NaN: every real day an exception of a NaN VaR (Basel red), every
        // drawdown total, silently
        static SeriesSet Of(int rows, double phase) => new(["a", "b"],
            [.. Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase)).ToArray())]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(Of(60, 0), Of(50, 1)),
            new EvaluationOptions { PortfolioWeights = [0.5, weight] }));
        Assert.Equal("invalid-option", e.Rule);
    }

    public static TheoryData<string, EvaluationOptions> UncheckedOptions => new()
    {
        // each threw from deep inside (IndexOutOfRangeException, ArgumentOutOfRangeException) or gave NaN silently
        { "histogram bins 0", new EvaluationOptions { HistogramBins = 0 } },
        { "regime window 1", new EvaluationOptions { RegimeWindow = 1 } },
        { "regime percentile 101", new EvaluationOptions { RegimePercentile = 101 } },
        { "regime percentile NaN", new EvaluationOptions { RegimePercentile = double.NaN } },
        { "tail level 0", new EvaluationOptions { TailLevel = 0 } },
        { "tail level NaN", new EvaluationOptions { TailLevel = double.NaN } },
        // NaN passed the "alpha is <= 0 or >= 1" check and threw ArgumentOutOfRangeException from TailCount
        { "alpha NaN", new EvaluationOptions { Alpha = double.NaN } },
    };

    [Theory]
    [MemberData(nameof(UncheckedOptions))]
    public void AnOptionOutOfItsRange_IsRefusedAsInvalidOption(string what, EvaluationOptions options)
    {
        static SeriesSet Of(int rows, double phase) => new(["a", "b"],
            [.. Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase)).ToArray())]);
        var e = Assert.Throws<InvalidInputException>(() => Evaluator.Evaluate(new EvaluationInput(Of(60, 0), Of(50, 1)), options with { Utility = false }));
        Assert.True(e.Rule == "invalid-option", what);
    }

    // an all −0 column (a CSV of "-0.0") had the mean −0, which report.json printed as "-0"
    [Fact]
    public void Evaluate_AnAllNegativeZeroColumn_HasTheMeanZero_NotMinusZero()
    {
        var real = Fixtures.Load("real.csv");
        var zero = new SeriesSet(real.Names, [.. real.Columns.Select((c, i) => i == 0 ? c.Select(_ => -0.0).ToArray() : c)]);
        using var doc = System.Text.Json.JsonDocument.Parse(Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(zero, real))));
        Assert.Equal("0", doc.RootElement.GetProperty("per_series").GetProperty(real.Names[0]).GetProperty("mean")[0].GetRawText());
    }

    // a collapsed generator (every synthetic return 0): its VaR, the k-th largest loss −0, was printed as "-0"
    [Fact]
    public void Evaluate_ACollapsedGenerator_HasTheVaRZero_NotMinusZero()
    {
        var real = Fixtures.Load("real.csv");
        var flat = new SeriesSet(real.Names, [.. real.Columns.Select(c => new double[c.Length])]);
        var json = Crucible.Evaluation.Reporting.ReportJson.ToJson(Evaluator.Evaluate(new EvaluationInput(real, flat)));
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal("0", doc.RootElement.GetProperty("per_series").GetProperty(real.Names[0]).GetProperty("var")[1].GetRawText());
        Assert.DoesNotMatch("[\\[:,]\\s*-0(?![.0-9eE])", json);
    }
}
