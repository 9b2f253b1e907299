using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance.Manifests;

namespace Crucible.Service.Tests;

/// <summary>
/// A training job's <c>csv</c>: the data file's dialect (<c>crucible train --delimiter --decimal --date-column …</c>,
/// as a run manifest records it), read by the library's rules (<c>CsvDialect</c>). Until session 27 a job read only a
/// comma-separated file with a first column called Date.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class CsvDialectTrainingJobTests(ServiceFixture f)
{
    private const string Config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";

    private static Task<(int Exit, string Stderr)> CliAsync(params string[] args) => CrucibleProcess.RunAsync(args);

    // a service of its own (a home of its own, the fixture's keys), whose rate limit this class's requests do not share
    // with the collection's other training tests
    private (Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Factory, string Home) Service()
    {
        var home = Path.Combine(f.Dir, "csv-dialect-" + Guid.NewGuid().ToString("N")[..8]);
        return (ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["RateLimitPermits"] = "1000" }), home);
    }

    private HttpClient Client(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys[key]);
        return client;
    }

    // the plain file as a continental spreadsheet saves it: semicolons, decimal commas, the date last and called Datum
    private static string Continental(string csv) => string.Join('\n', csv.Split('\n').Select(line =>
    {
        if (line.Length == 0) return line;
        var cells = line.Split(',');
        var values = cells[1..].Select(c => c.Replace('.', ','));
        return string.Join(';', values.Append(cells[0] == "Date" ? "Datum" : cells[0]));
    }));

    // RELIABILITY MRM-9: the job reads the continental file as crucible train does with the same dialect (the same weights
    // and model manifest), the weights are those of the plain file's model, and the run manifest records csv as the CLI does
    [Fact]
    public async Task TabularJob_WithADialect_GivesTheCliTrainsBytes_AndThePlainFilesWeights()
    {
        var plain = RandomWalkPrices.Csv(120, seed: 13, new DateOnly(2020, 1, 1), correlated: true);
        var continental = Continental(plain);
        const string Dialect = """{"delimiter": ";", "decimal": ",", "date_column": "Datum"}""";
        var (factory, serviceHome) = Service();
        using var _ = factory;
        using var trainer = Client(factory, "trainer");

        // without the dialect the job fails on the header, as crucible train would without --delimiter
        using (var refused = await trainer.PostAsync("/v1/models", ServiceFixture.Json(
            $$"""{"data_csv": {{JsonSerializer.Serialize(continental)}}, "steps": 6, "seed": 5, "config": {{Config}}}""")))
        {
            var failed = await SequenceJob.WaitAsync(trainer, refused.Headers.Location!.ToString());
            Assert.Equal("failed", failed.GetProperty("status").GetString());
            Assert.Contains("data.csv:1:", failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
        }

        using var accepted = await trainer.PostAsync("/v1/models", ServiceFixture.Json(
            $$"""{"data_csv": {{JsonSerializer.Serialize(continental)}}, "csv": {{Dialect}}, "steps": 6, "seed": 5, "config": {{Config}}}"""));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var registered = Path.Combine(serviceHome, "models", job.GetProperty("model_id").GetString()!);

        var dir = Path.Combine(f.Dir, "csv-dialect-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "plain"));
        var data = Path.Combine(dir, "data.csv");
        File.WriteAllText(data, continental);
        var plainData = Path.Combine(dir, "plain", "data.csv");
        File.WriteAllText(plainData, plain);
        File.WriteAllText(Path.Combine(dir, "config.json"), Config);
        string home = Path.Combine(dir, "home"), model = Path.Combine(dir, "model"), plainModel = Path.Combine(dir, "plain-model");
        var (exit, stderr) = await CliAsync("train", "--data", data, "--delimiter", ";", "--decimal", ",", "--date-column", "Datum", "--steps", "6", "--seed", "5",
            "--config", Path.Combine(dir, "config.json"), "--home", home, "--out", model);
        Assert.True(exit == 0, stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(model, "weights.safetensors")), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(model, "manifest.json")), File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        var cli = RunManifest.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(home, "runs"), "*.json").Single()));

        (exit, stderr) = await CliAsync("train", "--data", plainData, "--steps", "6", "--seed", "5", "--config", Path.Combine(dir, "config.json"),
            "--home", Path.Combine(dir, "plain-home"), "--out", plainModel);
        Assert.True(exit == 0, stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(plainModel, "weights.safetensors")), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));

        using var reader = Client(factory, "reader");
        var service = RunManifest.Parse(await reader.GetByteArrayAsync("/v1/runs/" + job.GetProperty("run_id").GetString()));
        Assert.True(JsonNode.DeepEquals(cli.Config["csv"], service.Config["csv"]), $"{cli.Config["csv"]} vs {service.Config["csv"]}");
    }

    [Fact]
    public async Task Csv_OfTheWrongShape_Is422NamingTheMember()
    {
        var (factory, _) = Service();
        using var owned = factory;
        using var trainer = Client(factory, "trainer");
        async Task<string> Refused(string csv)
        {
            var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", ServiceFixture.Json($$"""{"data_csv": "x", "csv": {{csv}}}""")),
                HttpStatusCode.UnprocessableEntity, "validation");
            return problem.GetProperty("errors").GetProperty("csv")[0].GetString()!;
        }

        Assert.StartsWith("must be an object of the CSV dialect's members: delimiter, decimal", await Refused("\";\""), StringComparison.Ordinal);
        Assert.StartsWith("csv.separator is not a CSV dialect member", await Refused("""{"separator": ";"}"""), StringComparison.Ordinal);
        Assert.Equal("csv.delimiter takes one character, got ';;'", await Refused("""{"delimiter": ";;"}"""));
        Assert.Equal("csv.delimiter must be a string", await Refused("""{"delimiter": 59}"""));
        Assert.Equal("csv.ffill_limit must be a whole number", await Refused("""{"missing": "ffill", "ffill_limit": "2"}"""));
        Assert.Equal("csv.missing must be reject, keep or ffill, got 'drop'", await Refused("""{"missing": "drop"}"""));
        Assert.StartsWith("csv.missing keep would train on missing values", await Refused("""{"missing": "keep"}"""), StringComparison.Ordinal);
        Assert.Equal("csv.domain takes NAME=any|nonneg|positive, got 'A=neg'", await Refused("""{"domain": ["A=neg"]}"""));
        Assert.Contains("csv.date_column", await Refused("""{"date_column": " "}"""), StringComparison.Ordinal);
    }
}
