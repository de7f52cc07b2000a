package io.floe.node.commit;

import io.floe.catalog.commit.CommitCoordinator;
import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.PartitionView;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Hands a range over to the coordinator on another node ({@link HandoverWire}), over TLS when
 * {@code commit.cluster-tls-trust-file} is set, with the {@code commit.cluster-token}.
 */
final class HandoverClient implements AutoCloseable {
  private final Vertx vertx;
  private final HttpClient http;
  private final boolean tls;
  private final String token;

  HandoverClient(CommitConfig config) {
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    HttpClientOptions options =
        new HttpClientOptions()
            .setConnectTimeout((int) Math.min(5_000, config.handoverTimeout().toMillis()))
            .setKeepAlive(true)
            .setMaxPoolSize(4);
    this.tls = config.clusterTrust() != null;
    if (tls) {
      config.clusterTrust().apply(options);
    }
    this.http = vertx.createHttpClient(options);
    if (tls) {
      config.clusterTrust().watch(vertx, () -> List.of(http));
    }
    this.token = config.clusterToken();
  }

  /**
   * Sends {@code h} with its files as {@code body} to the node at {@code address} and waits for the
   * answer.
   *
   * @throws TimeoutException when no answer came within {@code timeout}
   * @throws ExecutionException when the node could not be reached, or refused the request (the
   *     cause says why)
   */
  HandoverAnswer send(String address, CommitCoordinator.Handover h, byte[] body, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    int colon = address.lastIndexOf(':');
    String uri =
        HandoverWire.PATH
            + "?"
            + HandoverWire.PARTITION
            + "="
            + h.partition()
            + "&"
            + HandoverWire.EPOCH
            + "="
            + h.epoch()
            + "&"
            + HandoverWire.AFTER
            + "="
            + h.after()
            + "&"
            + HandoverWire.THROUGH
            + "="
            + h.through()
            + "&"
            + HandoverWire.EVENTS
            + "="
            + h.events()
            + "&"
            + HandoverWire.URGENT
            + "="
            + h.urgent()
            + "&"
            + HandoverWire.AGE_MS
            + "="
            + h.ageMillis();
    RequestOptions request =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(address.substring(0, colon))
            .setPort(Integer.parseInt(address.substring(colon + 1)))
            .setSsl(tls)
            .setURI(uri)
            .setIdleTimeout(timeout.toMillis())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
    if (token != null) {
      request.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
    return http.request(request)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> answer(resp.statusCode(), b)))
        .toCompletionStage()
        .toCompletableFuture()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The committer's view of {@code partition} ({@link HandoverWire#VIEW_PATH}), at most {@code
   * maxAge} old, from the node at {@code address}.
   *
   * @throws ExecutionException when it could not be had (unreachable, not the coordinator, the
   *     catalog down there)
   * @throws TimeoutException when no answer came within {@code timeout}
   */
  PartitionView view(String address, int partition, Duration maxAge, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    int colon = address.lastIndexOf(':');
    RequestOptions request =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(address.substring(0, colon))
            .setPort(Integer.parseInt(address.substring(colon + 1)))
            .setSsl(tls)
            .setURI(
                HandoverWire.VIEW_PATH
                    + "?"
                    + HandoverWire.PARTITION
                    + "="
                    + partition
                    + "&"
                    + HandoverWire.MAX_AGE_MS
                    + "="
                    + maxAge.toMillis())
            .setIdleTimeout(timeout.toMillis());
    if (token != null) {
      request.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
    return http.request(request)
        .compose(HttpClientRequest::send)
        .compose(
            resp ->
                resp.body()
                    .map(
                        b -> {
                          if (resp.statusCode() == 421) {
                            throw new NotCoordinatorThere("the node at " + address + ": " + b);
                          }
                          if (resp.statusCode() != 200) {
                            throw new IllegalStateException(
                                "table view answered " + resp.statusCode() + ": " + b);
                          }
                          return HandoverWire.viewFromJson(b.toJsonObject());
                        }))
        .toCompletionStage()
        .toCompletableFuture()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static HandoverAnswer answer(int status, Buffer body) {
    JsonObject json;
    try {
      json = body.toJsonObject();
    } catch (RuntimeException e) {
      throw new IllegalStateException("hand-over answered " + status + " without JSON");
    }
    if (!json.containsKey("answer")) {
      throw new Refused("hand-over refused (" + status + "): " + json.encode());
    }
    return HandoverWire.fromJson(json);
  }

  /** The node asked for a view does not hold the committer role (it stepped down, or never did). */
  static final class NotCoordinatorThere extends RuntimeException {
    NotCoordinatorThere(String message) {
      super(message);
    }
  }

  /** The node answered with an error, not a hand-over answer (a token without the scope, ...). */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // closing anyway
    }
  }
}
