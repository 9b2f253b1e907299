namespace Crucible.Evaluation.Tests;

public sealed class SampleSizeTests
{
    private static SeriesSet Rows(int rows, int? window = null) => new(["A"], [[.. Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin(t))]],
        window is { } w ? [.. Enumerable.Range(0, rows).Select(r => 1 + (r / w))] : null);

    [Fact]
    public void AScenarioSet_IsCountedByItsScenarios_WhichItsPortfolioVaRRestsOn()
    {
        // 30 scenarios of 20 steps are 600 rows, but their horizon VaR/ES rests on 30 values: at α = 0.99 (100 needed) the
        // warning was missing
        var warning = Assert.Single(SampleSize.Warnings(Rows(500), Rows(600, 20), 0.99));
        Assert.StartsWith("the synthetic set has 30 scenarios, fewer than the 100", warning, StringComparison.Ordinal);
        Assert.Empty(SampleSize.Warnings(Rows(500), Rows(2000, 20), 0.99)); // 100 scenarios are enough
        Assert.Empty(SampleSize.Warnings(Rows(500), Rows(600), 0.99)); // plain rows, as before
        Assert.StartsWith("the synthetic set has 15 rows, fewer than the 20", Assert.Single(SampleSize.Warnings(Rows(500), Rows(15, 1), 0.95)), StringComparison.Ordinal); // one-step scenarios are rows
    }
}
