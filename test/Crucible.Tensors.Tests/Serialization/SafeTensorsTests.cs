using System.Buffers.Binary;
using System.Text;
using Crucible.Tensors.Serialization;

namespace Crucible.Tensors.Tests.Serialization;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("crucible-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>8-byte little-endian length, then the header text, then the buffer: the layout written out by hand.</summary>
    private static byte[] File(string header, params byte[] buffer)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        buffer.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    // ------------------------------------------------------------ golden bytes

    [Fact]
    public void Serialize_GoldenBytesForOneF32Tensor()
    {
        // The header is exactly 64 bytes, already a multiple of 8, so there is no padding; 0..5 as little-endian F32.
        byte[] expected = File("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}",
            0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64);
        Assert.Equal(64, BinaryPrimitives.ReadInt64LittleEndian(expected));
        byte[] actual = SafeTensors.Serialize([("attn.0", new[] { 1, 2, 3 }, new float[] { 0, 1, 2, 3, 4, 5 })]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Serialize_PadsHeaderWithSpacesToMultipleOf8()
    {
        // 65-byte JSON + 7 spaces = 72.
        byte[] expected = File("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
            0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64);
        Assert.Equal(72, BinaryPrimitives.ReadInt64LittleEndian(expected));
        Assert.Equal(expected, SafeTensors.Serialize([("attn0", new[] { 1, 1, 2, 3 }, new float[] { 0, 1, 2, 3, 4, 5 })]));
    }

    [Fact]
    public void Serialize_GoldenBytesForEmptyFileWithAndWithoutMetadata()
    {
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 32, 32, 32, 32, 32, 32],
            SafeTensors.Serialize(Array.Empty<NamedTensorData>()));
        // 35-byte JSON + 5 spaces = 40.
        byte[] expected = File("{\"__metadata__\":{\"framework\":\"pt\"}}     ");
        Assert.Equal(expected, SafeTensors.Serialize(Array.Empty<NamedTensorData>(),
            new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void Serialize_OrdersByDTypeDescendingThenName()
    {
        NamedTensorData[] tensors =
        [
            NamedTensorData.FromFloat32("b", [1], [1f]),
            NamedTensorData.FromFloat32("a", [1], [2f], SafeTensorsDType.F16),
            NamedTensorData.FromInt64("c", [1], [3L]),
            NamedTensorData.FromFloat32("a2", [1], [4f]),
            NamedTensorData.FromInt32("d", [1], [5]),
            NamedTensorData.FromFloat32("e", [1], [6f], SafeTensorsDType.BF16),
            NamedTensorData.FromFloat64("f", [1], [7.0]),
        ];
        byte[] bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" });
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes)).TrimEnd(' ');
        Assert.Equal(
            "{\"__metadata__\":{\"a\":\"2\",\"z\":\"1\"}," +
            "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
            "\"f\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}," +
            "\"a2\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]}," +
            "\"d\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[24,28]}," +
            "\"e\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[28,30]}," +
            "\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[30,32]}}",
            header);
    }

    [Fact]
    public void Serialize_EscapesNamesLikeSerdeJson()
    {
        byte[] bytes = SafeTensors.Serialize([NamedTensorData.FromFloat32("q\"\\\t\u0001é", [], [1f])]);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes));
        Assert.StartsWith("{\"q\\\"\\\\\\t\\u0001é\":{\"dtype\":\"F32\",\"shape\":[],", header, StringComparison.Ordinal);
        Assert.Equal("q\"\\\t\u0001é", SafeTensors.Load(bytes).Names.Single());
    }

    [Fact]
    public void Serialize_IsDeterministicAndIndependentOfInputOrder()
    {
        var meta = new Dictionary<string, string> { ["b"] = "x", ["a"] = "y", ["c"] = "z" };
        (string, int[], float[])[] forward = [("w", [2, 2], [1, 2, 3, 4]), ("bias", [2], [5, 6]), ("gamma", [], [7])];
        (string, int[], float[])[] backward = [.. forward.Reverse()];
        byte[] first = SafeTensors.Serialize(forward, meta);
        Assert.Equal(first, SafeTensors.Serialize(forward, meta));
        Assert.Equal(first, SafeTensors.Serialize(backward, meta.Reverse().ToDictionary()));
    }

    // ------------------------------------------------------------ round trips

    [Fact]
    public void SaveLoad_F32RoundTripIsBitExactIncludingNaNPayloadsAndNegativeZero()
    {
        uint[] bits = [0x7FC00001, 0xFFC12345, 0x7F800001, 0x80000000, 0x00000000, 0x7F800000, 0xFF800000, 0x00000001,
            0x3F800000, 0xC2F6E979];
        float[] values = Array.ConvertAll(bits, BitConverter.UInt32BitsToSingle);
        string path = Path.Combine(_folder, "bits.safetensors");
        SafeTensors.Save(path, [("x", new[] { 2, 5 }, values)], new Dictionary<string, string> { ["format"] = "pt" });

        var file = SafeTensors.Load(path);
        Assert.Equal(["x"], file.Names);
        Assert.Equal([2, 5], file.GetShape("x"));
        Assert.Equal(SafeTensorsDType.F32, file.GetDType("x"));
        Assert.Equal("pt", file.Metadata!["format"]);
        Assert.Equal(bits, Array.ConvertAll(file.GetFloat32("x"), BitConverter.SingleToUInt32Bits));
        Assert.Equal(path, file.SourceName);
    }

    [Fact]
    public void SaveLoad_AllDTypesRoundTrip()
    {
        float[] halves = [0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-05f, float.PositiveInfinity];
        long[] longs = [0, -1, long.MaxValue, long.MinValue, 1L << 53];
        int[] ints = [0, -1, int.MaxValue, int.MinValue];
        double[] doubles = [Math.PI, -0.0, double.Epsilon, 1e300];
        NamedTensorData[] tensors =
        [
            NamedTensorData.FromFloat32("h", [7], halves, SafeTensorsDType.F16),
            NamedTensorData.FromFloat32("bf", [7], halves.Select(v => v == 65504f ? 65536f : v).ToArray(), SafeTensorsDType.BF16),
            NamedTensorData.FromInt64("l", [5], longs),
            NamedTensorData.FromInt32("i", [2, 2], ints),
            NamedTensorData.FromFloat64("d", [4], doubles),
        ];
        string path = Path.Combine(_folder, "all.safetensors");
        SafeTensors.Save(path, tensors);
        var file = SafeTensors.Load(path);

        Assert.Equal(halves.Select(BitConverter.SingleToUInt32Bits), file.GetFloat32("h").Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal([0f, -0f, 1f, -2.5f, 65536f, 6.1035156e-05f, float.PositiveInfinity], file.GetFloat32("bf"));
        Assert.Equal(longs, file.GetInt64("l"));
        Assert.Equal(ints.Select(v => (long)v), file.GetInt64("i"));
        Assert.Equal(doubles.Select(BitConverter.DoubleToInt64Bits), file.GetFloat64("d").Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(SafeTensorsDType.BF16, file.GetDType("bf"));
        Assert.Equal([2, 2], file.GetShape("i"));
        foreach (var t in tensors)
            Assert.Equal(t.Data, file.GetData(t.Name).Data);
    }

    [Theory]
    [InlineData(1.00390625f, 1.0f)]          // 1 + 2^-8: tie, rounds to even (down)
    [InlineData(1.01171875f, 1.015625f)]     // 1 + 3·2^-8: tie, rounds to even (up)
    [InlineData(1.0039064f, 1.0078125f)]     // one ulp above the tie: up
    [InlineData(-3.0f, -3.0f)]
    [InlineData(3.4028235e38f, float.PositiveInfinity)] // float.MaxValue rounds up past bf16's largest finite
    public void FromFloat32_BF16RoundsToNearestEven(float value, float expected)
    {
        var t = NamedTensorData.FromFloat32("x", [1], [value], SafeTensorsDType.BF16);
        Assert.Equal(expected, t.ToFloat32()[0]);
    }

    [Fact]
    public void FromFloat32_BF16AndF16KeepNaN()
    {
        float nan = BitConverter.UInt32BitsToSingle(0x7F800001); // payload only in the low bits, would round to inf
        Assert.True(float.IsNaN(NamedTensorData.FromFloat32("x", [1], [nan], SafeTensorsDType.BF16).ToFloat32()[0]));
        Assert.True(float.IsNaN(NamedTensorData.FromFloat32("x", [1], [float.NaN], SafeTensorsDType.F16).ToFloat32()[0]));
    }

    [Fact]
    public void StreamAndByteOverloads_AgreeWithFile()
    {
        NamedTensorData[] tensors = [NamedTensorData.FromFloat32("w", [3], [1f, 2f, 3f])];
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors);
        byte[] bytes = SafeTensors.Serialize(tensors);
        Assert.Equal(bytes, stream.ToArray());
        stream.Position = 0;
        var fromStream = SafeTensors.Load(stream);
        Assert.Equal("<stream>", fromStream.SourceName);
        Assert.Equal([1f, 2f, 3f], fromStream.GetFloat32("w"));
        string path = Path.Combine(_folder, "w.safetensors");
        SafeTensors.Save(path, tensors);
        Assert.Equal(bytes, System.IO.File.ReadAllBytes(path));
    }

    [Fact]
    public void Load_AcceptsAnyEntryOrderAndScalarAndEmptyTensors()
    {
        // Entries out of offset order, a scalar (shape []) and an empty tensor (shape [0]) are all valid.
        byte[] bytes = File("{\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]}," +
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 0, 128, 63, 0, 0, 0, 64);
        var file = SafeTensors.Load(bytes);
        Assert.Equal(["a", "b", "e"], file.Names);
        Assert.Equal([1f], file.GetFloat32("a"));
        Assert.Equal([2f], file.GetFloat32("b"));
        Assert.Empty(file.GetFloat32("e"));
        Assert.Null(file.Metadata);
        Assert.Throws<KeyNotFoundException>(() => file.GetInfo("missing"));
    }

    // ------------------------------------------------------------ atomic save

    [Fact]
    public void Save_ReplacesExistingFileAndLeavesNoTemporaryFiles()
    {
        string path = Path.Combine(_folder, "model.safetensors");
        System.IO.File.WriteAllText(path, "old contents");
        SafeTensors.Save(path, [("w", new[] { 1 }, new[] { 42f })]);
        Assert.Equal([42f], SafeTensors.Load(path).GetFloat32("w"));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_InvalidInputLeavesExistingFileUntouched()
    {
        string path = Path.Combine(_folder, "keep.safetensors");
        SafeTensors.Save(path, [("w", new[] { 1 }, new[] { 1f })]);
        byte[] before = System.IO.File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [("w", new[] { 2 }, new[] { 1f })]));
        Assert.Equal(before, System.IO.File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void Serialize_ThrowsForDuplicateReservedOrMismatchedTensors()
    {
        var ok = NamedTensorData.FromFloat32("w", [1], [1f]);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok, ok]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok with { Name = "__metadata__" }]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok with { Shape = [2] }]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok with { Shape = [-1] }]));
        Assert.Throws<ArgumentException>(() => NamedTensorData.FromFloat32("w", [3], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => NamedTensorData.FromFloat32("w", [1], [1f], SafeTensorsDType.I32));
    }

    [Fact]
    public void Serialize_ThrowsForNamesOrMetadataThatAreNotValidUnicode()
    {
        // a lone surrogate has no UTF-8 form: it was written as U+FFFD, so the file named the tensor differently (and
        // "a\uD800" and "a\uDC00" both became "a\uFFFD", a duplicate key the reader then refuses)
        var ok = NamedTensorData.FromFloat32("w", [1], [1f]);
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok with { Name = "a\uD800" }]));
        Assert.Contains("UTF-16", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok], new Dictionary<string, string> { ["k\uDC00"] = "v" }));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([ok], new Dictionary<string, string> { ["k"] = "\uD800v" }));
        Assert.Equal(["w\U0001F600"], SafeTensors.Load(SafeTensors.Serialize([ok with { Name = "w\U0001F600" }])).Names);
    }

    // ------------------------------------------------------------ validation on load

    private const string F32x1 = "\"dtype\":\"F32\",\"shape\":[1]";

    public static TheoryData<string, byte[], string> MalformedFiles() => new()
    {
        { "short prefix", [1, 0, 0], "shorter than the 8-byte header-length prefix" },
        { "header longer than file", [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}'], "header length 200 is larger than the 2 bytes" },
        { "header over limit", [0, 0, 0, 0, 0, 0, 0, 1], "exceeds the limit" },
        { "invalid UTF-8", [2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28], "not valid UTF-8" },
        { "invalid JSON", File("{\"a\":"), "not valid JSON" },
        { "root not object", File("[1, 2]"), "must be a JSON object" },
        { "unknown dtype", File("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 0), "unknown or unsupported dtype \"Q4\"" },
        { "missing dtype", File("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 0, 0, 0), "no string \"dtype\"" },
        { "negative dim", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 0, 0, 0, 0), "shape entry 0" },
        { "bad offsets", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0]}}", 0, 0, 0, 0), "\"data_offsets\" array of two" },
        { "reversed offsets", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[4,0]}}", 0, 0, 0, 0), "end before they begin" },
        { "out of range", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]}}", 0, 0), "run past the end of the 2-byte data buffer" },
        { "overlap", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]},\"b\":{" + F32x1 + ",\"data_offsets\":[2,6]}}", new byte[6]), "overlap" },
        { "gap", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[4,8]}}", new byte[8]), "gap in the data buffer: bytes [0, 4)" },
        { "trailing bytes", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]}}", new byte[6]), "cover 4 bytes but the data buffer has 6" },
        { "size mismatch", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]), "needs 16 bytes" },
        { "duplicate names", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]},\"a\":{" + F32x1 + ",\"data_offsets\":[4,8]}}", new byte[8]), "duplicate key \"a\"" },
        { "metadata not strings", File("{\"__metadata__\":{\"k\":1}}"), "must be a string" },
        { "metadata not object", File("{\"__metadata__\":[]}"), "must be an object of strings" },
        // session 24 (security review): a shape whose element count overflows 64 bits, refused before any allocation
        { "shape overflow", File("{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 0, 0, 0, 0), "overflows a 64-bit byte count" },
        { "offsets not numbers", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[\"0\",\"4\"]}}", 0, 0, 0, 0), "data_offsets must be non-negative integers" },
        { "offsets fractional", File("{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4.5]}}", 0, 0, 0, 0), "data_offsets must be non-negative integers" },
        { "name lone surrogate", File("{\"\\ud800\":{" + F32x1 + ",\"data_offsets\":[0,4]}}", 0, 0, 0, 0), "lone UTF-16 surrogate" },
        { "metadata value lone surrogate", File("{\"__metadata__\":{\"k\":\"\\udc00\"}}"), "lone UTF-16 surrogate" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Load_ThrowsInvalidDataNamingSourceAndRule(string caseName, byte[] bytes, string rule)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(bytes, caseName));
        Assert.StartsWith(caseName + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FromPathNamesTheFileInErrors()
    {
        string path = Path.Combine(_folder, "broken.safetensors");
        System.IO.File.WriteAllBytes(path, File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]));
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
    }
}
