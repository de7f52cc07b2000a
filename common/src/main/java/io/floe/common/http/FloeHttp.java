package io.floe.common.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * The HTTP contract between producers, routers and nodes: the paths and header names that both
 * sides of a hop must spell alike, defined once. A router serves the nodes' ingestion and receipt
 * paths unchanged and forwards them to a node, so each name here is read on one side and written on
 * the other.
 */
public final class FloeHttp {
  private FloeHttp() {}

  /** Ingestion is {@code POST STREAMS_PATH {stream} EVENTS_PATH}. */
  public static final String STREAMS_PATH = "/v1/streams/";

  /** The end of an ingestion path, after the stream's name. */
  public static final String EVENTS_PATH = "/events";

  /** A receipt is {@code GET PARTITIONS_PATH {partition} COMMITTED_PATH}. */
  public static final String PARTITIONS_PATH = "/v1/partitions/";

  /** The end of a receipt path, after the partition's number. */
  public static final String COMMITTED_PATH = "/committed";

  /**
   * A producer's name for one request, so that a retry is stored once: the node remembers it, and a
   * router sends every request with one key to the same node.
   */
  /**
   * A producer's choice for this request's bad records: {@code dead-letter} (keep them, store the
   * rest; where the stream's policy allows it) or {@code reject} (refuse the whole request).
   */
  public static final String ON_ERROR = "Floe-On-Error";

  /** A request's id, kept with its dead letters; the node makes one when none is given. */
  public static final String REQUEST_ID = "X-Request-Id";

  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  /** Set on an answer that repeats the acknowledgement of an earlier request with the same key. */
  public static final String IDEMPOTENCY_REPLAYED = "Idempotency-Replayed";

  /** A producer's routing key: the router keeps one key's events on one node, in order. */
  public static final String KEY_HEADER = "X-Floe-Key";

  /** Which node took a request, on the router's answer. */
  public static final String NODE_HEADER = "X-Floe-Node";

  /**
   * The producer a router authenticated and forwards for. A router sets it (removing any the client
   * sent); a node reads it only from a caller with the {@code router} scope.
   */
  public static final String PRINCIPAL_HEADER = "X-Floe-Principal";

  /** Whole seconds a refused client should wait before it sends again (429, 503). */
  public static final String RETRY_AFTER = "Retry-After";

  /** How to authenticate, on every 401 ({@link Refusals#BEARER_CHALLENGE}). */
  public static final String WWW_AUTHENTICATE = "WWW-Authenticate";

  /**
   * The stream an ingestion path names ({@code /v1/streams/clicks/events}: {@code clicks}), or null
   * when {@code path} is not one.
   */
  public static String ingestStream(String path) {
    int start = STREAMS_PATH.length();
    int end = path.length() - EVENTS_PATH.length();
    if (end <= start || !path.startsWith(STREAMS_PATH) || !path.endsWith(EVENTS_PATH)) {
      return null;
    }
    String stream = path.substring(start, end);
    return stream.indexOf('/') < 0 ? stream : null;
  }

  /**
   * The body length {@code req} declares (Content-Length), or -1 when it declares none (chunked) or
   * no number (which the node refuses).
   */
  public static long declaredLength(HttpServerRequest req) {
    String value = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    try {
      return value == null ? -1 : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
