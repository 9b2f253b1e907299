using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Stress.Ensembles;
using Crucible.Stress.Reporting;

namespace Crucible.Service.Tests;

/// <summary><c>POST /v1/ensembles</c>: the bytes <c>crucible ensemble</c> writes (EnsembleJson of Ensemble.RunFiles), audited; input errors name the file.</summary>
[Collection(ServiceCollection.Name)]
public sealed class EnsembleEndpointsTests(ServiceFixture f)
{
    private const string PortfolioJson = """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""";

    // count two-step scenarios of Gaussian log returns for series A and B, their sd times scale
    private static string Csv(int count, int seed, double scale)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var sb = new StringBuilder("scenario,step,A,B\n");
        for (int s = 1; s <= count; s++)
        {
            for (int t = 1; t <= 2; t++)
                sb.Append(CultureInfo.InvariantCulture, $"{s},{t},{scale * 0.01 * Normal():R},{scale * 0.02 * Normal():R}\n");
        }

        return sb.ToString();
    }

    private static string Body((string Name, string Csv)[] members, string portfolio = PortfolioJson, string extra = "") =>
        "{\"scenarios\": " + JsonSerializer.Serialize(members.Select(m => new Dictionary<string, string> { ["name"] = m.Name, ["csv"] = m.Csv })) +
        ", \"portfolio\": " + portfolio + extra + "}";

    // what crucible ensemble writes for the same files: Ensemble.RunFiles on NAME.csv and the portfolio, EnsembleJson
    private static byte[] Reference((string Name, string Csv)[] members, double alpha, EnsembleThresholds thresholds)
    {
        var dir = Directory.CreateTempSubdirectory("crucible-ensemble-").FullName;
        try
        {
            var paths = members.Select(m =>
            {
                var path = Path.Combine(dir, m.Name + ".csv");
                File.WriteAllText(path, m.Csv);
                return path;
            }).ToArray();
            var portfolio = Path.Combine(dir, "portfolio.json");
            File.WriteAllText(portfolio, PortfolioJson);
            return Encoding.UTF8.GetBytes(EnsembleJson.ToJson(Ensemble.RunFiles(paths, portfolio, alpha, thresholds)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<(HttpResponseMessage Response, byte[] Bytes)> Post(string body)
    {
        using var client = f.Client("reader");
        var response = await client.PostAsync("/v1/ensembles", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        return (response, bytes);
    }

    private void AssertNoScratchLeft()
    {
        var scratch = Path.Combine(f.Home, "evaluations");
        Assert.True(!Directory.Exists(scratch) || Directory.GetDirectories(scratch).Length == 0);
    }

    [Fact]
    public async Task AgreeingMembers_AreTheCliBytes_NotFlagged_AndAudited()
    {
        (string, string)[] members = [("model-a", Csv(1000, 1, 1.0)), ("model_b.v2", Csv(1000, 2, 1.0))];
        var (response, bytes) = await Post(Body(members, extra: ", \"alpha\": 0.95, \"max_es_spread\": 0.5, \"max_wasserstein\": 0.3"));
        Assert.Equal(Reference(members, 0.95, new EnsembleThresholds { MaxEsSpread = 0.5, MaxWasserstein = 0.3 }), bytes);
        using var doc = JsonDocument.Parse(bytes);
        Assert.False(doc.RootElement.GetProperty("flagged").GetBoolean());
        Assert.Empty(doc.RootElement.GetProperty("reasons").EnumerateArray());
        Assert.Equal(["model-a", "model_b.v2"], doc.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()));

        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture), 1).Single();
        Assert.Equal("run.completed", entry.Kind);
        Assert.Equal("key:reader", entry.Actor);
        using var payload = JsonDocument.Parse(entry.Payload);
        var p = payload.RootElement;
        Assert.Equal("service.ensemble", p.GetProperty("command").GetString());
        static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(members.Select(m => (m.Item1, Sha(m.Item2))),
            p.GetProperty("members").EnumerateArray().Select(m => (m.GetProperty("name").GetString()!, m.GetProperty("csv_sha256").GetString()!)));
        Assert.Equal(Sha(PortfolioJson), p.GetProperty("portfolio_sha256").GetString());
        Assert.False(p.GetProperty("flagged").GetBoolean());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), p.GetProperty("report_sha256").GetString());
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task ADisagreeingMember_IsFlagged_At200_WithTheCliDefaults()
    {
        (string, string)[] members = [("base", Csv(1000, 3, 1.0)), ("other", Csv(1000, 4, 1.0)), ("wild", Csv(1000, 5, 4.0))];
        var (response, bytes) = await Post(Body(members));
        Assert.Equal(Reference(members, 0.975, new EnsembleThresholds()), bytes);
        using var doc = JsonDocument.Parse(bytes);
        Assert.True(doc.RootElement.GetProperty("flagged").GetBoolean());
        Assert.Equal(0.975, doc.RootElement.GetProperty("alpha").GetDouble());
        Assert.Contains(doc.RootElement.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("ES spread", StringComparison.Ordinal) && r.GetString()!.Contains("wild", StringComparison.Ordinal));

        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture), 1).Single();
        using var payload = JsonDocument.Parse(entry.Payload);
        Assert.True(payload.RootElement.GetProperty("flagged").GetBoolean());
        AssertNoScratchLeft();
    }

    public static TheoryData<string, string> InvalidBodies
    {
        get
        {
            var csv = Csv(20, 6, 1.0);
            string Two(string name0, string name1) => Body([(name0, csv), (name1, csv)]);
            return new()
            {
                { Body([("only", csv)]), "scenarios" },
                { """{"scenarios": [], "portfolio": {"weights": {"A": 1}}}""", "scenarios" },
                { """{"portfolio": {"weights": {"A": 1}}}""", "scenarios" },
                { Two("a", "a/b"), "scenarios[1].name" },
                { Two("a", "x y"), "scenarios[1].name" },
                { Two("", "b"), "scenarios[0].name" },
                { Two("a", new string('n', 65)), "scenarios[1].name" },
                { Two("same", "SAME"), "scenarios[1].name" },
                { "{\"scenarios\": [{\"name\": \"a\"}, {\"name\": \"b\", \"csv\": " + JsonSerializer.Serialize(csv) + "}], \"portfolio\": {}}", "scenarios[0].csv" },
                { "{\"scenarios\": [null, {\"name\": \"b\", \"csv\": \"x\"}], \"portfolio\": {}}", "scenarios[0]" },
                { "{\"scenarios\": " + JsonSerializer.Serialize(new[] { new { name = "a", csv }, new { name = "b", csv } }) + "}", "portfolio" },
                { Body([("a", csv), ("b", csv)], portfolio: "\"ab.json\""), "portfolio" },
                { Body([("a", csv), ("b", csv)], extra: ", \"alpha\": 1"), "alpha" },
                { Body([("a", csv), ("b", csv)], extra: ", \"alpha\": 0"), "alpha" },
                { Body([("a", csv), ("b", csv)], extra: ", \"max_es_spread\": 0"), "max_es_spread" },
                { Body([("a", csv), ("b", csv)], extra: ", \"max_wasserstein\": -0.1"), "max_wasserstein" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task InvalidValues_Are422_NamingTheField(string body, string field)
    {
        using var client = f.Client("reader");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/ensembles", ServiceFixture.Json(body)), HttpStatusCode.UnprocessableEntity, "validation");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
        Assert.Single(errors.EnumerateObject());
    }

    [Fact]
    public async Task InputErrors_NameTheMembersFile_LineAndColumn()
    {
        using var client = f.Client("reader");
        var good = Csv(20, 7, 1.0);
        var badCsv = await Problem.AssertAsync(await client.PostAsync("/v1/ensembles", ServiceFixture.Json(Body([("good", good), ("broken", "scenario,step,A,B\n1,1,0.1,x\n")]))),
            HttpStatusCode.UnprocessableEntity, "validation");
        var rule = badCsv.GetProperty("errors").GetProperty("scenarios[1].csv")[0].GetString()!;
        Assert.Contains("broken.csv:2:", rule, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Home, badCsv.ToString(), StringComparison.Ordinal); // no server paths

        var badPortfolio = await Problem.AssertAsync(await client.PostAsync("/v1/ensembles", ServiceFixture.Json(Body([("a", good), ("b", good)], portfolio: """{"weights": {"A": "heavy"}}"""))),
            HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("portfolio.json:", badPortfolio.GetProperty("errors").GetProperty("portfolio")[0].GetString()!, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Home, badPortfolio.ToString(), StringComparison.Ordinal);
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task WithoutAReadKey_Is401Or403()
    {
        var body = Body([("a", Csv(20, 8, 1.0)), ("b", Csv(20, 9, 1.0))]);
        using var anonymous = f.Client(null);
        await Problem.AssertAsync(await anonymous.PostAsync("/v1/ensembles", ServiceFixture.Json(body)), HttpStatusCode.Unauthorized, "unauthenticated");
        using var generator = f.Client("generator");
        var problem = await Problem.AssertAsync(await generator.PostAsync("/v1/ensembles", ServiceFixture.Json(body)), HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("'read'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    // the CSV with unit-start price paths A_price, B_price appended, and metadata declaring them (its csv_sha256 the priced bytes')
    private static (string Csv, string Meta) Priced(string csv)
    {
        var sb = new StringBuilder();
        double a = 0, b = 0;
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var c = line.Split(',');
            if (c[0] == "scenario")
            {
                sb.Append(line).Append(",A_price,B_price\n");
                continue;
            }

            if (c[1] == "1") a = b = 0;
            a += double.Parse(c[2], CultureInfo.InvariantCulture);
            b += double.Parse(c[3], CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{line},{Math.Exp(a):R},{Math.Exp(b):R}\n");
        }

        var text = sb.ToString();
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return (text, $$"""{"format": "crucible-scenarios/1", "prices": {"source": "unit", "start": {"A": 1, "B": 1}, "columns": ["A_price", "B_price"]}, "csv_sha256": "{{sha}}"}""");
    }

    [Fact]
    public async Task PricedMembersWithTheirMetadata_AreTheBytesOfTheUnpricedOnes_AnotherFilesMetadataIsRefused()
    {
        (string Name, string Csv)[] plain = [("a", Csv(500, 11, 1.0)), ("b", Csv(500, 12, 1.0))];
        var priced = plain.Select(m => (m.Name, P: Priced(m.Csv))).ToArray();
        string Members(bool wrongMeta) => JsonSerializer.Serialize(priced.Select((m, i) => new Dictionary<string, object>
        {
            ["name"] = m.Name, ["csv"] = m.P.Csv, ["meta"] = JsonDocument.Parse(priced[wrongMeta ? 1 - i : i].P.Meta).RootElement,
        }));
        var expected = (await Post(Body(plain))).Bytes;
        var (_, bytes) = await Post("{\"scenarios\": " + Members(false) + ", \"portfolio\": " + PortfolioJson + "}");
        Assert.Equal(expected, bytes);

        using var client = f.Client("reader");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/ensembles", ServiceFixture.Json("{\"scenarios\": " + Members(true) + ", \"portfolio\": " + PortfolioJson + "}")),
            HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("scenario-metadata-sha256", problem.GetProperty("errors").GetProperty("scenarios[0].csv")[0].GetString()!, StringComparison.Ordinal);
        var broken = "[{\"name\": \"a\", \"csv\": " + JsonSerializer.Serialize(priced[0].P.Csv) + ", \"meta\": \"{\"}, {\"name\": \"b\", \"csv\": " + JsonSerializer.Serialize(plain[1].Csv) + "}]";
        problem = await Problem.AssertAsync(await client.PostAsync("/v1/ensembles", ServiceFixture.Json("{\"scenarios\": " + broken + ", \"portfolio\": " + PortfolioJson + "}")),
            HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("scenario-metadata", problem.GetProperty("errors").GetProperty("scenarios[0].meta")[0].GetString()!, StringComparison.Ordinal);
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Ensemble_OfIdenticalZeroMembers_AnswersTheReport_NotA500()
    {
        // every member's ES is 0 and every P&L constant: the ES spread and the Wasserstein ratio were 0/0 (NaN), which the
        // report wrote as null but the run manifest's outcome refused (canonical JSON has no NaN): a 500. Equal members
        // now agree: spread 0, distances 0
        const string zero = "scenario,step,A,B\n1,1,0,0\n1,2,0,0\n2,1,0,0\n2,2,0,0\n";
        (string, string)[] members = [("m1", zero), ("m2", zero)];
        var (response, bytes) = await Post(Body(members));
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        Assert.Equal(Reference(members, 0.975, new EnsembleThresholds()), bytes);
        using var reader = f.Client("reader");
        using var run = await reader.GetAsync("/v1/runs/" + response.Headers.GetValues("Crucible-Run-Id").Single());
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        var outcome = JsonDocument.Parse(await run.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome");
        Assert.Equal(0, outcome.GetProperty("es_spread").GetDouble());
        Assert.Equal(0, outcome.GetProperty("max_wasserstein").GetDouble());
    }
}
