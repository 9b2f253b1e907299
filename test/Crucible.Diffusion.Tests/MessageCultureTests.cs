using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Steering;

namespace Crucible.Diffusion.Tests;

/// <summary>
/// Refusals that quote a number write it as the CLI, the service and report.json do, whatever the current culture: a
/// library user (or <c>crucible</c> under <c>CRUCIBLE_CULTURE</c>) on de-DE read "-0,5" where the value was -0.5.
/// </summary>
public sealed class MessageCultureTests
{
    private static T Under<T>(string culture, Func<T> act)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            return act();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void ANegativeStandardDeviation_IsQuotedInvariantly(string culture)
    {
        var e = Under(culture, () => Assert.Throws<InvalidInputException>(() => new ConditionSpace(["VIX"], [20.0], [-0.5], [20.0])));
        Assert.Contains("invalid standard deviation -0.5", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void AConstraintWeightOutOfRange_IsQuotedInvariantly(string culture)
    {
        var e = Under(culture, () => Assert.Throws<ArgumentOutOfRangeException>(() => new ConstraintGuidanceOptions(Weight: 1.5).Validate()));
        Assert.Contains("weight 1.5 is not in [0, 1]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void ANegativeNoiseScale_IsQuotedInvariantly(string culture)
    {
        var e = Under(culture, () => Assert.Throws<ArgumentException>(() => VolatilityAdaptiveSchedule.FromVolatility(NoiseSchedule.Linear(100), [1.0, -0.25])));
        Assert.Contains("series 1 has noise scale -0.25;", e.Message, StringComparison.Ordinal);
    }
}
