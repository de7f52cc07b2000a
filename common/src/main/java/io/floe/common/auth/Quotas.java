package io.floe.common.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Per-token rate limits: an events/s and a bytes/s token bucket for each token name that has a
 * quota ({@code events-per-second=} and {@code bytes-per-second=} on its token file line). A bucket
 * holds at most one second of its rate; a request is let in while both buckets are above zero and
 * then charged what it carried, so one large request may overdraw them and the next ones wait (429
 * with Retry-After) until they refill. Limits hold per process: each router (and each node a
 * producer reaches directly) enforces them on what passes through it.
 */
public final class Quotas {
  /** A token's rates; 0 is unlimited. */
  public record Quota(double eventsPerSecond, double bytesPerSecond) {
    public static final Quota NONE = new Quota(0, 0);

    public boolean unlimited() {
      return eventsPerSecond <= 0 && bytesPerSecond <= 0;
    }
  }

  private final Map<String, Buckets> byName = new ConcurrentHashMap<>();
  private final BiConsumer<String, String> throttled;

  /**
   * @param throttled told (token name, "events" or "bytes") each time a request is refused
   */
  public Quotas(BiConsumer<String, String> throttled) {
    this.throttled = throttled;
  }

  /** 0 when {@code p} may send now, else the whole seconds until it may. */
  public long admit(Principal p) {
    if (p.quota().unlimited()) {
      return 0;
    }
    Buckets b =
        byName.compute(
            p.name(),
            (k, old) -> old != null && old.quota.equals(p.quota()) ? old : new Buckets(p.quota()));
    return b.admit(p.name(), throttled);
  }

  /** Charges what an accepted request carried to the token of that name (no-op without a quota). */
  public void charge(String name, long events, long bytes) {
    Buckets b = name == null ? null : byName.get(name);
    if (b != null) {
      b.charge(events, bytes);
    }
  }

  private static final class Buckets {
    final Quota quota;
    private double events;
    private double bytes;
    private long at = System.nanoTime();

    Buckets(Quota quota) {
      this.quota = quota;
      this.events = quota.eventsPerSecond();
      this.bytes = quota.bytesPerSecond();
    }

    synchronized long admit(String name, BiConsumer<String, String> throttled) {
      refill();
      double wait = 0;
      String kind = null;
      if (quota.eventsPerSecond() > 0 && events <= 0) {
        wait = -events / quota.eventsPerSecond();
        kind = "events";
      }
      if (quota.bytesPerSecond() > 0 && bytes <= 0 && -bytes / quota.bytesPerSecond() >= wait) {
        wait = -bytes / quota.bytesPerSecond();
        kind = "bytes";
      }
      if (kind == null) {
        return 0;
      }
      throttled.accept(name, kind);
      return Math.max(1, (long) Math.ceil(wait));
    }

    synchronized void charge(long e, long b) {
      refill();
      events -= e;
      bytes -= b;
    }

    private void refill() {
      long now = System.nanoTime();
      double seconds = (now - at) / 1e9;
      at = now;
      events = Math.min(quota.eventsPerSecond(), events + seconds * quota.eventsPerSecond());
      bytes = Math.min(quota.bytesPerSecond(), bytes + seconds * quota.bytesPerSecond());
    }
  }
}
