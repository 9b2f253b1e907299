using System.Buffers.Binary;

namespace Crucible.Tensors.Serialization;

/// <summary>
/// One tensor as stored in a safetensors file: its name, shape (row-major), element type and raw little-endian bytes.
/// <c>Data.Length</c> must equal product(<c>Shape</c>) × <c>DType.ElementSize()</c>; a scalar has shape <c>[]</c>.
/// </summary>
/// <remarks>Record equality compares the array references, not their contents.</remarks>
/// <param name="Name">The tensor name (a state-dict key such as <c>"layers.0.weight"</c>).</param>
/// <param name="Shape">The dimensions, outermost first; each ≥ 0.</param>
/// <param name="DType">The element type.</param>
/// <param name="Data">The elements, little-endian, C-contiguous.</param>
public sealed record NamedTensorData(string Name, int[] Shape, SafeTensorsDType DType, byte[] Data)
{
    /// <summary>
    /// Encodes float values as <paramref name="dtype"/>: F32 bit for bit; F64 exactly; F16 and BF16 rounded to
    /// nearest, ties to even, NaN kept NaN (BF16 NaNs are made quiet). Integer tensors come from
    /// <see cref="FromInt64"/> or <see cref="FromInt32"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is an integer type, or the length does not match the shape.</exception>
    public static NamedTensorData FromFloat32(string name, int[] shape, ReadOnlySpan<float> values,
        SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        long count = ElementCount(shape);
        if (count != values.Length)
            throw new ArgumentException($"Tensor \"{name}\": shape {FormatShape(shape)} has {count} elements, data has {values.Length}.",
                nameof(values));
        byte[] data = new byte[checked(values.Length * dtype.ElementSize())];
        var d = data.AsSpan();
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(d[(4 * i)..], values[i]);
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteDoubleLittleEndian(d[(8 * i)..], values[i]);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(d[(2 * i)..], (Half)values[i]);
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(d[(2 * i)..], BFloat16Bits(values[i]));
                break;
            default:
                throw new ArgumentException($"FromFloat32 writes floating-point dtypes only, not {dtype}.", nameof(dtype));
        }
        return new NamedTensorData(name, shape, dtype, data);
    }

    /// <summary>Encodes 64-bit integers as I64.</summary>
    public static NamedTensorData FromInt64(string name, int[] shape, ReadOnlySpan<long> values)
    {
        CheckCount(name, shape, values.Length);
        byte[] data = new byte[checked(values.Length * 8)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8 * i), values[i]);
        return new NamedTensorData(name, shape, SafeTensorsDType.I64, data);
    }

    /// <summary>Encodes 32-bit integers as I32.</summary>
    public static NamedTensorData FromInt32(string name, int[] shape, ReadOnlySpan<int> values)
    {
        CheckCount(name, shape, values.Length);
        byte[] data = new byte[checked(values.Length * 4)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4 * i), values[i]);
        return new NamedTensorData(name, shape, SafeTensorsDType.I32, data);
    }

    /// <summary>Encodes doubles as F64, exactly.</summary>
    public static NamedTensorData FromFloat64(string name, int[] shape, ReadOnlySpan<double> values)
    {
        CheckCount(name, shape, values.Length);
        byte[] data = new byte[checked(values.Length * 8)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), values[i]);
        return new NamedTensorData(name, shape, SafeTensorsDType.F64, data);
    }

    /// <summary>
    /// Decodes the elements to float: F32 bit for bit (NaN payloads and -0 kept), F16/BF16 exactly, F64 rounded to
    /// nearest, I32/I64 by the usual integer-to-float conversion (rounded to nearest beyond 2^24).
    /// </summary>
    public float[] ToFloat32()
    {
        int n = Data.Length / DType.ElementSize();
        var result = new float[n];
        ReadOnlySpan<byte> s = Data;
        for (int i = 0; i < n; i++)
        {
            result[i] = DType switch
            {
                SafeTensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]),
                SafeTensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(s[(8 * i)..]),
                SafeTensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(s[(2 * i)..]),
                SafeTensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]) << 16),
                SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]),
                SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]),
                _ => throw new InvalidOperationException($"Unknown dtype {DType}."),
            };
        }
        return result;
    }

    /// <summary>Decodes the elements to double: every supported dtype except I64 beyond 2^53 converts exactly.</summary>
    public double[] ToFloat64()
    {
        if (DType == SafeTensorsDType.F64)
        {
            var d = new double[Data.Length / 8];
            for (int i = 0; i < d.Length; i++)
                d[i] = BinaryPrimitives.ReadDoubleLittleEndian(Data.AsSpan(8 * i));
            return d;
        }
        if (DType == SafeTensorsDType.I64)
            return Array.ConvertAll(ToInt64(), v => (double)v);
        return Array.ConvertAll(ToFloat32(), v => (double)v);
    }

    /// <summary>Decodes I32 or I64 elements to long.</summary>
    /// <exception cref="InvalidOperationException">The dtype is not an integer type.</exception>
    public long[] ToInt64()
    {
        if (DType == SafeTensorsDType.I64)
        {
            var r = new long[Data.Length / 8];
            for (int i = 0; i < r.Length; i++)
                r[i] = BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan(8 * i));
            return r;
        }
        if (DType == SafeTensorsDType.I32)
        {
            var r = new long[Data.Length / 4];
            for (int i = 0; i < r.Length; i++)
                r[i] = BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(4 * i));
            return r;
        }
        throw new InvalidOperationException($"Tensor \"{Name}\" is {DType.ToHeaderName()}, not an integer type.");
    }

    /// <summary>
    /// float → bfloat16 bits, round to nearest even: bits + 0x7FFF + ((bits >> 16) &amp; 1), then the high half.
    /// NaN becomes a quiet NaN with the same sign and high payload bits (rounding could otherwise carry it to ±inf).
    /// </summary>
    internal static ushort BFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        uint rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(rounded >> 16);
    }

    internal static long ElementCount(int[] shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"Shape {FormatShape(shape)} has a negative dimension.", nameof(shape));
            count = checked(count * dim);
        }
        return count;
    }

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    internal static string FormatShape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    private static void CheckCount(string name, int[] shape, int length)
    {
        long count = ElementCount(shape);
        if (count != length)
            throw new ArgumentException($"Tensor \"{name}\": shape {FormatShape(shape)} has {count} elements, data has {length}.");
    }
}
