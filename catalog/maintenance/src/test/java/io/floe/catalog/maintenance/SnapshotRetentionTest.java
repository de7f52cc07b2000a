package io.floe.catalog.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.LocationProviders;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.inmemory.InMemoryFileIO;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
import org.junit.jupiter.api.Test;

/**
 * A day of a busy cluster under the default maintenance: 8 nodes (partitions 0..7, each its own
 * {@link CommitProtocol}) commit every 30 s of simulated time, 2,880 commits each, and maintenance
 * runs every 100 commits on a clock that follows the simulated time. The metadata file must stay
 * under the catalog's metadata alarm (Terraform) the whole day, and an hourly tag must keep each
 * hour of the day reachable.
 *
 * <p>To keep 23,040 commits cheap, the table's metadata lives in memory ({@link MemoryOps}: no
 * metadata file written and read back per commit; manifests and manifest lists are written, to an
 * in-memory FileIO) and the data files are entries only. The metadata file's size is measured as
 * Iceberg writes it, just before each maintenance cycle, when it is largest.
 */
class SnapshotRetentionTest {
  private static final int NODES = 8;
  private static final int COMMITS_EACH = 2_880;
  private static final Duration COMMIT_EVERY = Duration.ofSeconds(30);
  private static final int MAINTENANCE_EVERY = 100;

  /** What the default {@code maintenance.max-snapshots} is sized for. */
  private static final long METADATA_BUDGET = 2L << 20;

  @Test
  void aDayOfEightBusyNodesStaysUnderTheMetadataAlarmAndEveryHourKeepsATag() throws Exception {
    long alarm = metadataAlarmBytes();
    TableSettings settings = TableSettings.defaults();
    String location =
        "s3://floe/warehouse/floe/events-" + UUID.randomUUID().toString().replace("-", "");
    MemoryOps ops =
        new MemoryOps(
            TableMetadata.newTableMetadata(
                EventsTable.SCHEMA,
                EventsTable.spec(settings),
                EventsTable.sortOrder(),
                location,
                EventsTable.properties(settings)));
    Table table = new BaseTable(ops, "memory.floe.events");
    Instant start = Instant.now();
    SimulatedClock clock = new SimulatedClock(start);
    TableMaintenance maintenance =
        new TableMaintenance(
            () -> table,
            MaintenanceConfig.load(Settings.of(Map.of())),
            new MaintenanceMetrics(new PrometheusRegistry()),
            clock);
    List<CommitProtocol> nodes = new ArrayList<>();
    List<PartitionClaim> claims = new ArrayList<>();
    for (int p = 0; p < NODES; p++) {
      CommitProtocol node = new CommitProtocol(table, p, "node-" + p);
      nodes.add(node);
      claims.add(node.claim());
    }

    long largest = 0;
    long firstBytes = 0;
    int firstSnapshots = 0;
    long perSnapshot = 0;
    int commits = 0;
    long began = System.nanoTime();
    for (int round = 0; round < COMMITS_EACH; round++) {
      for (int p = 0; p < NODES; p++) {
        long after = round * 1000L;
        nodes
            .get(p)
            .commit(
                claims.get(p),
                after,
                after + 1000,
                List.of(dataFile(table, clock.instant(), p, round)),
                Map.of(FloeTableKeys.EVENTS, "1000"));
        clock.advance(COMMIT_EVERY.dividedBy(NODES));
        commits++;
        if (commits % MAINTENANCE_EVERY == 0) {
          long bytes = metadataBytes(ops.current());
          int snapshots = ops.current().snapshots().size();
          if (commits == MAINTENANCE_EVERY) {
            firstBytes = bytes;
            firstSnapshots = snapshots;
          } else if (commits == 2 * MAINTENANCE_EVERY) {
            perSnapshot = (bytes - firstBytes) / Math.max(1, snapshots - firstSnapshots);
          }
          largest = Math.max(largest, bytes);
          assertThat(bytes)
              .as(
                  "the metadata file after %d commits (%d snapshots) against the alarm's %d bytes",
                  commits, snapshots, alarm)
              .isLessThan(alarm);
          maintenance.runOnce();
        }
      }
    }
    // the last hour closes a little after the day's last commit
    clock.advance(Duration.ofMinutes(2));
    maintenance.runOnce();
    System.out.printf(
        "snapshot retention: %d commits in %d s; metadata at most %d bytes (%d snapshots at the"
            + " end), about %d bytes per flush snapshot%n",
        commits,
        (System.nanoTime() - began) / 1_000_000_000L,
        largest,
        ops.current().snapshots().size(),
        perSnapshot);

    assertThat(largest)
        .as("the budget the default is sized for")
        .isLessThanOrEqualTo(METADATA_BUDGET);
    Instant lastHour = clock.instant().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(1));
    long previous = -1;
    for (int k = 22; k >= 0; k--) {
      Instant hour = lastHour.minus(Duration.ofHours(k));
      String tag = FloeTableKeys.hourlyTag(hour);
      SnapshotRef ref = table.refs().get(tag);
      assertThat(ref).as("the tag of the hour %s", hour).isNotNull();
      assertThat(ref.isTag()).isTrue();
      assertThat(ref.maxRefAgeMs()).isEqualTo(Duration.ofDays(1).toMillis());
      Snapshot tagged = table.snapshot(ref.snapshotId());
      assertThat(tagged).as("the snapshot tagged %s", tag).isNotNull();
      assertThat(tagged.snapshotId()).as("each hour its own state").isNotEqualTo(previous);
      previous = tagged.snapshotId();
      // time travel to it reads that state: every manifest of it is still there
      int files = 0;
      try (CloseableIterable<FileScanTask> tasks = table.newScan().useRef(tag).planFiles()) {
        for (FileScanTask ignored : tasks) {
          files++;
        }
      }
      assertThat(files)
          .as("the data files of %s", tag)
          .isEqualTo(Integer.parseInt(tagged.summary().get("total-data-files")));
    }
    // the nodes' recovery state survives in the table properties
    for (int p = 0; p < NODES; p++) {
      assertThat(new CommitProtocol(table, p, "restarted").committedSequence())
          .isEqualTo(COMMITS_EACH * 1000L);
    }
  }

  /** One flush's file: an entry only, large enough that compaction leaves it alone. */
  private static DataFile dataFile(Table table, Instant now, int partition, int round) {
    long hour = now.getEpochSecond() / 3600;
    return DataFiles.builder(table.spec())
        .withPath(
            table.location()
                + "/data/event_time_hour="
                + hour
                + "/"
                + String.format("%05d-%d-%s-00001.parquet", partition, round, UUID.randomUUID()))
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=" + hour)
        .withFileSizeInBytes(128L << 20)
        .withRecordCount(1000)
        .build();
  }

  /** The size of the metadata file Iceberg writes for {@code metadata}. */
  private static long metadataBytes(TableMetadata metadata) {
    return TableMetadataParser.toJson(metadata).getBytes(StandardCharsets.UTF_8).length;
  }

  /** The threshold of the catalog's metadata alarm, as Terraform sets it. */
  private static long metadataAlarmBytes() throws Exception {
    Path main = Path.of("../../terraform/modules/catalog/main.tf");
    Matcher m =
        Pattern.compile("metadata-growing\\s*=\\s*\\{[^}]*?threshold\\s*=\\s*(\\d+)")
            .matcher(Files.readString(main));
    assertThat(m.find()).as("the metadata-growing alarm in %s", main).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** Time that moves only when told to. */
  private static final class SimulatedClock extends Clock {
    private volatile Instant now;

    SimulatedClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /**
   * A table whose metadata is held in memory, committed by compare-and-swap as a catalog does; each
   * version gets a metadata file name (so the metadata log grows as in a catalog) but no file.
   */
  private static final class MemoryOps implements TableOperations {
    private final FileIO io = new InMemoryFileIO();
    private TableMetadata current;
    private int version;

    MemoryOps(TableMetadata created) {
      this.current = located(created);
    }

    @Override
    public synchronized TableMetadata current() {
      return current;
    }

    @Override
    public synchronized TableMetadata refresh() {
      return current;
    }

    @Override
    public synchronized void commit(TableMetadata base, TableMetadata metadata) {
      if (base != current) {
        throw new CommitFailedException("the table changed since %s", base.metadataFileLocation());
      }
      current = located(metadata);
    }

    private TableMetadata located(TableMetadata metadata) {
      String name = String.format("%05d-%s.metadata.json", version++, UUID.randomUUID());
      return TableMetadata.buildFrom(metadata)
          .discardChanges()
          .withMetadataLocation(metadata.location() + "/metadata/" + name)
          .build();
    }

    @Override
    public FileIO io() {
      return io;
    }

    @Override
    public String metadataFileLocation(String fileName) {
      return current.location() + "/metadata/" + fileName;
    }

    @Override
    public LocationProvider locationProvider() {
      return LocationProviders.locationsFor(current.location(), current.properties());
    }
  }
}
