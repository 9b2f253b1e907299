using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>POST /v1/scenarios</c> with <c>"prices": true</c>: the CSV is the library's <see cref="PricePaths.Append"/> of the
/// same draw, byte for byte; the JSON metadata says where P_0 came from; each unusable start is 422 naming
/// <c>start_prices</c>. The fixture's model was trained on returns, so it records no last prices.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ScenarioPricesTests(ServiceFixture f)
{
    private static HttpRequestMessage Post(string body, string accept) =>
        new(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body), Headers = { Accept = { new(accept) } } };

    private string Body(string prices) => $$"""{"model": "{{f.ModelId}}", "count": 16, "seed": 3, "sampling_steps": 10{{prices}}}""";

    [Fact]
    public async Task Csv_WithPrices_IsTheLibrarysPricePathsOfTheSameDraw()
    {
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post(Body(""", "prices": true, "start_prices": {"A": 470.25, "B": 90.5, "SPY": 1}"""), "text/csv"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var service = await response.Content.ReadAsByteArrayAsync();

        var set = DiffusionGenerator.Load(f.ModelFolder).Generate(16, 3, new SamplerOptions(SamplerKind.Ddim, 10));
        var start = StartPrices.Parse(Encoding.UTF8.GetBytes("""{"A": 470.25, "B": 90.5}"""), "start.json", ["A", "B"]);
        var library = PricePaths.Append(set, start);
        Assert.Equal(ScenarioCsv.Format(library.Values, 1), service);
        Assert.StartsWith("scenario,step,A,B,A_price,B_price\n", Encoding.UTF8.GetString(service), StringComparison.Ordinal);

        using var json = await client.SendAsync(Post(Body(""", "prices": true, "start_prices": "unit" """), "application/json"));
        Assert.True(json.StatusCode == HttpStatusCode.OK, await json.Content.ReadAsStringAsync());
        using var doc = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var prices = doc.RootElement.GetProperty("metadata").GetProperty("prices");
        Assert.Equal("unit", prices.GetProperty("source").GetString());
        Assert.Equal(1.0, prices.GetProperty("start").GetProperty("B").GetDouble());
    }

    [Theory]
    [InlineData(""", "prices": true""", "records none")]
    [InlineData(""", "prices": true, "start_prices": {"A": 1}""", "no start price for series B")]
    [InlineData(""", "prices": true, "start_prices": {"A": 1, "B": 0}""", "finite number > 0")]
    [InlineData(""", "prices": true, "start_prices": {"A": 1, "B": "2"}""", "not a number")]
    [InlineData(""", "prices": true, "start_prices": "one" """, "\"unit\"")]
    [InlineData(""", "prices": true, "start_prices": [1, 2]""", "\"unit\"")]
    [InlineData(""", "start_prices": "unit" """, "applies with")]
    [InlineData(""", "prices": true, "start_prices": {"A": 1.7976931348623157e308, "B": 1.7976931348623157e308}""", "overflows")]
    public async Task UnusableStart_Is422_NamingStartPrices(string extra, string message)
    {
        using var client = f.Client("generator");
        using var response = await client.SendAsync(Post(Body(extra), "text/csv"));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("start_prices", out var rules), problem.ToString());
        Assert.Contains(message, rules[0].GetString(), StringComparison.Ordinal);
    }
}
