package io.floe.common.http;

import io.vertx.core.http.HttpConnection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps a listener's open HTTP connections across all its server instances (a node's {@code
 * http.max-connections}, the catalog service's {@code service.max-connections}): one over the cap
 * is closed at once, before it can send anything, so that a flood of idle or slow connections
 * cannot exhaust file descriptors and memory.
 */
public final class ConnectionLimit {
  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();

  public ConnectionLimit(int max) {
    this.max = max;
  }

  /** Admits or closes a new connection (a server's connection handler). */
  public void accept(HttpConnection connection) {
    if (open.incrementAndGet() > max) {
      open.decrementAndGet();
      refused.incrementAndGet();
      connection.close();
      return;
    }
    connection.closeHandler(v -> open.decrementAndGet());
  }

  public int open() {
    return open.get();
  }

  /** Connections closed at once because the cap was reached (a counter). */
  public long refused() {
    return refused.get();
  }
}
