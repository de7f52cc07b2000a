package io.floe.common.auth;

import io.floe.common.config.Settings;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * What each token may take of a process (a router, or a node producers reach directly), so that no
 * producer starves the others:
 *
 * <ul>
 *   <li>at most {@value #MAX_CONCURRENT_REQUESTS} requests in flight at once (one limit for every
 *       token): slow or many parallel bodies of one token cannot hold every connection;
 *   <li>an events/s and a bytes/s token bucket for each token that has a quota ({@code
 *       events-per-second=} and {@code bytes-per-second=} on its token file line). A bucket holds
 *       at most one second of its rate; a request is let in while both buckets are above zero.
 * </ul>
 *
 * A request's declared body (Content-Length) is charged to its bytes bucket as it is let in, so
 * parallel requests cannot all pass on the same credit; when it ends, the charge becomes the bytes
 * it actually sent (a request refused before its body was read costs nothing). Its events are
 * charged once stored. One large request may overdraw a bucket; the next ones wait (429 with
 * Retry-After) until it refills. Limits hold per process: behind M routers a producer may get up to
 * M times its rate. With {@code auth.disabled=true} every caller is the same {@link
 * Principal#ANONYMOUS}, so nothing is limited.
 */
public final class Quotas {
  /** Requests one token may have in flight at once, in this process. */
  public static final String MAX_CONCURRENT_REQUESTS = "auth.max-concurrent-requests";

  /** Well below a router's 64 connections per node: four tokens at their limit leave room. */
  public static final int MAX_CONCURRENT_REQUESTS_DEFAULT = 16;

  /** A token's rates; 0 is unlimited. */
  public record Quota(double eventsPerSecond, double bytesPerSecond) {
    public static final Quota NONE = new Quota(0, 0);

    public boolean unlimited() {
      return eventsPerSecond <= 0 && bytesPerSecond <= 0;
    }
  }

  private final int maxConcurrent;
  private final Map<String, Tenant> byName = new ConcurrentHashMap<>();
  private final BiConsumer<String, String> throttled;

  /**
   * @param maxConcurrent requests in flight one token may have ({@link #maxConcurrentRequests})
   * @param throttled told (token name, "concurrency", "events" or "bytes") each time a request is
   *     refused
   */
  public Quotas(int maxConcurrent, BiConsumer<String, String> throttled) {
    this.maxConcurrent = maxConcurrent;
    this.throttled = throttled;
  }

  /** The setting {@link #MAX_CONCURRENT_REQUESTS}, validated. */
  public static int maxConcurrentRequests(Settings s) {
    return s.intValue(MAX_CONCURRENT_REQUESTS, MAX_CONCURRENT_REQUESTS_DEFAULT, 1, 1_000_000);
  }

  /**
   * Lets a request of {@code p} in, or refuses it.
   *
   * @param declaredBytes its body's Content-Length, or -1 when it declared none (chunked)
   * @return what to tell when the request was stored ({@link Admission#stored}) and when it ended
   *     ({@link Admission#end}, exactly once, however it ended)
   * @throws AuthException 429 when {@code p} has {@link #MAX_CONCURRENT_REQUESTS} in flight or a
   *     bucket is used up
   */
  public Admission admit(Principal p, long declaredBytes) {
    if (p == Principal.ANONYMOUS) {
      return Admission.NONE;
    }
    return byName.computeIfAbsent(p.name(), k -> new Tenant()).admit(p, Math.max(0, declaredBytes));
  }

  /** A request that was let in. */
  public static final class Admission {
    /** Nothing to count: with authentication disabled. */
    static final Admission NONE = new Admission(null, 0);

    private final Tenant tenant;
    private final long reservedBytes;
    private final AtomicBoolean stored = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();

    private Admission(Tenant tenant, long reservedBytes) {
      this.tenant = tenant;
      this.reservedBytes = reservedBytes;
    }

    /**
     * The request's {@code events} were stored: they are charged now, before its answer goes out,
     * so that the producer's next request sees them. Only the first call counts.
     */
    public void stored(long events) {
      if (tenant != null && stored.compareAndSet(false, true)) {
        tenant.charge(events, 0);
      }
    }

    /**
     * The request ended (answered, or its connection closed) having sent {@code bytesReceived} of
     * its body: that replaces the reservation, and its slot is free. Only the first call counts.
     */
    public void end(long bytesReceived) {
      if (tenant != null && ended.compareAndSet(false, true)) {
        tenant.end(bytesReceived - reservedBytes);
      }
    }
  }

  /** One token's requests in flight and, when it has a quota, its buckets; one lock for both. */
  private final class Tenant {
    private int inflight;
    private Buckets buckets;

    synchronized Admission admit(Principal p, long declaredBytes) {
      if (inflight >= maxConcurrent) {
        throttled.accept(p.name(), "concurrency");
        throw AuthException.tooManyAtOnce(p, maxConcurrent);
      }
      Quota quota = p.quota();
      if (quota.unlimited()) {
        buckets = null;
      } else if (buckets == null || !buckets.quota.equals(quota)) {
        buckets = new Buckets(quota); // new, or changed in the token file
      }
      if (buckets != null) {
        String kind = buckets.exhausted();
        if (kind != null) {
          throttled.accept(p.name(), kind);
          throw AuthException.overQuota(p, buckets.waitSeconds());
        }
        buckets.charge(0, declaredBytes);
      }
      inflight++;
      return new Admission(this, declaredBytes);
    }

    synchronized void charge(long events, long bytes) {
      if (buckets != null) {
        buckets.charge(events, bytes);
      }
    }

    synchronized void end(long moreBytes) {
      inflight--;
      charge(0, moreBytes);
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

    /** "events" or "bytes" when that bucket is used up (the one that takes longer to refill). */
    String exhausted() {
      refill();
      boolean noEvents = quota.eventsPerSecond() > 0 && events <= 0;
      boolean noBytes = quota.bytesPerSecond() > 0 && bytes <= 0;
      if (noEvents && noBytes) {
        return eventsWait() >= bytesWait() ? "events" : "bytes";
      }
      return noEvents ? "events" : noBytes ? "bytes" : null;
    }

    /** Whole seconds until both buckets are above zero, at least 1. */
    long waitSeconds() {
      double wait = 0;
      if (quota.eventsPerSecond() > 0) {
        wait = Math.max(wait, eventsWait());
      }
      if (quota.bytesPerSecond() > 0) {
        wait = Math.max(wait, bytesWait());
      }
      return Math.max(1, (long) Math.ceil(wait));
    }

    private double eventsWait() {
      return -events / quota.eventsPerSecond();
    }

    private double bytesWait() {
      return -bytes / quota.bytesPerSecond();
    }

    /** Takes {@code e} events and {@code b} bytes (negative: gives back, up to a full bucket). */
    void charge(long e, long b) {
      refill();
      events = Math.min(quota.eventsPerSecond(), events - e);
      bytes = Math.min(quota.bytesPerSecond(), bytes - b);
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
