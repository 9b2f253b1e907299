using System.Net;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 18: a stress specification's moves on a state-scaled model need one level (the library's rule state-scale):
/// without it the request is a 422 naming the <c>stress</c> field, located at the first move, saying what to add.
/// </summary>
public sealed class StateScaledStressTests
{
    [Fact]
    public async Task MovesWithoutALevel_Are422AtTheStressField_AndWithTheLevelAreServed()
    {
        using var service = new ModelService("crucible-service-ssmoves-", TinySequenceModel.Train(o => o with { StateScale = "VIXCLS" }).Save);
        var id = service.ModelId;
        using var client = service.Client();

        var body = ServiceFixture.Json($$"""{"model": "{{id}}", "count": 2, "seed": 1, "sampling_steps": 5, "stress": "SPY<=-5%"}""");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
        var message = problem.GetProperty("errors").GetProperty("stress")[0].GetString()!;
        Assert.StartsWith("stress:1:1: error [state-scale]: the move SPY<=-5% is a constraint on the returns", message, StringComparison.Ordinal);
        Assert.Contains("add a level, VIXCLS=VALUE as a condition or in the specification", message, StringComparison.Ordinal);

        using var ok = await client.PostAsync("/v1/scenarios",
            ServiceFixture.Json($$$"""{"model": "{{{id}}}", "count": 2, "seed": 1, "sampling_steps": 5, "stress": "SPY<=-5%", "conditions": {"VIXCLS": 20}}"""));
        Assert.True(ok.StatusCode == HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
    }
}
