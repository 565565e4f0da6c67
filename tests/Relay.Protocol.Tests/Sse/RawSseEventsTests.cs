using System.Text;
using Relay.Protocol.Sse;

namespace Relay.Protocol.Tests.Sse;

public sealed class RawSseEventsTests
{
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void TryFindEnd_FindsEachWholeEvent_WhateverTheLineEnds(string nl)
    {
        var first = $"data: {{\"a\":1}}{nl}{nl}";
        var second = $": keep-alive{nl}data: {{\"b\":2}}{nl}{nl}";
        var bytes = Encoding.UTF8.GetBytes(first + second + "data: {\"c\"");

        Assert.True(RawSseEvents.TryFindEnd(bytes, out var firstLength));
        Assert.Equal(first, Encoding.UTF8.GetString(bytes, 0, firstLength));
        Assert.True(RawSseEvents.TryFindEnd(bytes.AsSpan(firstLength), out var secondLength));
        Assert.Equal(second, Encoding.UTF8.GetString(bytes, firstLength, secondLength));
        Assert.False(RawSseEvents.TryFindEnd(bytes.AsSpan(firstLength + secondLength), out _));
    }

    [Fact]
    public void TryFindEnd_ACrAtTheEnd_WaitsForTheNextByte()
    {
        Assert.False(RawSseEvents.TryFindEnd("data: x\r\n\r"u8, out _));
        Assert.True(RawSseEvents.TryFindEnd("data: x\r\n\r\n"u8, out var length));
        Assert.Equal(11, length);
    }

    [Fact]
    public void TryGetData_ReadsTheDataLine_WithOrWithoutTheSpace()
    {
        Assert.True(RawSseEvents.TryGetData(": c\ndata: [DONE]\n\n"u8, out var done));
        Assert.Equal("[DONE]", Encoding.UTF8.GetString(done));
        Assert.True(RawSseEvents.TryGetData("data:{}\r\n\r\n"u8, out var tight));
        Assert.Equal("{}", Encoding.UTF8.GetString(tight));
        Assert.False(RawSseEvents.TryGetData(": only a comment\n\n"u8, out _));
    }
}
