using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Random;

public class ParallelFillTests
{
    [Fact]
    public void Normal_SameBitsOnOneAndTwoThreads()
    {
        const int n = 1_000_000;
        var one = new float[n];
        var two = new float[n];
        ParallelFill.Normal(one, seed: 12345, stream: 2, chunkSize: 4096, maxDegreeOfParallelism: 1);
        ParallelFill.Normal(two, seed: 12345, stream: 2, chunkSize: 4096, maxDegreeOfParallelism: 2);
        Assert.True(one.AsSpan().SequenceEqual(two), "outputs differ between 1 and 2 threads");
        Assert.Contains(one, v => v != 0f);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(1000)]
    public void Normal_EvenChunkSizeEqualsSequentialFillNormal(int chunkSize)
    {
        const int n = 10_001;
        var parallel = new float[n];
        ParallelFill.Normal(parallel, 9, 1, chunkSize, mean: 1f, std: 0.5f);
        var sequential = new float[n];
        new Philox(9, 1).FillNormal(sequential, 1f, 0.5f);
        Assert.True(parallel.AsSpan().SequenceEqual(sequential));
    }

    [Fact]
    public void Normal_OddChunkSizeIsStillThreadCountIndependent()
    {
        var a = new float[9999];
        var b = new float[9999];
        ParallelFill.Normal(a, 3, 0, 77, maxDegreeOfParallelism: 1);
        ParallelFill.Normal(b, 3, 0, 77, maxDegreeOfParallelism: 2);
        Assert.True(a.AsSpan().SequenceEqual(b));
    }

    [Fact]
    public void Normal_ThrowsForBadArguments()
    {
        var x = new float[10];
        Assert.Throws<ArgumentOutOfRangeException>(() => ParallelFill.Normal(x, 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParallelFill.Normal(x, 1, 0, 4, maxDegreeOfParallelism: 0));
    }

    [Fact]
    public void Normal_EmptyDestinationIsANoOp() => ParallelFill.Normal(Array.Empty<float>(), 1, 0, 16);
}
