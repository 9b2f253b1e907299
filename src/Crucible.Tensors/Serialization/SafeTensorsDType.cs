namespace Crucible.Tensors.Serialization;

/// <summary>
/// The element types this reader and writer support, named as in the safetensors header (<c>"dtype": "F32"</c>).
/// Data is always little-endian and C-contiguous (row-major).
/// </summary>
public enum SafeTensorsDType
{
    /// <summary>IEEE 754 binary16 (<c>"F16"</c>), 2 bytes.</summary>
    F16,

    /// <summary>bfloat16, the high half of a binary32 (<c>"BF16"</c>), 2 bytes.</summary>
    BF16,

    /// <summary>IEEE 754 binary32 (<c>"F32"</c>), 4 bytes; the engine's own element type.</summary>
    F32,

    /// <summary>IEEE 754 binary64 (<c>"F64"</c>), 8 bytes.</summary>
    F64,

    /// <summary>Signed 32-bit integer (<c>"I32"</c>), 4 bytes.</summary>
    I32,

    /// <summary>Signed 64-bit integer (<c>"I64"</c>), 8 bytes.</summary>
    I64,
}

/// <summary>Sizes, header names and the reference writer's ordering of <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypeExtensions
{
    /// <summary>The size in bytes of one element.</summary>
    public static int ElementSize(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The dtype string used in the JSON header, e.g. <c>"BF16"</c>.</summary>
    public static string ToHeaderName(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F16 => "F16",
        SafeTensorsDType.BF16 => "BF16",
        SafeTensorsDType.F32 => "F32",
        SafeTensorsDType.F64 => "F64",
        SafeTensorsDType.I32 => "I32",
        SafeTensorsDType.I64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>Parses a header dtype string (case-sensitive, as the reference implementation is).</summary>
    public static bool TryParseHeaderName(string name, out SafeTensorsDType dtype)
    {
        switch (name)
        {
            case "F16": dtype = SafeTensorsDType.F16; return true;
            case "BF16": dtype = SafeTensorsDType.BF16; return true;
            case "F32": dtype = SafeTensorsDType.F32; return true;
            case "F64": dtype = SafeTensorsDType.F64; return true;
            case "I32": dtype = SafeTensorsDType.I32; return true;
            case "I64": dtype = SafeTensorsDType.I64; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>
    /// Position in the Rust reference's <c>Dtype</c> enum (declared "in increasing alignment order":
    /// ... F16, BF16, I32, U32, F32, F64, I64, U64). Its writer sorts tensors by this rank descending, then by name.
    /// </summary>
    internal static int ReferenceRank(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F16 => 0,
        SafeTensorsDType.BF16 => 1,
        SafeTensorsDType.I32 => 2,
        SafeTensorsDType.F32 => 3,
        SafeTensorsDType.F64 => 4,
        SafeTensorsDType.I64 => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };
}
