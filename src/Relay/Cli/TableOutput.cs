using Spectre.Console;

namespace Relay.Cli;

/// <summary>Spectre.Console bound to the command's output writer, so tables render the same in a terminal and in tests.</summary>
internal static class TableOutput
{
    public static IAnsiConsole For(TextWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = writer == Console.Out ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = writer == Console.Out ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
}
