package io.floe.node.event;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * One request's dead letters: the records it could not take, with the request's context, stored as
 * a single RocksDB value beside (in the same write as) the request's {@link EventBatch}.
 *
 * <pre>
 * u8   format version (1)
 * i64  ingest time, epoch microseconds
 * i32  record count
 * utf  stream, content type, principal (a token's name, never a secret), request id,
 *      idempotency key ("" = none)      -- utf: u16 length + UTF-8, as DataOutput writes it
 * i32  replay count (0: as received), utf replay of (the replayed dead letter's id, "" = none)
 * count x { utf code, utf detail (cut at 1 KiB), i32 line or element number,
 *           u8 truncated, i32 original length, i32 raw length, raw bytes }
 * </pre>
 *
 * Record i of a value whose key is sequence s has sequence s + i. The rare path: clarity over
 * allocation.
 */
public final class DeadLetterBatch {
  public static final byte FORMAT_VERSION = 1;

  /**
   * The error code of a replay's outcome row (one with a replay of) saying its dead letter became
   * events; any other code on such a row is the error it failed with again.
   */
  public static final String REPLAYED = "replayed";

  static final int MAX_DETAIL_CHARS = 1024;

  /** The request a dead letter came with. */
  public record Context(
      String stream,
      long ingestTimeMicros,
      String contentType,
      String principal,
      String requestId,
      String idempotencyKey,
      int replayCount,
      String replayOf) {}

  /** One bad record. */
  public record Record(
      String code,
      String detail,
      int position,
      boolean truncated,
      int originalLength,
      byte[] raw) {}

  private final Context context;
  private final List<Record> records;
  private final byte[] bytes;

  private DeadLetterBatch(Context context, List<Record> records, byte[] bytes) {
    this.context = context;
    this.records = List.copyOf(records);
    this.bytes = bytes;
  }

  public Context context() {
    return context;
  }

  public List<Record> records() {
    return records;
  }

  public int count() {
    return records.size();
  }

  public String stream() {
    return context.stream();
  }

  /** The encoded value. */
  public byte[] toByteArray() {
    return bytes;
  }

  public int sizeBytes() {
    return bytes.length;
  }

  public static DeadLetterBatch of(Context context, List<Record> records) {
    // written into an array of exactly the encoded size: nothing held beyond what was reserved
    ArrayOut buf = new ArrayOut(Math.toIntExact(encodedSize(context, records)));
    try (DataOutputStream out = new DataOutputStream(buf)) {
      out.writeByte(FORMAT_VERSION);
      out.writeLong(context.ingestTimeMicros());
      out.writeInt(records.size());
      out.writeUTF(context.stream());
      out.writeUTF(nonNull(context.contentType()));
      out.writeUTF(nonNull(context.principal()));
      out.writeUTF(nonNull(context.requestId()));
      out.writeUTF(nonNull(context.idempotencyKey()));
      out.writeInt(context.replayCount());
      out.writeUTF(nonNull(context.replayOf()));
      for (Record r : records) {
        out.writeUTF(r.code());
        out.writeUTF(r.detail());
        out.writeInt(r.position());
        out.writeBoolean(r.truncated());
        out.writeInt(r.originalLength());
        out.writeInt(r.raw().length);
        out.write(r.raw());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new DeadLetterBatch(context, records, buf.bytes());
  }

  /** The size in bytes of the value {@link #of} encodes for {@code context} and {@code records}. */
  public static long encodedSize(Context context, List<Record> records) {
    long size =
        1
            + 8
            + 4
            + utf(context.stream())
            + utf(nonNull(context.contentType()))
            + utf(nonNull(context.principal()))
            + utf(nonNull(context.requestId()))
            + utf(nonNull(context.idempotencyKey()))
            + 4
            + utf(nonNull(context.replayOf()));
    for (Record r : records) {
      size += utf(r.code()) + utf(r.detail()) + 4 + 1 + 4 + 4 + r.raw().length;
    }
    return size;
  }

  /**
   * What {@link DataOutputStream#writeUTF} writes for {@code s}: its length, then modified UTF-8.
   */
  private static long utf(String s) {
    long n = 2;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      n += c >= 0x01 && c <= 0x7f ? 1 : c <= 0x7ff ? 2 : 3;
    }
    return n;
  }

  /** An output stream into an array of a known size. */
  private static final class ArrayOut extends OutputStream {
    private final byte[] bytes;
    private int pos;

    ArrayOut(int size) {
      bytes = new byte[size];
    }

    @Override
    public void write(int b) {
      bytes[pos++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      System.arraycopy(b, off, bytes, pos, len);
      pos += len;
    }

    byte[] bytes() {
      if (pos != bytes.length) {
        throw new IllegalStateException("encoded " + pos + " of " + bytes.length + " bytes");
      }
      return bytes;
    }
  }

  /** Reads a stored value; throws {@link IllegalArgumentException} if it is not one. */
  public static DeadLetterBatch fromStored(byte[] value) {
    if (value.length < 13 || value[0] != FORMAT_VERSION) {
      throw new IllegalArgumentException("not a dead-letter batch of format " + FORMAT_VERSION);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      in.readByte();
      long ingest = in.readLong();
      int count = in.readInt();
      Context c =
          new Context(
              in.readUTF(),
              ingest,
              in.readUTF(),
              in.readUTF(),
              in.readUTF(),
              in.readUTF(),
              in.readInt(),
              in.readUTF());
      List<Record> records = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String code = in.readUTF();
        String detail = in.readUTF();
        int position = in.readInt();
        boolean truncated = in.readBoolean();
        int original = in.readInt();
        byte[] raw = new byte[in.readInt()];
        in.readFully(raw);
        records.add(new Record(code, detail, position, truncated, original, raw));
      }
      return new DeadLetterBatch(c, records, value);
    } catch (IOException e) {
      throw new IllegalArgumentException("a damaged dead-letter batch: " + e.getMessage(), e);
    }
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }

  /** Collects a request's bad records while it is decoded. */
  public static final class Builder {
    /** What a kept record takes in the heap besides its bytes and strings (objects, headers). */
    private static final int RECORD_OVERHEAD = 96;

    private final int maxRawBytes;
    private final LongPredicate reserve;
    private final List<Record> records = new ArrayList<>();
    private long bytes;
    private long held;

    /** {@code maxRawBytes}: a record's raw bytes beyond this are cut, and the record flagged. */
    public Builder(int maxRawBytes) {
      this(maxRawBytes, bytes -> true);
    }

    /**
     * As above, reserving each record's memory with {@code reserve} first (the request's in-flight
     * budget): a flood of bad records is refused as it grows, not once it has all been kept.
     */
    public Builder(int maxRawBytes, LongPredicate reserve) {
      this.maxRawBytes = maxRawBytes;
      this.reserve = reserve;
    }

    /**
     * Keeps one bad record: why ({@code code}, {@code detail}), where, and its bytes; false,
     * keeping nothing, when its memory cannot be reserved.
     */
    public boolean add(String code, String detail, int position, byte[] raw, int off, int len) {
      int kept = Math.min(len, maxRawBytes);
      String d =
          detail == null
              ? ""
              : detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) : detail;
      long memory = kept + 2L * (d.length() + code.length()) + RECORD_OVERHEAD;
      if (!reserve.test(memory)) {
        return false;
      }
      held += memory;
      byte[] copy = new byte[kept];
      System.arraycopy(raw, off, copy, 0, kept);
      records.add(new Record(code, d, position, kept < len, len, copy));
      bytes += kept + d.length() + code.length() + 24;
      return true;
    }

    /**
     * Keeps a record whose bytes were already cut when it was first kept: {@code kept} (cut again
     * here if this builder keeps fewer) of a record that was {@code originalLength} bytes long.
     */
    public boolean addCut(
        String code, String detail, int position, byte[] kept, int originalLength) {
      if (!add(code, detail, position, kept, 0, kept.length)) {
        return false;
      }
      Record r = records.remove(records.size() - 1);
      records.add(
          new Record(
              r.code(),
              r.detail(),
              r.position(),
              true,
              Math.max(originalLength, kept.length),
              r.raw()));
      return true;
    }

    public int count() {
      return records.size();
    }

    /** About what the records will take encoded (for budgets). */
    public long sizeBytes() {
      return bytes;
    }

    /**
     * What the kept records take in the heap, as reserved: they stay there, beside the encoded
     * value ({@link #encodedSize}), until the request is answered.
     */
    public long heldBytes() {
      return held;
    }

    /** The size of the value {@link #build} encodes for {@code context}: reserve it first. */
    public long encodedSize(Context context) {
      return DeadLetterBatch.encodedSize(context, records);
    }

    public List<Record> records() {
      return records;
    }

    public DeadLetterBatch build(Context context) {
      return DeadLetterBatch.of(context, records);
    }
  }
}
