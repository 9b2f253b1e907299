namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>One evaluated report of the committed fixtures, shared by the reporting tests.</summary>
public sealed class ReportFixture
{
    public ReportFixture()
    {
        Report = Evaluator.Evaluate(new EvaluationInput(
            Fixtures.Load("real.csv"), Fixtures.Load("synthetic.csv"), Fixtures.Load("train.csv")));
        ScenarioReport = Evaluator.Evaluate(new EvaluationInput(Fixtures.Load("real.csv"), Fixtures.Load("scenarios.csv")));
    }

    public EvaluationReport Report { get; }

    public EvaluationReport ScenarioReport { get; }
}
