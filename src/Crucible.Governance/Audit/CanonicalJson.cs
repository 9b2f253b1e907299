using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;

namespace Crucible.Governance.Audit;

/// <summary>
/// RFC 8785 (JSON Canonicalization Scheme) serialisation: object members sorted by their UTF-16 code units, no
/// whitespace, strings escaped as ECMAScript's <c>JSON.stringify</c> does, and numbers written as ECMAScript's
/// <c>Number.prototype.toString</c> writes the IEEE double they parse to, except integers beyond ±2^53, written exactly
/// (<see cref="MaxExactInteger"/>). The same value always gives the same bytes,
/// whatever the culture of the machine (LOG-7).
/// </summary>
public static class CanonicalJson
{
    /// <summary>
    /// The largest integer magnitude a double keeps exactly (2^53). Integers beyond it (up to 2^64 − 1 in magnitude, the
    /// range of <see cref="ulong"/> seeds) are written with all their digits instead of as RFC 8785's double would round
    /// them; larger ones are refused.
    /// </summary>
    public const double MaxExactInteger = 9007199254740992.0;

    /// <summary>
    /// Parsing that refuses a duplicate member name (a <c>JsonException</c>): a <c>JsonObject</c> holding one throws
    /// <see cref="ArgumentException"/> only when first read, so the governance readers of manifests and entries refuse it at
    /// parse, where it is named as bad JSON.
    /// </summary>
    internal static readonly JsonDocumentOptions NoDuplicateMembers = new() { AllowDuplicateProperties = false };

    // the integer magnitudes: beyond 2^53 written with all digits, up to ulong.MaxValue
    private static readonly BigInteger MaxExactDouble = new(MaxExactInteger);
    private static readonly BigInteger MaxExactInteger64 = new(ulong.MaxValue);

    /// <summary>The canonical UTF-8 bytes of <paramref name="node"/> (<c>null</c> is the JSON literal <c>null</c>).</summary>
    /// <exception cref="InvalidInputException">A number is not finite or is an integer beyond the 64-bit range, or a string is not valid UTF-16.</exception>
    public static byte[] Serialize(JsonNode? node)
    {
        try
        {
            RefuseLoneSurrogates(node);
        }
        catch (InvalidOperationException)
        {
            // a value parsed from an escaped lone surrogate ("\ud800") cannot be read as a string
            throw LoneSurrogate();
        }

        string text;
        try
        {
            text = node is null ? "null" : node.ToJsonString();
        }
        catch (ArgumentException)
        {
            // what the writer throws for a value JSON cannot hold: a double or float NaN or infinity
            throw new InvalidInputException("JSON-E", "a number is not finite (NaN or infinity): JSON has no such number");
        }

        return Canonicalize(text);
    }

    // ToJsonString writes a lone surrogate as U+FFFD, so that "x\ud800" would silently get the bytes of "x\ufffd": refused first
    private static void RefuseLoneSurrogates(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    RequireValidUtf16(name);
                    RefuseLoneSurrogates(value);
                }

                break;
            case JsonArray a:
                foreach (var item in a) RefuseLoneSurrogates(item);
                break;
            case JsonValue v when v.TryGetValue<string>(out var text):
                RequireValidUtf16(text);
                break;
        }

        static void RequireValidUtf16(string s)
        {
            for (var i = 0; i < s.Length; i++)
            {
                if (!char.IsSurrogate(s[i])) continue;
                if (!char.IsHighSurrogate(s[i]) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) throw LoneSurrogate();
                i++;
            }
        }
    }

    private static InvalidInputException LoneSurrogate() => new("JSON-E", "string holds a lone surrogate (not valid Unicode)");

    /// <summary>The canonical UTF-8 bytes of the JSON document <paramref name="json"/>.</summary>
    /// <exception cref="InvalidInputException">The text is not JSON, has duplicate member names, or a number that cannot be kept exactly.</exception>
    public static byte[] Canonicalize(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("JSON-E", $"not valid JSON: {e.Message}");
        }

        using (doc)
        {
            var sb = new StringBuilder();
            try
            {
                Write(doc.RootElement, sb);
            }
            catch (InvalidOperationException)
            {
                // what JsonElement's GetString and Name throw for an escaped lone surrogate ("\ud800"): not valid UTF-16
                throw new InvalidInputException("JSON-E", "string holds a lone surrogate (not valid Unicode)");
            }

            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(sb.ToString());
        }
    }

    private static void Write(JsonElement e, StringBuilder sb)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var p in e.EnumerateObject()) members.Add((p.Name, p.Value));
                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                for (var i = 1; i < members.Count; i++)
                {
                    if (string.Equals(members[i - 1].Name, members[i].Name, StringComparison.Ordinal))
                        throw new InvalidInputException("JSON-E", $"duplicate member name '{members[i].Name}'");
                }

                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteString(members[i].Name, sb);
                    sb.Append(':');
                    Write(members[i].Value, sb);
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in e.EnumerateArray())
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(item, sb);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(e.GetString()!, sb);
                break;
            case JsonValueKind.Number:
                var raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0)
                {
                    // an integer token: compared exactly (2^53 + 1 parses to the double 2^53), and beyond ±2^53 written with
                    // all its digits rather than rounded through a double, so that 64-bit seeds and counts survive
                    var integer = BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    var magnitude = BigInteger.Abs(integer);
                    if (magnitude > MaxExactInteger64)
                        throw new InvalidInputException("JSON-E", $"integer {raw} is beyond the 64-bit range; write it as a string");
                    if (magnitude > MaxExactDouble)
                    {
                        sb.Append(integer.ToString(CultureInfo.InvariantCulture));
                        break;
                    }
                }

                if (!e.TryGetDouble(out var d) || !double.IsFinite(d))
                    throw new InvalidInputException("JSON-E", $"number {raw} is not a finite double");
                sb.Append(FormatNumber(d));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new InvalidInputException("JSON-E", $"unexpected JSON value kind {e.ValueKind}");
        }
    }

    /// <summary>A string as ECMAScript's <c>JSON.stringify</c> writes it (RFC 8785 §3.2.2.2).</summary>
    internal static void WriteString(string s, StringBuilder sb)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsSurrogate(c))
                    {
                        if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                            throw new InvalidInputException("JSON-E", "string holds a lone surrogate (not valid Unicode)");
                        sb.Append(c).Append(s[++i]);
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>
    /// ECMAScript's <c>Number.prototype.toString</c> (ECMA-262 §7.1.12.1, as RFC 8785 §3.2.2.3 requires): the shortest
    /// digits that round-trip, plain notation for decimal exponents in [−6, 21), exponent notation otherwise; −0 is "0".
    /// </summary>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN or infinity");
        if (value == 0) return "0";
        // .NET Core 3.0+ "R" gives the shortest round-trip digits; re-lay them out ECMAScript's way.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = DigitsAndExponent(shortest);
        var k = digits.Length;
        var n = exponent; // value = 0.d1d2…dk × 10^n
        var sb = new StringBuilder();
        if (value < 0) sb.Append('-');
        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            sb.Append(digits[0]);
            if (k > 1) sb.Append('.').Append(digits, 1, k - 1);
            sb.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Splits a positive invariant "R" string ("123.45", "1.5E-07", "1E+21") into significant digits and n.</summary>
    private static (string Digits, int Exponent) DigitsAndExponent(string s)
    {
        var exp = 0;
        var ePos = s.IndexOfAny(['E', 'e']);
        var mantissa = s;
        if (ePos >= 0)
        {
            exp = int.Parse(s.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = s[..ePos];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        var all = intPart + fracPart;
        var pointPos = intPart.Length + exp; // value = 0.all × 10^pointPos
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        all = all[lead..];
        pointPos -= lead;
        all = all.TrimEnd('0');
        if (all.Length == 0) all = "0";
        return (all, pointPos);
    }
}
