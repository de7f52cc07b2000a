package io.floe.node.buffer;

import io.floe.node.event.EventBatch;

/** Receives stored batches from {@link RocksBuffer#forEachBatch}; return false to stop. */
@FunctionalInterface
public interface BatchVisitor {
  boolean visit(long firstSequence, EventBatch batch);
}
