package io.floe.node.flush;

import io.floe.node.buffer.RocksBuffer;
import io.floe.node.event.EventBatch;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksDBException;

/**
 * The batches one flush takes: whole batches covering exactly the sequences {@code (after,
 * through]}.
 */
record FlushCut(
    long after,
    long through,
    List<Long> firstSequences,
    List<EventBatch> batches,
    long bytes,
    int events) {

  /** Reads batches above the buffer's committed sequence, up to {@code maxBytes} (at least one). */
  static FlushCut read(RocksBuffer buffer, long maxBytes) throws RocksDBException {
    long after = buffer.committedSequence();
    List<Long> firsts = new ArrayList<>();
    List<EventBatch> batches = new ArrayList<>();
    long[] bytes = {0};
    long[] through = {after};
    int[] events = {0};
    buffer.forEachBatch(
        after,
        (first, batch) -> {
          if (!batches.isEmpty() && bytes[0] + batch.sizeBytes() > maxBytes) {
            return false;
          }
          firsts.add(first);
          batches.add(batch);
          bytes[0] += batch.sizeBytes();
          events[0] += batch.count();
          through[0] = first + batch.count() - 1;
          return true;
        });
    return new FlushCut(after, through[0], firsts, batches, bytes[0], events[0]);
  }

  boolean isEmpty() {
    return batches.isEmpty();
  }
}
