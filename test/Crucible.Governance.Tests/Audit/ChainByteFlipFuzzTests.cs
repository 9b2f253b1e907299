using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// RELIABILITY LOG-6: a byte-flip fuzz of a valid chain is rejected 100% of the time, every link checked (the immudb
/// GHSA-672p lesson: a verifier that skips one field or one copy accepts a forgery there). A 6-entry log (checkpoints at 4
/// and at close, 6, in the database and in the exported file) is read once; then every byte of every stored field of every
/// entry (seq, ts_utc, kind, actor, payload, prev_hash, entry_hash) and of every checkpoint, database and exported copy
/// alike (seq, head_hash, merkle_root, ts_utc, key_id, sig), is flipped in turn (one bit per byte, the bit rotating with
/// the position), and the in-memory verifier that <c>crucible audit verify</c> runs must reject each one. In memory, so
/// that every byte (about 1,600 mutations) costs seconds, not the minutes of a SQL edit per byte (TamperMatrixTests
/// samples every ninth byte through SQL).
/// </summary>
public sealed class ChainByteFlipFuzzTests
{
    private sealed record Log(List<AuditEntry> Entries, SortedDictionary<long, AuditCheckpoint> Database, SortedDictionary<long, AuditCheckpoint> Exported);

    private static Log Read(AuditTestHome t)
    {
        var database = new SortedDictionary<long, AuditCheckpoint>();
        List<AuditEntry> entries;
        using (var store = SqliteAuditStore.OpenReader(t.Home.AuditDatabase))
        {
            entries = store.ReadEntries(1, int.MaxValue);
            foreach (var c in store.ReadCheckpoints()) database[c.Seq] = c;
        }

        var exported = new SortedDictionary<long, AuditCheckpoint>();
        foreach (var line in File.ReadAllLines(t.Home.AuditCheckpoints).Where(l => l.Length > 0))
        {
            var c = AuditLog.ParseCheckpointLine(line);
            exported[c.Seq] = c;
        }

        return new Log(entries, database, exported);
    }

    private static byte[] Flip(byte[] bytes, int i)
    {
        var copy = (byte[])bytes.Clone();
        copy[i] ^= (byte)(1 << (i % 8));
        return copy;
    }

    // text fields hold ASCII: flipping one of the low 7 bits keeps it one UTF-16 unit and one UTF-8 byte, and changes it
    private static string Flip(string text, int i) =>
        string.Concat(text.AsSpan(0, i), ((char)(text[i] ^ (1 << (i % 7)))).ToString(), text.AsSpan(i + 1));

    private static long Flip(long value, int bit) => value ^ (1L << bit);

    private static IEnumerable<(string What, AuditEntry Entry)> Mutations(AuditEntry e)
    {
        for (var bit = 0; bit < 63; bit++) yield return ($"seq bit {bit}", e with { Seq = Flip(e.Seq, bit) });
        for (var i = 0; i < e.TimestampUtc.Length; i++) yield return ($"ts_utc[{i}]", e with { TimestampUtc = Flip(e.TimestampUtc, i) });
        for (var i = 0; i < e.Kind.Length; i++) yield return ($"kind[{i}]", e with { Kind = Flip(e.Kind, i) });
        for (var i = 0; i < e.Actor.Length; i++) yield return ($"actor[{i}]", e with { Actor = Flip(e.Actor, i) });
        for (var i = 0; i < e.Payload.Length; i++) yield return ($"payload[{i}]", e with { Payload = Flip(e.Payload, i) });
        for (var i = 0; i < e.PrevHash.Length; i++) yield return ($"prev_hash[{i}]", e with { PrevHash = Flip(e.PrevHash, i) });
        for (var i = 0; i < e.EntryHash.Length; i++) yield return ($"entry_hash[{i}]", e with { EntryHash = Flip(e.EntryHash, i) });
    }

    private static IEnumerable<(string What, AuditCheckpoint Checkpoint)> Mutations(AuditCheckpoint c)
    {
        for (var bit = 0; bit < 63; bit++) yield return ($"seq bit {bit}", c with { Seq = Flip(c.Seq, bit) });
        for (var i = 0; i < c.HeadHash.Length; i++) yield return ($"head_hash[{i}]", c with { HeadHash = Flip(c.HeadHash, i) });
        for (var i = 0; i < c.MerkleRoot.Length; i++) yield return ($"merkle_root[{i}]", c with { MerkleRoot = Flip(c.MerkleRoot, i) });
        for (var i = 0; i < c.TimestampUtc.Length; i++) yield return ($"ts_utc[{i}]", c with { TimestampUtc = Flip(c.TimestampUtc, i) });
        for (var i = 0; i < c.KeyId.Length; i++) yield return ($"key_id[{i}]", c with { KeyId = Flip(c.KeyId, i) });
        for (var i = 0; i < c.Signature.Length; i++) yield return ($"sig[{i}]", c with { Signature = Flip(c.Signature, i) });
    }

    private static SortedDictionary<long, AuditCheckpoint> Replace(SortedDictionary<long, AuditCheckpoint> table, long seq, AuditCheckpoint by)
    {
        var copy = new SortedDictionary<long, AuditCheckpoint>(table);
        copy.Remove(seq);
        copy[by.Seq] = by; // a flipped seq moves the checkpoint (or lands on another one's place)
        return copy;
    }

    [Fact]
    public void EveryByteOfEveryEntryAndOfBothCopiesOfEveryCheckpoint_Flipped_IsRejected()
    {
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(6);
        var log = Read(t);
        using var key = AuditSigningKey.LoadPublic(AuditSigningKey.PublicPathFor(t.Options.SigningKeyPath!));
        Assert.Equal(6, log.Entries.Count);
        Assert.Equal([4L, 6L], log.Database.Keys);
        Assert.Equal([4L, 6L], log.Exported.Keys);
        Assert.True(AuditLog.VerifyRows(log.Entries, log.Database, log.Exported, key).Ok); // the untouched log verifies

        var mutations = 0;
        for (var k = 0; k < log.Entries.Count; k++)
        {
            foreach (var (what, bad) in Mutations(log.Entries[k]))
            {
                var entries = new List<AuditEntry>(log.Entries) { [k] = bad };
                var v = AuditLog.VerifyRows(entries, log.Database, log.Exported, key);
                Assert.False(v.Ok, $"entry {k + 1} {what} was accepted");
                Assert.True(v.FirstBadSeq <= k + 1, $"entry {k + 1} {what}: first bad seq reported as {v.FirstBadSeq}");
                mutations++;
            }
        }

        foreach (var seq in log.Database.Keys)
        {
            foreach (var (what, bad) in Mutations(log.Database[seq]))
            {
                Assert.False(AuditLog.VerifyRows(log.Entries, Replace(log.Database, seq, bad), log.Exported, key).Ok, $"database checkpoint {seq} {what} was accepted");
                Assert.False(AuditLog.VerifyRows(log.Entries, log.Database, Replace(log.Exported, seq, bad), key).Ok, $"exported checkpoint {seq} {what} was accepted");
                mutations += 2;
            }
        }

        Assert.True(mutations > 1500, $"{mutations} mutations");
    }
}
