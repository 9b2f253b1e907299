using Crucible.Data;
using Crucible.Diffusion.Conditioning;

namespace Crucible.Diffusion.Tests.Conditioning;

public class ConditionSpaceTests
{
    internal static ConditionSpace Sample() => new(
        ["VIXCLS", "DFF", "TERM", "BAA10Y", "BAMLH0A0HYM2", "RV20"],
        [20.3, 2.3, 1.3, 2.4, 5.3, 16.0],
        [8.2, 2.1, 1.1, 0.7, 2.6, 9.5],
        [13.8, 1.55, 0.3, 1.9, 3.6, 11.0],
        new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["gfc-2008"] = new Dictionary<string, double> { ["VIXCLS"] = 51.5, ["DFF"] = 0.53, ["TERM"] = 2.78, ["BAA10Y"] = 5.34, ["BAMLH0A0HYM2"] = 16.6, ["RV20"] = 55.0 },
            ["covid-2020"] = new Dictionary<string, double> { ["VIXCLS"] = 46.7, ["RV20"] = 60.0 },
        });

    [Fact]
    public void Names_AndDefaultAliases_AreFoundIgnoringCase()
    {
        var space = Sample();
        Assert.Equal(5, space.IndexOf("RV20"));
        Assert.Equal(5, space.IndexOf("vol"));
        Assert.Equal(5, space.IndexOf("VOL"));
        Assert.Equal(0, space.IndexOf("vix"));
        Assert.Equal(0, space.IndexOf("vixcls"));
        Assert.Equal(2, space.IndexOf("term"));
        Assert.Equal(-1, space.IndexOf("volatility"));
        Assert.Equal("gfc-2008", space.FindArchetype("GFC-2008"));
        Assert.Null(space.FindArchetype("dotcom-2000"));
        Assert.Equal(5, space.Aliases.Count);
        Assert.Contains("vol → RV20", space.Describe(), StringComparison.Ordinal);
        Assert.Contains("archetypes: gfc-2008, covid-2020", space.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultAliases_WithoutTheirTarget_AreDropped()
    {
        var space = new ConditionSpace(["VIXCLS"], [20], [8], [14]);
        Assert.Equal(["vix"], space.Aliases.Keys);
        Assert.Equal(-1, space.IndexOf("vol"));
        Assert.Empty(space.Archetypes);
    }

    [Fact]
    public void Json_RoundTripsExactly_AndRejectsUnknownKeys()
    {
        var space = Sample();
        var json = space.ToJson();
        Assert.Contains("\"names\"", json, StringComparison.Ordinal);
        Assert.Contains("\"gfc-2008\"", json, StringComparison.Ordinal);
        var back = ConditionSpace.FromJson(json);
        Assert.Equal(space.Names, back.Names);
        Assert.Equal(space.Mean, back.Mean);
        Assert.Equal(space.Std, back.Std);
        Assert.Equal(space.Reference, back.Reference);
        Assert.Equal(space.Aliases, back.Aliases);
        Assert.Equal(space.Archetypes.Keys, back.Archetypes.Keys);
        foreach (var (name, vector) in space.Archetypes) Assert.Equal(vector, back.Archetypes[name]);
        Assert.Equal(json, back.ToJson());

        // the manifest form of a sequence model has no aliases: the defaults apply
        var bare = ConditionSpace.FromJson("""{"names":["RV20"],"mean":[16],"std":[9.5],"reference":[11]}""");
        Assert.Equal(0, bare.IndexOf("vol"));
        var e = Assert.Throws<InvalidInputException>(() => ConditionSpace.FromJson("""{"names":["A"],"mean":[1],"std":[1],"reference":[1],"extra":1}"""));
        Assert.Equal(StressRules.Space, e.Rule);
    }

    [Fact]
    public void Constructor_RejectsInconsistentInput()
    {
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A", "a"], [0, 0], [1, 1], [0, 0]));
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A"], [0, 0], [1], [0]));
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A"], [0], [-1], [0]));
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A"], [0], [1], [0], aliases: new Dictionary<string, string> { ["b"] = "B" }));
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A"], [0], [1], [0],
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["x"] = new Dictionary<string, double> { ["B"] = 1 } }));
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["A"], [0], [1], [0],
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["a"] = new Dictionary<string, double> { ["A"] = 1 } }));
    }

    [Fact]
    public void DefaultAliases_GiveWayToAFeatureOfTheSameName()
    {
        // a state with its own VIX column beside VIXCLS was refused ("alias 'vix' is already a feature or alias name"):
        // the built-in aliases are a convenience, skipped where they do not apply, and the feature's own name wins
        var space = new ConditionSpace(["VIX", "VIXCLS", "vol"], [0, 0, 0], [1, 1, 1], [0, 0, 0]);
        Assert.Equal(0, space.IndexOf("vix"));
        Assert.Equal(1, space.IndexOf("VIXCLS"));
        Assert.Equal(2, space.IndexOf("VOL"));
        Assert.Empty(space.Aliases);
        Assert.Throws<InvalidInputException>(() => new ConditionSpace(["VIX", "VIXCLS"], [0, 0], [1, 1], [0, 0],
            aliases: new Dictionary<string, string> { ["vix"] = "VIXCLS" })); // an alias given explicitly still may not collide
    }

    [Fact]
    public void Fit_UsesTrainingRowsForMomentsAndReference_AndTheWholeFrameForArchetypes()
    {
        // a business-day frame from 2008-09-01 to 2009-03-31 with VIX = row index and a constant-ish second column
        var dates = new List<DateOnly>();
        for (var d = new DateOnly(2008, 9, 1); d <= new DateOnly(2009, 3, 31); d = d.AddDays(1))
        {
            if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) dates.Add(d);
        }

        var values = new double[dates.Count * 2];
        for (int r = 0; r < dates.Count; r++)
        {
            values[2 * r] = r;
            values[(2 * r) + 1] = r % 2;
        }

        var frame = new TimeSeriesFrame([.. dates], ["VIXCLS", "RV20"], values);
        var space = ConditionSpace.Fit(frame, trainEnd: new DateOnly(2008, 12, 31));
        int train = dates.Count(d => d <= new DateOnly(2008, 12, 31));
        Assert.Equal((train - 1) / 2.0, space.Mean[0], 12);
        Assert.Equal(Math.Sqrt(train * (train + 1) / 12.0), space.Std[0], 10);   // sample sd of 0..n−1
        Assert.Equal(train - 1, space.Reference[0]);
        Assert.Equal((train - 1) % 2, space.Reference[1]);

        // gfc-2008 runs from 2008-09-15 (row 10) to 2009-03-09 (last row on or before it): mean of the row indices
        int first = dates.IndexOf(new DateOnly(2008, 9, 15)), last = dates.IndexOf(new DateOnly(2009, 3, 9));
        Assert.Equal((first + last) / 2.0, space.Archetypes["gfc-2008"]["VIXCLS"], 12);
        Assert.False(space.Archetypes.ContainsKey("covid-2020"));
    }
}
