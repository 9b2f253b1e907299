using System.Net;
using System.Text.Json;
using Crucible.Governance.Manifests;

namespace Crucible.Service.Tests;

/// <summary>
/// A sequence training job's <c>state_date_column</c> (<c>crucible train --state-date-column</c>) end to end: a state
/// file headed <c>observation_date</c> (a FRED download) fails the job at its header, naming the request's field (the
/// library's typed refusal, <c>StateDateColumnException</c>, not its message, tells the service which it is); with the
/// field, the job trains the model of the same file headed <c>Date</c>, weight for weight, and its run manifest records
/// the column as <c>config.state_csv.date_column</c>.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class StateDateColumnTrainingJobTests(ServiceFixture f)
{
    private static readonly string[] Features = ["VIXCLS", "TERM"];

    // a service of its own: the model of the Date-headed file, with another state file hash in its manifest, may be
    // registered in the collection's home by another test (REG-E-CONFLICT there), and this class's requests do not
    // share the collection's rate limit
    private (Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Factory, string Home) Service()
    {
        var home = Path.Combine(f.Dir, "state-date-column-" + Guid.NewGuid().ToString("N")[..8]);
        return (ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["RateLimitPermits"] = "1000" }), home);
    }

    private HttpClient Client(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys[key]);
        return client;
    }

    // the fixture's state file as FRED names its date column
    private static string Fred(string state)
    {
        Assert.StartsWith("Date,", state, StringComparison.Ordinal);
        return "observation_date" + state["Date".Length..];
    }

    private static async Task<string> FailedAsync(HttpClient trainer, StringContent body)
    {
        using var response = await trainer.PostAsync("/v1/models", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, response.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "failed", job.ToString());
        return job.GetProperty("error").GetString()!;
    }

    [Fact]
    public async Task SequenceJob_StateFileWithoutItsDateColumn_FailsAtTheHeader_NamingStateDateColumn()
    {
        var (prices, state) = SequenceJob.Csv();
        var (factory, _) = Service();
        using var owned = factory;
        using var trainer = Client(factory, "trainer");

        var error = await FailedAsync(trainer, SequenceJob.Body(prices, Fred(state), Features));
        Assert.StartsWith("state.csv:1:1: error [CSV-E-HEADER]: no column is named 'Date', expected as the date column (the first column is 'observation_date')", error, StringComparison.Ordinal);
        Assert.EndsWith("(the state file's date column is 'Date': name it with state_date_column, e.g. \"state_date_column\": \"observation_date\"; csv.date_column names data_csv's)",
            error, StringComparison.Ordinal);
        Assert.DoesNotContain("--", error, StringComparison.Ordinal); // crucible train's flags are not the request's fields

        // a column the file lacks, named: that name
        error = await FailedAsync(trainer, SequenceJob.Body(prices, state, Features, """, "state_date_column": "observation_date" """));
        Assert.StartsWith("state.csv:1:1: error [CSV-E-HEADER]: no column is named 'observation_date'", error, StringComparison.Ordinal);
        Assert.Contains("(the state file's date column is 'observation_date': name it with state_date_column", error, StringComparison.Ordinal);
    }

    // RELIABILITY MRM-9: the date column's header changes how the file is read, not what is learned
    [Fact]
    public async Task SequenceJob_StateDateColumn_TrainsTheModelOfTheDateHeadedFile_AndRecordsTheColumn()
    {
        var (prices, state) = SequenceJob.Csv();
        var fred = Fred(state);
        var (factory, home) = Service();
        using var owned = factory;
        using var trainer = Client(factory, "trainer");

        using var accepted = await trainer.PostAsync("/v1/models", SequenceJob.Body(prices, fred, Features, """, "state_date_column": "observation_date" """));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var modelId = job.GetProperty("model_id").GetString()!;
        var registered = Path.Combine(home, "models", modelId);

        // the library on the Date-headed file (read with the default date column)
        var dated = SequenceJob.Library(Path.Combine(f.Dir, "state-date-column-library-" + Guid.NewGuid().ToString("N")), prices, state, Features);
        Assert.Equal(dated.WeightsBytes(), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));
        Assert.Equal(dated.ModelId, modelId);

        // the model manifest names the file the job read (FRED's header), the run manifest how it was read
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        Assert.Equal(SequenceJob.Sha256(fred), manifest.RootElement.GetProperty("state_data").GetProperty("input_sha256").GetString());
        Assert.NotEqual(SequenceJob.Sha256(state), SequenceJob.Sha256(fred));
        using var reader = Client(factory, "reader");
        var run = RunManifest.Parse(await reader.GetByteArrayAsync("/v1/runs/" + job.GetProperty("run_id").GetString()));
        Assert.Equal("""{"date_column":"observation_date"}""", run.Config["state_csv"]!.ToJsonString());
    }
}
