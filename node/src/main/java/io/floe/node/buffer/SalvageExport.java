package io.floe.node.buffer;

import io.floe.node.event.EventBatchReader;
import java.io.IOException;
import java.io.OutputStream;
import org.rocksdb.RocksDBException;

/**
 * The operator's way out for events a stopped node acknowledged under a claim another process took:
 * writes them as NDJSON, one compact JSON object per line exactly as it was sent, then has the
 * buffer forget them ({@link RocksBuffer#forgetSalvaged}). Used by {@code SalvageMain}; the node
 * must not be running (RocksDB's lock sees to it).
 */
public final class SalvageExport {
  private SalvageExport() {}

  /**
   * Writes the events of {@code buffer} awaiting salvage to {@code out}, then empties the buffer
   * (what lies at or below the salvage mark was committed under the old claim) and forgets that
   * claim, so that the next start claims the partition afresh. Nothing is forgotten when writing
   * fails.
   *
   * @return the number of events written
   */
  public static long write(RocksBuffer buffer, OutputStream out)
      throws RocksDBException, IOException {
    synchronized (buffer) {
      long after = buffer.salvageAfter();
      if (after < 0) {
        return 0;
      }
      long[] events = {0};
      IOException[] failure = {null};
      buffer.forEachBatch(
          after,
          (first, batch) -> {
            EventBatchReader reader = batch.reader();
            try {
              while (reader.next()) {
                out.write(batch.array(), reader.payloadOffset(), reader.payloadLength());
                out.write('\n');
                events[0]++;
              }
              return true;
            } catch (IOException e) {
              failure[0] = e;
              return false;
            }
          });
      if (failure[0] != null) {
        throw failure[0];
      }
      out.flush();
      buffer.forgetSalvaged(after);
      return events[0];
    }
  }
}
