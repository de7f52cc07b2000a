package io.floe.common.http;

import io.floe.common.config.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The slowest request body a Floe listener waits for. A body is watched in windows of {@code
 * window} from the moment the listener starts reading it (the first window is the grace period):
 * one window that brings fewer than {@code minBytesPerSecond} × the window's seconds ends the
 * request with 408 {@value #ERROR}, nothing stored, and its connection closed. A producer that
 * trickles its bodies would otherwise hold what its requests hold (a router's connections to a
 * node, a node's in-flight budget) for as long as it likes. Nodes and routers read the same two
 * settings. A node reads every body as fast as it arrives, so a router's pipe to it does not hold a
 * producer back long enough to be taken for slowness.
 *
 * @param minBytesPerSecond 0 turns the check off
 * @param window how long each measured stretch is
 */
public record BodyRate(long minBytesPerSecond, Duration window) {
  public static final String MIN_BYTES_PER_SECOND = "ingest.min-body-bytes-per-second";
  public static final long MIN_BYTES_PER_SECOND_DEFAULT = 1024;
  public static final String WINDOW = "ingest.min-body-rate-window-seconds";
  public static final Duration WINDOW_DEFAULT = Duration.ofSeconds(5);

  /** The {@code error} of the answer to a body that came too slowly (or not in time). */
  public static final String ERROR = "request_timeout";

  public static BodyRate load(Settings s) {
    return new BodyRate(
        s.bytes(MIN_BYTES_PER_SECOND, MIN_BYTES_PER_SECOND_DEFAULT, 0, 1L << 30),
        s.seconds(WINDOW, WINDOW_DEFAULT, Duration.ofMillis(100), Duration.ofHours(1)));
  }

  /**
   * Watches {@code req}'s body from now, on the calling event loop: the first window that brings
   * too few bytes calls {@code tooSlow} once with the detail of the answer to give. Stops by itself
   * once the body has all arrived or the response is done.
   */
  public void watch(Vertx vertx, HttpServerRequest req, Consumer<String> tooSlow) {
    if (minBytesPerSecond <= 0) {
      return;
    }
    long windowMillis = Math.max(1, window.toMillis());
    long minBytes = (long) Math.ceil(minBytesPerSecond * (windowMillis / 1000.0));
    long[] before = {req.bytesRead()};
    vertx.setPeriodic(
        windowMillis,
        id -> {
          HttpServerResponse response = req.response();
          if (req.isEnded() || response.ended() || response.closed()) {
            vertx.cancelTimer(id);
            return;
          }
          long now = req.bytesRead();
          long came = now - before[0];
          before[0] = now;
          if (came < minBytes) {
            vertx.cancelTimer(id);
            tooSlow.accept(
                "the request body came at "
                    + Math.round(came * 1000.0 / windowMillis)
                    + " bytes/s over "
                    + windowMillis / 1000.0
                    + " s, under the minimum of "
                    + minBytesPerSecond
                    + " ("
                    + MIN_BYTES_PER_SECOND
                    + "); nothing was stored: send bodies at a steady pace");
          }
        });
  }
}
