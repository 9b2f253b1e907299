using System.Text.Json;

namespace Crucible.Data.Transforms;

/// <summary>The JSON document of a fitted pipeline.</summary>
/// <param name="Version">Format version (1).</param>
/// <param name="Transforms">The steps, in forward order.</param>
public sealed record TransformPipelineState(int Version, IReadOnlyList<TransformState> Transforms);

/// <summary>
/// A sequence of transforms, fitted in order on the train split (each step on the previous step's output),
/// then frozen. <see cref="Inverse"/> undoes the steps in reverse order. Serialises to JSON and back exactly.
/// </summary>
public sealed class TransformPipeline
{
    private readonly List<ISeriesTransform> _steps;

    /// <summary>Creates a pipeline from steps in forward order.</summary>
    public TransformPipeline(params IEnumerable<ISeriesTransform> steps) => _steps = steps.ToList();

    /// <summary>The steps, in forward order.</summary>
    public IReadOnlyList<ISeriesTransform> Steps => _steps;

    /// <summary>Whether every step is fitted.</summary>
    public bool IsFitted => _steps.All(s => s.IsFitted);

    /// <summary>Fits each step on the train split as transformed by the steps before it; returns the transformed train split.</summary>
    public TimeSeriesFrame Fit(TimeSeriesFrame train)
    {
        var current = train;
        foreach (var step in _steps)
        {
            step.Fit(current);
            current = step.Forward(current);
        }

        return current;
    }

    /// <summary>Applies every step in order.</summary>
    public TimeSeriesFrame Forward(TimeSeriesFrame frame) => _steps.Aggregate(frame, (f, s) => s.Forward(f));

    /// <summary>Undoes every step in reverse order.</summary>
    public TimeSeriesFrame Inverse(TimeSeriesFrame frame) => Enumerable.Reverse(_steps).Aggregate(frame, (f, s) => s.Inverse(f));

    /// <summary>The frozen state of every step.</summary>
    public TransformPipelineState ToState() => new(1, _steps.Select(s => s.ToState()).ToArray());

    /// <summary>The pipeline as JSON (indented; doubles in shortest round-trip form).</summary>
    public string ToJson() => JsonSerializer.Serialize(ToState(), DataJsonContext.Default.TransformPipelineState);

    /// <summary>Restores a fitted pipeline from <see cref="ToJson"/> output.</summary>
    public static TransformPipeline FromJson(string json)
    {
        TransformPipelineState? state;
        try
        {
            state = JsonSerializer.Deserialize(json, DataJsonContext.Default.TransformPipelineState);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(Csv.CsvRules.Transform, "invalid transform pipeline JSON: " + e.Message);
        }

        if (state is null || state.Version != 1)
            throw new InvalidInputException(Csv.CsvRules.Transform, "unsupported transform pipeline JSON (expected version 1)");
        if (state.Transforms is null) throw new InvalidInputException(Csv.CsvRules.Transform, "the transform pipeline JSON has no transforms");
        return new TransformPipeline(state.Transforms.Select(FromState));
    }

    /// <summary>Restores one fitted transform from its state.</summary>
    /// <exception cref="InvalidInputException">The state is not one a fitted transform writes (rule <c>TRANSFORM-E</c>).</exception>
    public static ISeriesTransform FromState(TransformState state)
    {
        // what JSON can leave out (null members) is refused here, before a transform reads it
        if (state is null || state.Columns is null || state.Columns.Any(c => c is null) || state.Arrays is null || state.Settings is null)
            throw new InvalidInputException(Csv.CsvRules.Transform, "a transform state needs its kind, columns, arrays and settings");
        return Restore(state);
    }

    private static ISeriesTransform Restore(TransformState state) => state.Kind switch
    {
        TransformKind.LogReturn => LogReturnTransform.FromState(state),
        TransformKind.StandardScaler => StandardScaler.FromState(state),
        TransformKind.QuantileNormal => QuantileNormalTransform.FromState(state),
        TransformKind.VolatilityScaler => VolatilityScaler.FromState(state),
        _ => throw new InvalidInputException(Csv.CsvRules.Transform, $"unknown transform kind {state.Kind}"),
    };
}
