using Crucible.Data;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reverse;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Reverse;

public sealed class ReverseStressTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    [Fact]
    public void PortfolioLossObjective_GradientMatchesCentralDifferences()
    {
        var rng = new System.Random(3);
        var window = Enumerable.Range(0, 12).Select(_ => (rng.NextDouble() - 0.5) * 0.1).ToArray();
        double[] w = [0.9, -0.3, 0.6];
        var objective = new PortfolioLossObjective(w);
        var gradient = new double[12];
        var value = objective.Evaluate(window, 3, gradient);
        var direct = 0.0;
        for (var t = 0; t < 4; t++) direct -= Math.Log(1 + (w[0] * (Math.Exp(window[3 * t]) - 1)) + (w[1] * (Math.Exp(window[(3 * t) + 1]) - 1)) + (w[2] * (Math.Exp(window[(3 * t) + 2]) - 1)));
        Assert.Equal(direct, value, 1e-14);
        var scratch = new double[12];
        for (var k = 0; k < 12; k++)
        {
            const double h = 1e-6;
            var up = (double[])window.Clone();
            up[k] += h;
            var down = (double[])window.Clone();
            down[k] -= h;
            var numeric = (objective.Evaluate(up, 3, scratch) - objective.Evaluate(down, 3, scratch)) / (2 * h);
            Assert.Equal(numeric, gradient[k], 1e-8);
        }
    }

    [Fact]
    public void NearestWindowPlausibility_HistoricalWindowsScoreZero_AndStrangerOnesLower()
    {
        var history = GeneratorTests.Panel(300, 5);
        var score = new NearestWindowPlausibility(history);
        var values = history.Values.AsSpan(40 * 2, 5 * 2).ToArray(); // the window starting at row 40
        var historical = new ScenarioWindows(history.Columns, 1, 5, values);
        Assert.Equal(0, score.Score(historical)[0], 12);
        var tripled = historical with { Values = values.Select(v => 3 * v).ToArray() };
        Assert.True(score.Score(tripled)[0] < -0.1);
    }

    [Fact]
    public void Run_ReportsOnlyBreachingScenarios_MostPlausibleFirst_WithAttributionsThatSumToTheLoss()
    {
        var history = GeneratorTests.Panel(2000, 6);
        var fitted = new FilteredHistoricalSimulation(start: VarianceStart.SampleVariance).Fit(history, 1);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 0.05, Horizon = 10, Candidates = 3000, Top = 15, Seed = 2 };
        var result = ReverseStress.Run(fitted, request, new NearestWindowPlausibility(history));
        Assert.Equal("rejection", result.Sampling);
        Assert.InRange(result.Breaching, 16, 2999);
        Assert.Equal(15, result.Top.Count);
        Assert.All(result.Top, s => Assert.True(s.Loss >= 0.05));
        for (var j = 1; j < result.Top.Count; j++) Assert.True(result.Top[j - 1].Plausibility >= result.Top[j].Plausibility);
        var windows = fitted.Sample(3000, 10, 2);
        foreach (var s in result.Top)
        {
            double r = 0;
            for (var t = 0; t < 10; t++) r += Math.Log((0.6 * Math.Exp(windows[s.Index, t, 0])) + (0.4 * Math.Exp(windows[s.Index, t, 1])));
            Assert.Equal(1 - Math.Exp(r), s.Loss, 1e-12);
            Assert.Equal(-r, s.AttributionLog.Sum(), 1e-12);
            // the reported attribution is in the units of the reported loss and adds up to it
            Assert.Equal(s.Loss, s.Attribution.Sum(), 1e-12);
            // the same allocation, scaled: each series' share of the loss is its share of the log loss
            for (var i = 0; i < 2; i++) Assert.Equal(s.AttributionLog[i] / -r, s.Attribution[i] / s.Loss, 1e-12);
        }

        // equity drives a 60/40's losses in this panel (its volatility is about 1.6 times the bond's)
        Assert.True(result.MeanAttribution[0] > result.MeanAttribution[1]);
        Assert.True(result.MeanAttributionLog[0] > result.MeanAttributionLog[1]);
    }

    [Fact]
    public void Evaluate_AttributionsSumToTheReportedLoss_InTheReportToo_AndTheMeanToTheMeanLoss()
    {
        // two one-step scenarios of a 60/40 book: a 30 % equity fall with bonds up 2 %, and a 20 % fall with bonds flat
        var windows = new ScenarioWindows(["EQ", "BD"], 2, 1, [Math.Log(0.7), Math.Log(1.02), Math.Log(0.8), 0]);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 0.1, Horizon = 1, Top = 5 };
        var result = ReverseStress.Evaluate(windows, request, new ZeroPlausibility(), "fixture", "rejection");
        Assert.Equal(2, result.Breaching);
        // loss 1 − (0.6·0.7 + 0.4·1.02) = 0.172 and 1 − (0.6·0.8 + 0.4) = 0.12 (a one-step P&L is exact: no log split)
        var first = result.Top.Single(s => s.Index == 0);
        Assert.Equal(0.172, first.Loss, 1e-12);
        Assert.Equal(first.Loss, first.Attribution.Sum(), 1e-12);
        // one step: the Euler parts of the simple loss are −w_i (e^{r_i} − 1) = 0.18 and −0.008, exactly the scaled ones
        Assert.Equal(0.18, first.Attribution[0], 1e-12);
        Assert.Equal(-0.008, first.Attribution[1], 1e-12);
        Assert.Equal(-Math.Log(1 - 0.172), first.AttributionLog.Sum(), 1e-12);
        Assert.Equal((0.172 + 0.12) / 2, result.MeanLoss, 1e-12);
        Assert.Equal(result.MeanLoss, result.MeanAttribution.Sum(), 1e-12);

        using var json = System.Text.Json.JsonDocument.Parse(Crucible.Stress.Reporting.StressJson.ToJson(
            Crucible.Stress.Risk.StressAnalysis.Run(windows.ToSeriesSet(), SixtyForty, [0.99]), new Crucible.Stress.Reporting.ScenarioSource("fixture.csv", new string('0', 64)), result));
        var reverse = json.RootElement.GetProperty("reverse");
        Assert.Equal(reverse.GetProperty("mean_loss").GetDouble(),
            reverse.GetProperty("mean_attribution").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-12);
        foreach (var s in reverse.GetProperty("scenarios").EnumerateArray())
        {
            var loss = s.GetProperty("loss").GetDouble();
            Assert.Equal(loss, s.GetProperty("attribution").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-12);
            Assert.Equal(-Math.Log(1 - loss), s.GetProperty("attribution_log").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-12);
        }
    }

    [Fact]
    public void Evaluate_NoBreach_LeavesTheMeanAttributionUndefined_LikeTheMeanLoss()
    {
        // no scenario breaches: there is no mean loss, so there is no mean attribution either (it came out as zeros)
        var windows = new ScenarioWindows(["EQ", "BD"], 2, 1, [Math.Log(0.99), 0, 0, Math.Log(1.01)]);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 0.1, Horizon = 1, Top = 5 };
        var result = ReverseStress.Evaluate(windows, request, new ZeroPlausibility(), "fixture", "rejection");
        Assert.Equal(0, result.Breaching);
        Assert.True(double.IsNaN(result.MeanLoss));
        Assert.All(result.MeanAttribution, a => Assert.True(double.IsNaN(a)));
        Assert.All(result.MeanAttributionLog, a => Assert.True(double.IsNaN(a)));
        using var json = System.Text.Json.JsonDocument.Parse(Crucible.Stress.Reporting.StressJson.ToJson(
            Crucible.Stress.Risk.StressAnalysis.Run(windows.ToSeriesSet(), SixtyForty, [0.9]), new Crucible.Stress.Reporting.ScenarioSource("fixture.csv", new string('0', 64)), result));
        var reverse = json.RootElement.GetProperty("reverse");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, reverse.GetProperty("mean_loss").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, reverse.GetProperty("mean_attribution").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, reverse.GetProperty("mean_attribution_log").ValueKind);
    }

    [Fact]
    public void Evaluate_ACandidateThatWipesALeveredBookOut_IsABreachLosingTheWholeCapital_AndTheRunGoesOn()
    {
        // a book 3× long EQ: a 50 % fall is a gross return of 1 + 3·(−0.5) < 0, which failed the whole run
        var levered = new Portfolio("levered", [new Holding("EQ", 3), new Holding("BD", 0)], leverage: 3);
        var windows = new ScenarioWindows(["EQ", "BD"], 3, 1, [Math.Log(0.5), 0, Math.Log(0.9), 0, Math.Log(1.01), 0]);
        var request = new ReverseStressRequest { Portfolio = levered, LossThreshold = 0.2, Horizon = 1, Top = 5 };
        var result = ReverseStress.Evaluate(windows, request, new ZeroPlausibility(), "fixture", "rejection");
        Assert.Equal(2, result.Breaching);
        var wiped = result.Top.Single(s => s.Index == 0);
        Assert.Equal(1.0, wiped.Loss);
        Assert.Equal(1.0, wiped.Attribution.Sum(), 1e-12); // the whole capital, all of it EQ's
        Assert.Equal(1.0, wiped.Attribution[0], 1e-12);
        Assert.All(wiped.AttributionLog, a => Assert.True(double.IsNaN(a))); // the log loss is infinite: no log parts
        var other = result.Top.Single(s => s.Index == 1);
        Assert.Equal(0.3, other.Loss, 1e-12);
        Assert.Equal((1.0 + 0.3) / 2, result.MeanLoss, 1e-12);
        Assert.Equal(result.MeanLoss, result.MeanAttribution.Sum(), 1e-12);
        using var json = System.Text.Json.JsonDocument.Parse(Crucible.Stress.Reporting.StressJson.ToJson(
            Crucible.Stress.Risk.StressAnalysis.Run(new ScenarioWindows(["EQ", "BD"], 1, 1, [Math.Log(0.9), 0]).ToSeriesSet(), levered, [0.5]), new Crucible.Stress.Reporting.ScenarioSource("fixture.csv", new string('0', 64)), result));
        var scenario = json.RootElement.GetProperty("reverse").GetProperty("scenarios").EnumerateArray().First(s => s.GetProperty("index").GetInt32() == 1);
        Assert.Equal(1.0, scenario.GetProperty("loss").GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, scenario.GetProperty("attribution_log").GetProperty("EQ").ValueKind);
    }

    [Fact]
    public void Adversarial_AGuidedCandidateThatWipesALeveredBookOut_IsTheWorstScenario_AndTheRunGoesOn()
    {
        // ordinary draws fall at most 2 % a day; the guided rungs' draws include a 50 % fall, which wipes out a 3× book
        var levered = new Portfolio("levered", [new Holding("EQ", 3), new Holding("BD", 0)], leverage: 3);
        var request = new AdversarialRequest { Portfolio = levered, Horizon = 1, CandidatesPerRung = 10, LadderMultiples = [2.0], Top = 3 };
        var result = AdversarialScenarios.Run(new CrashingGenerator(), request, new ZeroPlausibility());
        Assert.Equal(20, result.Candidates);
        var worst = result.Worst[0];
        Assert.Equal(10, worst.Index); // the rung's first draw
        Assert.Equal(1.0, worst.Loss);
        Assert.Equal(1.0, worst.Attribution[0], 1e-12);
        Assert.All(worst.AttributionLog, a => Assert.True(double.IsNaN(a)));
        Assert.True(result.Worst[1].Loss < 1);
    }

    // unguided: ten one-day draws of EQ falling 0 … 1.8 %; guided: the same, the first a 50 % fall
    private sealed class CrashingGenerator : IGuidedScenarioGenerator
    {
        public string Name => "crashing";

        public IReadOnlyList<string> Columns { get; } = ["EQ", "BD"];

        public ScenarioWindows Sample(int count, int window, ulong seed) =>
            new(Columns, count, window, [.. Enumerable.Range(0, count * window).SelectMany(i => new[] { -0.002 * (i % 10), 0.0 })]);

        public ScenarioWindows SampleGuided(int count, int window, IScenarioObjective objective, double target, double guidanceScale, ulong seed)
        {
            var windows = Sample(count, window, seed);
            windows.Values[0] = Math.Log(0.5);
            return windows;
        }
    }

    [Fact]
    public void Adversarial_OneOrdinaryDrawIn101ThatWipesTheBookOut_IsNoReasonToRefuse()
    {
        // the ladder's reference is the ordinary draws' 99% loss quantile; of 101 draws it is the 100th smallest loss
        // exactly (numpy's linear interpolation at index 99.0), finite when one draw wipes the book out. The interpolation
        // still weighed the infinite 101st by 0 and 0 × ∞ was NaN, refused as "over 1% of the model's ordinary draws wipe
        // the book out" (1 of 101 is under 1%). --candidates 505 gives 101 draws a rung
        var levered = new Portfolio("levered", [new Holding("EQ", 3), new Holding("BD", 0)], leverage: 3);
        var request = new AdversarialRequest { Portfolio = levered, Horizon = 1, CandidatesPerRung = 101, LadderMultiples = [2.0], Top = 3 };
        var result = AdversarialScenarios.Run(new OneWipeOutGenerator(), request, new ZeroPlausibility());
        Assert.Equal(2 * -Math.Log(1 + (3 * (Math.Exp(-0.018) - 1))), result.Targets[0], 1e-12); // 2 × the 100th smallest loss, the largest finite one
        Assert.Equal(1.0, result.Worst[0].Loss);
    }

    // every draw: EQ falling 0 … 1.8 % a day, except the first, a 50 % fall (a 3× book loses everything)
    private sealed class OneWipeOutGenerator : IGuidedScenarioGenerator
    {
        public string Name => "one-wipe-out";

        public IReadOnlyList<string> Columns { get; } = ["EQ", "BD"];

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            var windows = new ScenarioWindows(Columns, count, window, [.. Enumerable.Range(0, count * window).SelectMany(i => new[] { -0.002 * (i % 10), 0.0 })]);
            windows.Values[0] = Math.Log(0.5);
            return windows;
        }

        public ScenarioWindows SampleGuided(int count, int window, IScenarioObjective objective, double target, double guidanceScale, ulong seed) =>
            Sample(count, window, seed);
    }

    private sealed class ZeroPlausibility : IPlausibilityScore
    {
        public string Method => "zero";

        public double[] Score(ScenarioWindows windows) => new double[windows.Count];
    }

    [Fact]
    public void Run_BadThreshold_IsBadInput()
    {
        var fitted = new StationaryBootstrap().Fit(GeneratorTests.Panel(100, 1), 0);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 1.5 };
        Assert.Equal("loss-threshold", Assert.Throws<InvalidInputException>(() => ReverseStress.Run(fitted, request, new NearestWindowPlausibility(GeneratorTests.Panel(100, 1)))).Rule);
    }

    [Fact]
    public void ScenarioFile_ReportsEachBreachByItsScenarioIdInTheFile()
    {
        // a scenario file whose ids are not 1..n (a filtered or merged file): "index" is the position among the file's
        // scenarios, which a validator cannot look up; "scenario" is the id the file gives it
        var history = GeneratorTests.Panel(400, 7);
        var dir = Directory.CreateTempSubdirectory("crucible-reverse-ids-");
        try
        {
            var csv = new System.Text.StringBuilder("scenario,step,EQ,BD\n");
            for (var c = 0; c < 60; c++)
            {
                var id = 1000 + (7 * c);
                var scale = c % 10 == 3 ? -0.05 : 0.0; // every tenth scenario, from the fourth, falls 5% a day
                for (var t = 0; t < 5; t++)
                {
                    csv.Append(System.Globalization.CultureInfo.InvariantCulture,
                        $"{id},{t + 1},{history[(5 * c) + t, 0] + scale:R},{history[(5 * c) + t, 1]:R}\n");
                }
            }

            var scenarios = Path.Combine(dir.FullName, "s.csv");
            var portfolio = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(scenarios, csv.ToString());
            File.WriteAllText(portfolio, """{"name": "60/40", "weights": {"EQ": 0.6, "BD": 0.4}}""");
            var (result, source, reverse) = StressFiles.Run(scenarios, portfolio, [0.95], new ReverseOptions(0.05, history));
            Assert.NotNull(reverse);
            Assert.InRange(reverse.Breaching, 6, 60); // the six falling ones at least
            using var json = System.Text.Json.JsonDocument.Parse(Crucible.Stress.Reporting.StressJson.ToJson(result, source, reverse));
            var reported = json.RootElement.GetProperty("reverse").GetProperty("scenarios").EnumerateArray().ToArray();
            Assert.Equal(reverse.Top.Count, reported.Length);
            Assert.Contains(reported, s => s.GetProperty("scenario").GetInt32() == 1021); // the fourth scenario
            foreach (var s in reported)
            {
                var index = s.GetProperty("index").GetInt32();
                Assert.Equal(1000 + (7 * (index - 1)), s.GetProperty("scenario").GetInt32());
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void StressFiles_ReverseOverRaggedScenarios_NamesTheScenarioFile()
    {
        // the file's scenarios are the candidates, which need one horizon: the refusal named no file at all
        var history = GeneratorTests.Panel(100, 2);
        var dir = Directory.CreateTempSubdirectory("crucible-reverse-ragged-");
        try
        {
            var scenarios = Path.Combine(dir.FullName, "s.csv");
            var portfolio = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(scenarios, "scenario,step,EQ,BD\n1,1,0.01,0.0\n1,2,-0.02,0.01\n2,1,-0.03,0.0\n");
            File.WriteAllText(portfolio, """{"name": "60/40", "weights": {"EQ": 0.6, "BD": 0.4}}""");
            var e = Assert.Throws<InvalidInputException>(() => StressFiles.Run(scenarios, portfolio, [0.95], new ReverseOptions(0.05, history)));
            Assert.Equal("ragged-scenarios", e.Rule);
            Assert.Equal(scenarios, e.Location?.File);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void StressFiles_AScenarioThatWipesTheBookOut_NamesTheScenarioFile()
    {
        var dir = Directory.CreateTempSubdirectory("crucible-stress-wiped-");
        try
        {
            var scenarios = Path.Combine(dir.FullName, "s.csv");
            var portfolio = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(scenarios, "scenario,step,EQ,BD\n1,1,0.01,0.0\n2,1,-0.5,0.0\n");
            File.WriteAllText(portfolio, """{"weights": {"EQ": 3}, "leverage": 3}""");
            var e = Assert.Throws<InvalidInputException>(() => StressFiles.Run(scenarios, portfolio, [0.9]));
            Assert.Equal("wiped-out", e.Rule);
            Assert.Equal(scenarios, e.Location?.File);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
