package io.floe.node.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of requests being received, decoded or written. A request that would take it over the
 * limit is refused with 503 instead of being queued, so memory stays bounded under any load.
 */
public final class InflightBudget {
  private final long maxBytes;
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();

  public InflightBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Reserves {@code bytes}, or returns false when that would exceed the budget. */
  public boolean tryAcquire(long bytes) {
    while (true) {
      long current = used.get();
      if (current + bytes > maxBytes) {
        return false;
      }
      if (used.compareAndSet(current, current + bytes)) {
        requests.incrementAndGet();
        return true;
      }
    }
  }

  public void release(long bytes) {
    used.addAndGet(-bytes);
    requests.decrementAndGet();
  }

  public long usedBytes() {
    return used.get();
  }

  /** Requests holding a reservation. */
  public long requests() {
    return requests.get();
  }

  public long maxBytes() {
    return maxBytes;
  }
}
