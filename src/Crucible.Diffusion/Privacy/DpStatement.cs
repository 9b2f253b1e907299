using System.Globalization;
using System.Text.Json.Nodes;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// The differential-privacy statement of a trained model (DP-10), for the run manifest and the model card: every
/// number needed to re-derive ε, and what the guarantee covers.
/// </summary>
/// <param name="Epsilon">ε spent (RDP accountant).</param>
/// <param name="Delta">δ.</param>
/// <param name="NoiseMultiplier">σ.</param>
/// <param name="MaxGradNorm">C.</param>
/// <param name="SampleRate">q.</param>
/// <param name="Steps">Steps taken (every one accounted, empty batches included).</param>
/// <param name="DatasetSize">N.</param>
/// <param name="BestOrder">The Rényi order at which ε was reached.</param>
/// <param name="Formula">The RDP formula.</param>
/// <param name="Conversion">The RDP → (ε, δ) conversion.</param>
/// <param name="Unit">The unit of privacy.</param>
public sealed record DpStatement(
    double Epsilon, double Delta, double NoiseMultiplier, double MaxGradNorm, double SampleRate, long Steps, int DatasetSize,
    double BestOrder, RdpFormula Formula, RdpConversion Conversion, PrivacyUnit Unit)
{
    /// <summary>The sentence that says what the guarantee covers (after TF Privacy's statement).</summary>
    public const string Coverage =
        "This guarantee protects the release of all model checkpoints and of everything sampled from them (post-processing), "
        + "assuming Poisson sampling of the training records as implemented.";

    /// <summary>True when the noise and the batches came from the OS CSPRNG (secure mode), false for the seeded generator.</summary>
    public bool SecureMode { get; init; }

    /// <summary>The generator of the noise and the batches (<see cref="SecureDpRandom.Name"/> or <see cref="PhiloxDpRandom.Name"/>).</summary>
    public string NoiseGenerator => SecureMode ? SecureDpRandom.Name : PhiloxDpRandom.Name;

    /// <summary>Whom the guarantee holds against, given how the noise was drawn.</summary>
    public string Mode => SecureMode ? SecureModeText : ReproducibleModeText;

    /// <summary>What secure mode means for the reader of the statement.</summary>
    public const string SecureModeText =
        "secure mode: noise and Poisson batches from the OS CSPRNG, never recorded; the model cannot be reproduced bit for bit by design";

    /// <summary>What reproducible mode means for the reader of the statement.</summary>
    public const string ReproducibleModeText =
        "reproducible mode: noise and Poisson batches from the seeded generator; the guarantee holds only against a reader who does not "
        + "know the seed, which the model and run manifests record, so do not release the manifests with the model (train again in secure mode to release)";

    /// <summary>The statement as a JSON object with snake_case keys.</summary>
    public JsonObject ToJson() => new()
    {
        ["epsilon"] = Epsilon,
        ["delta"] = Delta,
        ["noise_multiplier"] = NoiseMultiplier,
        ["max_grad_norm"] = MaxGradNorm,
        ["sample_rate"] = SampleRate,
        ["steps"] = Steps,
        ["dataset_size"] = DatasetSize,
        ["accountant"] = "rdp",
        ["rdp_formula"] = Formula == RdpFormula.Opacus ? "opacus" : "dp_accounting",
        ["conversion"] = Conversion == RdpConversion.Balle2020 ? "balle2020" : "classic",
        ["best_order"] = BestOrder,
        ["sampling"] = "poisson",
        ["adjacency"] = "add_remove_one",
        ["unit"] = Unit.ToString().ToLowerInvariant(),
        ["covers"] = Coverage,
        ["secure_mode"] = SecureMode,
        ["noise_generator"] = NoiseGenerator,
        ["mode"] = Mode,
    };

    /// <summary>One line for people: <c>(ε = 2.97, δ = 1e-05)-DP per record, RDP accountant, …</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"(ε = {Epsilon:G6}, δ = {Delta:G3})-DP per {Unit.ToString().ToLowerInvariant()}: σ = {NoiseMultiplier:G6}, C = {MaxGradNorm:G6}, "
        + $"q = {SampleRate:G6} (Poisson), {Steps} steps, RDP accountant ({Conversion} conversion, α = {BestOrder:G4})");
}
