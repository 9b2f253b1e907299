using System.CommandLine;
using System.Globalization;
using Crucible.Cli;

// Every command is culture-invariant whatever the machine's culture (ARCHITECTURE.md, file formats).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

return CrucibleCommand.Build().Parse(args).Invoke();
