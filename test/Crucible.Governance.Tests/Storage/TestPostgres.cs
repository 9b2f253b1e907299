using System.Diagnostics;
using Npgsql;

namespace Crucible.Tests.Postgres;

/// <summary>
/// The PostgreSQL server of the store tests, found one way: the connection string in <c>CRUCIBLE_TEST_POSTGRES</c>
/// (scripts/test.sh exports it), else the one printed by <c>scripts/test-postgres.sh</c>, which starts a private
/// throw-away cluster. When neither works the tests FAIL with the reason; they never skip. Each test gets a database of
/// its own, dropped when it is disposed.
/// </summary>
internal static class TestPostgres
{
    public const string EnvironmentVariable = "CRUCIBLE_TEST_POSTGRES";

    private static readonly Lazy<string> s_server = new(FindServer);

    /// <summary>The server's connection string (to its maintenance database).</summary>
    public static string Server => s_server.Value;

    /// <summary>A new empty database on the server.</summary>
    public static TestDatabase CreateDatabase()
    {
        var name = "crucible_t_" + Guid.NewGuid().ToString("N")[..20];
        using (var admin = new NpgsqlConnection(Server))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name};", admin);
            create.ExecuteNonQuery();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString);
    }

    private static string FindServer()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnv) return fromEnv;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Crucible.slnx"))) dir = dir.Parent;
        if (dir is null)
            throw new InvalidOperationException($"PostgreSQL store tests need a server: set {EnvironmentVariable} to a connection string (scripts/test.sh does)");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(dir.FullName, "scripts", "test-postgres.sh"));
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL store tests need a server: scripts/test-postgres.sh failed ({stderr.Result.Trim()}); install postgresql (scripts/setup.sh) or set {EnvironmentVariable}");
        }

        return stdout.Trim().Split('\n')[^1];
    }
}

/// <summary>A database of one test; <see cref="Dispose"/> drops it (and ends its remaining sessions).</summary>
internal sealed class TestDatabase(string name, string connectionString) : IDisposable
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>Runs SQL on this database (what an attacker with database access can do).</summary>
    public void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        foreach (var (n, v) in parameters) cmd.Parameters.AddWithValue(n, v);
        cmd.ExecuteNonQuery();
    }

    public object? Scalar(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return cmd.ExecuteScalar();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var admin = new NpgsqlConnection(TestPostgres.Server);
        admin.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE);", admin);
        drop.ExecuteNonQuery();
    }
}
