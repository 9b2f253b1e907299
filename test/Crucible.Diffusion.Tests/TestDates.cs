namespace Crucible.Diffusion.Tests;

/// <summary>Calendars for the tests' synthetic series.</summary>
internal static class TestDates
{
    /// <summary>The first <paramref name="count"/> weekdays (Monday to Friday) from <paramref name="start"/> on.</summary>
    public static DateOnly[] Weekdays(DateOnly start, int count)
    {
        var dates = new List<DateOnly>(count);
        for (var d = start; dates.Count < count; d = d.AddDays(1))
        {
            if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) dates.Add(d);
        }

        return [.. dates];
    }
}
