namespace Crucible.Data.Csv;

/// <summary>Small helpers over ASCII bytes.</summary>
internal static class AsciiBytes
{
    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s)
    {
        var a = 0;
        var b = s.Length;
        while (a < b && s[a] is (byte)' ' or (byte)'\t') a++;
        while (b > a && s[b - 1] is (byte)' ' or (byte)'\t') b--;
        return s[a..b];
    }

    public static bool TryParseIsoDate(ReadOnlySpan<byte> s, out DateOnly date)
    {
        date = default;
        if (s.Length != 10 || s[4] != (byte)'-' || s[7] != (byte)'-') return false;
        var y = 0;
        for (var i = 0; i < 4; i++)
        {
            var d = (uint)(s[i] - '0');
            if (d > 9) return false;
            y = y * 10 + (int)d;
        }

        var m1 = (uint)(s[5] - '0');
        var m2 = (uint)(s[6] - '0');
        var d1 = (uint)(s[8] - '0');
        var d2 = (uint)(s[9] - '0');
        if (m1 > 9 || m2 > 9 || d1 > 9 || d2 > 9) return false;
        var month = (int)(m1 * 10 + m2);
        var day = (int)(d1 * 10 + d2);
        if (y < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(y, month)) return false;
        date = new DateOnly(y, month, day);
        return true;
    }
}
