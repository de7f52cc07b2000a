package io.floe.node.http;

import io.vertx.core.Vertx;
import java.util.function.LongConsumer;

/**
 * Samples the delay of the event loop it is started on: a timer due {@link #PERIOD_MS} after the
 * last one ran runs late by as long as a task that became ready then waited for the loop (a long
 * handler, or the loop's thread not getting a core). Each run sets the next, so a stalled loop is
 * one long sample, not a burst of overdue ones.
 */
final class EventLoopProbe {
  /** How often the loop is sampled. */
  static final long PERIOD_MS = 10;

  private final Vertx vertx;
  private final LongConsumer delayNanos;
  private volatile boolean stopped;
  private volatile long timer = -1;

  private EventLoopProbe(Vertx vertx, LongConsumer delayNanos) {
    this.vertx = vertx;
    this.delayNanos = delayNanos;
  }

  /**
   * Starts sampling the event loop of the calling context (a verticle's start), each delay to
   * {@code delayNanos}.
   */
  static EventLoopProbe start(Vertx vertx, LongConsumer delayNanos) {
    EventLoopProbe probe = new EventLoopProbe(vertx, delayNanos);
    probe.next(System.nanoTime());
    return probe;
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  private void next(long since) {
    if (stopped) {
      return;
    }
    timer =
        vertx.setTimer(
            PERIOD_MS,
            id -> {
              long now = System.nanoTime();
              delayNanos.accept(Math.max(0, now - since - PERIOD_MS * 1_000_000));
              next(now);
            });
  }
}
