using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Networks;

[Collection(nameof(EngineThreadsCollection))]
public class SamplingAllocationTests
{
    /// <summary>
    /// A guided sampler step of the conditional sequence network (the conditional pass and the null pass) takes its
    /// tensors from the adapter's arena, and the attention's thousands of small per-head products allocate nothing:
    /// after the first step, a step allocates about 90 KB whatever the batch (the ops' bookkeeping objects; 94 KB
    /// here). Before, each small product allocated the parallel GEMM's closure whether or not it ran in parallel, and
    /// the null token's zeros, the padding mask's scores and the batch offsets were heap arrays: 4.3 MB a step here.
    /// </summary>
    [Fact]
    public void GuidedSteps_AfterTheFirst_AllocateLittle()
    {
        const int batch = 1024, d = 3, w = 20, k = 2;
        var rng = new Philox(4);
        var x = new float[batch * d * w];
        rng.FillNormal(x);
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(Series: d, Window: w, ConditionFeatures: k, Hidden: 32, Layers: 4, Heads: 4, TimeEmbedding: 32), new Philox(5));
        var adapter = new ConditionalTcnDenoiserAdapter(net, 200);
        var conditions = ConditionBatch.Repeat([0.5f, -1f], batch);
        var timesteps = new int[batch];
        Array.Fill(timesteps, 120);
        var conditional = new float[x.Length];
        var unconditional = new float[x.Length];

        using var limit = EngineThreads.Limit(1);                       // every allocation on this thread
        adapter.PredictGuided(x, batch, timesteps, conditions, conditional, unconditional);
        long perStep = ThreadAllocations.PerCall(() => adapter.PredictGuided(x, batch, timesteps, conditions, conditional, unconditional), calls: 4);

        Assert.True(perStep < 128 * batch, $"a later step allocated {perStep:N0} bytes ({perStep / batch:N0} per sample)");
    }
}
