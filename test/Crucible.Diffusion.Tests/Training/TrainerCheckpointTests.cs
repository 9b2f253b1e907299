using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Training;

public sealed class TrainerCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"crucible-ckpt-{Guid.NewGuid():N}");

    public TrainerCheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Rows(int n, ulong seed, double scale0, double scale1)
    {
        var rng = new Philox(seed);
        var data = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            double a = rng.NextNormal(), z = rng.NextNormal();
            data[2 * i] = (float)(scale0 * a);
            data[(2 * i) + 1] = (float)(scale1 * ((0.6 * a) + (0.8 * z)));
        }

        return data;
    }

    private static (MlpDenoiserAdapter Denoiser, DiffusionTrainer Trainer) NewTrainer(VolatilityAdaptiveSchedule schedule, int steps, ulong seed = 5)
    {
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 32, Blocks: 2, TimeEmbedding: 16), new Philox(3));
        var denoiser = new MlpDenoiserAdapter(net, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, Objective.Epsilon,
            new TrainerOptions(Steps: steps, BatchSize: 64, LearningRate: 2e-3, WarmupSteps: 10, EmaDecay: 0.99, Seed: seed));
        return (denoiser, trainer);
    }

    private static int[] Bits(IEnumerable<float> values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    [Fact]
    public void Resume_FromACheckpoint_IsBitIdenticalToAnUninterruptedRun()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        var data = Rows(512, 1, 1, 1);

        var (whole, wholeTrainer) = NewTrainer(schedule, 60);
        wholeTrainer.Fit(data, 512);

        // stop after 25 steps (the Box–Muller cache and the optimiser moments are mid-flight), save, and forget everything
        string path = Path.Combine(_dir, "trainer.ckpt");
        var (_, first) = NewTrainer(schedule, 60);
        for (int i = 0; i < 25; i++) first.Step(data, 512);
        first.SaveCheckpoint(path, new Dictionary<string, string> { ["data"] = "abc" });

        var (resumed, second) = NewTrainer(schedule, 60, seed: 5);
        var user = second.LoadCheckpoint(path);
        Assert.Equal("abc", user["data"]);
        Assert.Equal(25, second.StepsDone);
        second.Fit(data, 512);

        Assert.Equal(Bits(wholeTrainer.Losses), Bits(second.Losses));
        var a = whole.Network.StateDict();
        var b = resumed.Network.StateDict();
        foreach (var key in a.Keys) Assert.Equal(Bits(a[key].Data), Bits(b[key].Data));
        for (int i = 0; i < wholeTrainer.Ema!.ShadowParameters.Count; i++)
        {
            Assert.Equal(Bits(wholeTrainer.Ema.ShadowParameters[i]), Bits(second.Ema!.ShadowParameters[i]));
        }
    }

    [Fact]
    public void Fit_WithCheckpointOptions_WritesAReadableSafetensorsFile()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        string path = Path.Combine(_dir, "periodic.ckpt");
        var (denoiser, trainer) = NewTrainer(schedule, 12);
        trainer.Fit(Rows(128, 2, 1, 1), 128, checkpoint: new CheckpointOptions(path, Every: 5));
        var file = SafeTensors.Load(path);
        Assert.Equal("12", file.Metadata!["step"]);
        Assert.Equal(12, file.GetShape("losses")[0]);
        Assert.Equal(denoiser.Network.StateDict()["out.weight"].Data, file.GetFloat32("model.out.weight"));
        Assert.Equal([12L], file.GetInt64("optimizer.out.weight.step"));
        Assert.True(file.Contains("optimizer.out.weight.exp_avg_sq"));
        Assert.True(file.Contains("ema.inp.bias"));
    }

    [Fact]
    public void Fit_WithCheckpointOptions_DeletesTheTemporaryAKilledRunLeft_AndKeepsALiveOne()
    {
        // train --checkpoint FILE killed while writing FILE leaves .FILE.<hex>.tmp (megabytes); the next run removes it
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        string path = Path.Combine(_dir, "killed.ckpt");
        string dead = Path.Combine(_dir, ".killed.ckpt.0123456789abcdef0123456789abcdef.tmp");
        string live = Path.Combine(_dir, ".killed.ckpt.ffffffffffffffffffffffffffffffff.tmp");
        foreach (var temp in new[] { dead, live })
        {
            File.WriteAllBytes(temp, new byte[4096]);
            File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-1));
        }

        // another run writing the same checkpoint at this moment holds its temporary file open (FileShare.None)
        using (new FileStream(live, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            var (_, trainer) = NewTrainer(schedule, 3);
            trainer.Fit(Rows(64, 2, 1, 1), 64, checkpoint: new CheckpointOptions(path, Every: 5));
        }

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.Equal("3", SafeTensors.Load(path).Metadata!["step"]);
    }

    [Fact]
    public void LoadCheckpoint_RejectsOtherOptions()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        string path = Path.Combine(_dir, "other.ckpt");
        var (_, trainer) = NewTrainer(schedule, 10);
        trainer.Step(Rows(64, 3, 1, 1), 64);
        trainer.SaveCheckpoint(path);
        var (_, other) = NewTrainer(schedule, 10, seed: 6);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(path));
        Assert.Contains("options", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void LoadCheckpoint_OfOtherOptions_NamesTheOptionThatDiffers_InvariantlyInAnyCulture(string culture)
    {
        // train --checkpoint resumed with another --steps listed both records whole, in the current culture
        // ("LearningRate = 0,002" under de-DE), leaving the user to find the one option that differed
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        string path = Path.Combine(_dir, "steps.ckpt");
        var (_, trainer) = NewTrainer(schedule, 10);
        trainer.Step(Rows(64, 3, 1, 1), 64);
        trainer.SaveCheckpoint(path);
        var (_, longer) = NewTrainer(schedule, 20);
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        InvalidDataException e;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(culture);
            e = Assert.Throws<InvalidDataException>(() => longer.LoadCheckpoint(path));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }

        Assert.EndsWith("the checkpoint was written with other training options: training.steps 10 in the checkpoint, 20 here", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty optimizer step")]
    [InlineData("float optimizer step")]
    [InlineData("short optimizer buffer")]
    [InlineData("short EMA shadow")]
    [InlineData("generator buffer index")]
    [InlineData("negative EMA count")]
    [InlineData("negative step")]
    [InlineData("step without its losses")]
    [InlineData("a buffer AdamW does not keep")] // read whole, refused by the optimiser only after the weights were overwritten
    public void LoadCheckpoint_ACorruptedFile_IsInvalidDataNamingIt(string corruption)
    {
        // each escaped as IndexOutOfRange, InvalidOperation or ArgumentException (a generator's resume then crashed instead
        // of reporting checkpoint-mismatch at the file), or loaded: step −3, or step 7 with one loss recorded
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(100), 2);
        string path = Path.Combine(_dir, "good.ckpt"), bad = Path.Combine(_dir, "bad.ckpt");
        var (_, trainer) = NewTrainer(schedule, 10);
        for (int step = 0; step < 3; step++) trainer.Step(Rows(64, 3, 1, 1), 64); // past the warm-up's first step, whose rate is 0
        trainer.SaveCheckpoint(path);
        var good = SafeTensors.Load(path);
        var tensors = good.Names.Select(good.GetData).ToList();
        var meta = new Dictionary<string, string>(good.Metadata!);
        string name = good.Names.First(n => n.StartsWith("model.", StringComparison.Ordinal))["model.".Length..];
        void Replace(NamedTensorData t) => tensors[tensors.FindIndex(x => x.Name == t.Name)] = t;
        switch (corruption)
        {
            case "empty optimizer step": Replace(NamedTensorData.FromInt64($"optimizer.{name}.step", [0], [])); break;
            case "float optimizer step": Replace(NamedTensorData.FromFloat32($"optimizer.{name}.step", [1], [1f])); break;
            case "short optimizer buffer": Replace(NamedTensorData.FromFloat32($"optimizer.{name}.exp_avg", [1], [1f])); break;
            case "short EMA shadow": Replace(NamedTensorData.FromFloat32($"ema.{name}", [1], [1f])); break;
            case "generator buffer index": meta["rng.buffer_index"] = "99"; break;
            case "negative EMA count": meta["ema.num_updates"] = "-1"; break;
            case "negative step": meta["step"] = "-3"; break;
            case "a buffer AdamW does not keep":
                var shape = tensors.Single(t => t.Name == "model." + name).Shape;
                tensors.Add(NamedTensorData.FromFloat32($"optimizer.{name}.momentum_buffer", shape, new float[shape.Aggregate(1, (a, b) => a * b)]));
                break;
            default: meta["step"] = "7"; break;
        }

        SafeTensors.Save(bad, tensors, meta);
        var (_, other) = NewTrainer(schedule, 10);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(bad));
        Assert.StartsWith(bad + ":", e.Message, StringComparison.Ordinal);

        // nothing of the refused state stays behind: the trainer steps as a fresh one (weights, optimiser, generator); the
        // weights were overwritten before the EMA and optimiser states were checked
        var (_, fresh) = NewTrainer(schedule, 10);
        Assert.Equal(fresh.Step(Rows(64, 3, 1, 1), 64), other.Step(Rows(64, 3, 1, 1), 64));
    }

    [Fact]
    public void AdaptiveSchedule_LearnsReturnScaleData()
    {
        // daily-return scales (1% and 0.2%), correlation 0.6, no standardisation: the adaptive process learns both spreads
        const int n = 4096;
        var data = Rows(n, 7, 0.01, 0.002);
        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(), data, n, 2);
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 64, Blocks: 2, TimeEmbedding: 32), new Philox(3));
        var denoiser = new MlpDenoiserAdapter(net, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, Objective.Epsilon,
            new TrainerOptions(Steps: 1200, BatchSize: 256, LearningRate: 2e-3, WarmupSteps: 50, EmaDecay: 0.995, Seed: 5));
        trainer.Fit(data, n);
        trainer.Ema!.CopyTo();
        var x = DiffusionSampler.Sample(denoiser, schedule, Objective.Epsilon, 4000, 9, new SamplerOptions(SamplerKind.Ddim, 50));
        double[] expected = [0.01, 0.002];
        var mean = new double[2];
        var sd = new double[2];
        for (int j = 0; j < 2; j++)
        {
            for (int i = 0; i < 4000; i++) mean[j] += x[(2 * i) + j] / 4000.0;
            for (int i = 0; i < 4000; i++) sd[j] += Math.Pow(x[(2 * i) + j] - mean[j], 2) / 3999.0;
            sd[j] = Math.Sqrt(sd[j]);
            Assert.InRange(sd[j], expected[j] * 0.85, expected[j] * 1.15);
            Assert.InRange(mean[j], -0.1 * expected[j], 0.1 * expected[j]);
        }

        double c = 0;
        for (int i = 0; i < 4000; i++) c += (x[2 * i] - mean[0]) * (x[(2 * i) + 1] - mean[1]) / 3999.0;
        Assert.InRange(c / (sd[0] * sd[1]), 0.5, 0.7);
    }
}
