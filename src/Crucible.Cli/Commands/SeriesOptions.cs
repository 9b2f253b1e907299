using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Stress.Generators;

namespace Crucible.Cli.Commands;

/// <summary>
/// The options and readings that the commands over a dated series file share (<c>data check</c>, <c>baseline</c>,
/// <c>compare</c>, <c>backtest</c>): <c>--input</c>, the repeatable <c>--generator</c> list, <c>--alpha</c>,
/// <c>--train-end</c>, and the file read as log returns.
/// </summary>
internal static class SeriesOptions
{
    /// <summary>
    /// <c>--input</c>: what the file's values are (default prices), restricted to <c>prices</c>, <c>returns</c>,
    /// <c>log-returns</c> and <c>percent</c> (read by <see cref="TrainCommand.InputKindOf"/>).
    /// </summary>
    public static Option<string> Input(string description)
    {
        var option = new Option<string>("--input") { Description = description, DefaultValueFactory = _ => "prices" };
        option.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        return option;
    }

    /// <summary><c>--generator</c>, repeatable and comma-separated; all of the catalogue when absent.</summary>
    /// <param name="verb">What is done with them, as the help says it ("backtest", "compare").</param>
    public static Option<string[]> Generators(string verb) => new("--generator")
    {
        Description = $"Generators to {verb}, repeatable (default: all of " + string.Join(", ", GeneratorCatalog.Names) + ")",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>The generator names <paramref name="option"/> gives (commas split), or all of the catalogue.</summary>
    public static string[] GeneratorNames(ParseResult parse, Option<string[]> option)
    {
        if (parse.GetValue(option) is not { Length: > 0 } g) return [.. GeneratorCatalog.Names];
        var names = g.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        // a generator named twice ran twice and gave two rows of one name, told apart by nothing but their figures
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(x => x.Count() > 1) is { } twice)
            throw new InvalidInputException("OPT-E", $"--generator names {twice.Key} twice; name each generator once");
        return names;
    }

    /// <summary><c>--alpha</c>'s confidence, in (0, 1), else an input error (exit 2).</summary>
    public static double Alpha(ParseResult parse, Option<double> option)
    {
        var alpha = parse.GetValue(option);
        return alpha > 0 && alpha < 1 ? alpha : throw new InvalidInputException("OPT-E", "--alpha takes a number in (0, 1)");
    }

    /// <summary><c>--train-end</c>'s date (YYYY-MM-DD), else an input error (exit 2).</summary>
    public static DateOnly TrainEnd(string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new InvalidInputException("OPT-E", "--train-end takes a date YYYY-MM-DD");

    /// <summary>The file's series as <paramref name="input"/> says and in the recorded CSV dialect, as log returns.</summary>
    public static TimeSeriesFrame ReadLogReturns(string path, InputKind input, JsonNode? dialect, IReadOnlyDictionary<string, string>? reservedColumns = null) =>
        CsvSeriesReader.Load(path, CsvDialectOptions.Apply(dialect, new CsvReadOptions { Input = input, ReservedColumns = reservedColumns ?? new Dictionary<string, string>() }))
            .ToLogReturns(input);
}
