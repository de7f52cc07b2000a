package io.floe.node.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * One request's events in the compact binary layout that is stored as a single RocksDB value.
 *
 * <pre>
 * u8      format version (1)
 * i64     ingest time, epoch microseconds
 * i32     event count
 * varint  stream name length, stream name (UTF-8)
 * count x { i64 event time (epoch micros), varint key length + 1 (0 = no key), key,
 *           varint payload length, payload (compact JSON, UTF-8) }
 * </pre>
 *
 * Sequences are not stored: event i of a batch whose key is sequence s has sequence s + i.
 */
public final class EventBatch {
  public static final byte FORMAT_VERSION = 1;
  static final int COUNT_OFFSET = 1 + 8;

  private final byte[] bytes;
  private final int length;
  private final int count;
  private final String stream;
  private final long ingestTimeMicros;

  EventBatch(byte[] bytes, int length, int count, String stream, long ingestTimeMicros) {
    this.bytes = bytes;
    this.length = length;
    this.count = count;
    this.stream = stream;
    this.ingestTimeMicros = ingestTimeMicros;
  }

  /** Wraps a stored value; throws {@link IllegalArgumentException} if it is not a batch. */
  public static EventBatch fromStored(byte[] value) {
    if (value.length < COUNT_OFFSET + 5 || value[0] != FORMAT_VERSION) {
      throw new IllegalArgumentException("not an event batch of format " + FORMAT_VERSION);
    }
    EventBatchReader reader = new EventBatchReader(value, value.length);
    return new EventBatch(
        value, value.length, reader.count(), reader.stream(), reader.ingestTimeMicros());
  }

  public int count() {
    return count;
  }

  public String stream() {
    return stream;
  }

  /** When the node accepted the batch, epoch microseconds. */
  public long ingestTimeMicros() {
    return ingestTimeMicros;
  }

  /** The array the encoded bytes live in (offsets from {@link EventBatchReader} index into it). */
  public byte[] array() {
    return bytes;
  }

  /** Encoded size in bytes. */
  public int sizeBytes() {
    return length;
  }

  /**
   * The bytes the batch holds in the heap until it is written: its array, which a builder leaves
   * longer than {@link #sizeBytes()}.
   */
  public int capacityBytes() {
    return bytes.length;
  }

  /** The encoded bytes, exactly {@link #sizeBytes()} long. */
  public byte[] toByteArray() {
    return length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
  }

  /** A reader over the events, positioned before the first. */
  public EventBatchReader reader() {
    return new EventBatchReader(bytes, length);
  }

  /** Accumulates events into the binary layout without per-event objects. */
  public static final class Builder {
    private byte[] buf;
    private int pos;
    private int count;
    private final String stream;
    private final long ingestTimeMicros;
    private final LongConsumer grow;

    public Builder(String stream, long ingestTimeMicros, int initialCapacity) {
      this(stream, ingestTimeMicros, initialCapacity, bytes -> {});
    }

    /**
     * As above, telling {@code grow} the bytes each growth of the buffer adds before it allocates
     * them (the buffer doubles, so it is told rarely, never per event); {@code grow} refuses a
     * growth by throwing, which {@link #add} passes on. The initial capacity is the caller's to
     * reserve: the buffer is always exactly {@link #capacityBytes()} long.
     */
    public Builder(String stream, long ingestTimeMicros, int initialCapacity, LongConsumer grow) {
      this.stream = stream;
      this.ingestTimeMicros = ingestTimeMicros;
      this.grow = grow;
      this.buf = new byte[Math.max(64, initialCapacity)];
      buf[pos++] = FORMAT_VERSION;
      writeLong(ingestTimeMicros);
      writeInt(0);
      byte[] name = stream.getBytes(StandardCharsets.UTF_8);
      writeVarint(name.length);
      write(name, 0, name.length);
    }

    /** Appends one event; {@code key} may be null. */
    public void add(long eventTimeMicros, byte[] key, byte[] payload, int off, int len) {
      writeLong(eventTimeMicros);
      if (key == null) {
        writeVarint(0);
      } else {
        writeVarint(key.length + 1);
        write(key, 0, key.length);
      }
      writeVarint(len);
      write(payload, off, len);
      count++;
    }

    public int count() {
      return count;
    }

    public int sizeBytes() {
      return pos;
    }

    /** The bytes the buffer takes in the heap: what the batch holds until it is written. */
    public int capacityBytes() {
      return buf.length;
    }

    public EventBatch build() {
      buf[COUNT_OFFSET] = (byte) (count >>> 24);
      buf[COUNT_OFFSET + 1] = (byte) (count >>> 16);
      buf[COUNT_OFFSET + 2] = (byte) (count >>> 8);
      buf[COUNT_OFFSET + 3] = (byte) count;
      return new EventBatch(buf, pos, count, stream, ingestTimeMicros);
    }

    private void ensure(int extra) {
      if (pos + extra > buf.length) {
        growFor(extra);
      }
    }

    /** Doubles the buffer (or more, for {@code extra}), telling {@code grow} first: rarely run. */
    private void growFor(int extra) {
      int grown = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * buf.length, pos + extra));
      grow.accept(grown - buf.length);
      buf = Arrays.copyOf(buf, grown);
    }

    private void write(byte[] src, int off, int len) {
      ensure(len);
      System.arraycopy(src, off, buf, pos, len);
      pos += len;
    }

    private void writeLong(long v) {
      ensure(8);
      for (int shift = 56; shift >= 0; shift -= 8) {
        buf[pos++] = (byte) (v >>> shift);
      }
    }

    private void writeInt(int v) {
      ensure(4);
      for (int shift = 24; shift >= 0; shift -= 8) {
        buf[pos++] = (byte) (v >>> shift);
      }
    }

    private void writeVarint(int v) {
      ensure(5);
      while ((v & ~0x7F) != 0) {
        buf[pos++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
    }
  }
}
