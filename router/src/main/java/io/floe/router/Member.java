package io.floe.router;

import java.util.concurrent.atomic.AtomicInteger;

/** One node as the router sees it: address, health, requests in flight. */
final class Member {
  final RouterConfig.NodeAddress address;
  final String id;
  final long hashSeed;
  final AtomicInteger inflight = new AtomicInteger();
  private volatile boolean healthy;
  private int failedChecks;

  Member(RouterConfig.NodeAddress address) {
    this.address = address;
    this.id = address.toString();
    this.hashSeed = Rendezvous.hash64(id);
  }

  boolean healthy() {
    return healthy;
  }

  /** Result of an active check; {@code threshold} consecutive failures take the node out. */
  synchronized boolean checked(boolean ok, int threshold) {
    boolean before = healthy;
    if (ok) {
      failedChecks = 0;
      healthy = true;
    } else if (++failedChecks >= threshold) {
      healthy = false;
    }
    return before != healthy;
  }

  /** Passive marking: a connection to the node could not be opened. */
  synchronized void connectFailed() {
    healthy = false;
    failedChecks = Math.max(failedChecks, 1);
  }
}
