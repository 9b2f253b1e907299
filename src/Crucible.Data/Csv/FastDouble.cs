using System.Globalization;
using System.Runtime.CompilerServices;

namespace Crucible.Data.Csv;

/// <summary>
/// Culture-invariant parsing of decimal numbers from UTF-8 bytes. Plain decimals (<c>-123.4567</c>) whose digits form
/// a mantissa of at most 2^53 with at most 22 fractional digits take Clinger's exact fast path (<c>mantissa / 10^k</c> with both operands exact, so one correctly rounded division gives the same
/// double as <see cref="double.Parse(string, IFormatProvider)"/>); everything else falls back to
/// <see cref="double.TryParse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider, out double)"/> with <see cref="Style"/> and the invariant culture.
/// </summary>
public static class FastDouble
{
    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    private const ulong MaxExactMantissa = 1UL << 53;

    /// <summary>
    /// Parses <paramref name="utf8"/> as a number with <see cref="Style"/> (like <see cref="NumberStyles.Float"/> but without
    /// surrounding whitespace) and the invariant culture.
    /// The result may be NaN or infinite (for literals or overflow): callers must check <see cref="double.IsFinite"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(ReadOnlySpan<byte> utf8, out double value)
    {
        var i = 0;
        var negative = false;
        if (utf8.Length > 0 && (utf8[0] == (byte)'-' || utf8[0] == (byte)'+'))
        {
            negative = utf8[0] == (byte)'-';
            i = 1;
        }

        ulong mantissa = 0;
        var digits = 0;
        var fraction = 0;
        var dot = false;
        for (; i < utf8.Length; i++)
        {
            var d = (uint)(utf8[i] - (byte)'0');
            if (d <= 9)
            {
                if (mantissa >= 100_000_000_000_000_000UL) return Slow(utf8, out value); // 18+ digits: avoid overflow
                mantissa = mantissa * 10 + d;
                digits++;
                if (dot) fraction++;
            }
            else if (utf8[i] == (byte)'.' && !dot)
            {
                dot = true;
            }
            else
            {
                return Slow(utf8, out value);
            }
        }

        if (digits == 0 || mantissa > MaxExactMantissa || fraction > 22) return Slow(utf8, out value);
        var v = fraction == 0 ? mantissa : mantissa / PowersOfTen[fraction];
        value = negative ? -v : v;
        return true;
    }

    /// <summary>Sign, digits, decimal point and exponent; no whitespace (callers trim spaces and tabs themselves).</summary>
    public const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private static bool Slow(ReadOnlySpan<byte> utf8, out double value) =>
        double.TryParse(utf8, Style, CultureInfo.InvariantCulture, out value);
}
