using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;

namespace Crucible.Diffusion.Sequence;

/// <summary>Which w of the calibration table <see cref="SequenceGenerator.CalibrateGuidance"/> takes.</summary>
public enum GuidanceCalibrationRule
{
    /// <summary>The smallest w whose ES is within the tolerance of the realised ES (the session-4 rule: the least
    /// amplification that reaches the band), else the closest.</summary>
    SmallestWithinTolerance,

    /// <summary>The w whose ES is closest to the realised ES (the smallest such when tied): every w in 1..MaxScale is
    /// drawn.</summary>
    ClosestToRealised,

    /// <summary>
    /// Classifier-free guidance at <see cref="GuidanceCalibrationOptions.RegimeGuidanceScale"/> (default 2), and regime
    /// guidance (<see cref="Sequence.RegimeGuidance"/>) whose a ∈ [0, <see cref="GuidanceCalibrationOptions.MaxRegimeGuidance"/>]
    /// brings the ES to the realised ES (bisection on one draw: the scaling is applied after sampling); a = 0 when
    /// w alone reaches it.
    /// </summary>
    Regime,
}

/// <summary>
/// How <see cref="SequenceGenerator.CalibrateGuidance"/> sets a trained model's default guidance from its own training
/// period (the rule of <c>bench/sequence/README.md</c>): condition the model on the state of the day of the episode's
/// record <see cref="Feature"/> close, draw windows at each integer w in 1..<see cref="MaxScale"/>, and compare the
/// W-day equal-weight portfolio ES at <see cref="Alpha"/> of its windows with the realised ES of the training windows
/// inside the episode; <see cref="Rule"/> picks w from that table.
/// </summary>
public sealed record GuidanceCalibrationOptions
{
    /// <summary>The episode, which must lie in the training data (default: <c>gfc-2008</c>).</summary>
    public CrisisEpisode Episode { get; init; } = CrisisArchetypes.Episodes.Single(e => e.Name == "gfc-2008");

    /// <summary>The condition feature whose record close in the episode picks the state (default VIXCLS).</summary>
    public string Feature { get; init; } = "VIXCLS";

    /// <summary>The relative band around the realised ES (default 0.25, issue #7's ±25%).</summary>
    public double Tolerance { get; init; } = 0.25;

    /// <summary>The largest w tried (w = 1, 2, …, MaxScale).</summary>
    public int MaxScale { get; init; } = 8;

    /// <summary>Windows drawn at each w.</summary>
    public int Samples { get; init; } = 4000;

    /// <summary>The sampler of the draws, 50 steps (default DPM-Solver++(2M), the sampler the sequence generator's
    /// figures are measured with; the regime guidance's pilot draws are DDIM-50 whatever this is).</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.DpmSolver2M;

    /// <summary>The ES level.</summary>
    public double Alpha { get; init; } = 0.975;

    /// <summary>Which settings the calibration sets (default: <see cref="GuidanceCalibrationRule.Regime"/>, the one that
    /// met issue #7's criteria on five training seeds of five, bench/sequence/README.md session 6).</summary>
    public GuidanceCalibrationRule Rule { get; init; } = GuidanceCalibrationRule.Regime;

    /// <summary>w of classifier-free guidance under <see cref="GuidanceCalibrationRule.Regime"/> (default 2: for a
    /// Gaussian whose conditional variance is r times the unconditional one the guided target is proper while
    /// r &lt; w / (w − 1): below twice the variance at w = 2, which covers the 1.8-fold widening of VIX 45 on the
    /// multi-asset panel; w = 3 allows 1.5-fold).</summary>
    public double RegimeGuidanceScale { get; init; } = 2;

    /// <summary>The largest a <see cref="GuidanceCalibrationRule.Regime"/> may set.</summary>
    public double MaxRegimeGuidance { get; init; } = 8;

    /// <summary>
    /// σ_g to calibrate at (<see cref="SequenceGeneratorOptions.GuidanceMinNoise"/>): the draws use it and the model's
    /// config keeps it with the chosen w; null calibrates at the model's own σ_g.
    /// </summary>
    public double? GuidanceMinNoise { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Episode);
        ArgumentException.ThrowIfNullOrWhiteSpace(Feature);
        if (!(Tolerance > 0 && Tolerance < 1)) throw new ArgumentException("the calibration tolerance must be in (0, 1)");
        if (MaxScale is < 1 or > 100) throw new ArgumentException("the calibration's largest guidance scale must be in 1..100");
        if (Samples < 40) throw new ArgumentException("the calibration needs at least 40 windows per guidance scale");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException("the calibration's ES level must be in (0, 1)");
        if (!Enum.IsDefined(Rule)) throw new ArgumentException($"unknown calibration rule {Rule}");
        if (Sampler == SamplerKind.Ddpm || !Enum.IsDefined(Sampler)) throw new ArgumentException("the calibration samples with DDIM or DPM-Solver++(2M), 50 steps");
        if (!(double.IsFinite(RegimeGuidanceScale) && RegimeGuidanceScale > 0)) throw new ArgumentException("the regime rule's guidance scale must be positive and finite");
        if (!(double.IsFinite(MaxRegimeGuidance) && MaxRegimeGuidance > 0)) throw new ArgumentException("the regime rule's largest regime guidance must be positive and finite");
        if (GuidanceMinNoise is { } g && !(double.IsFinite(g) && g >= 0)) throw new ArgumentException("the calibration's guidance minimum noise level must be finite and ≥ 0");
    }
}

/// <summary>The ES of the calibration's windows at one guidance scale.</summary>
/// <param name="Guidance">w.</param>
/// <param name="ExpectedShortfall">The W-day equal-weight portfolio ES of the model's windows.</param>
public sealed record CalibrationPoint(double Guidance, double ExpectedShortfall);

/// <summary>
/// The evidence for a model's default guidance, stored in its manifest (<c>guidance_calibration</c>): the episode, the
/// state, the realised ES, the model's ES at each w tried and the w chosen.
/// </summary>
public sealed record GuidanceCalibration
{
    /// <summary>The episode's name.</summary>
    public string Episode { get; init; } = "";

    /// <summary>The episode's first and last dates (ISO).</summary>
    public string EpisodeStart { get; init; } = "";

    /// <summary>The episode's last date (ISO).</summary>
    public string EpisodeEnd { get; init; } = "";

    /// <summary>The day of the record close; the model is conditioned on the state it sees for a window starting that day.</summary>
    public string StateDate { get; init; } = "";

    /// <summary>That state, feature → raw value.</summary>
    public IReadOnlyDictionary<string, double> State { get; init; } = new Dictionary<string, double>();

    /// <summary>The ES level.</summary>
    public double Alpha { get; init; }

    /// <summary>The realised ES of the training windows that lie inside the episode.</summary>
    public double RealisedEs { get; init; }

    /// <summary>How many such windows.</summary>
    public int RealisedWindows { get; init; }

    /// <summary>The relative band.</summary>
    public double Tolerance { get; init; }

    /// <summary>The rule that picked <see cref="Chosen"/>.</summary>
    public GuidanceCalibrationRule Rule { get; init; }

    /// <summary>σ_g of the draws (and of the model's config afterwards).</summary>
    public double GuidanceMinNoise { get; init; }

    /// <summary>Windows drawn per w, and their sampler.</summary>
    public int Samples { get; init; }

    /// <summary>The sampler of the draws and its steps (<c>ddim-50</c> or <c>dpm2m-50</c>; all T of a model of T &lt; 50 diffusion steps, e.g. <c>dpm2m-20</c>).</summary>
    public string Sampler { get; init; } = "";

    /// <summary>The seed of the draws (2000 + the model's seed, the same at every w).</summary>
    public ulong SampleSeed { get; init; }

    /// <summary>The model's ES at each w tried, in order.</summary>
    public IReadOnlyList<CalibrationPoint> Points { get; init; } = [];

    /// <summary>The w chosen by <see cref="Rule"/>.</summary>
    public double Chosen { get; init; }

    /// <summary>Under <see cref="GuidanceCalibrationRule.Regime"/>: a, the regime guidance set (0 under the other rules).</summary>
    public double RegimeGuidance { get; init; }

    /// <summary>Under <see cref="GuidanceCalibrationRule.Regime"/>: k = exp(a · (ℓ_c − ℓ_∅)) at the episode's state, from
    /// a and the pilot draws' ℓ_c and ℓ_∅ (<see cref="Sequence.RegimeGuidance"/>; written to the manifest for the
    /// reader, never read back); null under the other rules.</summary>
    public double? RegimeFactor => ConditionalLogScale is { } c && UnconditionalLogScale is { } u
        ? Sequence.RegimeGuidance.Factor(RegimeGuidance, c, u)
        : null;

    /// <summary>ℓ_c of the episode's state (regime rule).</summary>
    public double? ConditionalLogScale { get; init; }

    /// <summary>ℓ_∅ (regime rule).</summary>
    public double? UnconditionalLogScale { get; init; }

    /// <summary>Under <see cref="GuidanceCalibrationRule.Regime"/>: the ES of the calibration's windows scaled by k (the
    /// model's ES at its calibrated settings); null under the other rules.</summary>
    public double? RegimeExpectedShortfall { get; init; }

    /// <summary>Whether <see cref="Chosen"/> is within the band.</summary>
    public bool WithinTolerance { get; init; }

    /// <summary>Whether <paramref name="es"/> lies within the relative band |ES / realised − 1| ≤ tolerance.</summary>
    public static bool IsWithin(double es, double realised, double tolerance) => Math.Abs((es / realised) - 1) <= tolerance;

    /// <summary>
    /// A rule on a table of (w, ES). <see cref="GuidanceCalibrationRule.SmallestWithinTolerance"/>: the smallest w with
    /// |ES / realised − 1| ≤ tolerance, or else the closest; <see cref="GuidanceCalibrationRule.ClosestToRealised"/>:
    /// the w whose ES is closest to the realised one. Ties go to the smaller w. The second value says whether the w
    /// chosen is within the band.
    /// </summary>
    public static (double Guidance, bool Within) Choose(IReadOnlyList<CalibrationPoint> points, double realised, double tolerance,
        GuidanceCalibrationRule rule = GuidanceCalibrationRule.SmallestWithinTolerance)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0) throw new ArgumentException("no calibration points", nameof(points));
        if (rule == GuidanceCalibrationRule.Regime) throw new ArgumentException("the regime rule fits a regime guidance on one draw; it does not choose from a table", nameof(rule));
        if (rule == GuidanceCalibrationRule.SmallestWithinTolerance)
        {
            foreach (var p in points.OrderBy(p => p.Guidance))
            {
                if (IsWithin(p.ExpectedShortfall, realised, tolerance)) return (p.Guidance, true);
            }
        }

        var closest = points.OrderBy(p => Math.Abs(p.ExpectedShortfall - realised)).ThenBy(p => p.Guidance).First();
        return (closest.Guidance, IsWithin(closest.ExpectedShortfall, realised, tolerance));
    }
}
