using System.Globalization;

namespace Crucible.Tensors.Tests.Ops;

/// <summary>Clamp's refusal of min &gt; max quotes both bounds invariantly: under de-DE it read "clamp min 0,5 exceeds max 0,25".</summary>
public sealed class ClampMessageCultureTests
{
    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void MinAboveMax_IsQuotedInvariantly(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2]).Clamp(0.5f, 0.25f));
            Assert.StartsWith("clamp min 0.5 exceeds max 0.25", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
