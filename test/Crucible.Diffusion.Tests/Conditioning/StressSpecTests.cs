using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Steering;

namespace Crucible.Diffusion.Tests.Conditioning;

public class StressSpecTests
{
    private static readonly string[] Series = ["SPY", "HYG", "TLT", "GLD"];

    private static StressPlan Resolve(string spec, StressResolveOptions? options = null) =>
        StressSpec.Parse(spec).Resolve(ConditionSpaceTests.Sample(), Series, 20, options);

    private static InvalidInputException Error(string spec) =>
        Assert.Throws<InvalidInputException>(() => Resolve(spec));

    [Fact]
    public void Parse_ReadsEveryTermKind_WithTheirColumns()
    {
        var spec = StressSpec.Parse("gfc-2008; VIXCLS=45, vol=+2sd,TERM=-50%,BAA10Y=+300bp,DFF=-0.25,TERM=(-0.5),SPY<=-20%,daily(HYG, TLT)>=-5%,mean(*)≤-10%");
        Assert.Equal(
        [
            new ArchetypeTerm("gfc-2008", 1),
            new ConditionTerm("VIXCLS", ConditionChange.Absolute, 45, 11),
            new ConditionTerm("vol", ConditionChange.StandardDeviations, 2, 22),
            new ConditionTerm("TERM", ConditionChange.Percent, -50, 31),
            new ConditionTerm("BAA10Y", ConditionChange.BasisPoints, 300, 41),
            new ConditionTerm("DFF", ConditionChange.Shift, -0.25, 55),
            new ConditionTerm("TERM", ConditionChange.Absolute, -0.5, 65),
        ], spec.Terms.Take(7));
        var moves = spec.Terms.OfType<MoveTerm>().ToList();
        Assert.Equal((MoveScope.Cumulative, true, -20.0, 77), (moves[0].Scope, moves[0].AtMost, moves[0].Percent, moves[0].Column));
        Assert.Equal(["SPY"], moves[0].Series);
        Assert.Equal((MoveScope.Daily, false, -5.0), (moves[1].Scope, moves[1].AtMost, moves[1].Percent));
        Assert.Equal(["HYG", "TLT"], moves[1].Series);
        Assert.Equal((MoveScope.Mean, true, -10.0), (moves[2].Scope, moves[2].AtMost, moves[2].Percent));
        Assert.Equal(["*"], moves[2].Series);
    }

    [Fact]
    public void Resolve_AbsoluteAndRelativeValues_FollowTheDocumentedUnits()
    {
        var space = ConditionSpaceTests.Sample();   // reference: VIX 13.8, DFF 1.55, TERM 0.3, BAA 1.9, HY 3.6, RV20 11; sd RV20 9.5
        var plan = Resolve("VIXCLS=45,vol=+2sd,TERM=-50%,BAA10Y=+300bp,DFF=-0.25");
        Assert.Equal(["VIXCLS", "DFF", "TERM", "BAA10Y", "RV20"], plan.Conditions.Keys);
        Assert.Equal(45, plan.Conditions["VIXCLS"]);
        Assert.Equal(11 + (2 * 9.5), plan.Conditions["RV20"], 12);
        Assert.Equal(0.3 * 0.5, plan.Conditions["TERM"], 12);
        Assert.Equal(1.9 + 3.0, plan.Conditions["BAA10Y"], 12);
        Assert.Equal(1.55 - 0.25, plan.Conditions["DFF"], 12);
        Assert.Equal(0, plan.Constraints.Count);
        Assert.Null(plan.Guidance([0, 0, 0, 0], [1, 1, 1, 1]));

        Assert.Equal(-0.5, Resolve("TERM=(-0.5)").Conditions["TERM"]);
        Assert.Equal(13.8 + 10, Resolve("vix=+10").Conditions["VIXCLS"], 12);

        // anchored: every other feature at its reference value
        var anchored = Resolve("vol=+2sd", new StressResolveOptions(AnchorToReference: true));
        Assert.Equal(space.Names, anchored.Conditions.Keys);
        Assert.Equal(13.8, anchored.Conditions["VIXCLS"]);
        Assert.Equal(30.0, anchored.Conditions["RV20"], 12);
    }

    [Fact]
    public void Resolve_Archetypes_SetTheirVector_AndShiftsApplyToThemNotToTheReference()
    {
        var plan = Resolve("covid-2020");
        Assert.Equal(new Dictionary<string, double> { ["VIXCLS"] = 46.7, ["RV20"] = 60.0 }, plan.Conditions);

        var shifted = Resolve("covid-2020;vol=+1sd;VIXCLS=60;DFF=+50bp");
        Assert.Equal(60.0 + 9.5, shifted.Conditions["RV20"], 12);   // archetype value + 1 sd
        Assert.Equal(60, shifted.Conditions["VIXCLS"]);              // absolute replaces the archetype's
        Assert.Equal(1.55 + 0.5, shifted.Conditions["DFF"], 12);     // not in the archetype: reference + 50bp

        // an absolute value and a shift of the same feature: the shift applies to the value
        Assert.Equal(50, Resolve("VIXCLS=45,vix=+5").Conditions["VIXCLS"], 12);
        Assert.Equal(46.7 * 1.1, Resolve("COVID-2020,vix=+10%").Conditions["VIXCLS"], 12);
    }

    [Fact]
    public void Resolve_Moves_BecomeLogReturnConstraints()
    {
        var plan = Resolve("SPY<=-20%,HYG<=-10%;TLT>=+5%,daily(GLD)>=-3%,mean(SPY,HYG)<=-15%");
        var c = plan.Constraints;
        Assert.Equal(Series, c.SeriesNames);
        Assert.Equal(20, c.Window);
        Assert.Equal(1 + 1 + 1 + 20 + 1, c.Count);

        // a window with constant daily log returns g per series: each inequality's excess is known in closed form
        double[] g = [-0.02, -0.004, 0.003, -0.001];
        var r = new double[80];
        for (int i = 0; i < 4; i++)
        {
            for (int t = 0; t < 20; t++) r[(i * 20) + t] = g[i];
        }

        Assert.Equal((20 * g[0]) - Math.Log(0.8), c.Excess(0, r), 12);
        Assert.Equal((20 * g[1]) - Math.Log(0.9), c.Excess(1, r), 12);
        Assert.Equal(Math.Log(1.05) - (20 * g[2]), c.Excess(2, r), 12);
        for (int t = 0; t < 20; t++) Assert.Equal(Math.Log(0.97) - g[3], c.Excess(3 + t, r), 12);
        Assert.Equal((0.5 * 20 * (g[0] + g[1])) - Math.Log(0.85), c.Excess(23, r), 12);
        Assert.Equal("SPY cumulative ≤ -0.223144", c.Inequalities[0].Label);
        Assert.Equal("mean(SPY,HYG) cumulative ≤ -0.162519", c.Inequalities[23].Label);

        var guidance = plan.Guidance([0, 0, 0, 0], [0.01, 0.01, 0.01, 0.01]);
        Assert.NotNull(guidance);
        Assert.Same(c, guidance.Constraints);

        // case-insensitive series, '*' for all
        Assert.Equal(4 * 20, Resolve("daily(*)>=-10%").Constraints.Count);
        Assert.Equal(1, Resolve("spy<=-20%").Constraints.Count);
    }

    [Theory]
    [InlineData("VIXCLS=4.5e1", "VIXCLS=45")]
    [InlineData("VIXCLS=4.5E+1", "VIXCLS=45")]
    [InlineData("TERM=(-5e-1)", "TERM=(-0.5)")]
    [InlineData("vol=+2e0sd", "vol=+2sd")]
    [InlineData("BAA10Y=+3e2bp", "BAA10Y=+300bp")]
    [InlineData("TERM=-5E1%", "TERM=-50%")]
    [InlineData("DFF=-2.5e-1", "DFF=-0.25")]
    [InlineData("VIXCLS=.5", "VIXCLS=0.5")]
    [InlineData("SPY<=-2e1%", "SPY<=-20%")]
    public void Parse_AcceptsTheNumberSyntaxOfCondition_ScientificNotationIncluded(string scientific, string plain)
    {
        // --condition VIXCLS=4.5e1 was accepted while --stress "VIXCLS=4.5e1" was refused: one number rule for both
        static string Show(StressTerm t) => t is MoveTerm m
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{m.Scope} {string.Join(',', m.Series)} {m.AtMost} {m.Percent:R} {m.Column}")
            : t.ToString();
        Assert.Equal(StressSpec.Parse(plain).Terms.Select(Show), StressSpec.Parse(scientific).Terms.Select(Show));
        string value = scientific[(scientific.IndexOfAny(['=', '<']) + (scientific.Contains('<', StringComparison.Ordinal) ? 2 : 1))..]
            .Trim('(', ')', '%').Replace("sd", "", StringComparison.Ordinal).Replace("bp", "", StringComparison.Ordinal);
        Assert.True(StressSpec.TryParseNumber(value, out double number), value);
        Assert.Equal(double.Parse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture), number);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e400")]
    [InlineData("4,5")]
    [InlineData("1_000")]
    [InlineData("")]
    public void TryParseNumber_RefusesNonFiniteAndNonInvariantNumbers(string text) =>
        Assert.False(StressSpec.TryParseNumber(text, out _));

    [Theory]
    [InlineData("", StressRules.Syntax, 1)]
    [InlineData("vix=45,,vol=+1sd", StressRules.Syntax, 8)]
    [InlineData("vix=45;", StressRules.Syntax, 8)]
    [InlineData("vix=", StressRules.Syntax, 5)]
    [InlineData("vol=2sd", StressRules.Value, 5)]
    [InlineData("vol=+2sdx", StressRules.Value, 5)]
    [InlineData("vix=4,5", StressRules.Syntax, 7)]
    [InlineData("vix=45x", StressRules.Value, 5)]
    [InlineData("vix=1e400", StressRules.Value, 5)]
    [InlineData("vix=NaN", StressRules.Value, 5)]
    [InlineData("vix=Infinity", StressRules.Value, 5)]
    [InlineData("vix=(-Infinity)", StressRules.Value, 6)]
    [InlineData("vol=+1e999sd", StressRules.Value, 5)]
    [InlineData("SPY<=-Infinity%", StressRules.Value, 6)]
    [InlineData("vix=4.5e", StressRules.Value, 5)]
    [InlineData("vix=+-5", StressRules.Value, 5)]
    [InlineData("TERM=-100%", StressRules.Value, 6)]
    [InlineData("SPY<=-20", StressRules.Value, 6)]
    [InlineData("SPY <= -120%", StressRules.Value, 8)]
    [InlineData("SPY<-20%", StressRules.Syntax, 4)]
    [InlineData("daily(SPY<=-2%", StressRules.Syntax, 6)]
    [InlineData("max(SPY)<=-2%", StressRules.Syntax, 1)]
    [InlineData("SPY)<=-2%", StressRules.Syntax, 4)]
    [InlineData("daily(SPY,)>=-2%", StressRules.Syntax, 7)]
    [InlineData("vix=(45", StressRules.Syntax, 5)]
    [InlineData("crash 2008", StressRules.Syntax, 1)]
    [InlineData("SPY≤-20", StressRules.Value, 5)]
    [InlineData("SPY ≥ 5%, HYG>=x%", StressRules.Value, 16)]
    public void Parse_Errors_NameTheColumnAndRule(string spec, string rule, int column)
    {
        var e = Assert.Throws<InvalidInputException>(() => StressSpec.Parse(spec));
        Assert.Equal(rule, e.Rule);
        Assert.Equal(new InputLocation("--stress", 1, column), e.Location);
        Assert.StartsWith($"--stress:1:{column}: error [{rule}]: ", e.ToUserMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*<=-20%", 1)]
    [InlineData("HYG>=-5%, * >= 10%", 11)]
    public void Parse_RefusesABareStarMove_ThatBoundedOnlyTheFirstSeries(string spec, int column)
    {
        // '*' outside daily(…) or mean(…) was read as a series list of every series, then the cumulative move bounded only
        // the first one ("*<=-20%" gave the single constraint "SPY cumulative ≤ -0.223144")
        var e = Assert.Throws<InvalidInputException>(() => StressSpec.Parse(spec));
        Assert.Equal((StressRules.Syntax, column), (e.Rule, e.Location!.Column));
        Assert.Contains("daily(*)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SPY<=-50%; SPY>=50%", 12, "the moves 'SPY<=-50%' (column 1) and 'SPY>=50%' (column 12) contradict each other: the return of SPY over the window cannot be at least 50% and at most -50%")]
    [InlineData("vix=45, spy>=10%, HYG<=-5%, SPY<=5%", 29, "'spy>=10%' (column 9) and 'SPY<=5%' (column 29)")]
    [InlineData("daily(*)>=-1%, daily(HYG,TLT)<=-2%", 16, "the daily returns of HYG cannot be at least -1% and at most -2%")]
    [InlineData("mean(SPY,HYG)<=-10%, mean(hyg, spy)>=0%", 22, "the mean return of SPY, HYG over the window")]
    public void Resolve_RefusesMovesThatLeaveAnEmptyInterval_NamingBoth(string spec, int column, string message)
    {
        var e = Error(spec);
        Assert.Equal((StressRules.Conflict, column), (e.Rule, e.Location!.Column));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SPY<=-10%; SPY>=-10%")] // one point: feasible
    [InlineData("SPY<=5%; SPY>=-20%; SPY<=10%")]
    [InlineData("SPY<=-50%; HYG>=50%")] // different series
    [InlineData("daily(SPY)>=-1%; SPY<=-30%")] // different targets: not refused on its face
    [InlineData("mean(SPY,HYG)<=-10%; mean(SPY,HYG,TLT)>=0%")]
    public void Resolve_KeepsMovesWhoseIntervalIsNotEmpty(string spec) => Assert.True(Resolve(spec).Constraints.Count > 0);

    [Fact]
    public void Resolve_ACrisisArchetypeTheModelLacks_BlamesTheStateHistory_NamingTheTrainPeriodBesideIt()
    {
        // archetypes come from the whole state history given at training (train rows and later), not the train period:
        // a model trained on 2010–2012 lacks gfc-2008 because that history has no state in it, and the message says so,
        // with the train period beside it, never as the reason (a model trained to 2019 on a file running to 2020 has covid-2020)
        var space = new ConditionSpace(["VIXCLS"], [20], [8], [14]);
        var early = new StressResolveOptions { TrainPeriod = (new DateOnly(2010, 1, 4), new DateOnly(2012, 12, 31)) };
        var e = Assert.Throws<InvalidInputException>(() => StressSpec.Parse("gfc-2008").Resolve(space, Series, 5, early));
        Assert.Equal(StressRules.UnknownName, e.Rule);
        Assert.Contains("the model has no archetype 'gfc-2008': the state history it was trained with has no known condition state in the episode "
            + "(2008-09-15 to 2009-03-09); archetypes come from the whole state history given at training", e.Message, StringComparison.Ordinal);
        Assert.Contains("not only the training data (2010-01-04 to 2012-12-31); the model's archetypes: none", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not cover", e.Message, StringComparison.Ordinal);
        // a period the caller does not know: the same reason, without it
        var unknown = Assert.Throws<InvalidInputException>(() => StressSpec.Parse("covid-2020").Resolve(space, Series, 5)).Message;
        Assert.Contains("the model has no archetype 'covid-2020': the state history it was trained with has no known condition state in the episode (2020-02-20 to 2020-04-30)",
            unknown, StringComparison.Ordinal);
        Assert.Contains("not only the training data; the model's archetypes: none", unknown, StringComparison.Ordinal);
        // a name that is no episode stays an unknown name
        Assert.Contains("unknown archetype or term 'dotcom-2000'",
            Assert.Throws<InvalidInputException>(() => StressSpec.Parse("dotcom-2000").Resolve(space, Series, 5, early)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AnAliasOfAFeatureTheModelLacks_SaysWhatItStandsFor()
    {
        // an analyst's state: her own VIX column (VOLIDX) and unemployment, no RV20 and no VIXCLS
        var own = new ConditionSpace(["VOLIDX", "UNRATE"], [18, 6], [6, 2], [14, 4]);
        var e = Assert.Throws<InvalidInputException>(() => StressSpec.Parse("UNRATE=+1sd; vol=+2sd").Resolve(own, Series, 20));
        Assert.Equal((StressRules.UnknownName, 14), (e.Rule, e.Location!.Column));
        Assert.Contains("unknown condition 'vol' ('vol' stands for RV20, which the model is not conditioned on: it was trained without RV20 among its state columns) (known features: VOLIDX, UNRATE",
            e.Message, StringComparison.Ordinal);
        Assert.Contains("'vix' stands for VIXCLS", Assert.Throws<InvalidInputException>(() => StressSpec.Parse("VIX=40").Resolve(own, Series, 20)).Message, StringComparison.Ordinal);
        Assert.Equal(14 + (2 * 6), StressSpec.Parse("volidx=+2sd").Resolve(own, Series, 20).Conditions["VOLIDX"], 9);   // her own names work: two sd above the reference state
    }

    [Fact]
    public void Resolve_Errors_ListTheKnownNames()
    {
        var e = Error("vix=30,volatility=+1sd");
        Assert.Equal(StressRules.UnknownName, e.Rule);
        Assert.Equal(8, e.Location!.Column);
        Assert.Contains("unknown condition 'volatility'", e.Message, StringComparison.Ordinal);
        Assert.Contains("features: VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2, RV20", e.Message, StringComparison.Ordinal);
        Assert.Contains("vol → RV20", e.Message, StringComparison.Ordinal);
        Assert.Contains("archetypes: gfc-2008, covid-2020", e.Message, StringComparison.Ordinal);

        var a = Error("dotcom-2000");
        Assert.Equal(StressRules.UnknownName, a.Rule);
        Assert.Contains("unknown archetype or term 'dotcom-2000'", a.Message, StringComparison.Ordinal);
        Assert.Contains("archetype takes no value", Error("gfc-2008=1").Message, StringComparison.Ordinal);

        var s = Error("vix=30,QQQ<=-20%");
        Assert.Equal((StressRules.UnknownSeries, 8), (s.Rule, s.Location!.Column));
        Assert.Contains("series: SPY, HYG, TLT, GLD", s.Message, StringComparison.Ordinal);
        Assert.Contains("is a condition", Error("VIXCLS<=45%").Message, StringComparison.Ordinal);

        Assert.Equal((StressRules.Conflict, 11), (Error("gfc-2008, covid-2020").Rule, Error("gfc-2008, covid-2020").Location!.Column));
        Assert.Equal(StressRules.Conflict, Error("vix=30,VIXCLS=40").Rule);
        Assert.Equal(StressRules.Conflict, Error("vol=+1sd,RV20=+2").Rule);
        Assert.Equal(StressRules.Conflict, Error("mean(SPY,spy)<=-5%").Rule);

        var none = Assert.Throws<InvalidInputException>(() => StressSpec.Parse("SPY<=-20%,vix=45").Resolve(null, Series, 5));
        Assert.Equal((StressRules.UnknownName, 11), (none.Rule, none.Location!.Column));
        Assert.Equal(1, StressSpec.Parse("SPY<=-20%").Resolve(null, Series, 5).Constraints.Count);
        Assert.Empty(StressSpec.Parse("SPY<=-20%").Resolve(null, Series, 5).Conditions);

        var zero = Assert.Throws<InvalidInputException>(() => StressSpec.Parse("A=+1sd").Resolve(new ConditionSpace(["A"], [0], [0], [1]), Series, 5));
        Assert.Equal(StressRules.Value, zero.Rule);
        Assert.Equal(1, StressSpec.Parse("A=+1").Resolve(new ConditionSpace(["A"], [0], [0], [0]), Series, 5).Conditions["A"]);
    }
}

/// <summary>From the text of a stress specification to guided samples, on the exact denoiser of correlated Gaussian windows.</summary>
public class StressPlanSamplingTests
{
    [Fact]
    public void JointMoveSpec_GuidesTheSamplerIntoTheMove()
    {
        var schedule = Crucible.Diffusion.Schedules.NoiseSchedule.Linear();
        var model = new Steering.CorrelatedWindows(schedule);
        var space = new ConditionSpace(["VIXCLS"], [20], [8], [14]);
        var plan = StressSpec.Parse("SPY<=-10%,HYG<=-3%;daily(TLT)>=-2%").Resolve(space, ["SPY", "HYG", "TLT"], 10);
        Assert.Empty(plan.Conditions);
        var guidance = plan.Guidance(Steering.CorrelatedWindows.Mean, Steering.CorrelatedWindows.Sd);
        var options = new Crucible.Diffusion.Samplers.SamplerOptions(Crucible.Diffusion.Samplers.SamplerKind.Ddim, 40, ChunkSize: 100);
        var plain = Steering.CorrelatedWindows.ToReturns(Crucible.Diffusion.Samplers.DiffusionSampler.Sample(model, schedule, Objective.Epsilon, 400, 8, options));
        var guided = Steering.CorrelatedWindows.ToReturns(Crucible.Diffusion.Samplers.DiffusionSampler.Sample(model, schedule, Objective.Epsilon, 400, 8, options with { Guidance = guidance }));
        Assert.InRange(plan.Constraints.ViolationRate(plain, 400, 1e-5), 0.95, 1.0);
        Assert.InRange(plan.Constraints.ViolationRate(guided, 400, 1e-5), 0.0, 0.01);
    }
}
