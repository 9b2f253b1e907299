using System.CommandLine;
using System.Globalization;
using Crucible.Cli;

// Every command is culture-invariant whatever the machine's culture (ARCHITECTURE.md, file formats).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var parse = CrucibleCommand.Build().Parse(args);
var code = parse.Invoke();
// a usage error (missing or malformed option, unknown command) is exit 2 (ARCHITECTURE.md); System.CommandLine says 1
return parse.Errors.Count > 0 && code == 1 ? 2 : code;
