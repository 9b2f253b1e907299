using System.Collections.Concurrent;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

namespace Crucible.Service.Scenarios;

/// <summary>
/// A registered model loaded for sampling. Requests sample it concurrently: the denoiser adapter gives each concurrent
/// caller its own inference buffers, and the sampler's output depends only on the seed and settings (tested).
/// </summary>
/// <param name="Record">The registry record (hashes verified at load).</param>
/// <param name="Tabular">The generator of a tabular model, or null.</param>
/// <param name="Sequence">The generator of a conditional sequence model, or null.</param>
public sealed record LoadedModel(ModelRecord Record, DiffusionGenerator? Tabular, SequenceGenerator? Sequence)
{
    /// <summary>The manifest's kind.</summary>
    public ModelKind Kind => Sequence is null ? Tabular!.Manifest.Kind : Sequence.Manifest.Kind;

    /// <summary>T, the model's diffusion steps.</summary>
    public int DiffusionSteps => Sequence?.Schedule.Steps ?? Tabular!.Schedule.Steps;

    /// <summary>The number of series.</summary>
    public int Series => Sequence?.Columns.Count ?? Tabular!.Columns.Count;

    /// <summary>
    /// The start prices of a request with <c>"prices": true</c> (<see cref="ScenarioRequest.StartPrices"/>): <c>"unit"</c>,
    /// an object, or the model's recorded last train prices.
    /// </summary>
    /// <exception cref="InvalidInputException">A start price missing or unusable, or none recorded and none given.</exception>
    public StartPrices StartPricesOf(ScenarioRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var series = Sequence?.Columns ?? Tabular!.Columns;
        return request.StartPrices switch
        {
            { ValueKind: JsonValueKind.String } => StartPrices.Unit(series),
            { ValueKind: JsonValueKind.Object } given => StartPrices.FromRequest(given, series, "start_prices"),
            _ => (Sequence is { } sequence ? sequence.Manifest.Data : Tabular!.Manifest.Data) is { LastPrices: { } last } // a sequence model's own, null or not
                ? StartPrices.FromModel(series, last, "model " + Record.Id)
                : throw new InvalidInputException(StartPrices.Rule,
                    "price paths need a start price per series: this model records none ("
                    + ((Sequence?.Manifest.Data ?? Tabular!.Manifest.Data).LastPricesWithheld == true
                        ? $"its last train prices were withheld at training, {Training.TrainingRequestNames.WithholdPrices}"
                        : "it was not trained on prices, was trained with DP-SGD, which withholds the private last prices, or by an older version")
                    + "); send start_prices {\"SERIES\": price, …} or \"unit\" (every path starts at 1)"),
        };
    }

    /// <summary>
    /// Whether the model refuses the request's own <c>conditions</c> (a name it does not know, a value out of range), so
    /// that an error of <see cref="Generate"/> names <c>conditions</c> rather than <c>stress</c> when both are given.
    /// </summary>
    public bool ConditionsRefused(ScenarioRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Stress is null) return true; // the only source of conditions
        if (Sequence is null || request.Conditions is not { Count: > 0 } conditions) return false;
        try
        {
            Sequence.StandardizedCondition(conditions);
            return false;
        }
        catch (InvalidInputException)
        {
            return true;
        }
    }

    /// <summary>Rows per scenario: the window of a sequence model, 1 for a tabular one.</summary>
    public int StepsPerScenario => Sequence?.Window ?? 1;

    /// <summary>
    /// The scenario set of a validated request, exactly as <c>crucible generate</c> draws it: a sequence model resolves
    /// the conditions, guidance and stress specification (<see cref="SequenceGenerator.Generate"/>).
    /// </summary>
    /// <exception cref="InvalidInputException">A condition or stress term the model does not know.</exception>
    public ScenarioSet Generate(ValidScenarioRequest valid)
    {
        ArgumentNullException.ThrowIfNull(valid);
        var r = valid.Request;
        return Sequence is { } s
            ? s.Generate(r.Count!.Value, r.Seed, new SequenceSampleRequest(r.Conditions, r.Guidance, valid.Sampler, r.Stress, r.GuidanceMinNoise, r.RegimeGuidance))
            : Tabular!.Generate(r.Count!.Value, r.Seed, valid.Sampler);
    }
}

/// <summary>
/// Thrown when a registered model fails its integrity check or cannot be loaded (503, never a fallback).
/// <see cref="Exception.Message"/> holds the whole finding for the server's log (it names files under the home);
/// <see cref="ClientMessage"/> names only the model and the rule, for a client and for readiness.
/// </summary>
public sealed class ModelUnavailableException(string message, string clientMessage, Exception inner) : Exception(message, inner)
{
    /// <summary>What a client may read: the model id and the rule, no path of the server's home.</summary>
    public string ClientMessage { get; } = clientMessage;
}

/// <summary>
/// The home's model registry as the service sees it: listing reads the registry; sampling loads a model once (the
/// registry re-hashes weights and manifest against the audit log, and the generator checks the weights against the
/// manifest) and keeps it, since a registered model folder is immutable.
/// </summary>
public sealed class ModelCatalog(CrucibleHome home, AuditLog audit)
{
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _loaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _failed = new(StringComparer.Ordinal);

    /// <summary>
    /// The models whose last load failed its integrity check (id → the model and the rule, no path), for readiness to
    /// report; a model leaves the list
    /// when it next loads.
    /// </summary>
    public IReadOnlyDictionary<string, string> Failed => _failed;

    /// <summary>The registry.</summary>
    public ModelRegistry Registry { get; } = new(home, audit);

    /// <summary>
    /// The registered model <paramref name="current"/> (its record as the registry has it now, status included) loaded
    /// for sampling: loaded and hash-checked once, then kept, since a registered model folder is immutable.
    /// </summary>
    /// <exception cref="ModelUnavailableException">The model's files fail the hash check or do not load.</exception>
    public LoadedModel Get(ModelRecord current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var loaded = Unwrap(current.Id, _loaded.GetOrAdd(current.Id, key => new Lazy<LoadedModel>(() => Load(key))));
        return loaded.Record == current ? loaded : loaded with { Record = current };
    }

    private LoadedModel Unwrap(string id, Lazy<LoadedModel> lazy)
    {
        try
        {
            var value = lazy.Value;
            _failed.TryRemove(id, out _);
            return value;
        }
        catch (InvalidInputException e)
        {
            _loaded.TryRemove(new KeyValuePair<string, Lazy<LoadedModel>>(id, lazy)); // retry the check next time, never serve a stale copy
            // the client and readiness (anonymous) read the model and the rule; the finding's file paths stay in the log
            var client = $"model {id[..16]}… failed its integrity check [{e.Rule}]";
            var failure = new ModelUnavailableException($"{client}: {e.ToUserMessage()}", client, e);
            _failed[id] = client;
            throw failure;
        }
        catch
        {
            // a load that failed for a reason that passes (the shared store out of reach, a full disk while the folder is
            // written from it): tried again by the next request; Lazy would rethrow this exception for good
            _loaded.TryRemove(new KeyValuePair<string, Lazy<LoadedModel>>(id, lazy));
            throw;
        }
    }

    private LoadedModel Load(string id)
    {
        var record = Registry.Load(id);
        return SequenceGenerator.ReadKind(record.Folder) == ModelKind.Sequence
            ? new LoadedModel(record, null, SequenceGenerator.Load(record.Folder))
            : new LoadedModel(record, DiffusionGenerator.Load(record.Folder), null);
    }
}
