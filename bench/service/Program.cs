// The scenario service's load benchmark (issue #10, RELIABILITY.md SVC-11); bench/service/run.sh drives it.
//   library  --model-dir DIR [--workers W] [--engine-threads P] [--seconds S] [request options] --out F.json
//            offline sampling capacity: W closed-loop workers call the library's Generate with the service's request
//   closed   --url U --key K --model ID [--workers W] [--seconds S] [request options] --out F.json
//            the service at saturation: W closed-loop HTTP clients
//   open     --url U --key K --model ID --rate R [--seconds 60] [--pid PID] [--idempotency-key IK] [request options] --out F.json
//            open loop at a constant rate (wrk2-style: latency from each request's intended send time), RSS of PID each second;
//            with --idempotency-key every request is the same (one seed, that key): the first generates, the others are
//            answered from the service's idempotency store (SVC-11's "cached" requests)
//   summary  --dir D --out result.json   reads D/*.json, judges the targets, prints the table
// request options: --count 100 --sampler dpm2m --steps 50 --format csv|json
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Diffusion;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.LoadBench;
using Crucible.Tensors;

var a = Args.Parse(args);
try
{
    return a.Mode switch
    {
        "library" => Library(a),
        "closed" => await Closed(a),
        "open" => await Open(a),
        "summary" => Summary.Run(a.Get("dir"), a.Get("out")),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: crucible-loadbench library|closed|open|summary [options] (see bench/service/README.md)");
    return 2;
}

static int Library(Args a)
{
    var folder = a.Get("model-dir");
    int workers = a.Int("workers", 2), seconds = a.Int("seconds", 20), warmup = a.Int("warmup", 3);
    int engine = a.Int("engine-threads", EngineThreads.MaxDegreeOfParallelism);
    EngineThreads.MaxDegreeOfParallelism = engine;
    var req = RequestSpec.From(a);
    var sampler = req.Options();
    Func<ulong, int> generate;
    if (SequenceGenerator.ReadKind(folder) == ModelKind.Sequence)
    {
        var g = SequenceGenerator.Load(folder);
        // the service's request: no condition and no guidance (guidance without a condition is GUIDANCE-E-UNCONDITIONAL)
        generate = seed => g.Generate(req.Count, seed, new SequenceSampleRequest(null, null, sampler)).Values.RowCount;
    }
    else
    {
        var g = DiffusionGenerator.Load(folder);
        generate = seed => g.Generate(req.Count, seed, sampler).Values.RowCount;
    }

    long next = 0, done = 0;
    var latencies = new Histogram();
    var stopAt = Stopwatch.GetTimestamp() + ((long)(warmup + seconds) * Stopwatch.Frequency);
    var measureFrom = Stopwatch.GetTimestamp() + ((long)warmup * Stopwatch.Frequency);
    var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
    {
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            if (start >= stopAt) return;
            _ = generate((ulong)Interlocked.Increment(ref next));
            long end = Stopwatch.GetTimestamp();
            // throughput: the completions inside the window (in steady state, rate × window, whatever was in flight at its edges)
            if (end > measureFrom && end <= stopAt)
            {
                Interlocked.Increment(ref done);
                latencies.Record(Stopwatch.GetElapsedTime(start, end).TotalMicroseconds);
            }
        }
    })).ToList();
    threads.ForEach(t => t.Start());
    threads.ForEach(t => t.Join());
    double rps = done / (double)seconds;
    var result = new JsonObject
    {
        ["phase"] = a.Get("phase", "library"),
        ["mode"] = "library",
        ["workers"] = workers,
        ["engine_threads"] = engine,
        ["seconds"] = seconds,
        ["request"] = req.ToJson(),
        ["completed"] = done,
        ["requests_per_second"] = rps,
        ["latency_ms"] = Percentiles(latencies),
        ["machine"] = Machine(),
    };
    Write(a.Get("out"), result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"library: {workers} workers × {engine} engine threads: {rps:F2} requests/s, p50 {latencies.PercentileMillis(50):F1} ms"));
    return 0;
}

static async Task<int> Closed(Args a)
{
    var req = RequestSpec.From(a);
    int workers = a.Int("workers", 2), seconds = a.Int("seconds", 20), warmup = a.Int("warmup", 3);
    using var client = Client(a);
    var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
    var latencies = new Histogram();
    long seed = 1_000_000;
    var stopAt = Stopwatch.GetTimestamp() + ((long)(warmup + seconds) * Stopwatch.Frequency);
    var measureFrom = Stopwatch.GetTimestamp() + ((long)warmup * Stopwatch.Frequency);
    long ok = 0;
    var tasks = Enumerable.Range(0, workers).Select(async _ =>
    {
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            if (start >= stopAt) return;
            var (status, _) = await Send(client, req, (ulong)Interlocked.Increment(ref seed)).ConfigureAwait(false);
            long end = Stopwatch.GetTimestamp();
            if (end <= measureFrom || end > stopAt) continue; // completions inside the window, as for the library
            lock (statuses) statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status == "200")
            {
                Interlocked.Increment(ref ok);
                latencies.Record(Stopwatch.GetElapsedTime(start, end).TotalMicroseconds);
            }
        }
    }).ToList();
    await Task.WhenAll(tasks).ConfigureAwait(false);
    double rps = ok / (double)seconds;
    var result = new JsonObject
    {
        ["phase"] = a.Get("phase", "closed"),
        ["mode"] = "closed",
        ["workers"] = workers,
        ["seconds"] = seconds,
        ["request"] = req.ToJson(),
        ["statuses"] = StatusJson(statuses),
        ["requests_per_second"] = rps,
        ["latency_ms"] = Percentiles(latencies),
        ["machine"] = Machine(),
    };
    Write(a.Get("out"), result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"service (closed loop, {workers} clients): {rps:F2} requests/s, p50 {latencies.PercentileMillis(50):F1} ms, statuses {string.Join(' ', statuses.Select(s => $"{s.Key}:{s.Value}"))}"));
    return 0;
}

static async Task<int> Open(Args a)
{
    var req = RequestSpec.From(a);
    double rate = a.Double("rate");
    int seconds = a.Int("seconds", 60);
    int? pid = a.Has("pid") ? a.Int("pid", 0) : null;
    string? idempotencyKey = a.Has("idempotency-key") ? a.Get("idempotency-key") : null;
    using var client = Client(a);
    var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
    var ok = new Histogram();
    var all = new Histogram();
    var rejected = new Histogram();
    long n = (long)Math.Round(rate * seconds);
    var rss = new List<JsonNode?>();
    using var stopRss = new CancellationTokenSource();
    var rssTask = pid is { } p ? SampleRss(p, rss, stopRss.Token) : Task.CompletedTask;

    // wrk2's correction of coordinated omission: request i is due at t0 + i/R whatever happened to earlier ones, and its
    // latency is measured from that intended time, so a stall of the server (or of this client) counts for every
    // request that should have been sent during it
    // the cached phase's one generation, before the clock starts: while it runs, a request with the same key is a 409
    // (in flight), and afterwards every request is answered from the idempotency store
    string? primed = idempotencyKey is null ? null : (await Send(client, req, 0, idempotencyKey).ConfigureAwait(false)).Status;
    if (primed is not null and not "200") throw new ArgumentException($"the priming request with --idempotency-key was answered {primed}");
    var period = Stopwatch.Frequency / rate;
    long t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
    var inFlight = new List<Task>((int)Math.Min(n, 1_000_000));
    long lateSends = 0, replays = 0;
    for (long i = 0; i < n; i++)
    {
        long due = t0 + (long)(i * period);
        long now = Stopwatch.GetTimestamp();
        if (due - now > Stopwatch.Frequency / 500) await Task.Delay(TimeSpan.FromSeconds((due - now) / (double)Stopwatch.Frequency) - TimeSpan.FromMilliseconds(1)).ConfigureAwait(false);
        while (Stopwatch.GetTimestamp() < due) Thread.Yield();
        if (Stopwatch.GetTimestamp() - due > Stopwatch.Frequency / 100) lateSends++;
        ulong seed = idempotencyKey is null ? (ulong)i : 0;
        inFlight.Add(Task.Run(async () =>
        {
            var (status, replayed) = await Send(client, req, seed, idempotencyKey).ConfigureAwait(false);
            if (replayed) Interlocked.Increment(ref replays);
            double micros = Stopwatch.GetElapsedTime(due).TotalMicroseconds;
            lock (statuses) statuses[status] = statuses.GetValueOrDefault(status) + 1;
            all.Record(micros);
            if (status == "200") ok.Record(micros);
            else if (status == "429") rejected.Record(micros);
        }));
    }

    double sendSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    await Task.WhenAll(inFlight).ConfigureAwait(false);
    double drainSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds - sendSeconds;
    await stopRss.CancelAsync().ConfigureAwait(false);
    await rssTask.ConfigureAwait(false);
    long okCount = statuses.GetValueOrDefault("200");
    var result = new JsonObject
    {
        ["phase"] = a.Get("phase", "open"),
        ["mode"] = "open",
        ["rate"] = rate,
        ["seconds"] = seconds,
        ["request"] = req.ToJson(),
        ["idempotency_key"] = idempotencyKey,
        ["sent"] = n,
        ["replayed"] = replays,
        ["send_seconds"] = sendSeconds,
        ["late_sends_over_10ms"] = lateSends,
        ["drain_seconds"] = drainSeconds,
        ["statuses"] = StatusJson(statuses),
        ["ok_per_second"] = okCount / (double)seconds,
        ["latency_ms_ok"] = Percentiles(ok),
        ["latency_ms_429"] = Percentiles(rejected),
        ["latency_ms_all"] = Percentiles(all),
        ["rss_mib"] = new JsonArray([.. rss]),
        ["machine"] = Machine(),
    };
    Write(a.Get("out"), result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"open loop {rate:F2}/s for {seconds} s: {okCount} ok, statuses {string.Join(' ', statuses.Select(s => $"{s.Key}:{s.Value}"))}, p50 {ok.PercentileMillis(50):F1} ms, p99 {ok.PercentileMillis(99):F1} ms"));
    return 0;
}

static async Task SampleRss(int pid, List<JsonNode?> into, CancellationToken stop)
{
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
    try
    {
        do
        {
            var line = (await File.ReadAllLinesAsync($"/proc/{pid}/status", stop).ConfigureAwait(false)).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (line is not null) into.Add(JsonValue.Create(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0));
        }
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
    }
    catch (OperationCanceledException)
    {
    }
}

static HttpClient Client(Args a)
{
    var handler = new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue, // open loop: a request never waits for a connection on this side
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
    };
    var client = new HttpClient(handler) { BaseAddress = new Uri(a.Get("url")), Timeout = TimeSpan.FromSeconds(a.Int("timeout", 30)) };
    client.DefaultRequestHeaders.Add("X-Api-Key", a.Get("key"));
    client.DefaultRequestHeaders.Add("X-Model", a.Get("model"));
    return client;
}

// the answer's status, and whether it came from the idempotency store (the Idempotent-Replayed header)
static async Task<(string Status, bool Replayed)> Send(HttpClient client, RequestSpec req, ulong seed, string? idempotencyKey = null)
{
    var model = client.DefaultRequestHeaders.GetValues("X-Model").Single();
    using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = new StringContent(req.Body(model, seed), Encoding.UTF8, "application/json") };
    message.Headers.Accept.ParseAdd(req.Format == "csv" ? "text/csv" : "application/json");
    if (idempotencyKey is not null) message.Headers.Add("Idempotency-Key", idempotencyKey);
    try
    {
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        return (((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), response.Headers.Contains("Idempotent-Replayed"));
    }
    catch (TaskCanceledException)
    {
        return ("timeout", false);
    }
    catch (HttpRequestException)
    {
        return ("connection-error", false);
    }
}

static JsonObject Percentiles(Histogram h) => new()
{
    ["count"] = h.Count,
    ["p50"] = Num(h.PercentileMillis(50)),
    ["p90"] = Num(h.PercentileMillis(90)),
    ["p99"] = Num(h.PercentileMillis(99)),
    ["p99_9"] = Num(h.PercentileMillis(99.9)),
    ["max"] = Num(h.Count == 0 ? double.NaN : h.MaxMicros / 1000.0),
};

static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 3)) : null;

static JsonObject StatusJson(Dictionary<string, long> statuses)
{
    var o = new JsonObject();
    foreach (var (k, v) in statuses.OrderBy(s => s.Key, StringComparer.Ordinal)) o[k] = v;
    return o;
}

static JsonObject Machine()
{
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";
    return new JsonObject
    {
        ["cores"] = Environment.ProcessorCount,
        ["loadavg"] = load,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    };
}

static void Write(string path, JsonObject result) =>
    File.WriteAllText(path, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

namespace Crucible.LoadBench
{
    /// <summary>The scenario request every phase sends or samples.</summary>
    internal sealed record RequestSpec(int Count, string Sampler, int Steps, string Format)
    {
        public static RequestSpec From(Args a) => new(a.Int("count", 100), a.Get("sampler", "dpm2m"), a.Int("steps", 50), a.Get("format", "csv"));

        public SamplerOptions Options() => Sampler switch
        {
            "ddpm" => new SamplerOptions(SamplerKind.Ddpm),
            "ddim" => new SamplerOptions(SamplerKind.Ddim, Steps),
            _ => new SamplerOptions(SamplerKind.DpmSolver2M, Steps),
        };

        public string Body(string model, ulong seed) => string.Create(CultureInfo.InvariantCulture,
            $$"""{"model":"{{model}}","count":{{Count}},"seed":{{seed}},"sampler":"{{Sampler}}","sampling_steps":{{Steps}}}""");

        public JsonObject ToJson() => new() { ["count"] = Count, ["sampler"] = Sampler, ["sampling_steps"] = Steps, ["format"] = Format };
    }

    /// <summary><c>MODE --name value …</c>.</summary>
    internal sealed class Args
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public string Mode { get; private init; } = "";

        public static Args Parse(string[] args)
        {
            var a = new Args { Mode = args.Length > 0 ? args[0] : "" };
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) throw new ArgumentException($"expected --name value at '{args[i]}'");
                a._values[args[i][2..]] = args[++i];
            }

            return a;
        }

        public bool Has(string name) => _values.ContainsKey(name);

        public string Get(string name, string? fallback = null) =>
            _values.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");

        public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        public double Double(string name) => double.Parse(Get(name), CultureInfo.InvariantCulture);
    }
}
