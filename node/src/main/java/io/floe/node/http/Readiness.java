package io.floe.node.http;

import java.util.Locale;

/** Whether the node takes writes now; shared by the ingestion route and {@code /health/ready}. */
@FunctionalInterface
public interface Readiness {
  /** Why writes are refused now, or null when they are taken. */
  NotReady notReady();

  /** The reasons a node refuses writes, each with what a refused client is told. */
  enum NotReady {
    /** Shutting down: another node takes the request now. */
    DRAINING("node is shutting down; send to another node", 1),
    /** Another process claimed the partition: this one never takes writes again. */
    FENCED("another process claimed this partition; this node no longer accepts writes", 5),
    /** The buffer budget is used until the flusher catches up. */
    BUFFER_FULL(
        "the buffer budget (buffer.max-bytes) is used; retry when the flusher has caught up", 5),
    /**
     * Events or dead letters acknowledged under a lost claim await an operator's salvage: see the
     * log.
     */
    SALVAGE_NEEDED(
        "this node holds events or dead letters acknowledged under a claim another process took; an"
            + " operator must"
            + " salvage them (see its log) before it takes writes again",
        30),
    /** A worker thread (buffer writer, flusher) died: the node takes nothing more and stops. */
    WORKER_DIED(
        "a worker of this node died (see its log); it is stopping: send to another node", 5),
    /**
     * Its last buffer write failed (a full disk, an I/O error): health says not ready so routers go
     * elsewhere, but writes are still tried, since RocksDB resumes once there is room.
     */
    STORAGE_FAILING(
        "the node's last buffer write failed (a full disk?); send to another node", 5, false);

    private final String explanation;
    private final int retryAfterSeconds;
    private final boolean refusesWrites;

    NotReady(String explanation, int retryAfterSeconds) {
      this(explanation, retryAfterSeconds, true);
    }

    NotReady(String explanation, int retryAfterSeconds, boolean refusesWrites) {
      this.explanation = explanation;
      this.retryAfterSeconds = retryAfterSeconds;
      this.refusesWrites = refusesWrites;
    }

    /** Whether ingestion is refused in this state (else only health reports it). */
    public boolean refusesWrites() {
      return refusesWrites;
    }

    /**
     * The label in responses and metrics: {@code draining}, {@code fenced}, {@code buffer_full}.
     */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public String explanation() {
      return explanation;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }
}
