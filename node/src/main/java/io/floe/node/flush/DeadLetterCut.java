package io.floe.node.flush;

import io.floe.node.buffer.RocksBuffer;
import io.floe.node.event.DeadLetterBatch;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksDBException;

/**
 * The dead letters one flush takes: whole batches above the buffer's dead-letter watermark; the
 * commit covers the sequences {@code (after, through]}, of which the events are the other table's.
 */
record DeadLetterCut(
    long after,
    long through,
    List<Long> firstSequences,
    List<DeadLetterBatch> batches,
    long bytes,
    int rows) {

  /**
   * Reads dead-letter batches above the buffer's watermark, up to {@code maxBytes} (at least one).
   */
  static DeadLetterCut read(RocksBuffer buffer, long maxBytes) throws RocksDBException {
    long after = buffer.deadLettersCommitted();
    List<Long> firsts = new ArrayList<>();
    List<DeadLetterBatch> batches = new ArrayList<>();
    long[] bytes = {0};
    long[] through = {after};
    int[] rows = {0};
    buffer.forEachDeadLetters(
        after,
        (first, batch) -> {
          if (!batches.isEmpty() && bytes[0] + batch.sizeBytes() > maxBytes) {
            return false;
          }
          firsts.add(first);
          batches.add(batch);
          bytes[0] += batch.sizeBytes();
          rows[0] += batch.count();
          through[0] = first + batch.count() - 1;
          return true;
        });
    return new DeadLetterCut(after, through[0], firsts, batches, bytes[0], rows[0]);
  }

  boolean isEmpty() {
    return batches.isEmpty();
  }
}
