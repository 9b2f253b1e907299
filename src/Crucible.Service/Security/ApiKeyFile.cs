using System.Security.Cryptography;
using Crucible.Data;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Security;

/// <summary>
/// The API keys of a running service: the keys file as last read, re-read when its bytes change (checked at most once
/// per <see cref="CheckInterval"/>, on the next request), so that a key added, rotated or revoked in the file applies
/// without a restart, within about a second. A file that no longer parses (or that cannot be read, or is gone) keeps the
/// keys last read, and the service logs why at each change; at start-up a bad file is an error, as ever.
/// </summary>
public sealed class ApiKeyFile
{
    /// <summary>How often, at most, the file is read again to see whether it changed.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string? _path;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private volatile ApiKeyStore _keys;
    private byte[] _hash;
    private long _nextCheck;

    /// <summary>Reads <paramref name="path"/> (null: no keys file, every request is unauthenticated).</summary>
    /// <exception cref="InvalidInputException">A missing or malformed keys file.</exception>
    public ApiKeyFile(string? path, ILogger logger)
    {
        _path = path;
        _logger = logger;
        if (path is null)
        {
            _keys = ApiKeyStore.Empty;
            _hash = [];
            return;
        }

        if (!File.Exists(path)) throw new InvalidInputException("KEYS-E-FILE", "no API keys file here", new InputLocation(path, 0, 0));
        var bytes = Crucible.Data.IO.InputFile.ReadAllBytes(path);
        _keys = Parse(bytes, path);
        _hash = SHA256.HashData(bytes);
        _nextCheck = Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds;
    }

    /// <summary>The keys now: the file's, re-read first when it may have changed.</summary>
    public ApiKeyStore Current
    {
        get
        {
            // the process's monotonic milliseconds, not the service's TimeProvider (which tests may stop)
            if (_path is null || Environment.TickCount64 < Interlocked.Read(ref _nextCheck)) return _keys;
            lock (_gate)
            {
                if (Environment.TickCount64 < _nextCheck) return _keys;
                Reload(_path);
                Interlocked.Exchange(ref _nextCheck, Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds);
                return _keys;
            }
        }
    }

    private void Reload(string path)
    {
        byte[] bytes;
        try
        {
            bytes = Crucible.Data.IO.InputFile.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidInputException)
        {
            var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("unreadable:" + e.Message));
            if (!hash.AsSpan().SequenceEqual(_hash))
                _logger.LogError("cannot read the API keys file {Path} ({Message}); the keys last read stay in use", path, e.Message);
            _hash = hash;
            return;
        }

        var now = SHA256.HashData(bytes);
        if (now.AsSpan().SequenceEqual(_hash)) return;
        _hash = now;
        try
        {
            var keys = Parse(bytes, path);
            _keys = keys;
            _logger.LogWarning("the API keys file {Path} changed: {Count} keys now", path, keys.Count);
        }
        catch (InvalidInputException e)
        {
            _logger.LogError("the API keys file {Path} changed but is not valid ({Message}); the keys last read stay in use", path, e.ToUserMessage());
        }
    }

    // the lines as File.ReadAllLines reads them (UTF-8, a byte order mark skipped), as ApiKeyStore.Load does
    private static ApiKeyStore Parse(byte[] bytes, string path)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return ApiKeyStore.Parse(lines, path);
    }
}
