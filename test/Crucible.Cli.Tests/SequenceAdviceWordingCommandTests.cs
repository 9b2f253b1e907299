using System.Globalization;

namespace Crucible.Cli.Tests;

/// <summary>
/// The whole line <c>crucible train --kind sequence</c> prints for each state-file and condition refusal whose advice
/// names an option (<c>--state-date-format</c>, <c>--state-missing</c>, <c>--state-ffill-limit</c>, <c>--state</c>,
/// <c>--state-columns</c>): pinned byte for byte, so that the library can word them for each shell (a training job names
/// its JSON members instead) without the CLI's wording moving.
/// </summary>
public sealed class SequenceAdviceWordingCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-advice-wording-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private string Model => Path.Combine(_dir, "m");

    private string[] Train(string prices, params string[] more) =>
        ["train", "--data", prices, "--kind", "sequence", "--window", "5", "--steps", "2", .. more, "--out", Model];

    // the refusal's one line on stderr, exit 2, nothing written
    private string Refused(string[] args)
    {
        var r = Crucible(args);
        Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
        Assert.False(Directory.Exists(Model));
        return Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains(": error [", StringComparison.Ordinal) || l.StartsWith("error [", StringComparison.Ordinal));
    }

    // a copy of the state file, named `name`, with its lines edited
    private string Edited(string state, string name, Func<string[], string[]> edit)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, string.Join('\n', edit(File.ReadAllLines(state))) + "\n");
        return path;
    }

    [Fact]
    public void StateFileRefusals_AreWordedWithTheFlags_ByteForByte()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);

        // dates in another format: the state file's own format flag
        var us = Edited(state, "state-us.csv", lines => [lines[0], .. lines.Skip(1).Select(l => DateOnly.ParseExact(l[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture)
            .ToString("MM/dd/yyyy", CultureInfo.InvariantCulture) + l[10..])]);
        Assert.Equal($"{us}:2:1: error [CSV-E-DATE]: ambiguous date (day/month or month/day?); expected a date in the format yyyy-MM-dd "
            + "in the state file: its dates are read as yyyy-MM-dd (--state-date-format; --date-format applies to --data, not to the state file): "
            + "give the file's format with --state-date-format, e.g. --state-date-format MM/dd/yyyy",
            Refused(Train(prices, "--state", us, "--state-columns", "VIXCLS,TERM")));

        // a missing value, refused by default
        var gappy = Edited(state, "state-gappy.csv", lines => [.. lines.Select((l, i) => i is 9 or 10 ? l[..11] + l[(l.IndexOf(',', 11))..] : l)]);
        Assert.Equal($"{gappy}:10:2: error [CSV-E-MISSING]: missing value in the state file (--state-missing reject, the default): forward-fill a series' gaps with "
            + "--state-missing ffill (at most --state-ffill-limit rows in a row), fill the value, or drop the row, as days without a state are left out "
            + "(a return date reads the last state row of the 7 days before it)",
            Refused(Train(prices, "--state", gappy, "--state-columns", "VIXCLS,TERM")));

        // forward-filled, past the limit
        Assert.Equal($"{gappy}:11:2: error [CSV-E-MISSING]: missing value beyond the forward-fill limit of 1 rows in the state file: raise --state-ffill-limit (now 1), "
            + "fill the value, or drop the row (a return date reads the last state row of the 7 days before it)",
            Refused(Train(prices, "--state", gappy, "--state-columns", "VIXCLS,TERM", "--state-missing", "ffill", "--state-ffill-limit", "1")));
    }

    [Fact]
    public void ConditionRefusals_AreWordedWithTheFlags_ByteForByte()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);

        // no state columns named: the defaults, which this file lacks
        Assert.Equal($"{state}:1:0: error [JOIN-E]: feature DFF needs the state column DFF, which the state file lacks (it has VIXCLS, DGS10, DGS3MO); without state columns named, the default features "
            + "VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2, RV20 are read: name the file's own (--state-columns VIXCLS,DGS10,DGS3MO)",
            Refused(Train(prices, "--state", state)));

        // state_scale without a state, and with one whose columns leave it out
        var config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, """{"state_scale": "VIXCLS"}""");
        Assert.Equal("error [state-scale]: state_scale VIXCLS scales each window by its state's VIXCLS, but no state was given (--state)",
            Refused(Train(prices, "--config", config)));
        Assert.Equal($"{state}:1:0: error [state-scale]: state_scale VIXCLS is not among the condition features (TERM): add it to --state-columns",
            Refused(Train(prices, "--config", config, "--state", state, "--state-columns", "TERM")));

        // RV20 on weekly rows
        var (daily, longState) = TestPrices.Sequence(Directory.CreateDirectory(Path.Combine(_dir, "long")).FullName, 400);
        var lines = File.ReadAllLines(daily);
        string weekly = Path.Combine(_dir, "weekly.csv");
        File.WriteAllLines(weekly, lines.Take(1).Concat(lines.Skip(1).Where((_, i) => i % 5 == 0)));
        Assert.Equal($"{weekly}:1:1: error [condition-frequency]: condition feature RV20 is the realised volatility of the 20 daily returns before each date, annualised "
            + "with √252, but these returns' dates are 7 calendar days apart (the median): on weekly or monthly rows it would be a 20-week or -month volatility "
            + "scaled as if daily; name the condition features without RV20 (--state-columns VIXCLS,DFF,TERM,BAA10Y,BAMLH0A0HYM2)",
            Refused(Train(weekly, "--state", longState, "--state-columns", "VIXCLS,RV20")));
    }

    // session 29: the DP refusals of a sequence training, worded by the library for each shell (they named these flags in
    // the library's own message, which a library user and a training job never typed)
    [Fact]
    public void DpRefusals_AreWordedWithTheFlags_ByteForByte()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        string[] Dp(params string[] more) => Train(prices, ["--dp-epsilon", "3", "--dp-delta", "1e-4", .. more]);

        // conditions without the state declared public
        Assert.Equal("error [DP-E-PREPROCESS]: conditions (--state, an economic state) cannot be combined with privacy unless the state is declared public data "
            + "(--dp-public-state, privacy.public_state: true): otherwise their standardisation, reference state and archetypes would be statistics of private data "
            + "outside DP-SGD's accounting (DP-11); declare it public, or train an unconditional model",
            Refused(Dp("--state", state, "--state-columns", "VIXCLS")));

        // a public state: RV20 (named, or among the defaults) reads the private returns
        const string Rv20 = "error [DP-E-PREPROCESS]: condition feature RV20 is computed from the private returns (the equal-weight portfolio's realised volatility), "
            + "not from the public state: under DP it would be a statistic of the private data outside DP-SGD's accounting; name state features only "
            + "(--state-columns VIXCLS,DFF,TERM,BAA10Y,BAMLH0A0HYM2)";
        Assert.Equal(Rv20, Refused(Dp("--state", state, "--state-columns", "VIXCLS,RV20", "--dp-public-state")));
        Assert.Equal(Rv20 + "; the default features include it", Refused(Dp("--state", state, "--dp-public-state")));

        // a public state: the guidance calibration reads the private windows' realised ES (the line named a training job's
        // calibrate_guidance beside the flag until session 29)
        Assert.Equal("error [DP-E-PREPROCESS]: --calibrate-guidance cannot be combined with privacy: it reads the realised expected shortfall "
            + "of the private training windows outside DP-SGD's accounting; give the guidance with --config guidance_scale instead",
            Refused(Dp("--state", state, "--state-columns", "VIXCLS", "--dp-public-state", "--calibrate-guidance", "covid-2020")));

        // a public state declared without a state
        Assert.Equal("error [DP-E-CONFIG]: privacy.public_state (--dp-public-state) declares the economic state public, but no state was given (--state): "
            + "it applies to conditional sequence models only",
            Refused(Dp("--dp-public-state")));
    }

    // session 29: the state file's reading options given empty, worded by the library for each shell
    [Fact]
    public void EmptyStateReadingOptions_AreWordedWithTheFlags_ByteForByte()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        Assert.Equal("error [OPT-E]: --state-date-format is empty: give an exact .NET date format such as dd/MM/yyyy, or leave it out for yyyy-MM-dd",
            Refused(Train(prices, "--state", state, "--state-date-format", " ")));
        Assert.Equal("error [OPT-E]: --state-date-column is empty: give the state file's date column header, or leave it out for Date",
            Refused(Train(prices, "--state", state, "--state-date-column", " ")));
    }
}
