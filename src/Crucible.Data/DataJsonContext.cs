using System.Text.Json.Serialization;
using Crucible.Data.Csv;
using Crucible.Data.Transforms;

namespace Crucible.Data;

/// <summary>
/// Source-generated System.Text.Json metadata for the data layer's JSON documents (data-quality reports,
/// transform pipelines, split descriptions): snake_case keys, enums as strings, culture-invariant numbers.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(DataQualityReport))]
[JsonSerializable(typeof(TransformPipelineState))]
[JsonSerializable(typeof(Splits.TimeSplit))]
public sealed partial class DataJsonContext : JsonSerializerContext;
