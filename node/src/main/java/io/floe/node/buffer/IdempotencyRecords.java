package io.floe.node.buffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * How {@link RocksBuffer} stores a remembered idempotency key, in two forms:
 *
 * <pre>
 * 0x03 u16 producer length, producer, u16 stream length, stream, key (UTF-8)
 *      -> u8 0xF2, i64 first sequence, i64 last sequence, i64 created millis,
 *         SHA-256 fingerprint of the events (32), SHA-256 fingerprint of the request (32)
 *         [i32 dead letters, the answer's reasons (UTF-8 JSON)]  -- only when it had dead letters
 *      or, as a node before request fingerprints stored it, read only:
 *      -> i64 first sequence, i64 last sequence, i64 created millis, SHA-256 fingerprint (32)
 *         [i32 dead letters, the answer's reasons (UTF-8 JSON)]
 * 0x02 key (UTF-8)  -- as a node before per-producer keys stored it, read and deleted only
 *      -> i64 first sequence, i64 last sequence, i64 CRC-based fingerprint, i64 created millis
 * </pre>
 *
 * Both prefixes sort after the batches' ({@code 0x01}), so scans of batches never meet them. The
 * older value of {@code 0x03} starts with a sequence (its first byte 0: sequences stay far below
 * 2^56), so the leading {@code 0xF2} tells the two apart. A node of an earlier version does not
 * read the newer value: after a downgrade, its keys stored by the newer version must have expired
 * ({@code idempotency.retention-seconds}) before retries under them are answered correctly.
 */
final class IdempotencyRecords {
  private IdempotencyRecords() {}

  static final byte LEGACY = 0x02;

  /** A SHA-256 fingerprint's length. */
  private static final int FINGERPRINT_BYTES = 32;

  static final byte PRODUCER = 0x03;

  /** The first byte of a {@link #PRODUCER} value that holds the request's fingerprint too. */
  private static final byte WITH_REQUEST = (byte) 0xF2;

  /** Where the records start and end, for a scan: {@code [FIRST, END)}. */
  static final byte FIRST = LEGACY;

  static final byte END = PRODUCER + 1;

  static byte[] key(IdempotencyIndex.Slot slot) {
    byte[] key = slot.key().getBytes(StandardCharsets.UTF_8);
    if (slot.isLegacy()) {
      return ByteBuffer.allocate(1 + key.length).put(LEGACY).put(key).array();
    }
    byte[] producer = slot.producer().getBytes(StandardCharsets.UTF_8);
    byte[] stream = slot.stream().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(1 + 2 + producer.length + 2 + stream.length + key.length)
        .put(PRODUCER)
        .putShort((short) producer.length)
        .put(producer)
        .putShort((short) stream.length)
        .put(stream)
        .put(key)
        .array();
  }

  /** The value of a new entry (never one in the older form: those are only read). */
  static byte[] value(IdempotencyIndex.Entry entry) {
    byte[] reasons = entry.deadLettered() == 0 ? null : entry.reasons();
    ByteBuffer b =
        ByteBuffer.allocate(
                1
                    + 8
                    + 8
                    + 8
                    + FINGERPRINT_BYTES
                    + FINGERPRINT_BYTES
                    + (entry.deadLettered() == 0 ? 0 : 4 + reasons.length))
            .put(WITH_REQUEST)
            .putLong(entry.firstSequence())
            .putLong(entry.lastSequence())
            .putLong(entry.createdMillis())
            .put(entry.fingerprint(), 0, FINGERPRINT_BYTES)
            .put(entry.requestFingerprint(), 0, FINGERPRINT_BYTES);
    if (entry.deadLettered() > 0) {
      b.putInt(entry.deadLettered()).put(reasons);
    }
    return b.array();
  }

  /** A stored record, either form; throws {@link IllegalArgumentException} for anything else. */
  static Map.Entry<IdempotencyIndex.Slot, IdempotencyIndex.Entry> read(byte[] key, byte[] value) {
    ByteBuffer k = ByteBuffer.wrap(key);
    ByteBuffer v = ByteBuffer.wrap(value);
    byte form = k.get();
    if (form == LEGACY && value.length == 32) {
      long first = v.getLong();
      long last = v.getLong();
      byte[] fingerprint = IdempotencyIndex.legacyBytes(v.getLong());
      return Map.entry(
          IdempotencyIndex.Slot.legacy(utf8(k, k.remaining())),
          new IdempotencyIndex.Entry(first, last, fingerprint, v.getLong()));
    }
    boolean withRequest = value.length > 0 && value[0] == WITH_REQUEST;
    if (form == PRODUCER && value.length >= (withRequest ? 1 + 24 + 2 * FINGERPRINT_BYTES : 25)) {
      String producer = utf8(k, k.getShort() & 0xFFFF);
      String stream = utf8(k, k.getShort() & 0xFFFF);
      IdempotencyIndex.Slot slot =
          new IdempotencyIndex.Slot(producer, stream, utf8(k, k.remaining()));
      if (withRequest) {
        v.get();
      }
      long first = v.getLong();
      long last = v.getLong();
      long created = v.getLong();
      byte[] fingerprint = new byte[Math.min(v.remaining(), FINGERPRINT_BYTES)];
      v.get(fingerprint);
      byte[] requestFingerprint = null;
      if (withRequest) {
        requestFingerprint = new byte[FINGERPRINT_BYTES];
        v.get(requestFingerprint);
      }
      int dead = 0;
      byte[] reasons = null;
      if (v.remaining() >= 4) {
        dead = v.getInt();
        reasons = new byte[v.remaining()];
        v.get(reasons);
      }
      return Map.entry(
          slot,
          new IdempotencyIndex.Entry(
              first, last, fingerprint, requestFingerprint, created, dead, reasons));
    }
    throw new IllegalArgumentException(
        "not an idempotency record: key of " + key.length + " bytes, value of " + value.length);
  }

  private static String utf8(ByteBuffer b, int length) {
    String s = new String(b.array(), b.position(), length, StandardCharsets.UTF_8);
    b.position(b.position() + length);
    return s;
  }
}
