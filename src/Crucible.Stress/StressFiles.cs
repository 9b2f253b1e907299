using System.Security.Cryptography;
using Crucible.Evaluation;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;
using Crucible.Stress.Risk;

namespace Crucible.Stress;

/// <summary>The file-level entry point of <c>crucible stress</c>: read a scenario CSV and a portfolio JSON, stress, report.</summary>
public static class StressFiles
{
    /// <summary>
    /// Reads <paramref name="scenariosPath"/> (<c>scenario,step,&lt;series…&gt;</c> log returns, or a plain returns
    /// file taken as one-step scenarios) and <paramref name="portfolioPath"/>, and stresses the portfolio at each α.
    /// Bad input throws <see cref="Crucible.Data.InvalidInputException"/> naming file, line, column and rule.
    /// </summary>
    public static (StressResult Result, ScenarioSource Source) Run(string scenariosPath, string portfolioPath, IReadOnlyList<double> alphas)
    {
        var portfolio = Portfolio.Load(portfolioPath);
        var scenarios = SeriesSetCsv.Read(scenariosPath);
        var result = StressAnalysis.Run(scenarios, portfolio, alphas);
        using var stream = File.OpenRead(scenariosPath);
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return (result, new ScenarioSource(scenariosPath, sha));
    }
}
