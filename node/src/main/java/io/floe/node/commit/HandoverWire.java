package io.floe.node.commit;

import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.PartitionState;
import io.floe.catalog.commit.PartitionView;
import io.vertx.core.json.JsonObject;

/**
 * The node-to-node hand-over route, {@code POST /internal/v1/handover}: the range in query
 * parameters (with {@code age_ms}, how long ago its files were written, optional), its files as
 * {@link io.floe.catalog.commit.HandoverCodec} bytes in the body ({@code
 * application/octet-stream}), and one JSON answer, held until the range's outcome is known: {@code
 * {"answer":"committed","through":N,"snapshot_id":N}}, {@code fenced} ({@code table_epoch}), {@code
 * mismatch} ({@code table_committed}), {@code busy} ({@code retry_after_ms}), {@code
 * not_coordinator} ({@code coordinator_epoch}) or {@code failed} ({@code reason}).
 *
 * <p>The view route, {@code GET /internal/v1/table-view?partition=P&max_age_ms=M}: the committer's
 * view of the table ({@link PartitionView}), no older than {@code M}: {@code
 * {"epoch":E,"committed":C,"settings":"hex"}}; 421 {@code not_coordinator} from a node that does
 * not hold the role; 503 when the view is stale and the table cannot be loaded.
 */
public final class HandoverWire {
  public static final String PATH = "/internal/v1/handover";
  public static final String PARTITION = "partition";
  public static final String EPOCH = "epoch";
  public static final String AFTER = "after";
  public static final String THROUGH = "through";
  public static final String EVENTS = "events";
  public static final String URGENT = "urgent";

  /** How long ago the files were written, in ms (optional: 0, counted from arrival). */
  public static final String AGE_MS = "age_ms";

  public static final String VIEW_PATH = "/internal/v1/table-view";

  /** How old the committer's view may be, in ms. */
  public static final String MAX_AGE_MS = "max_age_ms";

  /** The least view age asked for: nodes never make the committer load the table more often. */
  public static final long MIN_VIEW_AGE_MILLIS = 500;

  /** The largest hand-over body taken (about 1 KB per file: far more files than one flush). */
  public static final long MAX_BODY_BYTES = 64L << 20;

  private static final String ANSWER = "answer";

  private HandoverWire() {}

  /** The HTTP status an answer goes with: 200 decided, 503 busy, 421 not the coordinator. */
  public static int status(HandoverAnswer a) {
    if (a instanceof HandoverAnswer.Busy) {
      return 503;
    }
    return a instanceof HandoverAnswer.NotCoordinator ? 421 : 200;
  }

  public static JsonObject toJson(HandoverAnswer a) {
    if (a instanceof HandoverAnswer.Committed c) {
      return new JsonObject()
          .put(ANSWER, "committed")
          .put("through", c.through())
          .put("snapshot_id", c.snapshotId());
    }
    if (a instanceof HandoverAnswer.Fenced f) {
      return new JsonObject().put(ANSWER, "fenced").put("table_epoch", f.tableEpoch());
    }
    if (a instanceof HandoverAnswer.Mismatch m) {
      return new JsonObject().put(ANSWER, "mismatch").put("table_committed", m.tableCommitted());
    }
    if (a instanceof HandoverAnswer.Busy b) {
      return new JsonObject().put(ANSWER, "busy").put("retry_after_ms", b.retryAfterMillis());
    }
    if (a instanceof HandoverAnswer.NotCoordinator n) {
      return new JsonObject()
          .put(ANSWER, "not_coordinator")
          .put("coordinator_epoch", n.coordinatorEpoch());
    }
    HandoverAnswer.Failed f = (HandoverAnswer.Failed) a;
    return new JsonObject().put(ANSWER, "failed").put("reason", f.reason());
  }

  public static JsonObject toJson(PartitionView v) {
    return new JsonObject()
        .put("epoch", v.state().epoch())
        .put("committed", v.state().committedSequence())
        .put("settings", v.settingsVersion());
  }

  /**
   * The view in {@code json}.
   *
   * @throws IllegalArgumentException when it is not one
   */
  public static PartitionView viewFromJson(JsonObject json) {
    Long epoch = json.getLong("epoch");
    Long committed = json.getLong("committed");
    String settings = json.getString("settings");
    if (epoch == null || committed == null || settings == null) {
      throw new IllegalArgumentException("not a table view: " + json.encode());
    }
    return new PartitionView(new PartitionState(epoch, committed), settings);
  }

  /**
   * The answer in {@code json}.
   *
   * @throws IllegalArgumentException when it is not one (an error answer: refused, bad request)
   */
  public static HandoverAnswer fromJson(JsonObject json) {
    String answer = json.getString(ANSWER);
    if (answer == null) {
      throw new IllegalArgumentException("not a hand-over answer: " + json.encode());
    }
    return switch (answer) {
      case "committed" ->
          new HandoverAnswer.Committed(json.getLong("through"), json.getLong("snapshot_id", -1L));
      case "fenced" -> new HandoverAnswer.Fenced(json.getLong("table_epoch"));
      case "mismatch" -> new HandoverAnswer.Mismatch(json.getLong("table_committed"));
      case "busy" -> new HandoverAnswer.Busy(json.getLong("retry_after_ms", 1000L));
      case "not_coordinator" ->
          new HandoverAnswer.NotCoordinator(json.getLong("coordinator_epoch"));
      case "failed" -> new HandoverAnswer.Failed(json.getString("reason", ""));
      default -> throw new IllegalArgumentException("unknown hand-over answer: " + answer);
    };
  }
}
