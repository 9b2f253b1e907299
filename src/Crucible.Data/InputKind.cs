namespace Crucible.Data;

/// <summary>What the numbers in an input file are.</summary>
public enum InputKind
{
    /// <summary>Price levels (must be strictly positive unless a column declares otherwise).</summary>
    Prices,

    /// <summary>Log returns, <c>ln(p_t / p_{t-1})</c>.</summary>
    LogReturns,

    /// <summary>Simple returns as fractions, <c>p_t / p_{t-1} - 1</c> (must be greater than −1).</summary>
    SimpleReturns,

    /// <summary>Simple returns in percent, as in Kenneth French's files (must be greater than −100).</summary>
    PercentReturns,
}
