package io.floe.node;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.node.buffer.Durability;
import io.floe.node.buffer.GroupCommitter;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.config.NodeConfig;
import io.floe.node.flush.Flusher;
import io.floe.node.http.BearerAuth;
import io.floe.node.http.ErrorResponses;
import io.floe.node.http.InflightBudget;
import io.floe.node.http.IngestHandler;
import io.floe.node.http.NodeHttpVerticle;
import io.floe.node.http.OpsHandler;
import io.floe.node.http.Readiness;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: its RocksDB partition, the group committer, the flusher and the HTTP servers.
 * {@link #start} claims the partition in the table and aligns the buffer with what the table
 * holds before taking writes; {@link #close} stops in order: refuse new requests, let in-flight
 * ones finish, close HTTP, write what is queued, flush, close RocksDB and the catalog.
 */
public final class Node implements AutoCloseable, Readiness {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  private final NodeConfig config;
  private final NodeMetrics metrics = new NodeMetrics();
  private final InflightBudget budget;
  private RocksBuffer buffer;
  private GroupCommitter committer;
  private Catalog catalog;
  private Flusher flusher;
  private Vertx vertx;
  private int port;
  private volatile boolean draining;
  private volatile boolean fenced;
  private boolean closed;

  private Node(NodeConfig config) {
    this.config = config;
    this.budget = new InflightBudget(config.inflightMaxBytes());
  }

  /** Opens the partition, claims it in the table, and starts serving; returns once the port is bound. */
  public static Node start(NodeConfig config) throws Exception {
    Node node = new Node(config);
    try {
      node.open();
      return node;
    } catch (Exception e) {
      node.close();
      throw e;
    }
  }

  private void open() throws Exception {
    if (config.buffer().durability() == Durability.NONE) {
      LOG.warn("buffer.durability=none: the RocksDB WAL is OFF, a crash LOSES acknowledged events. "
          + "Use it for benchmarks only.");
    }
    buffer = RocksBuffer.open(config.buffer(), config.partitionId());
    if (config.flush().enabled()) {
      startFlusher();
    } else {
      LOG.warn("flush.enabled=false: events stay in RocksDB and never reach the table");
    }
    committer = new GroupCommitter(buffer, metrics);
    registerGauges();
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    ErrorResponses errors = new ErrorResponses(metrics);
    IngestHandler ingest = new IngestHandler(config, committer, budget, metrics, this);
    OpsHandler ops = new OpsHandler(config.partitionId(), buffer, budget, metrics, this, flusher);
    BearerAuth auth = new BearerAuth(config.authToken());
    // one deployment: Vert.x shares the listening socket between the instances (also for port 0)
    List<NodeHttpVerticle> servers = new CopyOnWriteArrayList<>();
    await(vertx.deployVerticle(
            () -> {
              NodeHttpVerticle v = new NodeHttpVerticle(config.httpHost(), config.httpPort(), ingest, ops, auth,
                  errors, metrics);
              servers.add(v);
              return v;
            },
            new DeploymentOptions().setInstances(config.eventLoops()))
        .toCompletionStage().toCompletableFuture());
    port = servers.get(0).actualPort();
    LOG.info("node started: partition={} port={} durability={} dir={} hwm={} committed={}",
        config.partitionId(), port, config.buffer().durability(), config.buffer().dir(),
        buffer.highWaterMark(), buffer.committedSequence());
  }

  /** Connects to the catalog (retrying until catalog.startup-timeout), claims the partition, recovers. */
  private void startFlusher() throws Exception {
    var flush = config.flush();
    long deadline = System.nanoTime() + flush.startupTimeout().toNanos();
    long backoff = 250;
    while (true) {
      try {
        catalog = CatalogConnector.open("floe", flush.catalogProperties());
        Table table = EventsTable.ensure(catalog, flush.table());
        CommitProtocol protocol = new CommitProtocol(table, config.partitionId(), owner());
        PartitionClaim claim = protocol.claim();
        long local = buffer.committedSequence();
        buffer.recoverCommitted(claim.committedSequence());
        LOG.info("claimed partition {} with epoch {}; table committed through {}, buffer was at {}, "
            + "{} events to flush", config.partitionId(), claim.epoch(), claim.committedSequence(), local,
            buffer.bufferedEvents());
        if (claim.committedSequence() < local) {
          LOG.warn("the table records partition {} committed through {} but this buffer dropped through {}: "
              + "was the table replaced?", config.partitionId(), claim.committedSequence(), local);
        }
        flusher = new Flusher(buffer, protocol, claim, flush, metrics, this::fence);
        return;
      } catch (IllegalStateException | io.floe.catalog.config.ConfigException e) {
        throw e;
      } catch (RuntimeException e) {
        closeCatalog();
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("catalog not reachable within " + flush.startupTimeout().toSeconds()
              + " s (catalog.startup-timeout-seconds): " + e.getMessage(), e);
        }
        LOG.warn("catalog not reachable yet ({}); retrying in {} ms", e.getMessage(), backoff);
        Thread.sleep(backoff);
        backoff = Math.min(5000, backoff * 2);
      }
    }
  }

  private static String owner() {
    return ManagementFactory.getRuntimeMXBean().getName();
  }

  private void fence() {
    fenced = true;
    LOG.error("partition {} was claimed by another process: this node no longer accepts writes",
        config.partitionId());
  }

  @Override
  public String notReadyReason() {
    if (draining) {
      return "draining";
    }
    if (fenced) {
      return "fenced";
    }
    if (buffer.bufferedBytes() >= buffer.config().maxBytes()) {
      return "buffer_full";
    }
    return null;
  }

  private void registerGauges() {
    metrics.gauge("floe_buffer_bytes", "Encoded bytes buffered in RocksDB, not yet committed to the table",
        buffer::bufferedBytes);
    metrics.gauge("floe_buffer_events", "Events buffered in RocksDB, not yet committed to the table",
        buffer::bufferedEvents);
    metrics.gauge("floe_buffer_high_water_mark", "Last sequence written", buffer::highWaterMark);
    metrics.gauge("floe_buffer_committed_sequence", "Last sequence committed to the table",
        buffer::committedSequence);
    metrics.gauge("floe_node_inflight_bytes", "Bytes reserved by requests in progress", budget::usedBytes);
    metrics.counter("floe_buffer_sst_written_bytes", "Bytes RocksDB wrote to SST files (memtable flushes of batches "
        + "not yet committed, and reclaiming compactions)", buffer::sstBytesWritten);
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
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

  /** The flusher, or null when flushing is disabled. */
  public Flusher flusher() {
    return flusher;
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
      if (vertx != null) {
        await(vertx.close().toCompletionStage().toCompletableFuture());
      }
    } finally {
      try {
        if (committer != null) {
          committer.close();
        }
        finalFlush(deadline);
      } finally {
        try {
          if (flusher != null) {
            flusher.close();
          }
        } finally {
          try {
            if (buffer != null) {
              buffer.close();
            }
          } finally {
            closeCatalog();
          }
        }
      }
    }
    LOG.info("node stopped: partition={} hwm={}", config.partitionId(),
        buffer == null ? -1 : buffer.highWaterMark());
  }

  /** Best effort: what is acknowledged goes to the table before the process exits; if not, it waits in RocksDB. */
  private void finalFlush(long deadlineNanos) {
    if (flusher == null || fenced || buffer.bufferedEvents() == 0) {
      return;
    }
    long wait = Math.max(1_000_000_000L, deadlineNanos - System.nanoTime());
    try {
      flusher.flushNow().get(wait, TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      LOG.warn("final flush did not finish ({}); {} events stay in the buffer for the next start",
          e.getMessage(), buffer.bufferedEvents());
    }
  }

  private void closeCatalog() {
    if (catalog instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing the catalog client failed", e);
      }
    }
    catalog = null;
  }
}
