using System.Text.Json;
using System.Text.Json.Serialization;

using Crucible.Data;

namespace Crucible.Diffusion;

/// <summary>
/// The generator kind of a model (<c>manifest.json</c>'s <c>kind</c>, a scenario file's metadata <c>kind</c>, a run's
/// config <c>kind</c>). Stored as its wire name (<see cref="ModelKinds.WireName"/>), never as a number.
/// </summary>
[JsonConverter(typeof(ModelKindJsonConverter))]
public enum ModelKind
{
    /// <summary><c>tabular</c>: rows of returns (<see cref="Crucible.Diffusion.Tabular.DiffusionGenerator"/>); each scenario is one row, one step.</summary>
    Tabular,

    /// <summary><c>sequence</c>: windows of days, optionally conditioned (<see cref="Crucible.Diffusion.Sequence.SequenceGenerator"/>).</summary>
    Sequence,
}

/// <summary>The stable wire names of <see cref="ModelKind"/>.</summary>
public static class ModelKinds
{
    private static readonly WireNames<ModelKind> Names = new(
        (ModelKind.Tabular, "tabular"),
        (ModelKind.Sequence, "sequence"));

    /// <summary>Every kind, in the order above.</summary>
    public static IReadOnlyList<ModelKind> All => Names.All;

    /// <summary>The wire names joined for a message, e.g. <c>tabular or sequence</c>.</summary>
    public static string Choices { get; } = Names.Choices(" or ");

    /// <summary>The wire name of <paramref name="kind"/>, e.g. <c>tabular</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined kind.</exception>
    public static string WireName(this ModelKind kind) =>
        Names.NameOf(kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind");

    /// <summary>The kind whose wire name is <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static ModelKind? FromWireName(string? name) => Names.ValueOf(name);
}

/// <summary>Writes and reads a <see cref="ModelKind"/> as its wire name; any other value is a <see cref="JsonException"/>.</summary>
public sealed class ModelKindJsonConverter : JsonConverter<ModelKind>
{
    /// <inheritdoc />
    public override ModelKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string? name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return ModelKinds.FromWireName(name) ?? throw new JsonException($"the model kind must be {ModelKinds.Choices}");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ModelKind value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.WireName());
    }
}
