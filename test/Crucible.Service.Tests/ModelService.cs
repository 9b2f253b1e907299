using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crucible.Service.Tests;

/// <summary>
/// One model, saved by the test and registered in a fresh home, served with one key of scope <c>generate</c>: the
/// fixture of the tests that post scenario requests to a model they trained themselves.
/// </summary>
public sealed class ModelService : IDisposable
{
    private readonly string _dir;

    /// <summary>Saves the model with <paramref name="save"/> (given the model folder), registers it and starts the service.</summary>
    public ModelService(string prefix, Action<string> save)
    {
        _dir = Directory.CreateTempSubdirectory(prefix).FullName;
        string model = Path.Combine(_dir, "model"), home = Path.Combine(_dir, "home");
        save(model);
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
        {
            ModelId = new ModelRegistry(CrucibleHome.Resolve(home), log).Register(model).Id;
        }

        var (key, line) = ApiKeyStore.NewKey("gen", new HashSet<string> { "generate" });
        Key = key;
        string keys = Path.Combine(_dir, "keys");
        File.WriteAllLines(keys, [line]);
        Factory = ServiceFixture.Create(home, keys);
    }

    public string ModelId { get; }

    public string Key { get; }

    public WebApplicationFactory<Program> Factory { get; }

    /// <summary>A client that sends the generate key.</summary>
    public HttpClient Client()
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return client;
    }

    public void Dispose()
    {
        Factory.Dispose();
        ServiceFixture.DeleteDirectory(_dir);
    }
}
