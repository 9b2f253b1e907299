using Crucible.Data;

namespace Crucible.Governance.Manifests;

/// <summary>
/// What a run did (<see cref="RunManifest.Kind"/>): the command of the CLI or the service that wrote the manifest. Stored
/// as its wire name (<see cref="RunKinds.WireName"/>) in the manifest's <c>kind</c> and the audit store's runs table, never
/// as a number; the <c>config</c>'s <c>command</c> says which shell or step ran it (<c>demo.train</c>, <c>service.scenarios</c>).
/// </summary>
public enum RunKind
{
    /// <summary><c>train</c>: a model was fitted (<c>crucible train</c>, the demo's first step, a training job).</summary>
    Train,

    /// <summary><c>generate</c>: scenarios were sampled from a model (<c>crucible generate</c>, the demo, <c>POST /v1/scenarios</c>).</summary>
    Generate,

    /// <summary><c>evaluate</c>: an evaluation report was written (<c>crucible evaluate</c>, the demo, <c>POST /v1/evaluations</c>).</summary>
    Evaluate,

    /// <summary><c>stress</c>: a portfolio was valued under scenarios (<c>crucible stress</c>).</summary>
    Stress,

    /// <summary><c>ensemble</c>: several generators' scenarios were compared (<c>crucible ensemble</c>, <c>POST /v1/ensembles</c>).</summary>
    Ensemble,

    /// <summary><c>backtest</c>: a VaR backtest (<c>crucible backtest</c>).</summary>
    Backtest,

    /// <summary><c>baseline</c>: a baseline generator's scenarios (<c>crucible baseline</c>).</summary>
    Baseline,

    /// <summary><c>compare</c>: generators compared on one portfolio (<c>crucible compare</c>).</summary>
    Compare,

    /// <summary><c>model-card</c>: a model card was written (<c>crucible model-card</c>, the demo).</summary>
    ModelCard,
}

/// <summary>The stable wire names of <see cref="RunKind"/>.</summary>
public static class RunKinds
{
    private static readonly WireNames<RunKind> Names = new(
        (RunKind.Train, "train"),
        (RunKind.Generate, "generate"),
        (RunKind.Evaluate, "evaluate"),
        (RunKind.Stress, "stress"),
        (RunKind.Ensemble, "ensemble"),
        (RunKind.Backtest, "backtest"),
        (RunKind.Baseline, "baseline"),
        (RunKind.Compare, "compare"),
        (RunKind.ModelCard, "model-card"));

    /// <summary>Every kind, in the order above.</summary>
    public static IReadOnlyList<RunKind> All => Names.All;

    /// <summary>The wire name of <paramref name="kind"/>, e.g. <c>model-card</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined kind.</exception>
    public static string WireName(this RunKind kind) =>
        Names.NameOf(kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown run kind");

    /// <summary>The kind whose wire name is <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static RunKind? FromWireName(string? name) => Names.ValueOf(name);
}
