using System.Net;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 17: guidance, guidance_min_noise and regime_guidance act through conditions, so on a sequence model without
/// condition inputs they are refused (the library's rule GUIDANCE-E-UNCONDITIONAL) as a 422 naming the field, nothing
/// generated, instead of being accepted and recorded while changing nothing.
/// </summary>
public sealed class UnconditionalGuidanceTests
{
    [Fact]
    public async Task GuidanceOnAModelWithoutConditionInputs_Is422NamingTheField_AndThePlainRequestIsServed()
    {
        using var service = new ModelService("crucible-service-uncond-", TinySequenceModel.Train(conditional: false).Save);
        var id = service.ModelId;
        using var client = service.Client();

        foreach (var (member, field) in new[] { ("\"guidance\": 4", "guidance"), ("\"guidance_min_noise\": 0.5", "guidance_min_noise"), ("\"regime_guidance\": 1", "regime_guidance") })
        {
            var body = ServiceFixture.Json($$"""{"model": "{{id}}", "count": 2, "seed": 1, "sampling_steps": 5, {{member}}}""");
            var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
            var message = problem.GetProperty("errors").GetProperty(field)[0].GetString()!;
            Assert.Contains("GUIDANCE-E-UNCONDITIONAL", message, StringComparison.Ordinal);
            Assert.Contains("the model has no condition inputs", message, StringComparison.Ordinal);
        }

        using var plain = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{id}}", "count": 2, "seed": 1, "sampling_steps": 5}"""));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    /// <summary>
    /// Session 18: on a model WITH condition inputs, a request naming no condition (no conditions, or empty ones, and no
    /// stress specification that sets one) samples the unconditional model whatever the guidance fields say: the same
    /// rule, a 422 naming the field; the model's default guidance alone, or a named condition, is served.
    /// </summary>
    [Fact]
    public async Task GuidanceWithoutACondition_OnAConditionalModel_Is422NamingTheField_AndWithAConditionIsServed()
    {
        using var service = new ModelService("crucible-service-cond-", TinySequenceModel.Train().Save);
        var id = service.ModelId;
        using var client = service.Client();

        foreach (var (member, field) in new[]
        {
            ("\"guidance\": 4", "guidance"), ("\"guidance_min_noise\": 0.5", "guidance_min_noise"), ("\"regime_guidance\": 1", "regime_guidance"),
            ("\"guidance\": 2, \"conditions\": {}", "guidance"), ("\"regime_guidance\": 1, \"stress\": \"SPY<=-1%\"", "regime_guidance"),
        })
        {
            var body = ServiceFixture.Json($$"""{"model": "{{id}}", "count": 2, "seed": 1, "sampling_steps": 5, {{member}}}""");
            var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
            var message = problem.GetProperty("errors").GetProperty(field)[0].GetString()!;
            Assert.Contains("GUIDANCE-E-UNCONDITIONAL", message, StringComparison.Ordinal);
            Assert.Contains("no condition was named", message, StringComparison.Ordinal);
        }

        foreach (var served in new[] { "", ", \"guidance\": 2, \"conditions\": {\"VIXCLS\": 20}", ", \"regime_guidance\": 1, \"stress\": \"VIXCLS=20\"" })
        {
            using var ok = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{id}}", "count": 2, "seed": 1, "sampling_steps": 5{{served}}}"""));
            Assert.True(ok.StatusCode == HttpStatusCode.OK, served + ": " + await ok.Content.ReadAsStringAsync());
        }
    }
}
