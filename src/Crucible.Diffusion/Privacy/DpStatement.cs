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

    /// <summary>
    /// k: 1 when each unit is one example; &gt; 1 for a group statement (<see cref="ForGroup"/>), where a unit (a day) lies in
    /// up to k examples (windows) and <see cref="Epsilon"/>, <see cref="Delta"/> are the group bound over them.
    /// </summary>
    public int GroupSize { get; init; } = 1;

    /// <summary>The accountant's ε per example, for a group statement; null otherwise.</summary>
    public double? ExampleEpsilon { get; init; }

    /// <summary>The δ per example the accountant's ε is stated at, for a group statement; null otherwise.</summary>
    public double? ExampleDelta { get; init; }

    /// <summary>The number of units (days) of a group statement (<see cref="DatasetSize"/> counts the examples); null otherwise.</summary>
    public int? Units { get; init; }

    /// <summary>
    /// The guarantee for a unit that lies in up to <paramref name="k"/> of the examples <paramref name="perExample"/> is
    /// stated for (DP-8): ε = k·ε_example and δ = <paramref name="delta"/>, the unit's declared δ, which bounds the group
    /// δ k·e^{(k−1)ε_example}·δ_example (<see cref="GroupPrivacy.ForGroup"/>) as long as ε_example stayed within the
    /// per-example ε the plan derived it from.
    /// </summary>
    /// <param name="perExample">The accountant's statement per example (window).</param>
    /// <param name="k">The group size.</param>
    /// <param name="delta">The unit's declared δ.</param>
    /// <param name="unit">The unit of the group statement.</param>
    /// <param name="units">The number of units (days).</param>
    /// <exception cref="InvalidOperationException">The group δ of the spent ε exceeds <paramref name="delta"/> (the plan was not kept).</exception>
    public static DpStatement ForGroup(DpStatement perExample, int k, double delta, PrivacyUnit unit, int units)
    {
        ArgumentNullException.ThrowIfNull(perExample);
        var (epsilon, groupDelta) = GroupPrivacy.ForGroup(perExample.Epsilon, perExample.Delta, k);
        if (groupDelta > delta * (1 + 1e-12))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"the group delta {groupDelta:G6} over k = {k} exceeds the declared {delta:G6}: the per-example epsilon {perExample.Epsilon:G6} went past the plan"));
        return perExample with
        {
            Epsilon = epsilon, Delta = delta, Unit = unit, GroupSize = k, ExampleEpsilon = perExample.Epsilon, ExampleDelta = perExample.Delta, Units = units,
        };
    }

    /// <summary>The adjacency of a statement per example: neighbouring datasets differ by one example, added or removed.</summary>
    public const string ExampleAdjacency = "add_remove_one";

    /// <summary>The adjacency of a group statement: neighbouring datasets differ by one unit's examples, all added or removed together.</summary>
    public const string GroupAdjacency = "add_remove_one_record_with_all_its_windows";

    /// <summary>The neighbouring relation the guarantee is stated for: <see cref="GroupAdjacency"/> for a group statement, else <see cref="ExampleAdjacency"/>.</summary>
    public string Adjacency => GroupSize > 1 ? GroupAdjacency : ExampleAdjacency;

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
    public JsonObject ToJson()
    {
        var json = Fields();
        if (GroupSize > 1)
        {
            json["group_size"] = GroupSize;
            json["example_epsilon"] = ExampleEpsilon;
            json["example_delta"] = ExampleDelta;
            json["units"] = Units;
        }

        return json;
    }

    private JsonObject Fields() => new()
    {
        ["epsilon"] = Epsilon,
        ["delta"] = Delta,
        ["noise_multiplier"] = NoiseMultiplier,
        ["max_grad_norm"] = MaxGradNorm,
        ["sample_rate"] = SampleRate,
        ["steps"] = Steps,
        ["dataset_size"] = DatasetSize,
        ["accountant"] = DpAccountantKind.Rdp.WireName(),
        ["rdp_formula"] = Formula == RdpFormula.Opacus ? "opacus" : "dp_accounting",
        ["conversion"] = Conversion == RdpConversion.Balle2020 ? "balle2020" : "classic",
        ["best_order"] = BestOrder,
        ["sampling"] = DpSampling.Poisson.WireName(),
        ["adjacency"] = Adjacency,
        ["unit"] = Unit.ToString().ToLowerInvariant(),
        ["covers"] = Coverage,
        ["secure_mode"] = SecureMode,
        ["noise_generator"] = NoiseGenerator,
        ["mode"] = Mode,
    };

    /// <summary>One line for people: <c>(ε = 2.97, δ = 1e-05)-DP per record, RDP accountant, …</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"(ε = {Epsilon:G6}, δ = {Delta:G3})-DP per {Unit.ToString().ToLowerInvariant()}{Group()}: σ = {NoiseMultiplier:G6}, C = {MaxGradNorm:G6}, "
        + $"q = {SampleRate:G6} (Poisson), {Steps} steps, RDP accountant ({Conversion} conversion, α = {BestOrder:G4})");

    private string Group() => GroupSize <= 1 ? "" : string.Create(CultureInfo.InvariantCulture,
        $" (group privacy over the k = {GroupSize} windows that hold it, each (ε = {ExampleEpsilon:G6}, δ = {ExampleDelta:G3})-DP per window)");
}
