using System.Buffers.Binary;
using System.Diagnostics;
using Crucible.Tensors.Serialization;

namespace Crucible.Tensors.Tests.Serialization;

/// <summary>
/// Runs only where <c>/usr/bin/python3</c> can import numpy (Debian package <c>python3-numpy</c>, installed by
/// <c>scripts/setup.sh</c>). Debian has no <c>python3-safetensors</c>, so the check is an independent reader written
/// against the format description; where the <c>safetensors</c> module happens to be importable it is used as well.
/// </summary>
public sealed class PythonNumpyFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> SkipReason = new(Probe);

    public PythonNumpyFactAttribute()
    {
        if (SkipReason.Value is { } reason)
            Skip = reason;
    }

    private static string? Probe()
    {
        if (!File.Exists(Python))
            return $"{Python} not found: install python3 and python3-numpy (scripts/setup.sh)";
        var (code, _, err) = PythonReaderTests.Run("-c", "import numpy");
        return code == 0 ? null : $"{Python} cannot import numpy (install python3-numpy, scripts/setup.sh): {err.Trim()}";
    }
}

public sealed class PythonReaderTests : IDisposable
{
    // An independent reader: struct + json + numpy.frombuffer; prints each tensor's name, dtype, shape and the
    // float64 little-endian bytes of its values in hex, plus the header key order and the alignment check.
    private const string Reader = """
        import json, struct, sys
        import numpy as np
        data = open(sys.argv[1], 'rb').read()
        (n,) = struct.unpack('<Q', data[:8])
        assert (8 + n) % 8 == 0, 'buffer not 8-byte aligned'
        header = json.loads(data[8:8 + n].decode('utf-8'))
        buf = data[8 + n:]
        kinds = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I32': '<i4', 'I64': '<i8'}
        print('order', ','.join(k for k in header if k != '__metadata__'))
        print('meta', json.dumps(header.get('__metadata__'), sort_keys=True))
        arrays = {}
        for name, info in header.items():
            if name == '__metadata__':
                continue
            b, e = info['data_offsets']
            raw = buf[b:e]
            if info['dtype'] == 'BF16':
                a = (np.frombuffer(raw, '<u2').astype('<u4') << 16).view('<f4')
            else:
                a = np.frombuffer(raw, kinds[info['dtype']])
            a = a.reshape(info['shape'])
            arrays[name] = a
            print('tensor', name, info['dtype'], 'x'.join(map(str, a.shape)), a.astype('<f8').tobytes().hex())
        try:
            from safetensors import safe_open
        except ImportError:
            print('reference absent')
        else:
            with safe_open(sys.argv[1], framework='numpy') as f:
                assert sorted(f.keys()) == sorted(arrays)
                assert f.metadata() == header.get('__metadata__')
                for k in arrays:
                    if header[k]['dtype'] != 'BF16':  # numpy has no bfloat16
                        assert np.array_equal(f.get_tensor(k), arrays[k]), k
                print('reference ok')
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("crucible-safetensors-py-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    internal static (int ExitCode, string Output, string Error) Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(PythonNumpyFactAttribute.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    [PythonNumpyFact]
    public void IndependentPythonReader_SeesOurNamesShapesDTypesAndValues()
    {
        float[] w = [1.5f, -0f, float.PositiveInfinity, 3.25f, -1e-30f, 65504f];
        NamedTensorData[] tensors =
        [
            NamedTensorData.FromFloat32("layers.0.weight", [2, 3], w),
            NamedTensorData.FromFloat32("layers.0.bias", [3], [0.5f, 1f, -2f], SafeTensorsDType.F16),
            NamedTensorData.FromFloat32("norm", [2], [1.25f, -7f], SafeTensorsDType.BF16),
            NamedTensorData.FromFloat64("scale", [], [Math.E]),
            NamedTensorData.FromInt64("step", [1], [123456789012L]),
            NamedTensorData.FromInt32("ids", [2, 1], [-3, 9]),
        ];
        string path = Path.Combine(_folder, "model.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["crucible"] = "0.1" });

        string script = Path.Combine(_folder, "reader.py");
        File.WriteAllText(script, Reader);
        var (code, output, error) = Run(script, path);
        Assert.True(code == 0, $"python reader failed ({code}): {error}");

        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("order step,scale,layers.0.weight,ids,norm,layers.0.bias", lines[0]);
        Assert.Equal("meta {\"crucible\": \"0.1\", \"format\": \"pt\"}", lines[1]);
        var seen = lines.Where(l => l.StartsWith("tensor ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[1], p => (DType: p[2], Shape: p[3], Values: Decode(p.Length > 4 ? p[4] : "")));
        Assert.Equal(tensors.Length, seen.Count);
        foreach (var t in tensors)
        {
            var (dtype, shape, values) = seen[t.Name];
            Assert.Equal(t.DType.ToHeaderName(), dtype);
            Assert.Equal(string.Join('x', t.Shape), shape);
            double[] expected = t.DType is SafeTensorsDType.I64 or SafeTensorsDType.I32
                ? [.. t.ToInt64().Select(v => (double)v)]
                : t.ToFloat64();
            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), values.Select(BitConverter.DoubleToInt64Bits));
        }
        Assert.Contains(lines, l => l is "reference ok" or "reference absent");
    }

    private static double[] Decode(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        var values = new double[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * i));
        return values;
    }
}
