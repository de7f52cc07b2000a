package io.floe.node.flush;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points in a flush where crash tests stop the node ({@code flush.fault-point}); at the configured
 * point the flusher logs {@code fault point reached: <name>} and hangs until the process is killed.
 * Never set in production.
 */
public enum FaultPoint {
  NONE,
  /** Some rows written to a file that is not closed: an upload in progress. */
  MID_UPLOAD,
  /** Files complete on S3, nothing committed. */
  AFTER_UPLOAD,
  /** Committed to the table, not yet deleted from RocksDB. */
  AFTER_COMMIT;

  private static final Logger LOG = LoggerFactory.getLogger(FaultPoint.class);

  /** Hangs forever when {@code this} is the configured point. */
  void reach(FaultPoint configured) {
    if (this != configured || this == NONE) {
      return;
    }
    LOG.warn("fault point reached: {}", name().toLowerCase(Locale.ROOT).replace('_', '-'));
    while (true) {
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted at fault point " + this);
      }
    }
  }
}
