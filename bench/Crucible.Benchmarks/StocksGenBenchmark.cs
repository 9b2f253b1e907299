using System.Globalization;
using Crucible.Diffusion;
using Crucible.Diffusion.Regularisation;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Windows;
using Crucible.Evaluation;
using Crucible.Evaluation.Learned;
using Crucible.Tensors;

namespace Crucible.Benchmarks;

/// <summary>
/// The Stocks benchmark with every generator knob on the command line (the tuning and PACF-ablation harness of issue
/// #7): one training run of <see cref="WindowDiffusion"/>, then the protocol's metric runs, plus the PACF error
/// mean_{i,k} |φ̄_kk,i(synthetic) − φ̄_kk,i(real)| (lags 1..10, biased autocovariance = statsmodels "ldb").
/// Usage: <c>stocks-gen [--data FILE] [--runs R] [--seed S] [--threads N] [--steps N] [--batch B] [--lr X]
/// [--hidden H] [--layers L] [--objective eps|x0|v] [--schedule linear|cosine] [--ema D] [--sampler ddim|ddpm|dpm2m]
/// [--sampler-steps K] [--spacing linear|angle] [--pacf-weight λ] [--no-clamp] [--samples-out FILE.npy] [--corr-draws K]
/// [--log-series I[,J]] [--log-offset δ] [--also KIND:STEPS[:angle][:noclamp],...]</c>.
/// Prints one JSON line; <c>--corr-draws K</c> adds the correlational analysis of <see cref="StocksCorrelation"/>
/// (K draws, seed = the run's seed) under <c>"corr"</c>; <c>--also</c> samples the same trained model again with each
/// listed sampler (same sampling seed) and adds its correlational analysis under <c>"also"</c> (K draws, at least 200).
/// </summary>
public sealed class StocksGenBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "stocks-gen";

    /// <inheritdoc />
    public string Description => "Stocks protocol on windows from WindowDiffusion (tuning knobs, PACF regulariser ablation)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var data = "../shared/data/stocks_goog_timegan.csv";
        int runs = 5, threads = 2;
        ulong seed = 0;
        var o = StocksDefaults.Options;
        string? samplesOut = null;
        var corrDraws = 0;
        var also = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => args[++i];
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "--runs": runs = int.Parse(Next(), inv); break;
                case "--seed": seed = ulong.Parse(Next(), inv); break;
                case "--threads": threads = int.Parse(Next(), inv); break;
                case "--steps": o = o with { Training = o.Training with { Steps = int.Parse(Next(), inv) } }; break;
                case "--batch": o = o with { Training = o.Training with { BatchSize = int.Parse(Next(), inv) } }; break;
                case "--lr": o = o with { Training = o.Training with { LearningRate = double.Parse(Next(), inv) } }; break;
                case "--warmup": o = o with { Training = o.Training with { WarmupSteps = int.Parse(Next(), inv) } }; break;
                case "--ema": o = o with { Training = o.Training with { EmaDecay = double.Parse(Next(), inv) } }; break;
                case "--pacf-weight": o = o with { Training = o.Training with { PacfWeight = double.Parse(Next(), inv) } }; break;
                case "--hidden": o = o with { Hidden = int.Parse(Next(), inv) }; break;
                case "--layers": o = o with { Layers = int.Parse(Next(), inv) }; break;
                case "--objective": o = o with { Objective = Next() switch { "x0" => Objective.X0, "v" => Objective.V, _ => Objective.Epsilon } }; break;
                case "--schedule": o = o with { Schedule = Next() == "cosine" ? BetaScheduleKind.Cosine : BetaScheduleKind.Linear }; break;
                case "--sampler":
                    o = o with { Sampler = o.Sampler with { Kind = Next() switch { "ddpm" => SamplerKind.Ddpm, "dpm2m" => SamplerKind.DpmSolver2M, _ => SamplerKind.Ddim } } };
                    break;
                case "--sampler-steps": o = o with { Sampler = o.Sampler with { Steps = int.Parse(Next(), inv) } }; break;
                case "--eta": o = o with { Sampler = o.Sampler with { Eta = double.Parse(Next(), inv) } }; break;
                case "--spacing": o = o with { Sampler = o.Sampler with { Spacing = Next() == "angle" ? DdimSpacing.UniformAngle : DdimSpacing.Linear } }; break;
                case "--no-clamp": o = o with { Clamp = false }; break;
                case "--samples-out": samplesOut = Next(); break;
                case "--corr-draws": corrDraws = int.Parse(Next(), inv); break;
                case "--log-series": o = o with { LogSeries = Next().Split(',').Select(x => int.Parse(x, inv)).ToArray() }; break;
                case "--log-offset": o = o with { LogOffset = double.Parse(Next(), inv) }; break;
                case "--also": also.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}");
                    return 2;
            }
        }

        using var limit = EngineThreads.Limit(threads);
        var real = StocksProtocol.Load(data);
        WindowDiffusionResult? generated = null;
        TrainedWindowDiffusion? model = null;
        WindowSet? synthetic = null;
        var result = StocksBenchmark.Run(
            real,
            windows =>
            {
                model = WindowDiffusion.Train(StocksBenchmark.ToSeriesMajor(windows), windows.Count, windows.Features, windows.Length, seed, o);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var z = model.Sample(windows.Count, seed, o.Sampler, o.Clamp);
                generated = new WindowDiffusionResult(z, model.Losses, model.TrainSeconds, clock.Elapsed.TotalSeconds, model.Parameters);
                return synthetic = StocksBenchmark.FromSeriesMajor(generated.Samples, windows.Count, windows.Length, windows.Features);
            },
            new StocksOptions { Runs = runs, Seed = seed, MaxDegreeOfParallelism = threads },
            () => StocksDefaults.Describe(o, seed, generated!));
        const int lags = 10;
        var pacfReal = Pacf.MeanOverWindows(StocksBenchmark.ToSeriesMajor(real), real.Count, real.Features, real.Length, lags);
        var pacfSynthetic = Pacf.MeanOverWindows(StocksBenchmark.ToSeriesMajor(synthetic!), synthetic!.Count, synthetic.Features, synthetic.Length, lags);
        double pacfError = pacfReal.Zip(pacfSynthetic, (a, b) => Math.Abs(a - b)).Average();
        if (samplesOut is not null) StocksCorrelation.WriteNpy(samplesOut, synthetic);
        var corr = corrDraws > 0 ? ", \"corr\": " + StocksCorrelation.Analyse(real, synthetic, SeriesSetCsv.Read(data).Names, corrDraws, seed) : "";
        if (also.Count > 0)
        {
            var parts = new List<string>();
            foreach (var spec in also)
            {
                var f = spec.Split(':');
                var sampler = o.Sampler with
                {
                    Kind = f[0] switch { "ddpm" => SamplerKind.Ddpm, "dpm2m" => SamplerKind.DpmSolver2M, _ => SamplerKind.Ddim },
                    Steps = int.Parse(f[1], inv),
                    Spacing = f.Contains("angle") ? DdimSpacing.UniformAngle : DdimSpacing.Linear,
                };
                var z = model!.Sample(real.Count, seed, sampler, clamp: !f.Contains("noclamp"));
                var set = StocksBenchmark.FromSeriesMajor(z, real.Count, real.Length, real.Features);
                parts.Add($"\"{spec}\": " + StocksCorrelation.Analyse(real, set, SeriesSetCsv.Read(data).Names, Math.Max(corrDraws, 200), seed));
            }

            corr += ", \"also\": {" + string.Join(", ", parts) + "}";
        }

        var json = StocksBenchmark.ToJson(result).Replace("\n", " ", StringComparison.Ordinal).TrimEnd();
        Console.WriteLine(string.Create(inv, $"{json[..^1]}, \"pacf_error\": {pacfError:G6}, \"final_loss\": {generated!.Losses.Skip(Math.Max(0, generated.Losses.Count - 200)).Average():G6}{corr}}}"));
        return 0;
    }
}
