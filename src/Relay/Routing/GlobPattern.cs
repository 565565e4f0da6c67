namespace Relay.Routing;

/// <summary>A model-name pattern where <c>*</c> matches any run of characters (case-sensitive, like model ids).</summary>
internal sealed class GlobPattern
{
    private readonly string[] _parts;

    public GlobPattern(string pattern)
    {
        _parts = pattern.Split('*');
        LiteralLength = pattern.Length - (_parts.Length - 1);
    }

    public int LiteralLength { get; }

    public bool IsMatch(string value)
    {
        var span = value.AsSpan();
        if (!span.StartsWith(_parts[0], StringComparison.Ordinal))
        {
            return false;
        }

        span = span[_parts[0].Length..];
        var last = _parts[^1];
        for (var i = 1; i < _parts.Length - 1; i++)
        {
            var at = span.IndexOf(_parts[i], StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            span = span[(at + _parts[i].Length)..];
        }

        return span.Length >= last.Length && span.EndsWith(last, StringComparison.Ordinal);
    }
}
