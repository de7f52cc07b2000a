package io.floe.router;

import io.floe.common.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes the router forwards to, with their health: active checks of each node's {@code
 * /health/ready} on a timer, passive marking when a connection cannot be opened, and reloads of the
 * node list when the nodes file changes (no restart).
 */
final class Membership {
  private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

  private final Vertx vertx;
  private final RouterConfig config;
  private final HttpClient checker;
  private volatile Map<String, Member> members = Map.of();
  private FileTime fileVersion;
  private long timer;

  Membership(Vertx vertx, RouterConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.checker =
        vertx.createHttpClient(
            config.nodeClient(
                new HttpClientOptions()
                    .setConnectTimeout(1000)
                    .setKeepAlive(true)
                    .setIdleTimeout(30)));
  }

  /** Loads the node list, checks every node once, then keeps checking on a timer. */
  void start() {
    reload();
    checkAll();
    timer =
        vertx.setPeriodic(
            config.healthInterval().toMillis(),
            id -> {
              if (config.nodesFile() != null) {
                // file I/O stays off the event loop
                vertx.executeBlocking(
                    () -> {
                      reloadIfChanged();
                      return null;
                    },
                    false);
              }
              checkAll();
            });
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  List<Member> all() {
    return List.copyOf(members.values());
  }

  List<Member> healthy() {
    List<Member> out = new ArrayList<>();
    for (Member m : members.values()) {
      if (m.healthy()) {
        out.add(m);
      }
    }
    return out;
  }

  private void reloadIfChanged() {
    if (config.nodesFile() == null) {
      return;
    }
    try {
      FileTime t = Files.getLastModifiedTime(config.nodesFile());
      if (!t.equals(fileVersion)) {
        reload();
      }
    } catch (IOException e) {
      LOG.warn(
          "cannot read {}: {}; keeping {} nodes",
          config.nodesFile(),
          e.getMessage(),
          members.size());
    }
  }

  /** Re-reads the node list; kept nodes keep their health and load. */
  synchronized void reload() {
    List<RouterConfig.NodeAddress> addresses = config.nodes();
    if (config.nodesFile() != null) {
      try {
        fileVersion = Files.getLastModifiedTime(config.nodesFile());
        addresses =
            RouterConfig.parseNodes(
                Files.readString(config.nodesFile()), config.nodesFile().toString());
      } catch (IOException | ConfigException e) {
        LOG.warn(
            "cannot use {}: {}; keeping {} nodes",
            config.nodesFile(),
            e.getMessage(),
            members.size());
        return;
      }
    }
    Map<String, Member> next = new LinkedHashMap<>();
    for (RouterConfig.NodeAddress a : addresses) {
      Member existing = members.get(a.toString());
      next.put(
          a.toString(), existing != null ? existing : new Member(a, Rendezvous.seed(a.toString())));
    }
    if (!next.keySet().equals(members.keySet())) {
      LOG.info("membership: {}", next.keySet());
    }
    members = Map.copyOf(next);
  }

  /** The node that reported partition {@code p} (a healthy one first), or null. */
  Member forPartition(int p) {
    Member any = null;
    for (Member m : members.values()) {
      if (m.partition == p) {
        if (m.healthy()) {
          return m;
        }
        any = m;
      }
    }
    return any;
  }

  private static int partitionIn(Buffer body) {
    try {
      Integer p = new JsonObject(body).getInteger("partition_id");
      return p == null ? -1 : p;
    } catch (RuntimeException e) {
      return -1; // not a Floe node's answer
    }
  }

  private void checkAll() {
    for (Member m : members.values()) {
      checker
          .request(
              new RequestOptions()
                  .setMethod(HttpMethod.GET)
                  .setHost(m.address.host())
                  .setPort(m.address.port())
                  .setURI("/health/ready")
                  .setTimeout(Math.max(500, config.healthInterval().toMillis())))
          .compose(
              req ->
                  req.send()
                      .compose(
                          resp ->
                              resp.body()
                                  .map(
                                      b -> {
                                        m.partition = partitionIn(b);
                                        return resp.statusCode();
                                      })))
          .onComplete(
              ar -> {
                boolean ok = ar.succeeded() && ar.result() == 200;
                if (m.checked(ok, config.unhealthyAfter(), config.healthyAfter())) {
                  LOG.info(
                      "node {} is now {}",
                      m.id,
                      ok
                          ? "healthy"
                          : "unhealthy"
                              + (ar.failed()
                                  ? " (" + ar.cause().getMessage() + ")"
                                  : " (status " + ar.result() + ")"));
                }
              });
    }
  }

  /** The client of the health checks. */
  HttpClient checker() {
    return checker;
  }
}
