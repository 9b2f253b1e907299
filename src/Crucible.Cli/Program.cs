using System.CommandLine;
using System.Globalization;
using Crucible.Cli;

// Every command is culture-invariant whatever the machine's culture (ARCHITECTURE.md, file formats).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var parse = CrucibleCommand.Build().Parse(args);
int code = parse.Invoke();

// a usage error (unknown option, missing or unparsable value) is bad input: exit 2, not the parser's 1 (ARCHITECTURE.md)
return parse.Errors.Count > 0 ? (int)ExitCode.BadInput : code;
