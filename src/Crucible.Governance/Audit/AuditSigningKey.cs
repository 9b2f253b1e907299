using System.Security.Cryptography;
using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Governance.Audit;

/// <summary>
/// The ECDSA P-256 key that signs audit checkpoints. The private key lives in a PEM file outside the database
/// (by default <c>HOME/keys/audit-checkpoint.key.pem</c>, mode 0600) and the public key beside it; a verifier needs only
/// the public key, and should be given a copy kept where the log's writer cannot change it.
/// </summary>
public sealed class AuditSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private AuditSigningKey(ECDsa key, bool hasPrivate)
    {
        _key = key;
        HasPrivateKey = hasPrivate;
        PublicKeyInfo = key.ExportSubjectPublicKeyInfo();
        KeyId = Convert.ToHexStringLower(SHA256.HashData(PublicKeyInfo))[..16];
    }

    /// <summary>The first 16 hex digits of SHA-256 of the public key's SubjectPublicKeyInfo.</summary>
    public string KeyId { get; }

    /// <summary>Whether this key can sign (false for a public key loaded for verification).</summary>
    public bool HasPrivateKey { get; }

    /// <summary>The DER SubjectPublicKeyInfo of the public key.</summary>
    public byte[] PublicKeyInfo { get; }

    /// <summary>The private key file name inside the keys folder.</summary>
    public const string PrivateFileName = "audit-checkpoint.key.pem";

    /// <summary>The public key file name inside the keys folder.</summary>
    public const string PublicFileName = "audit-checkpoint.pub.pem";

    /// <summary>Loads the private key at <paramref name="privateKeyPath"/>, creating a new key pair (and its .pub.pem) when absent.</summary>
    /// <remarks>
    /// Several processes may start on one keys folder at once (replicas, CLI commands): creation happens under an
    /// exclusive lock on <c>.audit-key.lock</c> beside the key (an OS file lock, released if the holder dies), and the key
    /// is written whole under a temporary name and renamed, so no process ever reads a half-written key or makes a second one.
    /// </remarks>
    public static AuditSigningKey LoadOrCreate(string privateKeyPath)
    {
        if (File.Exists(privateKeyPath)) return LoadExisting(privateKeyPath, locked: false);
        var dir = Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!;
        Directory.CreateDirectory(dir);
        using var gate = ExclusiveFileLock.Acquire(Path.Combine(dir, LockFileName), TimeSpan.FromSeconds(30));
        DeleteDeadTemporaries(privateKeyPath);
        if (File.Exists(privateKeyPath)) return LoadExisting(privateKeyPath, locked: true); // another process made it while we waited

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        WritePrivate(key, privateKeyPath, overwrite: false);
        AtomicFile.WriteAllText(PublicPathFor(privateKeyPath), key.ExportSubjectPublicKeyInfoPem());
        return new AuditSigningKey(key, hasPrivate: true);
    }

    // the private key PEM written whole under a temporary name with owner-only permissions (before the first byte lands),
    // flushed, then renamed into place
    private static void WritePrivate(ECDsa key, string path, bool overwrite, Action<string>? fault = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(dir, AtomicFile.TempName(Path.GetFileName(path)));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        fault?.Invoke(PendingTemporaryStep);
        File.Move(temporary, path, overwrite);
        AtomicFile.FlushFolder(dir);
    }

    /// <summary>
    /// The file that holds the next key during a rotation (<see cref="AuditLog.RotateKey"/>): written before the rotation
    /// entry is committed, renamed over <see cref="PrivateFileName"/> after. A pending key that the log names as its key
    /// (the rotation was committed, the process died before the rename) is put in place by the next writer that opens
    /// the log; one the log does not name (the process died before the commit) is never used and the next rotation replaces it.
    /// </summary>
    public const string PendingFileName = "audit-checkpoint.next.key.pem";

    /// <summary>The folder inside the keys folder that keeps the public keys of retired signing keys (<c>KEYID.pub.pem</c>).</summary>
    public const string RetiredFolderName = "retired";

    /// <summary>The key id of a DER SubjectPublicKeyInfo: the first 16 hex digits of its SHA-256.</summary>
    public static string KeyIdOf(byte[] publicKeyInfo) => Convert.ToHexStringLower(SHA256.HashData(publicKeyInfo))[..16];

    /// <summary>A public key from its DER SubjectPublicKeyInfo (as recorded in a key rotation entry).</summary>
    /// <exception cref="CryptographicException">The bytes are not an EC public key.</exception>
    public static AuditSigningKey FromPublicKeyInfo(byte[] publicKeyInfo)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKeyInfo, out var read);
            if (read != publicKeyInfo.Length || key.KeySize != 256) throw new CryptographicException("not a whole P-256 public key");
        }
        catch
        {
            key.Dispose();
            throw;
        }

        return new AuditSigningKey(key, hasPrivate: false);
    }

    /// <summary>The path of the pending key beside <paramref name="privateKeyPath"/> (<see cref="PendingFileName"/>).</summary>
    public static string PendingPathFor(string privateKeyPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!, PendingFileName);

    /// <summary>The path where the public key of retired key <paramref name="keyId"/> is kept beside <paramref name="privateKeyPath"/>.</summary>
    public static string RetiredPublicPathFor(string privateKeyPath, string keyId) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!, RetiredFolderName, keyId + ".pub.pem");

    /// <summary>
    /// Makes a new key pair and writes its private key to the pending file (replacing a stale one), under the key lock.
    /// <paramref name="fault"/> (tests only) is called with <see cref="PendingTemporaryStep"/> once the key is in its
    /// temporary file, before the rename.
    /// </summary>
    internal static AuditSigningKey CreatePending(string privateKeyPath, Action<string>? fault = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!;
        Directory.CreateDirectory(dir);
        using var gate = ExclusiveFileLock.Acquire(Path.Combine(dir, LockFileName), TimeSpan.FromSeconds(30));
        DeleteDeadTemporaries(privateKeyPath);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        WritePrivate(key, PendingPathFor(privateKeyPath), overwrite: true, fault);
        return new AuditSigningKey(key, hasPrivate: true);
    }

    /// <summary>Writes this key's public half to the retired keys folder beside <paramref name="privateKeyPath"/>; returns the path.</summary>
    internal string WriteRetiredPublic(string privateKeyPath)
    {
        var path = RetiredPublicPathFor(privateKeyPath, KeyId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var gate = ExclusiveFileLock.Acquire(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!, LockFileName), TimeSpan.FromSeconds(30));
        AtomicFile.DeleteStaleTemporaries(path);
        AtomicFile.WriteAllText(path, _key.ExportSubjectPublicKeyInfoPem());
        return path;
    }

    // Under the key lock: the temporary files of key writes that a killed process left (SIGKILL runs no clean-up; the one of
    // a private or pending key holds a key that no checkpoint names). Every write of these three files holds this lock, so a
    // temporary seen while holding it is a dead writer's.
    private static void DeleteDeadTemporaries(string privateKeyPath)
    {
        AtomicFile.DeleteStaleTemporaries(privateKeyPath);
        AtomicFile.DeleteStaleTemporaries(PendingPathFor(privateKeyPath));
        AtomicFile.DeleteStaleTemporaries(PublicPathFor(privateKeyPath));
    }

    /// <summary>
    /// Finishes a committed rotation: when the pending file holds key <paramref name="expectedKeyId"/> (the one the log
    /// now names), writes its public half to <see cref="PublicFileName"/> and renames it over <see cref="PrivateFileName"/>
    /// (the retired private key is overwritten, not kept). Returns whether it did. Under the key lock; each step is a
    /// whole-file rename, so a crash in between leaves a state that the next call finishes. <paramref name="fault"/> (tests
    /// only) is called with <see cref="PublicWrittenStep"/> between the two.
    /// </summary>
    internal static bool FinishPending(string privateKeyPath, string expectedKeyId, Action<string>? fault = null)
    {
        var pending = PendingPathFor(privateKeyPath);
        if (!File.Exists(pending)) return false;
        var dir = Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!;
        using var gate = ExclusiveFileLock.Acquire(Path.Combine(dir, LockFileName), TimeSpan.FromSeconds(30));
        DeleteDeadTemporaries(privateKeyPath);
        if (!File.Exists(pending)) return File.Exists(privateKeyPath) && KeyIdOfFile(privateKeyPath) == expectedKeyId; // another process finished it
        using (var next = LoadPrivate(pending))
        {
            if (!string.Equals(next.KeyId, expectedKeyId, StringComparison.Ordinal)) return false;
            AtomicFile.WriteAllText(PublicPathFor(privateKeyPath), next._key.ExportSubjectPublicKeyInfoPem());
        }

        fault?.Invoke(PublicWrittenStep);
        File.Move(pending, privateKeyPath, overwrite: true);
        AtomicFile.FlushFolder(dir);
        return true;

        static string KeyIdOfFile(string path)
        {
            using var k = LoadPrivate(path);
            return k.KeyId;
        }
    }

    /// <summary>The step of <see cref="FinishPending"/> between writing the new public key and renaming the pending key (tests).</summary>
    internal const string PublicWrittenStep = "public-written";

    /// <summary>The step of <see cref="CreatePending"/> between writing the pending key's temporary file and renaming it (tests).</summary>
    internal const string PendingTemporaryStep = "pending-temp-written";

    /// <summary>The lock file that serialises key creation in a keys folder.</summary>
    public const string LockFileName = ".audit-key.lock";

    // locked: the caller holds the key lock (which is not re-entrant)
    private static AuditSigningKey LoadExisting(string privateKeyPath, bool locked)
    {
        var loaded = LoadPrivate(privateKeyPath);
        // a key file copied to another replica's keys folder alone: its public half is written beside it for verifiers
        var publicPath = PublicPathFor(privateKeyPath);
        if (File.Exists(publicPath)) return loaded;
        try
        {
            // under the key lock, as every write of the public key file (DeleteDeadTemporaries)
            using var gate = locked ? null : ExclusiveFileLock.Acquire(Path.Combine(Path.GetDirectoryName(publicPath)!, LockFileName), TimeSpan.FromSeconds(30));
            if (!File.Exists(publicPath)) AtomicFile.WriteAllText(publicPath, loaded._key.ExportSubjectPublicKeyInfoPem());
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>The conventional public key path beside a private key file.</summary>
    public static string PublicPathFor(string privateKeyPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!, PublicFileName);

    /// <summary>Loads a private key PEM.</summary>
    /// <exception cref="InvalidInputException">The file cannot be read or holds no EC private key.</exception>
    public static AuditSigningKey LoadPrivate(string path) => Load(path, expectPrivate: true);

    /// <summary>Loads a public key PEM (or a private one, of which only the public half is used).</summary>
    /// <exception cref="InvalidInputException">The file cannot be read or holds no EC key.</exception>
    public static AuditSigningKey LoadPublic(string path) => Load(path, expectPrivate: false);

    private static AuditSigningKey Load(string path, bool expectPrivate)
    {
        string pem;
        try
        {
            pem = Data.IO.InputFile.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("AUDIT-E-KEY", $"cannot read key: {e.Message}", new InputLocation(path, 0, 0));
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidInputException("AUDIT-E-KEY", "not an EC key in PEM form", new InputLocation(path, 0, 0));
        }

        if (key.KeySize != 256)
        {
            // another curve signs with other sizes than the 64-byte signatures every checkpoint check expects (Verify): a log
            // signed with it would never verify
            key.Dispose();
            throw new InvalidInputException("AUDIT-E-KEY", "not a P-256 key: checkpoints are signed with ECDSA P-256", new InputLocation(path, 0, 0));
        }

        var hasPrivate = pem.Contains("PRIVATE KEY", StringComparison.Ordinal);
        if (expectPrivate && !hasPrivate)
        {
            key.Dispose();
            throw new InvalidInputException("AUDIT-E-KEY", "a private key is needed to sign checkpoints", new InputLocation(path, 0, 0));
        }

        return new AuditSigningKey(key, hasPrivate && expectPrivate);
    }

    /// <summary>Signs <paramref name="data"/> (ECDSA P-256, SHA-256, IEEE P1363 r‖s).</summary>
    public byte[] Sign(byte[] data)
    {
        if (!HasPrivateKey) throw new InvalidOperationException("this key has no private half");
        return _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Whether <paramref name="signature"/> is a valid signature of <paramref name="data"/> by this key.</summary>
    public bool Verify(byte[] data, byte[] signature) =>
        signature.Length == 64 && _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
