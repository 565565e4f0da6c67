using System.Security.Cryptography;
using System.Text;

namespace Relay.Auth;

/// <summary>Relay's client keys: <c>sk-relay-</c> plus 43 random base62 characters (256 bits).</summary>
/// <remarks>Keys are random and long, so a plain SHA-256 is the right stored form: a slow password hash adds
/// nothing against guessing 256 bits and would cost every request.</remarks>
internal static class ApiKeys
{
    public const string Prefix = "sk-relay-";
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int RandomLength = 43;

    public static string Generate()
    {
        return Prefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Enough of a key to recognise it in a list, never enough to use it.</summary>
    public static string DisplayPrefix(string key) => key.Length <= Prefix.Length + 4 ? Prefix + "…" : key[..(Prefix.Length + 4)] + "…";

    /// <summary>Masks any secret for printing: the first few characters, then its length.</summary>
    public static string Mask(string secret) =>
        secret.Length <= 8 ? new string('*', secret.Length) : $"{secret[..Math.Min(12, secret.Length / 3)]}…({secret.Length} chars)";
}
