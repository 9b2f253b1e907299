using Crucible.Data;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// An option of a sequence training that the advice of a refusal names (<see cref="SequenceOptionException"/>): each
/// shell spells it its own way (<see cref="SequenceOptionNames"/>), <c>crucible train</c> as a flag, a training job of the
/// service as a member of its request.
/// </summary>
public enum SequenceOption
{
    /// <summary>The return (price) file: <c>--data</c>, a job's <c>data_csv</c>.</summary>
    Data,

    /// <summary>The return file's date format: <c>--date-format</c>, a job's <c>csv.date_format</c>.</summary>
    DateFormat,

    /// <summary>The return file's date column: <c>--date-column</c>, a job's <c>csv.date_column</c>.</summary>
    DateColumn,

    /// <summary>The economic-state file (<see cref="SequenceState"/>): <c>--state</c>, a job's <c>state_csv</c>.</summary>
    State,

    /// <summary>The condition features: <c>--state-columns</c>, a job's <c>state_columns</c> (a list).</summary>
    StateColumns,

    /// <summary>The state file's date format: <c>--state-date-format</c>, a job's <c>state_date_format</c>.</summary>
    StateDateFormat,

    /// <summary>The state file's date column: <c>--state-date-column</c>, a job's <c>state_date_column</c>.</summary>
    StateDateColumn,

    /// <summary>The state file's missing-value policy (<see cref="StateMissingValues.Policy"/>): <c>--state-missing</c>, a job's <c>state_missing</c>.</summary>
    StateMissing,

    /// <summary>The state file's forward-fill limit (<see cref="StateMissingValues.ForwardFillLimit"/>): <c>--state-ffill-limit</c>, a job's <c>state_ffill_limit</c>.</summary>
    StateFfillLimit,

    /// <summary>
    /// The generator option <see cref="SequenceGeneratorOptions.StateScale"/>: <c>state_scale</c> of crucible train's
    /// <c>--config</c> file, a job's <c>config.state_scale</c>.
    /// </summary>
    StateScale,

    /// <summary>
    /// The declaration that the economic state is public data under DP (<see cref="Tabular.DpTrainingOptions.PublicState"/>):
    /// <c>--dp-public-state</c> or <c>privacy.public_state</c> of crucible train's <c>--config</c> file, a job's
    /// <c>config.privacy.public_state</c>. Given the value <c>true</c>.
    /// </summary>
    PublicState,

    /// <summary>The guidance calibration after the fit (<see cref="GuidanceCalibrationOptions"/>): <c>--calibrate-guidance</c>, a job's <c>calibrate_guidance</c>.</summary>
    CalibrateGuidance,

    /// <summary>
    /// The generator option <see cref="SequenceGeneratorOptions.GuidanceScale"/>: <c>guidance_scale</c> of crucible train's
    /// <c>--config</c> file, a job's <c>config.guidance_scale</c>. Given a number.
    /// </summary>
    GuidanceScale,

    /// <summary>
    /// Regime guidance a when sampling (<see cref="SequenceSampleRequest.RegimeGuidance"/>, which overrides the model's
    /// <see cref="SequenceGeneratorOptions.RegimeGuidance"/>): <c>crucible generate</c>'s <c>--regime-guidance</c>, a scenario
    /// request's <c>regime_guidance</c>. Named by the refusal of a factor k that underflows to 0 or overflows, and of a
    /// value that is negative or not finite (<see cref="SequenceSampleRequest.CheckOptions"/>).
    /// </summary>
    RegimeGuidance,

    /// <summary>
    /// The classifier-free guidance weight w when sampling (<see cref="SequenceSampleRequest.GuidanceScale"/>):
    /// <c>crucible generate</c>'s <c>--guidance</c>, a scenario request's <c>guidance</c>. Named by the refusal of a value
    /// that is negative or not finite (<see cref="SequenceSampleRequest.CheckOptions"/>).
    /// </summary>
    Guidance,

    /// <summary>
    /// The guidance's minimum noise level σ_g when sampling (<see cref="SequenceSampleRequest.GuidanceMinNoise"/>):
    /// <c>crucible generate</c>'s <c>--guidance-min-noise</c>, a scenario request's <c>guidance_min_noise</c>. Named by the
    /// refusal of a value that is negative or not finite (<see cref="SequenceSampleRequest.CheckOptions"/>).
    /// </summary>
    GuidanceMinNoise,
}

/// <summary>How a shell names <see cref="SequenceOption"/>s in the advice of a refusal (<see cref="SequenceOptionException.Worded"/>).</summary>
public abstract class SequenceOptionNames
{
    /// <summary>The option as its user names it: <c>--state-columns</c>, <c>state_columns</c>.</summary>
    public abstract string Name(SequenceOption option);

    /// <summary>
    /// The option given <paramref name="values"/> (one; several for the list <see cref="SequenceOption.StateColumns"/>), as
    /// its user would write it: <c>--state-columns VIXCLS,DFF</c>, <c>"state_columns": ["VIXCLS", "DFF"]</c>.
    /// </summary>
    public abstract string Given(SequenceOption option, params IReadOnlyList<string> values);
}

/// <summary>
/// A refusal of a sequence training's input whose advice names options (<see cref="SequenceOption"/>): its
/// <see cref="Exception.Message"/>, as thrown, names none of them by a shell's spelling (the library's own words: "the
/// state file's date format"); each shell gives the same refusal with its own names by <see cref="Worded"/>
/// (<c>crucible train</c> its flags, a training job its request's members), rule and location unchanged, without reading
/// the message.
/// </summary>
public class SequenceOptionException : InvalidInputException
{
    private readonly Func<SequenceOptionNames, string> _worded;

    /// <summary>
    /// Creates the refusal: <paramref name="message"/> in the library's words, <paramref name="worded"/> the same message
    /// with the options named as a shell names them.
    /// </summary>
    /// <param name="rule">The rule id.</param>
    /// <param name="message">The refusal in the library's words.</param>
    /// <param name="worded">The same refusal with the options named by a shell's names.</param>
    /// <param name="location">Where the input is, when the library knows.</param>
    /// <param name="option">The one option whose value is refused, when there is one (a shell locates the refusal at it).</param>
    public SequenceOptionException(string rule, string message, Func<SequenceOptionNames, string> worded, InputLocation? location = null, SequenceOption? option = null)
        : base(rule, message, location)
    {
        ArgumentNullException.ThrowIfNull(worded);
        _worded = worded;
        Option = option;
    }

    /// <summary>
    /// The one option whose value is refused (a sampling option a request gave, or the regime guidance whose factor
    /// underflows or overflows), for a shell to locate the refusal at it (a flag, a request's member); null when the
    /// advice names options without one being refused.
    /// </summary>
    public SequenceOption? Option { get; }

    /// <summary>
    /// The same refusal (rule, both wordings) located at <paramref name="location"/>: for a shell that knows where an
    /// unlocated refusal points (RV20 on rows that are not daily, <see cref="EconomicState.RowFrequencyRule"/>: the return
    /// file's dates).
    /// </summary>
    public SequenceOptionException At(InputLocation location) => new(Rule, Message, _worded, location, Option);

    /// <summary>The same refusal (rule, location) with its options named by <paramref name="names"/>.</summary>
    public InvalidInputException Worded(SequenceOptionNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return new InvalidInputException(Rule, _worded(names), Location);
    }
}
