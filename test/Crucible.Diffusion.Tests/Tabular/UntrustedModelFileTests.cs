using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// Session 24, the bank's application-security review: a model folder is untrusted input. A <c>manifest.json</c> over
/// 64 MiB (the review's "1 GB manifest") and a <c>weights.safetensors</c> over the 2 GiB a byte array holds are refused
/// by their size, before either is read, with the file, its size and the rule (<c>model-manifest</c>,
/// <c>model-weights</c>: exit 2), by both loaders; before, the manifest was read whole into a string (a 1 GB one is an
/// <see cref="OutOfMemoryException"/>, which the CLI does not catch) and the weights failed with an
/// <see cref="IOException"/> ("internal error, please report it"). A manifest nested 10,000 deep is a clear
/// <c>model-manifest</c> error (System.Text.Json's depth limit of 64), no stack overflow. The files are sparse: the test
/// writes a few bytes of them.
/// </summary>
public sealed class UntrustedModelFileTests : IDisposable
{
    private const long MaxManifestBytes = 64L << 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-untrusted-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SavedModel()
    {
        var folder = Path.Combine(_dir, "m-" + Guid.NewGuid().ToString("N")[..8]);
        new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 8, Blocks = 1, TimeEmbedding = 8, DiffusionSteps = 10,
            Training = new Crucible.Diffusion.Training.TrainerOptions(Steps: 2, BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, EmaDecay: 0.9),
            Seed = 3,
        }).Fit(DiffusionGeneratorTests.Returns(40, 5)).Save(folder);
        return folder;
    }

    private static void Grow(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.SetLength(length); // sparse: nothing is written
    }

    [Fact]
    public void AManifestOver64MiB_IsRefusedBySize_UnreadByEitherLoader()
    {
        var folder = SavedModel();
        var manifest = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        Grow(manifest, MaxManifestBytes + 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var load in new Action[] { () => DiffusionGenerator.Load(folder), () => SequenceGenerator.Load(folder), () => SequenceGenerator.ReadKind(folder) })
        {
            var e = Assert.Throws<InvalidInputException>(load);
            Assert.Equal("model-manifest", e.Rule);
            Assert.Equal(manifest, e.Location?.File);
            Assert.Contains($"{MaxManifestBytes + 1} bytes, more than the {MaxManifestBytes}", e.Message, StringComparison.Ordinal);
        }

        // three refusals without reading 64 MiB (read, the manifest alone is 128 MiB of string)
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (8L << 20), "the loaders read the oversized manifest");
    }

    [Fact]
    public void WeightsOver2GiB_AreRefusedBySize_AsBadInput_NotAnIOException()
    {
        var folder = SavedModel();
        var weights = Path.Combine(folder, DiffusionGenerator.WeightsFileName);
        Grow(weights, 3L << 30);
        var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
        Assert.Equal("model-weights", e.Rule);
        Assert.Equal(weights, e.Location?.File);
        Assert.Contains($"{3L << 30} bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal("model-weights", Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder)).Rule);
    }

    [Fact]
    public void AManifestNested10000Deep_IsAModelManifestError()
    {
        var folder = SavedModel();
        File.WriteAllText(Path.Combine(folder, DiffusionGenerator.ManifestFileName), "{\"kind\":" + new string('[', 10_000) + new string(']', 10_000) + "}");
        Assert.Equal("model-manifest", Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder)).Rule);
        Assert.Equal("model-manifest", Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder)).Rule);
    }
}
