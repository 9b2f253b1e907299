using System.Globalization;

namespace Crucible.Data.Tests;

/// <summary>A <see cref="TimeSeriesFrame"/>'s own exception messages read the same under every culture.</summary>
public class TimeSeriesFrameMessageTests
{
    // the unordered-dates refusal wrote its date with the current culture's calendar: under th-TH (Thai Buddhist calendar)
    // 2020-01-02 read 2563-01-02, and under ar-SA (Umm al-Qura) 1441-05-07
    [Theory]
    [InlineData("th-TH")]
    [InlineData("ar-SA")]
    public void Constructor_UnorderedDates_MessageWritesTheDateInvariantly(string culture)
    {
        DateOnly[] dates = [new(2020, 1, 3), new(2020, 1, 2)];
        var original = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo(culture);
            var e = Assert.Throws<ArgumentException>(() => new TimeSeriesFrame(dates, ["A"], [1.0, 2.0]));
            Assert.Equal("dates must be strictly increasing (row 1: 2020-01-02) (Parameter 'dates')", e.Message);
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
    }
}
