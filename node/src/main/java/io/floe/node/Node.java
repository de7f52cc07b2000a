package io.floe.node;

import io.floe.node.buffer.Durability;
import io.floe.node.buffer.GroupCommitter;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.config.NodeConfig;
import io.floe.node.http.BearerAuth;
import io.floe.node.http.ErrorResponses;
import io.floe.node.http.InflightBudget;
import io.floe.node.http.IngestHandler;
import io.floe.node.http.NodeHttpVerticle;
import io.floe.node.http.OpsHandler;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: its RocksDB partition, the group committer and the HTTP servers. Created by
 * {@link #start}; {@link #close} stops it in order (refuse new requests, let in-flight ones finish,
 * close HTTP, write what is queued, close RocksDB).
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  private final NodeConfig config;
  private final RocksBuffer buffer;
  private final GroupCommitter committer;
  private final InflightBudget budget;
  private final Vertx vertx;
  private final int port;
  private volatile boolean draining;
  private boolean closed;

  private Node(NodeConfig config, RocksBuffer buffer, GroupCommitter committer, InflightBudget budget,
      Vertx vertx, int port) {
    this.config = config;
    this.buffer = buffer;
    this.committer = committer;
    this.budget = budget;
    this.vertx = vertx;
    this.port = port;
  }

  /** Opens the partition and starts serving; returns once the HTTP port is bound. */
  public static Node start(NodeConfig config) throws Exception {
    if (config.buffer().durability() == Durability.NONE) {
      LOG.warn("buffer.durability=none: the RocksDB WAL is OFF, a crash LOSES acknowledged events. "
          + "Use it for benchmarks only.");
    }
    NodeMetrics metrics = new NodeMetrics();
    RocksBuffer buffer = RocksBuffer.open(config.buffer(), config.partitionId());
    GroupCommitter committer = new GroupCommitter(buffer, metrics);
    InflightBudget budget = new InflightBudget(config.inflightMaxBytes());
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    Node[] self = new Node[1];
    try {
      ErrorResponses errors = new ErrorResponses(metrics);
      IngestHandler ingest =
          new IngestHandler(config, buffer, committer, budget, metrics, () -> self[0].draining);
      OpsHandler ops = new OpsHandler(config.partitionId(), buffer, budget, metrics, () -> self[0].draining);
      BearerAuth auth = new BearerAuth(config.authToken());
      registerGauges(metrics, buffer, budget);

      // one deployment: Vert.x shares the listening socket between the instances (also for port 0)
      List<NodeHttpVerticle> servers = new CopyOnWriteArrayList<>();
      await(vertx.deployVerticle(
              () -> {
                NodeHttpVerticle v = verticle(config, ingest, ops, auth, errors, metrics);
                servers.add(v);
                return v;
              },
              new DeploymentOptions().setInstances(config.eventLoops()))
          .toCompletionStage().toCompletableFuture());
      int port = servers.get(0).actualPort();
      self[0] = new Node(config, buffer, committer, budget, vertx, port);
      LOG.info("node started: partition={} port={} durability={} dir={} hwm={} committed={}",
          config.partitionId(), port, config.buffer().durability(), config.buffer().dir(),
          buffer.highWaterMark(), buffer.committedSequence());
      return self[0];
    } catch (Exception e) {
      await(vertx.close().toCompletionStage().toCompletableFuture());
      committer.close();
      buffer.close();
      throw e;
    }
  }

  private static NodeHttpVerticle verticle(NodeConfig c, IngestHandler ingest, OpsHandler ops,
      BearerAuth auth, ErrorResponses errors, NodeMetrics metrics) {
    return new NodeHttpVerticle(c.httpHost(), c.httpPort(), ingest, ops, auth, errors, metrics);
  }

  private static void registerGauges(NodeMetrics metrics, RocksBuffer buffer, InflightBudget budget) {
    metrics.gauge("floe_buffer_bytes", "Encoded bytes buffered in RocksDB, not yet committed to the table",
        buffer::bufferedBytes);
    metrics.gauge("floe_buffer_events", "Events buffered in RocksDB, not yet committed to the table",
        buffer::bufferedEvents);
    metrics.gauge("floe_buffer_high_water_mark", "Last sequence written", buffer::highWaterMark);
    metrics.gauge("floe_buffer_committed_sequence", "Last sequence committed to the table",
        buffer::committedSequence);
    metrics.gauge("floe_node_inflight_bytes", "Bytes reserved by requests in progress", budget::usedBytes);
  }

  private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  public int port() {
    return port;
  }

  public RocksBuffer buffer() {
    return buffer;
  }

  public NodeConfig config() {
    return config;
  }

  @Override
  public synchronized void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    draining = true;
    LOG.info("node stopping: refusing new requests, waiting for {} in flight", budget.requests());
    long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
    while (budget.requests() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (budget.requests() > 0) {
      LOG.warn("{} requests still in flight after {}; closing anyway (they were not acknowledged)",
          budget.requests(), config.shutdownGrace());
    }
    try {
      await(vertx.close().toCompletionStage().toCompletableFuture());
    } finally {
      try {
        committer.close();
      } finally {
        buffer.close();
      }
    }
    LOG.info("node stopped: partition={} hwm={}", config.partitionId(), buffer.highWaterMark());
  }
}
