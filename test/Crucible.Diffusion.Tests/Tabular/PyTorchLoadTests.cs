using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// Runs only where <c>/usr/bin/python3</c> can import torch (Debian package <c>python3-torch</c>, installed by
/// <c>scripts/setup.sh</c> and so by <c>.ci/run</c>).
/// </summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> SkipReason = new(Probe);

    public PythonTorchFactAttribute()
    {
        if (SkipReason.Value is { } reason) Skip = reason;
    }

    private static string? Probe()
    {
        if (!File.Exists(Python)) return $"{Python} not found: install python3 and python3-torch (scripts/setup.sh)";
        var (code, _, err) = PyTorchLoadTests.Run("-c", "import torch");
        return code == 0 ? null : $"{Python} cannot import torch (install python3-torch, scripts/setup.sh): {err.Trim()}";
    }
}

/// <summary>
/// A model saved by Crucible opens in PyTorch: the Python side reads <c>weights.safetensors</c> with its own tiny reader
/// (8-byte little-endian header length, JSON header, raw little-endian data; the safetensors package is not needed),
/// builds torch tensors, loads them with <c>load_state_dict(strict=True)</c> into the peer's MLP
/// (<c>../shared/peers/torch_ddpm.py</c>), checks every name, shape and value against Crucible's state dict, and runs a
/// forward pass that must match Crucible's output.
/// </summary>
public sealed class PyTorchLoadTests : IDisposable
{
    private const string Script = """
        import json, math, struct, sys
        import torch, torch.nn as nn

        folder, expected_path = sys.argv[1], sys.argv[2]
        expected = json.load(open(expected_path))

        # 1. the file, read by hand: u64 LE header length, JSON header, data buffer
        raw = open(folder + '/weights.safetensors', 'rb').read()
        (n,) = struct.unpack('<Q', raw[:8])
        header = json.loads(raw[8:8 + n].decode('utf-8'))
        buf = raw[8 + n:]
        state = {}
        for name, info in header.items():
            if name == '__metadata__':
                continue
            assert info['dtype'] == 'F32', (name, info['dtype'])
            b, e = info['data_offsets']
            state[name] = torch.frombuffer(bytearray(buf[b:e]), dtype=torch.float32).reshape(info['shape'])

        # 2. the same names, shapes and values as Crucible's state dict
        assert sorted(state) == sorted(expected['tensors']), (sorted(state), sorted(expected['tensors']))
        for name, want in expected['tensors'].items():
            t = state[name]
            assert list(t.shape) == want['shape'], (name, list(t.shape), want['shape'])
            got = struct.pack('<%df' % t.numel(), *t.flatten().tolist()).hex()
            assert got == want['f32_hex'], name

        # 3. the peer's MLP (torch_ddpm.py --kind mlp), with this model's sizes, loads the file strictly
        def temb(t, d):
            half = d // 2
            f = torch.exp(-math.log(10000) * torch.arange(half) / half)
            x = t[:, None] * 1000 * f[None]
            return torch.cat([x.sin(), x.cos()], 1)

        class MLP(nn.Module):
            def __init__(s, d, h, L, e):
                super().__init__()
                s.e = e
                s.t = nn.Sequential(nn.Linear(e, h), nn.SiLU(), nn.Linear(h, h))
                s.inp = nn.Linear(d, h)
                s.blocks = nn.ModuleList([nn.Linear(h, h) for _ in range(L)])
                s.out = nn.Linear(h, d)
            def forward(s, x, t):
                h = s.inp(x) + s.t(temb(t, s.e))
                for b in s.blocks:
                    h = h + torch.nn.functional.silu(b(h))
                return s.out(h)

        c = expected['config']
        model = MLP(c['features'], c['hidden'], c['blocks'], c['time_embedding'])
        model.load_state_dict(state, strict=True)

        # 4. the same output as Crucible's forward pass
        x = torch.tensor(expected['x'], dtype=torch.float32)
        t = torch.tensor(expected['t'], dtype=torch.float32)
        with torch.no_grad():
            y = model(x, t)
        want = torch.tensor(expected['y'], dtype=torch.float32)
        err = (y - want).abs().max().item()
        assert err < 1e-4, err
        print('ok', len(state), 'tensors, max forward difference', err)
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-torch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int ExitCode, string Output, string Error) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(PythonTorchFactAttribute.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [PythonTorchFact]
    public void SavedModel_LoadsInPyTorch_WithTheSameNamesShapesValuesAndOutputs()
    {
        var generator = new DiffusionGenerator(DiffusionGeneratorTests.Small(steps: 20) with { Blocks = 2 }).Fit(DiffusionGeneratorTests.Returns(200, 12));
        string folder = Path.Combine(_dir, "model");
        generator.Save(folder);

        // what Crucible holds, and one forward pass
        var net = generator.Network;
        var x = new float[4 * 2];
        new Philox(3).FillNormal(x);
        float[] t = [0f, 0.25f, 0.5f, 0.999f];
        float[] y;
        using (GradMode.NoGrad()) y = net.Forward(new Tensor((float[])x.Clone(), [4, 2]), t).Data;
        var tensors = new Dictionary<string, object>();
        foreach (var (name, tensor) in net.StateDict())
        {
            var bytes = new byte[tensor.Data.Length * 4];
            Buffer.BlockCopy(tensor.Data, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the test writes little-endian hex");
            tensors[name] = new { shape = tensor.Shape, f32_hex = Convert.ToHexStringLower(bytes) };
        }

        var c = net.Config;
        var expected = new
        {
            tensors,
            config = new { features = c.Features, hidden = c.Hidden, blocks = c.Blocks, time_embedding = c.TimeEmbedding },
            x = Enumerable.Range(0, 4).Select(i => x.Skip(i * 2).Take(2).ToArray()).ToArray(),
            t,
            y = Enumerable.Range(0, 4).Select(i => y.Skip(i * 2).Take(2).ToArray()).ToArray(),
        };
        string expectedPath = Path.Combine(_dir, "expected.json");
        File.WriteAllText(expectedPath, JsonSerializer.Serialize(expected)); // UTF-8 without a BOM
        string script = Path.Combine(_dir, "load.py");
        File.WriteAllText(script, Script);

        var (code, output, error) = Run(script, folder, expectedPath);
        Assert.True(code == 0, $"python failed ({code}):\n{output}\n{error}");
        Assert.StartsWith("ok " + net.StateDict().Count.ToString(CultureInfo.InvariantCulture) + " tensors", output, StringComparison.Ordinal);
    }
}
