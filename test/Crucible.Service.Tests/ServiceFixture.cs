using System.Net.Http.Headers;
using Crucible.Diffusion;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crucible.Service.Tests;

/// <summary>
/// A home folder with one tiny tabular model (2 series, 30 training steps, T = 100) in its registry, an API keys file
/// with one key per scope, and the service running in process on it (WebApplicationFactory, Production environment).
/// </summary>
public sealed class ServiceFixture : IDisposable
{
    public ServiceFixture()
    {
        Dir = Directory.CreateTempSubdirectory("crucible-service-").FullName;
        Home = Path.Combine(Dir, "home");
        ModelFolder = Path.Combine(Dir, "model");
        var rng = new System.Random(11);
        var returns = new double[300, 2];
        for (int i = 0; i < 300; i++)
        {
            double z = rng.NextDouble() - 0.5;
            returns[i, 0] = 0.02 * z;
            returns[i, 1] = (0.01 * z) + (0.01 * (rng.NextDouble() - 0.5));
        }

        var generator = new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 32,
            Blocks = 1,
            TimeEmbedding = 16,
            DiffusionSteps = 100,
            Objective = Objective.V,
            Training = new TrainerOptions(Steps: 30, BatchSize: 32, LearningRate: 2e-3, WarmupSteps: 5, EmaDecay: 0.9),
            Seed = 5,
        }).Fit(returns, ["A", "B"]);
        generator.Save(ModelFolder);
        using (var log = AuditLog.Open(CrucibleHome.Resolve(Home)))
        {
            ModelId = new ModelRegistry(CrucibleHome.Resolve(Home), log).Register(ModelFolder).Id;
        }

        var lines = new List<string> { "# test keys" };
        foreach (var (name, scope) in new[] { ("reader", "read"), ("generator", "generate"), ("admin", "admin"), ("trainer", "train") })
        {
            var (key, line) = ApiKeyStore.NewKey(name, new HashSet<string> { scope });
            Keys[name] = key;
            lines.Add(line);
        }

        KeysFile = Path.Combine(Dir, "api-keys");
        File.WriteAllLines(KeysFile, lines);
        Factory = Create(Home, KeysFile);
    }

    public string Dir { get; }

    public string Home { get; }

    public string ModelFolder { get; }

    public string ModelId { get; }

    public string KeysFile { get; }

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    public WebApplicationFactory<Program> Factory { get; }

    /// <summary>A service on <paramref name="home"/> with <paramref name="keysFile"/> and extra <c>Crucible:*</c> settings.</summary>
    public static WebApplicationFactory<Program> Create(string home, string keysFile, IReadOnlyDictionary<string, string>? settings = null)
    {
        return new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("Crucible:Home", home);
            b.UseSetting("Crucible:ApiKeysFile", keysFile);
            foreach (var (k, v) in settings ?? new Dictionary<string, string>()) b.UseSetting("Crucible:" + k, v);
        });
    }

    /// <summary>A client that sends <paramref name="keyName"/>'s key (none when null).</summary>
    public HttpClient Client(string? keyName)
    {
        var client = Factory.CreateClient();
        if (keyName is not null) client.DefaultRequestHeaders.Add("X-Api-Key", Keys[keyName]);
        return client;
    }

    public static StringContent Json(string body) => new(body, new MediaTypeHeaderValue("application/json"));

    public void Dispose()
    {
        Factory.Dispose();
        DeleteDirectory(Dir);
    }

    /// <summary>
    /// Deletes a test folder, retrying for up to 5 s while files still appear in it: with WebApplicationFactory the
    /// entry point's <c>RunAsync</c> disposes the host on its own thread once the factory stops it, so the audit log's
    /// closing checkpoint (<c>audit-checkpoints.jsonl</c>) can be written just after <c>factory.Dispose()</c> returns.
    /// </summary>
    public static void DeleteDirectory(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                Thread.Sleep(100);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<ServiceFixture>
{
    public const string Name = "service";
}
