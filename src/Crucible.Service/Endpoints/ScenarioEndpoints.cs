using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;
using Crucible.Service.Problems;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Crucible.Service.Endpoints;

/// <summary>The JSON answer of <c>POST /v1/scenarios</c>.</summary>
/// <param name="RunId">The run: <c>GET /v1/runs/{id}</c> answers its manifest.</param>
/// <param name="Metadata">What <c>crucible generate</c> writes to <c>FILE.meta.json</c> for the same request (the CSV file is <c>scenarios.csv</c>).</param>
/// <param name="Values">The scenario rows (log returns, original units), in the CSV's row and column order.</param>
/// <param name="Audit">The audit entry <c>scenarios.generated</c> that records the request (last: it is fixed in the transaction that records the run, after the rest of the body is written).</param>
public sealed record ScenarioResponse(string RunId, ScenarioMetadata Metadata, double[][] Values, AuditReceipt Audit);

/// <summary>
/// The JSON answer of a scenario request, serialised (and hashed) up to its last member, <c>audit</c>, before the request
/// is recorded: <see cref="Describe"/> completes the hash with the receipt inside the recording transaction, without
/// touching the values again, and <see cref="Complete"/> the bytes once it committed. The bytes are exactly what
/// <see cref="JsonSerializer"/> writes for the <see cref="ScenarioResponse"/> with that receipt.
/// </summary>
internal sealed class ScenarioJson : IDisposable
{
    private readonly ReadOnlyMemory<byte> _head;
    private readonly IncrementalHash _hash;

    private ScenarioJson(ReadOnlyMemory<byte> head, IncrementalHash hash)
    {
        _head = head;
        _hash = hash;
    }

    /// <summary>Serialises every member but <c>audit</c>, and hashes those bytes.</summary>
    public static ScenarioJson Prepare(string runId, ScenarioMetadata metadata, double[][] values)
    {
        var o = ScenarioEndpoints.ResponseJson;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = o.Encoder, Indented = false }))
        {
            w.WriteStartObject();
            w.WritePropertyName(Name(nameof(ScenarioResponse.RunId)));
            JsonSerializer.Serialize(w, runId, o);
            w.WritePropertyName(Name(nameof(ScenarioResponse.Metadata)));
            JsonSerializer.Serialize(w, metadata, ScenarioEndpoints.MetadataJson);
            w.WritePropertyName(Name(nameof(ScenarioResponse.Values)));
            JsonSerializer.Serialize(w, values, o);
            w.WritePropertyName(Name(nameof(ScenarioResponse.Audit))); // the value follows in Tail
            w.Flush();
        }

        var head = buffer.WrittenMemory; // no copy: the body is assembled from it once
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(head.Span);
        return new ScenarioJson(head, hash);

        static string Name(string member) => ScenarioEndpoints.ResponseJson.PropertyNamingPolicy!.ConvertName(member);
    }

    /// <summary>The run-manifest entry of the body with <paramref name="receipt"/>: its SHA-256 and size, from the prepared hash.</summary>
    public ManifestFile Describe(AuditReceipt receipt)
    {
        var tail = Tail(receipt);
        using var hash = _hash.Clone();
        hash.AppendData(tail);
        return new ManifestFile(RunEndpoints.ResponseOutput, Convert.ToHexStringLower(hash.GetHashAndReset()), _head.Length + tail.Length) { IsFile = false };
    }

    /// <summary>The body with <paramref name="receipt"/>.</summary>
    public byte[] Complete(AuditReceipt receipt)
    {
        var tail = Tail(receipt);
        var body = new byte[_head.Length + tail.Length];
        _head.Span.CopyTo(body);
        tail.CopyTo(body, _head.Length);
        return body;
    }

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();

    private static byte[] Tail(AuditReceipt receipt) => [.. JsonSerializer.SerializeToUtf8Bytes(receipt, ScenarioEndpoints.ResponseJson), (byte)'}'];
}

/// <summary>
/// <c>POST /v1/scenarios</c>: a thin shell over <c>DiffusionGenerator.Generate</c> / <c>SequenceGenerator.Generate</c> and
/// <c>ScenarioCsv</c>. A request that generates appends <c>scenarios.generated</c> (whose receipt the JSON answer holds),
/// stores its run manifest (the request's bytes in, the answer's bytes out) and appends the <c>run.completed</c> entry
/// that pins it, in one transaction; an idempotent replay answers the stored bytes and records nothing.
/// </summary>
public static class ScenarioEndpoints
{
    /// <summary>The CSV file name given in the metadata and in <c>Content-Disposition</c>.</summary>
    public const string CsvFileName = "scenarios.csv";

    /// <summary>The idempotency header.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>The header set on a replayed response.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The <c>Retry-After</c> of a 409 for an idempotency key still in flight (a sampling takes about a second or more).</summary>
    public const int InFlightRetryAfterSeconds = 1;

    /// <summary>The header of a CSV answer that holds a DP-SGD model's DP statement (the metadata's <c>privacy</c>, one line of JSON).</summary>
    public const string PrivacyHeader = "X-Crucible-Privacy";

    internal static readonly JsonSerializerOptions ResponseJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>
    /// <see cref="ResponseJson"/> for the <c>metadata</c> member: enums as <c>FILE.meta.json</c> writes them (snake_case
    /// names, e.g. the DP statement's <c>"unit": "record"</c>), so the member holds what <c>crucible generate</c> writes.
    /// </summary>
    internal static readonly JsonSerializerOptions MetadataJson = new(ResponseJson)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    /// <summary>Maps the endpoint.</summary>
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/scenarios", Handle)
            .RequireAuthorization(ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Generate)
            .Accepts<ScenarioRequest>("application/json")
            .Produces<ScenarioResponse>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("CreateScenarios")
            .WithSummary("Generate a scenario set (JSON with metadata, or CSV with Accept: text/csv)");
    }

    private static async Task Handle(HttpContext context, ModelCatalog catalog, AuditLog audit, IIdempotencyStore idempotency,
        GenerationSlots slots, IOptions<ServiceOptions> settings, TimeProvider clock, CrucibleHome home)
    {
        var o = settings.Value;
        var ct = context.RequestAborted;
        var actor = "key:" + context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value;

        // 1. media types, size, idempotency header
        if (!IsJson(context.Request.ContentType))
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(415, "the body must be application/json")).ConfigureAwait(false);
            return;
        }

        bool csv;
        if (WantsCsv(context.Request.Headers.Accept) is not { } wants)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(406, "scenarios are given as application/json or text/csv")).ConfigureAwait(false);
            return;
        }
        else
        {
            csv = wants;
        }

        var body = await BodyReader.ReadAsync(context, o.MaxRequestBodyBytes).ConfigureAwait(false);
        if (body is null) return; // 413 written

        string? idemKey = context.Request.Headers[IdempotencyHeader].Count switch
        {
            0 => null,
            1 => context.Request.Headers[IdempotencyHeader][0],
            _ => "",
        };
        if (idemKey is null && o.RequireIdempotencyKey)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, $"this service requires an {IdempotencyHeader} header on scenario requests")).ConfigureAwait(false);
            return;
        }

        if (idemKey is not null && (idemKey.Length is 0 or > 255 || !idemKey.All(c => c is >= '!' and <= '~')))
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, $"{IdempotencyHeader} must be one value of 1 to 255 visible ASCII characters")).ConfigureAwait(false);
            return;
        }

        // 2. parse (400) and validate what needs no model (422)
        ScenarioRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<ScenarioRequest>(body, ScenarioRequest.Json);
        }
        catch (JsonException e)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, "the body is not a valid scenario request: " + JsonProblem.Describe(e, body))).ConfigureAwait(false);
            return;
        }

        if (request is null)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, "the body is not a valid scenario request: null")).ConfigureAwait(false);
            return;
        }

        var (errors, valid) = ScenarioValidation.Check(request, o);
        if (valid is null)
        {
            await Invalid(context, audit, actor, request.Model, errors).ConfigureAwait(false);
            return;
        }

        // 3. idempotency: replay, mismatch, in flight, or proceed
        var client = actor;
        long claim = 0;
        if (idemKey is not null)
        {
            var fingerprint = Fingerprint(csv, body);
            var (outcome, stored, claimed) = idempotency.Begin(client, idemKey, fingerprint);
            claim = claimed;
            switch (outcome)
            {
                case IdempotencyOutcome.Replay:
                    context.Response.Headers[ReplayedHeader] = "true";
                    await Send(context, stored!).ConfigureAwait(false);
                    return;
                case IdempotencyOutcome.Mismatch:
                    await ProblemTypes.WriteAsync(context, ProblemTypes.Create(422,
                        $"the {IdempotencyHeader} was used before for a different request", ProblemTypes.IdempotencyMismatch)).ConfigureAwait(false);
                    return;
                case IdempotencyOutcome.InFlight:
                    // retrying later succeeds (the first request's stored answer, or a fresh run if it failed): say when
                    context.Response.Headers.RetryAfter = InFlightRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    await ProblemTypes.WriteAsync(context, ProblemTypes.Create(409,
                        $"a request with this {IdempotencyHeader} is still being processed; retry later")).ConfigureAwait(false);
                    return;
            }
        }

        // 4. a generation slot, only now: a replay or a refusal above never waits behind the generations in flight
        bool completed = false;
        try
        {
            using var slot = await slots.AcquireAsync(context).ConfigureAwait(false);
            if (slot is null) return; // 429 written
            var response = await Generate(context, catalog, audit, o, clock, home, body, valid, csv, actor, ct, slots.DrainOver).ConfigureAwait(false);
            if (response is null) return; // a problem was written
            if (idemKey is not null) idempotency.Complete(client, idemKey, claim, response);
            completed = true;
            await Send(context, response).ConfigureAwait(false);
        }
        finally
        {
            if (idemKey is not null && !completed) idempotency.Abandon(client, idemKey, claim);
        }
    }

    private static async Task<StoredResponse?> Generate(HttpContext context, ModelCatalog catalog, AuditLog audit, ServiceOptions o,
        TimeProvider clock, CrucibleHome home, byte[] body, ValidScenarioRequest valid, bool csv, string actor, CancellationToken ct,
        CancellationToken drainOver)
    {
        var r = valid.Request;
        // the registry's current record (status read on every request, so a retirement elsewhere counts at once); a
        // retired model is refused before any work is spent loading it
        var record = catalog.Registry.Find(r.Model!);
        if (record is null)
        {
            await Invalid(context, audit, actor, r.Model, new() { ["model"] = ["no registered model has this id (GET /v1/models lists them)"] }).ConfigureAwait(false);
            return null;
        }

        if (record.Status == ModelStatus.Retired)
        {
            await Invalid(context, audit, actor, r.Model, new() { ["model"] = ["the model is retired (GET /v1/models shows each model's status)"] }).ConfigureAwait(false);
            return null;
        }

        LoadedModel model;
        try
        {
            model = catalog.Get(record);
        }
        catch (ModelUnavailableException e)
        {
            // the log says which model and why (readiness names it too, but stays 200: SVC-9's decision)
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Crucible.Service.Models").LogError(
                "POST /v1/scenarios refused with 503 (traceId {TraceId}): model {ModelId} is unavailable: {Message}", ProblemTypes.TraceIdOf(context), record.Id, e.Message);
            AppendFailure(audit, actor, r.Model, 503, ProblemTypes.Unavailable);
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(503, e.ClientMessage)).ConfigureAwait(false);
            return null;
        }

        (var errors, valid) = ScenarioValidation.ForModel(valid, model.Kind, model.DiffusionSteps, model.Series * model.StepsPerScenario, o);
        if (errors.Count > 0)
        {
            await Invalid(context, audit, actor, r.Model, errors).ConfigureAwait(false);
            return null;
        }

        // the start prices of "prices": true, checked before anything is drawn
        StartPrices? start = null;
        if (r.Prices)
        {
            try
            {
                start = model.StartPricesOf(r);
            }
            catch (InvalidInputException e)
            {
                await Invalid(context, audit, actor, r.Model, new() { ["start_prices"] = [e.ToUserMessage()] }).ConfigureAwait(false);
                return null;
            }
        }

        // 5. sample (in the request's generation slot), format exactly as crucible generate writes,
        // record, answer. The sampler checks the token once per step: a client that disconnects, or a request past
        // GenerationTimeoutSeconds, or one still sampling when the shutdown's drain is over (GenerationSlots.DrainOver), stops
        // within one step and frees its slot; nothing is recorded as generated.
        ct.ThrowIfCancellationRequested();
        var run = RunEndpoints.Start(home, RunKind.Generate, RunConfig(valid, csv), r.Seed, body);
        run.ModelId = record.Id;
        using var timeout = o.GenerationTimeoutSeconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(o.GenerationTimeoutSeconds), clock) : null;
        using var linked = timeout is null ? CancellationTokenSource.CreateLinkedTokenSource(ct, drainOver) : CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token, drainOver);
        var cancellable = valid with { Sampler = valid.Sampler with { Cancellation = linked.Token } };
        ScenarioSet set;
        try
        {
            set = model.Generate(cancellable);
        }
        catch (SequenceOptionException e)
        {
            // a regime guidance whose factor k underflows or overflows (the request's, or the model's own, which the request's
            // overrides), or a w, σ_g or a the library refuses (the request's checks refuse them first): worded with the
            // request's members and answered under the option's
            string field = ScenarioRequestNames.Instance.Name(e.Option ?? SequenceOption.RegimeGuidance);
            await Invalid(context, audit, actor, r.Model, new() { [field] = [e.Worded(ScenarioRequestNames.Instance).ToUserMessage()] }).ConfigureAwait(false);
            return null;
        }
        catch (InvalidInputException e)
        {
            // a condition or stress term the model does not know: the request is wrong, not the service
            // the library reads the specification as the CLI's --stress option: located here, as the field it is
            var message = e.Location is { File: "--stress" } at ? new InvalidInputException(e.Rule, e.Message, at with { File = "stress" }).ToUserMessage() : e.ToUserMessage();
            // guidance on a model without condition inputs (the library's rule): named at the first of the fields that set it
            var field = e.Rule == Crucible.Diffusion.Sequence.SequenceGenerator.GuidanceWithoutConditionsRule
                ? (r.Guidance is not null ? "guidance" : r.GuidanceMinNoise is not null ? "guidance_min_noise" : "regime_guidance")
                : model.ConditionsRefused(r) ? "conditions" : "stress";
            await Invalid(context, audit, actor, r.Model, new() { [field] = [message] }).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            AppendFailure(audit, actor, r.Model, 499, ProblemTypes.ClientClosed); // nobody to answer
            return null;
        }
        catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true)
        {
            AppendFailure(audit, actor, r.Model, 503, ProblemTypes.GenerationTimeout);
            context.Response.Headers.RetryAfter = "1";
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(503, string.Create(CultureInfo.InvariantCulture,
                $"sampling took longer than the service's limit of {o.GenerationTimeoutSeconds} s and was stopped; ask for fewer scenarios or sampling steps"),
                ProblemTypes.GenerationTimeout)).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (drainOver.IsCancellationRequested)
        {
            AppendFailure(audit, actor, r.Model, 503, ProblemTypes.Unavailable);
            await GenerationSlots.WriteStoppingAsync(context).ConfigureAwait(false);
            return null;
        }

        if (start is not null)
        {
            try
            {
                set = PricePaths.Append(set, start);
            }
            catch (InvalidInputException e)
            {
                // price paths that overflow: returns too large under the request's conditions or stress (as the return-side
                // guard names them), else under its start prices
                var field = e.Rule != PricePaths.OverflowRule ? "prices"
                    : r.Conditions is { Count: > 0 } || r.Stress is not null ? (model.ConditionsRefused(r) ? "conditions" : "stress")
                    : "start_prices";
                await Invalid(context, audit, actor, r.Model, new() { [field] = [e.ToUserMessage()] }).ConfigureAwait(false);
                return null;
            }
        }

        // a registered model, loaded through the registry (both hashes checked): recorded as crucible generate records it
        set = set with { Metadata = set.Metadata with { ModelManifestSha256 = record.ManifestSha256, Registered = true } };
        var bytes = ScenarioCsv.Format(set.Values, set.Metadata.StepsPerScenario);
        var meta = ScenarioCsv.Describe(set, bytes, CsvFileName, clock.GetUtcNow());
        var generated = new JsonObject
        {
            ["command"] = "service",
            ["model_id"] = meta.ModelId,
            ["model_manifest_sha256"] = meta.ModelManifestSha256,
            ["registered"] = true,
            ["csv_sha256"] = meta.CsvSha256,
            ["count"] = meta.Scenarios,
            ["rows"] = meta.Rows,
            ["seed"] = meta.Seed.ToString(CultureInfo.InvariantCulture),
            ["sampler"] = meta.Sampler,
            ["sampling_steps"] = meta.SamplingSteps,
            ["format"] = csv ? "csv" : "json",
            ["run_id"] = run.RunId,
        };

        // One transaction appends scenarios.generated, stores the run manifest and appends run.completed, which pins it:
        // neither entry exists without the other. The manifest's output "response" is exactly the body the client
        // receives (and a replay receives again). A JSON body holds the first entry's receipt, which the transaction
        // fixes (seq and hash follow from the chain head it holds): everything else of the body is serialised and hashed
        // before, so under the log's lock only the receipt's few bytes are added to the hash.
        ScenarioJson? json = null;
        ManifestFile? csvResponse = null;
        if (csv)
        {
            csvResponse = ManifestFile.Named(RunEndpoints.ResponseOutput, bytes);
        }
        else
        {
            var values = new double[set.Values.RowCount][];
            for (int i = 0; i < values.Length; i++) values[i] = set.Values.Row(i).ToArray();
            json = ScenarioJson.Prepare(run.RunId, meta, values);
            run.AddOutput(ManifestFile.Named(CsvFileName, bytes)); // the CSV the values are, as crucible generate writes it
        }

        using var prepared = json;
        var receipts = audit.AppendWithRunCompleted(AuditKind.ScenariosGenerated, generated, receipt =>
        {
            var manifest = run.AddOutput(csvResponse ?? json!.Describe(receipt)).Finish();
            return (manifest, new JsonObject
            {
                ["command"] = "service.scenarios",
                ["model_id"] = meta.ModelId,
                ["generated_seq"] = receipt.Seq,
            });
        }, actor);
        var first = receipts[0];

        var headers = new List<KeyValuePair<string, string>>
        {
            new("X-Crucible-Model-Id", meta.ModelId),
            new("X-Crucible-Csv-Sha256", meta.CsvSha256),
            new("X-Crucible-Audit-Seq", first.Seq.ToString(CultureInfo.InvariantCulture)),
            new(RunEndpoints.RunIdHeader, run.RunId),
        };
        if (json is null)
        {
            // DP-10: a CSV answer carries the DP statement too, as one line of JSON (ASCII: non-ASCII is \u-escaped)
            if (meta.Privacy is { } privacy) headers.Add(new(PrivacyHeader, JsonSerializer.Serialize(privacy, MetadataJson)));
            headers.Add(new("Content-Disposition", $"attachment; filename=\"{CsvFileName}\""));
            return new StoredResponse(200, "text/csv; charset=utf-8", bytes, headers);
        }

        return new StoredResponse(200, "application/json; charset=utf-8", json.Complete(first), headers);
    }

    // the run manifest's config: the validated request as the model is run (the seed is the manifest's own field)
    private static JsonObject RunConfig(ValidScenarioRequest valid, bool csv)
    {
        var r = valid.Request;
        return new JsonObject
        {
            ["command"] = "service.scenarios",
            ["model"] = r.Model,
            ["count"] = r.Count,
            ["sampler"] = Crucible.Diffusion.Samplers.SamplerNames.WireName(valid.Sampler.Kind),
            ["sampling_steps"] = valid.Sampler.Steps,
            ["eta"] = valid.Sampler.Eta,
            ["spacing"] = r.Spacing,
            ["conditions"] = r.Conditions is { Count: > 0 } c ? new JsonObject(c.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) : null,
            ["guidance"] = r.Guidance,
            ["guidance_min_noise"] = r.GuidanceMinNoise,
            ["regime_guidance"] = r.RegimeGuidance,
            ["stress"] = r.Stress,
            ["format"] = csv ? "csv" : "json",
            ["prices"] = r.Prices ? true : null,
            ["start_prices"] = r.Prices && r.StartPrices is { } s ? JsonNode.Parse(s.GetRawText()) : null,
        };
    }

    private static async Task Send(HttpContext context, StoredResponse response)
    {
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = response.ContentType;
        foreach (var (k, v) in response.Headers) context.Response.Headers[k] = v;
        context.Response.ContentLength = response.Body.Length;
        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task Invalid(HttpContext context, AuditLog audit, string actor, string? model, Dictionary<string, string[]> errors)
    {
        AppendFailure(audit, actor, model, 422, ProblemTypes.Validation);
        var problem = ProblemTypes.Create(422, "the scenario request has invalid values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        problem.Extensions["errors"] = errors;
        return ProblemTypes.WriteAsync(context, problem);
    }

    /// <summary>Records a scenario request that was refused after authentication (every scenario request is in the log).</summary>
    private static void AppendFailure(AuditLog audit, string actor, string? model, int status, string type)
    {
        var payload = new JsonObject { ["command"] = "service.scenarios", ["status"] = status, ["problem"] = type };
        if (Crucible.Governance.FileHash.IsSha256Hex(model)) payload["model_id"] = model;
        audit.Append(AuditKind.RunFailed, payload, actor);
    }

    private static string Fingerprint(bool csv, byte[] body)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(csv ? "text/csv\n"u8 : "application/json\n"u8);
        h.AppendData(body);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var m) && m.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for CSV, false for JSON, null when the client accepts neither.</summary>
    private static bool? WantsCsv(Microsoft.Extensions.Primitives.StringValues accept)
    {
        if (accept.Count == 0) return false;
        if (!MediaTypeHeaderValue.TryParseList(accept, out var types) || types.Count == 0) return false;
        var ranked = types.Where(t => t.Quality is null or > 0).OrderByDescending(t => t.Quality ?? 1).ToList();
        foreach (var t in ranked)
        {
            var m = t.MediaType.Value ?? "";
            if (m.Equals("text/csv", StringComparison.OrdinalIgnoreCase)) return true;
            if (m.Equals("application/json", StringComparison.OrdinalIgnoreCase) || m is "*/*" or "application/*") return false;
            if (m.Equals("text/*", StringComparison.OrdinalIgnoreCase)) return true;
        }

        return null;
    }
}

/// <summary>
/// A request body's JSON error in the request's terms (the member's path, what it expects, where), without the .NET type
/// names System.Text.Json puts in its messages.
/// </summary>
internal static partial class JsonProblem
{
    /// <summary>
    /// The message for <paramref name="e"/>, thrown while reading <paramref name="body"/> (the request's bytes; empty when
    /// not at hand): the member's path, what it expects and where (line and byte, from 1).
    /// </summary>
    public static string Describe(JsonException e, ReadOnlySpan<byte> body = default) => Describe(e, body, null);

    /// <summary>
    /// The message for <paramref name="e"/>, thrown while reading the value of the request's member <paramref name="member"/>
    /// on its own (a training request's <c>config</c>): the path from that member (<c>config.training.steps</c>) and what it
    /// expects, without a line or byte (the reader counts them from the member's start, not the body's).
    /// </summary>
    public static string DescribeMember(JsonException e, string member) => Describe(e, default, member);

    private static string Describe(JsonException e, ReadOnlySpan<byte> body, string? member)
    {
        ArgumentNullException.ThrowIfNull(e);
        var message = e.Message.ReplaceLineEndings(" ");
        var at = member is null && e.LineNumber is { } line && e.BytePositionInLine is { } pos
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" (line {line + 1}, byte {pos + 1})")
            : "";
        var path = member is not null ? member + (string.IsNullOrEmpty(e.Path) ? "" : e.Path.TrimStart('$'))
            : string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
        // NaN, Infinity, -Infinity (which JavaScript's JSON.stringify never writes, but Python's json.dumps does): the
        // reader's own message would be "'N' is an invalid start of a value"
        if (Crucible.Data.IO.JsonNonFinite.At(body, e) is var (literal, column) && literal is not null)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{path}: {literal} is not a JSON number (JSON has no NaN or Infinity); send a finite number (line {e.LineNumber + 1}, byte {column + 1})");
        }
        if (Converted().Match(message) is { Success: true } c) return $"{path}: expected {Expected(c.Groups[1].Value)}{at}";
        if (Unmapped().Match(message) is { Success: true } u) return $"unknown member '{u.Groups[1].Value}'{at}";
        if (Duplicate().Match(message) is { Success: true } d) return $"duplicate member '{d.Groups[1].Value}'{at}";
        // a syntax error (System.Text.Json's reader says what and where, naming no type) or anything else, with types removed
        // the reader's "Path: $ | LineNumber: 1 | BytePositionInLine: 12." counts from 0: placed from 1, as above (and not at all
        // for a member read on its own, whose position counts from the member's start)
        var what = ReaderPosition().Replace(TypeName().Replace(message, ""), "").TrimEnd('.');
        return $"{path}: {what}{at}";
    }

    private static string Expected(string type)
    {
        var t = type.Replace("System.Nullable`1[", "", StringComparison.Ordinal).TrimEnd(']');
        return t switch
        {
            "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" or "System.Int16" or "System.Byte" => "a whole number in range",
            "System.Double" or "System.Single" or "System.Decimal" => "a finite number",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            _ when t.Contains("Dictionary", StringComparison.Ordinal) => "an object",
            _ when t.Contains("[]", StringComparison.Ordinal) || t.Contains("List", StringComparison.Ordinal) => "an array",
            _ => "a value of another type",
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"could not be converted to ([^\s]+?)\.? Path:")]
    private static partial System.Text.RegularExpressions.Regex Converted();

    [System.Text.RegularExpressions.GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex Unmapped();

    [System.Text.RegularExpressions.GeneratedRegex(@"Duplicate property '([^']*)'")]
    private static partial System.Text.RegularExpressions.Regex Duplicate();

    [System.Text.RegularExpressions.GeneratedRegex(@" (of|contained in) type '[^']*'")]
    private static partial System.Text.RegularExpressions.Regex TypeName();

    [System.Text.RegularExpressions.GeneratedRegex(@" ?Path: .*$")]
    private static partial System.Text.RegularExpressions.Regex ReaderPosition();
}

/// <summary>Reads a request body up to a limit; a larger one (by Content-Length or by what arrives) answers 413.</summary>
internal static class BodyReader
{
    /// <summary>
    /// Reads a JSON body of at most <paramref name="limit"/> bytes as <typeparamref name="T"/>, with its bytes (for the
    /// run manifest). On a wrong media type (415), a body over the limit (413) or one that is not JSON of T's shape (400)
    /// it writes the problem and returns Ok = false; a body of <c>null</c> comes back as Ok with a null value, for the
    /// caller to judge.
    /// </summary>
    public static async Task<(bool Ok, T? Value, byte[] Body)> ReadJsonAsync<T>(HttpContext context, int limit, string what)
        where T : class
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(415, "the body must be application/json")).ConfigureAwait(false);
            return (false, null, []);
        }

        var body = await ReadAsync(context, limit).ConfigureAwait(false);
        if (body is null) return (false, null, []);
        try
        {
            return (true, JsonSerializer.Deserialize<T>(body, ScenarioRequest.Json), body);
        }
        catch (JsonException e)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, $"the body is not a valid {what}: " + JsonProblem.Describe(e, body))).ConfigureAwait(false);
            return (false, null, body);
        }
    }

    public static async Task<byte[]?> ReadAsync(HttpContext context, int limit)
    {
        var tooLarge = ProblemTypes.Create(413, string.Create(CultureInfo.InvariantCulture, $"the request body is limited to {limit} bytes"));
        if (context.Request.ContentLength > limit)
        {
            await ProblemTypes.WriteAsync(context, tooLarge).ConfigureAwait(false);
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            int n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false);
            if (n == 0) break;
            if (buffer.Length + n > limit)
            {
                await ProblemTypes.WriteAsync(context, tooLarge).ConfigureAwait(false);
                return null;
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
