using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// How the economic-state file's missing values are read (<c>train --state-missing</c>, <c>--state-ffill-limit</c>,
/// <c>--state-na</c>): the price file's policy vocabulary (<see cref="MissingValuePolicy"/>) for a state series with
/// empty cells (FRED's holidays). The default refuses every missing value, as the state file always did; a day with no
/// state row at all needs no policy (a return date reads the last state row of the 7 days before it).
/// </summary>
public sealed record StateMissingValues
{
    /// <summary>
    /// <see cref="MissingValuePolicy.Reject"/> (default) or <see cref="MissingValuePolicy.ForwardFill"/>: carry a series'
    /// previous value over at most <see cref="ForwardFillLimit"/> consecutive missing rows, refused beyond it (rule
    /// <c>CSV-E-MISSING</c> at the cell). <see cref="MissingValuePolicy.Keep"/> is refused: a NaN condition would silently
    /// train its windows unconditioned.
    /// </summary>
    public MissingValuePolicy Policy { get; init; } = MissingValuePolicy.Reject;

    /// <summary>With <see cref="MissingValuePolicy.ForwardFill"/>: the most consecutive missing rows of a series to fill (≥ 0).</summary>
    public int ForwardFillLimit { get; init; } = CsvReadOptions.Default.ForwardFillLimit;

    /// <summary>Tokens that mean "missing" besides the empty field (e.g. FRED's <c>.</c>), compared exactly after trimming.</summary>
    public IReadOnlyList<string> Tokens { get; init; } = [];

    /// <summary>The state file's policy until now: every missing value refused, only the empty field missing.</summary>
    public static StateMissingValues Default { get; } = new();

    /// <summary>Whether this is <see cref="Default"/>'s reading (nothing to record).</summary>
    public bool IsDefault => Policy == MissingValuePolicy.Reject && Tokens.Count == 0 && ForwardFillLimit == Default.ForwardFillLimit;

    /// <summary>
    /// Why <paramref name="tokens"/>, the missing tokens as a request gives them (null: not given), cannot be read, or
    /// null when they can: a list that names no token (leave it out: the empty field alone is then missing), or a null or
    /// blank token (the empty field is always missing, and a blank token trims to it). The one rule of
    /// <c>crucible train --state-na</c> (exit 2) and a training job's <c>state_na</c> (422).
    /// </summary>
    public static string? TokensProblem(IReadOnlyList<string?>? tokens) =>
        tokens is null ? null
        : tokens.Count == 0 ? "names no token: leave it out for the empty field alone"
        : tokens.Any(string.IsNullOrWhiteSpace) ? "a token is null or blank (the empty field is always missing)"
        : null;

    /// <summary>
    /// Checks the policy; <paramref name="name"/> maps a property name to the name the user knows it by (a flag such as
    /// <c>--state-ffill-limit</c>), as <see cref="CsvReadOptions.Validate(Func{string, string?}?)"/> does.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>OPT-E</c>: <see cref="MissingValuePolicy.Keep"/>, a negative limit, or a
    /// null or blank token (<see cref="TokensProblem"/>).</exception>
    public void Validate(Func<string, string?>? name = null)
    {
        string N(string property) => name?.Invoke(property) ?? property;
        if (!Enum.IsDefined(Policy) || Policy == MissingValuePolicy.Keep)
        {
            throw new InvalidInputException("OPT-E",
                $"{N(nameof(Policy))} takes reject or ffill for the state file: a missing state value kept as NaN would train its windows unconditioned without a word");
        }

        if (ForwardFillLimit < 0)
            throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"{N(nameof(ForwardFillLimit))} must be at least 0, got {ForwardFillLimit}"));
        if (Tokens.Count > 0 && TokensProblem(Tokens) is { } problem) throw new InvalidInputException("OPT-E", $"{N(nameof(Tokens))} {problem}");
    }

    /// <summary><paramref name="options"/> with this policy and these tokens (the empty field stays missing).</summary>
    public CsvReadOptions Apply(CsvReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Missing = Policy,
            ForwardFillLimit = ForwardFillLimit,
            MissingTokens = options.MissingTokens.Concat(Tokens).ToFrozenSet(StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// A training run's record of the state file's reading options as the user gave them (<c>state_csv</c> in the run
    /// config: <c>na</c>, <c>missing</c>, <c>ffill_limit</c>, each only when given), the same for <c>crucible train</c>
    /// and a service training job; null when none is given, so that earlier runs' configs stay as they were.
    /// </summary>
    public static JsonObject? RunConfig(string? missing, int? ffillLimit, IReadOnlyList<string>? na)
    {
        var c = new JsonObject();
        if (na is { Count: > 0 }) c["na"] = new JsonArray([.. na.Select(x => (JsonNode?)x)]);
        if (missing is not null) c["missing"] = missing;
        if (ffillLimit is { } limit) c["ffill_limit"] = limit;
        return c.Count == 0 ? null : c;
    }

    /// <summary>The manifest's record of this reading and of the <paramref name="filled"/> values it filled; null for <see cref="Default"/>.</summary>
    public MissingValuesManifest? ToManifest(long filled) => IsDefault ? null : new MissingValuesManifest
    {
        Policy = Policy,
        ForwardFillLimit = Policy == MissingValuePolicy.ForwardFill ? ForwardFillLimit : null,
        Na = Tokens.Count == 0 ? null : [.. Tokens],
        Filled = filled,
    };

    /// <summary>The policy a manifest recorded (<see cref="Default"/> for null: a manifest from before the policy existed).</summary>
    public static StateMissingValues FromManifest(MissingValuesManifest? manifest) => manifest is null ? Default : new StateMissingValues
    {
        Policy = manifest.Policy,
        ForwardFillLimit = manifest.ForwardFillLimit ?? Default.ForwardFillLimit,
        Tokens = manifest.Na ?? [],
    };
}
