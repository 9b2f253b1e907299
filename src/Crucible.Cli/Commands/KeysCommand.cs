using System.CommandLine;
using Crucible.Service.Security;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible keys new --id ID --scopes read,generate</c>: makes a new API key. Standard output gets the line for the
/// keys file (<c>ID SCOPES sha256:HEX</c>, so <c>&gt;&gt; api-keys</c> appends it); standard error gets the key itself,
/// shown once, to hand to the client (it is stored nowhere).
/// </summary>
internal static class KeysCommand
{
    /// <summary>The <c>keys</c> command and its <c>new</c> sub-command.</summary>
    public static Command Create()
    {
        var id = new Option<string>("--id") { Description = "The key id (letters, digits, '-', '_'; recorded as the audit actor key:ID)", Required = true };
        var scopes = new Option<string>("--scopes") { Description = $"Comma-separated scopes: {string.Join(", ", Scopes.All)} (admin holds all)", Required = true };
        var create = new Command("new", "Print a keys-file line (stdout) and the new API key (stderr, shown once)") { id, scopes };
        create.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var (key, line) = ApiKeyStore.NewKey(p.GetValue(id)!, ApiKeyStore.ParseScopes(p.GetValue(scopes)!));
            Console.Out.WriteLine(line);
            Console.Error.WriteLine($"API key (send it as X-Api-Key; it is shown only now): {key}");
            return ExitCode.Success;
        }));
        return new Command("keys", "API keys of the HTTP service") { create };
    }
}
