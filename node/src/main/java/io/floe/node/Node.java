package io.floe.node;

import io.floe.catalog.connect.CatalogUnavailableException;
import io.floe.catalog.streams.StreamPolicies;
import io.floe.common.auth.Quotas;
import io.floe.common.config.ConfigException;
import io.floe.common.http.ConnectionLimit;
import io.floe.common.lifecycle.Closer;
import io.floe.node.buffer.Durability;
import io.floe.node.buffer.GroupCommitter;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.columns.ColumnSet;
import io.floe.node.commit.CoordinatorRole;
import io.floe.node.config.NodeConfig;
import io.floe.node.decode.FieldNames;
import io.floe.node.flush.DeadLetterReplay;
import io.floe.node.flush.Flusher;
import io.floe.node.flush.PartitionStartup;
import io.floe.node.flush.SalvageNeededException;
import io.floe.node.http.DeadLetterHandler;
import io.floe.node.http.ErrorResponses;
import io.floe.node.http.HandoverHandler;
import io.floe.node.http.InflightBudget;
import io.floe.node.http.IngestHandler;
import io.floe.node.http.NodeHttpVerticle;
import io.floe.node.http.OpsHandler;
import io.floe.node.http.Readiness;
import io.floe.node.http.ScopedAuth;
import io.floe.node.metrics.NodeMetrics;
import io.floe.node.metrics.StartupPhases;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: wires the RocksDB partition, the group committer, the flusher and the HTTP
 * servers together. {@link #start} opens them in order (the partition joins the table before any
 * write is taken); {@link #close} stops in the reverse order: refuse new requests, let in-flight
 * ones finish, close HTTP, write what is queued, flush, close the flusher, RocksDB and the catalog.
 */
public final class Node implements AutoCloseable, Readiness {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  /** How long a known buffer waits for the catalog at start before it takes writes anyway. */
  private static final Duration QUICK_JOIN = Duration.ofSeconds(5);

  private final NodeConfig config;
  private final NodeMetrics metrics = new NodeMetrics();
  private final InflightBudget budget;
  private final Closer closer = new Closer();
  private RocksBuffer buffer;
  private GroupCommitter committer;
  private DeadLetterReplay replay;
  private PartitionStartup.Flushing replayOf;
  private volatile PartitionStartup.Flushing flushing;
  private Thread backgroundStartup;
  private volatile int port;
  private volatile boolean draining;
  private volatile boolean fenced;
  private volatile boolean workerDied;
  private volatile boolean salvageNeeded;
  private final Runnable onFatal;
  private volatile boolean closed;

  /** When close() began plus node.shutdown-grace-seconds: draining and the final flush share it. */
  private long shutdownDeadlineNanos;

  private Node(NodeConfig config, Runnable onFatal) {
    this.config = config;
    this.onFatal = onFatal;
    this.budget = new InflightBudget(config.inflightMaxBytes());
  }

  /**
   * Opens the partition, claims it in the table, and starts serving; returns once the port is
   * bound.
   */
  public static Node start(NodeConfig config) throws Exception {
    return start(config, () -> {});
  }

  /**
   * As {@link #start(NodeConfig)}; {@code onFatal} runs when a worker thread dies (the process
   * should exit: a restart recovers everything acknowledged from RocksDB).
   */
  public static Node start(NodeConfig config, Runnable onFatal) throws Exception {
    Node node = new Node(config, onFatal);
    try {
      node.open();
      return node;
    } catch (Exception e) {
      node.close();
      throw e;
    }
  }

  private void open() throws Exception {
    StartupPhases phases = StartupPhases.sinceJvmStart();
    if (config.buffer().durability() == Durability.NONE) {
      LOG.warn(
          "buffer.durability=none: the RocksDB WAL is OFF, a crash LOSES acknowledged events. "
              + "Use it for benchmarks only.");
    }
    buffer =
        closer.register(
            RocksBuffer.open(config.buffer(), config.partitionId()), () -> buffer.close());
    closer.onClose(this::stopFlushing);
    phases.mark("buffer");
    if (config.flush().enabled() && buffer.claimEpoch() > 0) {
      // this buffer held the partition before, so its sequences continue the table's: when the
      // catalog does not answer soon, it takes writes anyway and joins the table (claim, recover,
      // flush) in the background as soon as the catalog answers
      try {
        joinTable(
            QUICK_JOIN.compareTo(config.flush().startupTimeout()) < 0
                ? QUICK_JOIN
                : config.flush().startupTimeout());
      } catch (CatalogUnavailableException e) {
        LOG.warn(
            "partition {}: the catalog does not answer ({}); taking writes and joining the table when it"
                + " does",
            config.partitionId(),
            e.getMessage());
        backgroundStartup = new Thread(this::joinTableInBackground, "floe-partition-startup");
        backgroundStartup.setDaemon(true);
        backgroundStartup.start();
      }
    } else if (config.flush().enabled()) {
      // a new buffer must learn the table's committed sequence before it hands out any
      joinTable(config.flush().startupTimeout());
    } else {
      LOG.warn("flush.enabled=false: events stay in RocksDB and never reach the table");
    }
    phases.mark("join");
    committer = new GroupCommitter(buffer, metrics, this::workerDied);
    closer.onClose(
        () -> {
          committer.close();
          finalFlush();
        });
    metrics.watchBuffer(buffer, budget::usedBytes);
    metrics.watchReady(() -> notReady() == null);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    closer.onClose(() -> await(vertx.close().toCompletionStage().toCompletableFuture()));
    closer.onClose(this::drain);
    port = listen(vertx, committer);
    phases.mark("http");
    metrics.startedUp(phases.seconds());
    LOG.info(
        "node started: partition={} port={} durability={} dir={} hwm={} committed={}; {} ms since"
            + " the JVM started ({})",
        config.partitionId(),
        port,
        config.buffer().durability(),
        config.buffer().dir(),
        buffer.highWaterMark(),
        buffer.committedSequence(),
        phases.totalMillis(),
        phases);
  }

  private void joinTable(Duration timeout) throws InterruptedException {
    try {
      flushing =
          PartitionStartup.start(
              buffer,
              config.partitionId(),
              config.flush(),
              config.commit(),
              this::advertisedAddress,
              metrics,
              this::fence,
              this::workerDied,
              timeout);
    } catch (SalvageNeededException e) {
      salvageNeeded = true;
      LOG.error(e.getMessage());
    }
  }

  private void joinTableInBackground() {
    while (!closed) {
      try {
        joinTable(config.flush().startupTimeout());
        return;
      } catch (InterruptedException e) {
        return;
      } catch (ConfigException e) {
        LOG.error("partition {} cannot join the table: {}", config.partitionId(), e.getMessage());
        return;
      } catch (RuntimeException e) {
        LOG.warn(
            "partition {} has not joined the table yet ({}); writes are buffered meanwhile",
            config.partitionId(),
            e.getMessage());
      }
    }
  }

  /** Stops a start-up still waiting for the catalog, then the flusher and the catalog client. */
  private void stopFlushing() throws Exception {
    if (backgroundStartup != null) {
      backgroundStartup.interrupt();
      backgroundStartup.join(TimeUnit.SECONDS.toMillis(30));
    }
    if (flushing != null) {
      flushing.close();
    }
  }

  /**
   * Deploys one HTTP verticle per event loop; Vert.x shares the listening socket between them (also
   * for port 0).
   */
  private int listen(Vertx vertx, GroupCommitter committer) throws Exception {
    ErrorResponses errors = new ErrorResponses(metrics);
    ScopedAuth auth =
        new ScopedAuth(
            config.auth(),
            config.metricsOpen(),
            new Quotas(config.maxConcurrentPerToken(), metrics::throttled));
    IngestHandler ingest =
        new IngestHandler(
            config, committer, budget, metrics, this, auth, this::columns, this::streamPolicies);
    OpsHandler ops =
        new OpsHandler(config.partitionId(), buffer, budget, metrics, this, this::flusher);
    DeadLetterHandler deadLetters = new DeadLetterHandler(this::deadLetterReplay, config.limits());
    HandoverHandler handover = new HandoverHandler(this::coordinatorRole);
    NodeHttpVerticle.Listen listen =
        new NodeHttpVerticle.Listen(
            config.httpHost(), config.httpPort(), config.idleTimeout(), config.tls());
    ConnectionLimit connections = new ConnectionLimit(config.maxConnections());
    metrics.watchConnections(connections::open, connections::refused);
    List<NodeHttpVerticle> servers = new CopyOnWriteArrayList<>();
    await(
        vertx
            .deployVerticle(
                () -> {
                  NodeHttpVerticle v =
                      new NodeHttpVerticle(
                          listen,
                          connections,
                          ingest,
                          ops,
                          deadLetters,
                          handover,
                          auth,
                          errors,
                          metrics);
                  servers.add(v);
                  return v;
                },
                new DeploymentOptions().setInstances(config.eventLoops()))
            .toCompletionStage()
            .toCompletableFuture());
    return servers.get(0).actualPort();
  }

  private void fence() {
    fenced = true;
    LOG.error(
        "partition {} was claimed by another process: this node no longer accepts writes",
        config.partitionId());
  }

  private void workerDied(Throwable e) {
    workerDied = true;
    LOG.error(
        "partition {}: a worker thread died ({}); the node refuses writes and stops",
        config.partitionId(),
        e.toString());
    onFatal.run();
  }

  @Override
  public NotReady notReady() {
    if (workerDied) {
      return NotReady.WORKER_DIED;
    }
    if (salvageNeeded) {
      return NotReady.SALVAGE_NEEDED;
    }
    if (draining) {
      return NotReady.DRAINING;
    }
    if (fenced) {
      return NotReady.FENCED;
    }
    if (buffer.bufferedBytes() >= buffer.config().maxBytes()) {
      return NotReady.BUFFER_FULL;
    }
    if (committer != null && committer.failing()) {
      return NotReady.STORAGE_FAILING;
    }
    return null;
  }

  /** Refuses new requests and waits (up to node.shutdown-grace-seconds) for those in flight. */
  private void drain() throws InterruptedException {
    draining = true;
    LOG.info("node stopping: refusing new requests, waiting for {} in flight", budget.requests());
    while (budget.requests() > 0 && System.nanoTime() < shutdownDeadlineNanos) {
      Thread.sleep(10);
    }
    if (budget.requests() > 0) {
      LOG.warn(
          "{} requests still in flight after {}; closing anyway (they were not acknowledged)",
          budget.requests(),
          config.shutdownGrace());
    }
  }

  /**
   * Best effort: what is acknowledged goes to the table before the process exits; if not, it waits
   * in RocksDB.
   */
  private void finalFlush() {
    Flusher flusher = flusher();
    if (flusher == null || fenced || buffer.bufferedEvents() == 0) {
      return;
    }
    long wait = Math.max(TimeUnit.SECONDS.toNanos(1), shutdownDeadlineNanos - System.nanoTime());
    try {
      flusher.flushNow().get(wait, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn(
          "final flush interrupted; {} events stay in the buffer for the next start",
          buffer.bufferedEvents());
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn(
          "final flush did not finish ({}); {} events stay in the buffer for the next start",
          e.getMessage(),
          buffer.bufferedEvents());
    }
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

  /**
   * Where other nodes reach this node's hand-over route: {@code node.advertise-address}, else the
   * HTTP host (this host's address when it is a wildcard) and the bound port; null before the port
   * is bound.
   */
  public String advertisedAddress() {
    String configured = config.commit().advertiseAddress();
    if (configured != null) {
      return configured;
    }
    int bound = port;
    if (bound == 0) {
      return null;
    }
    String host = config.httpHost();
    if (host.equals("0.0.0.0") || host.equals("::") || host.isEmpty()) {
      try {
        host = InetAddress.getLocalHost().getHostAddress();
      } catch (UnknownHostException e) {
        host = InetAddress.getLoopbackAddress().getHostAddress();
      }
    }
    return host.contains(":") && !host.startsWith("[")
        ? "[" + host + "]:" + bound
        : host + ":" + bound;
  }

  /** This node's view of the committer role, or null (direct commits, or not joined yet). */
  public CoordinatorRole coordinatorRole() {
    PartitionStartup.Flushing f = flushing;
    return f == null ? null : f.role();
  }

  public RocksBuffer buffer() {
    return buffer;
  }

  public NodeConfig config() {
    return config;
  }

  /** The typed columns as this node knows them (none before the partition joined the table). */
  public ColumnSet columns() {
    PartitionStartup.Flushing f = flushing;
    return f == null ? ColumnSet.NONE : f.columns().current();
  }

  /** Replays of this partition's dead letters; null before the partition joined the table. */
  public DeadLetterReplay deadLetterReplay() {
    PartitionStartup.Flushing f = flushing;
    if (f == null) {
      return null;
    }
    synchronized (this) {
      if (replay == null || replayOf != f) {
        NodeConfig.IngestLimits limits = config.limits();
        replay =
            new DeadLetterReplay(
                f.catalog(),
                config.flush().table(),
                config.partitionId(),
                committer,
                limits.maxDecodedBytes(),
                limits.maxEventBytes(),
                limits.deadLetterMaxRawBytes(),
                limits.deadLetterReadBudgetBytes(),
                new FieldNames(limits.keyField(), limits.timeField()),
                this::columns,
                this::flusher,
                metrics);
        replayOf = f;
      }
      return replay;
    }
  }

  /** The streams' error policies as this node knows them (reject before it joined the table). */
  public StreamPolicies streamPolicies() {
    PartitionStartup.Flushing f = flushing;
    return f == null ? StreamPolicies.NONE : f.columns().policies();
  }

  /**
   * Re-reads the table's typed columns now instead of at the next {@code columns.refresh-seconds}.
   */
  public void refreshColumns() {
    PartitionStartup.Flushing f = flushing;
    if (f != null) {
      f.columns().refresh();
    }
  }

  /**
   * The flusher, or null when flushing is disabled or the partition has not joined the table yet.
   */
  public Flusher flusher() {
    PartitionStartup.Flushing f = flushing;
    return f == null ? null : f.flusher();
  }

  @Override
  public synchronized void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    draining = true;
    shutdownDeadlineNanos = System.nanoTime() + config.shutdownGrace().toNanos();
    closer.close();
    LOG.info(
        "node stopped: partition={} hwm={}",
        config.partitionId(),
        buffer == null ? -1 : buffer.highWaterMark());
  }
}
