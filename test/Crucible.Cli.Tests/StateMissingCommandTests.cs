using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train --kind sequence --state FILE</c> with a state series that has gaps (FRED's holidays: empty cells, or '.'):
/// refused at the cell by default, as before; forward-filled up to <c>--state-ffill-limit</c> rows with
/// <c>--state-missing ffill</c> (and <c>--state-na</c> tokens), refused past it at the cell, the policy recorded in the
/// run manifest (<c>config.state_csv</c>, read again by <c>verify-run --recompute</c>) and the model manifest
/// (<c>state_data.missing</c>).
/// </summary>
public sealed class StateMissingCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-state-missing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    // the sequence test files, the state's VIXCLS missing on lines 10 ('.') and 11 (empty): a gap of two rows
    private (string Prices, string State) GappyFiles()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        var lines = File.ReadAllLines(state);
        foreach (var (line, token) in new[] { (10, "."), (11, "") })
        {
            var cells = lines[line - 1].Split(',');
            cells[1] = token;
            lines[line - 1] = string.Join(',', cells);
        }

        File.WriteAllText(state, string.Join('\n', lines) + "\n");
        return (prices, state);
    }

    private string[] Train(string prices, string state, string model, params string[] more) =>
        ["train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,TERM", "--steps", "2", .. more, "--out", model];

    [Fact]
    public void AGappyState_IsRefusedAtTheCell_ForwardFilledOnRequest_RecordedAndRecomputed()
    {
        var (prices, state) = GappyFiles();
        string model = Path.Combine(_dir, "m");

        // the default, as before: the first gap refused at its cell ('.' is no number unless declared missing)
        var strict = Crucible(Train(prices, state, model, "--state-na", "."));
        Assert.Equal(2, strict.Exit);
        Assert.Contains($"{state}:10:2: error [CSV-E-MISSING]: missing value in the state file (--state-missing reject, the default)", strict.Stderr, StringComparison.Ordinal);

        // forward fill, but a limit of 1 for a gap of 2: refused at the second cell, saying what to raise
        var short1 = Crucible(Train(prices, state, model, "--state-na", ".", "--state-missing", "ffill", "--state-ffill-limit", "1"));
        Assert.Equal(2, short1.Exit);
        Assert.Contains($"{state}:11:2: error [CSV-E-MISSING]: missing value beyond the forward-fill limit of 1 rows in the state file: raise --state-ffill-limit (now 1)", short1.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Home, "runs")) && Directory.GetFiles(Path.Combine(Home, "runs")).Length > 0);

        var t = Crucible(Train(prices, state, model, "--state-na", ".", "--state-missing", "ffill", "--state-ffill-limit", "2"));
        Assert.True(t.Exit == 0, t.Stderr);
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
        {
            var missing = m.RootElement.GetProperty("state_data").GetProperty("missing");
            Assert.Equal("forward_fill", missing.GetProperty("policy").GetString());
            Assert.Equal(2, missing.GetProperty("forward_fill_limit").GetInt32());
            Assert.Equal(".", missing.GetProperty("na")[0].GetString());
            Assert.Equal(2, missing.GetProperty("filled").GetInt64());
            Assert.False(m.RootElement.GetProperty("data").TryGetProperty("missing", out _));
        }

        string run = Assert.Single(Directory.GetFiles(Path.Combine(Home, "runs"), "*.json"));
        Assert.Contains("\"state_csv\":{\"ffill_limit\":2,\"missing\":\"ffill\",\"na\":[\".\"]}", File.ReadAllText(run), StringComparison.Ordinal);
        // the recompute reads the state the same way (without state_csv it would stop at line 10)
        var again = Crucible("verify-run", run, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AStateFileWithUsDates_IsReadByStateDateFormat_RecordedAndRecomputed()
    {
        // session 23: a state file saved as MM/dd/yyyy was refused with "rewrite them as yyyy-MM-dd", and no option read it
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        var lines = File.ReadAllLines(state);
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            cells[0] = DateOnly.ParseExact(cells[0], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
                .ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture);
            lines[i] = string.Join(',', cells);
        }

        var usState = Path.Combine(_dir, "state-us.csv");
        File.WriteAllText(usState, string.Join('\n', lines) + "\n");
        string model = Path.Combine(_dir, "m-us");

        var refused = Crucible(Train(prices, usState, model));
        Assert.Equal(2, refused.Exit);
        Assert.Contains($"{usState}:2:1: error [CSV-E-DATE]", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("give the file's format with --state-date-format", refused.Stderr, StringComparison.Ordinal);

        ReadByTheFlag_AsTheIsoFile_RecordedAndRecomputed(prices, state, usState, model, "--state-date-format", "MM/dd/yyyy", "date_format");
    }

    [Fact]
    public void AStateFileWithAnotherDateHeader_IsReadByStateDateColumn_RecordedAndRecomputed()
    {
        // session 27: a state file headed observation_date (FRED's download) was CSV-E-HEADER with no option to read it
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        var lines = File.ReadAllLines(state);
        Assert.StartsWith("Date,", lines[0], StringComparison.Ordinal);
        lines[0] = "observation_date" + lines[0][4..];
        var fred = Path.Combine(_dir, "state-fred.csv");
        File.WriteAllText(fred, string.Join('\n', lines) + "\n");
        string model = Path.Combine(_dir, "m-fred");

        var refused = Crucible(Train(prices, fred, model));
        Assert.Equal(2, refused.Exit);
        Assert.Contains($"{fred}:1:1: error [CSV-E-HEADER]", refused.Stderr, StringComparison.Ordinal);
        // the library's typed refusal (StateDateColumnException), worded by the CLI with its flags
        Assert.Contains("no column is named 'Date', expected as the date column (the first column is 'observation_date')", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("(the state file's date column is 'Date': name it with --state-date-column, e.g. --state-date-column observation_date; --date-column names --data's)",
            refused.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));

        ReadByTheFlag_AsTheIsoFile_RecordedAndRecomputed(prices, state, fred, model, "--state-date-column", "observation_date", "date_column");
    }

    // the state file `edited` read with `flag value` gives the model of the ISO file `state` (the flag changes how the file
    // is read, not what is learned); the run manifest records it as state_csv.`key`, the recompute reads the file with
    // it (without it, it would stop where the refusal did); the flag needs --kind sequence and --state
    private void ReadByTheFlag_AsTheIsoFile_RecordedAndRecomputed(string prices, string state, string edited, string model, string flag, string value, string key)
    {
        var t = Crucible(Train(prices, edited, model, flag, value));
        Assert.True(t.Exit == 0, t.Stderr);
        string isoModel = model + "-iso";
        var iso = Crucible(Train(prices, state, isoModel));
        Assert.True(iso.Exit == 0, iso.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(isoModel, "weights.safetensors")), File.ReadAllBytes(Path.Combine(model, "weights.safetensors")));

        string run = Directory.GetFiles(Path.Combine(Home, "runs"), "*.json").Single(f => File.ReadAllText(f).Contains(key, StringComparison.Ordinal));
        Assert.Contains($"\"state_csv\":{{\"{key}\":\"{value}\"}}", File.ReadAllText(run), StringComparison.Ordinal);
        var again = Crucible("verify-run", run, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);

        var tabular = Crucible("train", "--data", prices, flag, value, "--steps", "2", "--out", Path.Combine(_dir, "t"));
        Assert.Equal(2, tabular.Exit);
        Assert.Contains($"{flag} applies to --kind sequence only", tabular.Stderr, StringComparison.Ordinal);
        var noState = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", flag, value, "--steps", "2", "--out", Path.Combine(_dir, "t"));
        Assert.Equal(2, noState.Exit);
        Assert.Contains("say how the state file is read: they need --state", noState.Stderr, StringComparison.Ordinal);
        Assert.Contains(flag, noState.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStateReadingFlags_NeedAStateFile_AndFfillLimitNeedsFfill()
    {
        var (prices, state) = GappyFiles();
        string model = Path.Combine(_dir, "m");
        var noState = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state-missing", "ffill", "--steps", "2", "--out", model);
        Assert.Equal(2, noState.Exit);
        Assert.Contains("they need --state", noState.Stderr, StringComparison.Ordinal);
        var tabular = Crucible("train", "--data", prices, "--state-na", ".", "--steps", "2", "--out", model);
        Assert.Equal(2, tabular.Exit);
        Assert.Contains("--state-na applies to --kind sequence only", tabular.Stderr, StringComparison.Ordinal);
        var limitAlone = Crucible(Train(prices, state, model, "--state-ffill-limit", "3"));
        Assert.Equal(2, limitAlone.Exit);
        Assert.Contains("--state-ffill-limit applies to --state-missing ffill", limitAlone.Stderr, StringComparison.Ordinal);
        // session 21: one rule with a training job's state_na (StateMissingValues.TokensProblem): a blank token is
        // refused (it was recorded in the run manifest and changed nothing: the empty field is always missing)
        foreach (var blank in new[] { "", " " })
        {
            var r = Crucible(Train(prices, state, model, "--state-na", ".", "--state-na", blank, "--state-missing", "ffill", "--state-ffill-limit", "2"));
            Assert.True(r.Exit == 2, $"'{blank}': exit {r.Exit}\n{r.Stderr}");
            Assert.Contains("error [OPT-E]: --state-na a token is null or blank (the empty field is always missing)", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(model, "manifest.json")));
        }

        var keep = Crucible(Train(prices, state, model, "--state-missing", "keep"));
        Assert.NotEqual(0, keep.Exit);
        Assert.False(File.Exists(Path.Combine(model, "manifest.json")));
    }

    [Fact]
    public void AConstantStateColumn_IsLocatedAtItsHeaderCell_WithTheRowsItIsConstantOver()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 80);
        var lines = File.ReadAllLines(state);
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            cells[1] = "20";
            lines[i] = string.Join(',', cells);
        }

        File.WriteAllText(state, string.Join('\n', lines) + "\n");
        var t = Crucible(Train(prices, state, Path.Combine(_dir, "m")));
        Assert.Equal(2, t.Exit);
        Assert.Contains($"{state}:1:2: error [constant-condition]: condition 'VIXCLS' does not vary", t.Stderr, StringComparison.Ordinal);
        Assert.Contains("; in the state file: column 2 (VIXCLS) is constant over the rows it was read from, dated 2020-01-01 .. ", t.Stderr, StringComparison.Ordinal);
    }
}
