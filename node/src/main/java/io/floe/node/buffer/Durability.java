package io.floe.node.buffer;

/** When an acknowledged batch is considered safe. */
public enum Durability {
  /** The WAL is fsynced before the acknowledgement; concurrent requests share one fsync. */
  SYNC,
  /** The WAL is written but not fsynced: survives a process crash, not a power loss. */
  ASYNC,
  /** No WAL at all: a crash loses the memtable. Benchmarks only. */
  NONE
}
