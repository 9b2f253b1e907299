using System.Globalization;

namespace Crucible.Data.Transforms;

/// <summary>The kinds of series transforms, as stored in JSON.</summary>
public enum TransformKind
{
    /// <summary><see cref="LogReturnTransform"/>.</summary>
    LogReturn,

    /// <summary><see cref="StandardScaler"/>.</summary>
    StandardScaler,

    /// <summary><see cref="QuantileNormalTransform"/>.</summary>
    QuantileNormal,

    /// <summary><see cref="VolatilityScaler"/>.</summary>
    VolatilityScaler,
}

/// <summary>
/// The frozen state of a fitted transform: its kind, the columns it was fitted on, named parameter arrays and
/// named settings. Serialises to JSON exactly (doubles round-trip).
/// </summary>
public sealed record TransformState(
    TransformKind Kind,
    IReadOnlyList<string> Columns,
    IReadOnlyDictionary<string, double[]> Arrays,
    IReadOnlyDictionary<string, string> Settings);

/// <summary>
/// A preprocessing step for series, scikit-learn style: <see cref="Fit"/> on the train split only, then frozen;
/// <see cref="Forward"/> and <see cref="Inverse"/> apply it to any frame with the same columns.
/// Leakage-safe by construction: nothing after <see cref="Fit"/> changes the state.
/// </summary>
public interface ISeriesTransform
{
    /// <summary>Which transform this is.</summary>
    TransformKind Kind { get; }

    /// <summary>Whether <see cref="Fit"/> has been called (or the state was loaded).</summary>
    bool IsFitted { get; }

    /// <summary>Learns the parameters from <paramref name="train"/> (the train split only). Refits replace the state.</summary>
    void Fit(TimeSeriesFrame train);

    /// <summary>Applies the transform.</summary>
    TimeSeriesFrame Forward(TimeSeriesFrame frame);

    /// <summary>Undoes <see cref="Forward"/>: <c>Inverse(Forward(x)) ≈ x</c> up to rounding.</summary>
    TimeSeriesFrame Inverse(TimeSeriesFrame frame);

    /// <summary>The frozen state, for JSON.</summary>
    TransformState ToState();
}

/// <summary>Shared checks for transforms.</summary>
internal static class TransformGuard
{
    public static void RequireFitted(bool fitted, TransformKind kind)
    {
        if (!fitted) throw new InvalidInputException(Csv.CsvRules.Transform, $"the {kind} transform is used before it was fitted");
    }

    public static void RequireColumns(IReadOnlyList<string> fitted, TimeSeriesFrame frame, TransformKind kind)
    {
        if (!fitted.SequenceEqual(frame.Columns, StringComparer.Ordinal))
        {
            throw new InvalidInputException(Csv.CsvRules.Transform,
                $"the {kind} transform was fitted on columns [{string.Join(", ", fitted)}] but got [{string.Join(", ", frame.Columns)}]");
        }
    }

    /// <summary>
    /// Checks that the transform is fitted and sees the columns it was fitted on, then maps each value with its
    /// column index: the shared body of the elementwise transforms' Forward and Inverse.
    /// </summary>
    public static TimeSeriesFrame MapColumnwise(bool fitted, IReadOnlyList<string> columns, TimeSeriesFrame frame, TransformKind kind, Func<int, double, double> map)
    {
        RequireFitted(fitted, kind);
        RequireColumns(columns, frame, kind);
        var d = frame.ColumnCount;
        var values = frame.ValueSpan; // in place: a train split is a Head of the whole file's frame
        var result = new double[values.Length];
        for (var i = 0; i < result.Length; i++) result[i] = map(i % d, values[i]);
        return frame.WithValues(result);
    }

    public static void RequireRows(TimeSeriesFrame frame, int min, TransformKind kind)
    {
        if (frame.RowCount < min)
            throw new InvalidInputException(Csv.CsvRules.Transform, $"the {kind} transform needs at least {min} rows to fit, got {frame.RowCount}");
    }

    public static void RequireFinite(TimeSeriesFrame frame, TransformKind kind)
    {
        foreach (var v in frame.ValueSpan)
        {
            if (!double.IsFinite(v))
                throw new InvalidInputException(Csv.CsvRules.Transform, $"the {kind} transform cannot be fitted on NaN or infinite values");
        }
    }

    public static double[] Array(TransformState state, string name, int length)
    {
        if (!state.Arrays.TryGetValue(name, out var a) || a is null || a.Length != length)
            throw new InvalidInputException(Csv.CsvRules.Transform, $"transform state {state.Kind} lacks array '{name}' of length {length}");
        return a;
    }

    /// <summary>
    /// Array <paramref name="name"/> of <paramref name="length"/> values that each pass <paramref name="valid"/>
    /// (<paramref name="what"/> says what they must be), as <see cref="ISeriesTransform.Fit"/> writes them: a state read back
    /// from a file is refused here rather than mapping values to NaN later.
    /// </summary>
    public static double[] Array(TransformState state, string name, int length, Func<double, bool> valid, string what)
    {
        var a = Array(state, name, length);
        if (!a.All(valid)) throw Broken(state, $"array '{name}' must hold {what}");
        return a;
    }

    public static string Setting(TransformState state, string name) =>
        state.Settings.TryGetValue(name, out var s) && s is not null ? s
            : throw new InvalidInputException(Csv.CsvRules.Transform, $"transform state {state.Kind} lacks setting '{name}'");

    /// <summary>Setting <paramref name="name"/> as a whole number (invariant culture) of at least <paramref name="min"/>.</summary>
    public static int IntSetting(TransformState state, string name, int min) =>
        int.TryParse(Setting(state, name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min ? v
            : throw Broken(state, $"setting '{name}' must be a whole number of at least {min}");

    /// <summary>Setting <paramref name="name"/> as a number (invariant culture) strictly between 0 and 1.</summary>
    public static double FractionSetting(TransformState state, string name) =>
        double.TryParse(Setting(state, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is > 0 and < 1 ? v
            : throw Broken(state, $"setting '{name}' must be a number in (0, 1)");

    /// <summary>Setting <paramref name="name"/> as the name of a member of <typeparamref name="TEnum"/> (not a number).</summary>
    public static TEnum EnumSetting<TEnum>(TransformState state, string name)
        where TEnum : struct, Enum
    {
        var s = Setting(state, name);
        return Enum.GetNames<TEnum>().Contains(s, StringComparer.Ordinal) ? Enum.Parse<TEnum>(s)
            : throw Broken(state, $"setting '{name}' must be one of {string.Join(", ", Enum.GetNames<TEnum>())}");
    }

    /// <summary>Whether <paramref name="a"/> is finite and strictly increasing.</summary>
    public static bool StrictlyIncreasing(double[] a)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (!double.IsFinite(a[i]) || (i > 0 && !(a[i] > a[i - 1]))) return false;
        }

        return true;
    }

    public static InvalidInputException Broken(TransformState state, string message) =>
        new(Csv.CsvRules.Transform, $"transform state {state.Kind}: {message}");
}
