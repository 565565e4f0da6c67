using Relay.Protocol.Anthropic;

namespace Relay.Protocol.Tests.Anthropic;

public sealed class TokenUsageTests
{
    [Fact]
    public void Apply_FieldsPresent_OverrideOnlyThoseFields()
    {
        var usage = new TokenUsage(InputTokens: 10, OutputTokens: 1, CacheCreationInputTokens: 20, CacheReadInputTokens: 30);

        usage.Apply(new UsageFields { OutputTokens = 50, CacheReadInputTokens = 0 });

        Assert.Equal(new TokenUsage(InputTokens: 10, OutputTokens: 50, CacheCreationInputTokens: 20, CacheReadInputTokens: 0), usage);
    }

    [Fact]
    public void Apply_AllFieldsPresent_AllReplaced()
    {
        var usage = new TokenUsage(1, 2, 3, 4);

        usage.Apply(new UsageFields { InputTokens = 5, OutputTokens = 6, CacheCreationInputTokens = 7, CacheReadInputTokens = 8 });

        Assert.Equal(new TokenUsage(5, 6, 7, 8), usage);
    }

    [Fact]
    public void Apply_NoFields_NothingChanges()
    {
        var usage = new TokenUsage(1, 2, 3, 4);

        usage.Apply(default);

        Assert.Equal(new TokenUsage(1, 2, 3, 4), usage);
    }

    [Theory]
    [InlineData(0L, null, null, null, true)]
    [InlineData(null, 0L, null, null, true)]
    [InlineData(null, null, 0L, null, true)]
    [InlineData(null, null, null, 0L, true)]
    [InlineData(null, null, null, null, false)]
    public void HasAny_AnyFieldPresentEvenZero_True(long? input, long? output, long? creation, long? read, bool expected)
    {
        var fields = new UsageFields { InputTokens = input, OutputTokens = output, CacheCreationInputTokens = creation, CacheReadInputTokens = read };

        Assert.Equal(expected, fields.HasAny);
    }
}
