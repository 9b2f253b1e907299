using Crucible.Data;
using Crucible.Diffusion.Conditioning;

namespace Crucible.Diffusion.Tests.Conditioning;

/// <summary>
/// The names a stress specification can write: bare names of Unicode letters and digits (a condition or archetype named
/// <c>DAX_Prämie</c> or <c>日経</c> was "not a condition name"), and the quoted form <c>"…"</c> (<c>""</c> for a quote) for
/// any other name (spaces, operators, separators), with error columns that stay right around it.
/// </summary>
public class StressSpecNamesTests
{
    private static readonly string[] Series = ["S&P 500", "DAX_Prämie", "日経", "a,b", "x\"y", "SPY"];

    private static ConditionSpace Space() => new(
        ["DAX_Prämie", "日経", "VIX (close)", "VIXCLS"], [1, 2, 3, 4], [1, 1, 1, 1], [10, 20, 30, 40],
        new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["crise-été"] = new Dictionary<string, double> { ["日経"] = 25 },
            ["crash; 2008"] = new Dictionary<string, double> { ["VIXCLS"] = 80 },
        });

    private static StressPlan Resolve(string spec) => StressSpec.Parse(spec).Resolve(Space(), Series, 5);

    [Theory]
    [InlineData("DAX_Prämie=+1sd", "DAX_Prämie", ConditionChange.StandardDeviations, 1.0)]
    [InlineData("日経=45", "日経", ConditionChange.Absolute, 45.0)]
    [InlineData("Pra\u0308mie.2-b=-10%", "Pra\u0308mie.2-b", ConditionChange.Percent, -10.0)]
    [InlineData("\"VIX (close)\"=+2sd", "VIX (close)", ConditionChange.StandardDeviations, 2.0)]
    [InlineData(" \"a \"\"b\"\"; c\" = (-0.5)", "a \"b\"; c", ConditionChange.Absolute, -0.5)]
    public void Parse_ConditionNames_UnicodeBareOrQuoted(string spec, string name, ConditionChange change, double value) =>
        Assert.Equal(new ConditionTerm(name, change, value, spec.Length - spec.TrimStart().Length + 1), Assert.Single(StressSpec.Parse(spec).Terms));

    [Fact]
    public void Parse_ArchetypesAndSeries_UnicodeBareOrQuoted_WithTheirColumns()
    {
        var spec = StressSpec.Parse("crise-été; \"crash; 2008\", 日経<=-20%, \"S&P 500\" >= -30%,daily(\"a,b\", DAX_Prämie, \"x\"\"y\")>=-5%; mean(*)<=-1%");
        Assert.Equal(new ArchetypeTerm("crise-été", 1), spec.Terms[0]);
        Assert.Equal(new ArchetypeTerm("crash; 2008", 12), spec.Terms[1]);
        var moves = spec.Terms.OfType<MoveTerm>().ToList();
        Assert.Equal([27, 37, 55, 94], moves.Select(m => m.Column));
        Assert.Equal(["日経"], moves[0].Series);
        Assert.Equal(["S&P 500"], moves[1].Series);
        Assert.Equal((MoveScope.Cumulative, false, -30.0), (moves[1].Scope, moves[1].AtMost, moves[1].Percent));
        Assert.Equal(["a,b", "DAX_Prämie", "x\"y"], moves[2].Series);
        Assert.Equal(MoveScope.Daily, moves[2].Scope);
        Assert.Equal(["*"], moves[3].Series);
    }

    [Fact]
    public void Resolve_QuotedAndUnicodeNames_FindTheirFeaturesAndSeries()
    {
        var plan = Resolve("\"crash; 2008\"; DAX_Prämie=+2sd; \"VIX (close)\"=33; \"S&P 500\"<=-20%; daily(\"a,b\",日経)>=-5%; \"x\"\"y\">=1%");
        Assert.Equal(["DAX_Prämie", "VIX (close)", "VIXCLS"], plan.Conditions.Keys);
        Assert.Equal((12.0, 33.0, 80.0), (plan.Conditions["DAX_Prämie"], plan.Conditions["VIX (close)"], plan.Conditions["VIXCLS"]));
        var c = plan.Constraints;
        Assert.Equal(1 + 5 + 5 + 1, c.Count);
        // rows of the (D, W) window, series-major: "S&P 500" is series 0, "x\"y" series 4
        Assert.Equal([0, 1, 2, 3, 4], c.Inequalities[0].Indices);
        Assert.Equal(Math.Log(0.8), c.Inequalities[0].Bound, 15);
        Assert.Equal([20, 21, 22, 23, 24], c.Inequalities[^1].Indices);
    }

    [Theory]
    [InlineData("vix=45, \"SPY<=-5%", StressRules.Syntax, 9)]          // a quote never closed: at the quote
    [InlineData("vix=45; \"SP\"Y<=-5%", StressRules.Syntax, 13)]       // text after the closing quote: at that text
    [InlineData("\"\"<=-5%", StressRules.Syntax, 1)]                   // an empty quoted name
    [InlineData("\"S&P 500\"<=-20", StressRules.Value, 12)]            // value errors after a quoted name: at the value
    [InlineData("\"a, b\" >= x%; vix=45", StressRules.Value, 11)]
    [InlineData("\"VIX (close)\"=2sd", StressRules.Value, 15)]
    [InlineData("\"x\"=", StressRules.Syntax, 5)]
    [InlineData("mean(\"a,b\", )<=-5%", StressRules.Syntax, 6)]
    [InlineData("daily(\"a,b\"<=-5%", StressRules.Syntax, 6)]
    [InlineData("\"*\"<=-5%", StressRules.Syntax, 1)]                   // '*' is the grammar's: a series named * cannot be constrained
    [InlineData("daily(SPY, \"*\")>=-5%", StressRules.Syntax, 12)]
    [InlineData("Prämie²=1", StressRules.Syntax, 1)]                     // '²' is no letter or decimal digit: quote it
    [InlineData("_x=1", StressRules.Syntax, 1)]                          // a bare condition name still starts with a letter
    public void Parse_Errors_AroundQuotedNames_NameTheRightColumn(string spec, string rule, int column)
    {
        var e = Assert.Throws<InvalidInputException>(() => StressSpec.Parse(spec));
        Assert.Equal((rule, new InputLocation("--stress", 1, column)), (e.Rule, e.Location));
    }

    [Theory]
    [InlineData("a\"b<=-5%", "a\"b")] // a quote inside a bare series name is a character, as before
    [InlineData("mean(a b, c)<=-5%", "a b")]
    public void Parse_QuotesInsideBareNames_AreReadAsBefore(string spec, string first) =>
        Assert.Equal(first, Assert.IsType<MoveTerm>(Assert.Single(StressSpec.Parse(spec).Terms)).Series[0]);

    [Fact]
    public void Messages_WriteANameThatNeedsQuotes_Quoted()
    {
        var e = Assert.Throws<InvalidInputException>(() => Resolve("\"S&P 500\"<=-50%; \"S&P 500\">=50%"));
        Assert.Equal(StressRules.Conflict, e.Rule);
        Assert.Contains("the moves '\"S&P 500\"<=-50%' (column 1) and '\"S&P 500\">=50%' (column 18)", e.Message, StringComparison.Ordinal);
    }
}
