package io.floe.node.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of requests being received, decoded or written. A request that would take it over the limit
 * is refused with 503 instead of being queued, so memory stays bounded under any load.
 */
public final class InflightBudget {
  private final long maxBytes;
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();

  public InflightBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * Reserves {@code bytes} for a new request, or returns false when that would exceed the budget.
   */
  public boolean tryAcquire(long bytes) {
    if (!take(bytes)) {
      return false;
    }
    requests.incrementAndGet();
    return true;
  }

  private boolean take(long bytes) {
    while (true) {
      long current = used.get();
      if (current + bytes > maxBytes) {
        return false;
      }
      if (used.compareAndSet(current, current + bytes)) {
        return true;
      }
    }
  }

  public void release(long bytes) {
    used.addAndGet(-bytes);
    requests.decrementAndGet();
  }

  /**
   * A request's reservation, grown while its body is decoded and released once when it is answered.
   */
  public final class Reservation {
    private long bytes;

    private Reservation(long bytes) {
      this.bytes = bytes;
    }

    /**
     * Reserves {@code more} for this request, or returns false when that would exceed the budget.
     */
    public boolean grow(long more) {
      if (!take(more)) {
        return false;
      }
      bytes += more;
      return true;
    }

    /** Gives back what is above {@code keep} (a decompression buffer that is garbage now). */
    public void shrinkTo(long keep) {
      if (bytes > keep) {
        used.addAndGet(keep - bytes);
        bytes = keep;
      }
    }

    public long bytes() {
      return bytes;
    }

    /** Releases everything; call once. */
    public void release() {
      InflightBudget.this.release(bytes);
      bytes = 0;
    }
  }

  /**
   * A reservation of {@code bytes} for a new request, or null when that would exceed the budget.
   */
  public Reservation reserve(long bytes) {
    return tryAcquire(bytes) ? new Reservation(bytes) : null;
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
