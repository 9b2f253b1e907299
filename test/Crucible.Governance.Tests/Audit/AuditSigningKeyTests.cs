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
}
