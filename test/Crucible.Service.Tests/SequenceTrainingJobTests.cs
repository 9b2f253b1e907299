using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Governance.Audit;

namespace Crucible.Service.Tests;

/// <summary>
/// The body of a sequence training job and the model the library trains from the same inputs: two random-walk prices
/// and a VIX-like state (with DGS10 and DGS3MO, for TERM) on 120 weekdays from 2020-01-01, trained up to 2020-04-15
/// (covid-2020 starts in the training data and ends after it, so its archetype reads rows past the split) with a tiny
/// network, W = 5, 12 steps, seed 2.
/// </summary>
internal static class SequenceJob
{
    public const string Config = """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";

    public const string TrainEnd = "2020-04-15";

    public static (string Prices, string State) Csv()
    {
        var rng = new System.Random(4);
        var p = new StringBuilder("Date,A,B\n");
        var s = new StringBuilder("Date,VIXCLS,DGS10,DGS3MO\n");
        double a = 100, b = 50;
        var date = new DateOnly(2020, 1, 1);
        for (int i = 0; i < 120; i++)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            a *= Math.Exp(0.02 * (rng.NextDouble() - 0.5));
            b *= Math.Exp(0.01 * (rng.NextDouble() - 0.5));
            p.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{a:F4},{b:F4}\n");
            s.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{15 + (10 * rng.NextDouble()):F2},{1.5 + (0.2 * rng.NextDouble()):F3},0.5\n");
            date = date.AddDays(1);
        }

        return (p.ToString(), s.ToString());
    }

    /// <summary>The JSON body; <paramref name="extra"/> is appended inside the object (e.g. <c>, "calibrate_guidance": "covid-2020"</c>).</summary>
    public static StringContent Body(string prices, string? state, string[]? stateColumns, string extra = "", string trainEnd = TrainEnd) =>
        ServiceFixture.Json($$"""
            {"kind": "sequence", "data_csv": {{JsonSerializer.Serialize(prices)}}, "train_end": "{{trainEnd}}", "window": 5, "steps": 12, "seed": 2,
             "config": {{Config}}{{(state is null ? "" : ", \"state_csv\": " + JsonSerializer.Serialize(state))}}{{(stateColumns is null ? "" : ", \"state_columns\": " + JsonSerializer.Serialize(stateColumns))}}{{extra}}}
            """);

    /// <summary>
    /// What <see cref="SequenceTraining.Train"/> gives for the same files (named data.csv and state.csv, as in a job's
    /// folder, so that the manifests' provenance matches), read as <c>crucible train</c> reads them.
    /// </summary>
    public static SequenceGenerator Library(string dir, string prices, string state, string[] stateColumns, string? calibrateGuidance = null,
        string trainEnd = TrainEnd, StateMissingValues? missing = null, bool withholdPrices = false)
    {
        var (data, statePath, read, all, train) = Files(dir, prices, state, DateOnly.Parse(trainEnd, CultureInfo.InvariantCulture));
        var options = JsonSerializer.Deserialize<SequenceGeneratorOptions>(Config, DiffusionJson.Options)!;
        options = options with { Window = 5, Seed = 2, Training = options.Training with { Steps = 12 } };
        var calibration = calibrateGuidance is null ? null : SequenceTraining.CalibrationFor(calibrateGuidance);
        var provenance = withholdPrices
            ? DataProvenance.ForTraining(data, InputKind.Prices, read, train.RowCount, withholdPrices: true)
            : DataProvenance.FromFile(data, InputKind.Prices) with { LastPrices = Crucible.Diffusion.Scenarios.PricePaths.LastTrainPrices(read, train.RowCount) };
        return SequenceTraining.Train(train, all, options, SequenceState.Load(statePath, missing), stateColumns, calibration, provenance).Generator;
    }

    /// <summary>
    /// <see cref="Csv"/>'s state with gaps: VIXCLS empty on data rows 10 and 11 (two in a row), DGS10 <c>.</c> (FRED's
    /// missing mark) on row 30; read with <c>ffill</c>, limit 2 and the token <c>.</c>, three values are filled.
    /// </summary>
    public static string GappedState(string state)
    {
        var lines = state.Split('\n');
        string Blank(string line, int column, string token)
        {
            var cells = line.Split(',');
            cells[column] = token;
            return string.Join(',', cells);
        }

        lines[11] = Blank(lines[11], 1, "");
        lines[12] = Blank(lines[12], 1, "");
        lines[31] = Blank(lines[31], 2, ".");
        return string.Join('\n', lines);
    }

    /// <summary>The request fields of <see cref="GappedState"/>'s reading, and <c>withhold_prices</c>.</summary>
    public const string GappedFields = """, "state_missing": "ffill", "state_ffill_limit": 2, "state_na": ["."], "withhold_prices": true""";

    /// <summary>The library's reading of <see cref="GappedFields"/>.</summary>
    public static StateMissingValues GappedMissing { get; } = new() { Policy = MissingValuePolicy.ForwardFill, ForwardFillLimit = 2, Tokens = ["."] };

    /// <summary>
    /// Writes the files into <paramref name="dir"/> as data.csv and state.csv (a job folder's names) and reads the prices
    /// as <c>crucible train</c> does: the frame read, all its log returns and those up to <paramref name="trainEnd"/>.
    /// </summary>
    public static (string Data, string StatePath, TimeSeriesFrame Read, TimeSeriesFrame All, TimeSeriesFrame Train) Files(
        string dir, string prices, string state, DateOnly trainEnd)
    {
        Directory.CreateDirectory(dir);
        string data = Path.Combine(dir, "data.csv"), statePath = Path.Combine(dir, "state.csv");
        File.WriteAllText(data, prices);
        File.WriteAllText(statePath, state);
        var read = CsvSeriesReader.Load(data, new CsvReadOptions { Input = InputKind.Prices });
        var all = read.ToLogReturns(InputKind.Prices);
        return (data, statePath, read, all, all.Slice(0, all.IndexAtOrBefore(trainEnd) + 1));
    }

    /// <summary>Polls the job every half second until it ends (a key has 120 requests a minute: a 429 waits its Retry-After).</summary>
    public static async Task<JsonElement> WaitAsync(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow.AddSeconds(240);
        while (true)
        {
            using var response = await client.GetAsync(location);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                continue;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") return job;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(500);
        }
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>
/// <c>POST /v1/models</c> with <c>"kind": "sequence"</c>: the job trains what <see cref="SequenceTraining.Train"/>
/// trains from the same inputs, registers it, records it in the audit log, and the model serves conditioned and
/// stressed scenarios; the sequence fields' 422 rules; the body limit counts both CSVs.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class SequenceTrainingJobTests(ServiceFixture f)
{
    private static readonly string[] Features = ["VIXCLS", "TERM", "RV20"];

    private async Task<(JsonElement Job, string ModelId)> TrainAsync(StringContent body)
    {
        using var trainer = f.Client("trainer");
        using var accepted = await trainer.PostAsync("/v1/models", body);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        return (job, job.GetProperty("model_id").GetString()!);
    }

    private JsonElement RunCompleted(string jobId)
    {
        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db")).Single(e => e.Kind == "run.completed" && e.Payload.Contains(jobId, StringComparison.Ordinal));
        return JsonDocument.Parse(entry.Payload).RootElement.Clone();
    }

    [Fact]
    public async Task SequenceJob_RegistersTheModelTheLibraryTrains_AndItServesConditionedAndStressedScenarios()
    {
        var (prices, state) = SequenceJob.Csv();
        var (job, modelId) = await TrainAsync(SequenceJob.Body(prices, state, Features));
        Assert.Equal(12, job.GetProperty("step").GetInt32());
        Assert.Equal(12, job.GetProperty("total_steps").GetInt32());

        // the registered files are the library's bytes for the same inputs, options and seed
        var expected = SequenceJob.Library(Path.Combine(f.Dir, "seq-library-" + Guid.NewGuid().ToString("N")), prices, state, Features);
        Assert.Equal(expected.ModelId, modelId);
        var registered = Path.Combine(f.Home, "models", modelId);
        Assert.Equal(expected.WeightsBytes(), File.ReadAllBytes(Path.Combine(registered, "weights.safetensors")));
        Assert.Equal(expected.ManifestBytes(), File.ReadAllBytes(Path.Combine(registered, "manifest.json")));
        Assert.Null(expected.Manifest.GuidanceCalibration);

        using var admin = f.Client("admin");
        var model = JsonDocument.Parse(await admin.GetStringAsync("/v1/models/" + modelId)).RootElement.GetProperty("model");
        Assert.Equal("sequence", model.GetProperty("kind").GetString());
        Assert.Equal("candidate", model.GetProperty("status").GetString());

        // conditions, guidance and a stress specification resolve against the trained condition space
        foreach (var extra in new[] { "\"conditions\": {\"VIXCLS\": 40}, \"guidance\": 2", "\"stress\": \"vol=+2sd, A<=-5%\"" })
        {
            using var scenarios = await admin.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 3, "seed": 1, "sampling_steps": 5, {{extra}}}"""));
            var body = await scenarios.Content.ReadAsStringAsync();
            Assert.True(scenarios.StatusCode == HttpStatusCode.OK, body);
            var metadata = JsonDocument.Parse(body).RootElement.GetProperty("metadata");
            Assert.Equal("sequence", metadata.GetProperty("kind").GetString());
            Assert.Equal(5, metadata.GetProperty("steps_per_scenario").GetInt32());
        }

        // the audit entries of a tabular job, with the sequence settings
        var log = AuditLog.Read(Path.Combine(f.Home, "audit.db"));
        Assert.Single(log, e => e.Kind == "model.registered" && e.Payload.Contains(modelId, StringComparison.Ordinal) && e.Actor == "key:trainer");
        var completed = RunCompleted(job.GetProperty("id").GetString()!);
        Assert.Equal("service.train", completed.GetProperty("command").GetString());
        Assert.Equal("sequence", completed.GetProperty("kind").GetString());
        Assert.Equal(modelId, completed.GetProperty("model_id").GetString());
        Assert.Equal(SequenceJob.Sha256(prices), completed.GetProperty("input_sha256").GetString());
        Assert.Equal(SequenceJob.Sha256(state), completed.GetProperty("state_sha256").GetString());
        Assert.Equal("VIXCLS,TERM,RV20", completed.GetProperty("state_columns").GetString());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("calibrate_guidance").ValueKind);
    }

    [Fact]
    public async Task SequenceJob_CalibrateGuidance_StoresTheLibrarysCalibrationInTheManifest()
    {
        var (prices, state) = SequenceJob.Csv();
        string[] features = ["VIXCLS", "RV20"];
        const string TrainEnd = "2020-05-29"; // the whole episode in the train split: here the rule stops at a small w, so the draws are few
        var (job, modelId) = await TrainAsync(SequenceJob.Body(prices, state, features, ", \"calibrate_guidance\": \"covid-2020\"", TrainEnd));

        using var admin = f.Client("admin");
        var manifest = JsonDocument.Parse(await admin.GetStringAsync("/v1/models/" + modelId)).RootElement.GetProperty("manifest");
        var calibration = manifest.GetProperty("guidance_calibration");
        Assert.Equal("covid-2020", calibration.GetProperty("episode").GetString());
        Assert.Equal(calibration.GetProperty("chosen").GetDouble(), manifest.GetProperty("config").GetProperty("guidance_scale").GetDouble());
        Assert.Equal("covid-2020", RunCompleted(job.GetProperty("id").GetString()!).GetProperty("calibrate_guidance").GetString());
        Assert.Equal("regime", RunCompleted(job.GetProperty("id").GetString()!).GetProperty("calibration_rule").GetString());

        // the same manifest, calibration table included, as the library's for the same inputs
        var expected = SequenceJob.Library(Path.Combine(f.Dir, "seq-library-" + Guid.NewGuid().ToString("N")), prices, state, features, "covid-2020", TrainEnd);
        Assert.NotNull(expected.Manifest.GuidanceCalibration);
        Assert.Equal(expected.ManifestBytes(), File.ReadAllBytes(Path.Combine(f.Home, "models", modelId, "manifest.json")));
    }

    [Fact]
    public async Task SequenceJob_BadState_FailsWithTheMessageThatNamesTheStateFile()
    {
        var (prices, state) = SequenceJob.Csv();
        using var trainer = f.Client("trainer");
        var lines = state.Split('\n');
        lines[2] = lines[2].Replace("2020-", "2020x", StringComparison.Ordinal); // the second data row: line 3
        var cases = new[]
        {
            (Body: SequenceJob.Body(prices, string.Join('\n', lines), ["VIXCLS"]), Expected: "state.csv:3:"),
            (Body: SequenceJob.Body(prices, state.Replace(",DGS10,", ",D10,", StringComparison.Ordinal), ["TERM"]), Expected: "state.csv:1:0"),
        };
        foreach (var (body, expected) in cases)
        {
            using var accepted = await trainer.PostAsync("/v1/models", body);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var job = await SequenceJob.WaitAsync(trainer, accepted.Headers.Location!.ToString());
            Assert.Equal("failed", job.GetProperty("status").GetString());
            var error = job.GetProperty("error").GetString()!;
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, job.GetProperty("model_id").ValueKind);
        }
    }

    [Fact]
    public async Task SequenceTrainingRequest_Errors_NameTheField()
    {
        using var trainer = f.Client("trainer");
        async Task<JsonElement> Refused(string body)
        {
            var problem = await Problem.AssertAsync(await trainer.PostAsync("/v1/models", ServiceFixture.Json(body)), HttpStatusCode.UnprocessableEntity, "validation");
            return problem.GetProperty("errors");
        }

        static string Rule(JsonElement errors, string field) => errors.GetProperty(field)[0].GetString()!;

        // sequence-only fields on a tabular request (kind tabular is the default)
        var tabular = await Refused("""{"data_csv": "x", "window": 5, "state_csv": "x", "state_columns": ["VIXCLS"], "calibrate_guidance": "gfc-2008", "calibration_rule": "closest"}""");
        foreach (var field in new[] { "window", "state_csv", "state_columns", "calibrate_guidance", "calibration_rule" })
            Assert.Equal("applies to kind sequence only", Rule(tabular, field));
        Assert.True((await Refused("""{"kind": "tabular", "data_csv": "x", "window": 5}""")).TryGetProperty("window", out _));
        Assert.Contains("'lstm'", Rule(await Refused("""{"kind": "lstm", "data_csv": "x"}"""), "kind"), StringComparison.Ordinal);

        // state_columns or calibrate_guidance without state_csv; an empty state; no feature
        var noState = await Refused("""{"kind": "sequence", "data_csv": "x", "state_columns": ["VIXCLS"], "calibrate_guidance": "gfc-2008"}""");
        Assert.Equal("needs state_csv", Rule(noState, "state_columns"));
        Assert.StartsWith("needs state_csv", Rule(noState, "calibrate_guidance"), StringComparison.Ordinal);
        Assert.True((await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": ""}""")).TryGetProperty("state_csv", out _));
        Assert.Equal("names no feature", Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": "x", "state_columns": []}"""), "state_columns"));

        // an unknown episode lists the valid ones; a window under 2
        var episode = Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": "x", "calibrate_guidance": "dotcom-2000"}"""), "calibrate_guidance");
        Assert.Equal("unknown episode 'dotcom-2000' (one of gfc-2008, covid-2020, rates-2022)", episode);
        Assert.Equal("must be at least 2, got 1", Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "window": 1}"""), "window"));

        // a calibration rule: a known name, and only with a calibration
        Assert.Equal("unknown rule 'nearest' (one of regime, smallest-within, closest)",
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": "x", "calibrate_guidance": "gfc-2008", "calibration_rule": "nearest"}"""), "calibration_rule"));
        Assert.Equal("needs calibrate_guidance", Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": "x", "calibration_rule": "closest", "window": 1}"""), "calibration_rule"));

        // the config is read as the kind's options: a sequence key is fine for a sequence job (the 422 is the window's
        // alone) and unknown to a tabular one, a tabular key unknown to a sequence job, and the options are validated
        var layers = await Refused("""{"kind": "sequence", "data_csv": "x", "window": 1, "config": {"layers": 2}}""");
        Assert.False(layers.TryGetProperty("config", out _), layers.ToString());
        Assert.True((await Refused("""{"data_csv": "x", "config": {"layers": 2}}""")).TryGetProperty("config", out _));
        Assert.Contains("blocks", Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "config": {"blocks": 1}}"""), "config"), StringComparison.Ordinal);
        Assert.Equal("hidden must be a positive multiple of heads",
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "config": {"hidden": 7, "heads": 2}}"""), "config"));
        Assert.Contains("at most", Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "config": {"training": {"steps": 100001}}}"""), "config"),
            StringComparison.Ordinal);

        // DP-11: a privacy section on a sequence job refuses the data-fitted preprocessing by name (the defaults standardise
        // and scale the noise per series) and a state file; on a tabular job it is the DP-SGD configuration
        Assert.Contains("with privacy, transform must be none",
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "config": {"privacy": {"target_epsilon": 1}}}"""), "config"), StringComparison.Ordinal);
        Assert.Equal(Crucible.Service.Training.TrainingValidation.SequenceDpStateRefusal,
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "state_csv": "x", "config": {"transform": "none", "volatility_adaptive": false, "privacy": {"target_epsilon": 1}}}"""), "state_csv"));
        var tabularDp = await Refused("""{"data_csv": "x", "window": 5, "config": {"transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"target_epsilon": 1}}}""");
        Assert.False(tabularDp.TryGetProperty("config", out _), tabularDp.ToString());

        // a state declared public (privacy.public_state): what reads the private returns is refused by field, and the
        // declaration needs a state file (and a sequence job)
        const string PublicDp = """, "config": {"transform": "none", "volatility_adaptive": false, "privacy": {"target_epsilon": 1, "public_state": true}}""";
        var publicState = await Refused("""{"kind": "sequence", "data_csv": "x", "window": 1, "state_csv": "x", "calibrate_guidance": "gfc-2008" """ + PublicDp + "}");
        Assert.Equal(Crucible.Service.Training.TrainingValidation.SequenceDpCalibrationRefusal, Rule(publicState, "calibrate_guidance"));
        Assert.Equal(Crucible.Service.Training.TrainingValidation.SequenceDpReturnFeatureRefusal, Rule(publicState, "state_columns")); // the defaults hold RV20
        Assert.False(publicState.TryGetProperty("state_csv", out _), publicState.ToString());
        var rv20 = await Refused("""{"kind": "sequence", "data_csv": "x", "window": 1, "state_csv": "x", "state_columns": ["VIXCLS", "RV20"]""" + PublicDp + "}");
        Assert.Contains("RV20", Rule(rv20, "state_columns"), StringComparison.Ordinal);
        Assert.Equal(Crucible.Service.Training.TrainingValidation.PublicStateWithoutState,
            Rule(await Refused("""{"kind": "sequence", "data_csv": "x", "window": 1""" + PublicDp + "}"), "config"));
        Assert.Equal(Crucible.Service.Training.TrainingValidation.PublicStateWithoutState,
            Rule(await Refused("""{"data_csv": "x", "config": {"transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"target_epsilon": 1, "public_state": true}}}"""), "config"));
    }

    [Fact]
    public async Task SequenceJob_WithPrivacy_TrainsWithDpSgd_AndStatesTheDaysGroupBound()
    {
        // DP-8 through the service: an unconditional sequence job with a privacy section (unit record, the default: a day
        // lies in up to k = W = 5 windows); the statement is in the model manifest, the run manifest and each scenario set
        var (prices, _) = SequenceJob.Csv();
        const string Privacy = """, "config": {"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}, "transform": "none", "volatility_adaptive": false, "privacy": {"target_epsilon": 3, "delta": 1e-3}}}""";
        var body = ServiceFixture.Json($$"""
            {"kind": "sequence", "data_csv": {{JsonSerializer.Serialize(prices)}}, "train_end": "{{SequenceJob.TrainEnd}}", "window": 5, "steps": 12, "seed": 2{{Privacy}}
            """);
        var (job, modelId) = await TrainAsync(body);

        using var admin = f.Client("admin");
        var manifest = JsonDocument.Parse(await admin.GetStringAsync("/v1/models/" + modelId)).RootElement.GetProperty("manifest");
        var privacy = manifest.GetProperty("privacy");
        Assert.Equal("record", privacy.GetProperty("unit").GetString());
        Assert.Equal(5, privacy.GetProperty("group_size").GetInt32());
        double epsilon = privacy.GetProperty("epsilon").GetDouble(), perWindow = privacy.GetProperty("example_epsilon").GetDouble();
        Assert.InRange(epsilon, 0.5, 3.0 + 1e-9);
        Assert.Equal(5 * perWindow, epsilon, 9);
        Assert.Equal(manifest.GetProperty("data").GetProperty("train_rows").GetInt32(), privacy.GetProperty("units").GetInt32());
        Assert.False(manifest.GetProperty("data").TryGetProperty("last_prices", out _)); // private data (DP-11)
        Assert.Equal(JsonValueKind.Null, manifest.GetProperty("data").GetProperty("input_sha256").ValueKind); // withheld (DP-11)

        // the audit log is internal: its run.completed still identifies the data, as crucible train's does
        var completed = RunCompleted(job.GetProperty("id").GetString()!);
        Assert.Equal(SequenceJob.Sha256(prices), completed.GetProperty("input_sha256").GetString());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("train_matrix_sha256").ValueKind);

        var run = JsonDocument.Parse(await admin.GetStringAsync("/v1/runs/" + job.GetProperty("run_id").GetString())).RootElement;
        Assert.True(JsonElement.DeepEquals(privacy, run.GetProperty("dp")), run.GetProperty("dp").ToString());

        using var scenarios = await admin.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 3, "seed": 1, "sampling_steps": 5}"""));
        var answer = await scenarios.Content.ReadAsStringAsync();
        Assert.True(scenarios.StatusCode == HttpStatusCode.OK, answer);
        Assert.True(JsonElement.DeepEquals(privacy, JsonDocument.Parse(answer).RootElement.GetProperty("metadata").GetProperty("privacy")), answer);
    }

    [Fact]
    public async Task SequenceJob_WithPrivacyOnAPublicState_TrainsTheConditionalModelTheLibraryTrains_AndTheStatementNamesTheStateFile()
    {
        var (prices, state) = SequenceJob.Csv();
        const string Config = """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}, "transform": "none", "volatility_adaptive": false, "privacy": {"noise_multiplier": 3, "delta": 1e-3, "public_state": true}}""";
        var body = ServiceFixture.Json($$"""
            {"kind": "sequence", "data_csv": {{JsonSerializer.Serialize(prices)}}, "train_end": "{{SequenceJob.TrainEnd}}", "window": 5, "steps": 6, "seed": 2,
             "state_csv": {{JsonSerializer.Serialize(state)}}, "state_columns": ["VIXCLS", "TERM"], "config": {{Config}}}
            """);
        var (_, modelId) = await TrainAsync(body);

        // the library from the same files, with the declared train end as the public state's end
        var end = DateOnly.Parse(SequenceJob.TrainEnd, CultureInfo.InvariantCulture);
        var (data, statePath, _, all, train) = SequenceJob.Files(Path.Combine(f.Dir, "public-state-" + Guid.NewGuid().ToString("N")), prices, state, end);
        var options = JsonSerializer.Deserialize<SequenceGeneratorOptions>(Config, DiffusionJson.Options)! with { Window = 5, Seed = 2 };
        options = options with { Training = options.Training with { Steps = 6 } };
        var expected = SequenceTraining.Train(train, all, options, SequenceState.Load(statePath), ["VIXCLS", "TERM"], null,
            DataProvenance.FromFile(data, InputKind.Prices), publicStateEnd: end).Generator;
        Assert.Equal(expected.ModelId, modelId);

        using var admin = f.Client("admin");
        var manifest = JsonDocument.Parse(await admin.GetStringAsync("/v1/models/" + modelId)).RootElement.GetProperty("manifest");
        var inputs = manifest.GetProperty("privacy").GetProperty("public_state");
        Assert.Equal(SequenceJob.Sha256(state), inputs.GetProperty("sha256").GetString());
        Assert.Equal("2020-04-16", inputs.GetProperty("statistics_end").GetString());
        Assert.Equal(["VIXCLS", "TERM"], manifest.GetProperty("conditions").GetProperty("names").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task SequenceTrainingRequest_TheBodyLimitCountsBothCsvs()
    {
        var home = Path.Combine(f.Dir, "limit-home-" + Guid.NewGuid().ToString("N"));
        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["MaxTrainingBodyBytes"] = "4096" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        var csv = JsonSerializer.Serialize(new string('1', 2500));

        // one CSV of 2,500 bytes is within the limit (the 422 is the window's); two are not
        await Problem.AssertAsync(await client.PostAsync("/v1/models", ServiceFixture.Json($$"""{"kind": "sequence", "data_csv": {{csv}}, "window": 1}""")),
            HttpStatusCode.UnprocessableEntity, "validation");
        await Problem.AssertAsync(await client.PostAsync("/v1/models", ServiceFixture.Json($$"""{"kind": "sequence", "data_csv": {{csv}}, "state_csv": {{csv}}, "window": 1}""")),
            HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }
}
