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
