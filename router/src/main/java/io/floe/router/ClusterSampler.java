package io.floe.router;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the cluster for the console and {@code /v1/cluster}: on a timer it reads each node's
 * {@code /v1/status} and {@code /metrics} (with the router's node token, the same one it forwards
 * with) and, when {@link RouterConfig#CATALOG_URI} is set, the catalog service's {@code /metrics}
 * and column list; it turns counters into rates between two samples and keeps the last {@link
 * #HISTORY} of cluster-wide points for the charts. Nothing here blocks: reads are asynchronous, and
 * one sample is assembled at a time ({@link ClusterView}) and published as one immutable answer.
 */
final class ClusterSampler {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterSampler.class);

  /** How far back the charts go. */
  static final Duration HISTORY = Duration.ofMinutes(15);

  /** The column list is re-read this often (it changes rarely, and reading it loads the table). */
  private static final Duration COLUMNS_EVERY = Duration.ofSeconds(30);

  private final Vertx vertx;
  private final RouterConfig config;
  private final Membership membership;
  private final HttpClient client;
  private final ClusterView view;
  private long timer = -1;
  private boolean sampling;
  private long columnsReadAt;
  private JsonArray columns;

  ClusterSampler(Vertx vertx, RouterConfig config, Membership membership, StreamTraffic traffic) {
    this.vertx = vertx;
    this.config = config;
    this.membership = membership;
    this.client =
        vertx.createHttpClient(
            config.nodeClient(
                new HttpClientOptions()
                    .setConnectTimeout(1000)
                    .setKeepAlive(true)
                    .setIdleTimeout(60)
                    .setMaxPoolSize(4)));
    this.view =
        new ClusterView(
            traffic,
            config.catalogUri(),
            (int)
                Math.max(
                    2,
                    HISTORY.toMillis() / Math.max(1, config.consoleSampleInterval().toMillis())));
  }

  void start() {
    if (config.consoleSampleInterval().isZero()) {
      view.off(
          RouterConfig.CONSOLE_SAMPLE_INTERVAL + " is 0: this router does not sample its nodes");
      return;
    }
    sample();
    timer = vertx.setPeriodic(config.consoleSampleInterval().toMillis(), id -> sample());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** The last sample as {@code /v1/cluster} answers it. */
  Buffer answer() {
    return view.answer();
  }

  /** The client of the samples (its trust follows the node trust file). */
  HttpClient client() {
    return client;
  }

  /** One node's answers, or why they are missing. */
  record NodeReading(Member member, JsonObject status, PromText metrics, String error) {}

  /** The catalog service's answers, or why they are missing; null fields when not configured. */
  record CatalogReading(PromText metrics, JsonArray columns, String error) {}

  private synchronized void sample() {
    if (sampling) {
      return; // the last sample is still being read: a slow node must not pile reads up
    }
    sampling = true;
    long now = System.currentTimeMillis();
    List<Future<NodeReading>> nodes = new ArrayList<>();
    for (Member m : membership.all()) {
      nodes.add(readNode(m));
    }
    Future<CatalogReading> catalog = readCatalog(now);
    List<Future<?>> all = new ArrayList<>(nodes);
    all.add(catalog);
    Future.join(all)
        .onComplete(
            done -> {
              try {
                List<NodeReading> readings = new ArrayList<>();
                for (Future<NodeReading> f : nodes) {
                  readings.add(f.result());
                }
                view.add(now, readings, catalog.result());
              } catch (RuntimeException e) {
                LOG.warn("console sample failed: {}", e.toString(), e);
              } finally {
                synchronized (this) {
                  sampling = false;
                }
              }
            });
  }

  private Future<NodeReading> readNode(Member m) {
    Future<JsonObject> status =
        get(m.address.host(), m.address.port(), "/v1/status", config.nodeToken())
            .map(JsonObject::new);
    Future<PromText> metrics =
        get(m.address.host(), m.address.port(), "/metrics", config.nodeToken())
            .map(b -> PromText.parse(b.toString()));
    return Future.join(status, metrics)
        .transform(
            ar -> {
              String error = null;
              if (status.failed()) {
                error = status.cause().getMessage();
              } else if (metrics.failed()) {
                error = metrics.cause().getMessage();
              }
              return Future.succeededFuture(
                  new NodeReading(
                      m,
                      status.succeeded() ? status.result() : null,
                      metrics.succeeded() ? metrics.result() : null,
                      error));
            });
  }

  private Future<CatalogReading> readCatalog(long now) {
    String uri = config.catalogUri();
    if (uri == null) {
      return Future.succeededFuture(new CatalogReading(null, null, null));
    }
    Future<PromText> metrics =
        getAbsolute(uri + "/metrics", config.catalogToken()).map(b -> PromText.parse(b.toString()));
    Future<JsonArray> cols;
    if (columns != null && now - columnsReadAt < COLUMNS_EVERY.toMillis()) {
      cols = Future.succeededFuture(columns);
    } else {
      cols =
          getAbsolute(uri + "/floe/v1/columns", config.catalogToken())
              .map(b -> new JsonObject(b).getJsonArray("columns", new JsonArray()))
              .onSuccess(
                  c -> {
                    columns = c;
                    columnsReadAt = now;
                  });
    }
    return Future.join(metrics, cols)
        .transform(
            ar ->
                Future.succeededFuture(
                    new CatalogReading(
                        metrics.succeeded() ? metrics.result() : null,
                        cols.succeeded() ? cols.result() : null,
                        metrics.failed() ? metrics.cause().getMessage() : null)));
  }

  private Future<Buffer> get(String host, int port, String path, String token) {
    return send(new RequestOptions().setHost(host).setPort(port).setURI(path), token);
  }

  private Future<Buffer> getAbsolute(String uri, String token) {
    return send(new RequestOptions().setAbsoluteURI(uri), token);
  }

  /** GET, with the token when there is one; a status other than 200 fails, named by its path. */
  private Future<Buffer> send(RequestOptions options, String token) {
    options.setMethod(HttpMethod.GET).setTimeout(timeoutMillis());
    if (token != null) {
      options.putHeader("Authorization", "Bearer " + token);
    }
    String path = options.getURI();
    return client
        .request(options)
        .compose(req -> req.send())
        .compose(
            resp ->
                resp.body()
                    .compose(
                        body ->
                            resp.statusCode() == 200
                                ? Future.succeededFuture(body)
                                : Future.failedFuture(refusal(path, resp.statusCode()))));
  }

  /** Why an answer is missing, in words an operator can act on (never the token itself). */
  private static String refusal(String path, int status) {
    String hint =
        switch (status) {
          case 401 -> " (set " + RouterConfig.NODE_TOKEN + " / " + RouterConfig.CATALOG_TOKEN + ")";
          case 403 -> " (the router's token lacks the read or router scope there)";
          default -> "";
        };
    return path + " answered " + status + hint;
  }

  private long timeoutMillis() {
    return Math.max(1000, Math.min(5000, config.consoleSampleInterval().toMillis()));
  }
}
