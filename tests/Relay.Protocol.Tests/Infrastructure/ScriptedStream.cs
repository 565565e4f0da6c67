using System.Text;

namespace Relay.Protocol.Tests.Infrastructure;

/// <summary>An upstream body that arrives in scripted pieces with pauses, or fails, like a real socket.</summary>
public sealed class ScriptedStream(IEnumerable<(string Text, TimeSpan Delay)> pieces, Exception? failAtEnd = null) : Stream
{
    private readonly Queue<(byte[] Bytes, TimeSpan Delay)> _pieces = new(pieces.Select(p => (Encoding.UTF8.GetBytes(p.Text), p.Delay)));
    private ReadOnlyMemory<byte> _current;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_current.IsEmpty)
        {
            if (!_pieces.TryDequeue(out var next))
            {
                return failAtEnd is null ? 0 : throw failAtEnd;
            }

            if (next.Delay > TimeSpan.Zero)
            {
                await Task.Delay(next.Delay, cancellationToken);
            }

            _current = next.Bytes;
        }

        var n = Math.Min(buffer.Length, _current.Length);
        _current.Span[..n].CopyTo(buffer.Span);
        _current = _current[n..];
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
