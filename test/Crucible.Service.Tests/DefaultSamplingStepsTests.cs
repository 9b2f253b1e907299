using System.Net;
using System.Text.Json;
using Crucible.Diffusion;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// A request without <c>sampling_steps</c> samples with <c>crucible generate</c>'s default, min(50, T): on a model with
/// T &lt; 50 it was a 422 naming sampling_steps, a field the client never sent (and the web page never sends by default).
/// </summary>
public sealed class DefaultSamplingStepsTests
{
    [Fact]
    public async Task NoSamplingSteps_OnAModelWithTBelow50_SamplesAllTSteps_AsCrucibleGenerate()
    {
        var rng = new System.Random(3);
        var returns = new double[200, 2];
        for (int i = 0; i < 200; i++)
        {
            returns[i, 0] = 0.02 * (rng.NextDouble() - 0.5);
            returns[i, 1] = 0.01 * (rng.NextDouble() - 0.5);
        }

        var generator = new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 16, Blocks = 1, TimeEmbedding = 8, DiffusionSteps = 20, Objective = Objective.V,
            Training = new TrainerOptions(Steps: 10, BatchSize: 32, LearningRate: 2e-3, WarmupSteps: 2), Seed = 2,
        }).Fit(returns, ["A", "B"]);
        using var service = new ModelService("crucible-service-steps-", generator.Save);
        var id = service.ModelId;
        using var client = service.Client();

        foreach (var sampler in new[] { "ddim", "dpm2m" })
        {
            using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{id}}", "count": 4, "seed": 9, "sampler": "{{sampler}}"}"""));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            var metadata = JsonDocument.Parse(text).RootElement.GetProperty("metadata");
            Assert.Equal(20, metadata.GetProperty("sampling_steps").GetInt32());
            var kind = sampler == "ddim" ? SamplerKind.Ddim : SamplerKind.DpmSolver2M;
            var expected = generator.Generate(4, 9, SamplerOptions.DefaultFor(20) with { Kind = kind });
            Assert.Equal(expected.Values.Values[0], JsonDocument.Parse(text).RootElement.GetProperty("values")[0][0].GetDouble());
        }

        // an explicit value above T is still refused, naming the field
        await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{id}}", "count": 4, "sampling_steps": 21}""")),
            HttpStatusCode.UnprocessableEntity, "validation");
    }
}
