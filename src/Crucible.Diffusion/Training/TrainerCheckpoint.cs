using System.Globalization;
using System.Text.Json;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Training;

/// <summary>A trainer's complete state between two steps.</summary>
internal sealed record TrainerState(
    TrainerOptions Options,
    int Step,
    PhiloxState Rng,
    IReadOnlyList<string> ParameterNames,
    IReadOnlyList<(int[] Shape, float[] Data)> Weights,
    EmaState? Ema,
    OptimizerState Optimizer,
    IReadOnlyList<float> Losses);

/// <summary>
/// The checkpoint file: one safetensors file (so any safetensors reader can inspect it) holding
/// <c>model.NAME</c> (weights), <c>ema.NAME</c> (EMA shadow), <c>optimizer.NAME.exp_avg</c> /
/// <c>.exp_avg_sq</c> / <c>.max_exp_avg_sq</c> (F32) and <c>optimizer.NAME.step</c> (I64), and <c>losses</c> (F32,
/// one per step done); the header's <c>__metadata__</c> holds the format tag, the step, the trainer options (JSON),
/// the parameter names in the network's order, the Philox position, the learning rate and the EMA update count (doubles as exact IEEE bit patterns), and the
/// caller's metadata under <c>user.KEY</c>.
/// </summary>
internal static class TrainerCheckpoint
{
    public const string Format = "crucible-trainer-checkpoint/1";
    private const string UserPrefix = "user.";

    public static void Save(string path, TrainerState state, IReadOnlyDictionary<string, string>? user)
    {
        var tensors = new List<NamedTensorData>();
        for (int i = 0; i < state.ParameterNames.Count; i++)
        {
            tensors.Add(NamedTensorData.FromFloat32("model." + state.ParameterNames[i], state.Weights[i].Shape, state.Weights[i].Data));
            if (state.Ema is { } ema) tensors.Add(NamedTensorData.FromFloat32("ema." + state.ParameterNames[i], state.Weights[i].Shape, ema.Shadow[i]));
            if (state.Optimizer.Parameters.TryGetValue(i, out var p))
            {
                tensors.Add(NamedTensorData.FromInt64($"optimizer.{state.ParameterNames[i]}.step", [1], [p.Step]));
                foreach (var (kind, values) in p.Buffers)
                {
                    tensors.Add(NamedTensorData.FromFloat32($"optimizer.{state.ParameterNames[i]}.{BufferName(kind)}", state.Weights[i].Shape, values));
                }
            }
        }

        tensors.Add(NamedTensorData.FromFloat32("losses", [state.Losses.Count], [.. state.Losses]));
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["step"] = Int(state.Step),
            ["options"] = JsonSerializer.Serialize(state.Options),
            ["parameters"] = JsonSerializer.Serialize(state.ParameterNames),
            ["rng.seed"] = state.Rng.Seed.ToString(CultureInfo.InvariantCulture),
            ["rng.stream"] = state.Rng.Stream.ToString(CultureInfo.InvariantCulture),
            ["rng.counter"] = state.Rng.Counter.ToString(CultureInfo.InvariantCulture),
            ["rng.buffer_index"] = Int(state.Rng.BufferIndex),
            ["rng.has_cached_normal"] = state.Rng.HasCachedNormal ? "true" : "false",
            ["rng.cached_normal_bits"] = Bits(state.Rng.CachedNormal),
            ["optimizer.lr_bits"] = Bits(state.Optimizer.LearningRate),
            ["ema.num_updates"] = state.Ema is { } e ? e.NumUpdates.ToString(CultureInfo.InvariantCulture) : "none",
        };
        foreach (var (k, v) in user ?? new Dictionary<string, string>()) meta[UserPrefix + k] = v;
        SafeTensors.Save(path, tensors, meta);
    }

    public static (TrainerState State, IReadOnlyDictionary<string, string> User) Load(string path)
    {
        var file = SafeTensors.Load(Data.IO.InputFile.ReadAllBytes(path, Data.IO.InputFile.MaxStateBytes), path);
        var meta = file.Metadata ?? throw new InvalidDataException($"{path}: not a trainer checkpoint (no metadata)");
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: checkpoint metadata lacks '{key}'");
        if (Get("format") != Format) throw new InvalidDataException($"{path}: checkpoint format '{Get("format")}', expected '{Format}'");
        try
        {
            var options = JsonSerializer.Deserialize<TrainerOptions>(Get("options")) ?? throw new InvalidDataException($"{path}: empty options");
            var names = JsonSerializer.Deserialize<string[]>(Get("parameters")) ?? throw new InvalidDataException($"{path}: no parameter list");
            var weights = names.Select(n => (file.GetShape("model." + n), file.GetFloat32("model." + n))).ToArray();
            EmaState? ema = null;
            if (Get("ema.num_updates") != "none")
            {
                ema = new EmaState(long.Parse(Get("ema.num_updates"), CultureInfo.InvariantCulture), [.. names.Select(n => file.GetFloat32("ema." + n))]);
            }

            var parameters = new Dictionary<int, ParameterState>();
            for (int i = 0; i < names.Length; i++)
            {
                string stepName = $"optimizer.{names[i]}.step";
                if (!file.Contains(stepName)) continue;
                var buffers = new Dictionary<OptimizerBuffer, float[]>();
                foreach (var kind in Enum.GetValues<OptimizerBuffer>())
                {
                    string bufferName = $"optimizer.{names[i]}.{BufferName(kind)}";
                    if (file.Contains(bufferName)) buffers[kind] = file.GetFloat32(bufferName);
                }

                var count = file.GetInt64(stepName);
                if (count.Length != 1) throw new InvalidDataException($"{path}: '{stepName}' holds {count.Length} values, not 1");
                parameters[i] = new ParameterState(count[0], buffers);
            }

            var rng = new PhiloxState(
                ulong.Parse(Get("rng.seed"), CultureInfo.InvariantCulture),
                ulong.Parse(Get("rng.stream"), CultureInfo.InvariantCulture),
                ulong.Parse(Get("rng.counter"), CultureInfo.InvariantCulture),
                int.Parse(Get("rng.buffer_index"), CultureInfo.InvariantCulture),
                Get("rng.has_cached_normal") == "true",
                FromBits(Get("rng.cached_normal_bits")));
            int step = int.Parse(Get("step"), CultureInfo.InvariantCulture);
            var losses = file.GetFloat32("losses");
            if (step < 0 || step != losses.Length)
                throw new InvalidDataException($"{path}: the checkpoint is at step {Get("step")} with {losses.Length} losses recorded, one per step");
            var state = new TrainerState(
                options, step, rng, names, weights, ema, new OptimizerState(FromBits(Get("optimizer.lr_bits")), parameters), losses);
            var user = meta.Where(kv => kv.Key.StartsWith(UserPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[UserPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            return (state, user);
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: malformed trainer checkpoint: {e.Message}", e);
        }
    }

    private static string BufferName(OptimizerBuffer kind) => kind switch
    {
        OptimizerBuffer.Momentum => "momentum_buffer",
        OptimizerBuffer.ExpAvg => "exp_avg",
        OptimizerBuffer.ExpAvgSq => "exp_avg_sq",
        OptimizerBuffer.MaxExpAvgSq => "max_exp_avg_sq",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bits(double value) => BitConverter.DoubleToInt64Bits(value).ToString("x16", CultureInfo.InvariantCulture);

    private static double FromBits(string hex) => BitConverter.Int64BitsToDouble(long.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
