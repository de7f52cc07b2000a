package io.floe.catalog.table;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The table's own vocabulary: every {@code floe.*} table property and snapshot-summary key Floe
 * writes or reads, the values of {@link #OPERATION}, and the names of the refs it creates. Nodes,
 * the catalog service, maintenance and tools spell these only here (Iceberg's {@code
 * TableProperties} and {@code SnapshotSummary} are the model), so the exactly-once state is read
 * under the name it was written under.
 *
 * <p>A partition's recovery state ({@link #partitionEpoch}, {@link #partitionCommittedSequence}) is
 * written in the summary of the snapshot that commits the data and, kept equal, in the table
 * properties, which survive snapshot expiry. A claim also records there the partition's holder
 * ({@link #partitionHolder}) and the final committed sequence of the epoch it ended ({@link
 * #partitionEpochCommittedSequence}). Everything under {@link #PREFIX} is reserved: changing it
 * without appending a snapshot needs admin (see {@link #isReserved}).
 */
public final class FloeTableKeys {
  /** Every key Floe owns starts with this. */
  public static final String PREFIX = "floe.";

  // ---- snapshot summary

  /** What a Floe commit did: one of the {@code OPERATION_*} values. */
  public static final String OPERATION = "floe.operation";

  /** A node raised a partition's epoch (a file-less snapshot). */
  public static final String OPERATION_CLAIM = "claim";

  /** A node appended a range of a partition's events. */
  public static final String OPERATION_FLUSH = "flush";

  /** Maintenance merged small files of a closed time partition. */
  public static final String OPERATION_COMPACTION = "compaction";

  /** Maintenance rewrote the current snapshot's manifests. */
  public static final String OPERATION_REWRITE_MANIFESTS = "rewrite-manifests";

  /**
   * A node raised the coordinator epoch to take the committer role (a file-less snapshot whose
   * summary, like the table properties, carries {@link #COORDINATOR_EPOCH}, {@link
   * #COORDINATOR_ADDRESS} and {@link #COORDINATOR_OWNER}).
   */
  public static final String OPERATION_COORDINATOR_CLAIM = "coordinator-claim";

  /**
   * The coordinator epoch: raised by each coordinator claim, recorded by every batch commit of the
   * coordinator that holds it (summary and table properties). A batch commits only while the newest
   * recorded one is its committer's.
   */
  public static final String COORDINATOR_EPOCH = "floe.coordinator.epoch";

  /** Where the coordinator of {@link #COORDINATOR_EPOCH} takes hand-overs ({@code host:port}). */
  public static final String COORDINATOR_ADDRESS = "floe.coordinator.address";

  /** The process that claimed the coordinator role, for people reading the table's history. */
  public static final String COORDINATOR_OWNER = "floe.coordinator.owner";

  /** The coordinator epoch before the first coordinator claim. */
  public static final long COORDINATOR_EPOCH_DEFAULT = 0;

  /**
   * A batch commit's unique id: after an attempt whose answer was lost, the table's snapshots tell
   * whether it landed.
   */
  public static final String COMMIT_ID = "floe.commit-id";

  /** How many partitions a batch commit advanced. */
  public static final String PARTITIONS = "floe.partitions";

  /**
   * Which partitions a batch commit advanced, compactly ({@code catalog.commit.PartitionSet}: id
   * ranges such as {@code 0-5,7}, or a bitmap, whichever is shorter). Their new epoch and committed
   * sequence are in the table properties, written by the same commit: a batch snapshot's summary
   * stays a few hundred bytes however many partitions it advances, so the metadata file does not
   * grow with the cluster. Readers of a partition's state take the properties when the newest
   * snapshot that records the partition is such a batch.
   */
  public static final String ADVANCED_PARTITIONS = "floe.advanced-partitions";

  /**
   * The snapshot id of the newest batch commit that named its partitions compactly (a table
   * property it sets): the properties hold the state it wrote only while that snapshot is in main's
   * history. After main was rolled back across it, readers refuse to take a partition's state from
   * the properties (they would name sequences the table no longer holds) until an operator restores
   * them.
   */
  public static final String ADVANCED_BY = "floe.advanced-by";

  /**
   * How the committer's batch commits record the partitions they advance (a table property):
   * {@value #BATCH_SUMMARY_COMPACT} (the default) or {@value #BATCH_SUMMARY_KEYED}, two summary
   * keys per partition as the release before wrote them, which that release's nodes can read: set
   * it while a coordinated cluster is rolled from that release, and remove it when every node runs
   * this one.
   */
  public static final String BATCH_SUMMARY = "floe.batch-summary";

  public static final String BATCH_SUMMARY_COMPACT = "compact";

  public static final String BATCH_SUMMARY_KEYED = "keyed";

  /** The process that claimed the partition (in a claim's summary). */
  public static final String OWNER = "floe.owner";

  /** The partition a flush committed. */
  public static final String PARTITION_ID = "floe.partition-id";

  /** The sequences a flush committed, {@code first-last}. */
  public static final String SEQUENCE_RANGE = "floe.sequence-range";

  /** How many events a flush committed. */
  public static final String EVENTS = "floe.events";

  /** The time partition a compaction rewrote, as its path ({@code event_time_hour=...}). */
  public static final String COMPACTED_PARTITION = "floe.partition";

  /**
   * A compaction's unique id: after a commit whose answer was an error, the table's snapshots tell
   * whether it landed.
   */
  public static final String COMPACTION_ID = "floe.compaction-id";

  // ---- per-partition state: snapshot summary and table properties

  /** Keys of a partition's state start with this. */
  public static final String PARTITION_PREFIX = "floe.partition.";

  /** A partition's epoch before its first claim. */
  public static final long PARTITION_EPOCH_DEFAULT = 0;

  /** A partition's committed sequence before its first commit. */
  public static final long PARTITION_COMMITTED_SEQUENCE_DEFAULT = 0;

  // ---- table properties

  /** Keys of typed-column mappings start with this; the rest is the column's name. */
  public static final String COLUMN_PREFIX = "floe.column.";

  /**
   * Keys of stream error policies start with this; the rest is a stream pattern ({@code orders},
   * {@code orders-*}, {@code *}) and the value {@code reject}, {@code dead_letter} or {@code
   * per_request}.
   */
  public static final String STREAM_ON_ERROR_PREFIX = "floe.stream.on-error.";

  /** The process that holds the table's maintenance lease. */
  public static final String MAINTENANCE_HOLDER = "floe.maintenance.holder";

  /** When the maintenance lease expires, in epoch milliseconds. */
  public static final String MAINTENANCE_LEASE_EXPIRES_MS = "floe.maintenance.lease-expires-ms";

  // ---- refs

  /**
   * Maintenance tags one snapshot per hour, {@code floe-hourly-<yyyyMMddHH>} (UTC): the table as it
   * stood at the end of that hour.
   */
  public static final String HOURLY_TAG_PREFIX = "floe-hourly-";

  private static final DateTimeFormatter TAG_HOUR =
      DateTimeFormatter.ofPattern("yyyyMMddHH").withZone(ZoneOffset.UTC);

  private FloeTableKeys() {}

  /** {@code floe-hourly-<yyyyMMddHH>}: the tag of the hour that starts at {@code hour} (UTC). */
  public static String hourlyTag(Instant hour) {
    return HOURLY_TAG_PREFIX + TAG_HOUR.format(hour);
  }

  /** {@code floe.partition.<id>.epoch}: the epoch of the partition's last claim. */
  public static String partitionEpoch(int partition) {
    return PARTITION_PREFIX + partition + ".epoch";
  }

  /** {@code floe.partition.<id>.committed-sequence}: the partition's last committed sequence. */
  public static String partitionCommittedSequence(int partition) {
    return PARTITION_PREFIX + partition + ".committed-sequence";
  }

  /**
   * {@code floe.partition.<id>.holder}: the buffer (an id the node keeps with it) that made the
   * partition's last claim. A node whose claim landed but whose answer was lost finds its own id
   * here, and knows that the epoch above its own is its own.
   */
  public static String partitionHolder(int partition) {
    return PARTITION_PREFIX + partition + ".holder";
  }

  /**
   * {@code floe.partition.<id>.epoch-<epoch>.committed-sequence}: the partition's committed
   * sequence when {@code epoch} ended, written by the claim that ended it. It tells a node that
   * held {@code epoch} which of its events were committed, also once the snapshots of that epoch
   * have expired. Only the last few epochs keep one (the claim removes older ones).
   */
  public static String partitionEpochCommittedSequence(int partition, long epoch) {
    return PARTITION_PREFIX + partition + ".epoch-" + epoch + ".committed-sequence";
  }

  /**
   * The epoch of a {@link #partitionEpochCommittedSequence} key of {@code partition}, or -1 when
   * {@code key} is not one.
   */
  public static long epochOfCommittedSequenceKey(int partition, String key) {
    String prefix = PARTITION_PREFIX + partition + ".epoch-";
    String suffix = ".committed-sequence";
    if (!key.startsWith(prefix) || !key.endsWith(suffix)) {
      return -1;
    }
    String epoch = key.substring(prefix.length(), key.length() - suffix.length());
    if (epoch.isEmpty() || epoch.length() > 18 || !epoch.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(epoch);
  }

  /**
   * The partition whose state {@code key} is ({@code floe.partition.7.epoch}: 7), or -1 when it is
   * not a {@link #PARTITION_PREFIX} key with a partition number.
   */
  public static int partitionOf(String key) {
    if (!key.startsWith(PARTITION_PREFIX)) {
      return -1;
    }
    int end = key.indexOf('.', PARTITION_PREFIX.length());
    String id = key.substring(PARTITION_PREFIX.length(), end < 0 ? key.length() : end);
    if (id.isEmpty() || id.length() > 9 || !id.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Integer.parseInt(id);
  }

  /** {@code floe.column.<name>}: the mapping of the typed column {@code name}. */
  public static String column(String name) {
    return COLUMN_PREFIX + name;
  }

  /**
   * {@code floe.stream.on-error.<pattern>}: the error policy of the streams {@code pattern} names.
   */
  public static String streamOnError(String pattern) {
    return STREAM_ON_ERROR_PREFIX + pattern;
  }

  /** Whether {@code key} is one of Floe's own (a {@code floe.*} key). */
  public static boolean isReserved(String key) {
    return key.startsWith(PREFIX);
  }
}
