using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Governance.Audit;

namespace Crucible.Service.Tests;

/// <summary><c>POST /v1/evaluations</c>: the same report.json bytes as <c>crucible evaluate</c>, audited; input errors name the file.</summary>
[Collection(ServiceCollection.Name)]
public sealed class EvaluationEndpointsTests(ServiceFixture f)
{
    private string Scenarios(int count, ulong seed) =>
        System.Text.Encoding.UTF8.GetString(ScenarioCsv.Format(DiffusionGenerator.Load(f.ModelFolder).Generate(count, seed).Values));

    // the request of these fields is a 422 validation problem whose first error under `field` is `message`
    private static async Task AssertRefusedAsync(HttpClient client, Dictionary<string, object> fields, string field, string message)
    {
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(fields)));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    // the report.json bytes `crucible evaluate` writes for these files and options, in a child process
    private static async Task<byte[]> CliReportAsync(string real, string synthetic, string train, params string[] options)
    {
        var dir = Directory.CreateTempSubdirectory("crucible-eval-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "r.csv"), real);
            File.WriteAllText(Path.Combine(dir, "s.csv"), synthetic);
            File.WriteAllText(Path.Combine(dir, "t.csv"), train);
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "crucible.dll"), "evaluate", "--real", Path.Combine(dir, "r.csv"), "--synthetic", Path.Combine(dir, "s.csv"),
                         "--train", Path.Combine(dir, "t.csv"), "--home", Path.Combine(dir, "home"), "--out", Path.Combine(dir, "report.json") }.Concat(options))
                start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            var stderr = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, await stderr);
            return File.ReadAllBytes(Path.Combine(dir, "report.json"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // 15 synthetic rows at alpha 0.95 are fewer than the 20 its metrics need: the report's warning is the library's, so
    // the service's bytes still equal the CLI's (RELIABILITY MRM-9)
    [Theory]
    [InlineData(200, false)]
    [InlineData(15, true)]
    public async Task Evaluation_IsTheCliReport_ByteForByte(int syntheticRows, bool tooSmall)
    {
        string real = Scenarios(200, 1), synthetic = Scenarios(syntheticRows, 2), train = Scenarios(200, 3);
        using var client = f.Client("reader");
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train, ["alpha"] = 0.95 });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));

        Assert.Equal(await CliReportAsync(real, synthetic, train, "--alpha", "0.95"), bytes);

        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), System.Globalization.CultureInfo.InvariantCulture), 1).Single();
        Assert.Equal("evaluation.completed", entry.Kind);
        Assert.Equal("key:reader", entry.Actor);
        using var doc = JsonDocument.Parse(bytes);
        Assert.True(doc.RootElement.TryGetProperty("ks_mean", out _));
        Assert.Equal(tooSmall, doc.RootElement.TryGetProperty("warnings", out var warnings)
            && warnings.EnumerateArray().Any(w => w.GetString()!.StartsWith("the synthetic set has 15 rows, fewer than the 20", StringComparison.Ordinal)));
        Assert.Empty(Directory.GetDirectories(Path.Combine(f.Home, "evaluations"))); // scratch files removed
    }

    // a scenario file's rows under a date column, one weekday each from 2021-01-04 (Date,SERIES…)
    private static string Dated(string scenarios)
    {
        var lines = scenarios.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var date = new DateOnly(2021, 1, 4);
        var sb = new System.Text.StringBuilder("Date," + string.Join(',', lines[0].Split(',')[2..]) + "\n");
        foreach (var line in lines.Skip(1))
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{string.Join(',', line.Split(',')[2..])}\n");
            date = date.AddDays(date.DayOfWeek == DayOfWeek.Friday ? 3 : 1);
        }

        return sb.ToString();
    }

    // crucible evaluate warns when a file's dates are not strictly increasing (naming the first bad line and the figures
    // that follow row order); the service answered the same figures without a word. Its warnings are the CLI's, by the
    // same library code, naming the request's members (the real_csv file) where the CLI names its options (the --real file)
    [Fact]
    public async Task Evaluation_DatesNotStrictlyIncreasing_WarnAsTheCliWarns_NamingTheRequestsMembers()
    {
        var realLines = Dated(Scenarios(200, 1)).Split('\n');
        (realLines[3], realLines[4]) = (realLines[4], realLines[3]); // line 5 dated before line 4
        var trainLines = Dated(Scenarios(200, 3)).Split('\n');
        trainLines[2] = trainLines[1][..10] + trainLines[2][10..]; // line 3 repeats line 2's date
        string real = string.Join('\n', realLines), synthetic = Scenarios(200, 2), train = string.Join('\n', trainLines);
        using var client = f.Client("reader");
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using var doc = JsonDocument.Parse(bytes);
        var warnings = doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.StartsWith($"the real_csv file's dates are not strictly increasing: line 5 is dated {realLines[4][..10]}, before line 4's {realLines[3][..10]}; "
            + "its rows are used in file order, so ", warnings[0], StringComparison.Ordinal);
        Assert.EndsWith("regimes and the VaR backtest follow that order (sort the file by date and drop duplicate dates first)", warnings[0], StringComparison.Ordinal);
        Assert.StartsWith($"the train_csv file's dates are not strictly increasing: line 3 repeats the date {trainLines[1][..10]} of line 2; "
            + "its rows are used in file order, so the regime threshold", warnings[1], StringComparison.Ordinal);
        Assert.DoesNotContain(warnings, w => w.Contains("synthetic_csv", StringComparison.Ordinal)); // a scenario file has no dates

        // the CLI's report.json for the same files, its options' names aside
        var cli = System.Text.Encoding.UTF8.GetString(await CliReportAsync(real, synthetic, train))
            .Replace("the --real file", "the real_csv file", StringComparison.Ordinal).Replace("the --train file", "the train_csv file", StringComparison.Ordinal);
        Assert.Equal(cli, System.Text.Encoding.UTF8.GetString(bytes));
    }

    /// <summary>Session 21: regime_window is crucible evaluate's --regime-window (at least 2, recorded as regimes.window).</summary>
    [Fact]
    public async Task Evaluation_RegimeWindow_IsTheCliOption()
    {
        using var client = f.Client("reader");
        string real = Scenarios(200, 1), synthetic = Scenarios(200, 2);
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["regime_window"] = 10 });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using (var doc = JsonDocument.Parse(bytes)) Assert.Equal(10, doc.RootElement.GetProperty("regimes").GetProperty("window").GetInt32());

        await AssertRefusedAsync(client, new() { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["regime_window"] = 1 },
            "regime_window", "must be at least 2 steps (a volatility needs two returns), got 1");
    }

    /// <summary>privacy_rows is crucible evaluate's --privacy-rows: at most that many drawn rows of each set in the privacy
    /// section (recorded as privacy.subsample), at least 2, and only with train_csv.</summary>
    [Fact]
    public async Task Evaluation_PrivacyRows_IsTheCliOption()
    {
        using var client = f.Client("reader");
        string real = Scenarios(200, 1), synthetic = Scenarios(200, 2), train = Scenarios(200, 3);
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train, ["privacy_rows"] = 120 });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using (var doc = JsonDocument.Parse(bytes))
        {
            var privacy = doc.RootElement.GetProperty("privacy");
            Assert.Equal(120, privacy.GetProperty("subsample").GetProperty("limit").GetInt32());
            Assert.Equal(120, privacy.GetProperty("subsample").GetProperty("train").GetProperty("drawn").GetInt32());
            Assert.Equal(120, privacy.GetProperty("dcr_share").GetProperty("n").GetInt32());
            Assert.Equal(200, doc.RootElement.GetProperty("rows").GetProperty("train").GetInt32());
        }

        foreach (var (value, withTrain, message) in new[]
        {
            (1, true, "must be at least 2 rows (a nearest other row and a standard deviation need two), got 1"),
            (0, true, "must be at least 2 rows (a nearest other row and a standard deviation need two), got 0"),
            (120, false, "needs train_csv (without it there is no privacy section)"),
        })
        {
            var fields = new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["privacy_rows"] = value };
            if (withTrain) fields["train_csv"] = train;
            await AssertRefusedAsync(client, fields, "privacy_rows", message);
        }
    }

    /// <summary>RELIABILITY PRIV-6: linkability_series is crucible evaluate's --linkability-series: the attacker's two
    /// datasets by name (only with train_csv, every name a series, none twice).</summary>
    [Fact]
    public async Task Evaluation_LinkabilitySeries_IsTheCliOption()
    {
        using var client = f.Client("reader");
        string real = Scenarios(200, 1), synthetic = Scenarios(200, 2), train = Scenarios(200, 3);
        // the scenario CSV's series: its header after scenario and step
        var names = real[..real.IndexOf('\n', StringComparison.Ordinal)].Trim().Split(',')[2..];
        Assert.Equal(2, names.Length);
        object Link(string[] first, string[] second) => new Dictionary<string, object> { ["first"] = first, ["second"] = second };
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train, ["linkability_series"] = Link([names[1]], [names[0]]),
        });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using (var doc = JsonDocument.Parse(bytes))
        {
            var link = doc.RootElement.GetProperty("privacy").GetProperty("linkability");
            Assert.Equal([names[1]], link.GetProperty("first_series").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal([names[0]], link.GetProperty("second_series").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(2, doc.RootElement.GetProperty("privacy").GetProperty("singling_out").GetArrayLength());
        }

        foreach (var (link, withTrain, message) in new[]
        {
            (Link([names[0]], []), true, "needs first and second, each a non-empty list of series names"),
            (Link([names[0]], [names[1]]), false, "needs train_csv (without it there is no privacy section)"),
            (Link([names[0]], ["nope"]), true, $"'nope' is not a series of the data ({string.Join(", ", names)})"),
            (Link([names[0], names[1]], [names[1]]), true, $"series '{names[1]}' is named twice; the attacker's two datasets hold disjoint series"),
        })
        {
            var fields = new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["linkability_series"] = link };
            if (withTrain) fields["train_csv"] = train;
            await AssertRefusedAsync(client, fields, "linkability_series", message);
        }
    }

    /// <summary>RELIABILITY PRIV-6: sensitive is crucible evaluate's --sensitive: attribute inference on each named series
    /// (only with train_csv, every name a series, at least two series), the same report bytes as the CLI's.</summary>
    [Fact]
    public async Task Evaluation_Sensitive_IsTheCliOption()
    {
        using var client = f.Client("reader");
        string real = Scenarios(200, 1), synthetic = Scenarios(200, 2), train = Scenarios(200, 3);
        var names = real[..real.IndexOf('\n', StringComparison.Ordinal)].Trim().Split(',')[2..];
        Assert.Equal(2, names.Length);
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train, ["sensitive"] = new[] { names[1] },
        });
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        using (var doc = JsonDocument.Parse(bytes))
        {
            var attacks = doc.RootElement.GetProperty("privacy").GetProperty("attribute_inference");
            Assert.Equal(names[1], Assert.Single(attacks.EnumerateArray()).GetProperty("column").GetString());
        }

        Assert.Equal(await CliReportAsync(real, synthetic, train, "--sensitive", names[1]), bytes);

        foreach (var (sensitive, withTrain, message) in new[]
        {
            (Array.Empty<string>(), true, "needs a non-empty list of series names"),
            ([" "], true, "needs a non-empty list of series names"),
            ([names[0]], false, "needs train_csv (attribute inference attacks the training rows)"),
            (["nope"], true, $"sensitive series 'nope' is not among the series ({string.Join(", ", names)})"),
            ([names[0], names[0]], true, $"sensitive series '{names[0]}' is given twice"),
        })
        {
            var fields = new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["sensitive"] = sensitive };
            if (withTrain) fields["train_csv"] = train;
            await AssertRefusedAsync(client, fields, "sensitive", message);
        }

        // one series: nothing left for the attacker to know
        static string FirstSeries(string csv) => string.Join('\n', csv.Split('\n').Select(l => string.Join(',', l.Split(',').Take(3))));
        await AssertRefusedAsync(client,
            new() { ["real_csv"] = FirstSeries(real), ["synthetic_csv"] = FirstSeries(synthetic), ["train_csv"] = FirstSeries(train), ["sensitive"] = new[] { names[0] } },
            "sensitive", "attribute inference needs at least two series (the attacker knows the others)");
    }

    /// <summary>
    /// RELIABILITY PRIV-9: the service's evaluation.completed entry records the privacy report with its hash, as crucible
    /// evaluate's does: privacy_sha256 is the SHA-256 of the answered report's privacy bytes, holdout_sha256 the real
    /// file's (the entry's real_sha256), the gates' verdicts and warnings the report's; with privacy_rows, the subsample;
    /// without train_csv there is no privacy object.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(120)]
    public async Task Evaluation_AuditEntry_RecordsThePrivacyReportWithItsHash(int? privacyRows)
    {
        using var client = f.Client("reader");
        string real = Scenarios(200, 1), synthetic = Scenarios(200, 2), train = Scenarios(200, 3);
        var fields = new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic, ["train_csv"] = train };
        if (privacyRows is { } rows) fields["privacy_rows"] = rows;
        using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(fields)));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        var entry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), System.Globalization.CultureInfo.InvariantCulture), 1).Single();
        Assert.Equal("evaluation.completed", entry.Kind);
        using var doc = JsonDocument.Parse(bytes);
        using var payload = JsonDocument.Parse(entry.Payload);
        var report = doc.RootElement.GetProperty("privacy");
        var recorded = payload.RootElement.GetProperty("privacy");
        var section = System.Text.Encoding.UTF8.GetBytes(report.GetRawText());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(section)), recorded.GetProperty("privacy_sha256").GetString());
        Assert.Equal(payload.RootElement.GetProperty("real_sha256").GetString(), recorded.GetProperty("holdout_sha256").GetString());
        Assert.Equal(report.GetProperty("holdout_sha256").GetString(), recorded.GetProperty("holdout_sha256").GetString());
        Assert.Equal(report.GetProperty("share_within_bound").GetBoolean(), recorded.GetProperty("share_within_bound").GetBoolean());
        Assert.Equal(report.GetProperty("ims").GetProperty("within_margin").GetBoolean(), recorded.GetProperty("ims_within_margin").GetBoolean());
        Assert.Equal(report.GetProperty("nndr").GetProperty("synthetic_below_training").GetBoolean(), recorded.GetProperty("nndr_synthetic_below_training").GetBoolean());
        static string?[] Texts(JsonElement array) => [.. array.EnumerateArray().Select(w => w.GetString())];
        Assert.Equal(Texts(report.GetProperty("warnings")), Texts(recorded.GetProperty("warnings")));
        if (privacyRows is null)
        {
            Assert.False(recorded.TryGetProperty("subsample", out _));
        }
        else
        {
            // the canonical entry: keys sorted, the seed a decimal string; 120 of each set's 200 rows drawn
            Assert.Equal("""{"holdout":{"drawn":120,"rows":200},"limit":120,"seed":"0","synthetic":{"drawn":120,"rows":200},"train":{"drawn":120,"rows":200}}""",
                recorded.GetProperty("subsample").GetRawText());
        }

        // without train_csv: no privacy section, no privacy object
        using var plain = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = synthetic })));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var plainEntry = AuditLog.Read(Path.Combine(f.Home, "audit.db"), long.Parse(plain.Headers.GetValues("X-Crucible-Audit-Seq").Single(), System.Globalization.CultureInfo.InvariantCulture), 1).Single();
        using var plainPayload = JsonDocument.Parse(plainEntry.Payload);
        Assert.False(plainPayload.RootElement.TryGetProperty("privacy", out _));
    }

    [Fact]
    public async Task Evaluation_Errors_NameTheFileLineAndColumn()
    {
        using var client = f.Client("reader");
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["real_csv"] = "scenario,step,A,B\n1,1,0.1,x\n", ["synthetic_csv"] = Scenarios(5, 1) });
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/evaluations", ServiceFixture.Json(body)), HttpStatusCode.UnprocessableEntity, "validation");
        var rule = problem.GetProperty("errors").GetProperty("real_csv")[0].GetString()!;
        Assert.Contains("real.csv", rule, StringComparison.Ordinal);
        Assert.Contains("non-numeric", rule, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Home, problem.ToString(), StringComparison.Ordinal); // no server paths

        var missing = await Problem.AssertAsync(await client.PostAsync("/v1/evaluations", ServiceFixture.Json("""{"real_csv": "x", "alpha": 2}""")),
            HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(missing.GetProperty("errors").TryGetProperty("synthetic_csv", out _) && missing.GetProperty("errors").TryGetProperty("alpha", out _));
        using var anonymous = f.Client(null);
        await Problem.AssertAsync(await anonymous.PostAsync("/v1/evaluations", ServiceFixture.Json("{}")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PricedSyntheticWithItsMetadata_IsTheReportOfTheUnpricedOne_WithoutItTheErrorSaysWhy()
    {
        var generator = DiffusionGenerator.Load(f.ModelFolder);
        var set = generator.Generate(200, 2);
        var priced = PricePaths.Append(set, StartPrices.Unit(set.Values.Columns));
        var csv = ScenarioCsv.Format(priced.Values, priced.Metadata.StepsPerScenario);
        var meta = ScenarioCsv.ToJson(ScenarioCsv.Describe(priced, csv, "synthetic.csv", DateTimeOffset.UnixEpoch));
        string real = Scenarios(200, 1), plain = System.Text.Encoding.UTF8.GetString(ScenarioCsv.Format(set.Values)), pricedText = System.Text.Encoding.UTF8.GetString(csv);
        Assert.Contains("_price", pricedText.Split('\n')[0], StringComparison.Ordinal);
        // the reader looks for the metadata where generate writes it
        foreach (var name in new[] { Path.Combine("d", "s.csv"), Path.Combine("d", "s.CSV"), Path.Combine("d", "s.dat"), "s" })
            Assert.Equal(ScenarioCsv.MetadataPath(name), Crucible.Evaluation.ScenarioSidecar.MetadataPath(name));
        using var client = f.Client("reader");

        async Task<(HttpStatusCode Status, byte[] Bytes)> Post(Dictionary<string, object> body)
        {
            using var response = await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(body)));
            return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
        }

        var expected = await Post(new() { ["real_csv"] = real, ["synthetic_csv"] = plain });
        Assert.Equal(HttpStatusCode.OK, expected.Status);
        // the metadata as its JSON text or as an object: the report of the unpriced file, byte for byte
        using var metaDoc = JsonDocument.Parse(meta);
        foreach (object m in new object[] { meta, metaDoc.RootElement })
        {
            var got = await Post(new() { ["real_csv"] = real, ["synthetic_csv"] = pricedText, ["synthetic_meta"] = m });
            Assert.True(got.Status == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(got.Bytes));
            Assert.Equal(expected.Bytes, got.Bytes);
        }

        // without it: refused, and the message says the file may have price columns
        var bare = await Problem.AssertAsync(await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(
            new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = pricedText }))), HttpStatusCode.UnprocessableEntity, "validation");
        var message = bare.GetProperty("errors").GetProperty("synthetic_csv")[0].GetString()!;
        Assert.Contains("column-mismatch", message, StringComparison.Ordinal);
        Assert.Contains("may have price columns", message, StringComparison.Ordinal);

        // another file's metadata: refused (its csv_sha256 is not this CSV's); unreadable metadata: named as synthetic_meta
        var other = ScenarioCsv.ToJson(ScenarioCsv.Describe(priced, [.. csv, .. "1,1,0,0,1,1\n"u8.ToArray()], "synthetic.csv", DateTimeOffset.UnixEpoch));
        var wrong = await Problem.AssertAsync(await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(
            new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = pricedText, ["synthetic_meta"] = other }))), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("scenario-metadata-sha256", wrong.GetProperty("errors").GetProperty("synthetic_csv")[0].GetString()!, StringComparison.Ordinal);
        var broken = await Problem.AssertAsync(await client.PostAsync("/v1/evaluations", ServiceFixture.Json(JsonSerializer.Serialize(
            new Dictionary<string, object> { ["real_csv"] = real, ["synthetic_csv"] = pricedText, ["synthetic_meta"] = "{\"prices\": " }))), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("scenario-metadata", broken.GetProperty("errors").GetProperty("synthetic_meta")[0].GetString()!, StringComparison.Ordinal);
    }
}
