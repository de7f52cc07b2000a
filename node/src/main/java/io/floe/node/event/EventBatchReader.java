package io.floe.node.event;

import java.nio.charset.StandardCharsets;

/**
 * Cursor over the events of an encoded {@link EventBatch}. Accessors return views into the
 * underlying array (offset and length), so reading allocates nothing per event.
 */
public final class EventBatchReader {
  private final byte[] buf;
  private final int limit;
  private final long ingestTimeMicros;
  private final int count;
  private final String stream;
  private int pos;
  private int index = -1;

  private long eventTimeMicros;
  private int keyOffset;
  private int keyLength;
  private int payloadOffset;
  private int payloadLength;

  EventBatchReader(byte[] buf, int limit) {
    this.buf = buf;
    this.limit = limit;
    this.pos = 1;
    this.ingestTimeMicros = readLong();
    this.count = readInt();
    int nameLength = readVarint();
    checkAvailable(nameLength);
    this.stream = new String(buf, pos, nameLength, StandardCharsets.UTF_8);
    pos += nameLength;
  }

  public long ingestTimeMicros() {
    return ingestTimeMicros;
  }

  public int count() {
    return count;
  }

  public String stream() {
    return stream;
  }

  /** Moves to the next event; false after the last. */
  public boolean next() {
    if (index + 1 >= count) {
      return false;
    }
    index++;
    eventTimeMicros = readLong();
    int k = readVarint();
    if (k == 0) {
      keyOffset = -1;
      keyLength = 0;
    } else {
      keyLength = k - 1;
      checkAvailable(keyLength);
      keyOffset = pos;
      pos += keyLength;
    }
    payloadLength = readVarint();
    checkAvailable(payloadLength);
    payloadOffset = pos;
    pos += payloadLength;
    return true;
  }

  /** Index of the current event within the batch (0-based). */
  public int index() {
    return index;
  }

  public long eventTimeMicros() {
    return eventTimeMicros;
  }

  public boolean hasKey() {
    return keyOffset >= 0;
  }

  /** The key as a string, or null; allocates. */
  public String key() {
    return keyOffset < 0 ? null : new String(buf, keyOffset, keyLength, StandardCharsets.UTF_8);
  }

  /** Offset of the key's UTF-8 bytes in {@link EventBatch#array()}, or -1 when it has none. */
  public int keyOffset() {
    return keyOffset;
  }

  public int keyLength() {
    return keyLength;
  }

  /** Offset of the payload in {@link EventBatch#array()}. */
  public int payloadOffset() {
    return payloadOffset;
  }

  public int payloadLength() {
    return payloadLength;
  }

  /** The payload as a string; allocates. */
  public String payload() {
    return new String(buf, payloadOffset, payloadLength, StandardCharsets.UTF_8);
  }

  private void checkAvailable(int n) {
    if (n < 0 || pos + n > limit) {
      throw new IllegalArgumentException("corrupt event batch at byte " + pos);
    }
  }

  private long readLong() {
    checkAvailable(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (buf[pos++] & 0xFF);
    }
    return v;
  }

  private int readInt() {
    checkAvailable(4);
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (buf[pos++] & 0xFF);
    }
    return v;
  }

  private int readVarint() {
    int v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      checkAvailable(1);
      byte b = buf[pos++];
      v |= (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("corrupt varint at byte " + pos);
  }
}
