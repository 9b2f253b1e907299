using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crucible.LoadBench;

/// <summary>
/// Reads the phases' JSON files (library, service-saturation, open-70, open-200, svc11-cached, svc11-small), judges issue
/// #10's targets and prints the table: at 70% of the offline capacity every request succeeds at the offered rate with
/// p99 ≤ 2 × p50; at 2× the service sheds with 429 and never times out, fails with a 5xx or grows its memory (RSS growth
/// below 10% from the first to the last 10 s); the service's throughput at saturation is within 20% of the library's.
/// At SVC-11's rate (50/s), cached (one stored answer replayed) and small requests: p99 &lt; 250 ms, p99.9 &lt; 1 s, no
/// error but 429, RSS growth below 10%.
/// </summary>
internal static class Summary
{
    public static int Run(string dir, string outPath)
    {
        var phases = Directory.GetFiles(dir, "*.json").Where(f => !f.EndsWith("result.json", StringComparison.Ordinal))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())
            .ToDictionary(p => (string)p["phase"]!, StringComparer.Ordinal);
        var result = new JsonObject();
        var checks = new JsonObject();
        // the capacity phases ran in alternating rounds (library-k, service-saturation-k): medians, and the overhead as
        // the median of the rounds' ratios, so that a drift of the machine's load between rounds cancels
        var rounds = phases.Keys.Where(k => k.StartsWith("library-", StringComparison.Ordinal)).Select(k => k["library-".Length..]).Order(StringComparer.Ordinal).ToList();
        double Rps(string phase) => (double)phases[phase]["requests_per_second"]!;
        if (rounds.Count > 0)
        {
            double capacity = Median([.. rounds.Select(k => Rps("library-" + k))]);
            result["library_capacity_rps"] = capacity;
            result["library_rounds_rps"] = new JsonArray([.. rounds.Select(k => (JsonNode?)Rps("library-" + k))]);
            var paired = rounds.Where(k => phases.ContainsKey("service-saturation-" + k)).ToList();
            if (paired.Count > 0)
            {
                double overhead = Median([.. paired.Select(k => 1 - (Rps("service-saturation-" + k) / Rps("library-" + k)))]);
                result["service_saturation_rps"] = Median([.. paired.Select(k => Rps("service-saturation-" + k))]);
                result["service_rounds_rps"] = new JsonArray([.. paired.Select(k => (JsonNode?)Rps("service-saturation-" + k))]);
                result["service_overhead"] = Math.Round(overhead, 4);
                checks["overhead_below_20pct"] = overhead < 0.20;
            }
        }

        foreach (var name in OpenPhases)
        {
            if (!phases.TryGetValue(name, out var p)) continue;
            var s = p["statuses"]!.AsObject();
            long Status(string k) => s.TryGetPropertyValue(k, out var v) ? (long)v! : 0;
            long sent = (long)p["sent"]!, ok = Status("200"), rejected = Status("429");
            long fiveXx = s.Where(kv => kv.Key.StartsWith('5')).Sum(kv => (long)kv.Value!);
            long timeouts = Status("timeout"), errors = sent - ok - rejected;
            var rss = p["rss_mib"]!.AsArray().Select(v => (double)v!).ToArray();
            // from the first 10 s to the last 10 s; a phase of 2 minutes or more from its second minute (SVC-11: "between
            // minutes 1 and 5"), past the warm-up's growth
            var first = rss.Length >= 120 ? rss[60..70] : rss.Length >= 10 ? rss[..10] : [];
            double? growth = rss.Length >= 20 ? (Median(rss[^10..]) / Median(first)) - 1 : null;
            var lat = p["latency_ms_ok"]!.AsObject();
            double? p50 = (double?)lat["p50"], p99 = (double?)lat["p99"];
            result[name] = new JsonObject
            {
                ["rate"] = (double)p["rate"]!,
                ["sent"] = sent,
                ["ok"] = ok,
                ["rejected_429"] = rejected,
                ["5xx"] = fiveXx,
                ["timeouts"] = timeouts,
                ["other_errors"] = errors - fiveXx - timeouts,
                ["p50_ms"] = p50,
                ["p99_ms"] = p99,
                ["p99_9_ms"] = (double?)lat["p99_9"],
                ["rss_growth"] = growth is { } g ? Math.Round(g, 4) : null,
                ["rss_first_mib"] = first.Length > 0 ? Median(first) : null,
                ["rss_last_mib"] = rss.Length >= 10 ? Median(rss[^10..]) : null,
                ["count"] = (int)p["request"]!["count"]!,
                ["replayed"] = (long?)p["replayed"],
            };
            if (name.StartsWith("svc11-", StringComparison.Ordinal))
            {
                // RELIABILITY SVC-11 at its own rate: p99 < 250 ms, p99.9 < 1 s, no error but 429, RSS growth < 10%
                double? p999 = (double?)lat["p99_9"];
                checks[name + "_p99_below_250ms"] = p99 is < 250;
                checks[name + "_p99_9_below_1s"] = p999 is < 1000;
                checks[name + "_no_errors_but_429"] = errors == 0;
                checks[name + "_rss_growth_below_10pct"] = growth is < 0.10;
                // the cached phase measures the idempotency store's answers: every request must have been one
                if (p["idempotency_key"] is not null) checks[name + "_all_replayed"] = (long?)p["replayed"] == sent;
            }
            else if (name == "open-70")
            {
                checks["70pct_all_ok"] = ok == sent;
                checks["70pct_p99_le_2x_p50"] = p50 is { } a && p99 is { } b && b <= 2 * a;
            }
            else
            {
                checks["2x_sheds_with_429"] = rejected > 0;
                checks["2x_no_timeouts_5xx_or_errors"] = errors == 0;
                checks["2x_rss_growth_below_10pct"] = growth is { } g2 && g2 < 0.10;
            }
        }

        result["checks"] = checks;
        result["machine"] = phases.Values.FirstOrDefault()?["machine"]?.DeepClone();
        result["phases"] = new JsonObject(phases.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.DeepClone())));
        File.WriteAllText(outPath, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Print(result);
        return checks.All(c => (bool)c.Value!) ? 0 : 3;
    }

    // open-70 and open-200 at 70% and 200% of the capacity (issue #10's targets); svc11-cached and svc11-small at
    // SVC-11's fixed rate (50/s): every request replaying one stored answer, and fresh small requests
    private static readonly string[] OpenPhases = ["open-70", "open-200", "svc11-cached", "svc11-small"];

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    private static void Print(JsonObject r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"library capacity        {r["library_capacity_rps"]?.GetValue<double>():F2} requests/s (median; rounds {r["library_rounds_rps"]?.ToJsonString()})"));
        if (r["service_saturation_rps"] is { } sat)
            Console.WriteLine(string.Create(c, $"service at saturation   {sat.GetValue<double>():F2} requests/s (median; rounds {r["service_rounds_rps"]?.ToJsonString()}; overhead {100 * r["service_overhead"]!.GetValue<double>():F1}%, median of the rounds)"));
        Console.WriteLine("phase          count  rate/s    sent     200     429   5xx  timeouts  p50 ms   p99 ms  p99.9 ms  RSS growth");
        foreach (var name in OpenPhases)
        {
            if (r[name] is not JsonObject p) continue;
            Console.WriteLine(string.Create(c,
                $"{name,-14} {p["count"],5} {p["rate"]!.GetValue<double>(),7:F2} {p["sent"],7} {p["ok"],7} {p["rejected_429"],7} {p["5xx"],5} {p["timeouts"],9} {Fmt(p["p50_ms"]),7} {Fmt(p["p99_ms"]),8} {Fmt(p["p99_9_ms"]),9} {Pct(p["rss_growth"]),10}"));
        }

        foreach (var (k, v) in r["checks"]!.AsObject()) Console.WriteLine($"  {((bool)v! ? "PASS" : "FAIL")}  {k}");
    }

    private static string Fmt(JsonNode? v) => v is null ? "-" : v.GetValue<double>().ToString("F1", CultureInfo.InvariantCulture);

    private static string Pct(JsonNode? v) => v is null ? "-" : (100 * v.GetValue<double>()).ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + "%";
}
