using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// Session 21: rotating the checkpoint signing key on purpose (the old key signs the rotation, the new one every later
/// checkpoint), verifying across the key history with the first public key or the current one, the forged rotations and
/// old-key checkpoints that verification refuses, a crash at each step of a rotation, a writer that still holds the
/// retired key, and a new key epoch after a lost key (a key break that verification reports).
/// </summary>
public sealed class KeyRotationTests
{
    private static string KeyPath(AuditTestHome t) => t.Options.SigningKeyPath!;

    private static string PublicPath(AuditTestHome t) => AuditSigningKey.PublicPathFor(KeyPath(t));

    // a copy of the current public key outside the keys folder (what an external auditor holds)
    private static string KeepPublicCopy(AuditTestHome t, string name)
    {
        var copy = Path.Combine(t.Home.Root, name);
        File.Copy(PublicPath(t), copy, overwrite: true);
        return copy;
    }

    private static string KeyIdOf(string pemPath)
    {
        using var k = AuditSigningKey.LoadPublic(pemPath);
        return k.KeyId;
    }

    private static AuditKeyRotation Rotate(AuditTestHome t, string? reason = "yearly rotation")
    {
        using var log = t.Open();
        return log.RotateKey(reason);
    }

    // the stored payload of entry seq, edited in place (the entry's hash is left as it was)
    private static void EditPayload(AuditTestHome t, long seq, Action<JsonObject> edit)
    {
        var payload = JsonNode.Parse(AuditLog.Read(t.Home.AuditDatabase)[(int)seq - 1].Payload)!.AsObject();
        edit(payload);
        t.Tamper("UPDATE audit_entry SET payload = $p WHERE seq = $s;", c =>
        {
            c.Parameters.AddWithValue("$p", Encoding.UTF8.GetBytes(payload.ToJsonString()));
            c.Parameters.AddWithValue("$s", seq);
        });
    }

    [Fact]
    public void RotateThenAppend_VerifiesWithTheCurrentKey_AndWithOnlyTheFirstPublicKey()
    {
        using var t = new AuditTestHome();
        t.Fill(6); // checkpoints at 4 and 6
        var first = KeepPublicCopy(t, "first.pub.pem");
        var oldId = KeyIdOf(first);

        var r = Rotate(t);
        Assert.Equal(AuditKind.KeyRotated, r.Kind);
        Assert.Equal(7, r.Seq);
        Assert.Equal(oldId, r.OldKeyId);
        Assert.NotEqual(oldId, r.NewKeyId);
        // the files: the new key in place, its public half beside it, the old public key retired, no pending key left
        Assert.Equal(r.NewKeyId, KeyIdOf(KeyPath(t)));
        Assert.Equal(r.NewKeyId, KeyIdOf(PublicPath(t)));
        Assert.Equal(oldId, KeyIdOf(AuditSigningKey.RetiredPublicPathFor(KeyPath(t), oldId)));
        Assert.False(File.Exists(AuditSigningKey.PendingPathFor(KeyPath(t))));
        Assert.DoesNotContain(Directory.EnumerateFiles(t.Home.KeysFolder, "*", SearchOption.AllDirectories),
            f => File.ReadAllText(f).Contains("PRIVATE KEY", StringComparison.Ordinal) && f != KeyPath(t)); // the old private key is destroyed

        // the entry names both keys and carries the new public key; the checkpoint at it is signed by the OLD key
        var entry = AuditLog.Read(t.Home.AuditDatabase)[6];
        Assert.Equal("audit.key_rotated", entry.Kind);
        using (var doc = JsonDocument.Parse(entry.Payload))
        {
            Assert.Equal(oldId, doc.RootElement.GetProperty("old_key_id").GetString());
            Assert.Equal(r.NewKeyId, doc.RootElement.GetProperty("new_key_id").GetString());
            Assert.Equal(r.NewKeyId, AuditSigningKey.KeyIdOf(Convert.FromBase64String(doc.RootElement.GetProperty("new_public_key").GetString()!)));
            Assert.Equal("yearly rotation", doc.RootElement.GetProperty("reason").GetString());
        }

        t.Fill(3); // 8..10: checkpoint at 8 and at 10 (close), by the new key
        using (var log = t.Open())
        {
            var keyIds = log.Checkpoints().ToDictionary(c => c.Seq, c => c.KeyId);
            Assert.Equal(oldId, keyIds[6]);
            Assert.Equal(oldId, keyIds[7]);
            Assert.Equal(r.NewKeyId, keyIds[8]);
            Assert.Equal(r.NewKeyId, keyIds[10]);
        }

        foreach (var trusted in new string?[] { null, first })
        {
            var v = t.Verify(trusted);
            Assert.True(v.Ok, v.Message);
            Assert.Equal(10, v.Entries);
            Assert.Equal(new AuditKeyChange(7, oldId, r.NewKeyId, SignedByOldKey: true), Assert.Single(v.KeyChanges));
            Assert.Empty(v.KeyBreaks);
            Assert.Contains($"rotated {oldId} → {r.NewKeyId} at entry 7", v.Message, StringComparison.Ordinal);
        }

        // a key that is none of the log's is refused at the first checkpoint, as before
        using var other = new AuditTestHome();
        other.Fill(1);
        var foreign = t.Verify(PublicPath(other));
        Assert.Equal(AuditProblem.Signature, foreign.Problem);
        Assert.Contains("none of the log's signing keys", foreign.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoRotations_VerifyWithTheFirstTheMiddleOrTheLastKey()
    {
        using var t = new AuditTestHome();
        t.Fill(3);
        var k0 = KeepPublicCopy(t, "k0.pub.pem");
        var r1 = Rotate(t);
        t.Fill(2);
        var k1 = KeepPublicCopy(t, "k1.pub.pem");
        var r2 = Rotate(t, reason: null);
        t.Fill(5);
        Assert.Equal(r1.NewKeyId, r2.OldKeyId);

        foreach (var trusted in new[] { k0, k1, PublicPath(t) })
        {
            var v = t.Verify(trusted);
            Assert.True(v.Ok, v.Message);
            Assert.Equal(2, v.KeyChanges.Count);
            Assert.All(v.KeyChanges, c => Assert.True(c.SignedByOldKey));
            Assert.Equal([r1.Seq, r2.Seq], v.KeyChanges.Select(c => c.Seq));
        }
    }

    [Fact]
    public void ARotationRecordEdited_FailsAtItsSeq()
    {
        using var t = new AuditTestHome();
        t.Fill(4);
        var r = Rotate(t);
        t.Fill(2);
        // the new public key swapped for an attacker's in the stored payload: the entry's hash no longer matches
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        EditPayload(t, r.Seq, payload => payload["new_public_key"] = Convert.ToBase64String(attacker.ExportSubjectPublicKeyInfo()));
        var v = t.Verify();
        Assert.False(v.Ok);
        Assert.Equal(r.Seq, v.FirstBadSeq);
        Assert.Equal(AuditProblem.Hash, v.Problem);
    }

    [Theory]
    [InlineData("old_public_key")]
    [InlineData("new_public_key")]
    [InlineData("new_key_signature")]
    public void ARotationRecordEditedToANullMember_FailsAtItsSeq_NotACrash(string member)
    {
        using var t = new AuditTestHome();
        t.Fill(4);
        var r = Rotate(t);
        t.Fill(2);
        EditPayload(t, r.Seq, payload => payload[member] = null);
        var v = t.Verify();
        Assert.False(v.Ok);
        Assert.Equal(r.Seq, v.FirstBadSeq);
        Assert.Equal(AuditProblem.Hash, v.Problem);
    }

    [Fact]
    public void ARotationRecordThatIsNoKeyChange_IsTheFirstBadEntry_NotTheCheckpointsBeforeIt()
    {
        // its payload names no key, so the key of the epoch before it is unknown: the checkpoints of that epoch were checked
        // with the trusted (new) key, failed, and verification blamed entry 1 instead of the edited rotation
        using var t = new AuditTestHome();
        t.Fill(4);
        var r = Rotate(t);
        t.Fill(2);
        t.Tamper("UPDATE audit_entry SET payload = CAST('{}' AS BLOB) WHERE seq = $s;", c => c.Parameters.AddWithValue("$s", r.Seq));
        var v = t.Verify();
        Assert.Equal(AuditProblem.Hash, v.Problem);
        Assert.Equal(r.Seq, v.FirstBadSeq);
        Assert.Single(v.Findings);
    }

    [Theory]
    [InlineData(AuditKind.KeyRotated, false)]
    [InlineData(AuditKind.KeyLost, false)]
    [InlineData(AuditKind.KeyRotated, true)]
    public void AKeyChangeKind_IsRefusedByAppend_AndNothingIsWritten(AuditKind kind, bool many)
    {
        // only RotateKey and the lost-key path write these: an entry appended by hand carries no handover a verifier can check,
        // so it turned the log into one that fails verification at that entry
        using var t = new AuditTestHome();
        t.Fill(2);
        using (var log = t.Open())
        {
            var payload = new JsonObject { ["old_key_id"] = "a", ["new_key_id"] = "b" };
            var e = Assert.Throws<ArgumentException>(() =>
            {
                if (many) log.AppendMany([(AuditKind.RunStarted, new JsonObject { ["run_id"] = "r" }), (kind, payload)]);
                else log.Append(kind, payload);
            });
            Assert.Contains(kind.WireName(), e.Message, StringComparison.Ordinal);
            Assert.Contains("RotateKey", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(2, AuditLog.Read(t.Home.AuditDatabase).Count);
        Assert.True(t.Verify().Ok);
    }

    [Theory]
    [InlineData("no checkpoint")]
    [InlineData("checkpoint signed by the attacker")]
    [InlineData("chain recomputed")]
    public void AForgedRotationToAnAttackersKey_IsDetected(string how)
    {
        // someone with the database but not the private key appends (or inserts, recomputing the chain) a rotation to a
        // key of their own, with a valid handover signature by that key and valid entry hashes
        using var t = new AuditTestHome();
        t.Fill(6); // checkpoints at 4, 6 by the real key
        var trusted = KeepPublicCopy(t, "trusted.pub.pem");
        using var real = AuditSigningKey.LoadPublic(trusted);
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var attackerInfo = attacker.ExportSubjectPublicKeyInfo();
        var rows = AuditLog.Read(t.Home.AuditDatabase).ToList();
        // the forged entry goes after the head, or (chain recomputed) in place of entry 5, re-linking 5 and 6
        var at = how == "chain recomputed" ? 5 : 7;
        var prev = rows[at - 2].EntryHash;
        var statement = AuditLog.HandoverStatement("audit.key_rotated", at, prev, real.PublicKeyInfo, attackerInfo);
        var forged = new JsonObject
        {
            ["new_key_id"] = AuditSigningKey.KeyIdOf(attackerInfo),
            ["new_key_signature"] = Convert.ToHexStringLower(attacker.SignData(statement, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
            ["new_public_key"] = Convert.ToBase64String(attackerInfo),
            ["old_key_id"] = real.KeyId,
            ["old_public_key"] = Convert.ToBase64String(real.PublicKeyInfo),
        };
        var bytes = Encoding.UTF8.GetBytes(forged.ToJsonString());
        var ts = AuditLog.Rfc3339(DateTimeOffset.UtcNow);
        var hash = AuditLog.ComputeEntryHash(at, ts, "audit.key_rotated", "mallory", bytes, prev);
        if (how == "chain recomputed")
        {
            // entry 5 replaced by the rotation, entry 6 re-linked and re-hashed
            var six = rows[5];
            var sixHash = AuditLog.ComputeEntryHash(6, six.TimestampUtc, six.Kind, six.Actor, Encoding.UTF8.GetBytes(six.Payload), hash);
            t.Tamper("""
                UPDATE audit_entry SET ts_utc = $t, kind = 'audit.key_rotated', actor = 'mallory', payload = $p, entry_hash = $h WHERE seq = 5;
                UPDATE audit_entry SET prev_hash = $h, entry_hash = $h6 WHERE seq = 6;
                """, c =>
            {
                c.Parameters.AddWithValue("$t", ts);
                c.Parameters.AddWithValue("$p", bytes);
                c.Parameters.AddWithValue("$h", hash);
                c.Parameters.AddWithValue("$h6", sixHash);
            });
        }
        else
        {
            t.Tamper("INSERT INTO audit_entry(seq, ts_utc, kind, actor, payload, prev_hash, entry_hash) VALUES (7, $t, 'audit.key_rotated', 'mallory', $p, $prev, $h);", c =>
            {
                c.Parameters.AddWithValue("$t", ts);
                c.Parameters.AddWithValue("$p", bytes);
                c.Parameters.AddWithValue("$prev", prev);
                c.Parameters.AddWithValue("$h", hash);
            });
        }

        if (how == "checkpoint signed by the attacker")
        {
            var leaves = rows.Select(e => MerkleTree.LeafHash(e.EntryHash)).Append(MerkleTree.LeafHash(hash)).ToList();
            var root = MerkleTree.Root(leaves);
            var keyId = AuditSigningKey.KeyIdOf(attackerInfo);
            var sig = attacker.SignData(AuditCheckpoint.SignedBytes(7, hash, root, ts, keyId), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            t.Tamper("INSERT INTO audit_checkpoint(seq, head_hash, merkle_root, ts_utc, key_id, sig) VALUES (7, $h, $r, $t, $k, $sig);", c =>
            {
                c.Parameters.AddWithValue("$h", hash);
                c.Parameters.AddWithValue("$r", root);
                c.Parameters.AddWithValue("$t", ts);
                c.Parameters.AddWithValue("$k", keyId);
                c.Parameters.AddWithValue("$sig", sig);
            });
        }

        foreach (var key in new[] { trusted, PublicPath(t) })
        {
            var v = t.Verify(key);
            Assert.False(v.Ok, v.Message);
            switch (how)
            {
                case "no checkpoint":
                    Assert.Equal(AuditProblem.KeyRotation, v.Problem);
                    Assert.Equal(7, v.FirstBadSeq);
                    Assert.Contains("the retiring key did not sign this rotation", v.Message, StringComparison.Ordinal);
                    break;
                case "checkpoint signed by the attacker":
                    Assert.Equal(AuditProblem.Signature, v.Problem);
                    Assert.Equal(7, v.FirstBadSeq);
                    Assert.Equal(7, v.CheckpointSeq);
                    break;
                default:
                    // the rotation inserted at 5 has no checkpoint of the real key at 5 (and the real key's checkpoint at
                    // 6, in the database and the exported copy, no longer matches the chain)
                    Assert.Equal(AuditProblem.KeyRotation, v.Problem);
                    Assert.Equal(5, v.FirstBadSeq);
                    break;
            }
        }
    }

    [Fact]
    public void ACheckpointAfterTheRotation_SignedByTheOldKey_IsRefused()
    {
        using var t = new AuditTestHome();
        t.Fill(4);
        using var oldKey = AuditSigningKey.LoadPrivate(KeyPath(t)); // the retired key, kept by someone against the procedure
        var r = Rotate(t);
        t.Fill(2); // entries 6 and 7, checkpoint at 7 (close) by the new key
        AuditCheckpoint last;
        using (var log = t.Open()) last = log.Checkpoints()[^1];
        SqliteConnection.ClearAllPools();
        Assert.Equal(7, last.Seq);
        Assert.Equal(r.NewKeyId, last.KeyId);
        var sig = oldKey.Sign(AuditCheckpoint.SignedBytes(last.Seq, last.HeadHash, last.MerkleRoot, last.TimestampUtc, oldKey.KeyId));
        t.Tamper("UPDATE audit_checkpoint SET key_id = $k, sig = $sig WHERE seq = 7;", c =>
        {
            c.Parameters.AddWithValue("$k", oldKey.KeyId);
            c.Parameters.AddWithValue("$sig", sig);
        });

        var v = t.Verify();
        Assert.Equal(AuditProblem.Signature, v.Problem);
        Assert.Equal(7, v.CheckpointSeq);
        Assert.Equal(6, v.FirstBadSeq);
        Assert.Contains($"signature does not verify with key {r.NewKeyId}", v.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("current", false)]
    [InlineData("current", true)]
    [InlineData("first", false)]
    [InlineData("first", true)]
    public void ALogCutBelowARotation_FailsAsTruncation_WithEitherKey(string trusted, bool databaseCheckpointsCut)
    {
        using var t = new AuditTestHome();
        t.Fill(6); // checkpoints at 4 and 6 by the first key
        var first = KeepPublicCopy(t, "first.pub.pem");
        var r = Rotate(t); // entry 7, its checkpoint by the first key
        t.Fill(3); // 8..10, checkpoints at 8 and 10 by the new key
        Assert.True(t.Verify().Ok);
        SqliteConnection.ClearAllPools();

        // the tail cut below the rotation entry: the chain no longer names the new key, the exported checkpoints still cover 10
        t.Tamper("DELETE FROM audit_entry WHERE seq > 5;" + (databaseCheckpointsCut ? " DELETE FROM audit_checkpoint WHERE seq > 5;" : ""));

        var v = t.Verify(trusted == "first" ? first : null);
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Equal(6, v.FirstBadSeq);
        // the trusted key checks a checkpoint beyond the end: the new key the last one (10), the first key the rotation's (7)
        Assert.Equal(trusted == "first" ? r.Seq : 10, v.CheckpointSeq);
        Assert.Contains("the log ends at entry 5", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALogCutBetweenTwoRotations_FailsAsTruncation_WithTheLastKey()
    {
        using var t = new AuditTestHome();
        t.Fill(3);
        var r1 = Rotate(t); // entry 4
        t.Fill(3); // 5..7
        var r2 = Rotate(t); // entry 8
        t.Fill(2); // 9..10
        Assert.True(t.Verify().Ok);
        SqliteConnection.ClearAllPools();

        // the chain keeps the first rotation but not the second: the current key is none of the keys it names
        t.Tamper("DELETE FROM audit_entry WHERE seq > 6;");
        var v = t.Verify();
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Equal(7, v.FirstBadSeq);
        Assert.Equal(10, v.CheckpointSeq);
        Assert.Equal([r1.Seq], v.KeyChanges.Select(c => c.Seq));
        Assert.NotEqual(r1.NewKeyId, r2.NewKeyId);
    }

    [Fact]
    public void AWriterThatStillHoldsTheRetiredKey_IsRefusedOnItsNextAppend_AndSignsNothing()
    {
        // the service reads the key at start-up: a rotation by the CLI meanwhile must not let it sign with the old key
        using var t = new AuditTestHome();
        t.Fill(2);
        using var service = t.Open();
        service.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "before" });
        var r = Rotate(t);
        var e = Assert.Throws<InvalidInputException>(() => service.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "after" }));
        Assert.Equal(AuditLog.KeyRule, e.Rule);
        Assert.Contains($"rotated to {r.NewKeyId}", e.Message, StringComparison.Ordinal);
        Assert.Contains("Stop it and start it again with the new key", e.Message, StringComparison.Ordinal);
        Assert.Null(service.Checkpoint()); // the rotation's checkpoint (by the old key) already covers everything before it
        service.Dispose(); // its closing checkpoint is not signed with the retired key either
        Assert.Equal(r.Seq, AuditLog.Read(t.Home.AuditDatabase).Count);
        Assert.True(t.Verify().Ok);
        t.Fill(1);
        Assert.True(t.Verify().Ok);
    }

    [Theory]
    [InlineData("pending-written", false)]
    [InlineData("before-commit", false)]
    [InlineData("committed", true)]
    [InlineData("exported", true)]
    public void ACrashAtEachStepOfARotation_LeavesAHomeOnTheOldKeyOrFullyOnTheNew(string step, bool rotated)
    {
        using var t = new AuditTestHome();
        t.Fill(5);
        var oldId = KeyIdOf(PublicPath(t));
        var options = t.Options;
        var crashing = new AuditLogOptions
        {
            DatabasePath = options.DatabasePath,
            SigningKeyPath = options.SigningKeyPath,
            CheckpointFile = options.CheckpointFile,
            CheckpointInterval = options.CheckpointInterval,
            DefaultActor = "test",
            FaultInjection = s =>
            {
                if (s == step) throw new IOException("crash at " + s);
            },
        };
        using (var log = AuditLog.Open(crashing))
            Assert.Throws<IOException>(() => log.RotateKey());
        SqliteConnection.ClearAllPools();

        // the command every appending CLI command runs first (ThrowIfLost) and Open both accept the home
        AuditLog.ThrowIfLost(t.Home);
        t.Fill(3);
        var entries = AuditLog.Read(t.Home.AuditDatabase);
        Assert.Equal(rotated ? 9 : 8, entries.Count);
        Assert.Equal(rotated, entries.Any(e => e.Kind == "audit.key_rotated"));
        var keyId = KeyIdOf(KeyPath(t));
        Assert.Equal(rotated, keyId != oldId);
        Assert.Equal(keyId, KeyIdOf(PublicPath(t)));
        Assert.False(File.Exists(AuditSigningKey.PendingPathFor(KeyPath(t))) && rotated);
        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(rotated ? 1 : 0, v.KeyChanges.Count);

        // and the next rotation works from there
        Rotate(t);
        Assert.True(t.Verify().Ok);
    }

    [Fact]
    public void ALostKey_IsRefusedNamingTheWayForward_ThenANewEpochIsAVisibleBreak()
    {
        using var t = new AuditTestHome();
        t.Fill(6);
        var first = KeepPublicCopy(t, "first.pub.pem");
        var oldId = KeyIdOf(first);
        File.Delete(KeyPath(t)); // the private key is lost; its public half is still there

        var refused = Assert.Throws<InvalidInputException>(() => t.Open());
        Assert.Equal(AuditLog.KeyRule, refused.Rule);
        Assert.Contains("restore the private key that signed them", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'crucible audit rotate-key --lost-key'", refused.Message, StringComparison.Ordinal);

        var r = AuditLog.StartKeyEpochAfterLoss(t.Options, reason: "key file lost with the old server");
        Assert.Equal(AuditKind.KeyLost, r.Kind);
        Assert.Equal(7, r.Seq);
        Assert.Equal(oldId, r.OldKeyId);
        Assert.Equal(r.NewKeyId, KeyIdOf(KeyPath(t)));
        t.Fill(3);

        foreach (var trusted in new string?[] { null, first })
        {
            var v = t.Verify(trusted);
            Assert.True(v.Ok, v.Message); // verified with the keys the log names ...
            var brk = Assert.Single(v.KeyBreaks); // ... but never silently
            Assert.Equal(new AuditKeyChange(7, oldId, r.NewKeyId, SignedByOldKey: false), brk);
            Assert.Contains($"KEY BREAK at entry 7: key {oldId} was lost and did not sign the change to {r.NewKeyId}", v.Message, StringComparison.Ordinal);
        }

        // the key is not lost any more: a second lost-key epoch is refused, a planned rotation works
        Assert.Contains("the key is not lost", Assert.Throws<InvalidInputException>(() => AuditLog.StartKeyEpochAfterLoss(t.Options)).Message, StringComparison.Ordinal);
        Rotate(t);
        Assert.True(t.Verify(first).Ok);
    }

    [Fact]
    public void ALostKeyEpoch_NeedsTheOldPublicKey_AndRefusesAnotherKeyInThePrivateKeysPlace()
    {
        using var t = new AuditTestHome();
        t.Fill(3);
        var first = KeepPublicCopy(t, "first.pub.pem");
        File.Delete(KeyPath(t));
        File.Delete(PublicPath(t));
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.StartKeyEpochAfterLoss(t.Options));
        Assert.Contains("--old-public-key", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, AuditLog.Read(t.Home.AuditDatabase).Count);

        using (var other = new AuditTestHome())
        {
            other.Fill(1);
            Assert.Contains("not the log's key", Assert.Throws<InvalidInputException>(() => AuditLog.StartKeyEpochAfterLoss(t.Options, PublicPath(other))).Message, StringComparison.Ordinal);
            File.Copy(KeyPath(other), KeyPath(t));
            Assert.Contains("move it aside first", Assert.Throws<InvalidInputException>(() => AuditLog.StartKeyEpochAfterLoss(t.Options, first)).Message, StringComparison.Ordinal);
            File.Delete(KeyPath(t));
        }

        Assert.Equal(3, AuditLog.Read(t.Home.AuditDatabase).Count);
        var r = AuditLog.StartKeyEpochAfterLoss(t.Options, first);
        Assert.Equal(4, r.Seq);
        Assert.True(t.Verify(first).Ok);
    }
}
