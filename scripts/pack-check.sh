#!/usr/bin/env bash
# Packs the six library projects, checks the packages (ids, version, description, README, XML docs, no test/bench/CLI
# dependency), packs them again from two clones of HEAD at two different paths and compares the assemblies byte for
# byte (a reproducible build: the checkout's path is not in them), then builds and runs README's "Use it as a
# library" program from the packages in a fresh project outside the repository, and installs the CLI as a .NET tool
# from the same kind of folder feed and runs `crucible --help`. Not part of scripts/test.sh: it takes
# a few minutes on the 2-core machine (three packs and a restore+build), past the suite's budget for one check.
# Exit 0 when every check passes; prints "pack-check: FAIL: ..." and exits 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "pack-check: FAIL: $*" >&2; exit 1; }
projects=(Tensors Data Evaluation Diffusion Stress Governance)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)

pack() {
  for p in "${projects[@]}"; do
    dotnet pack "src/Crucible.$p" -c Release -o "$1" -nologo -clp:ErrorsOnly -v:q >"$work/pack.log" 2>&1 \
      || { cat "$work/pack.log" >&2; fail "dotnet pack src/Crucible.$p"; }
  done
}
pack "$work/feed"
[ "$(ls "$work/feed" | wc -l)" = 6 ] || fail "expected 6 packages, got: $(ls "$work/feed")"
for p in "${projects[@]}"; do
  id=Crucible.$p nupkg="$work/feed/Crucible.$p.$version.nupkg"
  [ -f "$nupkg" ] || fail "$id.$version.nupkg missing"
  files=$(unzip -Z1 "$nupkg")
  for f in "lib/net10.0/$id.dll" "lib/net10.0/$id.xml" README.md; do
    grep -qx "$f" <<<"$files" || fail "$id: $f not in the package"
  done
  nuspec=$(unzip -p "$nupkg" "$id.nuspec")
  grep -q "<readme>README.md</readme>" <<<"$nuspec" || fail "$id: no <readme>"
  grep -q "<description>Crucible" <<<"$nuspec" || fail "$id: description is not its own: $(grep -o '<description>[^<]*' <<<"$nuspec")"
  grep -q "<authors>Crucible contributors</authors>" <<<"$nuspec" || fail "$id: authors"
  if grep -Eiq 'id="(xunit|FsCheck|Microsoft\.NET\.Test\.Sdk|Microsoft\.Playwright|Microsoft\.AspNetCore\.Mvc\.Testing|BenchmarkDotNet|System\.CommandLine|crucible)"' <<<"$nuspec"; then
    fail "$id: a test, bench or CLI dependency leaks: $(grep -o 'dependency id="[^"]*"' <<<"$nuspec" | tr '\n' ' ')"
  fi
done

# reproducible: two clones of the committed tree at two paths of different lengths, each packed, give the same
# assemblies byte for byte (the checkout's path is mapped out: src/Directory.Build.props, ContinuousIntegrationBuild
# and PathMap; before, the DLLs differed by the PDB path in their debug directory); and no assembly names either path
git -C "$repo" diff --quiet HEAD -- src Directory.Build.props Directory.Packages.props global.json \
  || echo "pack-check: note: uncommitted changes under src are not in the clones' check"
for c in "$work/c1/crucible" "$work/clone-two/at/a/longer/path/other-name"; do
  git clone -q "$repo" "$c"
  (cd "$c" && pack "$c/feed")
done
for p in "${projects[@]}"; do
  f1="$work/c1/crucible/feed/Crucible.$p.$version.nupkg" f2="$work/clone-two/at/a/longer/path/other-name/feed/Crucible.$p.$version.nupkg"
  a=$(unzip -p "$f1" "lib/net10.0/Crucible.$p.dll" | sha256sum)
  b=$(unzip -p "$f2" "lib/net10.0/Crucible.$p.dll" | sha256sum)
  [ "$a" = "$b" ] || fail "Crucible.$p.dll differs between clones at two paths: ${a%% *} and ${b%% *}"
  if unzip -p "$f1" "lib/net10.0/Crucible.$p.dll" | grep -aq "$work"; then fail "Crucible.$p.dll names the checkout's path"; fi
  echo "pack-check: Crucible.$p.dll ${a%% *} from both clones"
done

# a consumer outside the repository: PackageReference from the folder feed, its own package cache (never a stale one)
app="$work/app"
mkdir -p "$app"
cat >"$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="crucible-local" value="$work/feed" />
    <add key="cache" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </packageSources>
</configuration>
XML
cat >"$app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Crucible.Stress" Version="$version" />
    <PackageReference Include="Crucible.Governance" Version="$version" />
  </ItemGroup>
</Project>
XML
sed -n '/<!-- library-package:begin -->/,/<!-- library-package:end -->/p' README.md | sed '1,2d;$d' | sed '$d' >"$app/Program.cs"
[ -s "$app/Program.cs" ] || fail "README has no library-package block"
# the registry's native SQLite must load from the packages too: open a home's audit log after the README program
cat >>"$app/Program.cs" <<'CS'
using (var audit = Crucible.Governance.Audit.AuditLog.Open(Crucible.Governance.CrucibleHome.Resolve(Path.Combine(AppContext.BaseDirectory, "home"))))
    Console.WriteLine("audit log opened");
CS
(cd "$app" && dotnet build -c Release -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1) || { cat "$work/build.log" >&2; fail "the consumer does not build"; }
out=$(cd "$app" && dotnet bin/Release/net10.0/App.dll 2>/dev/null) || fail "the consumer exited non-zero: $out"
echo "$out"
grep -Eq '^model [0-9a-f]{12}: ks_mean [0-9.]+, one-day ES99 [0-9.]+$' <<<"$out" || fail "unexpected output"
grep -qx 'audit log opened' <<<"$out" || fail "the audit log did not open"
# the CLI as a .NET tool: packed, installed from the folder feed into a tool path (its own package cache), run
dotnet pack src/Crucible.Cli -c Release -o "$work/toolfeed" -nologo -clp:ErrorsOnly -v:q >"$work/tool.log" 2>&1 \
  || { cat "$work/tool.log" >&2; fail "dotnet pack src/Crucible.Cli"; }
NUGET_PACKAGES="$work/toolpackages" dotnet tool install crucible --version "$version" --tool-path "$work/tool" \
  --add-source "$work/toolfeed" >"$work/tool.log" 2>&1 || { cat "$work/tool.log" >&2; fail "dotnet tool install crucible"; }
help=$("$work/tool/crucible" --help 2>&1) || fail "crucible --help from the installed tool exited non-zero: $help"
grep -q '^  crucible \[command\] \[options\]' <<<"$help" || fail "crucible --help: unexpected output: $help"
echo "pack-check: OK (6 packages and the crucible tool, version $version)"
