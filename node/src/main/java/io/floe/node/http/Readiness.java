package io.floe.node.http;

/** Whether the node takes writes now; shared by the ingestion route and {@code /health/ready}. */
@FunctionalInterface
public interface Readiness {
  /** Why writes are refused now ({@code draining}, {@code fenced}, {@code buffer_full}), or null. */
  String notReadyReason();

  /** What a refused client is told for a reason. */
  static String explain(String reason) {
    return switch (reason) {
      case "draining" -> "node is shutting down; send to another node";
      case "fenced" -> "another process claimed this partition; this node no longer accepts writes";
      case "buffer_full" -> "the buffer budget (buffer.max-bytes) is used; retry when the flusher has caught up";
      default -> reason;
    };
  }
}
