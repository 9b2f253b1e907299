using System.Text.Json;
using Crucible.Diffusion.Sequence;

namespace Crucible.Service.Training;

/// <summary>
/// The options of a sequence training as a training job's request (<see cref="TrainingRequest"/>) names them, for the
/// advice of the library's refusals (<see cref="SequenceOptionException.Worded"/>): its JSON members (<c>state_columns</c>,
/// <c>csv.date_format</c>, <c>config.state_scale</c>), not <c>crucible train</c>'s flags, which a client never typed.
/// </summary>
internal sealed class TrainingRequestNames : SequenceOptionNames
{
    private TrainingRequestNames()
    {
    }

    /// <summary>
    /// The request's member that withholds the model's last train prices, in the advice of a registry conflict
    /// (<see cref="Crucible.Governance.Registry.ModelConflictException.Worded"/>) and of a scenario request for prices
    /// without a start.
    /// </summary>
    public const string WithholdPrices = "withhold_prices";

    /// <summary>The one instance.</summary>
    public static TrainingRequestNames Instance { get; } = new();

    /// <inheritdoc />
    public override string Name(SequenceOption option) => option switch
    {
        SequenceOption.Data => "data_csv",
        SequenceOption.DateFormat => "csv.date_format",
        SequenceOption.DateColumn => "csv.date_column",
        SequenceOption.State => "state_csv",
        SequenceOption.StateColumns => "state_columns",
        SequenceOption.StateDateFormat => "state_date_format",
        SequenceOption.StateDateColumn => "state_date_column",
        SequenceOption.StateMissing => "state_missing",
        SequenceOption.StateFfillLimit => "state_ffill_limit",
        SequenceOption.StateScale => "config.state_scale",
        SequenceOption.PublicState => "config.privacy.public_state",
        SequenceOption.CalibrateGuidance => "calibrate_guidance",
        SequenceOption.GuidanceScale => "config.guidance_scale",
        _ => throw new ArgumentOutOfRangeException(nameof(option), option, "unknown sequence option"),
    };

    /// <summary>
    /// The member with <paramref name="values"/> as the request's JSON writes it: <c>"state_columns": ["VIXCLS", "DFF"]</c>
    /// (the list member), <c>"state_missing": "ffill"</c>, a number or a boolean as it is (<c>"state_ffill_limit": 5</c>), and
    /// a nested one in its object, <c>"config": {"state_scale": "VIXCLS"}</c>.
    /// </summary>
    public override string Given(SequenceOption option, params IReadOnlyList<string> values)
    {
        string value = option switch
        {
            SequenceOption.StateColumns => "[" + string.Join(", ", values.Select(v => JsonSerializer.Serialize(v))) + "]",
            SequenceOption.StateFfillLimit or SequenceOption.GuidanceScale or SequenceOption.PublicState => string.Join(",", values),
            _ => JsonSerializer.Serialize(string.Join(",", values)),
        };
        var path = Name(option).Split('.');
        string json = $"\"{path[^1]}\": {value}";
        for (int i = path.Length - 2; i >= 0; i--) json = $"\"{path[i]}\": {{{json}}}";
        return json;
    }
}
