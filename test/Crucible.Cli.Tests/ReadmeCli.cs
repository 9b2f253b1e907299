using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace Crucible.Cli.Tests;

/// <summary>
/// One <c>crucible …</c> command line found in a markdown file: where it is, its shell words and the command it
/// names. <see cref="Complete"/> is a line of a fenced code block with no synopsis marks (<c>[…]</c>, <c>…</c>,
/// <c>|</c>): a command a reader can paste, which the CLI's own parser must then accept as a whole.
/// </summary>
internal sealed record ReadmeInvocation(string Source, int Line, int Block, string Text, IReadOnlyList<string> Words, bool Complete, bool Explicit = true)
{
    /// <summary>Where an inline code span starts in the prose text (<see cref="ReadmeCli.Prose"/>); -1 for a code line.</summary>
    public int Offset { get; init; } = -1;

    /// <summary>Where it is, as <c>FILE:LINE</c>.</summary>
    public string Where => $"{Source}:{Line}";
}

/// <summary>
/// Reads the CLI surface a markdown file describes and checks it against the <c>crucible</c> command tree
/// (<see cref="CrucibleCommand.Build"/>, the parser the tool runs): each command named exists, each option used is
/// one that command accepts, and each command and option the tool accepts is described somewhere.
/// </summary>
internal static partial class ReadmeCli
{
    /// <summary>
    /// Finds the invocations: lines of fenced code blocks (joined over trailing backslashes; after <c>crucible</c>
    /// or <c>dotnet run … --project src/Crucible.Cli --</c>), and inline code spans that start with <c>crucible </c>,
    /// with that <c>dotnet run</c>, or with a command's name followed by a sub-command or an option
    /// (<c>`train --withhold-prices`</c>) or by nothing (<c>`train`</c>, used only to attribute options to it).
    /// </summary>
    public static IReadOnlyList<ReadmeInvocation> Extract(string markdown, string source, Command root)
    {
        var found = new List<ReadmeInvocation>();
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int[] blocks = BlockNumbers(lines);
        bool fenced = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (!fenced) continue;

            // a code line, joined with its continuation lines
            int first = i;
            var text = lines[i];
            while (text.EndsWith('\\') && i + 1 < lines.Length)
            {
                text = text[..^1] + " " + lines[++i].Trim();
            }

            var code = text.TrimStart();
            if (code.StartsWith('#')) continue;
            if (code.StartsWith("$ ", StringComparison.Ordinal)) code = code[2..];
            foreach (Match m in CodeStart().Matches(code))
            {
                var words = ShellWords(code[(m.Index + m.Length)..], stopAtOperators: true);
                bool complete = !words.Any(IsSynopsisMark);
                foreach (var alternative in Alternatives(root, words))
                {
                    found.Add(new ReadmeInvocation(source, first + 1, blocks[first], code[m.Index..].Trim(), alternative, complete));
                }
            }
        }

        var (all, proseLine) = Prose(markdown); // proseLine: the line of each character of `all`
        foreach (Match m in InlineCode().Matches(all))
        {
            var span = m.Groups[1].Value.Replace('\n', ' ').Trim();
            int line = proseLine[Math.Min(m.Index, proseLine.Count - 1)];
            var start = SpanStart().Match(span);
            IReadOnlyList<string> words;
            bool explicitly = start.Success;
            if (start.Success)
            {
                words = ShellWords(span[start.Length..], stopAtOperators: false);
            }
            else
            {
                // `train --withhold-prices`, `audit verify`, `train`: a command's own name first
                words = ShellWords(span, stopAtOperators: false);
                if (words.Count == 0 || root.Subcommands.FirstOrDefault(c => c.Name == words[0]) is not { } command) continue;
                bool named = words.Count == 1
                    || words[1].StartsWith("--", StringComparison.Ordinal) || words[1].StartsWith("[--", StringComparison.Ordinal)
                    || command.Subcommands.Any(c => c.Name == words[1]);
                if (!named) continue;
            }

            foreach (var alternative in Alternatives(root, words))
            {
                found.Add(new ReadmeInvocation(source, line + 1, blocks[line], span, alternative, Complete: false, Explicit: explicitly || words.Count > 1)
                {
                    Offset = m.Index,
                });
            }
        }

        return found;
    }

    /// <summary>
    /// The invocations a synopsis with sub-command alternatives stands for: <c>model register|list|status --store S</c>
    /// is three, each checked on its own; any other word list is itself.
    /// </summary>
    public static IEnumerable<IReadOnlyList<string>> Alternatives(Command root, IReadOnlyList<string> words)
    {
        Command command = root;
        for (int i = 0; i < words.Count; i++)
        {
            if (command.Subcommands.FirstOrDefault(c => c.Name == words[i]) is { } sub)
            {
                command = sub;
                continue;
            }

            var parts = words[i].Split('|');
            if (parts.Length > 1 && parts.All(p => command.Subcommands.Any(c => c.Name == p)))
            {
                foreach (var part in parts)
                {
                    foreach (var rest in Alternatives(root, [.. words.Take(i), part, .. words.Skip(i + 1)])) yield return rest;
                }

                yield break;
            }

            break;
        }

        yield return words;
    }

    /// <summary>
    /// Numbers the blocks of prose an option is attributed in: a new block starts at a blank line, a heading, a
    /// top-level list item (<c>- </c> at column 0) and at each line of a fenced code block.
    /// </summary>
    public static int[] BlockNumbers(string[] lines)
    {
        var numbers = new int[lines.Length];
        int block = 0;
        bool fenced = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            bool fence = line.TrimStart().StartsWith("```", StringComparison.Ordinal);
            if (fence) fenced = !fenced;
            if (fence || fenced || line.Trim().Length == 0 || line.StartsWith('#') || line.StartsWith("- ", StringComparison.Ordinal)
                || line.StartsWith("* ", StringComparison.Ordinal) || line.StartsWith('|'))
            {
                block++;
            }

            numbers[i] = block;
        }

        return numbers;
    }

    /// <summary>The command an invocation names, and the index of its first word after the command path.</summary>
    public static (Command Command, int Next) Resolve(Command root, IReadOnlyList<string> words)
    {
        Command command = root;
        int i = 0;
        while (i < words.Count && command.Subcommands.FirstOrDefault(c => c.Name == words[i] || c.Aliases.Contains(words[i])) is { } sub)
        {
            command = sub;
            i++;
        }

        return (command, i);
    }

    /// <summary>The commands of the tree, each with its path (<c>audit verify</c>); the root is not listed.</summary>
    public static IEnumerable<(string Path, Command Command)> Commands(Command root, string prefix = "")
    {
        foreach (var sub in root.Subcommands)
        {
            var path = prefix.Length == 0 ? sub.Name : prefix + " " + sub.Name;
            yield return (path, sub);
            foreach (var nested in Commands(sub, path)) yield return nested;
        }
    }

    /// <summary>The option names (and aliases) a command accepts: its own and the recursive ones of its ancestors.</summary>
    public static HashSet<string> Accepted(Command root, Command command)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in command.Options) AddNames(names, o);
        foreach (var ancestor in Ancestors(root, command))
        {
            foreach (var o in ancestor.Options.Where(o => o.Recursive)) AddNames(names, o);
        }

        return names;
    }

    private static void AddNames(HashSet<string> names, Option option)
    {
        names.Add(option.Name);
        foreach (var alias in option.Aliases) names.Add(alias);
    }

    private static IEnumerable<Command> Ancestors(Command root, Command command)
    {
        if (ReferenceEquals(root, command)) return [];
        foreach (var sub in root.Subcommands)
        {
            if (ReferenceEquals(sub, command)) return [root];
            var below = Ancestors(sub, command).ToList();
            if (below.Count > 0) return [root, .. below];
        }

        return [];
    }

    /// <summary>
    /// What is wrong with one invocation: an unknown command, a word after a command group that is none of its
    /// sub-commands, an option the command does not accept, and (for a complete line) any error of the CLI's parser.
    /// </summary>
    public static IEnumerable<string> Problems(Command root, ReadmeInvocation invocation)
    {
        var words = invocation.Words;
        if (words.Count == 0) yield break;
        var (command, next) = Resolve(root, words);
        if (next == 0 && !words[0].StartsWith("--", StringComparison.Ordinal) && !words[0].StartsWith("[--", StringComparison.Ordinal))
        {
            yield return $"{invocation.Where}: `{invocation.Text}`: no command '{words[0]}' (crucible has {string.Join(", ", root.Subcommands.Select(c => c.Name))})";
            yield break;
        }

        if (next < words.Count && command.Subcommands.Count > 0 && command.Arguments.Count == 0 && !IsSynopsisMark(words[next])
            && !words[next].StartsWith("--", StringComparison.Ordinal) && !words[next].StartsWith("[--", StringComparison.Ordinal))
        {
            yield return $"{invocation.Where}: `{invocation.Text}`: '{Path(root, command)}' has no sub-command '{words[next]}' "
                + $"(it has {string.Join(", ", command.Subcommands.Select(c => c.Name))})";
        }

        var accepted = Accepted(root, command);
        foreach (var option in words.Skip(next).SelectMany(OptionNames).Distinct(StringComparer.Ordinal))
        {
            if (!accepted.Contains(option))
            {
                yield return $"{invocation.Where}: `{invocation.Text}`: '{Path(root, command)}' has no option {option}";
            }
        }

        if (invocation.Complete)
        {
            foreach (var error in root.Parse(words.ToArray()).Errors)
            {
                yield return $"{invocation.Where}: `{invocation.Text}`: the CLI's parser refuses it: {error.Message}";
            }
        }
    }

    /// <summary>The path of a command (<c>audit verify</c>), or <c>crucible</c> for the root.</summary>
    public static string Path(Command root, Command command)
        => ReferenceEquals(root, command) ? "crucible" : string.Join(" ", Ancestors(root, command).Skip(1).Select(c => c.Name).Append(command.Name));

    /// <summary>
    /// The commands and options the CLI accepts that a markdown text does not describe: a command is described when
    /// an invocation names it or one of its sub-commands (<c>crucible audit verify</c>, <c>`audit verify`</c>; a lone
    /// <c>`train`</c> is not enough, it may be a JSON key); an option is described when it appears in a block of prose
    /// (<see cref="BlockNumbers"/>) or a code line that names its command, except an option whose meaning is each
    /// command's own (<see cref="OwnDescriptionOnly"/>: <c>--json</c>), which the command's own invocation or the prose
    /// right after its name must describe (<see cref="DescribedForItself"/>). Options of the root (<c>--verbose</c>)
    /// only need to appear somewhere. The parser's own help and version options are not listed.
    /// </summary>
    public static IReadOnlyList<string> Undescribed(Command root, string markdown, string source)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = BlockNumbers(lines);
        var blockText = new Dictionary<int, StringBuilder>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!blockText.TryGetValue(blocks[i], out var text)) blockText[blocks[i]] = text = new StringBuilder();
            text.Append(lines[i]).Append('\n');
        }

        var invocations = Extract(markdown, source, root);
        var missing = new List<string>();
        foreach (var option in root.Options.Where(o => !IsBuiltIn(o)))
        {
            if (!Mentions(markdown, option.Name)) missing.Add($"crucible {option.Name}");
        }

        foreach (var (path, command) in Commands(root))
        {
            var naming = invocations.Where(inv => inv.Explicit || inv.Words.Count > 1)
                .Select(inv => Resolve(root, inv.Words).Command).ToList();
            if (!naming.Any(c => ReferenceEquals(c, command) || Ancestors(root, c).Contains(command)))
            {
                missing.Add(path);
                continue;
            }

            var texts = invocations.Where(inv => ReferenceEquals(Resolve(root, inv.Words).Command, command))
                .Select(inv => blockText[inv.Block] + "\n" + inv.Text).Distinct(StringComparer.Ordinal).ToList();
            foreach (var option in command.Options.Where(o => !IsBuiltIn(o)))
            {
                bool described = OwnDescriptionOnly.Contains(option.Name)
                    ? DescribedForItself(root, command, option.Name, markdown, invocations)
                    : texts.Any(t => Mentions(t, option.Name));
                if (!described) missing.Add($"{path} {option.Name}");
            }
        }

        return missing;
    }

    /// <summary>
    /// Options whose meaning is each command's own (<c>--json</c>: every command prints its own document), so a shared
    /// line (<c>`train`, `generate` … `baseline --json` print one JSON document</c>) describes none of them but the one
    /// it writes the option with: such an option is described for a command only by <see cref="DescribedForItself"/>.
    /// </summary>
    public static readonly IReadOnlySet<string> OwnDescriptionOnly = new HashSet<string>(StringComparer.Ordinal) { "--json" };

    /// <summary>
    /// Whether <paramref name="option"/> is described for <paramref name="command"/> itself: an invocation of the command
    /// uses it (<c>crucible model list --json</c>, <c>`stress --json`</c>), or the prose names it after the command,
    /// with no other command named in between within the same block (<c>**`evaluate`** (`--json`: …</c>,
    /// <c>`crucible baseline …` writes …; `--json`: …</c>).
    /// </summary>
    public static bool DescribedForItself(Command root, Command command, string option, string markdown, IReadOnlyList<ReadmeInvocation>? invocations = null)
    {
        invocations ??= Extract(markdown, "README.md", root);
        if (invocations.Any(inv => ReferenceEquals(Resolve(root, inv.Words).Command, command)
                && inv.Words.Skip(Resolve(root, inv.Words).Next).SelectMany(OptionNames).Contains(option, StringComparer.Ordinal)))
        {
            return true;
        }

        var (prose, proseLine) = Prose(markdown);
        var blocks = BlockNumbers(markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'));
        var inline = invocations.Where(inv => inv.Offset >= 0).OrderBy(inv => inv.Offset).ToList();
        foreach (Match m in Regex.Matches(prose, "(?<![A-Za-z0-9-])" + Regex.Escape(option) + "(?![A-Za-z0-9-])", RegexOptions.CultureInvariant))
        {
            int block = blocks[proseLine[m.Index]];
            // the command named last before this mention, in its block (alternatives of one span all count)
            var before = inline.Where(inv => inv.Offset <= m.Index && inv.Block == block).ToList();
            if (before.Count == 0) continue;
            int last = before[^1].Offset;
            if (before.Where(inv => inv.Offset == last).Any(inv => ReferenceEquals(Resolve(root, inv.Words).Command, command))) return true;
        }

        return false;
    }

    /// <summary>
    /// The prose of a markdown text (fenced code lines replaced by empty lines) and the line of each of its characters:
    /// the text <see cref="Extract"/> reads inline code spans from, in the same coordinates as <see cref="ReadmeInvocation.Offset"/>.
    /// </summary>
    public static (string Prose, IReadOnlyList<int> Line) Prose(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var prose = new StringBuilder();
        var proseLine = new List<int>();
        bool fenced = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                prose.Append('\n');
                proseLine.Add(i);
                continue;
            }

            if (fenced) continue;
            prose.Append(lines[i]).Append('\n');
            proseLine.AddRange(Enumerable.Repeat(i, lines[i].Length + 1));
        }

        return (prose.ToString(), proseLine);
    }

    private static bool IsBuiltIn(Option option)
        => option is System.CommandLine.Help.HelpOption or VersionOption;

    /// <summary>The option names a word holds: <c>--a</c>, <c>[--a</c>, <c>--a=1</c>, <c>--a/--b</c>.</summary>
    public static IEnumerable<string> OptionNames(string word)
    {
        var w = word.TrimStart('[', '(');
        if (!w.StartsWith("--", StringComparison.Ordinal)) yield break;
        foreach (Match m in OptionWord().Matches(w))
        {
            // `--dp-…` abbreviates a family of options: not a name
            if (!m.Value.EndsWith('-')) yield return m.Value;
        }
    }

    /// <summary>Whether an option name appears in a text as a whole word (<c>--out</c> not in <c>--out-dir</c>).</summary>
    public static bool Mentions(string text, string option)
        => Regex.IsMatch(text, "(?<![A-Za-z0-9-])" + Regex.Escape(option) + "(?![A-Za-z0-9-])", RegexOptions.CultureInvariant);

    private static bool IsSynopsisMark(string word)
        => word.StartsWith('[') || word.EndsWith(']') || word == "|" || word.Contains('…', StringComparison.Ordinal)
            || word.Contains("...", StringComparison.Ordinal) || word.StartsWith('<');

    /// <summary>Splits a shell line into words (single and double quotes kept together, quotes removed).</summary>
    public static List<string> ShellWords(string line, bool stopAtOperators)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
                continue;
            }

            if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }

            if (stopAtOperators && !inWord && (c is '|' or ';' or '>' or '<' or '&' or '#'))
            {
                break;
            }

            if (stopAtOperators && !inWord && c == '2' && i + 1 < line.Length && line[i + 1] == '>') break;
            word.Append(c);
            inWord = true;
        }

        if (inWord) words.Add(word.ToString());
        return words;
    }

    // `crucible ` at the start of a code line or after a shell separator or an environment assignment, or the
    // `dotnet run … --project src/Crucible.Cli --` that builds and runs it
    [GeneratedRegex(@"(?:^|(?<=[\s;&|(]))(?:crucible|dotnet run\b[^\n]*?--project\s+src/Crucible\.Cli\s+--)\s+", RegexOptions.CultureInvariant)]
    private static partial Regex CodeStart();

    [GeneratedRegex(@"^(?:crucible|dotnet run\b.*?--project\s+src/Crucible\.Cli\s+--)\s+", RegexOptions.CultureInvariant)]
    private static partial Regex SpanStart();

    // an inline code span: one backtick each side, within a paragraph (no blank line inside)
    [GeneratedRegex(@"(?<!`)`(?!`)((?:[^`\n]|\n(?![ \t]*\n))+)`(?!`)", RegexOptions.CultureInvariant)]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"--[A-Za-z0-9][A-Za-z0-9-]*", RegexOptions.CultureInvariant)]
    private static partial Regex OptionWord();
}
