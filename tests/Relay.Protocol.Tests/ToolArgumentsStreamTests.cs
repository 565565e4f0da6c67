using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Protocol.Translation;

namespace Relay.Protocol.Tests;

/// <summary>The incremental prefix validator behind streamed tool arguments: what it forwards per fragment, what it
/// holds back, and how it completes.</summary>
public sealed class ToolArgumentsStreamTests
{
    private const string Rich = """
        {"file_path":"src/a.cs","content":"line 1\n\t\"quoted\" \\ café \u00e9 \ud83d\ude00 😀 你好","n":-12.5e+3,"z":0,"list":[1,true,false,null,{"k":[]},{}],"empty":"","nested":{"deep":{"deeper":[[],[{}]]}}}
        """;

    [Fact]
    public void ValidObject_FedOneCharacterAtATime_IsForwardedWholeAndUnchanged()
    {
        var (pieces, completion, outcome) = Feed([.. Rich.Select(c => c.ToString())]);

        Assert.Equal(Rich, string.Concat(pieces));
        Assert.Equal("", completion);
        Assert.Equal(ToolArgumentsOutcome.Valid, outcome);
    }

    [Fact]
    public void EveryPrefix_IsForwardedAsFarAsItCanGo_AndCompletesToAnObject()
    {
        for (var cut = 0; cut <= Rich.Length; cut++)
        {
            var (pieces, completion, _) = Feed(Rich[..cut]);
            var forwarded = string.Concat(pieces);

            Assert.StartsWith(forwarded, Rich, StringComparison.Ordinal);
            var whole = forwarded + completion;
            Assert.True(JsonNode.Parse(whole) is JsonObject, $"cut {cut}: {whole}");
        }
    }

    [Fact]
    public void InsideAStringValue_EveryCharacterGoesOutAtOnce()
    {
        var (pieces, _, _) = Feed("""{"content":"Hello""", " wor", "ld");

        Assert.Equal(["""{"content":"Hello""", " wor", "ld"], pieces);
    }

    [Fact]
    public void CommaAndKey_AreHeldUntilTheValueBegins()
    {
        var (pieces, _, _) = Feed("""{"a":1""", ",", "\"b\"", ":", " ", "\"", "x\"}");

        Assert.Equal(["""{"a":1""", "", "", "", "", ",\"b\": \"", "x\"}"], pieces);
    }

    [Fact]
    public void UnicodeEscapeSplitAcrossFragments_IsHeldUntilComplete()
    {
        var (pieces, completion, outcome) = Feed("""{"s":"caf""", "\\", "u00", "e9", """ ok"}""");

        Assert.Equal(["""{"s":"caf""", "", "", "\\u00e9", """ ok"}"""], pieces);
        Assert.Equal(("", ToolArgumentsOutcome.Valid), (completion, outcome));
        Assert.Equal("café ok", Parse(pieces, completion)["s"]!.GetValue<string>());
    }

    [Fact]
    public void SurrogatePairEscapeSplitAcrossFragments_GoesOutAsOnePair()
    {
        var (pieces, completion, _) = Feed("""{"e":"x""", "\\ud83d", "\\ude00", "\"}");

        Assert.Equal(["""{"e":"x""", "", "\\ud83d\\ude00", "\"}"], pieces);
        Assert.Equal("x😀", Parse(pieces, completion)["e"]!.GetValue<string>());
    }

    [Fact]
    public void RawSurrogatePairSplitAcrossFragments_GoesOutAsOnePair()
    {
        var emoji = "😀";
        var (pieces, _, _) = Feed("{\"e\":\"a" + emoji[0], emoji[1] + "\"}");

        Assert.Equal(["{\"e\":\"a", emoji + "\"}"], pieces);
    }

    [Fact]
    public void NumberSplitAcrossFragments_IsForwardedWheneverItCouldEnd()
    {
        var (pieces, completion, outcome) = Feed("""{"n":-""", "12", ".", "5e", "+3", "}");

        Assert.Equal(["{", "\"n\":-12", "", ".5", "e+3", "}"], pieces);
        Assert.Equal(ToolArgumentsOutcome.Valid, outcome);
        Assert.Equal(-12.5e3, Parse(pieces, completion)["n"]!.GetValue<double>());
    }

    [Fact]
    public void LiteralSplitAcrossFragments_IsHeldUntilComplete()
    {
        var (pieces, completion, _) = Feed("""{"ok":tr""", "ue,\"no\":nu", "ll}");

        Assert.Equal(["{", "\"ok\":true", ",\"no\":null}"], pieces);
        Assert.Equal("""{"ok":true,"no":null}""", string.Concat(pieces) + completion);
    }

    [Theory]
    [InlineData("""{"command": "ls -la", "descr""", """{"command": "ls -la"}""")]
    [InlineData("""{"command": "ls -la", "description":""", """{"command": "ls -la"}""")]
    [InlineData("""{"content":"abc""", """{"content":"abc"}""")]
    [InlineData("""{"content":"ab\""", """{"content":"ab"}""")]
    [InlineData("""{"content":"ab\u00""", """{"content":"ab"}""")]
    [InlineData("""{"a":[1,2,""", """{"a":[1,2]}""")]
    [InlineData("""{"a":{"b":[{"c":tru""", """{"a":{"b":[{}]}}""")]
    [InlineData("""{"n":12.""", """{"n":12}""")]
    [InlineData("{", "{}")]
    public void EndedEarly_IsClosedAsTheRepairWould(string truncated, string expected)
    {
        var (pieces, completion, outcome) = Feed(truncated);

        Assert.Equal(expected, string.Concat(pieces) + completion);
        Assert.Equal(ToolArgumentsOutcome.Repaired, outcome);
    }

    [Fact]
    public void RepeatedFullObject_TheCopyIsHeldBackAndDropped()
    {
        var (pieces, completion, outcome) = Feed("""{"a":1}""", """{"a":1}""");

        Assert.Equal(["""{"a":1}""", ""], pieces);
        Assert.Equal(("", ToolArgumentsOutcome.Repaired), (completion, outcome));
    }

    [Fact]
    public void TrailingWhitespace_IsNotARepair()
    {
        var (_, completion, outcome) = Feed("""{"a":1}""", " \n");

        Assert.Equal(("", ToolArgumentsOutcome.Valid), (completion, outcome));
    }

    [Fact]
    public void GarbageAfterAValidPrefix_IsHeldBack_AndReportedToTheModel()
    {
        var (pieces, completion, outcome) = Feed("""{"path":"a.txt",""", "oops }");

        Assert.Equal(["{\"path\":\"a.txt\"", ""], pieces);
        Assert.Equal(ToolArgumentsOutcome.Invalid, outcome);
        var input = Parse(pieces, completion);
        Assert.Equal("a.txt", input["path"]!.GetValue<string>());
        Assert.Equal(",oops }", input[ToolArguments.InvalidKey]!.GetValue<string>());
    }

    [Fact]
    public void GarbageInsideANestedValue_ClosesItAndReportsTheRest()
    {
        var (pieces, completion, outcome) = Feed("""{"a":{"b":[1""", " x");

        Assert.Equal(ToolArgumentsOutcome.Invalid, outcome);
        var input = Parse(pieces, completion);
        Assert.Equal(1, input["a"]!["b"]![0]!.GetValue<int>());
        Assert.Equal("x", input[ToolArguments.InvalidKey]!.GetValue<string>());
    }

    [Fact]
    public void GarbageRightAfterTheOpeningBrace_ReportsWithoutALeadingComma()
    {
        var (pieces, completion, outcome) = Feed("{", "command=ls");

        Assert.Equal(ToolArgumentsOutcome.Invalid, outcome);
        Assert.Equal("""{"_relay_invalid_arguments":"command=ls"}""", string.Concat(pieces) + completion);
    }

    [Theory]
    [InlineData("```json\n{\"a\":1}\n```")]
    [InlineData("Here you go: {\"a\":1}")]
    [InlineData("\"{\\\"a\\\":1}\"")]
    [InlineData("command=ls")]
    [InlineData("[1,2]")]
    [InlineData("")]
    [InlineData("   ")]
    public void NotStartingWithAnObject_NothingIsForwarded_AndTheWholeTextIsRepairedAtTheEnd(string raw)
    {
        var (pieces, completion, outcome) = Feed([.. raw.Chunk(3).Select(c => new string(c))]);

        Assert.All(pieces, p => Assert.Equal("", p));
        Assert.Equal(ToolArguments.Normalize(raw, out var expectedOutcome), completion);
        Assert.Equal(expectedOutcome, outcome);
    }

    [Fact]
    public void RawControlCharactersInAString_AreForwardedEscaped()
    {
        var (pieces, completion, outcome) = Feed("{\"c\":\"line1\nline2", "\tend\"}");

        Assert.Equal(["{\"c\":\"line1\\nline2", "\\tend\"}"], pieces);
        Assert.Equal(ToolArgumentsOutcome.Repaired, outcome);
        Assert.Equal("line1\nline2\tend", Parse(pieces, completion)["c"]!.GetValue<string>());
    }

    [Fact]
    public void RawControlCharacterInAKey_DoesNotHoldBackWhatWasAlreadyValid()
    {
        var (pieces, completion, outcome) = Feed("{", "\"a\":1,\"b\n", "\" oops");

        Assert.Equal(["{", "\"a\":1", ""], pieces);
        Assert.Equal(ToolArgumentsOutcome.Invalid, outcome);
        var input = Parse(pieces, completion);
        Assert.Equal(1, input["a"]!.GetValue<int>());
        Assert.Equal(",\"b\\n\" oops", input[ToolArguments.InvalidKey]!.GetValue<string>());
    }

    [Fact]
    public void LeadingWhitespace_GoesOutWithTheBrace()
    {
        var (pieces, _, outcome) = Feed("  ", "\n{", "}");

        Assert.Equal(["", "  \n{", "}"], pieces);
        Assert.Equal(ToolArgumentsOutcome.Valid, outcome);
    }

    [Fact]
    public void LongInput_InManyFragments_IsLinear()
    {
        // A 4 MB file written in 64 KB fragments: re-parsing the accumulated text per fragment would take minutes.
        var stream = new ToolArgumentsStream();
        var forward = new ArrayBufferWriter<char>();
        stream.Append("{\"content\":\"", forward);
        var fragment = new string('x', 64 * 1024);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 64; i++)
        {
            stream.Append(fragment, forward);
        }

        stream.Append("\"}", forward);
        Assert.Equal(64 * 64 * 1024 + 14, forward.WrittenCount);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), watch.Elapsed.ToString());
    }

    [Fact]
    public void RandomObjects_CutDamagedAndSplitAnywhere_AlwaysEndAsValidObjects()
    {
        const string Noise = "{}[]\",:\\ \nxtfu0-.e+\u00e9";
        var relaxed = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        for (var seed = 0; seed < 2000; seed++)
        {
            var random = new Random(seed);
            var json = RandomObject(random, 0).ToJsonString(random.Next(2) == 0 ? relaxed : null);
            var damage = random.Next(4);
            var text = damage switch
            {
                0 => json,
                1 => json[..random.Next(json.Length)],
                2 => json.Insert(random.Next(json.Length), Noise[random.Next(Noise.Length)].ToString()),
                _ => json.Remove(random.Next(json.Length), 1),
            };
            if (HasLoneSurrogate(text))
            {
                continue; // half a surrogate pair cut off: not text a provider's JSON string can hold
            }

            var fragments = new List<string>();
            for (var at = 0; at < text.Length;)
            {
                var length = Math.Min(text.Length - at, random.Next(1, 12));
                fragments.Add(text.Substring(at, length));
                at += length;
            }

            var (pieces, completion, outcome) = Feed([.. fragments]);

            var whole = string.Concat(pieces) + completion;
            var parsed = JsonNode.Parse(whole);
            Assert.True(parsed is JsonObject, $"seed {seed}: {text} -> {whole}");
            if (damage == 0)
            {
                Assert.Equal((json, ToolArgumentsOutcome.Valid), (whole, outcome));
            }
        }
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly string[] StringPieces = ["a", "b", " ", "\"", "\\", "\n", "\t", "/", "é", "😀", "你", "\u0001"];

    private static JsonObject RandomObject(Random random, int depth)
    {
        var result = new JsonObject();
        for (var i = random.Next(depth == 0 ? 1 : 0, 4); i > 0; i--)
        {
            result[$"k{i}{(random.Next(3) == 0 ? "é\\\"" : "")}"] = RandomValue(random, depth + 1);
        }

        return result;
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 3 ? 5 : 7) switch
    {
        0 => JsonValue.Create(random.Next(-1000, 1000)),
        1 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-5, 25))),
        2 => JsonValue.Create(random.Next(2) == 0),
        3 => null,
        4 => JsonValue.Create(string.Concat(Enumerable.Range(0, random.Next(12)).Select(_ => StringPieces[random.Next(StringPieces.Length)]))),
        5 => RandomObject(random, depth),
        _ => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1))]),
    };

    private static (List<string> Pieces, string Completion, ToolArgumentsOutcome Outcome) Feed(params string[] fragments)
    {
        var stream = new ToolArgumentsStream();
        var pieces = new List<string>();
        var forward = new ArrayBufferWriter<char>();
        foreach (var fragment in fragments)
        {
            forward.ResetWrittenCount();
            stream.Append(fragment, forward);
            pieces.Add(new string(forward.WrittenSpan));
        }

        var completion = stream.Finish(out var outcome);
        return (pieces, completion, outcome);
    }

    private static JsonObject Parse(List<string> pieces, string completion)
    {
        var node = JsonNode.Parse(string.Concat(pieces) + completion, documentOptions: new JsonDocumentOptions());
        return Assert.IsType<JsonObject>(node);
    }
}
