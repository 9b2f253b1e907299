using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Data;

namespace Crucible.Service.Security;

/// <summary>The scopes an API key can hold. <c>admin</c> holds every other scope too.</summary>
public static class Scopes
{
    /// <summary>List and inspect models, read and verify the audit log.</summary>
    public const string Read = "read";

    /// <summary>Request scenarios.</summary>
    public const string Generate = "generate";

    /// <summary>Start training jobs.</summary>
    public const string Train = "train";

    /// <summary>Everything.</summary>
    public const string Admin = "admin";

    /// <summary>Every scope, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Read, Generate, Train, Admin];
}

/// <summary>One line of the API keys file: an id, its scopes and the SHA-256 of the full key (never the key itself).</summary>
/// <param name="Id">The key id (letters, digits, <c>-</c>, <c>_</c>; at most 64), recorded as the audit actor.</param>
/// <param name="Scopes">The scopes granted.</param>
/// <param name="Sha256">SHA-256 of the UTF-8 bytes of the full key <c>ID.SECRET</c>.</param>
public sealed record ApiKeyEntry(string Id, IReadOnlySet<string> Scopes, byte[] Sha256)
{
    /// <summary>Whether the key may use <paramref name="scope"/> (<c>admin</c> may use any).</summary>
    public bool Allows(string scope) => Scopes.Contains(scope) || Scopes.Contains(Security.Scopes.Admin);
}

/// <summary>
/// The API keys of a service, read from a file with one <c>KEY_ID SCOPES sha256:HEX</c> line per key (blank lines and
/// lines starting with <c>#</c> are ignored). A client sends the full key <c>KEY_ID.SECRET</c> in <c>X-Api-Key</c>;
/// the service hashes it and compares the hash with the stored one in constant time. Secrets are 256-bit random values,
/// so one SHA-256 is enough (no password stretching is needed against guessing), and the file holds nothing that
/// lets anyone call the service.
/// </summary>
public sealed class ApiKeyStore
{
    /// <summary>The prefix of the hash field.</summary>
    public const string HashPrefix = "sha256:";

    private static readonly byte[] DummyHash = SHA256.HashData("crucible-no-such-key"u8);
    private readonly Dictionary<string, ApiKeyEntry> _keys;

    /// <summary>A store of <paramref name="keys"/> (ids must be distinct).</summary>
    public ApiKeyStore(IEnumerable<ApiKeyEntry> keys)
    {
        _keys = new Dictionary<string, ApiKeyEntry>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            if (!_keys.TryAdd(k.Id, k)) throw new ArgumentException($"duplicate key id '{k.Id}'", nameof(keys));
        }
    }

    /// <summary>The number of keys.</summary>
    public int Count => _keys.Count;

    /// <summary>An empty store: every request is unauthenticated.</summary>
    public static ApiKeyStore Empty { get; } = new([]);

    /// <summary>Reads the keys file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidInputException">A malformed line (named by line and column) or a duplicate id.</exception>
    public static ApiKeyStore Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException("KEYS-E-FILE", "no API keys file here", new InputLocation(path, 0, 0));
        return Parse(Crucible.Data.IO.InputFile.ReadAllLines(path), path);
    }

    /// <summary>Parses the lines of a keys file; <paramref name="source"/> names it in errors.</summary>
    public static ApiKeyStore Parse(IReadOnlyList<string> lines, string source)
    {
        var keys = new List<ApiKeyEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var at = new InputLocation(source, i + 1, 1);
            if (fields.Length != 3)
                throw new InvalidInputException("KEYS-E-LINE", $"expected 'KEY_ID SCOPES {HashPrefix}HEX', got {fields.Length} fields", at);
            if (!IsValidId(fields[0]))
                throw new InvalidInputException("KEYS-E-ID", "a key id is 1 to 64 letters, digits, '-' or '_'", at);
            var scopes = ParseScopes(fields[1], new InputLocation(source, i + 1, 2));
            if (!fields[2].StartsWith(HashPrefix, StringComparison.Ordinal) || !Crucible.Governance.FileHash.IsSha256Hex(fields[2][HashPrefix.Length..]))
                throw new InvalidInputException("KEYS-E-HASH",
                    $"the third field is '{HashPrefix}' and 64 lower-case hex digits (the file never holds a key itself; use crucible keys new)",
                    new InputLocation(source, i + 1, 3));
            if (!seen.Add(fields[0])) throw new InvalidInputException("KEYS-E-DUPLICATE", $"key id '{fields[0]}' appears twice", at);
            keys.Add(new ApiKeyEntry(fields[0], scopes, Convert.FromHexString(fields[2].AsSpan(HashPrefix.Length))));
        }

        return new ApiKeyStore(keys);
    }

    /// <summary>Parses a comma-separated scope list; unknown or empty scopes are errors.</summary>
    public static IReadOnlySet<string> ParseScopes(string text, InputLocation? at = null)
    {
        var scopes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var s in text.Split(','))
        {
            if (!Scopes.All.Contains(s, StringComparer.Ordinal))
                throw new InvalidInputException("KEYS-E-SCOPE", $"unknown scope '{s}' (known: {string.Join(", ", Scopes.All)})", at);
            scopes.Add(s);
        }

        return scopes;
    }

    /// <summary>
    /// The key that <paramref name="presented"/> (<c>ID.SECRET</c>) is, or null. The hash comparison is constant-time,
    /// and an unknown id costs the same hash and comparison as a known one.
    /// </summary>
    public ApiKeyEntry? Authenticate(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 256) return null;
        int dot = presented.IndexOf('.', StringComparison.Ordinal);
        var id = dot > 0 ? presented[..dot] : "";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var found = _keys.GetValueOrDefault(id);
        bool same = CryptographicOperations.FixedTimeEquals(hash, found?.Sha256 ?? DummyHash);
        return same && found is not null ? found : null;
    }

    /// <summary>A new key for <paramref name="id"/>: the full key to give the client, and the line for the keys file.</summary>
    public static (string Key, string FileLine) NewKey(string id, IReadOnlySet<string> scopes)
    {
        if (!IsValidId(id)) throw new InvalidInputException("KEYS-E-ID", $"a key id is 1 to 64 letters, digits, '-' or '_', got '{id}'");
        if (scopes.Count == 0) throw new InvalidInputException("KEYS-E-SCOPE", "a key needs at least one scope");
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var key = $"{id}.{secret}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        var line = string.Create(CultureInfo.InvariantCulture, $"{id} {string.Join(',', scopes.Order(StringComparer.Ordinal))} {HashPrefix}{hash}");
        return (key, line);
    }

    private static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
