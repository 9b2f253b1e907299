using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary><c>POST /v1/models</c> and <c>GET /v1/jobs/{id}</c>: an asynchronous training job that registers the same model <c>crucible train</c> makes.</summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingJobTests(ServiceFixture f)
{
    private const string Config = """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}}""";

    private static string Prices(int rows = 200) => RandomWalkPrices.Csv(rows, seed: 4, new DateOnly(2020, 1, 1), correlated: true);

    private static StringContent Request(string csv, string extra = "") =>
        ServiceFixture.Json($$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "train_end": "2020-08-31", "steps": 30, "seed": 3, "config": {{Config}}{{extra}}}""");

    private static async Task<JsonElement> WaitAsync(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var job = JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();
            var status = job.GetProperty("status").GetString();
            if (status is "succeeded" or "failed" or "cancelled") return job;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(500); // two polls a second stay far below the 120-requests-a-minute limit however long the job

        }
    }

    // a seed beyond 2^53 was a 422 while the run manifest's canonical JSON could not keep it exactly (and before that a
    // job that failed after its 202); canonical JSON now keeps every 64-bit integer, as crucible train does
    [Theory]
    [InlineData("18446744073709551615")]
    [InlineData("9007199254740993")]
    public async Task TrainingJob_WithASeedBeyond2To53_SucceedsAndKeepsItExactly(string seed)
    {
        using var trainer = f.Client("trainer");
        var body = ServiceFixture.Json($$"""{"data_csv": {{JsonSerializer.Serialize(Prices(120))}}, "train_end": "2020-05-29", "steps": 5, "config": {{Config}}, "seed": {{seed}}}""");
        using var accepted = await trainer.PostAsync("/v1/models", body);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        using var reader = f.Client("reader");
        var model = await reader.GetStringAsync("/v1/models/" + job.GetProperty("model_id").GetString());
        Assert.Contains($"\"seed\":{seed}", model, StringComparison.Ordinal);
    }

    // a bank export's ISIN column beside the prices: with "columns" naming the prices only those are read (the job
    // failed at the ISIN's first cell, CSV-E-NUM, whatever "columns" named)
    [Fact]
    public async Task TrainingJob_WithColumns_ReadsOnlyThoseColumns()
    {
        using var trainer = f.Client("trainer");
        var csv = string.Join('\n', Prices(120).Split('\n').Select((l, i) =>
            l.Length == 0 ? l : i == 0 ? l.Replace("Date,", "Date,ISIN,", StringComparison.Ordinal) : l.Insert(l.IndexOf(',', StringComparison.Ordinal), ",US78462F1030")));
        var body = ServiceFixture.Json($$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "columns": ["B", "A"], "train_end": "2020-05-29", "steps": 5, "seed": 3, "config": {{Config}}}""");
        using var accepted = await trainer.PostAsync("/v1/models", body);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
    }

    [Fact]
    public async Task TrainingJob_RegistersTheModelThatTheCliTrains_AndItServesScenarios()
    {
        using var trainer = f.Client("trainer");
        var csv = Prices();
        using var accepted = await trainer.PostAsync("/v1/models", Request(csv));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        Assert.StartsWith("/v1/jobs/", location, StringComparison.Ordinal);
        var job = await WaitAsync(trainer, location);
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(30, job.GetProperty("step").GetInt32());
        Assert.Equal(30, job.GetProperty("total_steps").GetInt32());
        Assert.Equal(JsonValueKind.Number, job.GetProperty("loss").ValueKind); // withheld only under DP-SGD
        var modelId = job.GetProperty("model_id").GetString()!;

        // crucible train on the same file, config and seed: the same weights, so the same model id
        var data = Path.Combine(f.Dir, "train-prices.csv");
        var config = Path.Combine(f.Dir, "train-config.json");
        File.WriteAllText(data, csv);
        File.WriteAllText(config, Config);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "crucible.dll"), "train", "--data", data, "--train-end", "2020-08-31", "--steps", "30",
                     "--seed", "3", "--config", config, "--home", Path.Combine(f.Dir, "train-cli-home"), "--out", Path.Combine(f.Dir, "train-cli-model") })
            start.ArgumentList.Add(a);
        using (var p = Process.Start(start)!)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, await stderr);
        }

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(f.Dir, "train-cli-model", "manifest.json")));
        Assert.Equal(manifest.RootElement.GetProperty("weights").GetProperty("sha256").GetString(), modelId);
        // the job's loss once done is the final loss crucible train prints (the manifest's mean over the last tenth of the
        // steps), not the mean of the last progress interval
        Assert.Equal(manifest.RootElement.GetProperty("training").GetProperty("final_loss").GetDouble(), job.GetProperty("loss").GetDouble());

        // registered, listed, and it serves scenarios
        using var admin = f.Client("admin");
        var models = JsonDocument.Parse(await admin.GetStringAsync("/v1/models")).RootElement;
        Assert.Contains(models.GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == modelId);
        using var scenarios = await admin.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 4}"""));
        Assert.Equal(HttpStatusCode.OK, scenarios.StatusCode);

        // trained on prices, both record the last train prices, the default start of "prices": true
        var last = manifest.RootElement.GetProperty("data").GetProperty("last_prices");
        using var priced = await admin.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 4, "prices": true}"""));
        Assert.Equal(HttpStatusCode.OK, priced.StatusCode);
        var prices = JsonDocument.Parse(await priced.Content.ReadAsStringAsync()).RootElement.GetProperty("metadata").GetProperty("prices");
        Assert.Equal("model_manifest", prices.GetProperty("source").GetString());
        Assert.True(JsonElement.DeepEquals(last, prices.GetProperty("start")), $"{last} vs {prices}");
    }

    [Fact]
    public async Task TrainingJob_BadData_FailsWithTheReadersMessage()
    {
        using var trainer = f.Client("trainer");
        var csv = Prices().Replace("2020-01-06,", "2020-01-06x,", StringComparison.Ordinal);
        using var accepted = await trainer.PostAsync("/v1/models", Request(csv));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("data.csv", job.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("model_id").ValueKind);
    }

    // a small DP-SGD tabular training job (noise multiplier 1) at delta = the JSON number given
    private HttpContent DpJob(string delta, int steps) => ServiceFixture.Json(
        $$"""{"data_csv": {{JsonSerializer.Serialize(Prices())}}, "train_end": "2020-08-31", "steps": {{steps}}, "seed": 3, "config": {"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}, "transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"noise_multiplier": 1, "delta": """ + delta + "}}}");

    [Fact]
    public async Task TrainingJob_Dp_WithholdsTheLoss_WhileRunningAndOnceDone()
    {
        // under DP-SGD the training loss is a statistic of the private rows outside the accountant (DP-11): the model
        // manifest withholds it, and so must the job's progress, served to every train key and kept in the store
        using var trainer = f.Client("trainer");
        using var accepted = await trainer.PostAsync("/v1/models", DpJob("1e-4", steps: 40));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var job = JsonDocument.Parse(await trainer.GetStringAsync(location)).RootElement.Clone();
            Assert.True(job.GetProperty("loss").ValueKind == JsonValueKind.Null, job.ToString());
            var status = job.GetProperty("status").GetString();
            if (status is "succeeded" or "failed" or "cancelled")
            {
                Assert.True(status == "succeeded", job.ToString());
                Assert.Equal(40, job.GetProperty("step").GetInt32());
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task TrainingJob_DpDeltaNotBelowOneOverN_FailsNamingTheRequestsField()
    {
        // the engine refuses δ ≥ 1/N when the job starts (N, the train rows, is known only then): the error names the
        // request's field config.privacy.delta, not the CLI's flag nor the bare config key
        using var trainer = f.Client("trainer");
        using var accepted = await trainer.PostAsync("/v1/models", DpJob("0.01", steps: 5));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.StartsWith("config.privacy.delta: error [DP-E-BUDGET]: delta 0.01 is not below 1/N", job.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainingJob_BadData_ErrorNamesTheFileNotTheServersPath()
    {
        // the message named the job's scratch file by its absolute path in the service's home (HOME/jobs/ID/data.csv)
        using var trainer = f.Client("trainer");
        var csv = Prices().Replace("2020-01-06,", "2020-01-06x,", StringComparison.Ordinal);
        using var accepted = await trainer.PostAsync("/v1/models", Request(csv));
        var job = await WaitAsync(trainer, accepted.Headers.Location!.ToString());
        var error = job.GetProperty("error").GetString()!;
        Assert.StartsWith("data.csv:", error, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Dir, error, StringComparison.Ordinal);
        Assert.DoesNotContain("jobs", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainingRequest_Errors()
    {
        using var trainer = f.Client("trainer");
        var p1 = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", Request("x", ", \"input\": \"bananas\"")), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(p1.GetProperty("errors").TryGetProperty("input", out _));
        var p2 = await Problem.AssertAsync(await trainer.PostAsync("/v1/models",
            ServiceFixture.Json("""{"data_csv": "x", "config": {"hiden": 3}}""")), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(p2.GetProperty("errors").TryGetProperty("config", out _));
        var p3 = await Problem.AssertAsync(await trainer.PostAsync("/v1/models",
            ServiceFixture.Json("""{"data_csv": "x", "train_end": "31/08/2020", "steps": 0}""")), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(p3.GetProperty("errors").TryGetProperty("train_end", out _) && p3.GetProperty("errors").TryGetProperty("steps", out _));
        await Problem.AssertAsync(await trainer.PostAsync("/v1/models", ServiceFixture.Json("""{"data_csv": 5}""")), HttpStatusCode.BadRequest, "malformed-request");
        await Problem.AssertAsync(await trainer.GetAsync("/v1/jobs/nope"), HttpStatusCode.NotFound, "not-found");

        using var generator = f.Client("generator");
        await Problem.AssertAsync(await generator.PostAsync("/v1/models", Request("x")), HttpStatusCode.Forbidden, "forbidden");
    }
}

/// <summary>A <c>config</c> whose <c>training</c> section is JSON null is a 422 naming <c>config</c> (it was a 500).</summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingConfigNullSectionTests(ServiceFixture f)
{
    [Theory]
    [InlineData("tabular", ", \"steps\": 5")]
    [InlineData("tabular", "")]
    [InlineData("sequence", ", \"steps\": 5")]
    [InlineData("sequence", "")]
    public async Task TrainingRequest_NullTrainingSection_Is422NamingConfig(string kind, string steps)
    {
        using var trainer = f.Client("trainer");
        var body = ServiceFixture.Json($$"""{"data_csv": "x", "kind": "{{kind}}", "config": {"training": null}{{steps}}}""");
        var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", body), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("training", problem.GetProperty("errors").GetProperty("config")[0].GetString(), StringComparison.Ordinal);
    }
}

/// <summary>
/// A <c>config</c> that does not read as the generator's options is a 422 naming <c>config</c> in the request's terms: the
/// member's path from <c>config</c> and what it expects, without the .NET type names, the reader's "Path: $ | LineNumber: 0"
/// or its positions counted from the config's start (the detail carried System.Text.Json's message as it was).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingConfigTypeErrorTests(ServiceFixture f)
{
    [Theory]
    [InlineData("tabular", """{"transform": "nope"}""", "config.transform: expected ")]
    [InlineData("tabular", """{"hidden": 1e300}""", "config.hidden: expected a whole number in range")]
    [InlineData("tabular", """{"training": {"batch_size": null}}""", "config.training.batch_size: expected ")]
    [InlineData("tabular", "[]", "config: expected ")]
    [InlineData("sequence", """{"window": "x"}""", "config.window: expected a whole number in range")]
    [InlineData("sequence", """{"blocks": 1}""", "unknown member 'blocks'")]
    public async Task TrainingRequest_ConfigOfTheWrongShape_Is422InTheRequestsTerms(string kind, string config, string expected)
    {
        using var trainer = f.Client("trainer");
        var body = ServiceFixture.Json($$"""{"data_csv": "x", "kind": "{{kind}}", "config": {{config}}}""");
        var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", body), HttpStatusCode.UnprocessableEntity, "validation");
        var rule = problem.GetProperty("errors").GetProperty("config")[0].GetString()!;
        Assert.StartsWith(expected, rule, StringComparison.Ordinal);
        foreach (var leak in new[] { "System.", "Crucible.", ".NET", "LineNumber", "BytePosition", "Path: " })
            Assert.DoesNotContain(leak, rule, StringComparison.Ordinal);
    }
}

/// <summary>
/// A <c>columns</c> or <c>state_columns</c> list with a null or blank name, or a name twice, is a 422 naming the field; it
/// was accepted with 202 and the job failed ("no column named ''", "column names must be unique (Parameter 'columns')").
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingNameListTests(ServiceFixture f)
{
    [Theory]
    [InlineData("\"columns\": [null]", "columns")]
    [InlineData("\"columns\": [\"A\", \" \"]", "columns")]
    [InlineData("\"columns\": [\"A\", \"A\"]", "columns")]
    [InlineData("\"kind\": \"sequence\", \"state_csv\": \"x\", \"state_columns\": [null]", "state_columns")]
    [InlineData("\"kind\": \"sequence\", \"state_csv\": \"x\", \"state_columns\": [\"VIXCLS\", \"VIXCLS\"]", "state_columns")]
    public async Task BadNameList_Is422NamingTheField(string member, string field)
    {
        using var trainer = f.Client("trainer");
        var body = ServiceFixture.Json($$"""{"data_csv": "x", {{member}}}""");
        var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", body), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}
