using Spectre.Console;

namespace Relay.Cli;

/// <summary>Spectre.Console bound to the command's output writer, so tables render the same in a terminal and in tests.</summary>
internal static class TableOutput
{
    /// <param name="pipedWidth">The width when the output is not a terminal: wide enough that rows stay whole.</param>
    public static IAnsiConsole For(TextWriter writer, int pipedWidth = 200)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = writer == Console.Out ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = writer == Console.Out ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (writer != Console.Out || Console.IsOutputRedirected)
        {
            // Piped output has no terminal width; keep rows whole for grep and scripts.
            console.Profile.Width = pipedWidth;
        }

        return console;
    }
}
