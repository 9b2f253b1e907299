using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Endpoints;
using Crucible.Service.Scenarios;
using Microsoft.Extensions.DependencyInjection;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>POST /v1/scenarios</c>: byte-identical CSV through the service, the library and the CLI; the JSON form; the audit
/// entry; idempotent replays; and every refusal (400, 406, 413, 415, 422) as problem+json.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ScenarioEndpointsTests(ServiceFixture f)
{
    // spacing null: none sent (ddpm refuses one)
    private string Body(int count = 64, ulong seed = 7, string sampler = "ddim", int steps = 20, string? spacing = "linear") =>
        $$"""{"model": "{{f.ModelId}}", "count": {{count}}, "seed": {{seed}}, "sampler": "{{sampler}}", "sampling_steps": {{steps}}{{(spacing is null ? "" : $", \"spacing\": \"{spacing}\"")}}}""";

    private static HttpRequestMessage Post(string body, string? accept = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    private static (int Exit, string Stderr) Cli(string home, params string[] args)
    {
        var start = CrucibleProcess.Cli(args);
        start.Environment["CRUCIBLE_HOME"] = home;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        _ = stdout.Result;
        return (p.ExitCode, stderr);
    }

    [Fact]
    public async Task Json_OfADpModel_CarriesItsDpStatement_AsTheCliMetadataDoes()
    {
        // DP-10: a model trained with DP-SGD, registered in a home of its own (the shared home keeps one model)
        var home = Path.Combine(f.Dir, "dp-home-" + Guid.NewGuid().ToString("N"));
        var folder = Path.Combine(f.Dir, "dp-model-" + Guid.NewGuid().ToString("N"));
        var rng = new System.Random(13);
        var returns = new double[200, 2];
        for (int i = 0; i < 200; i++)
        {
            returns[i, 0] = 0.02 * (rng.NextDouble() - 0.5);
            returns[i, 1] = 0.01 * (rng.NextDouble() - 0.5);
        }

        var options = new DiffusionGeneratorOptions
        {
            Hidden = 16,
            Blocks = 1,
            TimeEmbedding = 8,
            DiffusionSteps = 50,
            Training = new Crucible.Diffusion.Training.TrainerOptions(Steps: 5, BatchSize: 20, WarmupSteps: 1),
            Seed = 3,
        }.WithPrivacy(new DpTrainingOptions { NoiseMultiplier = 1.2, Delta = 1e-3 });
        var generator = new DiffusionGenerator(options).Fit(returns, ["A", "B"]);
        generator.Save(folder);
        string id;
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
        {
            id = new ModelRegistry(CrucibleHome.Resolve(home), log).Register(folder).Id;
        }

        using var factory = ServiceFixture.Create(home, f.KeysFile);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        using var response = await client.SendAsync(Post($$"""{"model": "{{id}}", "count": 8, "seed": 4, "sampling_steps": 10}""", accept: "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var privacy = doc.RootElement.GetProperty("metadata").GetProperty("privacy");

        // the statement's fields, as the model manifest holds them: ε, δ, σ, C, q, steps, accountant, conversion,
        // sampling, unit and what it covers (enums by name, as in FILE.meta.json)
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        Assert.True(JsonElement.DeepEquals(manifest.RootElement.GetProperty("privacy"), privacy), privacy.ToString());
        Assert.Equal(1.2, privacy.GetProperty("noise_multiplier").GetDouble());
        Assert.Equal(1e-3, privacy.GetProperty("delta").GetDouble());
        Assert.Equal(5, privacy.GetProperty("steps").GetInt64());
        Assert.True(privacy.GetProperty("epsilon").GetDouble() > 0);
        Assert.Equal("rdp", privacy.GetProperty("accountant").GetString());
        Assert.Equal("poisson", privacy.GetProperty("sampling").GetString());
        Assert.Equal("record", privacy.GetProperty("unit").GetString());
        Assert.Equal("balle2020", privacy.GetProperty("conversion").GetString());
        Assert.Contains("all model checkpoints", privacy.GetProperty("covers").GetString(), StringComparison.Ordinal);

        // a CSV answer carries it in a header, and a non-DP model's CSV answer has no such header
        using (var csv = await client.SendAsync(Post($$"""{"model": "{{id}}", "count": 8, "seed": 4, "sampling_steps": 10}""", accept: "text/csv")))
        {
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
            using var header = JsonDocument.Parse(Assert.Single(csv.Headers.GetValues(ScenarioEndpoints.PrivacyHeader)));
            Assert.True(JsonElement.DeepEquals(header.RootElement, privacy), header.RootElement.ToString());
        }

        // crucible generate writes the same statement to FILE.meta.json
        var cliOut = Path.Combine(f.Dir, "cli-dp-" + Guid.NewGuid().ToString("N") + ".csv");
        var (exit, stderr) = Cli(Path.Combine(f.Dir, "cli-home"), "generate", "--model", folder, "--count", "8", "--seed", "4",
            "--sampling-steps", "10", "--out", cliOut);
        Assert.True(exit == 0, stderr);
        using var cliMeta = JsonDocument.Parse(File.ReadAllText(ScenarioCsv.MetadataPath(cliOut)));
        Assert.True(JsonElement.DeepEquals(cliMeta.RootElement.GetProperty("privacy"), privacy), cliMeta.RootElement.GetProperty("privacy").ToString());
    }

    // RELIABILITY MRM-9
    [Theory]
    [InlineData("ddim", 20, "linear", "")]
    [InlineData("dpm2m", 10, "angle", "--spacing angle")]
    [InlineData("ddpm", 100, null, "")] // K = T (the fixture's model has T = 100): what DDPM runs, accepted; no spacing (ddpm refuses one)
    public async Task Csv_IsByteIdenticalToTheLibraryAndTheCli(string sampler, int steps, string? spacing, string extra)
    {
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post(Body(64, 7, sampler, steps, spacing), accept: "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains(ScenarioEndpoints.PrivacyHeader)); // not a DP model
        var service = await response.Content.ReadAsByteArrayAsync();

        // the library, from the original model folder
        var g = DiffusionGenerator.Load(f.ModelFolder);
        var options = sampler switch
        {
            "ddpm" => new SamplerOptions(SamplerKind.Ddpm),
            "dpm2m" => new SamplerOptions(SamplerKind.DpmSolver2M, steps) with { Spacing = DdimSpacing.UniformAngle },
            _ => new SamplerOptions(SamplerKind.Ddim, steps),
        };
        var library = ScenarioCsv.Format(g.Generate(64, 7, options).Values);
        Assert.Equal(library, service);

        // the CLI, in a child process with its own home
        var out1 = Path.Combine(f.Dir, $"cli-{sampler}.csv");
        // the CLI refuses --sampling-steps K ≠ T with ddpm (DDPM runs all T steps)
        string[] stepArgs = sampler == "ddpm" ? [] : ["--sampling-steps", steps.ToString(CultureInfo.InvariantCulture)];
        string[] args = ["generate", "--model", f.ModelFolder, "--count", "64", "--seed", "7", "--sampler", sampler,
            .. stepArgs, "--out", out1, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var (exit, stderr) = Cli(Path.Combine(f.Dir, "cli-home"), args);
        Assert.True(exit == 0, stderr);
        Assert.Equal(File.ReadAllBytes(out1), service);

        var sha = Convert.ToHexStringLower(SHA256.HashData(service));
        Assert.Equal(sha, response.Headers.GetValues("X-Crucible-Csv-Sha256").Single());
        using var meta = JsonDocument.Parse(File.ReadAllText(ScenarioCsv.MetadataPath(out1)));
        Assert.Equal(sha, meta.RootElement.GetProperty("csv_sha256").GetString());
    }

    // RELIABILITY MRM-9
    [Fact]
    public async Task ConcurrentRequests_OnOneModel_GiveTheLibrarysBytes()
    {
        using var client = f.Client("generator");
        var g = DiffusionGenerator.Load(f.ModelFolder);
        var seeds = Enumerable.Range(100, 8).Select(i => (ulong)i).ToList();
        var responses = await Task.WhenAll(seeds.Select(async seed =>
        {
            using var response = await client.SendAsync(Post(Body(300, seed), accept: "text/csv"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));
        for (int i = 0; i < seeds.Count; i++)
            Assert.Equal(ScenarioCsv.Format(g.Generate(300, seeds[i], new SamplerOptions(SamplerKind.Ddim, 20)).Values), responses[i]);
    }

    [Fact]
    public async Task Json_HoldsTheCliMetadataAndTheCsvValues_AndIsAudited()
    {
        using var client = f.Client("generator");
        using var csvResponse = await client.SendAsync(Post(Body(32, 3), accept: "text/csv"));
        var csv = Encoding.UTF8.GetString(await csvResponse.Content.ReadAsByteArrayAsync());
        using var response = await client.SendAsync(Post(Body(32, 3), accept: "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;

        // values: the CSV's rows, to the last bit (both forms write shortest round-trip doubles)
        var rows = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("scenario,step,A,B", rows[0]);
        var values = root.GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(32, values.Count);
        for (int r = 0; r < 32; r++)
        {
            var cells = rows[r + 1].Split(',');
            var json = values[r].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal([double.Parse(cells[2], CultureInfo.InvariantCulture), double.Parse(cells[3], CultureInfo.InvariantCulture)], json);
        }

        // metadata: what crucible generate writes to FILE.meta.json (same keys), with the CSV's hash; in a home that
        // registers the model, as the service's does (registered: true and the registered manifest's hash)
        var cliOut = Path.Combine(f.Dir, "cli-json.csv");
        var cliHome = Path.Combine(f.Dir, "cli-home-registered");
        var (exit, stderr) = Cli(cliHome, "model", "register", "--model", f.ModelFolder);
        Assert.True(exit == 0, stderr);
        (exit, stderr) = Cli(cliHome, "generate", "--model", f.ModelFolder, "--count", "32", "--seed", "3",
            "--sampling-steps", "20", "--out", cliOut);
        Assert.True(exit == 0, stderr);
        using var cliMeta = JsonDocument.Parse(File.ReadAllText(ScenarioCsv.MetadataPath(cliOut)));
        var meta = root.GetProperty("metadata");
        var names = cliMeta.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names, meta.EnumerateObject().Select(p => p.Name).ToList());
        foreach (var name in names.Where(n => n is not "created" and not "csv_file"))
            Assert.True(JsonElement.DeepEquals(cliMeta.RootElement.GetProperty(name), meta.GetProperty(name)), name);
        Assert.Equal("scenarios.csv", meta.GetProperty("csv_file").GetString());
        Assert.Equal(f.ModelId, meta.GetProperty("model_id").GetString());
        Assert.True(meta.GetProperty("registered").GetBoolean());
        Assert.False(meta.TryGetProperty("privacy", out _)); // a model trained without DP-SGD: no DP statement, no member

        // the audit entry: scenarios.generated by key:generator with the CSV hash
        long seq = root.GetProperty("audit").GetProperty("seq").GetInt64();
        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), seq, 1).Single();
        Assert.Equal("scenarios.generated", entry.Kind);
        Assert.Equal("key:generator", entry.Actor);
        using var payload = JsonDocument.Parse(entry.Payload);
        Assert.Equal(meta.GetProperty("csv_sha256").GetString(), payload.RootElement.GetProperty("csv_sha256").GetString());
        Assert.Equal("json", payload.RootElement.GetProperty("format").GetString());
        Assert.Equal(entry.EntryHashHex, root.GetProperty("audit").GetProperty("entry_hash").GetString());
    }

    // RELIABILITY SVC-5
    [Fact]
    public async Task IdempotencyKey_ReplaysTheStoredBytes_WithoutANewAuditEntry()
    {
        using var client = f.Client("generator");
        var key = "replay-" + Guid.NewGuid().ToString("N");
        using var first = await client.SendAsync(Post(Body(16, 21), idempotencyKey: key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var bytes = await first.Content.ReadAsByteArrayAsync();
        long count = AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count;

        using var again = await client.SendAsync(Post(Body(16, 21), idempotencyKey: key));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(bytes, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.GetValues("X-Crucible-Audit-Seq").Single(), again.Headers.GetValues("X-Crucible-Audit-Seq").Single());
        Assert.Equal(count, AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count);

        // the same key with another body: 422; the same key from another API key is that key's own
        using var other = await client.SendAsync(Post(Body(16, 22), idempotencyKey: key));
        await Problem.AssertAsync(other, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        using var admin = f.Client("admin");
        using var fromAdmin = await admin.SendAsync(Post(Body(16, 22), idempotencyKey: key));
        Assert.Equal(HttpStatusCode.OK, fromAdmin.StatusCode);

        // a fresh key without replay: a new audit entry
        using var fresh = await client.SendAsync(Post(Body(16, 21), idempotencyKey: key + "-b"));
        Assert.Equal(bytes.Length, (await fresh.Content.ReadAsByteArrayAsync()).Length);
        Assert.NotEqual(first.Headers.GetValues("X-Crucible-Audit-Seq").Single(), fresh.Headers.GetValues("X-Crucible-Audit-Seq").Single());
    }

    // RELIABILITY SVC-5
    [Fact]
    public async Task IdempotencyKey_Malformed_Is400()
    {
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post(Body(), idempotencyKey: new string('k', 300)));
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    public static TheoryData<string, string> InvalidBodies(string model) => new()
    {
        { $$"""{"model": "{{model}}", "count": 0}""", "count" },
        { $$"""{"model": "{{model}}", "count": 100001}""", "count" },
        { $$"""{"model": "{{model}}", "count": 10, "sampler": "euler"}""", "sampler" },
        { $$"""{"model": "{{model}}", "count": 10, "sampling_steps": 0}""", "sampling_steps" },
        { $$"""{"model": "{{model}}", "count": 10, "sampling_steps": 101}""", "sampling_steps" },
        { $$"""{"model": "{{model}}", "count": 10, "sampler": "ddpm", "sampling_steps": 50}""", "sampling_steps" },
        { $$"""{"model": "{{model}}", "count": 10, "eta": 1.5}""", "eta" },
        { $$"""{"model": "{{model}}", "count": 10, "spacing": "log"}""", "spacing" },
        { $$"""{"model": "{{model}}", "count": 10, "guidance": -1}""", "guidance" },
        { $$$"""{"model": "{{{model}}}", "count": 10, "conditions": {"VIXCLS": 45}}""", "conditions" },
        { $$"""{"model": "{{model}}", "count": 10, "guidance": 2}""", "guidance" },
        { $$"""{"model": "{{model}}", "count": 10, "guidance_min_noise": -1}""", "guidance_min_noise" },
        { $$"""{"model": "{{model}}", "count": 10, "guidance_min_noise": 12}""", "guidance_min_noise" },
        { $$"""{"model": "{{model}}", "count": 10, "regime_guidance": -0.5}""", "regime_guidance" },
        { $$"""{"model": "{{model}}", "count": 10, "regime_guidance": 1}""", "regime_guidance" },
        { $$"""{"model": "{{model}}", "count": 10, "stress": "covid-2020; vol=+1sd"}""", "stress" },
        { $$"""{"model": "{{model}}", "count": 10, "stress": "SPY<=<=3"}""", "stress" },
        { """{"count": 10}""", "model" },
        { """{"model": "abc", "count": 10}""", "model" },
        { $$"""{"model": "{{new string('0', 64)}}", "count": 10}""", "model" },
        { $$"""{"model": "{{model}}"}""", "count" },
    };

    // RELIABILITY SVC-1, SVC-2
    [Fact]
    public async Task InvalidValues_Are422_NamingTheField_AndAudited()
    {
        using var client = f.Client("generator");
        foreach (var row in InvalidBodies(f.ModelId))
        {
            var (body, field) = ((string)row[0], (string)row[1]);
            long before = AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count;
            using var response = await client.SendAsync(Post(body));
            var problem = await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var rules), $"{body}: {problem}");
            Assert.True(rules.GetArrayLength() > 0);
            var last = AuditLog.Read(Path.Combine(f.Home, "audit.db"), before + 1).Single();
            Assert.Equal("run.failed", last.Kind);
            Assert.Equal("key:generator", last.Actor);
        }
    }

    [Fact]
    public async Task Ddpm_WithSamplingStepsOtherThanT_Is422NamingTheField_WithTheCliRule()
    {
        // DDPM runs all T = 100 steps: a K ≠ T was ignored silently; the CLI refuses it (OPT-E), and so does the service
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm", "sampling_steps": 10}"""));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        var rules = problem.GetProperty("errors").GetProperty("sampling_steps");
        Assert.Equal("applies to sampler ddim and dpm2m; sampler ddpm always runs all 100 of the model's diffusion steps (got 10)", rules[0].GetString());
        Assert.Equal(SamplerOptions.DdpmStepsProblem(10, 100, "sampler"), rules[0].GetString());

        // without sampling_steps, or with K = T: accepted, the same draw
        using var none = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm"}""", accept: "text/csv"));
        using var t = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm", "sampling_steps": 100}""", accept: "text/csv"));
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal(HttpStatusCode.OK, t.StatusCode);
        Assert.Equal(await none.Content.ReadAsByteArrayAsync(), await t.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("\"spacing\": \"angle\"", "spacing", "applies to sampler ddim and dpm2m; sampler ddpm visits every one of the model's 100 diffusion steps (got 'angle')")]
    [InlineData("\"spacing\": \"linear\"", "spacing", "applies to sampler ddim and dpm2m; sampler ddpm visits every one of the model's 100 diffusion steps (got 'linear')")]
    [InlineData("\"eta\": 0.5", "eta", "applies to sampler ddim only (DDIM's η); sampler ddpm does not use it (got 0.5)")]
    public async Task Ddpm_WithSpacingOrANonzeroEta_Is422NamingTheField_AsTheCliRefusesThem(string member, string field, string rule)
    {
        // DDPM visits every one of the T steps and has no η: a spacing the client sent, or an η ≠ 0, was dropped silently
        // (crucible generate refuses --spacing and --eta with --sampler ddpm, OPT-E); the default spacing is no choice
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm", {{member}}}"""));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        var rules = problem.GetProperty("errors").GetProperty(field);
        Assert.Equal(rule, Assert.Single(rules.EnumerateArray()).GetString());

        // dpm2m has no η either (the samplers pass it to DDIM only); an η of 0, as absent, is accepted with ddpm
        using var dpm = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "dpm2m", "sampling_steps": 5, "eta": 0.5}"""));
        Assert.Equal("applies to sampler ddim only (DDIM's η); sampler dpm2m does not use it (got 0.5)",
            (await Problem.AssertAsync(dpm, HttpStatusCode.UnprocessableEntity, "validation")).GetProperty("errors").GetProperty("eta")[0].GetString());
        using var zero = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm", "eta": 0}""", accept: "text/csv"));
        using var none = await client.SendAsync(Post($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampler": "ddpm"}""", accept: "text/csv"));
        Assert.Equal(HttpStatusCode.OK, zero.StatusCode);
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal(await none.Content.ReadAsByteArrayAsync(), await zero.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task RetiredModel_Is422_AsSoonAsItIsRetired_AndAudited()
    {
        // a home of its own: retiring the shared fixture's model would change the other tests
        string home = Path.Combine(f.Dir, "retired-home-" + Guid.NewGuid().ToString("N"));
        string id;
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
        {
            id = new ModelRegistry(CrucibleHome.Resolve(home), log).Register(f.ModelFolder).Id;
        }

        using var factory = ServiceFixture.Create(home, f.KeysFile);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        string body = $$"""{"model": "{{id}}", "count": 8, "seed": 1, "sampling_steps": 5}""";
        using (var ok = await client.SendAsync(Post(body, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode); // loaded and cached
        }

        // retired through the service's own registry (another process or replica does it through the shared audit log)
        var catalog = factory.Services.GetRequiredService<ModelCatalog>();
        catalog.Registry.ChangeStatus(id, ModelStatus.Retired, "superseded");
        using var refused = await client.SendAsync(Post(body, "text/csv"));
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("retired", problem.GetProperty("errors").GetProperty("model")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(ModelStatus.Retired, catalog.Registry.List().Single().Status);
        var entries = AuditLog.Read(Path.Combine(home, "audit.db"));
        Assert.Equal("run.failed", entries[^1].Kind);
        Assert.Single(entries, e => e.Kind == "scenarios.generated");
    }

    // RELIABILITY SVC-1
    [Fact]
    public async Task MalformedBodies_Are400_NeverA5xx()
    {
        using var client = f.Client("generator");
        string m = f.ModelId;
        string deep = new string('[', 100) + new string(']', 100);
        string[] bodies =
        [
            "", "{", "null", "[]", "42", "\"text\"",
            $$"""{"model": "{{m}}", "count": "10"}""",
            $$"""{"model": "{{m}}", "count": 1e400}""",
            $$"""{"model": "{{m}}", "count": 99999999999999999999}""",
            $$"""{"model": "{{m}}", "count": 10, "eta": NaN}""",
            $$"""{"model": "{{m}}", "count": 10, "eta": Infinity}""",
            $$"""{"model": "{{m}}", "count": 10, "count": 11}""",
            $$"""{"model": "{{m}}", "count": 10, "colour": "red"}""",
            $$"""{"model": "{{m}}", "count": 10, "seed": -1}""",
            $$$$"""{"model": "{{{{m}}}}", "count": 10, "conditions": {"a": {"b": 1}}}""",
            $$"""{"model": "{{m}}", "count": 10, "x": {{deep}}}""",
            $$"""{"model": "{{m}}", "count": 10,}""",
            $$"""{"model": "{{m}}", /* c */ "count": 10}""",
        ];
        foreach (var body in bodies)
        {
            using var response = await client.SendAsync(Post(body));
            var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "malformed-request");
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.StartsWith("the body is not a valid scenario request", detail, StringComparison.Ordinal);
            // what is wrong, in the request's terms: no .NET type names
            Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("Crucible.", detail, StringComparison.Ordinal);
            Assert.DoesNotContain(".NET", detail, StringComparison.Ordinal);
        }

        using var wrongType = await client.SendAsync(Post($$"""{"model": "{{m}}", "count": 1e3}"""));
        var typed = (await Problem.AssertAsync(wrongType, HttpStatusCode.BadRequest, "malformed-request")).GetProperty("detail").GetString()!;
        Assert.Contains("$.count: expected a whole number", typed, StringComparison.Ordinal);
        using var unknown = await client.SendAsync(Post($$"""{"model": "{{m}}", "count": 10, "colour": "red"}"""));
        Assert.Contains("unknown member 'colour'", (await Problem.AssertAsync(unknown, HttpStatusCode.BadRequest, "malformed-request")).GetProperty("detail").GetString(), StringComparison.Ordinal);
        // a bare NaN or Infinity (Python's json.dumps writes them): named as such, with the member and where (line and byte
        // from 1), not the reader's "'N' is an invalid start of a value. Path: $.eta | LineNumber: 0 | BytePositionInLine: 37."
        foreach (var literal in new[] { "NaN", "Infinity", "-Infinity", "nan" })
        {
            string head = $$"""{"model": "{{m}}", "count": 10,""";
            string second = "\"eta\": " + literal + "}";
            using var r = await client.SendAsync(Post(head + "\n" + second));
            var detail = (await Problem.AssertAsync(r, HttpStatusCode.BadRequest, "malformed-request")).GetProperty("detail").GetString()!;
            int letter = second.IndexOf(literal, StringComparison.Ordinal) + 1; // where the literal starts
            Assert.Equal($"the body is not a valid scenario request: $.eta: {literal} is not a JSON number (JSON has no NaN or Infinity); send a finite number (line 2, byte {letter})", detail);
        }
    }

    // a syntax error is placed as the other body errors are, line and byte from 1: the reader's own "Path: $ | LineNumber: 1 |
    // BytePositionInLine: 13." counted both from 0, so an error on a body's second line was reported on line 1
    [Fact]
    public async Task SyntaxErrors_NameTheirLineAndByteFromOne()
    {
        using var client = f.Client("generator");
        string head = $$"""{"model": "{{f.ModelId}}",""";
        foreach (var (second, at) in new[] { ("\"count\": 10,,}", "(line 2, byte 13)"), ("\"count\": 10", "(line 2, byte 12)"), ("\"count\" 10}", "(line 2, byte 9)") })
        {
            using var r = await client.SendAsync(Post(head + "\n" + second));
            var detail = (await Problem.AssertAsync(r, HttpStatusCode.BadRequest, "malformed-request")).GetProperty("detail").GetString()!;
            Assert.StartsWith("the body is not a valid scenario request: $", detail, StringComparison.Ordinal);
            Assert.EndsWith(at, detail, StringComparison.Ordinal);
            Assert.DoesNotContain("LineNumber", detail, StringComparison.Ordinal);
        }

        using var empty = await client.SendAsync(Post(""));
        var none = (await Problem.AssertAsync(empty, HttpStatusCode.BadRequest, "malformed-request")).GetProperty("detail").GetString()!;
        Assert.EndsWith("(line 1, byte 1)", none, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", none, StringComparison.Ordinal);
    }

    // RELIABILITY SVC-2
    [Fact]
    public async Task OversizedBodies_Are413_WithOrWithoutContentLength()
    {
        using var client = f.Client("generator");
        var big = $$"""{"model": "{{f.ModelId}}", "count": 10, "stress": "{{new string(' ', 70_000)}}"}""";
        using var sized = await client.SendAsync(Post(big));
        await Problem.AssertAsync(sized, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");

        var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var streamed = await client.SendAsync(chunked);
        await Problem.AssertAsync(streamed, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task WrongMediaTypes_Are415And406()
    {
        using var client = f.Client("generator");
        var plain = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = new StringContent(Body(), Encoding.UTF8, "text/plain") };
        await Problem.AssertAsync(await client.SendAsync(plain), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        await Problem.AssertAsync(await client.SendAsync(Post(Body(), accept: "application/xml")), HttpStatusCode.NotAcceptable, "not-acceptable");
    }
}
