namespace Crucible.Tensors.Serialization;

/// <summary>
/// A validated, fully loaded safetensors file: the header entries (in data-offset order), the <c>__metadata__</c>
/// map and the data buffer. Produced by <see cref="SafeTensors.Load(string)"/> and its overloads.
/// </summary>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, SafeTensorsTensorInfo> _byName;
    private readonly byte[] _buffer;
    private readonly long _bufferStart;

    internal SafeTensorsFile(
        string sourceName,
        IReadOnlyList<SafeTensorsTensorInfo> tensors,
        IReadOnlyDictionary<string, string>? metadata,
        byte[] buffer,
        long bufferStart)
    {
        SourceName = sourceName;
        Tensors = tensors;
        Metadata = metadata;
        _buffer = buffer;
        _bufferStart = bufferStart;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was loaded from, or "&lt;bytes&gt;" / "&lt;stream&gt;".</summary>
    public string SourceName { get; }

    /// <summary>The header entries, sorted by data offset (the order of the bytes in the file).</summary>
    public IReadOnlyList<SafeTensorsTensorInfo> Tensors { get; }

    /// <summary>The tensor names, in data-offset order.</summary>
    public IReadOnlyList<string> Names => [.. Tensors.Select(t => t.Name)];

    /// <summary>The <c>__metadata__</c> string map, or null when the header has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>Whether a tensor called <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public SafeTensorsTensorInfo GetInfo(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"{SourceName}: no tensor named \"{name}\".");

    /// <summary>The shape of <paramref name="name"/> (a copy).</summary>
    public int[] GetShape(string name) => (int[])GetInfo(name).Shape.Clone();

    /// <summary>The element type of <paramref name="name"/>.</summary>
    public SafeTensorsDType GetDType(string name) => GetInfo(name).DType;

    /// <summary>The tensor's raw bytes with its name, shape and dtype (a copy).</summary>
    public NamedTensorData GetData(string name)
    {
        var info = GetInfo(name);
        byte[] bytes = _buffer.AsSpan(checked((int)(_bufferStart + info.Begin)), checked((int)(info.End - info.Begin))).ToArray();
        return new NamedTensorData(info.Name, (int[])info.Shape.Clone(), info.DType, bytes);
    }

    /// <summary>The elements of <paramref name="name"/> as float (see <see cref="NamedTensorData.ToFloat32"/>).</summary>
    public float[] GetFloat32(string name) => GetData(name).ToFloat32();

    /// <summary>The elements of <paramref name="name"/> as double (see <see cref="NamedTensorData.ToFloat64"/>).</summary>
    public double[] GetFloat64(string name) => GetData(name).ToFloat64();

    /// <summary>The elements of an I32 or I64 tensor as long.</summary>
    public long[] GetInt64(string name) => GetData(name).ToInt64();
}
