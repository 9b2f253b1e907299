using System.CommandLine;
using System.Globalization;
using Crucible.Cli;

// Every command is culture-invariant whatever the machine's culture (ARCHITECTURE.md, file formats). CRUCIBLE_CULTURE
// (e.g. tr-TR) runs the process under another culture instead: the reproducibility tests (MRM-1) use it to show that
// outputs do not depend on the culture even when nothing resets it.
var culture = Environment.GetEnvironmentVariable("CRUCIBLE_CULTURE") is { Length: > 0 } name ? CultureInfo.GetCultureInfo(name) : CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentCulture = culture;
CultureInfo.DefaultThreadCurrentUICulture = culture;
CultureInfo.CurrentCulture = culture;

var parse = CrucibleCommand.Build().Parse(args);
int code = parse.Invoke();

// a usage error (unknown option, missing or unparsable value) is bad input: exit 2, not the parser's 1 (ARCHITECTURE.md)
return parse.Errors.Count > 0 ? (int)ExitCode.BadInput : code;
