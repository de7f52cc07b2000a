package io.floe.node.http;

import io.floe.catalog.commit.CommitCoordinator;
import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.HandoverCodec;
import io.floe.common.http.JsonResponses;
import io.floe.node.commit.CoordinatorRole;
import io.floe.node.commit.HandoverWire;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.iceberg.DataFile;

/**
 * {@code POST /internal/v1/handover} ({@link HandoverWire}): another node's written range, fed to
 * this node's committer when it holds the role, answered once the range's outcome is known; {@code
 * not_coordinator} when it does not hold the role. A malformed request is answered 400 and changes
 * nothing.
 */
public final class HandoverHandler {
  private static final long CLAIMING_RETRY_MILLIS = 200;
  private final Supplier<CoordinatorRole> roles;

  /**
   * @param roles this node's committer role, or null (direct commits, or not joined yet)
   */
  public HandoverHandler(Supplier<CoordinatorRole> roles) {
    this.roles = roles;
  }

  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    long partition;
    long epoch;
    long after;
    long through;
    long events;
    boolean urgent;
    long ageMillis;
    try {
      partition = param(req, HandoverWire.PARTITION, 0, 1_000_000);
      epoch = param(req, HandoverWire.EPOCH, 1, Long.MAX_VALUE);
      after = param(req, HandoverWire.AFTER, 0, Long.MAX_VALUE);
      through = param(req, HandoverWire.THROUGH, after + 1, Long.MAX_VALUE);
      events = param(req, HandoverWire.EVENTS, 0, Long.MAX_VALUE);
      urgent = Boolean.parseBoolean(req.getParam(HandoverWire.URGENT));
      ageMillis =
          req.getParam(HandoverWire.AGE_MS) == null
              ? 0
              : param(req, HandoverWire.AGE_MS, 0, Long.MAX_VALUE);
    } catch (IllegalArgumentException e) {
      JsonResponses.errorAndClose(req, 400, "bad_handover", e.getMessage());
      return;
    }
    String length = req.getHeader("Content-Length");
    if (length == null) {
      JsonResponses.errorAndClose(req, 411, "length_required", "a hand-over needs Content-Length");
      return;
    }
    long declared;
    try {
      declared = Long.parseLong(length);
    } catch (NumberFormatException e) {
      declared = -1;
    }
    if (declared < 0 || declared > HandoverWire.MAX_BODY_BYTES) {
      JsonResponses.errorAndClose(
          req,
          413,
          "handover_too_large",
          "a hand-over body is at most " + HandoverWire.MAX_BODY_BYTES + " bytes");
      return;
    }
    req.body()
        .onFailure(ctx::fail)
        .onSuccess(
            body -> {
              CoordinatorRole role = roles.get();
              CommitCoordinator local = role == null ? null : role.local();
              if (local == null && role != null && role.claiming()) {
                // this node's claim may have landed and its coordinator not run yet
                answer(ctx, new HandoverAnswer.Busy(CLAIMING_RETRY_MILLIS));
                return;
              }
              if (local == null) {
                answer(
                    ctx, new HandoverAnswer.NotCoordinator(role == null ? 0 : role.knownEpoch()));
                return;
              }
              ctx.vertx()
                  .executeBlocking(() -> decode(body, role), false)
                  .onFailure(
                      e -> JsonResponses.error(ctx.response(), 400, "bad_handover", e.getMessage()))
                  .onSuccess(
                      files ->
                          local
                              .handOver(
                                  new CommitCoordinator.Handover(
                                      (int) partition,
                                      epoch,
                                      after,
                                      through,
                                      files,
                                      events,
                                      files.stream().mapToLong(DataFile::fileSizeInBytes).sum(),
                                      urgent,
                                      ageMillis))
                              .whenComplete(
                                  (a, e) ->
                                      ctx.vertx()
                                          .runOnContext(
                                              v ->
                                                  answer(
                                                      ctx,
                                                      e != null
                                                          ? new HandoverAnswer.Failed(e.toString())
                                                          : a))));
            });
  }

  /**
   * {@code GET /internal/v1/table-view} ({@link HandoverWire#VIEW_PATH}): this node's committer's
   * view of a partition, for a node checking its claim or its typed columns without loading the
   * table; 421 when this node does not hold the role, 503 when the view cannot be had now.
   */
  public void handleView(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    int partition;
    long maxAge;
    try {
      partition = (int) param(req, HandoverWire.PARTITION, 0, 1_000_000);
      maxAge =
          param(
              req,
              HandoverWire.MAX_AGE_MS,
              HandoverWire.MIN_VIEW_AGE_MILLIS,
              TimeUnit.DAYS.toMillis(1));
    } catch (IllegalArgumentException e) {
      JsonResponses.error(ctx.response(), 400, "bad_view", e.getMessage());
      return;
    }
    CoordinatorRole role = roles.get();
    if (role == null || role.local() == null) {
      answer(ctx, new HandoverAnswer.NotCoordinator(role == null ? 0 : role.knownEpoch()));
      return;
    }
    ctx.vertx()
        .executeBlocking(() -> role.localView(partition, Duration.ofMillis(maxAge)), false)
        .onComplete(
            r -> {
              if (ctx.response().ended() || ctx.response().closed()) {
                return;
              }
              if (r.failed()) {
                JsonResponses.error(
                    ctx.response(), 503, "view_unavailable", String.valueOf(r.cause()));
              } else if (r.result() == null) {
                answer(ctx, new HandoverAnswer.NotCoordinator(role.knownEpoch()));
              } else {
                JsonResponses.send(ctx.response(), 200, HandoverWire.toJson(r.result()));
              }
            });
  }

  private static List<DataFile> decode(Buffer body, CoordinatorRole role) {
    return HandoverCodec.decode(body.getBytes(), role.specs());
  }

  private static void answer(RoutingContext ctx, HandoverAnswer a) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    JsonResponses.send(ctx.response(), HandoverWire.status(a), HandoverWire.toJson(a));
  }

  private static long param(HttpServerRequest req, String name, long min, long max) {
    String value = req.getParam(name);
    if (value == null) {
      throw new IllegalArgumentException("query parameter " + name + " is missing");
    }
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not an integer: " + value);
    }
    if (parsed < min || parsed > max) {
      throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ": " + value);
    }
    return parsed;
  }
}
