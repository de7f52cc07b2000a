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
    BUFFER_FULL("the buffer budget (buffer.max-bytes) is used; retry when the flusher has caught up", 5),
    /** Events acknowledged under a lost claim await an operator's salvage: see the log. */
    SALVAGE_NEEDED("this node holds events acknowledged under a claim another process took; an operator must"
        + " salvage them (see its log) before it takes writes again", 30),
    /** A worker thread (buffer writer, flusher) died: the node takes nothing more and stops. */
    WORKER_DIED("a worker of this node died (see its log); it is stopping: send to another node", 5);

    private final String explanation;
    private final int retryAfterSeconds;

    NotReady(String explanation, int retryAfterSeconds) {
      this.explanation = explanation;
      this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The label in responses and metrics: {@code draining}, {@code fenced}, {@code buffer_full}. */
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
