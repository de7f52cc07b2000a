package io.floe.common.retry;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Exponential backoff: the delay after the n-th consecutive failure is {@code initial * 2^(n-1)},
 * capped at {@code max}, with up to 20 % random jitter so that processes failing together do not
 * retry together. The one retry policy of Floe: background loops that must wake early (the flusher)
 * take {@link #nextDelayMillis()} and wait themselves; everything else calls {@link #call}.
 *
 * <p>Not thread-safe: one instance per retrying loop.
 */
public final class Backoff {
  private final long initialMillis;
  private final long maxMillis;
  private final int maxAttempts;
  private final Duration timeout;
  private int failures;

  private Backoff(long initialMillis, long maxMillis, int maxAttempts, Duration timeout) {
    if (initialMillis < 0 || maxMillis < initialMillis) {
      throw new IllegalArgumentException("backoff needs 0 <= initial <= max");
    }
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.maxAttempts = maxAttempts;
    this.timeout = timeout;
  }

  /** Unbounded retries, delays from {@code initial} doubling up to {@code max}. */
  public static Backoff exponential(Duration initial, Duration max) {
    return new Backoff(initial.toMillis(), max.toMillis(), Integer.MAX_VALUE, null);
  }

  /** The same policy, giving up after {@code attempts} attempts in {@link #call}. */
  public Backoff maxAttempts(int attempts) {
    if (attempts < 1) {
      throw new IllegalArgumentException("at least one attempt");
    }
    return new Backoff(initialMillis, maxMillis, attempts, timeout);
  }

  /** The same policy, giving up in {@link #call} once {@code limit} has passed since its start. */
  public Backoff timeout(Duration limit) {
    return new Backoff(initialMillis, maxMillis, maxAttempts, limit);
  }

  /** Counts one more failure and returns how long to wait before the next attempt. */
  public long nextDelayMillis() {
    failures++;
    long base = initialMillis << Math.min(failures - 1, 30);
    if (base <= 0 || base > maxMillis) {
      base = maxMillis;
    }
    long jitter = base / 5;
    return jitter == 0 ? base : base - ThreadLocalRandom.current().nextLong(jitter + 1);
  }

  /** Consecutive failures since the last {@link #reset}. */
  public int failures() {
    return failures;
  }

  /** After a success: the next failure waits the initial delay again. */
  public void reset() {
    failures = 0;
  }

  /** Told before each wait; for logs and metrics. */
  @FunctionalInterface
  public interface RetryListener {
    void retrying(Exception failure, int attempt, long delayMillis);
  }

  /**
   * Calls {@code attempt} until it returns, throws an exception {@code retryable} refuses (rethrown
   * as is), or the attempts or time of this policy are used up ({@link GaveUpException}, with the
   * last failure as its cause). With a timeout, attempts go on until it has passed: the last one is
   * made at the deadline. Interruption stops the waiting and is rethrown.
   */
  public <T> T call(
      Callable<T> attempt, Predicate<? super Exception> retryable, RetryListener listener)
      throws Exception {
    long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    reset();
    while (true) {
      try {
        return attempt.call();
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        if (!retryable.test(e)) {
          throw e;
        }
        long delay = nextDelayMillis();
        long left = deadline - System.nanoTime();
        if (failures >= maxAttempts || left <= 0) {
          throw new GaveUpException(failures, e);
        }
        // the last wait is cut to the deadline, so that one more attempt is made right at it
        delay = Math.min(delay, Math.max(1, left / 1_000_000L));
        listener.retrying(e, failures, delay);
        Thread.sleep(delay);
      }
    }
  }

  /** {@link #call} ran out of attempts or time; the cause is the last failure. */
  public static final class GaveUpException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int attempts;

    GaveUpException(int attempts, Exception last) {
      super("gave up after " + attempts + " attempts: " + last.getMessage(), last);
      this.attempts = attempts;
    }

    public int attempts() {
      return attempts;
    }
  }
}
