package io.floe.router;

import java.util.concurrent.atomic.AtomicInteger;

/** One node as the router sees it: address, health, requests in flight. */
final class Member {
  final RouterConfig.NodeAddress address;
  final String id;

  /** The node's own input to rendezvous hashing, fixed for its id. */
  final long hashSeed;

  final AtomicInteger inflight = new AtomicInteger();

  /** The partition the node reported in its last health answer, or -1 before the first. */
  volatile int partition = -1;

  private volatile boolean healthy;
  private boolean everHealthy;
  private int failedChecks;
  private int passedChecks;

  /**
   * @param hashSeed what the balancing policy derives from the node's id ({@code
   *     address.toString()}) to rank it for a key
   */
  Member(RouterConfig.NodeAddress address, long hashSeed) {
    this.address = address;
    this.id = address.toString();
    this.hashSeed = hashSeed;
  }

  boolean healthy() {
    return healthy;
  }

  /**
   * Result of an active check, with hysteresis so that a node hovering at its limit (a full buffer
   * that drains and fills) does not flap: {@code unhealthyAfter} consecutive failures take it out,
   * and once out it needs {@code healthyAfter} consecutive passes to come back. A node never yet
   * healthy (just started, just added) comes in on its first pass.
   *
   * @return whether the node's health changed
   */
  synchronized boolean checked(boolean ok, int unhealthyAfter, int healthyAfter) {
    boolean before = healthy;
    if (ok) {
      failedChecks = 0;
      passedChecks++;
      if (!healthy && (!everHealthy || passedChecks >= healthyAfter)) {
        healthy = true;
        everHealthy = true;
      }
    } else {
      passedChecks = 0;
      if (++failedChecks >= unhealthyAfter) {
        healthy = false;
      }
    }
    return before != healthy;
  }

  /** Passive marking: a connection to the node could not be opened. */
  synchronized void connectFailed() {
    healthy = false;
    passedChecks = 0;
    failedChecks = Math.max(failedChecks, 1);
  }
}
