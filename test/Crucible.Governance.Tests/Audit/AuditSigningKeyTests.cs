using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

public class AuditSigningKeyTests
{
    [Fact]
    public void LoadOrCreate_RacingCreators_AllGetTheOneKey_AndNoTemporaryIsLeft()
    {
        var dir = Directory.CreateTempSubdirectory("crucible-key-").FullName;
        try
        {
            for (int round = 0; round < 20; round++)
            {
                var path = Path.Combine(dir, $"r{round}", AuditSigningKey.PrivateFileName);
                using var start = new Barrier(8);
                var keys = new AuditSigningKey[8];
                var errors = new Exception?[8];
                var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
                {
                    start.SignalAndWait();
                    try
                    {
                        keys[i] = AuditSigningKey.LoadOrCreate(path);
                    }
                    catch (Crucible.Data.InvalidInputException e)
                    {
                        errors[i] = e; // a half-written key file read by a racing creator (the bug this guards against)
                    }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.All(errors, e => Assert.Null(e));
                var first = keys[0].PublicKeyInfo;
                Assert.All(keys, k => Assert.Equal(first, k.PublicKeyInfo));
                Assert.All(keys, k => Assert.True(k.HasPrivateKey));
                Assert.Equal(first, AuditSigningKey.LoadPublic(AuditSigningKey.PublicPathFor(path)).PublicKeyInfo);
                Assert.Equal(["audit-checkpoint.key.pem", "audit-checkpoint.pub.pem"],
                    Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Where(n => n != AuditSigningKey.LockFileName).Order(StringComparer.Ordinal));
                foreach (var k in keys) k.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("P-384 private")]
    [InlineData("P-384 public")]
    [InlineData("P-521 private")]
    public void Load_AKeyOnAnotherCurveThanP256_IsRefused(string which)
    {
        // its signatures are not the 64 bytes every checkpoint check expects: a log signed with it would verify never
        var dir = Directory.CreateTempSubdirectory("crucible-key-").FullName;
        try
        {
            using var other = System.Security.Cryptography.ECDsa.Create(which.StartsWith("P-384", StringComparison.Ordinal)
                ? System.Security.Cryptography.ECCurve.NamedCurves.nistP384 : System.Security.Cryptography.ECCurve.NamedCurves.nistP521);
            var path = Path.Combine(dir, AuditSigningKey.PrivateFileName);
            File.WriteAllText(path, which.EndsWith("private", StringComparison.Ordinal) ? other.ExportPkcs8PrivateKeyPem() : other.ExportSubjectPublicKeyInfoPem());
            Func<AuditSigningKey> load = which.EndsWith("private", StringComparison.Ordinal) ? () => AuditSigningKey.LoadOrCreate(path) : () => AuditSigningKey.LoadPublic(path);
            var e = Assert.Throws<Crucible.Data.InvalidInputException>(() => load().Dispose());
            Assert.Equal("AUDIT-E-KEY", e.Rule);
            Assert.Equal(path, e.Location?.File);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
