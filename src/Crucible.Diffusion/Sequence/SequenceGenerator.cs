using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// A conditional diffusion generator of multivariate windows of log returns (the sequence kind):
/// <code>
/// var features = EconomicState.Build(state, returns);                   // lagged one day
/// var generator = new SequenceGenerator(new SequenceGeneratorOptions { Window = 20 }).Fit(trainReturns, features);
/// ScenarioSet s = generator.Generate(10_000, seed: 1, new SequenceSampleRequest(new Dictionary&lt;string, double&gt; { ["VIXCLS"] = 45 }));
/// </code>
/// Fit cuts the train returns into windows of W days (stride 1), each a (D, W) sample whose row i is series i, maps
/// them to model space by a per-series affine map (<see cref="Affine"/>), fits the volatility-adaptive schedule per
/// series and trains a <see cref="ConditionalTcnDenoiser"/> with condition dropout. A window starting on day d is
/// conditioned on the feature row dated d (which <see cref="EconomicState"/> lags to the close of d − 1); windows with
/// no such row train the unconditional model only. Features are standardised with their mean and standard deviation
/// over the training windows. Generation runs the sampler under classifier-free guidance and maps back to log returns.
/// The same data, options and seed give bit-identical weights, manifest and scenarios on any number of threads.
/// </summary>
public sealed class SequenceGenerator
{
    private ConditionalTcnDenoiserAdapter? _denoiser;
    private VolatilityAdaptiveSchedule? _schedule;
    private SequenceManifest? _manifest;

    // ℓ of the regime guidance's pilot draws, by condition, w and σ_g (deterministic, so caching changes no output)
    private const int MaxCachedPilots = 4096;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, double> _pilotLogScales = new(StringComparer.Ordinal);

    /// <summary>Creates an unfitted generator.</summary>
    /// <exception cref="ArgumentException">An invalid option.</exception>
    public SequenceGenerator(SequenceGeneratorOptions? options = null)
    {
        options ??= new SequenceGeneratorOptions();
        options.Validate();
        Options = options with { Training = options.Training with { Seed = options.Seed } };
    }

    /// <summary>The options (with the training seed set to <see cref="SequenceGeneratorOptions.Seed"/>).</summary>
    public SequenceGeneratorOptions Options { get; private set; }

    /// <summary>Whether the generator has been fitted or loaded.</summary>
    public bool IsFitted => _manifest is not null;

    /// <summary>The manifest of the fitted model.</summary>
    public SequenceManifest Manifest => _manifest ?? throw NotFitted();

    /// <summary>The model id: SHA-256 (hex) of <c>weights.safetensors</c>.</summary>
    public string ModelId => Manifest.Weights.Sha256;

    /// <summary>The series, in model order.</summary>
    public IReadOnlyList<string> Columns => Manifest.Columns;

    /// <summary>W.</summary>
    public int Window => Manifest.Config.Window;

    /// <summary>
    /// The map from model space to log returns: r_i = Offset[i] + Scale[i] · x_i, times the window's s when the model has
    /// the public-state volatility scaling (<see cref="Manifest"/>'s <see cref="SequenceManifest.StateScale"/>, <see cref="WindowScales"/>).
    /// </summary>
    public SeriesAffine Affine => Manifest.Affine;

    /// <summary>The condition space (names, train mean and std, reference state, archetypes).</summary>
    public ConditionManifest ConditionSpace => Manifest.Conditions;

    /// <summary>
    /// The condition space stress specifications resolve against (<see cref="StressSpec"/>): the features, their
    /// training mean and standard deviation, the reference state (the base of relative shifts), the archetypes and
    /// the default aliases; null for an unconditional model.
    /// </summary>
    public ConditionSpace? StressSpace
    {
        get
        {
            var c = Manifest.Conditions;
            if (c.Names.Count == 0) return null;
            var reference = new double[c.Names.Count];
            for (int i = 0; i < reference.Length; i++) reference[i] = c.Reference.TryGetValue(c.Names[i], out double v) ? v : c.Mean[i];
            return new ConditionSpace(c.Names, c.Mean, c.Std, reference, c.Archetypes);
        }
    }

    /// <summary>
    /// Resolves a stress specification (<see cref="StressSpec"/> grammar) against this model: the condition values it
    /// sets and the linear constraints on the window's log returns its moves become.
    /// </summary>
    /// <exception cref="InvalidInputException">A syntax error, or a name the model does not know (the message names the
    /// column and rule).</exception>
    public StressPlan PlanStress(string spec) => StressSpec.Parse(spec).Resolve(StressSpace, Columns, Window, new StressResolveOptions
    {
        // the manifest's train period: an archetype of a crisis episode the data did not cover is refused with both ranges
        TrainPeriod = DateOnly.TryParseExact(Manifest.Data.TrainStart, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            && DateOnly.TryParseExact(Manifest.Data.TrainEnd, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end)
            ? (start, end) : null,
    });

    // the conditions and the sampler (with constraint guidance) a request amounts to, and its plan when it has a stress spec
    private (IReadOnlyDictionary<string, double>? Conditions, SamplerOptions Sampler, StressPlan? Plan) Effective(SequenceSampleRequest request)
    {
        var sampler = request.Sampler ?? SamplerOptions.DefaultFor(Schedule.Steps);
        var (conditions, plan) = ConditionsOf(request);
        if (plan is { Constraints.Count: > 0 })
        {
            if (sampler.Guidance is not null)
                throw new InvalidInputException("guidance-conflict", "the stress specification's moves need the sampler's guidance slot, which the request already fills");
            var affine = MovesAffine(request.Stress!, conditions);
            sampler = sampler with { Guidance = plan.Guidance(affine.Offset, affine.Scale) };
        }

        return (conditions, sampler, plan);
    }

    // the map of a stress specification's moves (constraints on the returns): a state-scaled model needs one level, and
    // without it the refusal (StateScaleRule) is located at the specification's first move (line 1 of its source, the
    // --stress option) and says what to add
    private SeriesAffine MovesAffine(string stress, IReadOnlyDictionary<string, double>? conditions)
    {
        if (Manifest.StateScale is not { } ss) return Affine;
        if (ConstantScale(conditions) is not null) return ScaledAffine(conditions, "{0}");
        var spec = StressSpec.Parse(stress);
        var move = spec.Terms.OfType<MoveTerm>().First();
        throw new InvalidInputException(StateScaleRule,
            $"the move {StressSpec.Describe(move)} is a constraint on the returns, and this model scales its windows by the requested {ss.Feature}, which neither the stress "
            + $"specification nor the conditions set (each window would draw its own level, so the move has no single map to the returns): add a level, "
            + $"{ss.Feature}=VALUE as a condition or in the specification, or an archetype that sets {ss.Feature}",
            new InputLocation(spec.Source, 1, move.Column));
    }

    // the conditions a request samples under (its stress specification's and its own) and the specification's plan
    private (IReadOnlyDictionary<string, double>? Conditions, StressPlan? Plan) ConditionsOf(SequenceSampleRequest request)
    {
        request.CheckOptions();     // a negative or non-finite w, σ_g or a first, named (before whether they apply at all)
        if (Manifest.Conditions.Names.Count == 0) RefuseGuidanceWithoutConditions(request, null);
        if (request.Stress is null)
        {
            RefuseGuidanceWithoutConditions(request, request.Conditions);
            return (request.Conditions, null);
        }

        var plan = PlanStress(request.Stress);
        var conditions = new Dictionary<string, double>(plan.Conditions, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Conditions ?? new Dictionary<string, double>())
        {
            if (conditions.TryAdd(name, value)) continue;
            throw plan.Conditions.Keys.Any(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ? new InvalidInputException("condition-conflict", $"condition {name} is set both by the stress specification and by a condition; give it once")
                : new InvalidInputException("condition-name", $"condition {name} is given twice (names ignore case): give it once");
        }

        RefuseGuidanceWithoutConditions(request, conditions);
        return (conditions, plan);
    }

    /// <summary>
    /// The map from model space to log returns of the windows <paramref name="request"/> draws (its conditions, those its
    /// stress specification sets included): r_i = s · (Offset[i] + Scale[i] · x_i), with s = v / v̄ of the requested
    /// level v of the public-state volatility scaling's feature (<see cref="SequenceManifest.StateScale"/>), and s = 1
    /// (<see cref="Affine"/> itself) for a model without it. Whatever works on the returns of model-space windows (objective
    /// guidance, a likelihood of given returns) needs this map, not <see cref="Affine"/> alone.
    /// </summary>
    /// <exception cref="InvalidInputException">A state-scaled model and a request that leaves the level unset (its windows
    /// then draw one s each, so no single map exists) or sets it ≤ 0 (rule <see cref="StateScaleRule"/>); a stress
    /// specification that does not resolve.</exception>
    public SeriesAffine AffineFor(SequenceSampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AffineFor(ConditionsOf(request).Conditions);
    }

    /// <summary><see cref="AffineFor(SequenceSampleRequest)"/> for windows under <paramref name="conditions"/> (null: unconditional).</summary>
    /// <exception cref="InvalidInputException">A state-scaled model and conditions that leave the level unset or set it ≤ 0 (rule <see cref="StateScaleRule"/>).</exception>
    public SeriesAffine AffineFor(IReadOnlyDictionary<string, double>? conditions) => ScaledAffine(conditions,
        "this model scales its windows by the requested {0}, so mapping them to log returns needs one level: set {0} in the conditions (or the stress specification)");

    // the map from model space to log returns of windows drawn under the conditions: the affine map times the state
    // scaling's s (one s for every window: refused, with the message `unset` ({0}: the feature), when the conditions leave
    // the scale feature unset)
    private SeriesAffine ScaledAffine(IReadOnlyDictionary<string, double>? conditions, string unset)
    {
        if (Manifest.StateScale is not { } ss) return Affine;
        double s = ConstantScale(conditions) ?? throw new InvalidInputException(StateScaleRule, string.Format(CultureInfo.InvariantCulture, unset, ss.Feature));
        return new SeriesAffine([.. Affine.Offset.Select(v => v * s)], [.. Affine.Scale.Select(v => v * s)]);
    }

    /// <summary>
    /// The rule of a request that sets the classifier-free guidance weight, its minimum noise level or regime guidance
    /// (<see cref="SequenceSampleRequest.GuidanceScale"/>, <see cref="SequenceSampleRequest.GuidanceMinNoise"/>,
    /// <see cref="SequenceSampleRequest.RegimeGuidance"/>) for a model without condition inputs, or for a model with them
    /// while naming no condition (no condition, and no stress specification that sets one): all three act through the
    /// condition (the guided and the plain prediction are the same unconditional one, and the regime factor is 1), so
    /// they would change nothing but what the request's records say. The model's own defaults never trigger it.
    /// </summary>
    public const string GuidanceWithoutConditionsRule = "GUIDANCE-E-UNCONDITIONAL";

    /// <summary>
    /// Checks <paramref name="request"/> against this model without sampling, as sampling would refuse it: guidance on a
    /// model without condition inputs (<see cref="GuidanceWithoutConditionsRule"/>), a stress specification that does not
    /// resolve, a condition set both by the specification and by the request, a condition the model does not know or a
    /// value out of range, a specification's moves on a state-scaled model that leaves the level unset
    /// (<see cref="StateScaleRule"/>, located at the first move).
    /// </summary>
    /// <exception cref="InvalidInputException">The request would be refused by <see cref="Generate"/>.</exception>
    public void CheckRequest(SequenceSampleRequest request)
    {
        _ = RequestedConditions(request);
        _ = Effective(request);
    }

    /// <summary>
    /// The conditions <paramref name="request"/> draws under (its stress specification's and its own) under the model's
    /// feature names, sorted: what <see cref="Generate"/>'s metadata records as <c>conditions</c>.
    /// </summary>
    /// <exception cref="InvalidInputException">The request would be refused by <see cref="Generate"/> (see <see cref="CheckRequest"/>).</exception>
    public SortedDictionary<string, double> RequestedConditions(SequenceSampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (conditions, _) = ConditionsOf(request);
        if (conditions is { Count: > 0 }) _ = StandardizedCondition(conditions);
        return Canonical(conditions);
    }

    // conditions under the model's own feature names (a request may name them in any case), sorted
    private SortedDictionary<string, double> Canonical(IReadOnlyDictionary<string, double>? conditions)
    {
        var canonical = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in conditions ?? new Dictionary<string, double>())
        {
            canonical[Manifest.Conditions.Names.First(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))] = value;
        }

        return canonical;
    }

    // GuidanceWithoutConditionsRule, checked wherever a request is resolved (sampling, its affine map): for a model without
    // condition inputs before its stress specification is read, for a model with them on the conditions the request
    // resolves to (its own and its specification's; null or empty: none named). Only what the request sets counts: the
    // model's own defaults (a calibrated guidance_scale, regime_guidance) never refuse a request that sets nothing.
    private void RefuseGuidanceWithoutConditions(SequenceSampleRequest request, IReadOnlyDictionary<string, double>? conditions)
    {
        bool conditional = Manifest.Conditions.Names.Count > 0;
        if (conditional && conditions is { Count: > 0 }) return;
        var set = new List<string>();
        if (request.GuidanceScale is { } w) set.Add(string.Create(CultureInfo.InvariantCulture, $"guidance {w:G6}"));
        if (request.GuidanceMinNoise is { } g) set.Add(string.Create(CultureInfo.InvariantCulture, $"guidance_min_noise {g:G6}"));
        if (request.RegimeGuidance is { } a) set.Add(string.Create(CultureInfo.InvariantCulture, $"regime_guidance {a:G6}"));
        if (set.Count == 0) return;
        if (!conditional)
        {
            throw new InvalidInputException(GuidanceWithoutConditionsRule,
                $"the model has no condition inputs (it was trained without an economic state), so {string.Join(", ", set)} would have no effect on its draws: "
                + "classifier-free and regime guidance act through conditions; leave them unset, or use a model trained with a state");
        }

        // all features absent: the guided pass is the null pass alone (ClassifierFreeGuidance), σ_g limits nothing and the
        // regime factor is 1, whatever the values
        throw new InvalidInputException(GuidanceWithoutConditionsRule,
            $"no condition was named (neither a condition nor a stress specification that sets one), so {string.Join(", ", set)} would have no effect on the draws: "
            + "classifier-free and regime guidance act through conditions; name a condition, or leave them unset");
    }

    /// <summary>The guidance weight a request samples with: its own, or else the model's default (<see cref="SequenceGeneratorOptions.GuidanceScale"/>).</summary>
    public double GuidanceOf(SequenceSampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.GuidanceScale ?? Manifest.Config.GuidanceScale;
    }

    /// <summary>The rule of a guidance calibration <see cref="CalibrateGuidance"/> refuses.</summary>
    public const string CalibrationRule = "guidance-calibration";

    /// <summary>
    /// Why <see cref="CalibrateGuidance"/> by <paramref name="options"/> cannot calibrate a model of window
    /// <paramref name="window"/> conditioned on <paramref name="conditionNames"/> and trained on
    /// <paramref name="trainReturns"/>, or null when it can: the calibration's feature is not a condition, or the episode
    /// holds no window of the training data. Known before the fit, so a training run checks it first
    /// (<see cref="SequenceTraining.Train"/>) instead of refusing after its steps.
    /// </summary>
    public static string? CalibrationProblem(IReadOnlyList<string> conditionNames, int window, TimeSeriesFrame trainReturns, GuidanceCalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(conditionNames);
        ArgumentNullException.ThrowIfNull(trainReturns);
        ArgumentNullException.ThrowIfNull(options);
        var episode = options.Episode;
        if (!conditionNames.Contains(options.Feature, StringComparer.Ordinal))
        {
            return $"the model is not conditioned on {options.Feature} (it has {string.Join(", ", conditionNames)}): the calibration of {episode.Name} conditions it on "
                + $"the episode's record {options.Feature} close, so {options.Feature} must be a condition feature (a state column of that name among the state columns)";
        }

        int from = trainReturns.IndexAtOrBefore(episode.Start.AddDays(-1)) + 1, to = trainReturns.IndexAtOrBefore(episode.End);
        if (to - from + 1 - (window - 1) >= 1) return null;
        string period = trainReturns.Dates is { Length: > 0 } dates ? $" ({Iso(dates[0])} .. {Iso(dates[^1])})" : "";
        return $"the episode {episode.Name} ({Iso(episode.Start)} .. {Iso(episode.End)}) holds no {window}-day window of the training data{period}: "
            + "the calibration compares the model with the training windows inside the episode";
    }

    /// <summary>
    /// <see cref="CalibrationProblem(IReadOnlyList{string}, int, TimeSeriesFrame, GuidanceCalibrationOptions)"/> for the
    /// condition features themselves (<paramref name="conditions"/>, <see cref="EconomicState.Build"/>'s frame, lagged one
    /// day), which also says when they hold no value of the calibration's feature in the episode (a state file that starts
    /// after it): the calibration conditions the model on the state of the episode's record close, known before the fit.
    /// </summary>
    public static string? CalibrationProblem(TimeSeriesFrame conditions, int window, TimeSeriesFrame trainReturns, GuidanceCalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        if (CalibrationProblem(conditions.Columns, window, trainReturns, options) is { } problem) return problem;
        conditions = TrainPeriodOf(conditions, trainReturns);
        return RecordRow(conditions, options) < 0 ? NoRecordValue(conditions, options) : null;
    }

    // the condition rows of the train period, as Fit reads them: features built once over the whole history (the README's
    // library example) must not give the calibration a state from after the train end
    private static TimeSeriesFrame TrainPeriodOf(TimeSeriesFrame conditions, TimeSeriesFrame trainReturns) =>
        trainReturns.Dates is { Length: > 0 } dates && conditions.Dates.Length == conditions.RowCount ? WithinPeriod(conditions, dates[0], dates[^1]) : conditions;

    // the condition row that holds the episode's record close of the calibration's feature (the state of the next window;
    // never the frame's first row, which has no row before it), or −1 when the episode has no finite value of it
    private static int RecordRow(TimeSeriesFrame conditions, GuidanceCalibrationOptions options)
    {
        var episode = options.Episode;
        int f = conditions.ColumnIndex(options.Feature);
        int first = Math.Max(1, conditions.IndexAtOrBefore(episode.Start.AddDays(-1)) + 1), last = conditions.IndexAtOrBefore(episode.End);
        int record = -1;
        for (int r = first; r <= last; r++)
        {
            if (double.IsFinite(conditions[r, f]) && (record < 0 || conditions[r, f] > conditions[record, f])) record = r;
        }

        return record;
    }

    private static string NoRecordValue(TimeSeriesFrame conditions, GuidanceCalibrationOptions options)
    {
        var episode = options.Episode;
        string period = conditions.Dates is { Length: > 0 } dates ? $": {Iso(dates[0])} .. {Iso(dates[^1])}" : "";
        return $"the episode {episode.Name} ({Iso(episode.Start)} .. {Iso(episode.End)}) has no {options.Feature} value in the condition features (the state, lagged one day{period}): "
            + $"the calibration conditions the model on the state of the episode's record {options.Feature} close; give a state file that covers the episode";
    }

    /// <summary>
    /// Sets the model's default guidance (<see cref="SequenceGeneratorOptions.GuidanceScale"/>) by the rule of
    /// <paramref name="options"/> (<see cref="GuidanceCalibrationOptions"/>) on its own training data, and records the
    /// evidence in the manifest (<see cref="SequenceManifest.GuidanceCalibration"/>); <see cref="Save"/> afterwards keeps
    /// both. The draws use <see cref="GuidanceCalibrationOptions.Sampler"/> (DPM-Solver++(2M) by default) with 50 steps (all T of a model of fewer)
    /// and seed 2000 + the model's seed at every w (so the table is reproducible), at the model's
    /// <see cref="SequenceGeneratorOptions.GuidanceMinNoise"/> unless the options name another σ_g (which the model then
    /// keeps), and without regime guidance; the <see cref="GuidanceCalibrationRule.Regime"/> rule then fits it.
    /// </summary>
    /// <param name="trainReturns">The log returns the model was trained on (the episode's windows are cut from them).</param>
    /// <param name="conditions">The condition features it was trained with (<see cref="EconomicState.Build"/>'s frame,
    /// lagged one day: the row dated d is the state a window starting on d sees). As in <see cref="Fit"/>, rows dated outside
    /// the train period are not read: features built once over the whole history give the calibration of the train rows'.</param>
    /// <param name="options">The rule's settings (default: gfc-2008, VIXCLS, ±25%, w = 1..8, 4,000 windows, ES 97.5%).</param>
    /// <param name="cancellation">Stops the draws.</param>
    /// <exception cref="InvalidInputException">An unconditional model, a feature it is not conditioned on, or an episode
    /// outside the training data.</exception>
    public GuidanceCalibration CalibrateGuidance(TimeSeriesFrame trainReturns, TimeSeriesFrame conditions, GuidanceCalibrationOptions? options = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(trainReturns);
        ArgumentNullException.ThrowIfNull(conditions);
        options ??= new GuidanceCalibrationOptions();
        options.Validate();
        var m = Manifest;
        const string Rule = CalibrationRule;
        if (m.Privacy is not null)
        {
            throw new InvalidInputException("DP-E-PREPROCESS",
                "the guidance calibration reads the realised expected shortfall of the private training windows outside DP-SGD's accounting: "
                + "a model trained with privacy cannot be calibrated on its training data");
        }

        if (m.Conditions.Names.Count == 0) throw new InvalidInputException(Rule, "the model is unconditional: there is no guidance to calibrate");
        if (!trainReturns.Columns.SequenceEqual(m.Columns, StringComparer.Ordinal))
            throw new InvalidInputException(Rule, "the returns are not the model's series");
        if (CalibrationProblem(m.Conditions.Names, m.Config.Window, trainReturns, options) is { } problem) throw new InvalidInputException(Rule, problem);
        conditions = TrainPeriodOf(conditions, trainReturns);
        var episode = options.Episode;
        int w = m.Config.Window;

        // the realised ES: the training windows that lie inside the episode
        int from = trainReturns.IndexAtOrBefore(episode.Start.AddDays(-1)) + 1, to = trainReturns.IndexAtOrBefore(episode.End);
        int windows = to - from + 1 - (w - 1);
        double realised = EconomicState.EqualWeightWindowExpectedShortfall(trainReturns.Slice(from, to + 1), w, windows, stride: 1, options.Alpha);

        // the state of the window that starts on the day of the feature's record close (that close is in the next row)
        int record = RecordRow(conditions, options);
        if (record < 0) throw new InvalidInputException(Rule, NoRecordValue(conditions, options));
        int stateRow = record - 1;
        var state = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int c = 0; c < conditions.ColumnCount; c++)
        {
            if (m.Conditions.Names.Contains(conditions.Columns[c], StringComparer.Ordinal) && double.IsFinite(conditions[stateRow, c]))
                state[conditions.Columns[c]] = conditions[stateRow, c];
        }

        ulong sampleSeed = 2000 + m.Seed;
        double minNoise = options.GuidanceMinNoise ?? m.Config.GuidanceMinNoise;
        var sampler = new SamplerOptions(options.Sampler, Math.Min(SamplerOptions.DefaultSteps, Schedule.Steps), Cancellation: cancellation);
        var points = new List<CalibrationPoint>();
        var stateScales = WindowScales(options.Samples, sampleSeed, state);
        double EsOf(float[] windows) => EconomicState.EqualWeightWindowExpectedShortfall(ToReturns(windows, options.Samples, stateScales), w, options.Samples, stride: w, options.Alpha);
        double chosen, regime = 0;
        bool within;
        (double Conditional, double Unconditional, double Es)? scaled = null;
        if (options.Rule == GuidanceCalibrationRule.Regime)
        {
            // one draw at w with no scaling; a from the ES of that draw scaled by k(a) (bisection: k rises with a when ℓ_c > ℓ_∅)
            chosen = options.RegimeGuidanceScale;
            var z = SampleModelSpace(options.Samples, sampleSeed, new SequenceSampleRequest(state, chosen, sampler, GuidanceMinNoise: minNoise, RegimeGuidance: 0));
            double es0 = EsOf(z);
            points.Add(new CalibrationPoint(chosen, es0));
            double lc = PilotLogScale(state, chosen, minNoise, cancellation), lu = PilotLogScale(conditions: null, 1, 0, cancellation);
            double EsAt(double a)
            {
                var copy = (float[])z.Clone();
                RegimeGuidance.Apply(copy, RegimeGuidance.Factor(a, lc, lu));
                return EsOf(copy);
            }

            if (es0 < realised && lc > lu)
            {
                // bracket by doubling from 1/16, then bisect. A huge k overflows the portfolio's exp (a non-finite ES),
                // which counts as "beyond": the top of the range is never tried blindly.
                double max = options.MaxRegimeGuidance, lo = 0, hi = Math.Min(1.0 / 16, max);
                bool Below(double a) => EsAt(a) is var e && double.IsFinite(e) && e < realised;
                while (hi < max && Below(hi))
                {
                    lo = hi;
                    hi = Math.Min(2 * hi, max);
                }

                if (hi == max && Below(hi)) lo = max;                                // even the largest a falls short
                else
                {
                    for (int iteration = 0; iteration < 80 && hi - lo > 1e-12 * Math.Max(1, hi); iteration++)
                    {
                        double mid = 0.5 * (lo + hi);
                        if (Below(mid)) lo = mid;
                        else hi = mid;
                    }
                }

                regime = lo;
            }

            double esScaled = EsAt(regime);
            scaled = (lc, lu, esScaled);
            within = GuidanceCalibration.IsWithin(esScaled, realised, options.Tolerance);
        }
        else
        {
            for (int g = 1; g <= options.MaxScale; g++)
            {
                double es = EsOf(SampleModelSpace(options.Samples, sampleSeed, new SequenceSampleRequest(state, g, sampler, GuidanceMinNoise: minNoise, RegimeGuidance: 0)));
                points.Add(new CalibrationPoint(g, es));

                // the smallest w within the band needs no larger one
                if (options.Rule == GuidanceCalibrationRule.SmallestWithinTolerance && GuidanceCalibration.IsWithin(es, realised, options.Tolerance)) break;
            }

            (chosen, within) = GuidanceCalibration.Choose(points, realised, options.Tolerance, options.Rule);
        }

        var calibration = new GuidanceCalibration
        {
            Episode = episode.Name,
            EpisodeStart = Iso(episode.Start),
            EpisodeEnd = Iso(episode.End),
            StateDate = Iso(conditions.Dates[stateRow]),
            State = state,
            Alpha = options.Alpha,
            RealisedEs = realised,
            RealisedWindows = windows,
            Tolerance = options.Tolerance,
            Rule = options.Rule,
            GuidanceMinNoise = minNoise,
            Samples = options.Samples,
            Sampler = string.Create(CultureInfo.InvariantCulture, $"{options.Sampler.WireName()}-{sampler.Steps}"),   // 50, or every step of a model of fewer
            SampleSeed = sampleSeed,
            Points = points,
            Chosen = chosen,
            WithinTolerance = within,
            RegimeGuidance = regime,
            ConditionalLogScale = scaled?.Conditional,
            UnconditionalLogScale = scaled?.Unconditional,
            RegimeExpectedShortfall = scaled?.Es,
        };
        _manifest = m with { Config = m.Config with { GuidanceScale = chosen, GuidanceMinNoise = minNoise, RegimeGuidance = regime }, GuidanceCalibration = calibration };
        return calibration;
    }

    /// <summary>σ_g a request samples with: its own, or else the model's default (<see cref="SequenceGeneratorOptions.GuidanceMinNoise"/>).</summary>
    public double GuidanceMinNoiseOf(SequenceSampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.GuidanceMinNoise ?? Manifest.Config.GuidanceMinNoise;
    }

    /// <summary>The forward process, with the fitted noise scales (model space).</summary>
    public VolatilityAdaptiveSchedule Schedule => _schedule ?? throw NotFitted();

    /// <summary>The network (its weights are the EMA weights used for sampling).</summary>
    public ConditionalTcnDenoiser Network => _denoiser?.Tcn ?? throw NotFitted();

    /// <summary>The network as a conditional denoiser, for custom sampling.</summary>
    public IConditionalDenoiser Denoiser => _denoiser ?? throw NotFitted();

    /// <summary>
    /// Why <paramref name="returns"/> train returns are too few for windows of <paramref name="window"/> (which need
    /// <paramref name="window"/> + 1 returns), in the rows the user gave: a file of prices gives one return fewer than its
    /// price rows, so its count and need are said in price rows too.
    /// </summary>
    private static string TooFewRows(int returns, int window, DataProvenance? provenance) =>
        provenance?.Input == nameof(InputKind.Prices)
            ? string.Create(CultureInfo.InvariantCulture,
                $"the training data's {returns + 1} price rows give {returns} returns; a window of {window} needs at least {window + 1} returns, so at least {window + 2} price rows")
            : string.Create(CultureInfo.InvariantCulture, $"the training data has {returns} returns; a window of {window} needs at least {window + 1}");

    /// <summary>
    /// Fits on the train split of log returns (pass only the train split: everything here is seen by the model).
    /// </summary>
    /// <param name="trainReturns">Log returns, rows in time order (dated when <paramref name="conditions"/> is given).</param>
    /// <param name="conditions">Condition features by date (e.g. from <see cref="EconomicState.Build"/>), or null for an
    /// unconditional model. Rows dated outside the train period (before the first or after the last train date) are
    /// never read nor recorded: features built once over the whole history give the same model and manifest.</param>
    /// <param name="archetypes">Named condition vectors to store in the manifest (archetype → feature → value).</param>
    /// <param name="provenance">The return file, for the manifest.</param>
    /// <param name="stateProvenance">The state file, for the manifest.</param>
    /// <param name="publicConditions">The same condition features computed from the public state file alone
    /// (<see cref="EconomicState.BuildPublic"/>), or null. When given, the conditions' standardisation (mean, std over its
    /// rows with every feature known) and the reference state (its last such row) come from it instead of from the
    /// training windows. Needed under DP (with <see cref="DpTrainingOptions.PublicState"/>), where nothing may be computed
    /// from the private returns outside the accountant; the archetypes must then come from the public state too.</param>
    /// <param name="progress">Training progress.</param>
    /// <param name="checkpoint">Trainer checkpoints (resumed when the file exists and matches the data and options).</param>
    /// <param name="cancellationToken">Cancels between training steps.</param>
    /// <exception cref="InvalidInputException">Too few rows for one window, non-finite values, a series that does not
    /// vary (<c>constant-series</c>) or whose returns leave float32 in model space (<c>model-space-range</c>), undated frames with conditions, a condition of ±∞ (<c>condition-value</c>; NaN is a
    /// missing condition), a condition feature equal in every conditioned window (<c>constant-condition</c>), no window
    /// with a known condition, a checkpoint of other data or options, or under privacy (<c>DP-E-PREPROCESS</c>) conditions
    /// on a state not declared public, a feature derived from the returns (RV20) or no <paramref name="publicConditions"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="publicConditions"/> without conditions or with other columns.</exception>
    public SequenceGenerator Fit(
        TimeSeriesFrame trainReturns,
        TimeSeriesFrame? conditions = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? archetypes = null,
        DataProvenance? provenance = null,
        DataProvenance? stateProvenance = null,
        TimeSeriesFrame? publicConditions = null,
        IProgress<TrainingProgress>? progress = null,
        CheckpointOptions? checkpoint = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainReturns);
        var o = Options;
        int w = o.Window, d = trainReturns.ColumnCount, rows = trainReturns.RowCount;
        if (d < 1) throw new InvalidInputException("no-series", "the training data has no series");
        Scenarios.ScenarioCsv.ThrowIfReservedSeriesName(trainReturns.Columns);
        if (rows < w + 1) throw new InvalidInputException("too-few-rows", TooFewRows(rows, w, provenance));
        var values = trainReturns.ValueSpan; // in place: a train split is a Head of the whole file's frame
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new InvalidInputException("non-finite", $"training value at row {i / d}, series '{trainReturns.Columns[i % d]}' is not finite");
        }

        // a series that never moves has nothing to learn, and its windows came out as ±1e-8 noise (the tabular generator
        // refuses it too): refused, named, whatever the transform
        for (int i = 0; i < d; i++)
        {
            double first = trainReturns[0, i];
            bool constant = true;
            for (int r = 1; r < rows && constant; r++) constant = trainReturns[r, i] == first;
            if (constant)
            {
                throw new InvalidInputException("constant-series", string.Create(CultureInfo.InvariantCulture,
                    $"series '{trainReturns.Columns[i]}' does not vary: every one of its {rows} training returns is {first:G6}; a constant series cannot be generated (leave it out of the training data)"));
            }
        }

        if (conditions is not null && (trainReturns.Dates.Length != rows || conditions.Dates.Length != conditions.RowCount || conditions.RowCount == 0))
            throw new InvalidInputException("condition-dates", "conditions need dated return and condition frames");

        // only the rows of the train period can be read (a window's condition is the row of its first day), and only they
        // are recorded (state_data): features built once over the whole history, train and later rows, as the archetypes
        // need them, give the model and manifest of features built over the train rows
        if (conditions is not null) conditions = WithinPeriod(conditions, trainReturns.Dates[0], trainReturns.Dates[^1]);

        if (publicConditions is not null && (conditions is null || !publicConditions.Columns.SequenceEqual(conditions.Columns, StringComparer.Ordinal)))
            throw new ArgumentException("the public state's features must have the conditions' columns, in order", nameof(publicConditions));
        int count = rows - w + 1;

        // 0. DP-SGD (RELIABILITY.md DP-8, DP-11): refused combinations and the budget are checked, and σ calibrated, before
        //    any work. Each window is one example; the statement is for the declared unit (a day: group privacy over the
        //    k = W windows that hold it). Stream 3 is the noise of reproducible mode, as in the tabular generator; secure
        //    mode draws the noise, the batches and each example's (t, ε) from the OS CSPRNG.
        PrivacyEngine? privacy = null;
        SequencePrivacyPlan? privacyPlan = null;
        if (o.Privacy is { } dp)
        {
            if ((conditions is not null || archetypes is not null) && !dp.PublicState)
            {
                const string Otherwise = "otherwise their standardisation, reference state and archetypes would be statistics of private data outside "
                    + "DP-SGD's accounting (DP-11); declare it public, or train an unconditional model";
                throw new SequenceOptionException("DP-E-PREPROCESS",
                    $"conditions (an economic state) cannot be combined with privacy unless the state is declared public data (privacy.public_state: true): {Otherwise}",
                    n => $"conditions ({n.Name(SequenceOption.State)}, an economic state) cannot be combined with privacy unless the state is declared public data "
                        + $"({n.Given(SequenceOption.PublicState, "true")}): {Otherwise}");
            }

            if (conditions is not null)
            {
                // a public state: each window's condition is the state before its first day (part of the example); everything
                // else about the conditions must come from the state file alone, and no feature from the returns
                foreach (var name in conditions.Columns)
                {
                    if (EconomicState.IsReturnDerived(name))
                    {
                        throw new InvalidInputException("DP-E-PREPROCESS",
                            $"condition feature {name} is computed from the private returns, not from the public state: under privacy name state features only");
                    }
                }

                if (publicConditions is null)
                {
                    throw new InvalidInputException("DP-E-PREPROCESS",
                        "under privacy the conditions' standardisation and reference state must be computed from the public state alone: "
                        + "give its features (EconomicState.BuildPublic)");
                }
            }

            privacyPlan = SequencePrivacyPlan.Create(dp, w, rows, count, o.Training.BatchSize, o.Training.Steps);
            privacy = privacyPlan.CreateEngine(new Philox(o.Seed, stream: 3));
        }

        // 0b. public-state volatility scaling: each window's returns divided by s_b = v_b / v̄ before the transform
        var (stateScale, windowScales) = o.StateScale is { } scaleFeature
            ? StateScaleOf(scaleFeature, trainReturns, conditions, publicConditions, count)
            : (null, null);

        // 1. the affine map and the windows (D, W) in model space (under DP: r / public_scale clipped to ±public_bound)
        var offset = new double[d];
        var scale = new double[d];
        for (int i = 0; i < d; i++)
        {
            scale[i] = o.Privacy?.PublicScale ?? 1;
            if (o.Transform != SequenceTransform.Standardize) continue;
            if (windowScales is not null)
            {
                // the mean and std of the scaled windows' values (a day lies in up to W windows, each with its own s)
                double sum = 0, squares = 0;
                for (int b = 0; b < count; b++)
                {
                    for (int t = 0; t < w; t++) sum += trainReturns[b + t, i] / windowScales[b];
                }

                double m = sum / (count * w);
                for (int b = 0; b < count; b++)
                {
                    for (int t = 0; t < w; t++) squares += ((trainReturns[b + t, i] / windowScales[b]) - m) * ((trainReturns[b + t, i] / windowScales[b]) - m);
                }

                offset[i] = m;
                scale[i] = Math.Max(Math.Sqrt(squares / ((count * w) - 1)), 1e-12);
                continue;
            }

            var column = trainReturns.Column(i);
            double mean = column.Average(), sd = Math.Sqrt(column.Sum(v => (v - mean) * (v - mean)) / (rows - 1));
            offset[i] = mean;
            scale[i] = Math.Max(sd, 1e-12);
        }

        // window b's value of series i at step t is float32(((r[b + t, i] / s_b) − offset_i) / scale_i), under DP clipped to
        // ±public_bound. The windows are never held whole (W × D floats each, for every start day): without the state
        // scaling (s_b = 1) a day has the same value in every window that holds it, so the model-space series is held
        // once (T × D) and the trainer cuts the windows it draws; with it each window is computed from the returns.
        TrainingData x0;
        if (windowScales is null)
        {
            var series = new float[rows * d];
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < d; i++) series[(r * d) + i] = (float)((trainReturns[r, i] - offset[i]) / scale[i]);
            }

            if (o.Privacy is { } bounds)
            {
                for (int e = 0; e < series.Length; e++) series[e] = (float)Math.Clamp(series[e], -bounds.PublicBound, bounds.PublicBound);
            }
            else
            {
                RequireVaryingInFloat32(series, d, offset, scale, trainReturns);
            }

            x0 = new SeriesWindows(series, d, w);
        }
        else
        {
            x0 = new StateScaledWindows(trainReturns, w, windowScales, offset, scale, o.Privacy?.PublicBound);
        }

        if (o.Privacy is null) RequireFloatRange(x0, offset, scale, trainReturns, w);

        // 2. the conditions of each window: the feature row dated on its first day, standardised over the windows
        int k = conditions?.ColumnCount ?? 0;
        var conditionManifest = new ConditionManifest();
        ConditionDropout? dropout = null;
        string? conditionHash = null;
        int conditioned = 0, publicFirst = -1, publicRow = -1;
        PublicStateManifest? publicState = null;
        if (conditions is not null)
        {
            var raw = new double[count * k];
            Array.Fill(raw, double.NaN);
            int lastRow = -1;
            for (int b = 0; b < count; b++)
            {
                int r = Array.BinarySearch(conditions.Dates, trainReturns.Dates[b]);
                if (r < 0) continue;
                bool finite = true;
                for (int j = 0; j < k; j++)
                {
                    double v = conditions[r, j];
                    // NaN is a missing condition (the window trains unconditioned); ±∞ is a broken value, not a missing one
                    if (double.IsInfinity(v))
                    {
                        throw new InvalidInputException("condition-value", string.Create(CultureInfo.InvariantCulture,
                            $"condition '{conditions.Columns[j]}' is {(v > 0 ? "+∞" : "−∞")} on {Iso(conditions.Dates[r])} (condition row {r}): a condition must be finite, or missing (NaN)"));
                    }

                    finite &= !double.IsNaN(v);
                }

                if (!finite) continue;
                conditions.Row(r).CopyTo(raw.AsSpan(b * k, k));
                conditioned++;
                lastRow = r;
            }

            if (conditioned < 2) throw new InvalidInputException("condition-dates", $"only {conditioned} training windows have a known condition on their first day; at least 2 are needed");

            // the statistics' rows: the training windows' conditions, or (public state) the state file's own rows
            double[] statistics = raw;
            int statisticsRows = count, known = conditioned;
            string where = "conditioned training windows";
            if (publicConditions is not null)
            {
                (statistics, statisticsRows, publicFirst, publicRow) = KnownRows(publicConditions);
                known = statisticsRows;
                where = "rows of the public state";
                if (known < 2) throw new InvalidInputException("condition-dates", $"only {known} rows of the public state have every condition feature; at least 2 are needed");
            }

            var mean = new double[k];
            var std = new double[k];
            for (int j = 0; j < k; j++)
            {
                double sum = 0, squares = 0;
                for (int b = 0; b < statisticsRows; b++) if (!double.IsNaN(statistics[(b * k) + j])) sum += statistics[(b * k) + j];
                mean[j] = sum / known;
                for (int b = 0; b < statisticsRows; b++) if (!double.IsNaN(statistics[(b * k) + j])) squares += (statistics[(b * k) + j] - mean[j]) * (statistics[(b * k) + j] - mean[j]);
                // a feature equal in every conditioned window carries nothing to condition on, and its std floor made every
                // later request "1E+13 training standard deviations" away: refused at fit, named
                double value = double.NaN;
                bool constant = true;
                for (int b = 0; b < statisticsRows && constant; b++)
                {
                    double v = statistics[(b * k) + j];
                    if (double.IsNaN(v)) continue;
                    if (double.IsNaN(value)) value = v;
                    else constant = v == value;
                }

                if (constant)
                {
                    // the condition dates it is constant over: the first and last known statistics row
                    DateOnly from, to;
                    if (publicConditions is not null)
                    {
                        (from, to) = (publicConditions.Dates[publicFirst], publicConditions.Dates[publicRow]);
                    }
                    else
                    {
                        int firstWindow = -1, lastWindow = -1;
                        for (int b = 0; b < count; b++)
                        {
                            if (double.IsNaN(statistics[(b * k) + j])) continue;
                            if (firstWindow < 0) firstWindow = b;
                            lastWindow = b;
                        }

                        (from, to) = (trainReturns.Dates[firstWindow], trainReturns.Dates[lastWindow]);
                    }

                    throw new ConstantConditionException(conditions.Columns[j], from, to, string.Create(CultureInfo.InvariantCulture,
                        $"condition '{conditions.Columns[j]}' does not vary: it is {value:G6} in every one of the {known} {where} (condition dates {Iso(from)} .. {Iso(to)}), so nothing can be conditioned on it (leave it out of the condition features)"));
                }

                std[j] = Math.Max(Math.Sqrt(squares / (known - 1)), 1e-12);
            }

            var z = new float[count * k];
            for (int b = 0; b < count; b++)
            {
                for (int j = 0; j < k; j++) z[(b * k) + j] = (float)((raw[(b * k) + j] - mean[j]) / std[j]);   // NaN stays NaN
            }

            if (publicConditions is not null && o.Privacy is not null)
            {
                publicState = new PublicStateManifest
                {
                    File = stateProvenance?.FileName,
                    Sha256 = stateProvenance?.FileSha256,
                    Features = [.. conditions.Columns],
                    StatisticsRows = statisticsRows,
                    StatisticsStart = Iso(publicConditions.Dates[publicFirst]),
                    StatisticsEnd = Iso(publicConditions.Dates[publicRow]),
                };
            }

            // the training range: each feature's min and max over the condition vectors of the conditioned windows
            var min = new double[k];
            var max = new double[k];
            Array.Fill(min, double.PositiveInfinity);
            Array.Fill(max, double.NegativeInfinity);
            for (int b = 0; b < count; b++)
            {
                if (double.IsNaN(raw[b * k])) continue;   // a window without a known state (all k NaN)
                for (int j = 0; j < k; j++)
                {
                    min[j] = Math.Min(min[j], raw[(b * k) + j]);
                    max[j] = Math.Max(max[j], raw[(b * k) + j]);
                }
            }

            dropout = new ConditionDropout(z, count, k, o.UnconditionalProbability, o.SubsetProbability, o.ConditionNoise);
            conditionHash = Hashing.ValuesSha256.Of(z);
            conditionManifest = new ConditionManifest
            {
                Names = [.. conditions.Columns],
                Mean = mean,
                Std = std,
                Min = min,
                Max = max,
                Reference = publicConditions is { } reference
                    ? reference.Columns.Select((name, j) => (name, j)).ToDictionary(p => p.name, p => reference[publicRow, p.j], StringComparer.Ordinal)
                    : conditions.Columns.Select((name, j) => (name, j)).ToDictionary(p => p.name, p => conditions[lastRow, p.j], StringComparer.Ordinal),
                ReferenceDate = Iso(publicConditions is null ? conditions.Dates[lastRow] : publicConditions.Dates[publicRow]),
                Archetypes = archetypes?.ToDictionary(a => a.Key, a => (IReadOnlyDictionary<string, double>)new SortedDictionary<string, double>(a.Value.ToDictionary(), StringComparer.Ordinal), StringComparer.Ordinal)
                    ?? new Dictionary<string, IReadOnlyDictionary<string, double>>(),
            };
        }

        // 3. forward process, network, trainer
        var baseSchedule = NoiseSchedule.Create(o.Schedule, o.DiffusionSteps);
        var schedule = o.VolatilityAdaptive ? VolatilityAdaptiveSchedule.Fit(baseSchedule, x0, d) : VolatilityAdaptiveSchedule.Isotropic(baseSchedule, d);
        var network = new ConditionalTcnDenoiser(NetworkConfig(o, d, k), new Philox(o.Seed, stream: 0));
        var denoiser = new ConditionalTcnDenoiserAdapter(network, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, o.Objective, o.Training, privacy) { Conditions = dropout };
        string trainHash = DiffusionGenerator.TrainMatrixSha256(trainReturns);
        if (checkpoint is not null)
        {
            string fingerprint = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                JsonSerializer.Serialize(o, DiffusionJson.Options) + "\n" + string.Join("\n", trainReturns.Columns) + "\n" + trainHash + "\n" + conditionHash)));
            checkpoint = checkpoint with { Metadata = new Dictionary<string, string>(checkpoint.Metadata ?? new Dictionary<string, string>()) { ["fingerprint"] = fingerprint } };
            if (File.Exists(checkpoint.Path)) DiffusionGenerator.Resume(trainer, checkpoint, fingerprint);
        }

        trainer.Fit(x0, progress, reportEvery: Math.Max(1, Math.Min(50, o.Training.Steps / 20)), checkpoint, cancellationToken);
        trainer.Ema?.CopyTo();

        // 4. freeze into a manifest
        byte[] weights = network.SerializeSafeTensors();
        _manifest = new SequenceManifest
        {
            LibraryVersion = DiffusionGenerator.LibraryVersion,
            Seed = o.Seed,
            Columns = [.. trainReturns.Columns],
            Config = o,
            Schedule = new ScheduleManifest { Kind = o.Schedule, DiffusionSteps = o.DiffusionSteps, VolatilityAdaptive = schedule.IsAdaptive, NoiseScale = [.. schedule.NoiseScale] },
            Affine = new SeriesAffine(offset, scale),
            Conditions = conditionManifest,
            StateScale = stateScale,
            Data = new DataManifest
            {
                InputFile = provenance?.FileName,
                // under DP no exact hash or value of the private data goes into the released manifest (DP-11)
                InputSha256 = privacy is null ? provenance?.FileSha256 : null,
                InputKind = provenance?.Input,
                LastPrices = privacy is null ? provenance?.LastPrices : null,    // the last train prices are private data (DP-11)
                LastPricesWithheld = provenance is { LastPricesWithheld: true } ? true : null,
                TrainMatrixSha256 = privacy is null ? trainHash : null,
                TrainRows = rows,
                TrainStart = trainReturns.Dates.Length > 0 ? Iso(trainReturns.Dates[0]) : null,
                TrainEnd = trainReturns.Dates.Length > 0 ? Iso(trainReturns.Dates[^1]) : null,
            },
            StateData = conditions is null ? null : new DataManifest
            {
                InputFile = stateProvenance?.FileName,
                InputSha256 = stateProvenance?.FileSha256,
                InputKind = stateProvenance?.Input,
                Missing = stateProvenance?.Missing,
                // the state file is public, but its matrix here is cut on the private return dates: withheld under DP
                TrainMatrixSha256 = privacy is null ? DiffusionGenerator.TrainMatrixSha256(conditions) : null,
                TrainRows = conditions.RowCount,
                TrainStart = Iso(conditions.Dates[0]),
                TrainEnd = Iso(conditions.Dates[^1]),
            },
            Windows = new WindowManifest { Count = count, Conditioned = conditioned, ConditionMatrixSha256 = privacy is null ? conditionHash : null },
            // under DP the losses are statistics of the private windows: only the step count is kept, as in the tabular generator
            Training = privacy is null ? DiffusionGenerator.Metrics(trainer.Losses) : new TrainingMetrics { Steps = trainer.StepsDone },
            Weights = new WeightsManifest
            {
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(weights)),
                Parameters = network.ParameterCount(),
                Tensors = [.. network.StateDict().Select(kv => new TensorManifest(kv.Key, kv.Value.Shape))],
            },
            Privacy = privacy is null ? null : WithPublicState(PrivacyManifest.From(privacy, o.Privacy!, privacyPlan!.Statement(privacy)), publicState, stateScale),
        };
        _denoiser = denoiser;
        _schedule = schedule;
        return this;
    }

    // the DP statement of a model conditioned on a public state says so, with the file's SHA-256
    // (and, with the state scaling, that each window's returns were divided by a function of that file alone)
    private static PrivacyManifest WithPublicState(PrivacyManifest statement, PublicStateManifest? publicState, StateScaleManifest? stateScale) => publicState is null
        ? statement
        : statement with
        {
            PublicState = publicState,
            Statement = statement.Statement + string.Create(CultureInfo.InvariantCulture,
                $"; conditioned on a public economic state ({publicState.File ?? "state"}, SHA-256 {publicState.Sha256 ?? "not recorded"}): the conditions' standardisation, reference state and archetypes are statistics of that file alone")
                + (stateScale is null ? "" : string.Create(CultureInfo.InvariantCulture,
                    $"; each window's returns were divided by its state's {stateScale.Feature} / {stateScale.Reference:G6} (state_scale, the mean over that file's statistics rows) before clipping: a fixed function of public data"))
        };

    // the network computes in float32: a finite training return the map leaves beyond its range (1e39 with the default
    // "transform": "none", or a standard deviation that overflows under "standardize") would become ±∞ or flatten every
    // window to 0, and failed in the schedule's fit as an internal error; it is bad input, named by series and row
    private static void RequireFloatRange(TrainingData x0, double[] offset, double[] scale, TimeSeriesFrame trainReturns, int w)
    {
        int d = trainReturns.ColumnCount, i = -1, t0 = 0;
        for (int c = 0; c < d && i < 0; c++)
        {
            if (!double.IsFinite(offset[c]) || !double.IsFinite(scale[c])) i = c;
        }

        // else the first non-finite value in window order: window b, value j (series j / W, day b + j % W)
        var window = new float[x0.RowSize];
        for (int b = 0; b < x0.Rows && i < 0; b++)
        {
            x0.CopyRow(b, window);
            for (int j = 0; j < window.Length && i < 0; j++)
            {
                if (!float.IsFinite(window[j])) (i, t0) = (j / w, b + (j % w));
            }
        }

        if (i < 0) return;
        var (largest, row) = ModelSpaceRange.Largest(trainReturns, i);
        throw new InvalidInputException(ModelSpaceRange.Rule, string.Create(CultureInfo.InvariantCulture,
            $"series '{trainReturns.Columns[i]}': its training returns (largest {largest:G6}, row {row}) leave the float32 range (±3.4E+38) the network computes in once mapped to model space (offset {offset[i]:G6}, scale {scale[i]:G6}, first at row {t0}): check the input kind and units"));
    }

    // a series that varies (constant-series passed) but is one value once cast to float32 in model space (returns of
    // about 1e-300 at scale 1 all flush to 0): the network would see a constant series and sample noise at its own scale
    private static void RequireVaryingInFloat32(float[] series, int d, double[] offset, double[] scale, TimeSeriesFrame trainReturns)
    {
        for (int i = 0; i < d; i++)
        {
            // a map or value beyond float32 is RequireFloatRange's to name
            if (!double.IsFinite(offset[i]) || !double.IsFinite(scale[i]) || !float.IsFinite(series[i])) continue;
            bool same = true;
            for (int e = i + d; e < series.Length && same; e += d) same = series[e] == series[i];
            if (!same) continue;
            var (largest, row) = ModelSpaceRange.Largest(trainReturns, i);
            throw new InvalidInputException(ModelSpaceRange.Rule, string.Create(CultureInfo.InvariantCulture,
                $"series '{trainReturns.Columns[i]}': its training returns (largest {largest:G6}, row {row}) vary, but are all one value in float32 ({series[i]:G6}), the precision the network computes in, once mapped to model space (offset {offset[i]:G6}, scale {scale[i]:G6}): check the input kind and units"));
        }
    }

    /// <summary>The number of quantiles of the scale feature a state-scaled model records (<see cref="StateScaleManifest.Levels"/>).</summary>
    public const int StateScaleLevels = 200;

    /// <summary>The rule of the public-state volatility scaling's refusals (<see cref="SequenceGeneratorOptions.StateScale"/>).</summary>
    public const string StateScaleRule = "state-scale";

    /// <summary>
    /// The refusal of <see cref="SequenceGeneratorOptions.StateScale"/> <paramref name="feature"/> when the condition
    /// features <paramref name="features"/> (null: no state) leave it out, in the library's words and each shell's
    /// (<see cref="SequenceOptionException.Worded"/>); null when they have it. The one check of <see cref="Fit"/> (its
    /// conditions) and of <see cref="SequenceTraining.Train"/>, which makes it before the state is read, at
    /// <paramref name="location"/>.
    /// </summary>
    internal static SequenceOptionException? StateScaleFeatureRefusal(string feature, IReadOnlyList<string>? features, InputLocation? location)
    {
        // the option as a shell names it; the library's own key without one
        static string Key(SequenceOptionNames? n) => n?.Name(SequenceOption.StateScale) ?? "state_scale";
        Func<SequenceOptionNames?, string>? refusal = features is null
            ? n => $"{Key(n)} {feature} scales each window by its state's {feature}, but no state was given ({(n is null ? "a state file" : n.Name(SequenceOption.State))})"
            : !features.Contains(feature, StringComparer.Ordinal)
                ? n => $"{Key(n)} {feature} is not among the condition features ({string.Join(", ", features)}): add it to "
                    + (n is null ? "the state columns" : n.Name(SequenceOption.StateColumns))
                : null;
        return refusal is null ? null : new SequenceOptionException(StateScaleRule, refusal(null), n => refusal(n), location);
    }

    // Philox stream of the levels drawn for requests that do not set the scale feature (far from the sampler's chunk streams)
    private const ulong StateScaleStream = 0x5CA1_E000_0000_0001;

    // the rows of a dated frame dated from start to end (the frame itself when it has no others)
    private static TimeSeriesFrame WithinPeriod(TimeSeriesFrame frame, DateOnly start, DateOnly end)
    {
        int first = frame.IndexAtOrBefore(start.AddDays(-1)) + 1, last = frame.IndexAtOrBefore(end);
        return first == 0 && last == frame.RowCount - 1 ? frame : frame.Slice(first, Math.Max(first, last + 1));
    }

    // the state scaling: v̄ and the levels from the conditions' statistics rows (those of the standardisation: the public
    // state's rows with every feature known, or else the training windows' conditions with every feature known), and
    // each window's s_b = v_b / v̄ (1 where the window's state lacks the feature)
    private static (StateScaleManifest Manifest, double[] WindowScales) StateScaleOf(
        string feature, TimeSeriesFrame trainReturns, TimeSeriesFrame? conditions, TimeSeriesFrame? publicConditions, int count)
    {
        if (conditions is null) throw StateScaleFeatureRefusal(feature, null, null)!; // (always one without conditions)
        if (StateScaleFeatureRefusal(feature, conditions.Columns, null) is { } refused) throw refused;
        int j = IndexOfColumn(conditions, feature);

        var statistics = new List<double>();
        if (publicConditions is not null)
        {
            var (values, rowCount, _, _) = KnownRows(publicConditions);
            int k = publicConditions.ColumnCount;
            for (int r = 0; r < rowCount; r++) statistics.Add(values[(r * k) + j]);
        }

        var scales = new double[count];
        var raw = new double[count];
        Array.Fill(raw, double.NaN);
        int scaled = 0;
        for (int b = 0; b < count; b++)
        {
            int r = Array.BinarySearch(conditions.Dates, trainReturns.Dates[b]);
            if (r < 0 || double.IsNaN(conditions[r, j])) continue;
            double v = conditions[r, j];
            if (!(double.IsFinite(v) && v > 0))
            {
                throw new InvalidInputException(StateScaleRule, string.Create(CultureInfo.InvariantCulture,
                    $"state_scale {feature} is {v} on {Iso(conditions.Dates[r])}: a volatility scale must be a finite level > 0"));
            }

            raw[b] = v;
            scaled++;
            bool known = true;
            foreach (double c in conditions.Row(r)) known &= !double.IsNaN(c);
            if (publicConditions is null && known) statistics.Add(v);
        }

        if (statistics.Count == 0 || scaled == 0)
            throw new InvalidInputException(StateScaleRule, $"state_scale {feature}: no training window has a known {feature} on its first day");
        foreach (double v in statistics)
        {
            if (!(double.IsFinite(v) && v > 0))
            {
                throw new InvalidInputException(StateScaleRule, string.Create(CultureInfo.InvariantCulture,
                    $"state_scale {feature} has the level {v} in the conditions' statistics rows: a volatility scale must be a finite level > 0"));
            }
        }

        double reference = statistics.Sum() / statistics.Count;
        for (int b = 0; b < count; b++) scales[b] = double.IsNaN(raw[b]) ? 1 : raw[b] / reference;
        var sorted = statistics.ToArray();
        Array.Sort(sorted);
        var levels = new double[StateScaleLevels];
        for (int q = 0; q < levels.Length; q++) levels[q] = sorted[Math.Min(sorted.Length - 1, (int)((q + 0.5) * sorted.Length / levels.Length))];
        return (new StateScaleManifest { Feature = conditions.Columns[j], Reference = reference, Levels = levels, ScaledWindows = scaled }, scales);
    }

    private static int IndexOfColumn(TimeSeriesFrame frame, string name)
    {
        for (int c = 0; c < frame.ColumnCount; c++)
        {
            if (string.Equals(frame.Columns[c], name, StringComparison.Ordinal)) return c;
        }

        return -1;
    }

    /// <summary>
    /// The factor s each of <paramref name="count"/> windows is multiplied by on the way to log returns under the
    /// public-state volatility scaling (<see cref="SequenceGeneratorOptions.StateScale"/>): v / v̄ for every window when
    /// <paramref name="conditions"/> set the scale feature to v, or else the s of a level drawn uniformly (Philox, from
    /// <paramref name="seed"/>) from <see cref="StateScaleManifest.Levels"/> for each window; null for a model without it.
    /// </summary>
    /// <exception cref="InvalidInputException">A requested level that is not finite and &gt; 0 (rule <see cref="StateScaleRule"/>), or
    /// more windows than one draw holds (rule <c>count</c>, <see cref="DiffusionSampler.CheckSampleValues"/>).</exception>
    public double[]? WindowScales(int count, ulong seed, IReadOnlyDictionary<string, double>? conditions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (Manifest.StateScale is not { } ss) return null;
        // the sampler's limit on one draw, checked before count scales are allocated and drawn (2^31 − 1 ran out of memory)
        int size = Columns.Count * Window;
        DiffusionSampler.CheckSampleValues(count, size, string.Create(CultureInfo.InvariantCulture, $"{size} values"));
        var scales = new double[count];
        if (ConstantScale(conditions) is { } constant)
        {
            Array.Fill(scales, constant);
            return scales;
        }

        var rng = new Philox(seed, stream: StateScaleStream);
        for (int b = 0; b < count; b++) scales[b] = ss.Levels[rng.NextInt(ss.Levels.Count)] / ss.Reference;
        return scales;
    }

    // s = v / v̄ when the conditions set the scale feature to v; null when they do not (or the model has no state scaling)
    private double? ConstantScale(IReadOnlyDictionary<string, double>? conditions)
    {
        if (Manifest.StateScale is not { } ss || conditions is null) return null;
        foreach (var (name, value) in conditions)
        {
            if (!string.Equals(name, ss.Feature, StringComparison.OrdinalIgnoreCase)) continue;
            if (!(double.IsFinite(value) && value > 0))
            {
                throw new InvalidInputException(StateScaleRule, string.Create(CultureInfo.InvariantCulture,
                    $"condition {ss.Feature} = {value}: the model scales its windows by {ss.Feature} / {ss.Reference:G6}, so the level must be finite and > 0"));
            }

            return value / ss.Reference;
        }

        return null;
    }

    // the rows of a feature frame with every feature known: their values (rows × K), how many, and the index of the last one in the frame
    private static (double[] Values, int Rows, int First, int Last) KnownRows(TimeSeriesFrame features)
    {
        var values = new List<double>();
        int rows = 0, first = -1, last = -1;
        for (int r = 0; r < features.RowCount; r++)
        {
            var row = features.Row(r);
            bool known = true;
            foreach (double v in row) known &= double.IsFinite(v);
            if (!known) continue;
            foreach (double v in row) values.Add(v);
            rows++;
            if (first < 0) first = r;
            last = r;
        }

        return ([.. values], rows, first, last);
    }

    /// <summary>
    /// The farthest a requested condition may lie from its training mean, in training standard deviations: beyond it the
    /// network is evaluated far outside anything it was trained on and its output overflows.
    /// </summary>
    public const double MaxConditionStandardDeviations = 1000;

    /// <summary>
    /// The standardised condition vector of a request: K values in the network's feature order, NaN where the request
    /// does not name the feature.
    /// </summary>
    /// <exception cref="InvalidInputException">A name the model does not know or a feature named twice (names that differ
    /// only in case), a non-finite value, a value more than
    /// <see cref="MaxConditionStandardDeviations"/> training standard deviations from the mean, or conditions for an
    /// unconditional model.</exception>
    public float[] StandardizedCondition(IReadOnlyDictionary<string, double>? conditions)
    {
        var space = Manifest.Conditions;
        var z = new float[space.Names.Count];
        Array.Fill(z, float.NaN);
        if (conditions is null) return z;
        foreach (var (name, value) in conditions)
        {
            int j = -1;
            for (int i = 0; i < space.Names.Count; i++)
            {
                if (string.Equals(space.Names[i], name, StringComparison.OrdinalIgnoreCase)) j = i;
            }

            if (j < 0)
            {
                throw new InvalidInputException("condition-name", space.Names.Count == 0
                    ? $"the model is unconditional; it cannot be conditioned on '{name}'"
                    : $"the model has no condition '{name}' (it has {string.Join(", ", space.Names)})");
            }

            // names ignore case, so {"VIXCLS": 30, "vixcls": 20} names one feature twice: refused, not the last one silently
            if (!float.IsNaN(z[j]))
                throw new InvalidInputException("condition-name", $"condition {space.Names[j]} is given twice (names ignore case): give it once");
            if (!double.IsFinite(value)) throw new InvalidInputException("condition-value", $"condition {name} = {value} is not finite");
            double standardized = (value - space.Mean[j]) / space.Std[j];
            // far beyond the training range the network's output overflows (a 500 in the service, non-finite scenarios)
            if (!(Math.Abs(standardized) <= MaxConditionStandardDeviations))
            {
                throw new InvalidInputException("condition-value", string.Create(CultureInfo.InvariantCulture,
                    $"condition {space.Names[j]} = {value} is {standardized:G3} training standard deviations from its training mean {space.Mean[j]:G6}; at most {MaxConditionStandardDeviations} are allowed"));
            }

            z[j] = (float)standardized;
        }

        return z;
    }

    /// <summary>
    /// The conditions of <paramref name="conditions"/> (raw values by feature name, as a request resolves them: its own,
    /// its stress specification's and its archetypes') that lie outside the model's training range
    /// (<see cref="ConditionManifest.Min"/> .. <see cref="ConditionManifest.Max"/>), one warning each, in the model's
    /// feature order; none for a manifest that does not record the range (a model trained before it was recorded).
    /// </summary>
    public IReadOnlyList<ConditionRangeWarning> ConditionWarnings(IReadOnlyDictionary<string, double>? conditions)
    {
        var space = Manifest.Conditions;
        if (conditions is null || space.Min is not { } min || space.Max is not { } max) return [];
        var warnings = new List<ConditionRangeWarning>();
        for (int j = 0; j < space.Names.Count; j++)
        {
            foreach (var (name, value) in conditions)
            {
                if (!string.Equals(space.Names[j], name, StringComparison.OrdinalIgnoreCase)) continue;
                if (value > max[j]) warnings.Add(new(space.Names[j], value, min[j], max[j], (value - max[j]) / space.Std[j]));
                else if (value < min[j]) warnings.Add(new(space.Names[j], value, min[j], max[j], (min[j] - value) / space.Std[j]));
            }
        }

        return warnings;
    }

    /// <summary>
    /// Draws <paramref name="count"/> windows in model space, count × D × W (window b, series i, day t at
    /// ((b·D) + i)·W + t), under classifier-free guidance toward the request's conditions.
    /// </summary>
    public float[] SampleModelSpace(int count, ulong seed, SequenceSampleRequest? request = null)
    {
        request ??= new SequenceSampleRequest();
        var (conditions, sampler, _) = Effective(request);
        return SampleResolved(count, seed, GuidanceOf(request), GuidanceMinNoiseOf(request), request.RegimeGuidance, conditions, sampler).Windows;
    }

    /// <summary>a a request samples with: its own, or else the model's default (<see cref="SequenceGeneratorOptions.RegimeGuidance"/>).</summary>
    public double RegimeGuidanceOf(SequenceSampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.RegimeGuidance ?? Manifest.Config.RegimeGuidance;
    }

    /// <summary>
    /// ℓ, the mean log scale (<see cref="RegimeGuidance.MeanLogScale"/>) of the regime guidance's fixed pilot draw under
    /// <paramref name="conditions"/> (null: the unconditional model) at guidance w and σ_g.
    /// </summary>
    public double PilotLogScale(IReadOnlyDictionary<string, double>? conditions, double guidanceScale, double guidanceMinNoise, CancellationToken cancellation = default) =>
        PilotLogScaleOf(StandardizedCondition(conditions), guidanceScale, guidanceMinNoise, cancellation);

    private double PilotLogScaleOf(float[] condition, double guidanceScale, double guidanceMinNoise, CancellationToken cancellation)
    {
        if (_denoiser is null || _schedule is null) throw NotFitted();
        bool conditional = condition.Any(v => !float.IsNaN(v));
        if (!conditional) (guidanceScale, guidanceMinNoise) = (1, 0);       // any w gives the unconditional model then
        string key = string.Join(",", condition.Select(v => BitConverter.SingleToInt32Bits(v).ToString(CultureInfo.InvariantCulture)))
            + string.Create(CultureInfo.InvariantCulture, $"|{BitConverter.DoubleToInt64Bits(guidanceScale)}|{BitConverter.DoubleToInt64Bits(guidanceMinNoise)}");
        if (_pilotLogScales.TryGetValue(key, out double cached)) return cached;
        var guided = new ClassifierFreeGuidance(_denoiser, condition, guidanceScale, _schedule.Base.FirstStepWithNoiseLevel(guidanceMinNoise));
        var pilot = DiffusionSampler.Sample(guided, _schedule, Options.Objective, RegimeGuidance.PilotWindows, RegimeGuidance.PilotSeedOffset + Manifest.Seed,
            new SamplerOptions(SamplerKind.Ddim, Math.Min(RegimeGuidance.PilotSteps, _schedule.Steps), MaxDegreeOfParallelism: EngineThreads.MaxDegreeOfParallelism, Cancellation: cancellation));
        double l = RegimeGuidance.MeanLogScale(pilot, RegimeGuidance.PilotWindows, Manifest.Config.Window, _schedule.NoiseScale);
        if (_pilotLogScales.Count >= MaxCachedPilots) _pilotLogScales.Clear();     // bounded: a service meets many conditions
        _pilotLogScales.TryAdd(key, l);
        return l;
    }

    /// <summary>
    /// k, the factor regime guidance of strength <paramref name="strength"/> scales the windows of a request by:
    /// exp(a · (ℓ_c − ℓ_∅)) (<see cref="RegimeGuidance"/>); 1 when a = 0 or the request is unconditional.
    /// </summary>
    public double RegimeFactor(IReadOnlyDictionary<string, double>? conditions, double guidanceScale, double guidanceMinNoise, double strength, CancellationToken cancellation = default) =>
        RegimeFactor(StandardizedCondition(conditions), guidanceScale, guidanceMinNoise, strength, cancellation);

    private double RegimeFactor(float[] condition, double guidanceScale, double guidanceMinNoise, double strength, CancellationToken cancellation)
    {
        if (strength == 0 || guidanceScale == 0 || condition.All(float.IsNaN)) return 1;
        double conditional = PilotLogScaleOf(condition, guidanceScale, guidanceMinNoise, cancellation);
        return RegimeGuidance.Factor(strength, conditional, UnconditionalLogScale(condition.Length, cancellation));
    }

    // ℓ_∅: the pilot draw's log RMS with every condition absent (NaN), unguided (cached by PilotLogScaleOf)
    private double UnconditionalLogScale(int features, CancellationToken cancellation) =>
        PilotLogScaleOf(Enumerable.Repeat(float.NaN, features).ToArray(), 1, 0, cancellation);

    // the windows' typical magnitude in model space under these conditions: e^ℓ_c (their RMS over the pilot draw, in noise
    // scales) times the largest series noise scale (ℓ_c cached by RegimeFactor)
    private double WindowScale(float[] condition, double guidanceScale, double guidanceMinNoise) =>
        Math.Exp(PilotLogScaleOf(condition, guidanceScale, guidanceMinNoise, CancellationToken.None)) * _schedule!.NoiseScale.Max();

    // a k that is finite and > 0 but so small that the windows times k round to 0 in float (k·scale below float's smallest
    // value, about 1.4e−45): a scenario set of zeros, refused as the underflow of k itself is (k ≥ 1 never is; k < 1 has
    // its ℓ_c cached)
    private bool RoundsWindowsToZero(float[] condition, double guidanceScale, double guidanceMinNoise, double factor) =>
        factor < 1 && factor * WindowScale(condition, guidanceScale, guidanceMinNoise) < float.Epsilon;

    // OPT-E: k = exp(a·(ℓ_c − ℓ_∅)) that underflows to 0 (every window 0) or overflows to +∞ (every window not finite),
    // naming the regime guidance a: the request's, or the model's own (its regime_guidance) when the request gives none
    private SequenceOptionException RegimeFactorRefusal(float[] condition, double guidanceScale, double guidanceMinNoise, double strength, bool requested,
        double factor)
    {
        double shift = PilotLogScaleOf(condition, guidanceScale, guidanceMinNoise, CancellationToken.None)
            - UnconditionalLogScale(condition.Length, CancellationToken.None);    // both cached by RegimeFactor
        bool tiny = double.IsFinite(factor) && factor > 0;    // k > 0 that rounds the windows to 0 (RoundsWindowsToZero)
        double scale = tiny ? WindowScale(condition, guidanceScale, guidanceMinNoise) : double.NaN;
        string why = factor == 0 ? "which underflows to 0: every window would be 0"
            : tiny ? string.Create(CultureInfo.InvariantCulture, $"= {factor:G3}, which takes the windows (about {scale:G3} in model space) below the smallest float: every window would be 0")
            : double.IsPositiveInfinity(factor) ? "which overflows: every window would be infinite" : "which is not a number";
        string at = string.Create(CultureInfo.InvariantCulture, $"{strength:G6} scales every window of these conditions by k = exp(a·(ℓ_c − ℓ_∅)) = exp({strength:G6} × {shift:G6}), {why}");
        // 700 / |ℓ_c − ℓ_∅| keeps |a·(ℓ_c − ℓ_∅)| within exp's range (about −745 to 709) however it rounds to 3 digits; for
        // windows rounded to 0, ln(scale / ε_float) / |ℓ_c − ℓ_∅| is the a that takes k·scale to float's smallest value, and
        // 0.9 of it keeps k·scale well above it (at about ε_float^0.9 · scale^0.1)
        double most = tiny ? 0.9 * Math.Log(scale / float.Epsilon) / Math.Abs(shift) : 700 / Math.Abs(shift);
        string bound = shift == 0 || !double.IsFinite(shift) || !(most > 0) ? "" : string.Create(CultureInfo.InvariantCulture, $" (at most about {most:G3} here)");
        string Refusal(string option) => requested
            ? $"{option} {at}; give a smaller {option}{bound}"
            : $"the model's regime_guidance (its manifest's config) {at}; give a smaller {option}{bound}";
        return new SequenceOptionException("OPT-E", Refusal("regime_guidance"), n => Refusal(n.Name(SequenceOption.RegimeGuidance)), option: SequenceOption.RegimeGuidance);
    }

    /// <summary>
    /// Draws <paramref name="count"/> windows of log returns in original units: a frame of count × W rows (row b·W + t
    /// is day t + 1 of scenario b + 1) and one column per series. The same seed and request give the same values on
    /// any number of threads. Several threads may sample one fitted model at once (not while it is being fitted or loaded).
    /// </summary>
    public TimeSeriesFrame Sample(int count, ulong seed, SequenceSampleRequest? request = null)
    {
        request ??= new SequenceSampleRequest();
        var (conditions, sampler, _) = Effective(request);
        var scales = WindowScales(count, seed, conditions);
        var (z, _) = SampleResolved(count, seed, GuidanceOf(request), GuidanceMinNoiseOf(request), request.RegimeGuidance, conditions, sampler);
        return ToReturns(z, count, scales);
    }

    // the sampler run of a resolved request: model-space windows count × D × W, scaled by the regime factor k (a: the
    // request's, null for the model's own)
    private (float[] Windows, double RegimeFactor) SampleResolved(int count, ulong seed, double guidanceScale, double guidanceMinNoise, double? requestedRegime,
        IReadOnlyDictionary<string, double>? conditions, SamplerOptions sampler)
    {
        if (_denoiser is null || _schedule is null) throw NotFitted();
        double regime = requestedRegime ?? Manifest.Config.RegimeGuidance;
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (sampler.MaxDegreeOfParallelism == -1) sampler = sampler with { MaxDegreeOfParallelism = EngineThreads.MaxDegreeOfParallelism };
        if (!(double.IsFinite(guidanceScale) && guidanceScale >= 0))
            throw new InvalidInputException("guidance", $"the guidance scale {guidanceScale} must be finite and ≥ 0");
        if (!(double.IsFinite(guidanceMinNoise) && guidanceMinNoise >= 0))
            throw new InvalidInputException("guidance-min-noise", $"the guidance's minimum noise level {guidanceMinNoise} must be finite and ≥ 0");
        if (!(double.IsFinite(regime) && regime >= 0))
            throw new InvalidInputException("regime-guidance", $"the regime guidance {regime} must be finite and ≥ 0");
        var condition = StandardizedCondition(conditions);
        // k before the draw (it depends on the pilot draws only): a k that is 0 or not finite is refused before any sampling
        double factor = RegimeFactor(condition, guidanceScale, guidanceMinNoise, regime, sampler.Cancellation);
        if (!(double.IsFinite(factor) && factor > 0) || RoundsWindowsToZero(condition, guidanceScale, guidanceMinNoise, factor))
            throw RegimeFactorRefusal(condition, guidanceScale, guidanceMinNoise, regime, requestedRegime is not null, factor);
        var guided = new ClassifierFreeGuidance(_denoiser, condition, guidanceScale, _schedule.Base.FirstStepWithNoiseLevel(guidanceMinNoise));
        var windows = DiffusionSampler.Sample(guided, _schedule, Options.Objective, count, seed, sampler);
        if (factor != 1) RegimeGuidance.Apply(windows, factor);
        foreach (float v in windows)
        {
            // a guard (the conditions are bounded by MaxConditionStandardDeviations): never hand out non-finite scenarios
            if (float.IsFinite(v)) continue;
            if (condition.All(float.IsNaN)) throw new InvalidOperationException("the sampler produced non-finite windows for an unconditional request");
            throw new InvalidInputException("condition-value",
                "the windows under these conditions and this guidance are not finite; condition on values nearer the training states or lower the guidance");
        }

        return (windows, factor);
    }

    // model-space windows (b, i, t) → log returns r = s_b · (offset_i + scale_i · x) as a frame of rows (b·W + t, i),
    // s_b the state scaling's factor of window b (1 without one)
    private TimeSeriesFrame ToReturns(float[] z, int count, double[]? scales)
    {
        var m = Manifest;
        int d = m.Columns.Count, w = m.Config.Window;
        var values = new double[z.Length];
        for (int b = 0; b < count; b++)
        {
            double sb = scales?[b] ?? 1;
            for (int i = 0; i < d; i++)
            {
                double off = m.Affine.Offset[i], sc = m.Affine.Scale[i];
                for (int t = 0; t < w; t++) values[(((b * w) + t) * d) + i] = sb * (off + (sc * z[(((b * d) + i) * w) + t]));
            }
        }

        return new TimeSeriesFrame([], m.Columns, values, count * w);
    }

    /// <summary><see cref="Sample"/> with the metadata of ARCHITECTURE.md's scenario files (CSV hash and time are added on writing).</summary>
    public ScenarioSet Generate(int count, ulong seed, SequenceSampleRequest? request = null)
    {
        request ??= new SequenceSampleRequest();
        var (conditions, sampler, plan) = Effective(request);
        double minNoise = GuidanceMinNoiseOf(request);
        double regime = RegimeGuidanceOf(request);
        var scales = WindowScales(count, seed, conditions);
        var (z, factor) = SampleResolved(count, seed, GuidanceOf(request), minNoise, request.RegimeGuidance, conditions, sampler);
        var values = ToReturns(z, count, scales);
        var m = Manifest;
        double? violation = null;
        if (plan is { Constraints.Count: > 0 })
        {
            // the constraints are on (D, W) windows of log returns: the model-space windows' layout, mapped to returns
            int d = m.Columns.Count, w = m.Config.Window;
            var windows = new float[z.Length];
            for (int k = 0; k < z.Length; k++)
            {
                int i = (k / w) % d;
                windows[k] = (float)((scales?[k / (d * w)] ?? 1) * (m.Affine.Offset[i] + (m.Affine.Scale[i] * z[k])));
            }

            violation = plan.Constraints.ViolationRate(windows, count, 1e-6);
        }

        var canonical = Canonical(conditions);
        var warnings = ConditionWarnings(canonical);
        // guidance acts through a condition: a request that names none (or a model without condition inputs) draws the
        // unconditional model, and its metadata records no guidance (null), whatever the model's defaults say
        bool guided = m.Conditions.Names.Count > 0 && canonical.Count > 0;
        return new ScenarioSet(values, new ScenarioMetadata
        {
            ModelId = m.Weights.Sha256,
            ModelVersion = $"{m.Format} ({m.LibraryVersion})",
            LibraryVersion = DiffusionGenerator.LibraryVersion,
            Kind = ModelKind.Sequence,
            Seed = seed,
            Sampler = sampler.Kind.WireName(),
            SamplingSteps = sampler.Kind == SamplerKind.Ddpm ? Schedule.Steps : sampler.Steps,
            Eta = sampler.Kind == SamplerKind.Ddim ? sampler.Eta : 0,
            TimestepSpacing = sampler.Kind == SamplerKind.Ddpm ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(sampler.Spacing.ToString()),
            Guidance = guided ? GuidanceOf(request) : null,
            GuidanceMinNoise = !guided || minNoise == 0 ? null : minNoise,
            RegimeGuidance = !guided || regime == 0 ? null : regime,
            RegimeFactor = !guided || regime == 0 ? null : factor,
            Conditions = canonical,
            ConditionWarnings = warnings.Count > 0 ? warnings : null,
            Stress = request.Stress,
            Constraints = plan is { Constraints.Count: > 0 } ? ConstraintLabels(plan.Constraints) : null,
            ConstraintViolationRate = violation,
            InputDataSha256 = m.Data.InputSha256,
            TrainMatrixSha256 = m.Data.TrainMatrixSha256,
            Privacy = m.Privacy,
            StepsPerScenario = m.Config.Window,
        });
    }

    // the constraints' labels for the metadata: all of them up to 40, else the first 40 and a count of the rest
    private static string[] ConstraintLabels(Steering.LinearConstraintSet constraints)
    {
        const int Shown = 40;
        var labels = constraints.Inequalities.Select(q => q.Label);
        return constraints.Count <= Shown
            ? [.. labels]
            : [.. labels.Take(Shown), string.Create(CultureInfo.InvariantCulture, $"… and {constraints.Count - Shown} more")];
    }

    /// <summary>The bytes of <c>weights.safetensors</c>: the network's state dict, F32.</summary>
    public byte[] WeightsBytes() => Network.SerializeSafeTensors();

    /// <summary>The bytes of <c>manifest.json</c>.</summary>
    public byte[] ManifestBytes() => DiffusionJson.FileBytes(Manifest);

    /// <summary>Writes the model folder (<c>weights.safetensors</c>, <c>manifest.json</c>) atomically, as <see cref="DiffusionGenerator.Save"/>.</summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ModelFolder.WriteAtomically(folder, [(DiffusionGenerator.WeightsFileName, WeightsBytes()), (DiffusionGenerator.ManifestFileName, ManifestBytes())]);
    }

    /// <summary>The <c>kind</c> of the model in <paramref name="folder"/>, read from its manifest without loading it.</summary>
    /// <exception cref="InvalidInputException">No readable manifest, one without a kind (<c>model-manifest</c>), or one of a kind no generator has (<c>model-kind</c>).</exception>
    public static ModelKind ReadKind(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string path = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        if (!File.Exists(path)) throw new InvalidInputException("model-missing", $"no {DiffusionGenerator.ManifestFileName} in the model folder", new InputLocation(path, 0, 0));
        ModelFolder.CheckSizes(path, Path.Combine(folder, DiffusionGenerator.WeightsFileName)); // before reading either
        try
        {
            string kind = DiffusionGenerator.ManifestKind(File.ReadAllText(path))
                ?? throw new InvalidInputException("model-manifest", "the manifest has no kind", new InputLocation(path, 0, 0));
            return ModelKinds.FromWireName(kind)
                ?? throw new InvalidInputException("model-kind", $"model kind '{kind}' is not {ModelKinds.Choices}", new InputLocation(path, 0, 0));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("model-manifest", $"invalid manifest: {e.Message}", new InputLocation(path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }
    }

    // A model saved before condition noise and the default guidance existed has neither key in its config: it was trained
    // without noise and sampled at w = 1 when a request gave no guidance, and it must keep drawing the same bytes.
    private static SequenceGeneratorOptions WithPreDefaultSettings(SequenceGeneratorOptions config, string manifestJson)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(manifestJson)?["config"] as System.Text.Json.Nodes.JsonObject;
        if (node is null) return config;
        if (!node.ContainsKey("guidance_scale")) config = config with { GuidanceScale = 1.0 };
        if (!node.ContainsKey("condition_noise")) config = config with { ConditionNoise = 0.0 };
        return config;
    }

    /// <summary>Loads a model folder written by <see cref="Save"/>; checks the weights against the manifest's hash.</summary>
    /// <exception cref="InvalidInputException">A missing or malformed file, another kind, or weights that do not match the manifest.</exception>
    public static SequenceGenerator Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string manifestPath = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        string weightsPath = Path.Combine(folder, DiffusionGenerator.WeightsFileName);
        var kind = ReadKind(folder);
        if (kind != ModelKind.Sequence) throw new InvalidInputException("model-kind", $"model kind '{kind.WireName()}' is not {ModelKind.Sequence.WireName()}", new InputLocation(manifestPath, 0, 0));
        if (!File.Exists(weightsPath)) throw new InvalidInputException("model-missing", $"no {DiffusionGenerator.WeightsFileName} in the model folder", new InputLocation(weightsPath, 0, 0));
        SequenceManifest manifest;
        string manifestText;
        try
        {
            manifestText = File.ReadAllText(manifestPath);
            manifest = JsonSerializer.Deserialize<SequenceManifest>(manifestText, DiffusionJson.Options)
                ?? throw new InvalidInputException("model-manifest", "empty manifest", new InputLocation(manifestPath, 0, 0));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("model-manifest", $"invalid manifest: {e.Message}", new InputLocation(manifestPath, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        if (manifest.Format != ModelManifest.CurrentFormat)
            throw new InvalidInputException("model-format", $"model format '{manifest.Format}' is not {ModelManifest.CurrentFormat}", new InputLocation(manifestPath, 0, 0));
        if (manifest.Config is null) throw new InvalidInputException("model-invalid", "the manifest has no config", new InputLocation(folder, 0, 0));
        manifest = manifest with { Config = WithPreDefaultSettings(manifest.Config, manifestText) };
        byte[] weights = File.ReadAllBytes(weightsPath);
        string hash = Convert.ToHexStringLower(SHA256.HashData(weights));
        if (hash != manifest.Weights?.Sha256)
            throw new InvalidInputException("model-integrity", $"weights SHA-256 {hash} differs from the manifest's {manifest.Weights?.Sha256}", new InputLocation(weightsPath, 0, 0));

        try
        {
            manifest.Config.Validate();
            var generator = new SequenceGenerator(manifest.Config);
            int d = manifest.Columns.Count, k = manifest.Conditions.Names.Count;
            if (manifest.Affine.Offset.Count != d || manifest.Affine.Scale.Count != d || manifest.Conditions.Mean.Count != k || manifest.Conditions.Std.Count != k)
                throw new InvalidDataException("the manifest's affine map or condition space does not have one entry per series or feature");
            if (manifest.Data is null || manifest.Conditions.Reference is null)
                throw new InvalidDataException("the manifest has no data section or no conditions.reference");
            if ((manifest.Conditions.Min is { } min && min.Count != k) || (manifest.Conditions.Max is { } max && max.Count != k))
                throw new InvalidDataException("the manifest's condition range (conditions.min, conditions.max) does not have one entry per feature");
            // numbers a fit never writes: each loaded, and the scenarios came out constant, mirrored or infinite, or a request crashed
            static bool Positive(double v) => double.IsFinite(v) && v > 0;
            if (!manifest.Affine.Offset.All(double.IsFinite) || !manifest.Affine.Scale.All(Positive))
                throw new InvalidDataException("the manifest's affine map needs finite offsets and scales that are finite and > 0 (affine.offset, affine.scale)");
            if (!manifest.Conditions.Mean.All(double.IsFinite) || !manifest.Conditions.Std.All(Positive))
                throw new InvalidDataException("the manifest's condition space needs finite means and standard deviations that are finite and > 0 (conditions.mean, conditions.std)");
            if (manifest.StateScale is { } ss)
            {
                if (!manifest.Conditions.Names.Contains(ss.Feature, StringComparer.Ordinal))
                    throw new InvalidDataException($"the manifest's state scaling names {ss.Feature}, which is not a condition feature (state_scale.feature)");
                if (!Positive(ss.Reference) || ss.Levels.Count == 0 || !ss.Levels.All(Positive))
                    throw new InvalidDataException("the manifest's state scaling needs a reference (state_scale.reference) and at least one level (state_scale.levels), each finite and > 0");
            }
            var baseSchedule = NoiseSchedule.Create(manifest.Schedule.Kind, manifest.Schedule.DiffusionSteps);
            var schedule = manifest.Schedule.VolatilityAdaptive
                ? VolatilityAdaptiveSchedule.FromVolatility(baseSchedule, manifest.Schedule.NoiseScale)
                : VolatilityAdaptiveSchedule.Isotropic(baseSchedule, d);
            if (schedule.Series != d) throw new InvalidDataException("the manifest's schedule does not have one noise scale per series");
            var network = new ConditionalTcnDenoiser(NetworkConfig(manifest.Config, d, k), new Philox(manifest.Config.Seed, stream: 0));
            network.LoadSafeTensors(SafeTensors.Load(weights, weightsPath), strict: true);
            generator._denoiser = new ConditionalTcnDenoiserAdapter(network, schedule.Steps);
            generator._schedule = schedule;
            generator._manifest = manifest;
            return generator;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or KeyNotFoundException or NullReferenceException)
        {
            // a part set to null ("columns": null) reads as null here
            string message = e is NullReferenceException ? "the manifest lacks a part the model needs (a part set to null)" : e.Message;
            throw new InvalidInputException("model-invalid", message, new InputLocation(folder, 0, 0));
        }
    }

    private static ConditionalTcnDenoiserConfig NetworkConfig(SequenceGeneratorOptions o, int series, int features) =>
        new(series, o.Window, features, o.Hidden, o.Layers, o.Heads, o.AttentionEvery, o.TimeEmbedding);

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static InvalidOperationException NotFitted() => new("the generator is not fitted: call Fit or Load first");
}
