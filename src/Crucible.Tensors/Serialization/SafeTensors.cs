using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crucible.Tensors.Serialization;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors):
/// <code>
/// [8 bytes]  N, unsigned little-endian: the header length
/// [N bytes]  UTF-8 JSON: {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
///            padded with spaces (0x20) so that N is a multiple of 8
/// [rest]     the data buffer: each tensor's little-endian, row-major bytes at [begin, end) of this buffer;
///            the ranges are contiguous from 0 and cover the buffer exactly
/// </code>
/// The writer reproduces the reference Rust writer (<c>safetensors/src/tensor.rs</c>, <c>prepare</c>): entries sorted
/// by dtype (descending alignment: I64, F64, F32, I32, BF16, F16) and then by name (UTF-8 byte order), compact JSON
/// with <c>__metadata__</c> first, serde_json string escaping, space padding to 8 bytes. Metadata keys, which the
/// reference writes in hash order, are sorted here so the same input always gives the same bytes.
/// </summary>
public static class SafeTensors
{
    /// <summary>The reference implementation's limit on the header length (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes float tensors as F32 to <paramref name="path"/>, atomically (see <see cref="Save(string, IReadOnlyList{NamedTensorData}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    /// <param name="path">The destination file; replaced if it exists.</param>
    /// <param name="tensors">(name, shape, row-major data) triples; data length must equal product(shape).</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string map; omitted from the header when null.</param>
    public static void Save(
        string path,
        IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, ToNamedF32(tensors), metadata);

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically: the bytes go to a temporary file in
    /// the same folder, which is flushed to disk and then renamed over <paramref name="path"/>. A reader therefore
    /// sees either the old file or the complete new one, never a torn write.
    /// </summary>
    /// <exception cref="ArgumentException">Duplicate or reserved names, negative dimensions, or a data length that
    /// does not match shape × dtype size.</exception>
    public static void Save(
        string path,
        IReadOnlyList<NamedTensorData> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"No folder in path {path}.", nameof(path));
        // Validate and lay out before touching the disk, so bad input leaves no temporary file behind.
        var layout = Prepare(tensors, metadata);
        // the temporary-name rule of every writer (Crucible.Data's AtomicFile, whose clean-ups recognise it), compiled in here
        string temp = Path.Combine(directory, Crucible.Data.IO.TemporaryName.Of(Path.GetFileName(fullPath), Crucible.Data.IO.TemporaryName.NewId()));
        bool moved = false;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                WriteLayout(stream, layout);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
            moved = true;
        }
        finally
        {
            if (!moved && File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="tensors"/> in safetensors layout to <paramref name="destination"/>.</summary>
    public static void Write(
        Stream destination,
        IReadOnlyList<NamedTensorData> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        WriteLayout(destination, Prepare(tensors, metadata));
    }

    /// <summary>Returns the safetensors bytes of <paramref name="tensors"/>.</summary>
    public static byte[] Serialize(
        IReadOnlyList<NamedTensorData> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var memory = new MemoryStream();
        Write(memory, tensors, metadata);
        return memory.ToArray();
    }

    /// <summary>Returns the safetensors bytes of float tensors written as F32.</summary>
    public static byte[] Serialize(
        IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Serialize(ToNamedF32(tensors), metadata);

    /// <summary>Reads and validates the safetensors file at <paramref name="path"/> (whole file into memory; at most 2 GB).</summary>
    /// <exception cref="InvalidDataException">The file breaks a rule of the format; the message names the
    /// file and the rule.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads and validates safetensors <paramref name="bytes"/> (not copied: do not modify them afterwards).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="sourceName">The name used in error messages.</param>
    /// <exception cref="InvalidDataException">The bytes break a rule of the format.</exception>
    public static SafeTensorsFile Load(byte[] bytes, string sourceName = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Parse(bytes, sourceName);
    }

    /// <summary>Reads <paramref name="source"/> to its end and validates it as safetensors.</summary>
    /// <exception cref="InvalidDataException">The data breaks a rule of the format.</exception>
    public static SafeTensorsFile Load(Stream source, string sourceName = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(source);
        using var memory = new MemoryStream();
        source.CopyTo(memory);
        return Parse(memory.ToArray(), sourceName);
    }

    // ---------------------------------------------------------------- writing

    private sealed record Layout(byte[] Header, NamedTensorData[] Ordered);

    private static NamedTensorData[] ToNamedF32(IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var result = new NamedTensorData[tensors.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = NamedTensorData.FromFloat32(tensors[i].Name, tensors[i].Shape, tensors[i].Data);
        return result;
    }

    private static Layout Prepare(IReadOnlyList<NamedTensorData> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            if (t.Name == MetadataKey)
                throw new ArgumentException($"\"{MetadataKey}\" is reserved and cannot name a tensor.", nameof(tensors));
            RequireUtf8(t.Name, "Tensor name", nameof(tensors));
            if (!names.Add(t.Name))
                throw new ArgumentException($"Duplicate tensor name \"{t.Name}\".", nameof(tensors));
            long expected = checked(NamedTensorData.ElementCount(t.Shape) * t.DType.ElementSize());
            if (t.Data.Length != expected)
                throw new ArgumentException(
                    $"Tensor \"{t.Name}\": shape {NamedTensorData.FormatShape(t.Shape)} × {t.DType.ToHeaderName()} needs {expected} bytes, " +
                    $"data has {t.Data.Length}.", nameof(tensors));
        }

        // Reference order: dtype descending (by the Rust enum's declaration order), then name ascending (UTF-8 bytes).
        var ordered = tensors.ToArray();
        Array.Sort(ordered, (a, b) =>
        {
            int byType = b.DType.ReferenceRank().CompareTo(a.DType.ReferenceRank());
            return byType != 0 ? byType : CompareUtf8(a.Name, b.Name);
        });

        var json = new StringBuilder();
        json.Append('{');
        bool first = true;
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                RequireUtf8(key, "Metadata key", nameof(metadata));
                RequireUtf8(value, $"Metadata value of \"{key}\"", nameof(metadata));
            }

            json.Append('"').Append(MetadataKey).Append("\":{");
            bool firstEntry = true;
            foreach (var key in metadata.Keys.Order(Comparer<string>.Create(CompareUtf8)))
            {
                if (!firstEntry)
                    json.Append(',');
                AppendJsonString(json, key);
                json.Append(':');
                AppendJsonString(json, metadata[key] ?? throw new ArgumentException($"Metadata \"{key}\" is null.", nameof(metadata)));
                firstEntry = false;
            }
            json.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in ordered)
        {
            if (!first)
                json.Append(',');
            first = false;
            AppendJsonString(json, t.Name);
            json.Append(":{\"dtype\":\"").Append(t.DType.ToHeaderName()).Append("\",\"shape\":[");
            json.AppendJoin(',', t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            json.Append("],\"data_offsets\":[")
                .Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + t.Data.Length).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += t.Data.Length;
        }
        json.Append('}');

        byte[] body = Encoding.UTF8.GetBytes(json.ToString());
        int padded = (body.Length + 7) / 8 * 8;        // N ≡ 0 (mod 8), so the buffer starts 8-byte aligned
        byte[] header = new byte[padded];
        body.CopyTo(header, 0);
        header.AsSpan(body.Length).Fill((byte)' ');
        return new Layout(header, ordered);
    }

    /// <summary>Throws unless <paramref name="value"/> has a UTF-8 form (no lone surrogate), which the header needs.</summary>
    private static void RequireUtf8(string? value, string what, string parameterName)
    {
        if (value is null)
            return;
        try
        {
            StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"{what} \"{value}\" is not valid UTF-16 (a lone surrogate), so it has no UTF-8 form.", parameterName, e);
        }
    }

    private static void WriteLayout(Stream destination, Layout layout)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)layout.Header.Length);
        destination.Write(prefix);
        destination.Write(layout.Header);
        foreach (var t in layout.Ordered)
            destination.Write(t.Data);
    }

    private static int CompareUtf8(string? a, string? b) =>
        Encoding.UTF8.GetBytes(a ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b ?? ""));

    /// <summary>JSON string literal with serde_json's escaping: <c>"</c>, <c>\</c>, and control characters only.</summary>
    private static void AppendJsonString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < 0x20)
                        json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }

    // ---------------------------------------------------------------- reading

    private static SafeTensorsFile Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 8)
            throw Fail(source, $"file is {bytes.Length} bytes, shorter than the 8-byte header-length prefix");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)MaxHeaderLength)
            throw Fail(source, $"header length {n} exceeds the limit of {MaxHeaderLength} bytes");
        if (n > (ulong)(bytes.Length - 8))
            throw Fail(source, $"header length {n} is larger than the {bytes.Length - 8} bytes that follow the length prefix");
        int headerLength = (int)n;

        string headerText;
        try
        {
            headerText = StrictUtf8.GetString(bytes, 8, headerLength);
        }
        catch (DecoderFallbackException e)
        {
            throw Fail(source, "header is not valid UTF-8", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerText);
        }
        catch (JsonException e)
        {
            throw Fail(source, $"header is not valid JSON ({e.Message})", e);
        }

        var entries = new List<SafeTensorsTensorInfo>();
        Dictionary<string, string>? metadata = null;
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Fail(source, $"header must be a JSON object, found {document.RootElement.ValueKind}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                        throw Fail(source, $"duplicate key \"{property.Name}\" in header");
                    if (property.Name == MetadataKey)
                        metadata = ParseMetadata(source, property.Value);
                    else
                        entries.Add(ParseEntry(source, property.Name, property.Value));
                }
            }
            catch (InvalidOperationException e)
            {
                // The kinds are checked before every read, so the one way left for a read to throw is a string whose
                // \u escapes decode to a lone UTF-16 surrogate (valid JSON, but not a Unicode string).
                throw Fail(source, $"header has a name or string whose \\u escape is a lone UTF-16 surrogate ({e.Message})", e);
            }
        }

        // Offsets: sorted by begin they must tile [0, buffer length) exactly, each range sized shape × dtype.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long bufferLength = bytes.Length - 8L - headerLength;
        long expectedBegin = 0;
        foreach (var e in entries)
        {
            if (e.Begin < expectedBegin)
                throw Fail(source, $"tensor \"{e.Name}\" data_offsets [{e.Begin}, {e.End}] overlap the previous tensor, which ends at {expectedBegin}");
            if (e.Begin > expectedBegin)
                throw Fail(source, $"gap in the data buffer: bytes [{expectedBegin}, {e.Begin}) belong to no tensor (next is \"{e.Name}\")");
            long needed;
            try
            {
                needed = checked(e.Shape.Aggregate(1L, (a, d) => checked(a * d)) * e.DType.ElementSize());
            }
            catch (OverflowException ex)
            {
                throw Fail(source, $"tensor \"{e.Name}\" shape {NamedTensorData.FormatShape(e.Shape)} overflows a 64-bit byte count", ex);
            }
            if (e.End - e.Begin != needed)
                throw Fail(source, $"tensor \"{e.Name}\" has data_offsets [{e.Begin}, {e.End}] ({e.End - e.Begin} bytes) " +
                    $"but shape {NamedTensorData.FormatShape(e.Shape)} × {e.DType.ToHeaderName()} needs {needed} bytes");
            if (e.End > bufferLength)
                throw Fail(source, $"tensor \"{e.Name}\" data_offsets [{e.Begin}, {e.End}] run past the end of the {bufferLength}-byte data buffer");
            expectedBegin = e.End;
        }
        if (expectedBegin != bufferLength)
            throw Fail(source, $"tensors cover {expectedBegin} bytes but the data buffer has {bufferLength}: data_offsets must cover the buffer exactly");

        return new SafeTensorsFile(source, entries, metadata, bytes, 8L + headerLength);
    }

    private static Dictionary<string, string> ParseMetadata(string source, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"\"{MetadataKey}\" must be an object of strings, found {value.ValueKind}");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw Fail(source, $"\"{MetadataKey}\" value for \"{p.Name}\" must be a string, found {p.Value.ValueKind}");
            if (!map.TryAdd(p.Name, p.Value.GetString()!))
                throw Fail(source, $"duplicate key \"{p.Name}\" in \"{MetadataKey}\"");
        }
        return map;
    }

    private static SafeTensorsTensorInfo ParseEntry(string source, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"tensor \"{name}\" must be an object with dtype, shape and data_offsets, found {value.ValueKind}");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Fail(source, $"tensor \"{name}\" has no string \"dtype\"");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDTypeExtensions.TryParseHeaderName(dtypeName, out var dtype))
            throw Fail(source, $"tensor \"{name}\" has unknown or unsupported dtype \"{dtypeName}\" (supported: F16, BF16, F32, F64, I32, I64)");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Fail(source, $"tensor \"{name}\" has no \"shape\" array");
        var shape = new int[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                throw Fail(source, $"tensor \"{name}\" shape entry {i} is not an integer in [0, {int.MaxValue}]");
            shape[i++] = dim;
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
            throw Fail(source, $"tensor \"{name}\" has no \"data_offsets\" array of two integers");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < 0)
            throw Fail(source, $"tensor \"{name}\" data_offsets must be non-negative integers");
        if (end < begin)
            throw Fail(source, $"tensor \"{name}\" data_offsets [{begin}, {end}] end before they begin");
        return new SafeTensorsTensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>Every format violation is an <see cref="InvalidDataException"/> whose message is "source: rule".</summary>
    private static InvalidDataException Fail(string source, string rule, Exception? inner = null) => new($"{source}: {rule}", inner);
}
