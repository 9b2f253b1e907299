using System.Net;

namespace Crucible.Service.Tests;

/// <summary>The tiny conditional sequence model (trained on returns: no recorded last prices) registered in a service.</summary>
public sealed class SequenceModelService : IDisposable
{
    private readonly ModelService _service = new("crucible-service-seq-edge-", model => TinySequenceModel.Train().Save(model));

    public string ModelId => _service.ModelId;

    public HttpClient Client() => _service.Client();

    public void Dispose() => _service.Dispose();
}

/// <summary>Unusual but well-formed requests to a conditional sequence model are 422s naming the field, never 500s.</summary>
public sealed class SequenceScenarioEdgeTests(SequenceModelService s) : IClassFixture<SequenceModelService>
{
    private async Task<System.Text.Json.JsonElement> Post422(string members)
    {
        using var client = s.Client();
        var body = ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 2, "seed": 1, "sampling_steps": 5{{members}}}""");
        return await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
    }

    [Fact]
    public async Task Prices_OnASequenceModelWithoutRecordedPrices_Is422NamingStartPrices()
    {
        // the model records no last train prices: the fallback to the recorded prices dereferenced the tabular generator
        var problem = await Post422(", \"prices\": true");
        Assert.Contains("start_prices", problem.GetProperty("errors").GetProperty("start_prices")[0].GetString(), StringComparison.Ordinal);

        using var client = s.Client();
        using var unit = await client.PostAsync("/v1/scenarios",
            ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 2, "seed": 1, "sampling_steps": 5, "prices": true, "start_prices": "unit"}"""));
        Assert.Equal(HttpStatusCode.OK, unit.StatusCode);
    }

    [Theory]
    [InlineData(", \"conditions\": {\"VIXCLS\": 1e30}", "conditions")]
    [InlineData(", \"conditions\": {\"VIXCLS\": 1e300}", "conditions")]
    [InlineData(", \"conditions\": {\"VIXCLS\": -1e300}, \"regime_guidance\": 1", "conditions")]
    [InlineData(", \"stress\": \"VIXCLS=+999999999999999999999999999999999999999999999sd\"", "stress")]
    [InlineData(", \"stress\": \"VIXCLS=999999999999999999999999999999999999999999999\"", "stress")]
    public async Task ConditionFarOutsideTheTrainingRange_Is422(string members, string field)
    {
        // such a condition overflowed the guided network (an ArgumentException in the guidance, or non-finite values
        // that the JSON answer could not hold): a 500
        var problem = await Post422(members);
        Assert.Contains("standard deviations", problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(", \"conditions\": {\"VIXCLS\": 30, \"vixcls\": 20}")]
    [InlineData(", \"stress\": \"SPY<=-1%\", \"conditions\": {\"VIXCLS\": 30, \"vixcls\": 20}")]
    public async Task OneConditionNamedTwiceInDifferentCase_Is422NamingConditions(string members)
    {
        // two JSON members, one feature (names ignore case): it sampled under the last one and recorded that one (200)
        var problem = await Post422(members);
        Assert.Contains("is given twice (names ignore case)", problem.GetProperty("errors").GetProperty("conditions")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"ZZZ\": 1}")]
    [InlineData("{\"VIXCLS\": 1e30}")]
    public async Task BadCondition_BesideAValidStress_NamesConditions(string conditions)
    {
        // the error named stress whenever a stress specification was given, whichever field was wrong
        var problem = await Post422($", \"stress\": \"vol=+1sd\", \"conditions\": {conditions}");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("conditions", out _), errors.ToString());
        Assert.False(errors.TryGetProperty("stress", out _), errors.ToString());
    }

    [Fact]
    public async Task ContradictoryMoves_Are422NamingStressAndBothMoves()
    {
        // SPY<=-50%; SPY>=50% was answered 200 with a constraint violation rate of 1: no scenario can satisfy both
        var problem = await Post422(", \"stress\": \"SPY<=-50%; SPY>=50%\"");
        var message = problem.GetProperty("errors").GetProperty("stress")[0].GetString()!;
        Assert.StartsWith("stress:1:12: error [STRESS-E-CONFLICT]: the moves 'SPY<=-50%' (column 1) and 'SPY>=50%' (column 12) contradict each other", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("VIXCLS=+2sd; VIXCLS=+3sd")]
    [InlineData("gfc-2008")]
    [InlineData("ZZZ=+2sd")]
    public async Task StressErrorsFoundAgainstTheModel_AreLocatedInTheStressField(string stress)
    {
        // errors the model finds (an unknown name, a term twice) were located as the CLI's option, "--stress:1:COL", while
        // syntax errors of the same field read "stress:1:COL"
        var problem = await Post422($", \"stress\": \"{stress}\"");
        Assert.StartsWith("stress:1:", problem.GetProperty("errors").GetProperty("stress")[0].GetString(), StringComparison.Ordinal);
    }
}

/// <summary>Price paths that overflow under an extreme condition (within the 1,000-sd bound) are a 422, never a 500.</summary>
public sealed class SequencePriceOverflowTests(SequenceModelService s) : IClassFixture<SequenceModelService>
{
    [Theory]
    [InlineData("\"conditions\": {\"VIXCLS\": VALUE}", "conditions")]
    [InlineData("\"stress\": \"VIXCLS=+990sd\"", "stress")]
    public async Task PricePathsOverflowing_UnderAnExtremeCondition_Are422NamingTheField(string members, string field)
    {
        // 990 training sd (inside the 1,000-sd bound) with the strongest regime guidance: finite returns whose price
        // paths overflow, which the JSON answer could not hold (a 500)
        var space = TinySequenceModel.Train().ConditionSpace;
        var value = (space.Mean[0] + (990 * space.Std[0])).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        using var client = s.Client();
        var body = ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 4, "seed": 1, "sampling_steps": 5, "prices": true, "start_prices": "unit", "regime_guidance": 100, {{members.Replace("VALUE", value, StringComparison.Ordinal)}}}""");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), errors.ToString());
        Assert.Contains("overflows", messages[0].GetString(), StringComparison.Ordinal);

        // the same request without prices: the returns are finite and answered
        using var returns = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 4, "seed": 1, "sampling_steps": 5, "regime_guidance": 100, {{members.Replace("VALUE", value, StringComparison.Ordinal)}}}"""));
        Assert.Equal(HttpStatusCode.OK, returns.StatusCode);
    }
}

/// <summary>The tiny conditional sequence model with a regime guidance of its own far too strong (a = 1e300).</summary>
public sealed class StrongRegimeModelService : IDisposable
{
    private readonly ModelService _service = new("crucible-service-seq-regime-", model => TinySequenceModel.Train(o => o with { RegimeGuidance = 1e300 }).Save(model));

    public string ModelId => _service.ModelId;

    public HttpClient Client() => _service.Client();

    public void Dispose() => _service.Dispose();
}

/// <summary>
/// A regime guidance whose factor k = exp(a·(ℓ_c − ℓ_∅)) underflows or overflows is a 422 under the request's field that
/// holds the regime guidance, <c>regime_guidance</c> (the model's own, when the request gives none, is overridden there):
/// it was reported under <c>conditions</c> or <c>stress</c>, whichever gave the conditions, which were not at fault.
/// </summary>
public sealed class RegimeGuidanceRefusalTests(StrongRegimeModelService s) : IClassFixture<StrongRegimeModelService>
{
    [Theory]
    [InlineData("\"conditions\": {\"VIXCLS\": 40}")]
    [InlineData("\"conditions\": {\"VIXCLS\": 1}")]
    [InlineData("\"stress\": \"VIXCLS=+3sd\"")]
    public async Task AFactorThatUnderflowsOrOverflows_Is422NamingRegimeGuidance(string members)
    {
        using var client = s.Client();
        var body = ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 2, "seed": 1, "sampling_steps": 5, {{members}}}""");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.UnprocessableEntity, "validation");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("regime_guidance", out var messages), errors.ToString());
        Assert.Single(errors.EnumerateObject());
        var message = messages[0].GetString()!;
        Assert.StartsWith("error [OPT-E]: the model's regime_guidance (its manifest's config) 1E+300 scales every window", message, StringComparison.Ordinal);
        Assert.Matches("which (underflows to 0|overflows)", message); // a high VIXCLS narrows this model's windows, a low one widens them
        Assert.Contains("give a smaller regime_guidance", message, StringComparison.Ordinal);

        // the request's own regime guidance overrides the model's: answered
        using var ok = await client.PostAsync("/v1/scenarios",
            ServiceFixture.Json($$"""{"model": "{{s.ModelId}}", "count": 2, "seed": 1, "sampling_steps": 5, "regime_guidance": 0, {{members}}}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
