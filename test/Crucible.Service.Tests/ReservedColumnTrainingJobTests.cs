using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary>
/// A series named like a column a scenario file reserves (<c>scenario</c>, <c>step</c>) fails a training job
/// (<c>reserved-column</c>) at its header cell of the job's <c>data.csv</c>, as <c>crucible train</c> locates it
/// (Cli.Tests <c>ReservedColumnTests</c>): the job's error came from the fit, naming no file, line or column.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ReservedColumnTrainingJobTests(ServiceFixture f)
{
    // a service of its own: this class's failing jobs do not share the collection's rate limit
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Service() =>
        ServiceFixture.Create(Path.Combine(f.Dir, "reserved-column-" + Guid.NewGuid().ToString("N")[..8]), f.KeysFile,
            new Dictionary<string, string> { ["RateLimitPermits"] = "1000" });

    [Theory]
    [InlineData("tabular", "Date,A,step", null, 1, 3, "step")]
    [InlineData("sequence", "Date,A,step", null, 1, 3, "step")]
    [InlineData("tabular", "A,Date,scenario", null, 1, 3, "scenario")]
    [InlineData("tabular", "Date, step ,A", "A,step", 1, 2, "step")] // read through columns, in another order
    public async Task TrainingJob_RefusesAReservedSeriesName_AtItsHeaderCell(string kind, string header, string? columns, int line, int column, string name)
    {
        // SequenceJob's prices (Date,A,B) under another header: the date column where the header names it
        var (prices, _) = SequenceJob.Csv();
        var names = header.Split(',');
        var csv = string.Join('\n', prices.Split('\n').Select((row, i) =>
        {
            if (i == 0) return header;
            if (row.Length == 0) return row;
            var cells = row.Split(',');
            var values = new Queue<string>([cells[1], cells[2]]);
            return string.Join(',', names.Select(n => n.Trim() == "Date" ? cells[0] : values.Dequeue()));
        }));
        var extra = (kind == "sequence" ? ", \"kind\": \"sequence\", \"window\": 5" : "")
            + (columns is null ? "" : ", \"columns\": " + JsonSerializer.Serialize(columns.Split(',')));
        using var factory = Service();
        using var trainer = factory.CreateClient();
        trainer.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        var config = kind == "sequence" ? SequenceJob.Config : """{"hidden": 8, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20, "training": {"batch_size": 16, "warmup_steps": 1}}""";
        using var response = await trainer.PostAsync("/v1/models",
            ServiceFixture.Json($$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "steps": 2, "seed": 1, "config": {{config}}{{extra}}}"""));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var job = await SequenceJob.WaitAsync(trainer, response.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "failed", job.ToString());
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"data.csv:{line}:{column}: error [reserved-column]: series '{name}' has the name of a scenario file's own column"),
            job.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
