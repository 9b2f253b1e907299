namespace Crucible.Data;

/// <summary>Accurate elementary functions near zero (the runtime's <c>LogP1</c>/<c>ExpM1</c> compute <c>Log(1 + x)</c> naively).</summary>
public static class Numeric
{
    /// <summary><c>ln(1 + x)</c>, accurate for small |x| (Goldberg's trick). NaN for x &lt; −1, −∞ at −1.</summary>
    public static double Log1P(double x)
    {
        var u = 1.0 + x;
        if (u == 1.0) return x;
        if (double.IsInfinity(u) || u <= 0) return Math.Log(u);
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary><c>exp(x) − 1</c>, accurate for small |x| (Kahan's trick).</summary>
    public static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0) return x;
        var um1 = u - 1.0;
        if (um1 == -1.0 || double.IsInfinity(u)) return um1;
        return um1 * x / Math.Log(u);
    }
}
