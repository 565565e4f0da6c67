using Relay.Protocol.Text;

namespace Relay.Protocol.Tests.Text;

public sealed class ClientTextTests
{
    [Theory]
    [InlineData("claude-sonnet-4-6")]
    [InlineData("模型-é-😀")]
    [InlineData("")]
    public void Shorten_OrdinaryText_IsTheSameString(string text)
    {
        Assert.Same(text, ClientText.Shorten(text));
    }

    [Fact]
    public void Shorten_LongText_KeepsMaxLengthCharactersAndAnEllipsis()
    {
        var exact = new string('m', ClientText.MaxLength);

        Assert.Equal(exact + "…", ClientText.Shorten(new string('m', 10_000_000)));
        Assert.Same(exact, ClientText.Shorten(exact));
    }

    [Theory]
    [InlineData("\u001b[31mred\u001b[0m", "\\u001b[31mred\\u001b[0m")]
    [InlineData("a\r\nb\t", "a\\u000d\\u000ab\\u0009")]
    [InlineData("x\u009by\u007f", "x\\u009by\\u007f")]
    [InlineData("evil\u202Etxt.exe", "evil\\u202etxt.exe")]
    [InlineData("line\u2028sep", "line\\u2028sep")]
    public void Shorten_ControlAndInvisibleCharacters_AreEscaped(string text, string expected)
    {
        Assert.Equal(expected, ClientText.Shorten(text));
    }

    [Fact]
    public void Shorten_LoneSurrogate_IsEscaped()
    {
        Assert.Equal("lone\\ud800 pair😀", ClientText.Shorten("lone\ud800 pair\ud83d\ude00"));
    }
}
