using System.Text.Json.Nodes;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvDialect.Apply"/>: the dialect object a run manifest records (<c>config.csv</c>) and a training job
/// takes, read into the reader's options; each member by its name, absent members keeping the options' own values,
/// and every malformed member refused naming it.
/// </summary>
public sealed class CsvDialectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-csv-dialect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CsvReadOptions Apply(string json) =>
        CsvDialect.Apply(JsonNode.Parse(json)!.AsObject(), new CsvReadOptions { Input = InputKind.Prices }, member => "csv." + member);

    // a dialect without "domain" replaced the options' own column domains with none, though absent members keep the
    // options' values (as "na" and every other member do)
    [Fact]
    public void AnAbsentDomain_KeepsTheOptionsDomains()
    {
        var own = new CsvReadOptions { ColumnDomains = new Dictionary<string, ColumnDomain> { ["DFF"] = ColumnDomain.AnyFinite } };
        var o = CsvDialect.Apply(JsonNode.Parse("""{"delimiter": ";"}""")!.AsObject(), own, member => "csv." + member);
        Assert.Equal(';', o.Delimiter);
        Assert.Equal(ColumnDomain.AnyFinite, Assert.Single(o.ColumnDomains).Value);
        var given = CsvDialect.Apply(JsonNode.Parse("""{"domain": ["VIX=positive"]}""")!.AsObject(), own, member => "csv." + member);
        Assert.Equal(ColumnDomain.Positive, Assert.Single(given.ColumnDomains, d => d.Key == "VIX").Value);
    }

    [Fact]
    public void EveryMember_SetsItsOption_AndAbsentOnesKeepTheOptions()
    {
        var o = Apply("""
            {"delimiter": "tab", "decimal": ",", "thousands": ".", "date_format": "dd.MM.yyyy", "date_column": "Datum",
             "na": ["NA", "-"], "missing": "ffill", "ffill_limit": 3, "domain": ["DFF=any", "VIX=positive"]}
            """);
        Assert.Equal(('\t', ',', '.'), (o.Delimiter, o.DecimalSeparator, o.ThousandsSeparator));
        Assert.Equal(("dd.MM.yyyy", "Datum"), (o.DateFormat, o.DateColumnName));
        Assert.Contains("NA", o.MissingTokens);
        Assert.Contains("-", o.MissingTokens);
        Assert.Equal((MissingValuePolicy.ForwardFill, 3), (o.Missing, o.ForwardFillLimit));
        Assert.Equal(ColumnDomain.AnyFinite, o.ColumnDomains!["DFF"]);
        Assert.Equal(ColumnDomain.Positive, o.ColumnDomains["VIX"]);
        Assert.Equal(InputKind.Prices, o.Input);

        var defaults = new CsvReadOptions { Input = InputKind.Prices };
        var none = Apply("{}");
        Assert.Equal((defaults.Delimiter, defaults.DecimalSeparator, defaults.DateFormat, defaults.DateColumnName, defaults.Missing, defaults.ForwardFillLimit),
            (none.Delimiter, none.DecimalSeparator, none.DateFormat, none.DateColumnName, none.Missing, none.ForwardFillLimit));
        Assert.Same(defaults, CsvDialect.Apply(null, defaults, m => m)); // no dialect: the options themselves
    }

    [Theory]
    [InlineData("""{"separator": ";"}""", "csv.separator is not a CSV dialect member: the members are delimiter, decimal, thousands, date_format, date_column, na, missing, ffill_limit, domain")]
    [InlineData("""{"delimiter": ";;"}""", "csv.delimiter takes one character, got ';;'")]
    [InlineData("""{"decimal": 44}""", "csv.decimal must be a string")]
    [InlineData("""{"na": "NA"}""", "csv.na must be an array of strings")]
    [InlineData("""{"na": ["NA", 1]}""", "csv.na must be an array of strings")]
    [InlineData("""{"ffill_limit": 2.5}""", "csv.ffill_limit must be a whole number")]
    [InlineData("""{"missing": "drop"}""", "csv.missing must be reject, keep or ffill, got 'drop'")]
    [InlineData("""{"domain": ["DFF"]}""", "csv.domain takes NAME=any|nonneg|positive, got 'DFF'")]
    public void AMalformedMember_IsRefused_NamingIt(string json, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Apply(json));
        Assert.Equal("OPT-E", e.Rule);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void WhatTheReaderRefuses_IsNamedByTheMember()
    {
        Assert.Contains("csv.date_column", Assert.Throws<InvalidInputException>(() => Apply("""{"date_column": " "}""")).Message, StringComparison.Ordinal);
        Assert.Contains("csv.date_format", Assert.Throws<InvalidInputException>(() => Apply("""{"date_format": ""}""")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AContinentalFile_ReadWithItsDialect_IsThePlainFile()
    {
        var plain = Path.Combine(_dir, "plain.csv");
        File.WriteAllText(plain, "Date,A,B\n2020-01-02,100.5,1000.25\n2020-01-03,101.25,1001.5\n");
        var continental = Path.Combine(_dir, "continental.csv");
        File.WriteAllText(continental, "A;B;Datum\n100,5;1.000,25;02.01.2020\n101,25;1.001,5;03.01.2020\n");
        var expected = CsvSeriesReader.Load(plain, new CsvReadOptions { Input = InputKind.Prices });
        var read = CsvSeriesReader.Load(continental, Apply("""{"delimiter": ";", "decimal": ",", "thousands": ".", "date_format": "dd.MM.yyyy", "date_column": "Datum"}"""));
        Assert.Equal(expected.Dates, read.Dates);
        Assert.Equal(expected.Columns, read.Columns);
        Assert.Equal(expected.Values, read.Values);
    }
}
