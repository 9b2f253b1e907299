using System.Net;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>POST /v1/scenarios</c> on a conditional sequence model: conditions, guidance and a stress specification give the
/// library's bytes; a term the model does not know is a 422 naming the field.
/// </summary>
public sealed class SequenceScenarioTests
{
    [Fact]
    public async Task StressedRequest_GivesTheLibrarysBytes_AndUnknownTermsAre422()
    {
        var generator = TinySequenceModel.Train();
        using var service = new ModelService("crucible-service-seq-", generator.Save);
        var id = service.ModelId;
        using var client = service.Client();

        string body = $$"""{"model": "{{id}}", "count": 6, "seed": 3, "sampler": "ddim", "sampling_steps": 10, "guidance": 2, "stress": "vix=+2sd, SPY<=-5%"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = generator.Generate(6, 3, new SequenceSampleRequest(null, 2, new SamplerOptions(SamplerKind.Ddim, 10), "vix=+2sd, SPY<=-5%"));
        Assert.Equal(ScenarioCsv.Format(expected.Values, expected.Metadata.StepsPerScenario), await response.Content.ReadAsByteArrayAsync());

        // limited-interval guidance reaches the sampler
        string limited = $$$"""{"model": "{{{id}}}", "count": 6, "seed": 3, "sampler": "ddim", "sampling_steps": 10, "guidance": 2, "guidance_min_noise": 0.3, "conditions": {"VIXCLS": 40}}""";
        using var limitedRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(limited) };
        limitedRequest.Headers.Accept.ParseAdd("text/csv");
        using var limitedResponse = await client.SendAsync(limitedRequest);
        Assert.Equal(HttpStatusCode.OK, limitedResponse.StatusCode);
        var vix = new Dictionary<string, double> { ["VIXCLS"] = 40 };
        var expectedLimited = generator.Generate(6, 3, new SequenceSampleRequest(vix, 2, new SamplerOptions(SamplerKind.Ddim, 10), GuidanceMinNoise: 0.3));
        var everyStep = generator.Generate(6, 3, new SequenceSampleRequest(vix, 2, new SamplerOptions(SamplerKind.Ddim, 10)));
        byte[] limitedBytes = await limitedResponse.Content.ReadAsByteArrayAsync();
        Assert.Equal(ScenarioCsv.Format(expectedLimited.Values, expectedLimited.Metadata.StepsPerScenario), limitedBytes);
        Assert.NotEqual(ScenarioCsv.Format(everyStep.Values, everyStep.Metadata.StepsPerScenario), limitedBytes);

        // regime guidance reaches the generator, and its factor is in the metadata
        string regime = $$$"""{"model": "{{{id}}}", "count": 6, "seed": 3, "sampler": "ddim", "sampling_steps": 10, "guidance": 2, "regime_guidance": 0.5, "conditions": {"VIXCLS": 40}}""";
        using var regimeResponse = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(regime));
        Assert.Equal(HttpStatusCode.OK, regimeResponse.StatusCode);
        using var regimeJson = JsonDocument.Parse(await regimeResponse.Content.ReadAsStringAsync());
        var expectedRegime = generator.Generate(6, 3, new SequenceSampleRequest(vix, 2, new SamplerOptions(SamplerKind.Ddim, 10), RegimeGuidance: 0.5));
        var metadata = regimeJson.RootElement.GetProperty("metadata");
        Assert.Equal(0.5, metadata.GetProperty("regime_guidance").GetDouble());
        Assert.Equal(expectedRegime.Metadata.RegimeFactor, metadata.GetProperty("regime_factor").GetDouble());
        Assert.NotEqual(1.0, metadata.GetProperty("regime_factor").GetDouble());
        Assert.Equal(expectedRegime.Values.Values[0], regimeJson.RootElement.GetProperty("values")[0][0].GetDouble());
        // VIXCLS = 40 is beyond the training range (15 .. 21): the answer's metadata carries the library's warning
        var warning = Assert.Single(metadata.GetProperty("condition_warnings").EnumerateArray());
        var expectedWarning = Assert.Single(expectedRegime.Metadata.ConditionWarnings!);
        Assert.Equal("VIXCLS", warning.GetProperty("feature").GetString());
        Assert.Equal(40, warning.GetProperty("value").GetDouble());
        Assert.Equal(expectedWarning.StandardDeviationsBeyond, warning.GetProperty("standard_deviations_beyond").GetDouble());
        Assert.Equal(expectedWarning.Message, warning.GetProperty("message").GetString());

        string bad = $$"""{"model": "{{id}}", "count": 2, "seed": 3, "stress": "HYG<=-10%"}""";
        using var invalid = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(bad));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
        Assert.Contains("HYG", problem.RootElement.GetProperty("errors").GetProperty("stress")[0].GetString(), StringComparison.Ordinal);
    }
}
