using System.Text.Json;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// The accountant a DP statement's ε comes from (<see cref="Tabular.PrivacyManifest.Accountant"/>). Written as its
/// snake_case name (<c>rdp</c>, <see cref="Tabular.DiffusionJson.Options"/>); a manifest naming another is refused when read.
/// </summary>
public enum DpAccountantKind
{
    /// <summary><c>rdp</c>: Rényi DP composed over the steps (<see cref="RdpAccountant"/>), converted to (ε, δ) by <see cref="RdpConversion"/>.</summary>
    Rdp,
}

/// <summary>
/// How DP-SGD drew its batches (<see cref="Tabular.PrivacyManifest.Sampling"/>). Written as its snake_case name
/// (<c>poisson</c>); a manifest naming another is refused when read.
/// </summary>
public enum DpSampling
{
    /// <summary><c>poisson</c>: each example joins each batch independently with probability q (the sampling the accountant assumes).</summary>
    Poisson,
}

/// <summary>
/// The wire names of <see cref="DpAccountantKind"/> and <see cref="DpSampling"/>: what the manifests' snake_case enum
/// converter (<see cref="DiffusionJson.Options"/>) writes for them, the one source of <c>rdp</c> and <c>poisson</c> for the
/// JSON that is written by hand (<see cref="DpStatement.ToJson"/>, the accountant's saved state, <c>crucible privacy --json</c>).
/// </summary>
public static class DpMechanismNames
{
    /// <summary>The accountant's name as a manifest writes it: <c>rdp</c>.</summary>
    public static string WireName(this DpAccountantKind kind) => Written(kind);

    /// <summary>The sampling's name as a manifest writes it: <c>poisson</c>.</summary>
    public static string WireName(this DpSampling sampling) => Written(sampling);

    private static string Written<T>(T value)
        where T : struct, Enum =>
        JsonSerializer.SerializeToElement(value, DiffusionJson.Options).GetString()
        ?? throw new InvalidOperationException($"{typeof(T).Name}.{value} has no string name");
}
