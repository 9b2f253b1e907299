using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// An economic-state file as <c>crucible train --state FILE</c> reads it: the series by date with their values as they
/// are (<see cref="InputKind.LogReturns"/>: no conversion), the path (named in the location of a state error) and its
/// provenance for the manifest's <c>state_data</c> (with how its missing values were read, when not the default).
/// </summary>
/// <param name="Frame">The state series by date.</param>
/// <param name="Path">The file.</param>
/// <param name="Provenance">Its name and SHA-256.</param>
public sealed record SequenceState(TimeSeriesFrame Frame, string Path, DataProvenance Provenance)
{
    /// <summary>How the file's missing values were read.</summary>
    public StateMissingValues Missing { get; init; } = StateMissingValues.Default;

    /// <summary>
    /// What a state file's values are, as the model manifest's <c>state_data.input_kind</c> records it: levels (rates,
    /// spreads, VIX, read as they are), not one of the return kinds of <see cref="InputKind"/>.
    /// </summary>
    public const string InputKindName = "Levels";

    /// <summary>The state file's date format unless one is given (<c>--state-date-format</c>, a training job's <c>state_date_format</c>).</summary>
    public const string DefaultDateFormat = "yyyy-MM-dd";

    /// <summary>The state file's date column unless one is named (<c>--state-date-column</c>): <c>Date</c>, in any case.</summary>
    public const string DefaultDateColumn = "Date";

    /// <summary>
    /// Reads the state file at <paramref name="path"/>, its missing values by <paramref name="missing"/> (default
    /// <see cref="StateMissingValues.Default"/>: every one refused), its dates in the exact .NET format
    /// <paramref name="dateFormat"/> (default <see cref="DefaultDateFormat"/>) from the column whose header is
    /// <paramref name="dateColumn"/> (default <see cref="DefaultDateColumn"/>; case-insensitive, wherever it stands, e.g.
    /// <c>observation_date</c> in a FRED download). The price file's <c>--date-format</c> and <c>--date-column</c> do not
    /// apply to it, as its calendar and source may differ.
    /// </summary>
    /// <exception cref="InvalidInputException">A missing file, an invalid <paramref name="missing"/>, or a CSV error (naming
    /// file, line, column and rule).</exception>
    /// <exception cref="SequenceOptionException">An empty <paramref name="dateFormat"/> or <paramref name="dateColumn"/>
    /// (<c>OPT-E</c>), a missing value the policy refuses (<c>CSV-E-MISSING</c>; a gap past the forward-fill limit, or any
    /// under the default policy) and a date in another format (<c>CSV-E-DATE</c>), saying what to do with the options each
    /// shell names its own way (<see cref="SequenceOptionException.Worded"/>).</exception>
    /// <exception cref="StateDateColumnException">A header without the date column (<c>CSV-E-HEADER</c>).</exception>
    public static SequenceState Load(string path, StateMissingValues? missing = null, string? dateFormat = null, string? dateColumn = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        missing ??= StateMissingValues.Default;
        missing.Validate();
        if (dateFormat is not null && string.IsNullOrWhiteSpace(dateFormat))
        {
            const string Advice = " is empty: give an exact .NET date format such as dd/MM/yyyy, or leave it out for yyyy-MM-dd";
            throw new SequenceOptionException("OPT-E", "the state file's date format" + Advice, n => n.Name(SequenceOption.StateDateFormat) + Advice);
        }

        if (dateColumn is not null && string.IsNullOrWhiteSpace(dateColumn))
        {
            const string Advice = " is empty: give the state file's date column header, or leave it out for Date";
            throw new SequenceOptionException("OPT-E", "the state file's date column" + Advice, n => n.Name(SequenceOption.StateDateColumn) + Advice);
        }

        if (!File.Exists(path)) throw new InvalidInputException("CSV-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        var format = dateFormat ?? DefaultDateFormat;
        var column = dateColumn ?? DefaultDateColumn;
        var (frame, report) = CsvSeriesReader.Read(path, missing.Apply(new CsvReadOptions { Input = InputKind.LogReturns, DateFormat = format, DateColumnName = column }));
        if (report.FirstErrorAsException() is { } e)
        {
            // the state file has its own date column: a header without it would otherwise point at the price file's
            // date column; typed, so that each shell names its own option for it
            var cause = report.Errors[0].Cause;
            if (cause == DataIssueCause.DateColumnMissing) throw new StateDateColumnException(column, e.Message, e.Location);

            // the state file has its own date format: a date in another one (a FRED download re-saved as 01/04/2010) would
            // otherwise point at --date-format, which reads --data only
            if (e.Rule == CsvRules.Date)
            {
                throw new SequenceOptionException(e.Rule,
                    e.Message + $" in the state file: its dates are read as {format} (the state file's own date format; the price file's date format does not apply "
                    + "to it): give the file's format, e.g. MM/dd/yyyy",
                    n => e.Message + $" in the state file: its dates are read as {format} ({n.Name(SequenceOption.StateDateFormat)}; {n.Name(SequenceOption.DateFormat)} "
                        + $"applies to {n.Name(SequenceOption.Data)}, not to the state file): give the file's format with {n.Name(SequenceOption.StateDateFormat)}, "
                        + $"e.g. {n.Given(SequenceOption.StateDateFormat, "MM/dd/yyyy")}",
                    e.Location);
            }

            // the reader's advice (declare Keep or ForwardFill) names the reader's policies: say what the state file takes
            if (e.Rule != CsvRules.Missing) throw e;
            const string AsOf = " (a return date reads the last state row of the 7 days before it)";
            // a gap on the first rows has nothing to fill from: no limit to raise
            if (cause == DataIssueCause.NothingToForwardFill)
                throw new InvalidInputException(e.Rule, e.Message + " in the state file: fill the value, or drop the row" + AsOf, e.Location);
            if (cause == DataIssueCause.ForwardFillLimitExceeded)
            {
                string now = missing.ForwardFillLimit.ToString(CultureInfo.InvariantCulture);
                throw new SequenceOptionException(e.Rule,
                    e.Message + $" in the state file: raise the state file's forward-fill limit (now {now}), fill the value, or drop the row" + AsOf,
                    n => e.Message + $" in the state file: raise {n.Name(SequenceOption.StateFfillLimit)} (now {now}), fill the value, or drop the row" + AsOf,
                    e.Location);
            }

            throw new SequenceOptionException(e.Rule,
                "missing value in the state file (refused by default): forward-fill a series' gaps (at most the forward-fill limit's rows in a row), fill the value, "
                + "or drop the row, as days without a state are left out" + AsOf,
                n => $"missing value in the state file ({n.Given(SequenceOption.StateMissing, "reject")}, the default): forward-fill a series' gaps with "
                    + $"{n.Given(SequenceOption.StateMissing, "ffill")} (at most {n.Name(SequenceOption.StateFfillLimit)} rows in a row), fill the value, or drop the row, "
                    + "as days without a state are left out" + AsOf,
                e.Location);
        }

        long filled = report.Repairs.Where(r => r.Repair == "forward_fill").Sum(r => r.Count);
        // read as they are (no conversion), but they are levels (rates, spreads, VIX), not log returns: the manifest's
        // state_data.input_kind says so
        return new SequenceState(frame, path, DataProvenance.FromFile(path, InputKind.LogReturns) with { Input = SequenceState.InputKindName, Missing = missing.ToManifest(filled) })
        {
            Missing = missing,
        };
    }
}

/// <summary>What <see cref="SequenceTraining.Train"/> gives back.</summary>
/// <param name="Generator">The fitted generator (its manifest holds the calibration when there is one).</param>
/// <param name="Calibration">The guidance calibration, when one was asked for.</param>
/// <param name="FitTime">The time of <see cref="SequenceGenerator.Fit"/> alone (without the calibration's draws).</param>
public sealed record SequenceTrainingResult(SequenceGenerator Generator, GuidanceCalibration? Calibration, TimeSpan FitTime);

/// <summary>
/// The data-to-model part of <c>crucible train --kind sequence</c> and of a <c>sequence</c> training job of the service:
/// condition features from the state (lagged one day), crisis archetypes from the whole state history, the fit, and
/// the optional guidance calibration. The shells read the files and record the run; everything between is here, so
/// the same inputs and seed give the same model through either.
/// </summary>
public static class SequenceTraining
{
    // the state frame's columns a feature reads (TERM: DGS10 and DGS3MO; RV20: none, it comes from the returns), by index
    private static int[] StateColumnsOf(TimeSeriesFrame state, string feature)
    {
        string[] names = feature switch
        {
            "TERM" => ["DGS10", "DGS3MO"],
            _ when EconomicState.IsReturnDerived(feature) => [],
            _ => [feature],
        };
        var columns = names.Select(n => state.Columns.ToList().IndexOf(n)).ToArray();
        return columns.Contains(-1) ? [] : columns;
    }

    // "; in the state file: column 2 (VIXCLS) …, constant over the rows dated …": the condition dates from..to read the
    // state rows of the day before (the lag of EconomicState.Build)
    private static string ConstantStateColumns(TimeSeriesFrame state, int[] columns, DateOnly from, DateOnly to)
    {
        string Date(DateOnly conditionDate) => state.IndexDaysBefore(conditionDate, 1) is var r and >= 0
            ? state.Dates[r].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : "?";
        string named = string.Join(" and ", columns.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c + 2} ({state.Columns[c]})")));
        return $"; in the state file: {(columns.Length == 1 ? "column " + named + " is" : "columns " + named + " give it, and are")} constant over the rows it was read from, dated {Date(from)} .. {Date(to)}";
    }

    /// <summary>The rule of an invalid <see cref="SequenceGeneratorOptions"/> (the config).</summary>
    public const string ConfigRule = "config";

    /// <summary>
    /// The calibration of <c>--calibrate-guidance EPISODE</c> (<c>calibrate_guidance</c> in the service): the rule's
    /// settings on the built-in episode <paramref name="episode"/> (<see cref="CrisisArchetypes.Episodes"/>, matched
    /// ignoring case), or null when no episode has that name.
    /// </summary>
    public static GuidanceCalibrationOptions? CalibrationFor(string episode, GuidanceCalibrationRule? rule = null)
    {
        ArgumentNullException.ThrowIfNull(episode);
        var e = CrisisArchetypes.Episodes.FirstOrDefault(e => string.Equals(e.Name, episode, StringComparison.OrdinalIgnoreCase));
        if (e is null) return null;
        var options = new GuidanceCalibrationOptions { Episode = e };
        return rule is { } r ? options with { Rule = r } : options;
    }

    /// <summary>The names of the calibration rules as the CLI and the service spell them.</summary>
    public static string RuleNames => "regime, smallest-within, closest";

    /// <summary>
    /// The rule named <paramref name="name"/>: <c>smallest-within</c> (<see cref="GuidanceCalibrationRule.SmallestWithinTolerance"/>)
    /// , <c>closest</c> (<see cref="GuidanceCalibrationRule.ClosestToRealised"/>) or <c>regime</c>
    /// (<see cref="GuidanceCalibrationRule.Regime"/>), or null for another name.
    /// </summary>
    public static GuidanceCalibrationRule? RuleOf(string name) => name switch
    {
        "smallest-within" => GuidanceCalibrationRule.SmallestWithinTolerance,
        "closest" => GuidanceCalibrationRule.ClosestToRealised,
        "regime" => GuidanceCalibrationRule.Regime,
        _ => null,
    };

    /// <summary>The name of <paramref name="rule"/> as <see cref="RuleOf"/> reads it.</summary>
    public static string RuleName(GuidanceCalibrationRule rule) => rule switch
    {
        GuidanceCalibrationRule.SmallestWithinTolerance => "smallest-within",
        GuidanceCalibrationRule.ClosestToRealised => "closest",
        GuidanceCalibrationRule.Regime => "regime",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown calibration rule"),
    };

    /// <summary>The names of the episodes <see cref="CalibrationFor"/> knows, comma-separated, for messages.</summary>
    public static string EpisodeNames => string.Join(", ", CrisisArchetypes.Episodes.Select(e => e.Name));

    /// <summary>
    /// Fits a sequence generator on <paramref name="train"/>, conditioned on the state when one is given: the features
    /// are <see cref="EconomicState.Build"/> of the state and the train returns (lagged one day), and the crisis
    /// archetypes are computed from the state over the whole history (<paramref name="all"/>'s returns, for RV20): they
    /// are condition vectors, not training data. With <paramref name="calibration"/> the model's default guidance is
    /// then set by <see cref="SequenceGenerator.CalibrateGuidance"/> on the train returns.
    /// </summary>
    /// <param name="train">The train split of log returns.</param>
    /// <param name="all">All the log returns of the file (train and later rows): only the archetypes read past the train split.</param>
    /// <param name="options">The generator options.</param>
    /// <param name="state">The economic state, or null for an unconditional model.</param>
    /// <param name="stateColumns">The condition features (null: <see cref="EconomicState.FeatureNames"/>).</param>
    /// <param name="calibration">The guidance calibration to run after the fit (needs <paramref name="state"/>), or null.</param>
    /// <param name="provenance">The return file, for the manifest.</param>
    /// <param name="progress">Training progress.</param>
    /// <param name="checkpoint">Trainer checkpoints.</param>
    /// <param name="publicStateEnd">Under DP with a public state (<see cref="DpTrainingOptions.PublicState"/>): the last
    /// state date the conditions' standardisation and reference state are computed from (the declared train end; null:
    /// the whole state file). A public date, never one read from the private returns.</param>
    /// <param name="cancellationToken">Stops the training steps and the calibration's draws.</param>
    /// <exception cref="InvalidInputException">A state that gives no features, a condition feature that does not vary
    /// (<c>constant-condition</c>: located at the header cell of its state column, naming the rows it is constant over) or is
    /// ±∞ (<c>condition-value</c>) (the others located at line 1 of the state file),
    /// invalid options (rule <see cref="ConfigRule"/>, no location: the caller knows where they came from), or what
    /// <see cref="SequenceGenerator.Fit"/> and <see cref="SequenceGenerator.CalibrateGuidance"/> refuse. The refusals whose
    /// advice names an option (the default features a state file lacks, <see cref="SequenceGeneratorOptions.StateScale"/>
    /// without its feature, RV20 on rows that are not daily, and under DP a public state without a state, RV20 with a public
    /// state, the guidance calibration with a public state, conditions without one) are
    /// <see cref="SequenceOptionException"/>s, which each shell words with its own names.</exception>
    public static SequenceTrainingResult Train(
        TimeSeriesFrame train,
        TimeSeriesFrame all,
        SequenceGeneratorOptions options,
        SequenceState? state = null,
        IReadOnlyList<string>? stateColumns = null,
        GuidanceCalibrationOptions? calibration = null,
        DataProvenance? provenance = null,
        IProgress<TrainingProgress>? progress = null,
        CheckpointOptions? checkpoint = null,
        DateOnly? publicStateEnd = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(options);
        if (calibration is not null && state is null)
            throw new ArgumentException("a guidance calibration needs a state: only a conditional model has guidance", nameof(calibration));

        // DP with a public state: the conditions may come from the state file alone, and nothing that reads the private
        // returns outside the accountant (RV20, the guidance calibration's realised ES) is allowed
        bool publicState = options.Privacy is { PublicState: true };
        if (publicState)
        {
            if (state is null)
            {
                const string Applies = "declares the economic state public, but no state was given";
                throw new SequenceOptionException("DP-E-CONFIG",
                    $"privacy.public_state {Applies}: it applies to conditional sequence models only",
                    n => $"{n.Name(SequenceOption.PublicState)} {Applies} ({n.Name(SequenceOption.State)}): it applies to conditional sequence models only");
            }

            foreach (var name in stateColumns ?? EconomicState.FeatureNames)
            {
                if (EconomicState.IsReturnDerived(name)) throw EconomicState.ReturnDerivedUnderDp(name, byDefault: stateColumns is null);
            }

            if (calibration is not null)
            {
                const string Why = "cannot be combined with privacy: it reads the realised expected shortfall of the private training windows outside DP-SGD's accounting";
                throw new SequenceOptionException("DP-E-PREPROCESS",
                    $"the guidance calibration {Why}; give the guidance with guidance_scale instead",
                    n => $"{n.Name(SequenceOption.CalibrateGuidance)} {Why}; give the guidance with {n.Name(SequenceOption.GuidanceScale)} instead");
            }
        }

        if (options.StateScale is { } scaleFeature)
        {
            // the volatility scaling reads its feature from the state: refused, named, when there is none to read (the
            // generator's own check, made here before the state is read and located at the state file)
            var at = state is null ? null : new InputLocation(state.Path, 1, 0);
            if (SequenceGenerator.StateScaleFeatureRefusal(scaleFeature, state is null ? null : stateColumns ?? EconomicState.FeatureNames, at) is { } refused)
                throw refused;
            if (scaleFeature != "TERM" && !state!.Frame.Columns.Contains(scaleFeature, StringComparer.Ordinal))
            {
                string lacks = $" {scaleFeature} needs the state column {scaleFeature}, which the state file lacks (it has {string.Join(", ", state.Frame.Columns)})";
                throw new SequenceOptionException(SequenceGenerator.StateScaleRule, "state_scale" + lacks, n => n.Name(SequenceOption.StateScale) + lacks, at);
            }
        }

        TimeSeriesFrame? features = null, publicFeatures = null;
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? archetypes = null;
        if (state is not null)
        {
            try
            {
                features = EconomicState.Build(state.Frame, train, stateColumns);
                if (publicState)
                {
                    // the standardisation and reference state from the state file up to the declared train end, and the
                    // archetypes from the whole state file: statistics of public data only
                    publicFeatures = EconomicState.BuildPublic(state.Frame, stateColumns, publicStateEnd);
                    archetypes = CrisisArchetypes.Compute(EconomicState.BuildPublic(state.Frame, stateColumns));
                }
                else
                {
                    // crisis archetypes are condition vectors, not training data: the state over the whole history of the
                    // file (RV20 from all its returns) averaged over each documented episode
                    archetypes = CrisisArchetypes.Compute(EconomicState.Build(state.Frame, all, stateColumns));
                }
            }
            catch (InvalidInputException e) when (e.Location is null && e.Rule != EconomicState.RowFrequencyRule)
            {
                // (RV20 on rows that are not daily is about the return file's dates, not the state file: left for the caller,
                // which knows that file's path, to locate)
                // no features named: the defaults were read, which an analyst's own state file (her own column names) lacks
                var at = new InputLocation(state.Path, 1, 0);
                if (stateColumns is not null || e.Rule != CsvRules.Join) throw new InvalidInputException(e.Rule, e.Message, at);
                string defaults = $"; without state columns named, the default features {string.Join(", ", EconomicState.FeatureNames)} are read: name the file's own";
                throw new SequenceOptionException(e.Rule, $"{e.Message}{defaults} ({string.Join(", ", state.Frame.Columns)})",
                    n => $"{e.Message}{defaults} ({n.Given(SequenceOption.StateColumns, state.Frame.Columns)})", at);
            }
        }

        // what the calibration after the fit would refuse (its feature not a condition, an episode outside the training
        // data, no state value of its feature in the episode) is known now: refused before the training steps, not after them
        if (calibration is not null)
        {
            calibration.Validate();
            if (SequenceGenerator.CalibrationProblem(features!, options.Window, train, calibration) is { } problem)
                throw new InvalidInputException(SequenceGenerator.CalibrationRule, problem);
        }

        SequenceGenerator generator;
        try
        {
            generator = new SequenceGenerator(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException(ConfigRule, e.Message);
        }

        var clock = Stopwatch.StartNew();
        try
        {
            generator.Fit(train, features, archetypes, provenance, state?.Provenance, publicFeatures, progress, checkpoint, cancellationToken);
        }
        catch (ConstantConditionException e) when (state is not null && e.Location is null && StateColumnsOf(state.Frame, e.Feature) is { Length: > 0 } sources)
        {
            // a feature read from state columns that never varies: located at the header cell of its (first) column, with
            // the columns and the state rows it is constant over named
            throw new InvalidInputException(e.Rule, e.Message + ConstantStateColumns(state.Frame, sources, e.From, e.To), new InputLocation(state.Path, 1, sources[0] + 2, state.Frame.Columns[sources[0]]));
        }
        catch (InvalidInputException e) when (state is not null && e.Location is null && e.Rule is "constant-condition" or "condition-value")
        {
            // a refusal of the state's values (a ±∞; a return-derived feature that never varies) names the state file, as the other state errors do
            throw new InvalidInputException(e.Rule, e.Message, new InputLocation(state.Path, 1, 0));
        }

        var fitTime = clock.Elapsed;
        var calibrated = calibration is null ? null : generator.CalibrateGuidance(train, features!, calibration, cancellationToken);
        return new SequenceTrainingResult(generator, calibrated, fitTime);
    }
}
