using System.Globalization;
using Crucible.Stress.Reverse;

namespace Crucible.Stress.Tests.Reverse;

/// <summary>The objective guidance's refusal of a bad scale quotes it invariantly: under de-DE it read "guidance scale -1,5".</summary>
public sealed class ObjectiveGuidanceMessageTests
{
    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void ANegativeScale_IsQuotedInvariantly(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveGuidanceOptions(Scale: -1.5).Validate());
            Assert.Contains("guidance scale -1.5 must be finite and ≥ 0", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
