using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion.Privacy;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible privacy epsilon --noise-multiplier S --sampling-rate Q --steps T --delta D [--json]</c>: the ε that DP-SGD
/// with Poisson sampling spends (RDP accountant); <c>crucible privacy noise --epsilon E --delta D --sampling-rate Q --steps T</c>:
/// the smallest noise multiplier found for that budget.
/// </summary>
internal static class PrivacyCommand
{
    /// <summary>The <c>privacy</c> command with <c>epsilon</c> and <c>noise</c>.</summary>
    public static Command Create() => new("privacy", "Differential-privacy accounting for DP-SGD") { CreateEpsilon(), CreateNoise() };

    private sealed class Common
    {
        public readonly Option<double> SamplingRate = new("--sampling-rate") { Description = "Poisson sampling rate q = expected batch / records", Required = true };
        public readonly Option<long> Steps = new("--steps") { Description = "Number of DP-SGD steps", Required = true };
        public readonly Option<double> Delta = new("--delta") { Description = "δ (use less than 1/records)", Required = true };
        public readonly Option<string> Orders = new("--orders")
        {
            Description = "Rényi orders and formula: opacus (default: Opacus's orders and series) or tf (TF Privacy's orders, dp_accounting's series)",
            DefaultValueFactory = _ => "opacus",
        };
        public readonly Option<string> Conversion = new("--conversion")
        {
            Description = "RDP to (ε, δ): balle (Balle et al. 2020, default, as Opacus) or classic (Mironov 2017)",
            DefaultValueFactory = _ => "balle",
        };
        public readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON" };

        public Common()
        {
            Orders.AcceptOnlyFromAmong("opacus", "tf");
            Conversion.AcceptOnlyFromAmong("balle", "classic");
        }

        public (IReadOnlyList<double> Orders, RdpFormula Formula) OrderSet(ParseResult p) =>
            p.GetValue(Orders) == "tf" ? (Rdp.TfPrivacyOrders, RdpFormula.DpAccounting) : (Rdp.OpacusOrders, RdpFormula.Opacus);

        public RdpConversion ConversionOf(ParseResult p) => p.GetValue(Conversion) == "classic" ? RdpConversion.Classic : RdpConversion.Balle2020;

        public void Validate(ParseResult p)
        {
            var q = p.GetValue(SamplingRate);
            if (!(q > 0 && q <= 1)) throw new InvalidInputException("OPT-E", $"--sampling-rate must be in (0, 1], got {q.ToString(CultureInfo.InvariantCulture)}");
            if (p.GetValue(Steps) < 1) throw new InvalidInputException("OPT-E", "--steps must be at least 1");
            var d = p.GetValue(Delta);
            if (!(d > 0 && d < 1)) throw new InvalidInputException("OPT-E", $"--delta must be in (0, 1), got {d.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static Command CreateEpsilon()
    {
        var c = new Common();
        var sigma = new Option<double>("--noise-multiplier")
        {
            Description = "σ > 0: noise std / clipping norm (σ = 0 adds no noise, so there is no privacy and no finite ε: refused with exit 2)",
            Required = true,
        };
        // rdp: the manifests' accountant (DpAccountantKind), by its wire name; prv and gdp are this command's alone
        string rdp = DpAccountantKind.Rdp.WireName();
        var accountantName = new Option<string>("--accountant")
        {
            Description = "rdp (default; an upper bound), prv (Gopi et al. 2021, the upper bound at eps_error 0.01; refuses a σ whose grid exceeds 2^21 points) or gdp (CLT approximation, not a bound)",
            DefaultValueFactory = _ => rdp,
        };
        accountantName.AcceptOnlyFromAmong(rdp, "prv", "gdp");
        var command = new Command("epsilon", "ε spent by DP-SGD with Poisson sampling")
        {
            sigma, c.SamplingRate, c.Steps, c.Delta, accountantName, c.Orders, c.Conversion, c.Json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            c.Validate(p);
            var s = p.GetValue(sigma);
            if (s == 0)
                throw new InvalidInputException("OPT-E", "--noise-multiplier 0 adds no noise: DP-SGD without noise gives no privacy at all (ε is infinite); give σ > 0");
            if (!(s > 0) || double.IsInfinity(s)) throw new InvalidInputException("OPT-E", "--noise-multiplier must be a finite number > 0");
            var name = p.GetValue(accountantName) ?? rdp;
            if (name != rdp)
            {
                if (p.GetValue(c.SamplingRate) >= 1)
                    throw new InvalidInputException("OPT-E", $"the {name} accountant needs --sampling-rate < 1");
                double eps;
                if (name == "prv")
                {
                    var prv = new PrvAccountant();
                    prv.Step(s, p.GetValue(c.SamplingRate), p.GetValue(c.Steps));
                    eps = prv.GetEpsilon(p.GetValue(c.Delta));
                }
                else
                {
                    eps = GdpAccountant.Epsilon(GdpAccountant.Mu(s, p.GetValue(c.SamplingRate), p.GetValue(c.Steps)), p.GetValue(c.Delta));
                }

                PrintOther(p, c, name, eps, s);
                return ExitCode.Success;
            }

            var (orders, formula) = c.OrderSet(p);
            var accountant = new RdpAccountant(orders, formula);
            accountant.Step(s, p.GetValue(c.SamplingRate), p.GetValue(c.Steps));
            var spent = accountant.GetEpsilon(p.GetValue(c.Delta), c.ConversionOf(p));
            Print(p, c, spent, s, formula);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command CreateNoise()
    {
        var c = new Common();
        var epsilon = new Option<double>("--epsilon") { Description = "Target ε", Required = true };
        var command = new Command("noise", "The noise multiplier for a target ε (Opacus's bisection; never overshoots)")
        {
            epsilon, c.SamplingRate, c.Steps, c.Delta, c.Orders, c.Conversion, c.Json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            c.Validate(p);
            var target = p.GetValue(epsilon);
            if (!(target > 0) || double.IsInfinity(target)) throw new InvalidInputException("OPT-E", "--epsilon must be a finite number > 0");
            var (orders, formula) = c.OrderSet(p);
            double sigma;
            try
            {
                // calibrated with the formula it is then accounted with (--orders tf: dp_accounting's series), so it never overshoots
                sigma = NoiseCalibration.NoiseMultiplier(target, p.GetValue(c.Delta), p.GetValue(c.SamplingRate), p.GetValue(c.Steps),
                    orders, c.ConversionOf(p), formula: formula);
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "targetEpsilon")
            {
                // the budget is the --epsilon flag the user typed: named as train names its --dp-* flags
                throw new InvalidInputException("DP-E-BUDGET", string.Create(CultureInfo.InvariantCulture,
                    $"the privacy budget ε = {target:R} is too low for q = {p.GetValue(c.SamplingRate):R}, {p.GetValue(c.Steps)} steps and δ = {p.GetValue(c.Delta):R}: no noise multiplier up to 1e6 reaches it"),
                    new InputLocation(epsilon.Name, 0, 0));
            }

            var accountant = new RdpAccountant(orders, formula);
            accountant.Step(sigma, p.GetValue(c.SamplingRate), p.GetValue(c.Steps));
            Print(p, c, accountant.GetEpsilon(p.GetValue(c.Delta), c.ConversionOf(p)), sigma, formula);
            return ExitCode.Success;
        }));
        return command;
    }

    // ε is ∞ for a σ too small for the accountant (GDP below about 0.0375), which JSON cannot hold as a number: "Infinity", as System.Text.Json's named floating-point literals
    private static JsonNode EpsilonJson(double epsilon) =>
        double.IsFinite(epsilon) ? JsonValue.Create(epsilon) : JsonValue.Create(epsilon.ToString(CultureInfo.InvariantCulture));

    private static void PrintOther(ParseResult p, Common c, string name, double epsilon, double sigma)
    {
        if (p.GetValue(c.Json))
        {
            Console.Out.WriteLine(new JsonObject
            {
                ["epsilon"] = EpsilonJson(epsilon),
                ["delta"] = p.GetValue(c.Delta),
                ["noise_multiplier"] = sigma,
                ["sampling_rate"] = p.GetValue(c.SamplingRate),
                ["steps"] = p.GetValue(c.Steps),
                ["accountant"] = name,
                ["sampling"] = DpSampling.Poisson.WireName(),
            }.ToJsonString());
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(inv, $"epsilon:          {epsilon:R}"));
        Console.Out.WriteLine(string.Create(inv, $"delta:            {p.GetValue(c.Delta):R}"));
        Console.Out.WriteLine(string.Create(inv, $"noise multiplier: {sigma:R}"));
        Console.Out.WriteLine(string.Create(inv, $"sampling rate:    {p.GetValue(c.SamplingRate):R} (Poisson), steps {p.GetValue(c.Steps)}"));
        Console.Out.WriteLine(name == "prv"
            ? "accountant:       PRV (Gopi et al. 2021), upper bound at eps_error 0.01, delta_error delta/1000"
            : "accountant:       GDP by the central limit theorem: an approximation, NOT a guarantee");
    }

    private static void Print(ParseResult p, Common c, PrivacySpent spent, double sigma, RdpFormula formula)
    {
        var conversion = c.ConversionOf(p) == RdpConversion.Classic ? "classic (Mironov 2017)" : "Balle et al. 2020";
        if (p.GetValue(c.Json))
        {
            Console.Out.WriteLine(new JsonObject
            {
                ["epsilon"] = EpsilonJson(spent.Epsilon),
                ["delta"] = spent.Delta,
                ["noise_multiplier"] = sigma,
                ["sampling_rate"] = p.GetValue(c.SamplingRate),
                ["steps"] = p.GetValue(c.Steps),
                ["accountant"] = DpAccountantKind.Rdp.WireName(),
                ["formula"] = formula == RdpFormula.Opacus ? "opacus" : "dp_accounting",
                ["conversion"] = c.ConversionOf(p) == RdpConversion.Classic ? "classic" : "balle2020",
                ["best_order"] = spent.BestOrder,
                ["order_on_boundary"] = spent.OrderOnBoundary,
                ["sampling"] = DpSampling.Poisson.WireName(),
            }.ToJsonString());
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(inv, $"epsilon:          {spent.Epsilon:R}"));
        Console.Out.WriteLine(string.Create(inv, $"delta:            {spent.Delta:R}"));
        Console.Out.WriteLine(string.Create(inv, $"noise multiplier: {sigma:R}"));
        Console.Out.WriteLine(string.Create(inv, $"sampling rate:    {p.GetValue(c.SamplingRate):R} (Poisson), steps {p.GetValue(c.Steps)}"));
        Console.Out.WriteLine(string.Create(inv, $"accountant:       RDP ({(formula == RdpFormula.Opacus ? "Opacus" : "dp_accounting")} formula), {conversion} conversion, best order {spent.BestOrder:R}"));
        if (spent.OrderOnBoundary)
            Console.Error.WriteLine("warning: the best order is at the edge of the orders tried; the true ε may be smaller (widen the orders)");
    }
}
