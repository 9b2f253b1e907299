using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 28: the refusals of a sequence job's state file and condition features name the request's members
/// (<c>state_date_format</c>, <c>state_missing</c>, <c>state_ffill_limit</c>, <c>state_columns</c>,
/// <c>config.state_scale</c>, <c>state_csv</c>, <c>csv.date_format</c>, <c>data_csv</c>), and a data file's percent
/// values its <c>input</c>, not the flags of <c>crucible train</c> that the library's messages named and a client never typed. The library's typed refusal
/// (<c>SequenceOptionException</c>) is worded by the service with its members; the CLI's wording is unchanged
/// (<c>SequenceAdviceWordingCommandTests</c>).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class SequenceAdviceTrainingJobTests(ServiceFixture f)
{
    private const string AsOf = " (a return date reads the last state row of the 7 days before it)";

    // a service of its own: this class's failing jobs do not share the collection's rate limit
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Service() =>
        ServiceFixture.Create(Path.Combine(f.Dir, "sequence-advice-" + Guid.NewGuid().ToString("N")[..8]), f.KeysFile,
            new Dictionary<string, string> { ["RateLimitPermits"] = "1000" });

    private HttpClient Trainer(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        return client;
    }

    // the job's error: accepted (202), then failed; no flag of crucible train in it
    private static async Task<string> FailedAsync(HttpClient trainer, StringContent body)
    {
        using var response = await trainer.PostAsync("/v1/models", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var job = await SequenceJob.WaitAsync(trainer, response.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "failed", job.ToString());
        var error = job.GetProperty("error").GetString()!;
        Assert.DoesNotContain("--", error, StringComparison.Ordinal);
        return error;
    }

    // a sequence job's body with its own config (SequenceJob.Body's, with `config` added to it)
    private static StringContent Body(string prices, string? state, string[]? stateColumns, string config) =>
        ServiceFixture.Json($$"""
            {"kind": "sequence", "data_csv": {{JsonSerializer.Serialize(prices)}}, "train_end": "{{SequenceJob.TrainEnd}}", "window": 5, "steps": 12, "seed": 2,
             "config": {{SequenceJob.Config[..^1]}}, {{config}}}{{(state is null ? "" : ", \"state_csv\": " + JsonSerializer.Serialize(state))}}{{(stateColumns is null ? "" : ", \"state_columns\": " + JsonSerializer.Serialize(stateColumns))}}}
            """);

    [Fact]
    public async Task StateFileRefusals_NameStateDateFormat_StateMissing_AndStateFfillLimit()
    {
        var (prices, state) = SequenceJob.Csv();
        using var factory = Service();
        using var trainer = Trainer(factory);
        string[] features = ["VIXCLS", "TERM"];

        // dates in another format: state_date_format, and the price file's csv.date_format and data_csv
        var us = string.Join('\n', state.Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line
            : DateOnly.ParseExact(line[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture).ToString("MM/dd/yyyy", CultureInfo.InvariantCulture) + line[10..]));
        Assert.Equal("state.csv:2:1: error [CSV-E-DATE]: ambiguous date (day/month or month/day?); expected a date in the format yyyy-MM-dd in the state file: "
            + "its dates are read as yyyy-MM-dd (state_date_format; csv.date_format applies to data_csv, not to the state file): give the file's format with "
            + "state_date_format, e.g. \"state_date_format\": \"MM/dd/yyyy\"",
            await FailedAsync(trainer, SequenceJob.Body(prices, us, features)));

        // a missing value refused by default: state_missing and state_ffill_limit
        var gapped = SequenceJob.GappedState(state);
        Assert.Equal("state.csv:12:2: error [CSV-E-MISSING]: missing value in the state file (\"state_missing\": \"reject\", the default): forward-fill a series' "
            + "gaps with \"state_missing\": \"ffill\" (at most state_ffill_limit rows in a row), fill the value, or drop the row, as days without a state are left out" + AsOf,
            await FailedAsync(trainer, SequenceJob.Body(prices, gapped, features)));

        // forward-filled past the limit: state_ffill_limit
        Assert.Equal("state.csv:13:2: error [CSV-E-MISSING]: missing value beyond the forward-fill limit of 1 rows in the state file: raise state_ffill_limit (now 1), "
            + "fill the value, or drop the row" + AsOf,
            await FailedAsync(trainer, SequenceJob.Body(prices, gapped, features, """, "state_missing": "ffill", "state_ffill_limit": 1, "state_na": ["."]""")));
    }

    // the CSV reader's advice to read percent values named crucible train's --input percent; a job's is its input member
    [Fact]
    public async Task APercentFileReadAsSimpleReturns_NamesTheInputMember()
    {
        using var factory = Service();
        using var trainer = Trainer(factory);
        const string Data = "Date,A,B\n2020-01-01,0.5,0.2\n2020-01-02,-1.3,0.4\n2020-01-03,0.8,-0.6\n";
        Assert.Equal("data.csv:3:2: error [CSV-E-DOMAIN]: simple return must be > -1 (if the values are in percent, declare the input as percent returns: \"input\": \"percent\")",
            await FailedAsync(trainer, ServiceFixture.Json($$"""{"data_csv": {{JsonSerializer.Serialize(Data)}}, "input": "returns", "steps": 6, "seed": 5}""")));
    }

    [Fact]
    public async Task ConditionRefusals_NameStateColumns_ConfigStateScale_AndStateCsv()
    {
        var (prices, state) = SequenceJob.Csv();
        using var factory = Service();
        using var trainer = Trainer(factory);

        // no state_columns: the default features, which this file lacks; the file's own, as the request would list them
        Assert.Equal("state.csv:1:0: error [JOIN-E]: feature DFF needs the state column DFF, which the state file lacks (it has VIXCLS, DGS10, DGS3MO); without state "
            + "columns named, the default features VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2, RV20 are read: name the file's own (\"state_columns\": [\"VIXCLS\", \"DGS10\", \"DGS3MO\"])",
            await FailedAsync(trainer, SequenceJob.Body(prices, state, null)));

        // RV20 on weekly rows: the state features alone, as state_columns
        var weekly = string.Join('\n', prices.Split('\n').Where((line, i) => i == 0 || (i - 1) % 5 == 0));
        var rv20 = await FailedAsync(trainer, SequenceJob.Body(weekly, state, ["VIXCLS", "RV20"]));
        // session 29: located at the data file's date header cell, as crucible train locates it (its dates are at fault)
        Assert.StartsWith("data.csv:1:1: error [condition-frequency]: condition feature RV20 is the realised volatility of the 20 daily returns before each date", rv20, StringComparison.Ordinal);
        Assert.EndsWith("; name the condition features without RV20 (\"state_columns\": [\"VIXCLS\", \"DFF\", \"TERM\", \"BAA10Y\", \"BAMLH0A0HYM2\"])", rv20, StringComparison.Ordinal);

        // config.state_scale: without a state file (state_csv), outside state_columns, or a column the file lacks
        const string Scale = "\"state_scale\": \"VIXCLS\"";
        Assert.Equal("error [state-scale]: config.state_scale VIXCLS scales each window by its state's VIXCLS, but no state was given (state_csv)",
            await FailedAsync(trainer, Body(prices, null, null, Scale)));
        Assert.Equal("state.csv:1:0: error [state-scale]: config.state_scale VIXCLS is not among the condition features (TERM): add it to state_columns",
            await FailedAsync(trainer, Body(prices, state, ["TERM"], Scale)));
        Assert.Equal("state.csv:1:0: error [state-scale]: config.state_scale DGS3MO needs the state column DGS3MO, which the state file lacks (it has VIXCLS, DGS10)",
            await FailedAsync(trainer, Body(prices, string.Join('\n', state.Split('\n').Select(l => l.Length == 0 ? l : l[..l.LastIndexOf(',')])), ["VIXCLS", "DGS3MO"],
                "\"state_scale\": \"DGS3MO\"")));
    }
    // session 29: the registry's conflict of a twin whose last prices one of the two withholds names the request's
    // withhold_prices, not crucible train's --withhold-prices
    [Fact]
    public async Task ARegistryConflictOnWithheldPrices_NamesWithholdPrices()
    {
        using var factory = Service();
        using var trainer = Trainer(factory);
        var csv = RandomWalkPrices.Csv(80, seed: 3, new DateOnly(2020, 1, 1), correlated: true);
        const string Config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20, "training": {"batch_size": 16, "warmup_steps": 1}}""";
        string Body(string more) => $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "steps": 4, "seed": 5, "config": {{Config}}{{more}}}""";
        using (var accepted = await trainer.PostAsync("/v1/models", ServiceFixture.Json(Body(""", "withhold_prices": true"""))))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
            Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        }

        var conflict = await FailedAsync(trainer, ServiceFixture.Json(Body("")));
        Assert.Contains("error [REG-E-CONFLICT]: model ", conflict, StringComparison.Ordinal);
        Assert.Contains("; data.last_prices is the train's last prices, which one of the two withholds (withhold_prices): answered as one model", conflict, StringComparison.Ordinal);
    }
}
