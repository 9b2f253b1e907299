using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;

namespace Crucible.Diffusion.Privacy;

/// <summary>One run of identical DP-SGD steps: noise multiplier σ, sampling rate q, number of steps.</summary>
public readonly record struct MechanismSegment(double NoiseMultiplier, double SampleRate, long Steps);

/// <summary>
/// The RDP accountant of DP-SGD with Poisson sampling (Opacus's <c>RDPAccountant</c>): records each step's (σ, q), sums
/// the per-order RDP of every segment (composition), and converts to (ε, δ). Its state is a short JSON document that
/// travels with each checkpoint, so a resumed run reproduces ε exactly.
/// </summary>
public sealed class RdpAccountant
{
    private readonly List<MechanismSegment> _history = [];

    /// <summary>
    /// An accountant over <paramref name="orders"/> (default: <see cref="Rdp.OpacusOrders"/>) using <paramref name="formula"/>
    /// for fractional orders.
    /// </summary>
    public RdpAccountant(IReadOnlyList<double>? orders = null, RdpFormula formula = RdpFormula.Opacus)
    {
        Formula = formula;
        Orders = (orders ?? Rdp.OpacusOrders).ToArray();
        if (Orders.Count == 0 || Orders.Any(a => !(a > 1))) throw new ArgumentException("orders must be > 1", nameof(orders));
    }

    /// <summary>Which reference's formula fractional orders follow.</summary>
    public RdpFormula Formula { get; }

    /// <summary>The Rényi orders the accountant evaluates.</summary>
    public IReadOnlyList<double> Orders { get; }

    /// <summary>The recorded segments; consecutive steps with the same (σ, q) are merged, as Opacus does.</summary>
    public IReadOnlyList<MechanismSegment> History => _history;

    /// <summary>The total number of steps recorded.</summary>
    public long Steps => _history.Sum(s => s.Steps);

    /// <summary>Records <paramref name="steps"/> steps with noise multiplier σ and sampling rate q.</summary>
    public void Step(double noiseMultiplier, double sampleRate, long steps = 1)
    {
        CheckSegment(noiseMultiplier, sampleRate, steps);
        if (steps == 0) return;
        if (steps > long.MaxValue - Steps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, string.Create(CultureInfo.InvariantCulture, $"{Steps} steps are recorded: the total would pass {long.MaxValue}"));
        if (_history.Count > 0 && _history[^1].NoiseMultiplier == noiseMultiplier && _history[^1].SampleRate == sampleRate)
            _history[^1] = _history[^1] with { Steps = _history[^1].Steps + steps };
        else
            _history.Add(new MechanismSegment(noiseMultiplier, sampleRate, steps));
    }

    private static void CheckSegment(double noiseMultiplier, double sampleRate, long steps)
    {
        if (!(noiseMultiplier >= 0)) throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "σ must be ≥ 0");
        if (!(sampleRate >= 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "q must be in [0, 1]");
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
    }

    /// <summary>The composed RDP at each order: the sum over segments of steps × per-step RDP.</summary>
    public double[] TotalRdp()
    {
        var total = new double[Orders.Count];
        foreach (var s in _history)
        {
            var rdp = Rdp.Compute(s.SampleRate, s.NoiseMultiplier, s.Steps, Orders, Formula);
            for (var i = 0; i < total.Length; i++) total[i] += rdp[i];
        }

        return total;
    }

    /// <summary>ε at <paramref name="delta"/> for everything recorded so far (0 before the first step).</summary>
    public PrivacySpent GetEpsilon(double delta, RdpConversion conversion = RdpConversion.Balle2020) =>
        Rdp.Epsilon(Orders, TotalRdp(), delta, conversion);

    /// <summary>δ at <paramref name="epsilon"/> for everything recorded so far.</summary>
    public double GetDelta(double epsilon, RdpConversion conversion = RdpConversion.Balle2020) =>
        Rdp.Delta(Orders, TotalRdp(), epsilon, conversion).Delta;

    /// <summary>The accountant's state: its orders and history, with doubles written so they read back bit for bit.</summary>
    public string ToJson()
    {
        var orders = new JsonArray();
        foreach (var a in Orders) orders.Add(a);
        var history = new JsonArray();
        foreach (var s in _history)
        {
            history.Add(new JsonObject
            {
                ["noise_multiplier"] = s.NoiseMultiplier,
                ["sample_rate"] = s.SampleRate,
                ["steps"] = s.Steps,
            });
        }

        return new JsonObject
        {
            ["accountant"] = DpAccountantKind.Rdp.WireName(),
            ["formula"] = Formula == RdpFormula.Opacus ? "opacus" : "dp_accounting",
            ["orders"] = orders,
            ["history"] = history,
        }.ToJsonString();
    }

    /// <summary>Restores an accountant saved by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidInputException">The text is not an RDP accountant state.</exception>
    public static RdpAccountant FromJson(string json)
    {
        try
        {
            var root = JsonNode.Parse(json)!.AsObject();
            if (!string.Equals((string?)root["accountant"], DpAccountantKind.Rdp.WireName(), StringComparison.Ordinal))
                throw new InvalidInputException("DP-E-STATE", "not an RDP accountant state");
            var orders = root["orders"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            var formula = (string?)root["formula"] switch
            {
                "opacus" => RdpFormula.Opacus,
                "dp_accounting" => RdpFormula.DpAccounting,
                var other => throw new InvalidInputException("DP-E-STATE", $"unknown RDP formula '{other}'"),
            };
            var accountant = new RdpAccountant(orders, formula);
            foreach (var item in root["history"]!.AsArray())
            {
                var segment = new MechanismSegment(
                    item!["noise_multiplier"]!.GetValue<double>(), item["sample_rate"]!.GetValue<double>(), item["steps"]!.GetValue<long>());
                CheckSegment(segment.NoiseMultiplier, segment.SampleRate, segment.Steps);
                accountant._history.Add(segment);
            }

            _ = accountant.Steps; // a total past long.MaxValue throws here, not in every later use
            return accountant;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException
            or OverflowException)
        {
            throw new InvalidInputException("DP-E-STATE", $"cannot read the accountant state: {e.Message}");
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"RDP accountant: {_history.Count} segments, {Steps} steps");
}
