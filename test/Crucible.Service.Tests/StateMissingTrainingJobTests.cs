using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance.Manifests;

namespace Crucible.Service.Tests;

/// <summary>
/// A training job's <c>state_missing</c>, <c>state_ffill_limit</c>, <c>state_na</c> and <c>withhold_prices</c>: the
/// options of <c>crucible train --state-missing --state-ffill-limit --state-na --withhold-prices</c>, with its rules (422
/// naming the field), its bytes (RELIABILITY MRM-9: the job and the CLI give the same weights and model manifest) and its
/// records (the run manifest's <c>config.state_csv</c> and <c>config.withhold_prices</c>).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class StateMissingTrainingJobTests(ServiceFixture f)
{
    private static readonly string[] Features = ["VIXCLS", "TERM", "RV20"];

    private static Task<(int Exit, string Stderr)> CliAsync(params string[] args) => CrucibleProcess.RunAsync(args);

    private async Task<RunManifest> RunAsync(string runId)
    {
        using var reader = f.Client("reader");
        return RunManifest.Parse(await reader.GetByteArrayAsync("/v1/runs/" + runId));
    }

    // RELIABILITY MRM-9: a sequence job on a state file with gaps, read with ffill, a limit and FRED's ".", its prices
    // withheld, gives the bytes crucible train gives for the same files and flags; both runs record the options alike
    [Fact]
    public async Task SequenceJob_StateMissingAndWithheldPrices_GivesTheCliTrainsBytes_AndRecordsTheOptionsAsTheCliDoes()
    {
        var (prices, clean) = SequenceJob.Csv();
        var state = SequenceJob.GappedState(clean);
        using var trainer = f.Client("trainer");

        // the gaps are refused by default, as by crucible train (the job fails at the first one, naming it)
        using (var refused = await trainer.PostAsync("/v1/models", SequenceJob.Body(prices, state, Features)))
        {
            Assert.Equal(HttpStatusCode.Accepted, refused.StatusCode);
            var failed = await SequenceJob.WaitAsync(trainer, refused.Headers.Location!.ToString());
            Assert.Equal("failed", failed.GetProperty("status").GetString());
            Assert.Contains("state.csv:12:2", failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
            // the request's members, not crucible train's flags (session 28)
            Assert.Contains("forward-fill a series' gaps with \"state_missing\": \"ffill\" (at most state_ffill_limit rows in a row)",
                failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
            Assert.DoesNotContain("--", failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
        }

        using var accepted = await trainer.PostAsync("/v1/models", SequenceJob.Body(prices, state, Features, SequenceJob.GappedFields));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var modelId = job.GetProperty("model_id").GetString()!;

        // crucible train on the same files (named data.csv and state.csv, as in the job's folder, which the manifests name)
        var dir = Path.Combine(f.Dir, "state-missing-cli-" + Guid.NewGuid().ToString("N"));
        var (data, statePath, _, _, _) = SequenceJob.Files(dir, prices, state, DateOnly.Parse(SequenceJob.TrainEnd, System.Globalization.CultureInfo.InvariantCulture));
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, SequenceJob.Config);
        string cliHome = Path.Combine(dir, "home"), cliModel = Path.Combine(dir, "model");
        var (exit, stderr) = await CliAsync("train", "--kind", "sequence", "--data", data, "--state", statePath, "--state-columns", string.Join(',', Features),
            "--state-missing", "ffill", "--state-ffill-limit", "2", "--state-na", ".", "--withhold-prices", "--train-end", SequenceJob.TrainEnd,
            "--window", "5", "--steps", "12", "--seed", "2", "--config", config, "--home", cliHome, "--out", cliModel);
        Assert.True(exit == 0, stderr);

        var registered = Path.Combine(f.Home, "models", modelId);
        Assert.Equal(File.ReadAllBytes(Path.Combine(cliModel, "weights.safetensors")), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(cliModel, "manifest.json")), File.ReadAllBytes(Path.Combine(registered, "manifest.json")));

        // and the library's, read with the same policy
        var library = SequenceJob.Library(Path.Combine(dir, "library"), prices, state, Features, missing: SequenceJob.GappedMissing, withholdPrices: true);
        Assert.Equal(library.ModelId, modelId);

        // the model manifest records the reading (three values filled) and withholds the last prices
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        var missing = manifest.RootElement.GetProperty("state_data").GetProperty("missing");
        Assert.Equal(3, missing.GetProperty("filled").GetInt64());
        Assert.Equal(2, missing.GetProperty("forward_fill_limit").GetInt32());
        Assert.Equal(["."], missing.GetProperty("na").EnumerateArray().Select(t => t.GetString()));
        Assert.False(manifest.RootElement.GetProperty("data").TryGetProperty("last_prices", out _));
        Assert.True(manifest.RootElement.GetProperty("data").GetProperty("last_prices_withheld").GetBoolean());

        // the run manifests' config: state_csv and withhold_prices, the same JSON under the same keys
        var service = await RunAsync(job.GetProperty("run_id").GetString()!);
        var cli = RunManifest.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(cliHome, "runs"), "*.json").Single()));
        Assert.True(JsonNode.DeepEquals(cli.Config["state_csv"], service.Config["state_csv"]), $"{cli.Config["state_csv"]} vs {service.Config["state_csv"]}");
        Assert.NotNull(service.Config["state_csv"]);
        Assert.True((bool)service.Config["withhold_prices"]!);
        Assert.True(JsonNode.DeepEquals(cli.Config["withhold_prices"], service.Config["withhold_prices"]));

        // without start_prices, "prices": true is refused naming the field, as generate --prices names the flag
        using var admin = f.Client("admin");
        var problem = await Problem.AssertAsync(
            await admin.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 2, "seed": 1, "sampling_steps": 5, "prices": true}""")),
            HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("start_prices", out var rules), problem.ToString());
        Assert.Contains("withheld", rules[0].GetString(), StringComparison.Ordinal);
    }

    // a tabular job with withhold_prices: the model crucible train --withhold-prices trains, with no last prices recorded
    [Fact]
    public async Task TabularJob_WithholdPrices_GivesTheCliTrainsWeights_AndRecordsNoLastPrices()
    {
        const string Config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";
        var csv = RandomWalkPrices.Csv(120, seed: 9, new DateOnly(2020, 1, 1), correlated: true);
        using var trainer = f.Client("trainer");
        using var accepted = await trainer.PostAsync("/v1/models", ServiceFixture.Json(
            $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "steps": 6, "seed": 5, "config": {{Config}}, "withhold_prices": true}"""));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var modelId = job.GetProperty("model_id").GetString()!;

        var dir = Path.Combine(f.Dir, "withhold-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "data.csv"), csv);
        File.WriteAllText(Path.Combine(dir, "config.json"), Config);
        var (exit, stderr) = await CliAsync("train", "--data", Path.Combine(dir, "data.csv"), "--withhold-prices", "--steps", "6", "--seed", "5",
            "--config", Path.Combine(dir, "config.json"), "--home", Path.Combine(dir, "home"), "--out", Path.Combine(dir, "model"));
        Assert.True(exit == 0, stderr);
        var registered = Path.Combine(f.Home, "models", modelId);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "model", "weights.safetensors")), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "model", "manifest.json")), File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        Assert.False(manifest.RootElement.GetProperty("data").TryGetProperty("last_prices", out _));
        Assert.True(manifest.RootElement.GetProperty("data").GetProperty("last_prices_withheld").GetBoolean());
        Assert.True((bool)(await RunAsync(job.GetProperty("run_id").GetString()!)).Config["withhold_prices"]!);
    }

    // session 23: a state file whose dates are not ISO (a spreadsheet's MM/dd/yyyy) had no option to read it; state_date_format
    // reads it as crucible train --state-date-format does: the weights of the ISO file's model, the format in config.state_csv
    [Fact]
    public async Task SequenceJob_StateDateFormat_ReadsAUsDatedStateFile_AsTheIsoOne()
    {
        var (prices, clean) = SequenceJob.Csv();
        var us = string.Join('\n', clean.Split('\n').Select((line, i) => i == 0 || line.Length == 0 ? line
            : DateOnly.ParseExact(line[..10], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
                .ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture) + line[10..]));
        using var trainer = f.Client("trainer");

        // its own train end: the fixture's home is shared, and the ISO file's model with these weights is another test's
        // (the same weights with another manifest, whose state file hash differs, would be REG-E-CONFLICT there)
        const string TrainEnd = "2020-04-08";
        using (var refused = await trainer.PostAsync("/v1/models", SequenceJob.Body(prices, us, Features, trainEnd: TrainEnd)))
        {
            var failed = await SequenceJob.WaitAsync(trainer, refused.Headers.Location!.ToString());
            Assert.Equal("failed", failed.GetProperty("status").GetString());
            // the request's member, not crucible train's flag (session 28)
            Assert.Contains("give the file's format with state_date_format, e.g. \"state_date_format\": \"MM/dd/yyyy\"", failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
            Assert.DoesNotContain("--", failed.GetProperty("error").GetString()!, StringComparison.Ordinal);
        }

        using var accepted = await trainer.PostAsync("/v1/models", SequenceJob.Body(prices, us, Features, """, "state_date_format": "MM/dd/yyyy" """, TrainEnd));
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var iso = SequenceJob.Library(Path.Combine(f.Dir, "state-date-format-" + Guid.NewGuid().ToString("N")), prices, clean, Features, trainEnd: TrainEnd);
        Assert.Equal(iso.ModelId, job.GetProperty("model_id").GetString());
        var run = await RunAsync(job.GetProperty("run_id").GetString()!);
        Assert.Equal("""{"date_format":"MM/dd/yyyy"}""", run.Config["state_csv"]!.ToJsonString());
    }

    [Fact]
    public async Task StateMissingFields_Are422NamingTheField_ByTheCliRules()
    {
        using var trainer = f.Client("trainer");
        async Task<JsonElement> Refused(string body)
        {
            var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", ServiceFixture.Json(body)), HttpStatusCode.UnprocessableEntity, "validation");
            return problem.GetProperty("errors");
        }

        static string Rule(JsonElement errors, string field) => errors.TryGetProperty(field, out var e) ? e[0].GetString()! : "(none) in " + errors;

        // the state options apply to a sequence job only; withhold_prices to both kinds
        var tabular = await Refused("""{"data_csv": "x", "window": 5, "state_missing": "ffill", "state_ffill_limit": 2, "state_na": ["."], "withhold_prices": true}""");
        foreach (var field in new[] { "state_missing", "state_ffill_limit", "state_na" }) Assert.Equal("applies to kind sequence only", Rule(tabular, field));
        Assert.False(tabular.TryGetProperty("withhold_prices", out _), tabular.ToString());

        // each needs a state file (as --state-missing, --state-ffill-limit and --state-na need --state)
        var noState = await Refused("""{"kind": "sequence", "data_csv": "x", "state_missing": "ffill", "state_ffill_limit": 2, "state_na": ["."]}""");
        foreach (var field in new[] { "state_missing", "state_ffill_limit", "state_na" })
            Assert.Equal("needs state_csv: it says how the state file is read", Rule(noState, field));

        // reject or ffill; the limit only with ffill and not negative; tokens named, none blank
        const string Seq = """{"kind": "sequence", "data_csv": "x", "state_csv": "x", """;
        Assert.Equal("must be reject or ffill, got 'keep'", Rule(await Refused(Seq + """ "state_missing": "keep"}"""), "state_missing"));
        Assert.Equal("applies to state_missing ffill", Rule(await Refused(Seq + """ "state_ffill_limit": 3}"""), "state_ffill_limit"));
        Assert.Equal("applies to state_missing ffill", Rule(await Refused(Seq + """ "state_missing": "reject", "state_ffill_limit": 3}"""), "state_ffill_limit"));
        Assert.Equal("must be at least 0, got -1", Rule(await Refused(Seq + """ "state_missing": "ffill", "state_ffill_limit": -1}"""), "state_ffill_limit"));
        Assert.StartsWith("names no token", Rule(await Refused(Seq + """ "state_na": []}"""), "state_na"), StringComparison.Ordinal);
        Assert.StartsWith("a token is null or blank", Rule(await Refused(Seq + """ "state_na": [".", " "]}"""), "state_na"), StringComparison.Ordinal);
        Assert.StartsWith("a token is null or blank", Rule(await Refused(Seq + """ "state_na": [null]}"""), "state_na"), StringComparison.Ordinal);
        // state_date_format: a sequence job's, with a state file, not blank (as --state-date-format)
        Assert.Equal("applies to kind sequence only", Rule(await Refused("""{"data_csv": "x", "state_date_format": "MM/dd/yyyy"}"""), "state_date_format"));
        Assert.Equal("needs state_csv: it says how the state file is read",
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_date_format": "MM/dd/yyyy"}"""), "state_date_format"));
        Assert.StartsWith("is empty", Rule(await Refused(Seq + """ "state_date_format": " "}"""), "state_date_format"), StringComparison.Ordinal);
        // state_date_column likewise (as --state-date-column)
        Assert.Equal("applies to kind sequence only", Rule(await Refused("""{"data_csv": "x", "state_date_column": "observation_date"}"""), "state_date_column"));
        Assert.Equal("needs state_csv: it says how the state file is read",
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_date_column": "observation_date"}"""), "state_date_column"));
        Assert.StartsWith("is empty", Rule(await Refused(Seq + """ "state_date_column": " "}"""), "state_date_column"), StringComparison.Ordinal);
    }
}
