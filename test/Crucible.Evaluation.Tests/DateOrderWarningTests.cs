namespace Crucible.Evaluation.Tests;

public sealed class DateOrderWarningTests
{
    private static EvaluationReport Report() =>
        Evaluator.Evaluate(new EvaluationInput(Fixtures.Load("edge_real.csv"), Fixtures.Load("edge_synthetic.csv")));

    [Fact]
    public void InputRoles_HaveTheirWireNames()
    {
        Assert.Equal(["real", "synthetic", "train"], Enum.GetValues<EvaluationInputRole>().Select(r => r.WireName()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((EvaluationInputRole)3).WireName());
    }

    [Fact]
    public void TimeOrderFigures_AreEachRolesFigures_AndAnUndefinedRoleIsRefused()
    {
        // the role was a string: any other than "real" and "train" ("Real", "holdout") was read as synthetic without a word
        var report = Report();
        Assert.Equal(["the regime threshold"], DateOrderWarning.TimeOrderFigures(report, EvaluationInputRole.Train));
        Assert.Equal("the VaR backtest", DateOrderWarning.TimeOrderFigures(report, EvaluationInputRole.Real)[^1]);
        Assert.Equal("regimes", DateOrderWarning.TimeOrderFigures(report, EvaluationInputRole.Synthetic)[^1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => DateOrderWarning.TimeOrderFigures(report, (EvaluationInputRole)7));
    }

    [Fact]
    public void Text_NamesTheFileTheLineAndTheFigures()
    {
        var at = new DateOrderBreak(3, new DateOnly(2020, 1, 2), 2, new DateOnly(2020, 1, 2));
        Assert.Equal("the --train file's dates are not strictly increasing: line 3 repeats the date 2020-01-02 of line 2; its rows are used "
            + "in file order, so the regime threshold follow that order (sort the file by date and drop duplicate dates first)",
            DateOrderWarning.Text(Report(), EvaluationInputRole.Train, "the --train file", at));
    }
}
