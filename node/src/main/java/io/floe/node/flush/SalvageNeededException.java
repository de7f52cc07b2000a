package io.floe.node.flush;

/**
 * This node's buffer holds events or dead letters it acknowledged under a claim that another
 * process has since taken, and that were never committed: claiming again would bury them (their
 * sequences now belong to the other process's events and dead letters). The node stays up, refuses
 * writes, and waits for an operator to run {@code io.floe.node.SalvageMain} (scripts/salvage).
 */
public final class SalvageNeededException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SalvageNeededException(String message) {
    super(message);
  }
}
