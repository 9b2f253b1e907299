using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>GET /metrics</c>: the Prometheus text exposition format 0.0.4, read by a small strict parser of the format
/// (HELP and TYPE lines, label escaping, one TYPE per family before its samples, histogram buckets cumulative with
/// <c>+Inf</c> equal to <c>_count</c>), scope <c>read</c>, counters that only grow.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed partial class MetricsTests(ServiceFixture f)
{
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string Key => Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
    }

    internal sealed record Family(string Name, string Type, string? Help, List<Sample> Samples);

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    /// <summary>Parses the exposition strictly; any departure from the format (as this service writes it) throws.</summary>
    internal static Dictionary<string, Family> Parse(string text)
    {
        if (text.Length == 0 || text[^1] != '\n') throw new FormatException("the exposition must end with a line feed");
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        Family? current = null;
        var lines = text[..^1].Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            string Where() => $"line {n + 1}: '{line}'";
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                int space = rest.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0) throw new FormatException("HELP without text, " + Where());
                var name = rest[..space];
                if (!MetricName().IsMatch(name) || !helps.TryAdd(name, Unescape(rest[(space + 1)..], help: true))) throw new FormatException("bad or second HELP, " + Where());
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                if (parts.Length != 2 || !MetricName().IsMatch(parts[0]) || parts[1] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    throw new FormatException("bad TYPE, " + Where());
                if (families.ContainsKey(parts[0])) throw new FormatException("a second TYPE for " + parts[0] + ", " + Where());
                current = new Family(parts[0], parts[1], helps.GetValueOrDefault(parts[0]), []);
                families[parts[0]] = current;
                continue;
            }

            if (line.Length == 0 || line[0] == '#') throw new FormatException("a blank line or another comment, " + Where());
            var (sampleName, labels, valueText) = SplitSample(line, Where);
            if (current is null || !BelongsTo(sampleName, current)) throw new FormatException("a sample outside its family's TYPE block, " + Where());
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            var sample = new Sample(sampleName, labels, value);
            if (!series.Add(sample.Key)) throw new FormatException("a series given twice, " + Where());
            current.Samples.Add(sample);
        }

        foreach (var family in families.Values)
        {
            if (family.Help is null) throw new FormatException("no HELP for " + family.Name);
            if (family.Type == "counter" && !family.Name.EndsWith("_total", StringComparison.Ordinal)) throw new FormatException("a counter without _total: " + family.Name);
            if (family.Type == "counter" && family.Samples.Any(s => !(s.Value >= 0))) throw new FormatException("a negative counter: " + family.Name);
            if (family.Type == "histogram") CheckHistogram(family);
        }

        return families;
    }

    private static bool BelongsTo(string sample, Family family) => family.Type == "histogram"
        ? sample == family.Name + "_bucket" || sample == family.Name + "_sum" || sample == family.Name + "_count"
        : sample == family.Name;

    private static (string Name, Dictionary<string, string> Labels, string Value) SplitSample(string line, Func<string> where)
    {
        int i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        if (!MetricName().IsMatch(name)) throw new FormatException("bad metric name, " + where());
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                var label = line[i..eq];
                if (!LabelName().IsMatch(label) || label.StartsWith("__", StringComparison.Ordinal)) throw new FormatException("bad label name, " + where());
                if (line[eq + 1] != '"') throw new FormatException("an unquoted label value, " + where());
                var value = new StringBuilder();
                int j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] != '\\')
                    {
                        value.Append(line[j]);
                        continue;
                    }

                    j++;
                    value.Append(line[j] switch { '\\' => '\\', '"' => '"', 'n' => '\n', _ => throw new FormatException("a bad escape in a label value, " + where()) });
                }

                if (!labels.TryAdd(label, value.ToString())) throw new FormatException("a label given twice, " + where());
                i = j + 1;
                if (line[i] == ',') i++;
                else if (line[i] != '}') throw new FormatException("labels not separated by commas, " + where());
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ') throw new FormatException("no space before the value, " + where());
        var rest = line[(i + 1)..];
        if (rest.Length == 0 || rest.Contains(' ', StringComparison.Ordinal)) throw new FormatException("a value with a timestamp or nothing, " + where());
        return (name, labels, rest);
    }

    private static string Unescape(string text, bool help)
    {
        var o = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                o.Append(text[i]);
                continue;
            }

            i++;
            o.Append(text[i] switch { '\\' => '\\', 'n' => '\n', '"' when !help => '"', _ => throw new FormatException("a bad escape: " + text) });
        }

        return o.ToString();
    }

    private static void CheckHistogram(Family family)
    {
        foreach (var group in family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value))))
        {
            var buckets = group.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
            var count = Assert.Single(group, s => s.Name.EndsWith("_count", StringComparison.Ordinal)).Value;
            Assert.Single(group, s => s.Name.EndsWith("_sum", StringComparison.Ordinal));
            if (buckets.Count == 0 || buckets[^1].Labels["le"] != "+Inf") throw new FormatException("a histogram without its +Inf bucket last: " + group.Key);
            double previousBound = double.NegativeInfinity, previousCount = 0;
            foreach (var b in buckets)
            {
                var bound = b.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(b.Labels["le"], NumberStyles.Float, CultureInfo.InvariantCulture);
                if (!(bound > previousBound)) throw new FormatException("bucket bounds not increasing: " + group.Key);
                if (b.Value < previousCount) throw new FormatException("buckets not cumulative: " + group.Key);
                (previousBound, previousCount) = (bound, b.Value);
            }

            if (previousCount != count) throw new FormatException("+Inf bucket differs from _count: " + group.Key);
        }
    }

    [Fact]
    public void Parser_RefusesWhatTheFormatForbids()
    {
        const string ok = "# HELP crucible_x_total X.\n# TYPE crucible_x_total counter\ncrucible_x_total{a=\"q\\\"\\\\\\n\"} 1\n";
        Assert.Equal("q\"\\\n", Parse(ok)["crucible_x_total"].Samples[0].Labels["a"]);
        foreach (var bad in new[]
        {
            "# TYPE crucible_x_total counter\ncrucible_x_total 1\n", // no HELP
            ok + "# TYPE crucible_x_total counter\n", // a second TYPE
            "# HELP crucible_x_total X.\ncrucible_x_total 1\n# TYPE crucible_x_total counter\n", // a sample before its TYPE
            "# HELP crucible_x_total X.\n# TYPE crucible_x_total counter\ncrucible_x_total{a=\"\\t\"} 1\n", // a bad escape
            "# HELP crucible_x X.\n# TYPE crucible_x counter\ncrucible_x 1\n", // a counter without _total
            "# HELP crucible_h X.\n# TYPE crucible_h histogram\ncrucible_h_bucket{le=\"1\"} 2\ncrucible_h_bucket{le=\"+Inf\"} 1\ncrucible_h_sum 1\ncrucible_h_count 1\n", // not cumulative
            "# HELP crucible_h X.\n# TYPE crucible_h histogram\ncrucible_h_bucket{le=\"1\"} 1\ncrucible_h_bucket{le=\"+Inf\"} 1\ncrucible_h_sum 1\ncrucible_h_count 2\n", // +Inf ≠ count
            ok + "crucible_x_total{a=\"q\\\"\\\\\\n\"} 2\n", // a series twice
        })
        {
            Assert.ThrowsAny<Exception>(() => Parse(bad));
        }
    }

    // the sum of the samples named `name` (a family's, or a histogram's _count) that carry the labels
    internal static double Value(Dictionary<string, Family> m, string name, params (string, string)[] labels)
    {
        var samples = m.Values.SelectMany(x => x.Samples).Where(s => s.Name == name).ToList();
        Assert.True(samples.Count > 0 || m.ContainsKey(name), "no samples named " + name);
        return samples.Where(s => labels.All(l => s.Labels.TryGetValue(l.Item1, out var v) && v == l.Item2)).Sum(s => s.Value);
    }

    [Fact]
    public async Task Metrics_ParseStrictly_NeedTheReadScope_AndCountRequestsJobsAuditAndGenerations()
    {
        using var anonymous = f.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        using var generator = f.Client("generator");
        Assert.Equal(HttpStatusCode.Forbidden, (await generator.GetAsync("/metrics")).StatusCode);
        using var reader = f.Client("reader");
        async Task<Dictionary<string, Family>> ScrapeAsync()
        {
            using var r = await reader.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", r.Content.Headers.ContentType!.ToString());
            var m = Parse(await r.Content.ReadAsStringAsync());
            Assert.All(m.Keys, name => Assert.StartsWith("crucible_", name, StringComparison.Ordinal));
            return m;
        }

        var before = await ScrapeAsync();
        using (var s = await generator.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1, "sampling_steps": 5}""")))
            Assert.Equal(HttpStatusCode.OK, s.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/v1/nothing/" + Guid.NewGuid().ToString("N"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/v1/models/" + new string('0', 64))).StatusCode);

        // a long generation holds its slot while a scrape sees it
        var slow = generator.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 5000, "sampler": "ddpm", "seed": 2}"""));
        double inFlight = 0, requestsInFlight = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); inFlight == 0 && !slow.IsCompleted && DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var m = await ScrapeAsync();
            (inFlight, requestsInFlight) = (Value(m, "crucible_generations_in_flight"), Value(m, "crucible_http_requests_in_flight"));
        }

        using (var done = await slow) Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.True(inFlight >= 1, "no scrape saw the generation in flight");
        Assert.Equal(2, requestsInFlight); // the generation and the scrape that saw it

        var after = await ScrapeAsync();
        Assert.Equal(Value(before, "crucible_http_requests_total", ("method", "POST"), ("route", "/v1/scenarios"), ("status", "2xx")) + 2,
            Value(after, "crucible_http_requests_total", ("method", "POST"), ("route", "/v1/scenarios"), ("status", "2xx")));
        Assert.True(Value(after, "crucible_http_requests_total", ("route", "unmatched"), ("status", "4xx")) >= 1); // never the raw path
        Assert.DoesNotContain(after["crucible_http_requests_total"].Samples, s => s.Labels["route"].Contains("/v1/nothing", StringComparison.Ordinal));
        Assert.True(Value(after, "crucible_http_requests_total", ("route", "/v1/models/{id}"), ("status", "4xx")) >= 1);
        Assert.True(Value(after, "crucible_http_requests_total", ("route", "/metrics"), ("status", "4xx")) >= 2); // the 401 and 403
        Assert.True(Value(after, "crucible_http_request_duration_seconds_count", ("method", "POST"), ("route", "/v1/scenarios")) >= 2);
        Assert.True(Value(after, "crucible_audit_appends_total") >= Value(before, "crucible_audit_appends_total") + 2); // one scenarios.generated each
        Assert.Equal(0, Value(after, "crucible_generations_in_flight"));
        Assert.Equal(0, Value(after, "crucible_generations_queued"));
        Assert.Equal(1, Value(after, "crucible_http_requests_in_flight")); // this scrape
        Assert.Equal(1, Value(after, "crucible_ready"));
        Assert.Equal(["queued", "running", "succeeded", "failed", "cancelled"], after["crucible_training_jobs"].Samples.Select(s => s.Labels["state"]));

        // counters never go down
        foreach (var family in after.Values.Where(x => x.Type is "counter" or "histogram"))
        {
            foreach (var sample in before.TryGetValue(family.Name, out var earlier) ? earlier.Samples : [])
                Assert.True(family.Samples.Single(s => s.Key == sample.Key).Value >= sample.Value, sample.Key);
        }
    }

    // the store made to refuse every append (the audit signing key rotated under the running service, AUDIT-E-KEY, as
    // FailureLoggingTests does): each refused scenario request is one failed append, counted exactly, and nothing counts
    // as appended
    [Fact]
    public async Task AuditAppendFailures_CountEachAppendTheStoreRefused_Exactly()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "metrics-audit-failures-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile);
        using var generator = factory.CreateClient();
        generator.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        using var reader = factory.CreateClient();
        reader.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
        async Task<Dictionary<string, Family>> ScrapeAsync() => Parse(await reader.GetStringAsync("/metrics"));
        var body = $$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 2, "sampling_steps": 5}""";

        using (var ok = await generator.PostAsync("/v1/scenarios", ServiceFixture.Json(body))) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var before = await ScrapeAsync();
        Assert.Equal(0, Value(before, "crucible_audit_append_failures_total"));
        using (var log = AuditLog.Open(home)) log.RotateKey("metrics test");

        const int refusals = 3;
        for (int i = 0; i < refusals; i++)
        {
            using var refused = await generator.PostAsync("/v1/scenarios", ServiceFixture.Json(body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        var after = await ScrapeAsync();
        Assert.Equal(refusals, Value(after, "crucible_audit_append_failures_total"));
        Assert.Equal(Value(before, "crucible_audit_appends_total"), Value(after, "crucible_audit_appends_total"));
    }
}
