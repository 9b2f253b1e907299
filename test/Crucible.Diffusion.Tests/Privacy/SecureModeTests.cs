using System.Text;
using System.Text.Json;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Tests.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// DP-SGD secure mode (RELIABILITY.md §2.3 item 8): the OS-CSPRNG source's draws, DP-5 and DP-6 in secure mode, the
/// manifest and statement fields, checkpoints. The secure draws cannot be seeded, so every statistical bound here is set
/// at about 5–6 standard errors (a false failure about once in 10⁶ runs or rarer), not at the 3 SE of the seeded tests.
/// </summary>
public sealed class SecureModeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-dpsecure-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Uniforms_PassChiSquare_AndUseAll53Bits()
    {
        const int n = 1_000_000, bins = 100;
        var rng = new SecureDpRandom();
        var counts = new long[bins];
        long odd = 0;
        for (var i = 0; i < n; i++)
        {
            var u = rng.NextDouble();
            Assert.InRange(u, 0.0, Math.BitDecrement(1.0));
            var k = u * (1UL << 53); // an integer when u has 53 bits
            Assert.Equal(Math.Floor(k), k);
            odd += (long)k & 1;
            counts[(int)(u * bins)]++;
        }

        var expected = (double)n / bins;
        var chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chi2 < 180.79, $"chi-square {chi2:F1} over 99 degrees of freedom (P < 1e-6 under uniformity)");
        Assert.True(chi2 > 45.83, $"chi-square {chi2:F1} is too good to be random (P < 1e-6 in the lower tail)");
        // the 53rd bit is a fair coin: ±3000 is 6 standard errors (500)
        Assert.InRange(odd, (n / 2) - 3000, (n / 2) + 3000);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Normals_HaveMeanZero_VarianceOne_KurtosisThree(bool bulk)
    {
        // the sum of four Box–Muller normals scaled by 1/2: forgetting the scaling gives variance 4, one Box–Muller value
        // per draw without the sum still passes (the test checks the distribution, the sum is checked by the variance);
        // bulk: NextNormals, in uneven pieces that cross its 256-draw chunks
        const int n = 1_000_000;
        var rng = new SecureDpRandom();
        double s1 = 0, s2 = 0;
        var x = new double[n];
        if (bulk)
        {
            for (var start = 0; start < n; start += 1000) ((IDpRandom)rng).NextNormals(x.AsSpan(start, Math.Min(1000, n - start)));
        }
        else
        {
            for (var i = 0; i < n; i++) x[i] = rng.NextNormal();
        }

        foreach (var v in x) s1 += v;

        var mean = s1 / n;
        double m4 = 0;
        foreach (var v in x)
        {
            var d = v - mean;
            s2 += d * d;
            m4 += d * d * d * d;
        }

        var variance = s2 / n;
        var kurtosis = m4 / n / (variance * variance);
        // standard errors at n = 10⁶: mean 0.001, variance √(2/n) = 0.0014, kurtosis √(24/n) = 0.0049; bounds at 6 SE
        Assert.InRange(mean, -0.006, 0.006);
        Assert.InRange(variance, 1 - 0.0085, 1 + 0.0085);
        Assert.InRange(kurtosis, 3 - 0.03, 3 + 0.03);
        // the tails of N(0, 1): P(|z| > 3) = 0.0027, SE √(p(1−p)/n) = 5.2e-5
        var beyond3 = x.Count(v => Math.Abs(v) > 3) / (double)n;
        Assert.InRange(beyond3, 0.0027 - 0.0003, 0.0027 + 0.0003);
    }

    [Fact]
    public void Integers_AreUniform_AndInRange()
    {
        // the trainer's secure timesteps: 200 diffusion steps, χ² over 199 degrees of freedom at P = 1e-6 either tail
        const int n = 1_000_000, k = 200;
        var rng = new SecureDpRandom();
        var counts = new long[k];
        for (var i = 0; i < n; i++) counts[rng.NextInt(k)]++;
        var expected = (double)n / k;
        var chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.InRange(chi2, 118.11, 308.60);
        Assert.Equal(0, rng.NextInt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
        for (var i = 0; i < 1000; i++) Assert.InRange(rng.NextInt(int.MaxValue), 0, int.MaxValue - 1);
    }

    [Fact]
    public void TheConstruction_EqualsTheNaiveFormula()
    {
        // a deterministic check of what the statistics cannot see: 53 bits per uniform, and each normal the sum of the
        // four values of two Box–Muller pairs over √4 (one pair over √2 has the same distribution but not the defence)
        Assert.Equal(0.0, SecureDpRandom.Uniform(0));
        Assert.Equal(Math.Pow(2, -53), SecureDpRandom.Uniform(1UL << 11));
        Assert.Equal(1 - Math.Pow(2, -53), SecureDpRandom.Uniform(ulong.MaxValue));
        Assert.Equal(SecureDpRandom.Uniform(1UL << 11), SecureDpRandom.Uniform((1UL << 11) | 0x7FF)); // the low 11 bits are dropped
        var rng = new System.Random(3);
        for (var i = 0; i < 1000; i++)
        {
            double a1 = rng.NextDouble(), a2 = rng.NextDouble(), b1 = rng.NextDouble(), b2 = rng.NextDouble();
            double ra = Math.Sqrt(-2 * Math.Log(1 - a1)), rb = Math.Sqrt(-2 * Math.Log(1 - b1));
            var naive = (ra * Math.Cos(2 * Math.PI * a2) + ra * Math.Sin(2 * Math.PI * a2) + rb * Math.Cos(2 * Math.PI * b2) + rb * Math.Sin(2 * Math.PI * b2)) / Math.Sqrt(4);
            Assert.Equal(naive, SecureDpRandom.Normal(a1, a2, b1, b2), 1e-12);
        }
    }

    [Fact]
    public void TheBulkConstruction_EqualsTheScalarOne()
    {
        // Normals (vectorised Log, Sqrt, SinCos) against Normal on the same uniforms, the extremes included: 0 (r = 0),
        // 1 − 2⁻⁵³ (the largest r, √(2·53·ln 2) = 8.57), and angles at the quadrant boundaries
        var rng = new System.Random(5);
        const int m = 1000;
        double[] a1 = new double[m], a2 = new double[m], b1 = new double[m], b2 = new double[m];
        for (var j = 0; j < m; j++)
        {
            a1[j] = rng.NextDouble();
            a2[j] = rng.NextDouble();
            b1[j] = rng.NextDouble();
            b2[j] = rng.NextDouble();
        }

        double top = 1 - Math.Pow(2, -53);
        (a1[0], a2[0], b1[0], b2[0]) = (0, 0, top, 0.25);
        (a1[1], a2[1], b1[1], b2[1]) = (top, 0.5, top, 0.75);
        (a1[2], a2[2], b1[2], b2[2]) = (0.5, top, 0, top);
        var expected = new double[m];
        for (var j = 0; j < m; j++) expected[j] = SecureDpRandom.Normal(a1[j], a2[j], b1[j], b2[j]);
        var actual = new double[m];
        SecureDpRandom.Normals(a1, a2, b1, b2, actual, new double[m], new double[m]);
        for (var j = 0; j < m; j++) Assert.Equal(expected[j], actual[j], 1e-12);
        Assert.Equal(0.5 * Math.Sqrt(-2 * Math.Log(Math.Pow(2, -53))) * 2, SecureDpRandom.Normal(top, 0, top, 0), 1e-12);
        Assert.Throws<ArgumentException>(() => SecureDpRandom.Normals(new double[2], new double[2], new double[2], new double[2], new double[3], new double[3], new double[3]));
    }

    [Fact]
    public void Draws_MakeNoGarbage_AfterTheFirstBuffer()
    {
        // every path once first (static initialisation may allocate); then the best of three rounds must allocate nothing:
        // garbage made per draw shows in every round, while a one-off runtime allocation on this thread (a fresh-clone
        // run saw 176 bytes once, the previous two runs none) cannot fail the test
        var rng = new SecureDpRandom();
        var bulk = new double[1000];
        double sink = rng.NextNormal() + rng.NextDouble();
        rng.NextNormals(bulk);
        PrivacyEngine.AddNoiseAndNormalise(bulk, 1.0, 1, rng);
        var allocated = new long[3];
        for (var round = 0; round < allocated.Length; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100_000; i++) sink += rng.NextNormal() + rng.NextDouble();
            for (var i = 0; i < 100; i++) rng.NextNormals(bulk);
            PrivacyEngine.AddNoiseAndNormalise(bulk, 1.0, 1, rng);
            allocated[round] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(allocated.Min() == 0, "bytes allocated per round: " + string.Join(", ", allocated));
        Assert.True(double.IsFinite(sink + bulk.Sum()));
    }

    [Fact]
    public void SecureNoise_DiffersOnTheSameSeed_ReproducibleNoiseDoesNot()
    {
        double[] Noise(bool secure, ulong seed)
        {
            var engine = PrivacyEngine.Create(Options(secure), 1000, new Philox(seed));
            var sum = new double[64];
            PrivacyEngine.AddNoiseAndNormalise(sum, 1.0, 1, engine.Noise);
            return sum;
        }

        Assert.Equal(Noise(false, 5), Noise(false, 5));
        Assert.NotEqual(Noise(true, 5), Noise(true, 5));
        Assert.True(PrivacyEngine.Create(Options(true), 1000, new Philox(5)).Noise.IsSecure);
        Assert.False(PrivacyEngine.Create(Options(false), 1000, new Philox(5)).Noise.IsSecure);
    }

    private static DpSgdOptions Options(bool secure, int batch = 10, long steps = 10) => new()
    {
        MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-5, ExpectedBatchSize = batch, Steps = steps, EpsilonBudget = 1e9, SecureMode = secure,
    };

    [Fact]
    public void DP6_SecurePoissonSampling_MeanBatchWithinBounds_AndNotFromTheGivenStream()
    {
        const int n = 1000, draws = 10_000;
        const double q = 0.05;
        var engine = PrivacyEngine.Create(Options(true, batch: (int)(q * n)), n, new Philox(1));
        var sampler = engine.CreateSampler(new Philox(21));
        var seeded = new PoissonSampler(n, q, new Philox(21));
        var total = 0L;
        var sameAsSeeded = 0;
        for (var i = 0; i < draws; i++)
        {
            var batch = sampler.Next();
            total += batch.Length;
            if (batch.AsSpan().SequenceEqual(seeded.Next())) sameAsSeeded++;
            if (i < 5) Assert.Equal(batch.OrderBy(v => v), batch);
        }

        var mean = (double)total / draws;
        var se = Math.Sqrt(n * q * (1 - q) / draws);
        // DP-6 asks for 3 SE; an unseeded draw outside 3 SE happens in 0.27% of runs, so the bound here is 5 SE
        Assert.InRange(mean, (n * q) - (5 * se), (n * q) + (5 * se));
        Assert.Equal(0, sameAsSeeded); // the secure sampler ignores the seeded stream it is given
    }

    [Fact]
    public void Checkpoint_SecureStateHoldsNoPosition_AccountantResumes_ModesDoNotMix()
    {
        var parameters = new Sequential(new PerSampleLinear(4, 3, new Philox(1))).Parameters().ToList();
        var a = PrivacyEngine.Create(Options(true, steps: 5), 1000, new Philox(2));
        for (var s = 0; s < 3; s++) a.Step(parameters, 10, new ZeroGradients());
        var (accountant, noise) = a.CaptureState();
        Assert.Equal(PrivacyEngine.SecureNoiseState, noise);

        var b = PrivacyEngine.Create(Options(true, steps: 5), 1000, new Philox(2));
        b.RestoreState(accountant, noise);
        Assert.Equal(3, b.StepsTaken);
        for (var s = 0; s < 2; s++) b.Step(parameters, 10, new ZeroGradients());
        var straight = PrivacyEngine.Create(Options(false, steps: 5), 1000, new Philox(2));
        for (var s = 0; s < 5; s++) straight.Step(parameters, 10, new ZeroGradients());
        Assert.Equal(straight.Spent().Epsilon, b.Spent().Epsilon, 1e-12);

        var reproducible = PrivacyEngine.Create(Options(false, steps: 5), 1000, new Philox(2));
        var e = Assert.Throws<InvalidDataException>(() => reproducible.RestoreState(accountant, noise));
        Assert.Contains("secure-mode run", e.Message, StringComparison.Ordinal);
        var (plainAccountant, plainNoise) = straight.CaptureState();
        var f = Assert.Throws<InvalidDataException>(() => PrivacyEngine.Create(Options(true, steps: 5), 1000, new Philox(2)).RestoreState(plainAccountant, plainNoise));
        Assert.Contains("train again from scratch in secure mode", f.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"accountant\":\"prv\"}")]
    [InlineData("{\"accountant\":\"rdp\",\"formula\":\"opacus\",\"orders\":[2,3],\"history\":[{\"noise_multiplier\":1,\"sample_rate\":0.01,\"steps\":5},{\"noise_multiplier\":1,\"sample_rate\":0.01,\"steps\":-2}]}")]
    public void Checkpoint_AMalformedAccountantState_IsInvalidData(string accountant)
    {
        // the accountant's own InvalidInputException escaped RestoreState, so a generator's resume reported it without the
        // checkpoint's path; the −2-step history was accepted (3 steps of 5) and broke ε later
        var engine = PrivacyEngine.Create(Options(false, steps: 5), 1000, new Philox(2));
        var (_, noise) = engine.CaptureState();
        var e = Assert.Throws<InvalidDataException>(() => engine.RestoreState(accountant, noise));
        Assert.Contains("malformed DP-SGD state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Statement_NamesTheModeAndTheGenerator()
    {
        var secure = PrivacyEngine.Create(Options(true), 1000, new Philox(2)).Statement();
        var plain = PrivacyEngine.Create(Options(false), 1000, new Philox(2)).Statement();
        Assert.True((bool)secure.ToJson()["secure_mode"]!);
        Assert.Equal(SecureDpRandom.Name, (string)secure.ToJson()["noise_generator"]!);
        Assert.Contains("not be reproduced bit for bit by design", (string)secure.ToJson()["mode"]!, StringComparison.Ordinal);
        Assert.False((bool)plain.ToJson()["secure_mode"]!);
        Assert.Equal(PhiloxDpRandom.Name, (string)plain.ToJson()["noise_generator"]!);
        Assert.Contains("does not know the seed", (string)plain.ToJson()["mode"]!, StringComparison.Ordinal);
    }

    private static DiffusionGeneratorOptions SmallDp(bool secure, int steps = 6)
    {
        var o = DiffusionGeneratorTests.Small(steps);
        return (o with { Training = o.Training with { BatchSize = 32 } }).WithPrivacy(new DpTrainingOptions
        {
            MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-4, SecureMode = secure,
        });
    }

    [Fact]
    public void Generator_SecureRunsOnOneSeedDiffer_ReproducibleRunsAreIdentical_ManifestSaysWhich()
    {
        var train = DiffusionGeneratorTests.Returns(300, 3);
        var r1 = new DiffusionGenerator(SmallDp(false)).Fit(train);
        var r2 = new DiffusionGenerator(SmallDp(false)).Fit(train);
        var s1 = new DiffusionGenerator(SmallDp(true)).Fit(train);
        var s2 = new DiffusionGenerator(SmallDp(true)).Fit(train);
        Assert.Equal(r1.WeightsBytes(), r2.WeightsBytes());
        Assert.NotEqual(s1.WeightsBytes(), s2.WeightsBytes());
        Assert.NotEqual(r1.WeightsBytes(), s1.WeightsBytes());

        var p = s1.Manifest.Privacy!;
        Assert.True(p.SecureMode);
        Assert.Equal(SecureDpRandom.Name, p.NoiseGenerator);
        Assert.Contains("secure mode", p.Statement, StringComparison.Ordinal);
        Assert.Equal(s2.Manifest.Privacy, p); // the statement's numbers do not depend on the draws
        Assert.False(r1.Manifest.Privacy!.SecureMode);
        Assert.Contains("do not release the manifests with the model", r1.Manifest.Privacy.Statement, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(s1.ManifestBytes()));
        var privacy = doc.RootElement.GetProperty("privacy");
        Assert.True(privacy.GetProperty("secure_mode").GetBoolean());
        Assert.Equal(SecureDpRandom.Name, privacy.GetProperty("noise_generator").GetString());
        Assert.True(doc.RootElement.GetProperty("config").GetProperty("privacy").GetProperty("secure_mode").GetBoolean());
        var folder = Path.Combine(_dir, "secure");
        s1.Save(folder);
        Assert.Equal(p, DiffusionGenerator.Load(folder).Manifest.Privacy);
    }

    [Fact]
    public void Generator_SecureCheckpoint_Resumes_AndIsRefusedInTheOtherMode()
    {
        var train = DiffusionGeneratorTests.Returns(300, 3);
        var path = Path.Combine(_dir, "secure.ckpt");
        var a = new DiffusionGenerator(SmallDp(true, steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        var b = new DiffusionGenerator(SmallDp(true, steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        Assert.Equal(a.Manifest.Privacy, b.Manifest.Privacy);
        Assert.Equal(10, b.Manifest.Privacy!.Steps);
        // the same file in reproducible mode is refused (its options differ: secure_mode)
        Assert.Throws<Crucible.Data.InvalidInputException>(() =>
            new DiffusionGenerator(SmallDp(false, steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4)));
    }

    [Fact]
    public void Options_SecureModeRoundTripsThroughTheConfigJson()
    {
        var o = SmallDp(true);
        var json = JsonSerializer.Serialize(o, DiffusionJson.Options);
        Assert.Contains("\"secure_mode\":true", json.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(JsonSerializer.Deserialize<DiffusionGeneratorOptions>(json, DiffusionJson.Options)!.Privacy!.SecureMode);
        Assert.False(JsonSerializer.Deserialize<DiffusionGeneratorOptions>(JsonSerializer.Serialize(SmallDp(false), DiffusionJson.Options), DiffusionJson.Options)!.Privacy!.SecureMode);
        Assert.True(o.Privacy!.ToEngineOptions(300, 32, 6).SecureMode);
    }

    private sealed class ZeroGradients : IPerSampleGradients
    {
        public float[] Compute(IReadOnlyList<Tensor> parameters, int count) => new float[count * parameters.Sum(t => t.Length)];
    }
}
