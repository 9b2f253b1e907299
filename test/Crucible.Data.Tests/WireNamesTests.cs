namespace Crucible.Data.Tests;

/// <summary><see cref="WireNames{TEnum}"/>: one name per member, read both ways; a table that leaves a member out or names two alike is refused.</summary>
public sealed class WireNamesTests
{
    private enum Colour
    {
        Red,
        DarkBlue,
    }

    [Fact]
    public void NamesAndValues_ReadBothWays_OrdinalAndCaseSensitive()
    {
        var names = new WireNames<Colour>((Colour.Red, "red"), (Colour.DarkBlue, "dark-blue"));
        Assert.Equal([Colour.Red, Colour.DarkBlue], names.All);
        Assert.Equal("dark-blue", names.NameOf(Colour.DarkBlue));
        Assert.Equal(Colour.Red, names.ValueOf("red"));
        Assert.Null(names.ValueOf("Red"));
        Assert.Null(names.ValueOf("DarkBlue"));
        Assert.Null(names.ValueOf(null));
        Assert.Null(names.NameOf((Colour)7));
        Assert.Equal("red or dark-blue", names.Choices(" or "));
    }

    [Fact]
    public void ATableThatLeavesOutOrRepeats_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new WireNames<Colour>((Colour.Red, "red")));
        Assert.Throws<ArgumentException>(() => new WireNames<Colour>((Colour.Red, "red"), (Colour.DarkBlue, "red")));
        Assert.Throws<ArgumentException>(() => new WireNames<Colour>((Colour.Red, "red"), (Colour.Red, "rouge"), (Colour.DarkBlue, "blue")));
        Assert.Throws<ArgumentException>(() => new WireNames<Colour>((Colour.Red, "red"), (Colour.DarkBlue, "")));
        Assert.Throws<ArgumentException>(() => new WireNames<Colour>((Colour.Red, "red"), (Colour.DarkBlue, "blue"), ((Colour)7, "seven")));
    }
}
