package io.floe.node.buffer;

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
 */
final class IdempotencyIndex {
  /** What a key was answered: the sequences, the request's fingerprint, when. */
  record Entry(long firstSequence, long lastSequence, long fingerprint, long createdMillis) {}

  private final int maxKeys;
  private final long retentionMillis;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

  IdempotencyIndex(int maxKeys, long retentionMillis) {
    this.maxKeys = maxKeys;
    this.retentionMillis = retentionMillis;
  }

  /** The remembered entry of {@code key}, unless it has expired by {@code nowMillis}. */
  Entry get(String key, long nowMillis) {
    Entry e = entries.get(key);
    return e == null || nowMillis - e.createdMillis() > retentionMillis ? null : e;
  }

  void put(String key, Entry entry) {
    entries.remove(key);
    entries.put(key, entry);
  }

  void remove(String key) {
    entries.remove(key);
  }

  /**
   * Forgets keys past the age or beyond the count (oldest first); returns them, to delete from
   * storage.
   */
  List<String> evict(long nowMillis) {
    List<String> out = new ArrayList<>();
    Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Entry> e = it.next();
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
