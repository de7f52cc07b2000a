package io.floe.node.buffer;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The idempotency keys a partition remembers, oldest first, each with the acknowledgement it was
 * given and a fingerprint of its request: bounded by count and by age. The buffer keeps it in step
 * with RocksDB (same WriteBatch as the events); this class only decides. Not thread-safe: the
 * buffer's writer lock guards it.
 *
 * <p>A key is remembered under its {@link Slot}: the producer's, the stream's and its own name. A
 * node before per-producer keys remembered the bare key with a CRC-based fingerprint; such a key
 * keeps that meaning (any producer's request with the key, matched by that fingerprint) until it
 * expires like any other, within {@code idempotency.retention-seconds} of the upgrade, so that a
 * retry across the upgrade is still stored once.
 */
final class IdempotencyIndex {
  /** What a key is remembered under; an older node's bare key has no producer and no stream. */
  record Slot(String producer, String stream, String key) {
    static Slot of(IdempotencyKey k) {
      return new Slot(k.producer(), k.stream(), k.key());
    }

    static Slot legacy(String key) {
      return new Slot(null, null, key);
    }

    boolean isLegacy() {
      return producer == null;
    }
  }

  /**
   * What a key was answered: the sequences, the request's fingerprints (its events', and the
   * request's as received: null in an entry stored before nodes kept it), when, and (for a request
   * with dead letters) how many and the answer's reasons (null: none).
   */
  record Entry(
      long firstSequence,
      long lastSequence,
      byte[] fingerprint,
      byte[] requestFingerprint,
      long createdMillis,
      int deadLettered,
      byte[] reasons) {
    Entry(long firstSequence, long lastSequence, byte[] fingerprint, long createdMillis) {
      this(firstSequence, lastSequence, fingerprint, null, createdMillis, 0, null);
    }

    /** Whether {@code key} names the request this entry was stored for. */
    boolean sameRequest(IdempotencyKey key) {
      return equal(fingerprint, key.fingerprint())
          || equal(requestFingerprint, key.requestFingerprint());
    }

    private static boolean equal(byte[] stored, byte[] now) {
      return stored != null && now != null && MessageDigest.isEqual(stored, now);
    }
  }

  /** A remembered key's entry, and whether the request now is the one it was given for. */
  record Match(Entry entry, boolean sameRequest) {}

  private final int maxKeys;
  private final long retentionMillis;
  private final LinkedHashMap<Slot, Entry> entries = new LinkedHashMap<>();

  IdempotencyIndex(int maxKeys, long retentionMillis) {
    this.maxKeys = maxKeys;
    this.retentionMillis = retentionMillis;
  }

  /**
   * What is remembered of {@code key} by {@code nowMillis}: its own entry, else an older node's
   * entry of the bare key; null when neither is.
   */
  Match match(IdempotencyKey key, long nowMillis) {
    Entry own = get(Slot.of(key), nowMillis);
    if (own != null) {
      return new Match(own, own.sameRequest(key));
    }
    Entry legacy = get(Slot.legacy(key.key()), nowMillis);
    if (legacy != null) {
      return new Match(
          legacy,
          MessageDigest.isEqual(legacy.fingerprint(), legacyBytes(key.legacyFingerprint())));
    }
    return null;
  }

  /** An older node's 64-bit fingerprint as an entry holds it. */
  static byte[] legacyBytes(long fingerprint) {
    return ByteBuffer.allocate(8).putLong(fingerprint).array();
  }

  private Entry get(Slot slot, long nowMillis) {
    Entry e = entries.get(slot);
    return e == null || nowMillis - e.createdMillis() > retentionMillis ? null : e;
  }

  void put(Slot slot, Entry entry) {
    entries.remove(slot);
    entries.put(slot, entry);
  }

  void remove(Slot slot) {
    entries.remove(slot);
  }

  /**
   * Forgets keys past the age or beyond the count (oldest first); returns them, to delete from
   * storage.
   */
  List<Slot> evict(long nowMillis) {
    List<Slot> out = new ArrayList<>();
    Iterator<Map.Entry<Slot, Entry>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Slot, Entry> e = it.next();
      if (entries.size() > maxKeys || nowMillis - e.getValue().createdMillis() > retentionMillis) {
        out.add(e.getKey());
        it.remove();
      } else {
        break;
      }
    }
    return out;
  }

  int size() {
    return entries.size();
  }
}
