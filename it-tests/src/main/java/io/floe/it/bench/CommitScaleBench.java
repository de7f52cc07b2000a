package io.floe.it.bench;

import io.floe.catalog.commit.CommitCoordinator;
import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.commit.EarlierCommitLandedException;
import io.floe.catalog.commit.FencedException;
import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.HandoverCodec;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotParser;
import org.apache.iceberg.Table;
import org.apache.iceberg.inmemory.InMemoryFileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The commit path at scale, simulated: K writers, each holding a real partition claim, every flush
 * age ± 20 % produce 1–3 data files (with realistic column metrics, no Parquet written) and commit
 * them, either {@code direct} (each its own {@link CommitProtocol}, today's path: K committers
 * racing for one table) or {@code coordinated} (hand-over through the real {@link HandoverCodec} to
 * one in-process {@link CommitCoordinator}, which commits everything pending once per interval).
 * Both modes run in the same process against a real JDBC catalog (a SQLite file, one connection, as
 * the catalog service runs it); the metadata files live in memory, so the figures leave out object
 * storage latency.
 *
 * <p>Per run one line: {@code scale: mode=.. writers=K commits_per_s=.. attempts_per_commit=..
 * visible_p50_ms=.. visible_p99_ms=.. manifests=.. snapshots=.. metadata_bytes=..
 * node_table_loads_per_s=.. commits=.. ranges=.. coordinator_cpu_pct=.. flush_snapshot_bytes=..
 * metadata_steady_bytes=..}. Commits and ranges: landed within the run's seconds. Visible: from the
 * writer's cut to the answer that its range is in the table, for every range cut within the run
 * (also those whose commit lands after it, which are waited for). Node table loads: metadata.json
 * reads by the writers' catalog client during the run (the coordinator has its own client).
 *
 * <p>usage: CommitScaleBench [--writers 3,8,16,32,100,300,1000] [--seconds 120] [--age-ms 3000]
 * [--interval-ms 2000] [--modes direct,coordinated] [--dir .floe/bench-scale]
 */
public final class CommitScaleBench {
  private CommitScaleBench() {}

  /** Reads of metadata.json through one catalog client: its table loads. */
  public static final class CountingFileIO extends InMemoryFileIO {
    final AtomicLong metadataReads = new AtomicLong();

    @Override
    public InputFile newInputFile(String path) {
      if (path.endsWith(".metadata.json")) {
        metadataReads.incrementAndGet();
      }
      return super.newInputFile(path);
    }
  }

  private record Result(
      long commits,
      long attempts,
      long ranges,
      long[] lagMillis,
      int manifests,
      int snapshots,
      long metadataBytes,
      long flushSnapshotBytes,
      long metadataSteadyBytes,
      long loads,
      double coordinatorCpuSeconds,
      double seconds) {}

  /**
   * Snapshots maintenance keeps at its count bound ({@code maintenance.max-snapshots}, default):
   * the steady state the metadata file is projected to.
   */
  static final int MAX_SNAPSHOTS = 1000;

  /** A snapshot-log entry ({@code {"timestamp-ms":..,"snapshot-id":..}}) in metadata.json. */
  private static final int SNAPSHOT_LOG_ENTRY_BYTES = 60;

  public static void main(String[] args) throws Exception {
    int[] writers = {3, 8, 16, 32, 100, 300, 1000};
    int seconds = 120;
    int ageMs = 3000;
    int intervalMs = 2000;
    List<String> modes = List.of("direct", "coordinated");
    Path dir = Path.of(".floe/bench-scale");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--writers" ->
            writers = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--age-ms" -> ageMs = Integer.parseInt(args[i + 1]);
        case "--interval-ms" -> intervalMs = Integer.parseInt(args[i + 1]);
        case "--modes" -> modes = List.of(args[i + 1].split(","));
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    for (String mode : modes) {
      if (!mode.equals("direct") && !mode.equals("coordinated")) {
        throw new IllegalArgumentException("--modes takes direct and coordinated, not " + mode);
      }
    }
    FlushBench.deleteTree(dir);
    Files.createDirectories(dir);
    System.out.printf(
        "scale bench: %s writers, %d s each, flush age %d ms ± 20 %%, commit interval %d ms, %d"
            + " cores, SQLite JDBC catalog (metadata in memory)%n",
        Arrays.toString(writers),
        seconds,
        ageMs,
        intervalMs,
        Runtime.getRuntime().availableProcessors());
    for (int k : writers) {
      for (String mode : modes) {
        Result r = run(dir.resolve(mode + "-" + k), mode, k, seconds, ageMs, intervalMs);
        System.out.println(line(mode, k, r));
      }
    }
  }

  private static String line(String mode, int k, Result r) {
    long[] lag = r.lagMillis();
    Arrays.sort(lag);
    return String.format(
        Locale.ROOT,
        "scale: mode=%s writers=%d commits_per_s=%.2f attempts_per_commit=%.2f visible_p50_ms=%d"
            + " visible_p99_ms=%d manifests=%d snapshots=%d metadata_bytes=%d"
            + " node_table_loads_per_s=%.2f commits=%d ranges=%d coordinator_cpu_pct=%.1f"
            + " flush_snapshot_bytes=%d metadata_steady_bytes=%d",
        mode,
        k,
        r.commits() / r.seconds(),
        r.commits() == 0 ? 0.0 : (double) r.attempts() / r.commits(),
        percentile(lag, 0.50),
        percentile(lag, 0.99),
        r.manifests(),
        r.snapshots(),
        r.metadataBytes(),
        r.loads() / r.seconds(),
        r.commits(),
        r.ranges(),
        100 * r.coordinatorCpuSeconds() / r.seconds(),
        r.flushSnapshotBytes(),
        r.metadataSteadyBytes());
  }

  private static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  private static JdbcCatalog catalog(Path db, CountingFileIO io) {
    JdbcCatalog catalog = new JdbcCatalog(props -> io, null, true);
    Map<String, String> props = new HashMap<>();
    props.put("uri", "jdbc:sqlite:" + db.toAbsolutePath());
    props.put("warehouse", "memory://bench-scale/" + UUID.randomUUID());
    // SQLite takes one writer at a time (as the catalog service configures it)
    props.put("clients", "1");
    props.put("jdbc.schema-version", "V1");
    catalog.initialize("bench", props);
    return catalog;
  }

  /** One writer: a node's partition, its claim, and how far it has committed. */
  private static final class Writer {
    final int partition;
    final CommitProtocol protocol;
    final PartitionClaim claim;
    long after;
    volatile boolean stopped;

    Writer(int partition, CommitProtocol protocol, PartitionClaim claim) {
      this.partition = partition;
      this.protocol = protocol;
      this.claim = claim;
      this.after = claim.committedSequence();
    }
  }

  private static Result run(Path dir, String mode, int k, int seconds, int ageMs, int intervalMs)
      throws Exception {
    Files.createDirectories(dir);
    Path db = dir.resolve("catalog.db");
    CountingFileIO nodeIo = new CountingFileIO();
    JdbcCatalog nodes = catalog(db, nodeIo);
    TableSettings settings = TableSettings.defaults();
    EventsTable.ensure(nodes, settings);
    List<Writer> writers = new ArrayList<>();
    for (int p = 0; p < k; p++) {
      Table handle = nodes.loadTable(EventsTable.identifier(settings));
      CommitProtocol protocol = new CommitProtocol(handle, p, "writer-" + p);
      writers.add(new Writer(p, protocol, protocol.claim()));
    }
    CommitCoordinator coordinator = null;
    JdbcCatalog coordinatorCatalog = null;
    Table coordinatorTable = null;
    if (mode.equals("coordinated")) {
      coordinatorCatalog = catalog(db, new CountingFileIO());
      coordinatorTable = coordinatorCatalog.loadTable(EventsTable.identifier(settings));
      long epoch = CoordinatorClaim.claim(coordinatorTable, "in-process", "bench").epoch();
      coordinator =
          new CommitCoordinator(
              coordinatorTable,
              epoch,
              new CommitCoordinator.Settings(
                  Duration.ofMillis(intervalMs),
                  CommitCoordinator.Settings.URGENT_SPACING_DEFAULT,
                  CommitCoordinator.Settings.MAX_FILES_DEFAULT,
                  CommitCoordinator.Settings.MAX_PENDING_BYTES_DEFAULT));
      coordinator.start();
    }
    Table shape = nodes.loadTable(EventsTable.identifier(settings));
    ConcurrentLinkedQueue<Long> lags = new ConcurrentLinkedQueue<>();
    AtomicLong ranges = new AtomicLong();
    AtomicInteger inFlight = new AtomicInteger();
    ScheduledExecutorService pool =
        Executors.newScheduledThreadPool(mode.equals("direct") ? Math.min(k, 32) : 4);
    long loadsBefore = nodeIo.metadataReads.get();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    CommitCoordinator c = coordinator;
    Table ct = coordinatorTable;
    for (Writer w : writers) {
      long first = ThreadLocalRandom.current().nextLong(ageMs);
      pool.schedule(
          () -> tick(w, shape, c, ct, pool, ageMs, end, lags, ranges, inFlight),
          first,
          TimeUnit.MILLISECONDS);
    }
    // the run: writers schedule themselves until the end
    long sleep = end - System.nanoTime();
    if (sleep > 0) {
      TimeUnit.NANOSECONDS.sleep(sleep);
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long loads = nodeIo.metadataReads.get() - loadsBefore;
    long rangesInRun = ranges.get();
    double coordinatorCpu = coordinatorCpuSeconds();
    long commits;
    long attempts;
    if (coordinator != null) {
      commits = coordinator.stats().commits();
      attempts = coordinator.stats().attempts();
    } else {
      commits = writers.stream().mapToLong(w -> w.protocol.commits()).sum();
      attempts = writers.stream().mapToLong(w -> w.protocol.attempts()).sum();
    }
    // let what is in flight finish before reading the table
    long drain = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (inFlight.get() > 0 && System.nanoTime() < drain) {
      Thread.sleep(50);
    }
    pool.shutdownNow();
    pool.awaitTermination(30, TimeUnit.SECONDS);
    if (coordinator != null) {
      coordinator.close();
    }
    Table t = nodes.loadTable(EventsTable.identifier(settings));
    int manifests = t.currentSnapshot().dataManifests(t.io()).size();
    int snapshots = 0;
    for (var ignored : t.snapshots()) {
      snapshots++;
    }
    String location = ((HasTableOperations) t).operations().current().metadataFileLocation();
    long metadataBytes = t.io().newInputFile(location).getLength();
    // what the file holds besides its snapshots, plus the count bound's worth of flush snapshots
    // as this run wrote them (claims expire; each snapshot also has a snapshot-log entry)
    long allSnapshotBytes = 0;
    long flushBytes = 0;
    int flushes = 0;
    for (Snapshot snap : t.snapshots()) {
      long bytes = SnapshotParser.toJson(snap).length() + SNAPSHOT_LOG_ENTRY_BYTES;
      allSnapshotBytes += bytes;
      if (FloeTableKeys.OPERATION_FLUSH.equals(snap.summary().get(FloeTableKeys.OPERATION))) {
        flushBytes += bytes;
        flushes++;
      }
    }
    long flushSnapshotBytes = flushes == 0 ? 0 : flushBytes / flushes;
    long metadataSteadyBytes =
        metadataBytes - allSnapshotBytes + (long) MAX_SNAPSHOTS * flushSnapshotBytes;
    nodes.close();
    if (coordinatorCatalog != null) {
      coordinatorCatalog.close();
    }
    return new Result(
        commits,
        attempts,
        rangesInRun,
        lags.stream().mapToLong(Long::longValue).toArray(),
        manifests,
        snapshots,
        metadataBytes,
        flushSnapshotBytes,
        metadataSteadyBytes,
        loads,
        coordinatorCpu,
        elapsed);
  }

  /** CPU time of the coordinator's commit loop (its thread) so far, in seconds; 0 without one. */
  private static double coordinatorCpuSeconds() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    double seconds = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("floe-coordinator-")) {
        long nanos = threads.getThreadCpuTime(t.getId());
        seconds += Math.max(0, nanos) / 1e9;
      }
    }
    return seconds;
  }

  /** One flush of a writer: cut a range, "write" its files, commit or hand over, reschedule. */
  private static void tick(
      Writer w,
      Table shape,
      CommitCoordinator coordinator,
      Table coordinatorTable,
      ScheduledExecutorService pool,
      int ageMs,
      long end,
      ConcurrentLinkedQueue<Long> lags,
      AtomicLong ranges,
      AtomicInteger inFlight) {
    long cut = System.nanoTime();
    if (w.stopped || cut >= end) {
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long events = random.nextLong(50, 2000);
    long after = w.after;
    long through = after + events;
    List<DataFile> files = new ArrayList<>();
    int n = random.nextInt(1, 4);
    for (int i = 0; i < n; i++) {
      files.add(
          fakeFile(shape, w.partition, after, through, events / n + (i == 0 ? events % n : 0)));
    }
    long nextDelayMs = (long) (ageMs * random.nextDouble(0.8, 1.2));
    inFlight.incrementAndGet();
    if (coordinator == null) {
      try {
        w.after =
            w.protocol.commit(
                w.claim,
                after,
                through,
                files,
                Map.of(FloeTableKeys.EVENTS, Long.toString(events)));
        lags.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut));
        ranges.incrementAndGet();
      } catch (EarlierCommitLandedException e) {
        w.after = e.committedSequence();
      } catch (FencedException e) {
        System.err.println("writer " + w.partition + " fenced: " + e.getMessage());
        w.stopped = true;
      } catch (RuntimeException e) {
        System.err.println("writer " + w.partition + ": commit failed: " + e);
      } finally {
        inFlight.decrementAndGet();
      }
      reschedule(
          w,
          shape,
          coordinator,
          coordinatorTable,
          pool,
          ageMs,
          end,
          lags,
          ranges,
          inFlight,
          cut,
          nextDelayMs);
      return;
    }
    // over the wire: the files as an in-memory manifest, read back with the committer's specs
    byte[] wire = HandoverCodec.encode(files, shape.specs());
    List<DataFile> decoded = HandoverCodec.decode(wire, coordinatorTable.specs());
    long bytes = files.stream().mapToLong(DataFile::fileSizeInBytes).sum();
    coordinator
        .handOver(
            new CommitCoordinator.Handover(
                w.partition, w.claim.epoch(), after, through, decoded, events, bytes, false))
        .whenComplete(
            (answer, error) -> {
              try {
                if (answer instanceof HandoverAnswer.Committed) {
                  w.after = through;
                  lags.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut));
                  ranges.incrementAndGet();
                } else if (answer instanceof HandoverAnswer.Mismatch m) {
                  w.after = m.tableCommitted();
                } else if (answer instanceof HandoverAnswer.Fenced
                    || answer instanceof HandoverAnswer.NotCoordinator) {
                  w.stopped = true;
                } else {
                  System.err.println(
                      "writer " + w.partition + ": " + (error != null ? error : answer));
                }
              } finally {
                inFlight.decrementAndGet();
              }
              reschedule(
                  w,
                  shape,
                  coordinator,
                  coordinatorTable,
                  pool,
                  ageMs,
                  end,
                  lags,
                  ranges,
                  inFlight,
                  cut,
                  nextDelayMs);
            });
  }

  private static void reschedule(
      Writer w,
      Table shape,
      CommitCoordinator coordinator,
      Table coordinatorTable,
      ScheduledExecutorService pool,
      int ageMs,
      long end,
      ConcurrentLinkedQueue<Long> lags,
      AtomicLong ranges,
      AtomicInteger inFlight,
      long cut,
      long delayMs) {
    long wait = Math.max(0, delayMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut));
    if (pool.isShutdown()) {
      return;
    }
    try {
      pool.schedule(
          () ->
              tick(
                  w,
                  shape,
                  coordinator,
                  coordinatorTable,
                  pool,
                  ageMs,
                  end,
                  lags,
                  ranges,
                  inFlight),
          wait,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // the run ended
    }
  }

  /** A data file as a node writes one: one hour partition, with every column's metrics. */
  private static DataFile fakeFile(Table t, int partition, long after, long through, long rows) {
    Schema schema = t.schema();
    long hourMicros = TimeUnit.HOURS.toMicros(System.currentTimeMillis() / 3_600_000L);
    Map<Integer, Long> sizes = new HashMap<>();
    Map<Integer, Long> values = new HashMap<>();
    Map<Integer, Long> nulls = new HashMap<>();
    Map<Integer, ByteBuffer> lower = new HashMap<>();
    Map<Integer, ByteBuffer> upper = new HashMap<>();
    for (Types.NestedField f : schema.columns()) {
      int id = f.fieldId();
      values.put(id, rows);
      nulls.put(id, f.isOptional() ? rows / 10 : 0L);
      Type type = f.type();
      Object lo;
      Object hi;
      switch (type.typeId()) {
        case INTEGER -> {
          lo = partition;
          hi = partition;
          sizes.put(id, 16L);
        }
        case LONG -> {
          lo = after + 1;
          hi = through;
          sizes.put(id, rows * 2);
        }
        case TIMESTAMP -> {
          lo = hourMicros;
          hi = hourMicros + TimeUnit.MINUTES.toMicros(59);
          sizes.put(id, rows * 3);
        }
        default -> {
          lo = "a-" + f.name();
          hi = "z-" + f.name() + "-" + UUID.randomUUID().toString().substring(0, 8);
          sizes.put(id, rows * (f.name().equals("payload") ? 300 : 12));
        }
      }
      lower.put(id, Conversions.toByteBuffer(type, lo));
      upper.put(id, Conversions.toByteBuffer(type, hi));
    }
    long size = sizes.values().stream().mapToLong(Long::longValue).sum() / 4 + 4096;
    return DataFiles.builder(t.spec())
        .withPath(t.location() + "/data/p" + partition + "-" + UUID.randomUUID() + ".parquet")
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=" + hourMicros / TimeUnit.HOURS.toMicros(1))
        .withFileSizeInBytes(size)
        .withMetrics(new Metrics(rows, sizes, values, nulls, Map.of(), lower, upper))
        .withSplitOffsets(List.of(4L))
        .build();
  }
}
