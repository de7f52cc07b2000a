package io.floe.node.flush;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points in a flush (and in the claim before it) where crash tests stop the node. A test arms one
 * with the JVM system property {@value #PROPERTY} (e.g. {@code
 * -Dfloe.test.fault-point=after-upload}); at that point the flusher logs {@code fault point
 * reached: <name>} and hangs until the process is killed. It is not a setting: production
 * configuration cannot arm it.
 */
public enum FaultPoint {
  NONE,
  /** Some rows written to a file that is not closed: an upload in progress. */
  MID_UPLOAD,
  /** Files complete on S3, nothing committed. */
  AFTER_UPLOAD,
  /** Committed to the table, not yet deleted from RocksDB. */
  AFTER_COMMIT,
  /** At start: the partition claimed in the table, the claim not yet recorded in the buffer. */
  AFTER_CLAIM,
  /** Dead-letter files complete on S3 (the round's events committed), nothing committed. */
  DEAD_LETTERS_AFTER_UPLOAD,
  /** Dead letters committed to their table, not yet deleted from RocksDB. */
  DEAD_LETTERS_AFTER_COMMIT;

  /** The system property that arms a fault point in a test process. */
  public static final String PROPERTY = "floe.test.fault-point";

  private static final Logger LOG = LoggerFactory.getLogger(FaultPoint.class);
  private static final FaultPoint ARMED = armed(System.getProperty(PROPERTY));

  private static FaultPoint armed(String name) {
    if (name == null || name.isBlank()) {
      return NONE;
    }
    FaultPoint point = valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    LOG.warn("test fault point armed: {} (the flusher hangs there)", name);
    return point;
  }

  /** The name a test passes in {@value #PROPERTY}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Hangs forever when {@code this} is the armed point. */
  void reach() {
    if (this != ARMED || this == NONE) {
      return;
    }
    LOG.warn("fault point reached: {}", label());
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
