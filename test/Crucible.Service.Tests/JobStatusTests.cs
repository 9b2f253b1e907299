using System.Text.Json;
using Crucible.Service.Training;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Tests;

/// <summary>
/// A training job's state is a <see cref="JobStatus"/>: written by its wire name in the jobs tables and in JSON (the same
/// names as when it was a string), and a stored name that is no state is refused where it is read, not passed on.
/// </summary>
public sealed class JobStatusTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "crucible-job-status-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public void TheWireNames_AreTheStatesNames()
    {
        Assert.Equal([JobStatus.Queued, JobStatus.Running, JobStatus.Succeeded, JobStatus.Failed, JobStatus.Cancelled], JobStatuses.All);
        Assert.Equal(["queued", "running", "succeeded", "failed", "cancelled"], JobStatuses.All.Select(s => s.WireName()));
        Assert.Equal("queued, running, succeeded, failed, cancelled", JobStatuses.Choices);
        foreach (var s in JobStatuses.All) Assert.Equal(s, JobStatuses.FromWireName(s.WireName()));
        Assert.Null(JobStatuses.FromWireName("Queued"));
        Assert.Null(JobStatuses.FromWireName(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((JobStatus)17).WireName());
        Assert.Equal([JobStatus.Queued, JobStatus.Running], JobStatuses.All.Where(s => s.IsLive()));
    }

    [Fact]
    public void InJson_AStateIsItsWireName_AndNothingElseReads()
    {
        // the service's options (snake_case members) and none: the converter is the enum's own
        foreach (var options in new[] { new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }, new JsonSerializerOptions() })
        {
            foreach (var s in JobStatuses.All)
            {
                Assert.Equal($"\"{s.WireName()}\"", JsonSerializer.Serialize(s, options));
                Assert.Equal(s, JsonSerializer.Deserialize<JobStatus>($"\"{s.WireName()}\"", options));
            }

            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobStatus>("1", options));
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobStatus>("\"paused\"", options));
        }

        var view = new JobView("j", JobStatus.Cancelled, 3, 10, null, null, null, "stopped", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", 1);
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(view, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        Assert.Equal("cancelled", doc.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public void JobsDb_KeepsTheWireName_AndRefusesAStoredNameThatIsNoState()
    {
        Directory.CreateDirectory(_home);
        string id = Guid.NewGuid().ToString("N"), other = Guid.NewGuid().ToString("N");
        using (var jobs = new LocalJobs(_home))
        {
            jobs.Insert(new JobView(id, JobStatus.Queued, 0, 10, null, null, null, null, "2026-01-01T00:00:00Z", null, 0), "key:t");
            jobs.Insert(new JobView(other, JobStatus.Queued, 0, 10, null, null, null, null, "2026-01-01T00:00:01Z", null, 0), "key:t");
            jobs.Update(new JobView(id, JobStatus.Succeeded, 10, 10, 0.5, "m", "r", null, "2026-01-01T00:00:00Z", "2026-01-01T00:02:00Z", 1));
            Assert.Equal(JobStatus.Succeeded, jobs.Find(id, "2026-01-01T00:03:00Z")!.Status);
            Assert.Equal([id], jobs.List(JobStatus.Succeeded, null, 10, "2026-01-01T00:03:00Z")!.Select(v => v.Id));
        }

        using (var db = new SqliteConnection($"Data Source={Path.Combine(_home, LocalJobs.FileName)};Pooling=False"))
        {
            db.Open();
            using var read = db.CreateCommand();
            read.CommandText = "SELECT status FROM training_job ORDER BY rowid;";
            using (var r = read.ExecuteReader())
            {
                Assert.True(r.Read());
                Assert.Equal("succeeded", r.GetString(0));
                Assert.True(r.Read());
                Assert.Equal("queued", r.GetString(0));
            }

            using var write = db.CreateCommand(); // a row another program wrote
            write.CommandText = "UPDATE training_job SET status = 'paused' WHERE id = $id;";
            write.Parameters.AddWithValue("$id", other);
            write.ExecuteNonQuery();
        }

        using (var jobs = new LocalJobs(_home))
        {
            var e = Assert.Throws<InvalidDataException>(() => jobs.Find(other, "2026-01-01T00:03:00Z"));
            Assert.Contains("'paused' is not one of queued, running, succeeded, failed, cancelled", e.Message, StringComparison.Ordinal);
            Assert.Equal(JobStatus.Succeeded, jobs.Find(id, "2026-01-01T00:03:00Z")!.Status);
        }
    }
}
