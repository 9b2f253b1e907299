using System.Globalization;
using System.Text.Json;
using Crucible.Stress.Generators;

namespace Crucible.Stress.Tests.Generators;

/// <summary>Garch11StudentT against garch_ref.py (scipy maximising the same likelihood from four starts).</summary>
public sealed class GarchTests
{
    private static double[] Series() =>
        File.ReadLines(TestPaths.Data("garch_series.csv")).Skip(1).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();

    private static JsonElement Reference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Data("garch_ref.json")));
        return doc.RootElement.Clone();
    }

    private static Garch11StudentT Params(JsonElement e) => new(e.GetProperty("mu").GetDouble(), e.GetProperty("omega").GetDouble(),
        e.GetProperty("alpha").GetDouble(), e.GetProperty("beta").GetDouble(), e.GetProperty("nu").GetDouble());

    [Fact]
    public void LogLikelihood_MatchesScipyAtFixedParameters()
    {
        var reference = Reference();
        var ll = Params(reference.GetProperty("fixed")).LogLikelihood(Series());
        var want = reference.GetProperty("fixed_loglik").GetDouble();
        Assert.True(Math.Abs(ll - want) <= 1e-9 * Math.Abs(want), $"{ll:R} vs {want:R}");
    }

    [Fact]
    public void Fit_ReachesScipysMaximum_AndItsParameters()
    {
        var reference = Reference();
        var r = Series();
        var fit = Garch11StudentT.Fit(r);
        var want = Params(reference.GetProperty("mle"));
        var llWant = reference.GetProperty("mle_loglik").GetDouble();
        // at least as high a likelihood as scipy's best (to 1e-6), and the same maximiser to optimiser precision
        Assert.True(fit.LogLikelihood(r) >= llWant - 1e-6, $"loglik {fit.LogLikelihood(r):R} < scipy {llWant:R}");
        Assert.Equal(want.AlphaArch, fit.AlphaArch, 2e-4);
        Assert.Equal(want.Beta, fit.Beta, 2e-4);
        Assert.Equal(want.Nu, fit.Nu, 2e-2);
        Assert.Equal(want.Omega, fit.Omega, 2e-8);
        Assert.Equal(want.Mu, fit.Mu, 2e-6);
    }

    [Fact]
    public void LogLikelihood_OutsideTheParameterSpace_IsMinusInfinity()
    {
        double[] r = [0.01, -0.01, 0.02];
        Assert.Equal(double.NegativeInfinity, Garch11StudentT.LogLikelihood(r, 0, 1e-6, 0.5, 0.6, 5));
        Assert.Equal(double.NegativeInfinity, Garch11StudentT.LogLikelihood(r, 0, 1e-6, 0.1, 0.6, 2));
    }
}
