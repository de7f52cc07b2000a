package io.floe.node.buffer;

/** What became of one batch handed to {@link RocksBuffer#append}. */
public enum Outcome {
  /** Written now. */
  WRITTEN,
  /**
   * Its idempotency key was seen with the same request: not written again, the original sequences.
   */
  REPLAYED,
  /** Its idempotency key was seen with a different request: refused, nothing written. */
  KEY_REUSED
}
