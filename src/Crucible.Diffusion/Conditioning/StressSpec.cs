using System.Globalization;
using System.Text;
using Crucible.Data;
using Crucible.Diffusion.Steering;

namespace Crucible.Diffusion.Conditioning;

/// <summary>How a condition term changes a feature.</summary>
public enum ConditionChange
{
    /// <summary><c>NAME=45</c> or <c>NAME=(-0.5)</c>: the value itself, in the feature's units.</summary>
    Absolute,

    /// <summary><c>NAME=+10</c>: base + value, in the feature's units.</summary>
    Shift,

    /// <summary><c>NAME=+2sd</c>: base + value × the feature's training standard deviation.</summary>
    StandardDeviations,

    /// <summary><c>NAME=-50%</c>: base × (1 + value/100), a proportional change.</summary>
    Percent,

    /// <summary><c>NAME=+300bp</c>: base + value/100, for features quoted in percent (rates, spreads).</summary>
    BasisPoints,
}

/// <summary>What a move constrains.</summary>
public enum MoveScope
{
    /// <summary><c>SPY&lt;=-20%</c>: each listed series' cumulative return over the window.</summary>
    Cumulative,

    /// <summary><c>daily(SPY,HYG)&gt;=-5%</c>: each listed series' return on every day of the window.</summary>
    Daily,

    /// <summary><c>mean(SPY,HYG)&lt;=-15%</c>: the average over the listed series of their cumulative log returns.</summary>
    Mean,
}

/// <summary>One term of a stress specification; <see cref="Column"/> is its 1-based position in the text.</summary>
public abstract record StressTerm(int Column);

/// <summary>A crisis archetype (<c>gfc-2008</c>).</summary>
public sealed record ArchetypeTerm(string Name, int Column) : StressTerm(Column);

/// <summary>A condition value or shift (<c>VIXCLS=45</c>, <c>vol=+2sd</c>).</summary>
public sealed record ConditionTerm(string Name, ConditionChange Change, double Value, int Column) : StressTerm(Column);

/// <summary>A move over the window (<c>SPY&lt;=-20%</c>); <see cref="Percent"/> is a simple return in percent.</summary>
public sealed record MoveTerm(MoveScope Scope, IReadOnlyList<string> Series, bool AtMost, double Percent, int Column) : StressTerm(Column);

/// <summary>Options of <see cref="StressSpec.Resolve"/>.</summary>
/// <param name="AnchorToReference">
/// When true, every feature the specification does not set takes its reference value, so the plan conditions on a
/// full state; when false (the default) the plan holds only the features the specification sets or shifts, and the
/// generator treats the others as it treats absent conditions.
/// </param>
public sealed record StressResolveOptions(bool AnchorToReference = false)
{
    /// <summary>
    /// The first and last dates of the model's training data (its manifest's train period), when known: an archetype
    /// named after a built-in crisis episode (<see cref="CrisisArchetypes.Episodes"/>) that the model lacks is then
    /// refused with the episode's dates and this period beside them. The period is not why: archetypes come from the
    /// whole state history given at training, train rows and later, whose range the manifest does not record.
    /// </summary>
    public (DateOnly Start, DateOnly End)? TrainPeriod { get; init; }
}

/// <summary>
/// A resolved stress specification: raw condition values by feature name (for the conditional generator) and linear
/// constraints on the window's log returns (for <see cref="ConstraintGuidance"/>).
/// </summary>
/// <param name="Conditions">Feature name → value in the feature's units (a subset of the condition space's features).</param>
/// <param name="Constraints">Constraints in log-return units on (D, W) windows of the generated series.</param>
public sealed record StressPlan(IReadOnlyDictionary<string, double> Conditions, LinearConstraintSet Constraints)
{
    /// <summary>
    /// The sampler guidance enforcing <see cref="Constraints"/> for a model whose space maps to log returns by
    /// r = offset_i + scale_i · x (the generator's SeriesAffine map); null when the plan has no constraints.
    /// </summary>
    public ConstraintGuidance? Guidance(IReadOnlyList<double> offset, IReadOnlyList<double> scale, ConstraintGuidanceOptions? options = null) =>
        Constraints.Count == 0 ? null : new ConstraintGuidance(Constraints, offset, scale, options);
}

/// <summary>
/// A stress specification: a list of terms that set the economic state a scenario is conditioned on and the moves its
/// returns must make over the window.
/// </summary>
/// <remarks>
/// <code>
/// spec      := term { (',' | ';') term }          (commas inside parentheses belong to the term)
/// term      := archetype | condition | move
/// archetype := NAME                               gfc-2008 · covid-2020 · rates-2022 (the model's archetypes)
/// condition := FEATURE '=' value                  FEATURE: a feature name or alias (vix, vol, term, …)
/// value     := NUMBER                             absolute, in the feature's units        VIXCLS=45
///            | '(' SIGNED ')'                     absolute, for negative levels           TERM=(-0.5)
///            | SIGN NUMBER                        shift in the feature's units            VIXCLS=+10
///            | SIGN NUMBER 'sd'                   shift in training standard deviations   vol=+2sd
///            | SIGN NUMBER '%'                    proportional: base × (1 + v/100)        TERM=-50%
///            | SIGN NUMBER 'bp'                   shift of v/100 (percent-quoted series)  BAA10Y=+300bp
/// move      := target ('&lt;=' | '&gt;=') SIGNED '%'    a simple return over the window, in percent
/// target    := SERIES                             that series' cumulative return          SPY&lt;=-20%
///            | 'daily(' list ')'                  every day's return of each listed one   daily(SPY,HYG)&gt;=-5%
///            | 'mean(' list ')'                   average cumulative log return           mean(SPY,EFA)&lt;=-15%
/// list      := SERIES { ',' SERIES } | '*'        '*': every generated series
/// NAME, FEATURE := a letter, then letters, decimal digits, combining marks, '_', '-', '.' (Unicode: DAX_Prämie, 日経)
///            | QUOTED
/// SERIES    := text without white space or = &lt; &gt; ( ) , ; and not starting with '"'   | QUOTED
/// QUOTED    := '"' any text '"', a quote inside written '""'          "S&amp;P 500", "VIX (close)", "a""b"
/// SIGN      := '+' | '-'      SIGNED := [SIGN] NUMBER      NUMBER := a finite number of <see cref="TryParseNumber"/>
///                                                              (e.g. 45, 2.5, .5, 4.5e1, 3E-2; '.' decimal, no NaN or ∞)
/// </code>
/// <para>
/// A quoted name is a whole name (nothing may follow its closing quote before the next operator or separator) and may
/// hold anything, separators and operators included; it is matched as the bare name is. A '"' opens one only where a
/// name starts (at the start of a term or after '(' or ','); elsewhere it is an ordinary character, as before. A series
/// named <c>*</c> cannot be named: <c>*</c> is every series.
/// </para>
/// <para>
/// Names are case-insensitive; spaces around tokens are ignored (≤ and ≥ are accepted for &lt;= and &gt;=). A value
/// with a sign is always a shift: write a negative level in parentheses. Units: VIXCLS in index points, RV20 in
/// annualised percent, DFF, TERM, BAA10Y and BAMLH0A0HYM2 in percent (so <c>+300bp</c> is +3.00).
/// </para>
/// <para>
/// Resolution (<see cref="Resolve"/>): an archetype sets every feature it has; an absolute value replaces the value of
/// its feature; a shift applies to the value the specification gives that feature (archetype or absolute) and
/// otherwise to the reference state (the last training state). A move becomes linear constraints on the log returns
/// r of the window: <c>X&lt;=p%</c> is Σ_t r_X,t ≤ ln(1 + p/100) and <c>X&gt;=p%</c> is Σ_t r_X,t ≥ ln(1 + p/100);
/// <c>daily(…)</c> bounds each r_X,t the same way; <c>mean(X1,…,Xn)</c> bounds (1/n) Σ_i Σ_t r_Xi,t.
/// At most one archetype, one absolute value and one shift per feature, and no two moves on the same target whose
/// bounds leave an empty interval (<c>SPY&lt;=-50%; SPY&gt;=50%</c>); anything else is an error that names the
/// column and the rule (<see cref="StressRules"/>).
/// </para>
/// </remarks>
public sealed class StressSpec
{
    private StressSpec(string text, string source, IReadOnlyList<StressTerm> terms)
    {
        Text = text;
        Source = source;
        Terms = terms;
    }

    /// <summary>The specification as written.</summary>
    public string Text { get; }

    /// <summary>Where the text came from, used as the "file" of error locations (e.g. <c>--stress</c>).</summary>
    public string Source { get; }

    /// <summary>The terms, in order.</summary>
    public IReadOnlyList<StressTerm> Terms { get; }

    /// <summary>
    /// Parses a specification (grammar in the remarks). Throws <see cref="InvalidInputException"/> with the 1-based
    /// column of the problem (line 1 of <paramref name="source"/>) and a <see cref="StressRules"/> rule.
    /// </summary>
    public static StressSpec Parse(string text, string source = "--stress")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        var quoted = QuotedNames(text, source);
        var terms = new List<StressTerm>();
        foreach (var (start, length) in Split(text, quoted, source))
        {
            var raw = text.Substring(start, length);
            int lead = raw.Length - raw.TrimStart().Length;
            var term = raw.Trim();
            int column = start + lead + 1;
            if (term.Length == 0) throw Fail(source, column, StressRules.Syntax, "empty term (two separators in a row, or one at the start or end)");
            terms.Add(ParseTerm(term, quoted.AsSpan(column - 1, term.Length), column, source));
        }

        return new StressSpec(text, source, terms);
    }

    // why an archetype is not in the model: a built-in crisis episode with no known condition state in the state history
    // the model was trained with, else an unknown name. An archetype is the mean state over the episode's dates in that
    // whole history (the state file over the return file's dates, train rows and later, or the state file alone under a
    // public state), which the manifest does not record: the train period is named beside it, never as the reason.
    private static string MissingArchetype(string name, ConditionSpace space, (DateOnly Start, DateOnly End)? period)
    {
        var episode = CrisisArchetypes.Episodes.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
        if (episode is null) return $"unknown archetype or term '{name}' (known {space.Describe()})";
        string known = space.Archetypes.Count == 0 ? "none" : string.Join(", ", space.Archetypes.Keys);
        string dates = string.Create(CultureInfo.InvariantCulture, $"{episode.Start:yyyy-MM-dd} to {episode.End:yyyy-MM-dd}");
        string train = period is { } p ? string.Create(CultureInfo.InvariantCulture, $" ({p.Start:yyyy-MM-dd} to {p.End:yyyy-MM-dd})") : "";
        return $"the model has no archetype '{episode.Name}': the state history it was trained with has no known condition state in the episode ({dates}); "
            + $"archetypes come from the whole state history given at training (the state file over the whole return file, or the state file alone when declared public), not only the training data{train}; "
            + $"the model's archetypes: {known}";
    }

    private static readonly ConditionSpace NoConditions = new(["(none)"], [0], [0], [0], aliases: new Dictionary<string, string>());

    /// <summary>
    /// Resolves the terms against a model's condition space (null for a model without conditions: then only moves are
    /// allowed) and the generated series (D of them, windows of <paramref name="window"/> steps) into a
    /// <see cref="StressPlan"/>. Unknown names are
    /// <see cref="InvalidInputException"/>s that list the known ones (features, aliases, archetypes, or series).
    /// </summary>
    public StressPlan Resolve(ConditionSpace? space, IReadOnlyList<string> series, int window, StressResolveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (space is null)
        {
            if (Terms.FirstOrDefault(t => t is not MoveTerm) is { } term)
                throw Fail(Source, term.Column, StressRules.UnknownName, "this model takes no conditions: only moves (SERIES<=P%, daily(…), mean(…)) apply");
            space = NoConditions;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        options ??= new StressResolveOptions();
        var archetypes = Terms.OfType<ArchetypeTerm>().ToList();
        if (archetypes.Count > 1) throw Fail(Source, archetypes[1].Column, StressRules.Conflict, $"two archetypes ('{archetypes[0].Name}' and '{archetypes[1].Name}'): use one");

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        if (archetypes.Count == 1)
        {
            var name = space.FindArchetype(archetypes[0].Name)
                ?? throw Fail(Source, archetypes[0].Column, StressRules.UnknownName, MissingArchetype(archetypes[0].Name, space, options.TrainPeriod));
            foreach (var (feature, value) in space.Archetypes[name]) values[feature] = value;
        }

        var conditions = Terms.OfType<ConditionTerm>().Select(c => (Term: c, Index: FeatureIndex(space, c))).ToList();
        var seen = new HashSet<(int, bool)>();
        foreach (var (term, index) in conditions)
        {
            bool absolute = term.Change == ConditionChange.Absolute;
            if (!seen.Add((index, absolute)))
                throw Fail(Source, term.Column, StressRules.Conflict, $"'{space.Names[index]}' is given {(absolute ? "two values" : "two shifts")}");
        }

        foreach (var (term, index) in conditions.Where(c => c.Term.Change == ConditionChange.Absolute)) values[space.Names[index]] = term.Value;
        foreach (var (term, index) in conditions.Where(c => c.Term.Change != ConditionChange.Absolute))
        {
            string name = space.Names[index];
            double baseValue = values.TryGetValue(name, out var given) ? given : space.Reference[index];
            if (term.Change == ConditionChange.StandardDeviations && space.Std[index] == 0)
                throw Fail(Source, term.Column, StressRules.Value, $"'{name}' has a training standard deviation of 0: shift it in its own units");
            values[name] = term.Change switch
            {
                ConditionChange.Shift => baseValue + term.Value,
                ConditionChange.StandardDeviations => baseValue + (term.Value * space.Std[index]),
                ConditionChange.Percent => baseValue * (1 + (term.Value / 100)),
                _ => baseValue + (term.Value / 100),
            };
        }

        if (options.AnchorToReference)
        {
            for (int i = 0; i < space.Names.Count; i++) values.TryAdd(space.Names[i], space.Reference[i]);
        }

        var ordered = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in space.Names.Where(values.ContainsKey)) ordered[name] = values[name];

        var constraints = new LinearConstraintSet(series, window);
        var bounds = new Dictionary<string, (MoveTerm? Lower, MoveTerm? Upper)>(StringComparer.Ordinal);
        foreach (var move in Terms.OfType<MoveTerm>())
        {
            var rows = Rows(constraints, move, space);
            CheckFeasible(bounds, move, rows, constraints);
            constraints = AddMove(constraints, move, rows);
        }

        return new StressPlan(ordered, constraints);
    }

    /// <summary>
    /// Refuses a move that, with an earlier one on the same target (a series' cumulative return, one series' daily
    /// returns, or the mean of the same series), leaves an empty interval: at least a return above the at-most bound
    /// (<c>SPY&lt;=-50%; SPY&gt;=50%</c>). No scenario can satisfy both, and sampling would only report a violation rate of 1.
    /// </summary>
    private void CheckFeasible(Dictionary<string, (MoveTerm? Lower, MoveTerm? Upper)> bounds, MoveTerm move, List<int> rows, LinearConstraintSet set)
    {
        IEnumerable<(string Key, string What)> targets = move.Scope switch
        {
            MoveScope.Cumulative => [("c:" + rows[0].ToString(CultureInfo.InvariantCulture), $"the return of {set.SeriesNames[rows[0]]} over the window")],
            MoveScope.Daily => rows.Select(i => ("d:" + i.ToString(CultureInfo.InvariantCulture), $"the daily returns of {set.SeriesNames[i]}")),
            _ => [("m:" + string.Join(",", rows.Order().Select(i => i.ToString(CultureInfo.InvariantCulture))),
                $"the mean return of {string.Join(", ", rows.Order().Select(i => set.SeriesNames[i]))} over the window")],
        };
        foreach (var (key, what) in targets)
        {
            var (lower, upper) = bounds.TryGetValue(key, out var b) ? b : (null, null);
            if (move.AtMost && (upper is null || move.Percent < upper.Percent)) upper = move;
            if (!move.AtMost && (lower is null || move.Percent > lower.Percent)) lower = move;
            bounds[key] = (lower, upper);
            if (lower is null || upper is null || lower.Percent <= upper.Percent) continue;
            var other = ReferenceEquals(move, lower) ? upper : lower;
            throw Fail(Source, move.Column, StressRules.Conflict, string.Create(CultureInfo.InvariantCulture,
                $"the moves '{Describe(other)}' (column {other.Column}) and '{Describe(move)}' (column {move.Column}) contradict each other: {what} cannot be at least {lower.Percent}% and at most {upper.Percent}%"));
        }
    }

    /// <summary>A move as the specification writes it: <c>SPY&lt;=-20%</c>, <c>mean(SPY,QQQ)&gt;=5%</c>, <c>daily(HYG)&lt;=-3%</c>.</summary>
    internal static string Describe(MoveTerm move)
    {
        string target = move.Scope switch
        {
            MoveScope.Cumulative => Written(move.Series[0]),
            MoveScope.Daily => $"daily({string.Join(",", move.Series.Select(Written))})",
            _ => $"mean({string.Join(",", move.Series.Select(Written))})",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{target}{(move.AtMost ? "<=" : ">=")}{move.Percent}%");
    }

    private int FeatureIndex(ConditionSpace space, ConditionTerm term)
    {
        int index = space.IndexOf(term.Name);
        if (index >= 0) return index;
        // a default alias whose feature the model lacks (vol on a state without RV20): say what it stands for
        var alias = ConditionSpace.DefaultAliases.FirstOrDefault(a => string.Equals(a.Key, term.Name, StringComparison.OrdinalIgnoreCase));
        string hint = space.FindArchetype(term.Name) is not null ? " (an archetype takes no value: write it alone)"
            : alias.Key is not null ? $" ('{alias.Key}' stands for {alias.Value}, which the model is not conditioned on: it was trained without {alias.Value} among its state columns)"
            : "";
        throw Fail(Source, term.Column, StressRules.UnknownName, $"unknown condition '{term.Name}'{hint} (known {space.Describe()})");
    }

    // the rows (series indices) a move constrains
    private List<int> Rows(LinearConstraintSet set, MoveTerm move, ConditionSpace space)
    {
        var rows = new List<int>();
        if (move.Series is ["*"]) rows.AddRange(Enumerable.Range(0, set.Series));
        else
        {
            foreach (var name in move.Series)
            {
                int i = set.SeriesIndex(name);
                if (i < 0)
                {
                    string hint = space.IndexOf(name) >= 0 ? $"; '{name}' is a condition: set it with '=', e.g. {name}=+10" : "";
                    throw Fail(Source, move.Column, StressRules.UnknownSeries, $"unknown series '{name}' (series: {string.Join(", ", set.SeriesNames)}){hint}");
                }

                if (rows.Contains(i)) throw Fail(Source, move.Column, StressRules.Conflict, $"series '{name}' is listed twice");
                rows.Add(i);
            }
        }

        return rows;
    }

    private static LinearConstraintSet AddMove(LinearConstraintSet set, MoveTerm move, List<int> rows)
    {
        double bound = Math.Log(1 + (move.Percent / 100));
        double? upper = move.AtMost ? bound : null, lower = move.AtMost ? null : bound;
        switch (move.Scope)
        {
            case MoveScope.Cumulative:
                return set.WithCumulativeBounds(rows[0], lower, upper);
            case MoveScope.Daily:
                foreach (int i in rows) set = set.WithSeriesBounds(i, lower, upper);
                return set;
            default:
                var weights = new double[set.Series];
                foreach (int i in rows) weights[i] = 1.0 / rows.Count;
                return set.WithPortfolioCumulativeBounds(weights, lower, upper,
                    $"mean({string.Join(",", rows.Select(i => set.SeriesNames[i]))}) cumulative");
        }
    }

    // which characters belong to a quoted name ("…", "" for a quote inside it, the quotes included): a '"' opens one where
    // a name starts (at the start of the text, or after ',', ';' or '(' and spaces) and the next single '"' closes it;
    // a '"' anywhere else is an ordinary character, as it was before the quoted form (a bare series name a"b)
    private static bool[] QuotedNames(string text, string source)
    {
        var quoted = new bool[text.Length];
        char previous = ','; // the last character outside a quoted name that is not white space
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '"' && previous is ',' or ';' or '(')
            {
                int open = i;
                quoted[i] = true;
                while (true)
                {
                    if (++i == text.Length)
                        throw Fail(source, open + 1, StressRules.Syntax, "a quoted name is never closed (a quote inside one is written twice: \"a\"\"b\")");
                    quoted[i] = true;
                    if (text[i] != '"') continue;
                    if (i + 1 < text.Length && text[i + 1] == '"') quoted[++i] = true;
                    else break;
                }

                previous = '"';
            }
            else if (!char.IsWhiteSpace(text[i]))
            {
                previous = text[i];
            }
        }

        return quoted;
    }

    private static IEnumerable<(int Start, int Length)> Split(string text, bool[] quoted, string source)
    {
        int depth = 0, start = 0, lastOpen = -1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted[i]) continue;
            if (c == '(')
            {
                depth++;
                lastOpen = i;
            }
            else if (c == ')' && --depth < 0) throw Fail(source, i + 1, StressRules.Syntax, "')' without '('");
            else if ((c == ',' || c == ';') && depth == 0)
            {
                yield return (start, i - start);
                start = i + 1;
            }
        }

        if (depth > 0) throw Fail(source, lastOpen + 1, StressRules.Syntax, "'(' is never closed");
        yield return (start, text.Length - start);
    }

    // the first position of symbol in s outside quoted names, or -1
    private static int IndexOutside(string s, ReadOnlySpan<bool> quoted, string symbol)
    {
        for (int i = s.IndexOf(symbol, StringComparison.Ordinal); i >= 0; i = s.IndexOf(symbol, i + 1, StringComparison.Ordinal))
        {
            if (!quoted.Slice(i, symbol.Length).Contains(true)) return i;
        }

        return -1;
    }

    // the name a quoted token stands for ("" read as "), or null when the token (trimmed) is not quoted; column is that of
    // the token's first character. A quoted name stands alone in its token: text after its closing quote is an error.
    private static string? QuotedName(string token, ReadOnlySpan<bool> quoted, int column, string source)
    {
        int lead = token.Length - token.TrimStart().Length;
        string t = token.Trim();
        if (t.Length == 0 || t[0] != '"' || !quoted[lead]) return null;
        int end = 1;
        while (end < t.Length && quoted[lead + end]) end++;
        if (end < t.Length)
            throw Fail(source, column + lead + end, StressRules.Syntax, $"'{t[end..]}' after the quoted name {t[..end]}: a quoted name is the whole name");
        string name = t[1..(end - 1)].Replace("\"\"", "\"", StringComparison.Ordinal);
        if (name.Length == 0) throw Fail(source, column + lead, StressRules.Syntax, "an empty quoted name");
        return name;
    }

    private static StressTerm ParseTerm(string term, ReadOnlySpan<bool> quoted, int column, string source)
    {
        foreach (var symbol in (string[])["<=", ">=", "≤", "≥"])
        {
            int op = IndexOutside(term, quoted, symbol);
            if (op >= 0) return ParseMove(term, quoted, op, symbol.Length, symbol is "<=" or "≤", column, source);
        }

        int eq = IndexOutside(term, quoted, "=");
        if (eq >= 0) return ParseCondition(term, quoted, eq, column, source);
        int less = IndexOutside(term, quoted, "<"), more = IndexOutside(term, quoted, ">");
        if (less >= 0 || more >= 0)
        {
            int bad = less < 0 ? more : more < 0 ? less : Math.Min(less, more);
            throw Fail(source, column + bad, StressRules.Syntax, "a move needs '<=' or '>=' (strict '<' and '>' are not supported)");
        }

        if (QuotedName(term, quoted, column, source) is { } name) return new ArchetypeTerm(name, column);
        if (!IsName(term)) throw Fail(source, column, StressRules.Syntax, $"'{term}' is not a name, a condition NAME=VALUE or a move SERIES<=P%");
        return new ArchetypeTerm(term, column);
    }

    private static ConditionTerm ParseCondition(string term, ReadOnlySpan<bool> quoted, int eq, int column, string source)
    {
        string written = term[..eq].Trim();
        string? quotedName = QuotedName(term[..eq], quoted, column, source);
        if (quotedName is null && !IsName(written)) throw Fail(source, column, StressRules.Syntax, $"'{term[..eq]}' is not a condition name");
        string name = quotedName ?? written;
        string raw = term[(eq + 1)..];
        string value = raw.Trim();
        int at = column + eq + 1 + (raw.Length - raw.TrimStart().Length);
        if (value.Length == 0) throw Fail(source, at, StressRules.Syntax, $"'{written}=' has no value");
        if (value[0] == '(')
        {
            if (value[^1] != ')') throw Fail(source, at, StressRules.Syntax, "a parenthesised value must end with ')'");
            return new ConditionTerm(name, ConditionChange.Absolute, Number(value[1..^1].Trim(), allowSign: true, at + 1, source), column);
        }

        bool signed = value[0] is '+' or '-';
        var (change, digits) = value switch
        {
            _ when value.EndsWith("sd", StringComparison.OrdinalIgnoreCase) => (ConditionChange.StandardDeviations, value[..^2]),
            _ when value.EndsWith("bp", StringComparison.OrdinalIgnoreCase) => (ConditionChange.BasisPoints, value[..^2]),
            _ when value.EndsWith('%') => (ConditionChange.Percent, value[..^1]),
            _ => (signed ? ConditionChange.Shift : ConditionChange.Absolute, value),
        };
        if (!signed && change != ConditionChange.Absolute)
            throw Fail(source, at, StressRules.Value, $"a shift needs a sign: '{written}=+{value}' or '{written}=-{value}'");
        double number = Number(digits.TrimEnd(), allowSign: true, at, source);
        if (change == ConditionChange.Percent && number <= -100) throw Fail(source, at, StressRules.Value, "a proportional change must be above -100%");
        return new ConditionTerm(name, change, number, column);
    }

    private static MoveTerm ParseMove(string term, ReadOnlySpan<bool> quoted, int op, int length, bool atMost, int column, string source)
    {
        string target = term[..op].Trim();
        if (target.Length == 0) throw Fail(source, column, StressRules.Syntax, "a move needs a series before '<=' or '>='");
        string raw = term[(op + length)..];
        string value = raw.Trim();
        int at = column + op + length + (raw.Length - raw.TrimStart().Length);
        if (!value.EndsWith('%')) throw Fail(source, at, StressRules.Value, $"a move is a simple return in percent over the window, e.g. {target}{(atMost ? "<=" : ">=")}-20%");
        double percent = Number(value[..^1].TrimEnd(), allowSign: true, at, source);
        if (percent <= -100) throw Fail(source, at, StressRules.Value, "a return must be above -100%");

        // the term starts with the target (the term is trimmed): its characters are the term's first ones
        quoted = quoted[..target.Length];
        var scope = MoveScope.Cumulative;
        IReadOnlyList<string> series = [target];
        int open = IndexOutside(target, quoted, "(");
        if (QuotedName(target, quoted, column, source) is { } name)
        {
            series = [SeriesName(name, column, source)];
        }
        else if (open >= 0)
        {
            string function = target[..open].Trim();
            scope = function.ToLowerInvariant() switch
            {
                "daily" => MoveScope.Daily,
                "mean" => MoveScope.Mean,
                _ => throw Fail(source, column, StressRules.Syntax, $"unknown function '{function}' (daily(…) or mean(…))"),
            };
            if (!target.EndsWith(')')) throw Fail(source, column + open, StressRules.Syntax, $"'{function}(' must close with ')' before the operator");
            var list = new List<string>();
            bool star = false;
            for (int from = open + 1, to; from < target.Length; from = to + 1)
            {
                // the list's items: split at the commas outside quoted names
                to = from;
                while (to < target.Length - 1 && (target[to] != ',' || quoted[to])) to++;
                string item = target[from..to];
                if (item.Trim().Length == 0) throw Fail(source, column + open + 1, StressRules.Syntax, $"an empty series name in {function}(…)");
                string? itemName = QuotedName(item, quoted[from..to], column + from, source);
                star |= itemName is null && item.Trim() == "*";
                list.Add(itemName is null ? item.Trim() : SeriesName(itemName, column + from + (item.Length - item.TrimStart().Length), source));
                if (to == target.Length - 1) break;
            }

            series = list;
            if (series.Count > 1 && star) throw Fail(source, column + open + 1, StressRules.Syntax, "'*' stands alone");
        }
        else if (target == "*")
        {
            throw Fail(source, column, StressRules.Syntax,
                $"'*' stands for every series only in a list: daily(*){(atMost ? "<=" : ">=")}{value} or mean(*){(atMost ? "<=" : ">=")}{value}");
        }
        else if (!IsSeriesName(target)) throw Fail(source, column, StressRules.Syntax, $"'{target}' is not a series name");

        return new MoveTerm(scope, series, atMost, percent, column);
    }

    // a quoted series name: any name but '*', which a move reads as every series
    private static string SeriesName(string name, int column, string source) =>
        name != "*" ? name : throw Fail(source, column, StressRules.Syntax, "a series named '*' cannot be named in a move: '*' stands for every series (daily(*), mean(*))");

    /// <summary>
    /// The number syntax of stress values and of <c>crucible generate --condition NAME=VALUE</c>, one rule for both:
    /// culture-invariant (<c>.</c> decimal point, no group separators) with an optional sign and exponent
    /// (<see cref="NumberStyles.Float"/>: 45, -20, 2.5, .5, 4.5e1, 3E-2), and finite: NaN, ±Infinity and values that
    /// overflow a double (1e400) are refused.
    /// </summary>
    public static bool TryParseNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static double Number(string text, bool allowSign, int column, string source)
    {
        // a sign here was read as the term's (shift or move direction); "++5" and "+-5" are not numbers
        bool signOk = allowSign || (text.Length > 0 && text[0] is not ('+' or '-'));
        if (!signOk || text.Length != text.Trim().Length || !TryParseNumber(text, out double value))
            throw Fail(source, column, StressRules.Value, $"'{text}' is not a finite number (e.g. 45, -20, 2.5, 4.5e1)");
        return value;
    }

    // a bare archetype or condition name: a letter, then letters, decimal digits, combining marks, '_', '-' and '.', all
    // of Unicode (DAX_Prämie, 日経; before, ASCII letters and digits only); any other name is written quoted
    private static bool IsName(string s)
    {
        if (s.Length == 0) return false;
        bool first = true;
        foreach (var rune in s.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            bool letter = category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;
            bool ok = letter || (!first && (category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark || rune.Value is '_' or '-' or '.'));
            if (!ok) return false;
            first = false;
        }

        return true;
    }

    // a bare series name: no white space and none of = < > ( ) , ; (a '"' opening it starts a quoted name instead)
    private static bool IsSeriesName(string s) =>
        s.Length > 0 && s.All(c => !char.IsWhiteSpace(c) && c is not ('=' or '<' or '>' or '(' or ')' or ',' or ';'));

    /// <summary>
    /// A series name as a specification writes it: bare where the grammar reads it back as that name (<c>SPY</c>,
    /// <c>DAX_Prämie</c>), else quoted with a quote inside doubled (<c>"S&amp;P 500"</c>, <c>"a""b"</c>); <c>*</c>, every series, as is.
    /// </summary>
    internal static string Written(string name) =>
        name == "*" || (IsSeriesName(name) && name[0] != '"' && !name.Contains('≤') && !name.Contains('≥'))
            ? name
            : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static InvalidInputException Fail(string source, int column, string rule, string message) =>
        new(rule, message, new InputLocation(source, 1, column));
}
