using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Conditioning;

namespace Crucible.Diffusion.Tests.Conditioning;

public class CrisisArchetypesTests
{
    [Fact]
    public void Compute_AveragesEachFeatureOverTheEpisodeDates_Inclusive()
    {
        DateOnly[] dates =
        [
            new(2020, 2, 19), new(2020, 2, 20), new(2020, 3, 16), new(2020, 4, 30), new(2020, 5, 1),
            new(2022, 1, 3), new(2022, 10, 24), new(2022, 10, 25),
        ];
        double[] values =
        [
            15, 1, // before covid
            20, 2, // first day
            80, double.NaN, // skipped for the second feature
            30, 4, // last day
            99, 9, // after
            17, 0.1,
            33, 4.2,
            50, 50,
        ];
        var frame = new TimeSeriesFrame(dates, ["VIXCLS", "DGS10"], values);
        var archetypes = CrisisArchetypes.Compute(frame);
        Assert.Equal(["covid-2020", "rates-2022"], archetypes.Keys.Order());
        Assert.Equal((20 + 80 + 30) / 3.0, archetypes["covid-2020"]["VIXCLS"], 12);
        Assert.Equal((2 + 4) / 2.0, archetypes["covid-2020"]["DGS10"], 12);
        Assert.Equal((17 + 33) / 2.0, archetypes["rates-2022"]["VIXCLS"], 12);
        Assert.Equal((0.1 + 4.2) / 2.0, archetypes["rates-2022"]["DGS10"], 12);
    }

    [Fact]
    public void Episodes_AreTheDocumentedDates()
    {
        var e = CrisisArchetypes.Episodes.ToDictionary(x => x.Name);
        Assert.Equal((new DateOnly(2008, 9, 15), new DateOnly(2009, 3, 9)), (e["gfc-2008"].Start, e["gfc-2008"].End));
        Assert.Equal((new DateOnly(2020, 2, 20), new DateOnly(2020, 4, 30)), (e["covid-2020"].Start, e["covid-2020"].End));
        Assert.Equal((new DateOnly(2022, 1, 3), new DateOnly(2022, 10, 24)), (e["rates-2022"].Start, e["rates-2022"].End));
        Assert.Throws<InvalidInputException>(() => CrisisArchetypes.Compute(new TimeSeriesFrame([], ["A"], [1.0], 1)));
    }

    /// <summary>
    /// On the real FRED state file: the means match pandas
    /// (<c>d.loc['2008-09-15':'2009-03-09'].mean()</c> etc., printed to 3 decimals), and the crisis VIX is far above
    /// its long-run mean (20.306, sd 8.24 over 1997–2025).
    /// </summary>
    [Fact]
    public void RealConditioningFile_GivesCrisisVixFarAboveTheLongRunMean()
    {
        const string path = "/work/shared/data/us_conditioning_daily.csv";
        if (!File.Exists(path)) return;   // the real data is not bundled; nothing to check without it
        var frame = CsvSeriesReader.Load(path, new CsvReadOptions { Input = InputKind.LogReturns });
        var a = CrisisArchetypes.Compute(frame);
        var space = ConditionSpace.Fit(frame);
        Assert.Equal(51.507, a["gfc-2008"]["VIXCLS"], 3);
        Assert.Equal(16.565, a["gfc-2008"]["BAMLH0A0HYM2"], 3);
        Assert.Equal(46.662, a["covid-2020"]["VIXCLS"], 3);
        Assert.Equal(0.848, a["covid-2020"]["DGS10"], 3);
        Assert.Equal(26.242, a["rates-2022"]["VIXCLS"], 3);
        Assert.Equal(2.772, a["rates-2022"]["DGS10"], 3);
        Assert.Equal(20.306, space.Mean[0], 3);
        Assert.Equal(8.2388, space.Std[0], 4);
        Assert.True(a["gfc-2008"]["VIXCLS"] > space.Mean[0] + (3 * space.Std[0]));
        Assert.True(a["covid-2020"]["VIXCLS"] > space.Mean[0] + (3 * space.Std[0]));
        Assert.True(a["rates-2022"]["VIXCLS"] > space.Mean[0]);
    }
}
