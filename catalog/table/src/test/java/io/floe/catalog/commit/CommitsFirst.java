package io.floe.catalog.commit;

import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;

/** Table operations that run {@code interloper} once, just before the next commit. */
final class CommitsFirst extends ForwardingTableOperations {
  Runnable interloper;

  CommitsFirst(TableOperations ops) {
    super(ops);
  }

  @Override
  public void commit(TableMetadata base, TableMetadata metadata) {
    Runnable first = interloper;
    interloper = null;
    if (first != null) {
      first.run();
    }
    ops.commit(base, metadata);
  }
}
