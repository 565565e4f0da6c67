using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Corrections;
using Relay.Protocol.Json;

namespace Relay.Protocol.Tests.Corrections;

public sealed class ProviderCorrectionsTests
{
    [Fact]
    public void OutputCap_TakesTheLowerOfLimitAndWindowLessInput()
    {
        var corrections = ProviderCorrections.None.With(RequestCorrection.MaxOutput(8192)).With(RequestCorrection.Context(16384, null));

        Assert.Equal(8192, corrections.OutputCap(32000, 1000));
        Assert.Equal(6384, corrections.OutputCap(32000, 10000));
        Assert.Null(corrections.OutputCap(4000, 1000)); // already within both
        Assert.Equal(8192, corrections.OutputCap(32000, 20000)); // input over the window: left for the provider to refuse
    }

    [Fact]
    public void With_ReplacesTheSameSlot_AndWithoutRemovesIt()
    {
        var corrections = ProviderCorrections.None.With(RequestCorrection.MaxOutput(8192)).With(RequestCorrection.MaxOutput(4096))
            .With(RequestCorrection.Drop("user")).With(RequestCorrection.Drop("store"));

        Assert.Equal(4096, corrections.MaxOutputTokens);
        Assert.Equal(3, corrections.Items.Count);
        Assert.True(corrections.Covers(RequestCorrection.MaxOutput(8192)));
        Assert.False(corrections.Covers(RequestCorrection.MaxOutput(2048)));
        Assert.Equal(["store"], corrections.Without(RequestCorrection.Drop("user")).DroppedParameters);
    }

    [Fact]
    public void TopLevelProperties_RemovesOnlyTheNamedMembers_KeepingOtherBytes()
    {
        var json = """{"model":"m", "user":"u" ,"messages":[{"role":"user","content":"keep \"user\": this"}],"store":true,"nested":{"user":1}}""";
        var output = new ArrayBufferWriter<byte>();

        Assert.True(TopLevelProperties.TryRemove(Encoding.UTF8.GetBytes(json), new HashSet<string> { "user", "store" }, output));

        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"keep \"user\": this"}],"nested":{"user":1}}""", text);
        using var parsed = JsonDocument.Parse(text);
        Assert.False(parsed.RootElement.TryGetProperty("user", out _));
    }

    [Fact]
    public void TopLevelProperties_Rewrite_ReplacesInPlace_AddsAtTheEnd_Removes_AndKeepsTheRest()
    {
        const string json = """{ "model" : "client-name", "messages":[{"role":"user","content":"a \u00e9"}],"store":true,"stream":true}""";
        var output = new ArrayBufferWriter<byte>();

        TopLevelProperties.Rewrite(Encoding.UTF8.GetBytes(json), new HashSet<string> { "store" },
            new Dictionary<string, byte[]> { ["model"] = "\"upstream-name\""u8.ToArray(), ["stream_options"] = """{"include_usage":true}"""u8.ToArray() }, output);

        Assert.Equal("""{"model" : "upstream-name","messages":[{"role":"user","content":"a \u00e9"}],"stream":true,"stream_options":{"include_usage":true}}""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void TopLevelProperties_WritesNothingWhenNoneIsPresent() =>
        Assert.False(TopLevelProperties.TryRemove("""{"model":"m"}"""u8, new HashSet<string> { "user" }, new ArrayBufferWriter<byte>()));
}
