using Crucible.Evaluation.Risk;

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

    /// <summary>
    /// MinimumRows took ⌈1/(1 − α) − 1e-9⌉ in binary, TailCount (the VaR/ES estimator's k) n(1 − α) in decimal for the α
    /// as written: at α = 0.9999, 1/(1 − α) is 10000.000000000655 in binary, and 10,000 rows, whose tail holds exactly one
    /// observation (10,000 × 0.0001 = 1), were warned to be fewer than the 10,001 needed; at 0.999999999 the minimum was
    /// 1,000,000,029. Both now take 1 − α in decimal: the minimum is the fewest rows whose tail mass n(1 − α) is one
    /// observation, and TailCount of j times it is j where that mass is exactly one.
    /// </summary>
    [Theory]
    [InlineData(0.5, 4, false)] // ⌈1/0.5⌉ = 2, below the floor of 4
    [InlineData(0.95, 20, true)]
    [InlineData(0.97, 34, false)] // 34 × 0.03 = 1.02
    [InlineData(0.99, 100, true)]
    [InlineData(0.999, 1000, true)]
    [InlineData(0.9999, 10000, true)]
    [InlineData(0.99995, 20000, true)]
    [InlineData(0.999999999, 1_000_000_000, true)]
    public void MinimumRows_RoundsAsTailCountDoes_AtTheBoundary(double alpha, int minimum, bool exactlyOne)
    {
        Assert.Equal(minimum, SampleSize.MinimumRows(alpha));
        if (exactlyOne)
        {
            foreach (var j in new[] { 1, 2, 3 }.Where(j => (long)minimum * j <= int.MaxValue)) Assert.Equal(j, RiskMeasures.TailCount(minimum * j, alpha));
        }
        if (minimum > 100_000) return; // no sets of a billion rows
        Assert.Empty(SampleSize.Warnings(Rows(minimum), Rows(minimum), alpha));
        Assert.StartsWith($"the real set has {minimum - 1} rows, fewer than the {minimum} ",
            Assert.Single(SampleSize.Warnings(Rows(minimum - 1), Rows(minimum), alpha)), StringComparison.Ordinal);
    }
}
