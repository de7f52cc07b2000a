package io.floe.catalog.service;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.commit.PartitionSet;
import io.floe.catalog.commit.PartitionState;
import io.floe.catalog.commit.StateHistory;
import io.floe.catalog.commit.StateNotInHistoryException;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.auth.Principal;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateRequirement;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.util.PropertyUtil;

/**
 * What a {@code catalog:commit} token (a node's) may change in a table: exactly what a node's
 * {@code CommitProtocol} commits, a claim or a flush. That is one update request with
 *
 * <ul>
 *   <li>one added snapshot whose operation is {@code append} (a claim adds no files), whose
 *       manifest list keeps every manifest of its parent and adds only manifests of added data
 *       files, and whose summary's {@code floe.operation} is {@code claim} or {@code flush};
 *   <li>its parent the current {@code main}, asserted in the request's requirements (so that the
 *       catalog's own check refuses it, 409, if main moves before it lands);
 *   <li>{@code main} moved to that snapshot, its retention unchanged;
 *   <li>of the {@code floe.*} keys, only Floe's summary keys and the epoch and committed sequence
 *       of the one partition the summary names ({@code floe.partition-id}; a claim's own keys),
 *       equal in the summary and the table properties, and never lower than the table records now;
 *       nothing else in the table properties;
 *   <li>the partition the token is bound to, if it is ({@code partition=N} in the token file).
 * </ul>
 *
 * The committer role of {@code commit.mode=coordinated} adds two: a coordinator claim (no files,
 * the coordinator's keys only, its epoch raised) and a batch commit (the table's current
 * coordinator epoch, the state of each partition it advances, added data files in possibly merged
 * manifests), both only by a token not bound to a partition.
 *
 * <p>Creating a table needs no more than a plain create without {@code floe.*} properties. Anything
 * else (a rollback, a delete, an overwrite, a schema change, another partition's state) needs
 * {@code admin}. Each refusal says which rule the request broke.
 */
final class NodeCommitPolicy {
  /** A commit that breaks a rule: refused with 403 ("needs admin"), naming the rule. */
  static final class Refused extends RuntimeException {
    Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  /** The floe.* summary keys a node writes besides its partition's state. */
  private static final Set<String> SUMMARY_KEYS =
      Set.of(
          FloeTableKeys.OPERATION,
          FloeTableKeys.OWNER,
          FloeTableKeys.PARTITION_ID,
          FloeTableKeys.SEQUENCE_RANGE,
          FloeTableKeys.EVENTS);

  private static final Set<String> NODE_OPERATIONS =
      Set.of(
          FloeTableKeys.OPERATION_CLAIM,
          FloeTableKeys.OPERATION_FLUSH,
          FloeTableKeys.OPERATION_COORDINATOR_CLAIM);

  /** The keys a coordinator claim records, in its summary and the table properties alike. */
  private static final Set<String> COORDINATOR_KEYS =
      Set.of(
          FloeTableKeys.COORDINATOR_EPOCH,
          FloeTableKeys.COORDINATOR_ADDRESS,
          FloeTableKeys.COORDINATOR_OWNER);

  /** The floe.* summary keys a batch commit writes besides its partitions' state. */
  private static final Set<String> BATCH_SUMMARY_KEYS =
      Set.of(
          FloeTableKeys.OPERATION,
          FloeTableKeys.COORDINATOR_EPOCH,
          FloeTableKeys.COMMIT_ID,
          FloeTableKeys.PARTITIONS,
          FloeTableKeys.ADVANCED_PARTITIONS,
          FloeTableKeys.EVENTS);

  /**
   * The most partitions one batch commit may advance: each costs the catalog a walk of the table's
   * history, and the committer's batches are bounded by {@code commit.max-files} (5,000) anyway.
   */
  static final int MAX_BATCH_PARTITIONS = 65_536;

  private NodeCommitPolicy() {}

  /** A node's create: a plain create of a table whose properties hold no floe.* key. */
  static void checkCreate(boolean staged, Set<String> properties) {
    if (staged) {
      throw new Refused("a staged create is not how nodes create the table");
    }
    for (String key : properties) {
      if (FloeTableKeys.isReserved(key)) {
        throw new Refused("a new table may not be given the property " + key);
      }
    }
  }

  /**
   * Checks {@code request} by {@code p} against {@code table} as it is now.
   *
   * @throws Refused when it is not a node's claim or flush
   */
  static void check(Principal p, UpdateTableRequest request, Table table) {
    try {
      checkUpdate(p, request, table);
    } catch (StateNotInHistoryException e) {
      // a definite answer (refused, table unchanged), not an unknown outcome
      throw new Refused(e.getMessage());
    }
  }

  private static void checkUpdate(Principal p, UpdateTableRequest request, Table table) {
    Snapshot added = null;
    MetadataUpdate.SetSnapshotRef moved = null;
    Map<String, String> properties = new TreeMap<>();
    Set<String> removed = new TreeSet<>();
    for (MetadataUpdate update : request.updates()) {
      if (update instanceof MetadataUpdate.AddSnapshot a && added == null) {
        added = a.snapshot();
      } else if (update instanceof MetadataUpdate.SetSnapshotRef r && moved == null) {
        moved = r;
      } else if (update instanceof MetadataUpdate.SetProperties s) {
        properties.putAll(s.updated());
      } else if (update instanceof MetadataUpdate.RemoveProperties r) {
        removed.addAll(r.removed());
      } else {
        throw new Refused(
            name(update) + " is not part of a node's claim or flush (one appended snapshot)");
      }
    }
    if (added == null) {
      throw new Refused(
          moved != null
              ? "moving " + moved.name() + " to an existing snapshot is a rollback"
              : "a change without an appended snapshot is not a node's claim or flush");
    }
    if (moved == null
        || !SnapshotRef.MAIN_BRANCH.equals(moved.name())
        || !"branch".equalsIgnoreCase(moved.type())
        || moved.snapshotId() != added.snapshotId()) {
      throw new Refused("a node's commit moves main to the snapshot it adds, and nothing else");
    }
    if (!DataOperations.APPEND.equals(added.operation())) {
      throw new Refused(
          "a node's commit appends; this snapshot's operation is " + added.operation());
    }
    String operation = added.summary().get(FloeTableKeys.OPERATION);
    if (operation == null || !NODE_OPERATIONS.contains(operation)) { // Set.of refuses null
      throw new Refused(
          FloeTableKeys.OPERATION + " is " + operation + ", not a node's claim or flush");
    }
    Long asserted = assertedMain(request);
    if (!Objects.equals(asserted, added.parentId())) {
      throw new Refused(
          "the snapshot's parent "
              + added.parentId()
              + " is not the main the request asserts ("
              + asserted
              + "); a node's commit asserts that main is its parent");
    }
    SnapshotRef main = table.refs().get(SnapshotRef.MAIN_BRANCH);
    if (!Objects.equals(main == null ? null : main.snapshotId(), asserted)) {
      // main has moved: the catalog's own check of the asserted main refuses it (409), unchanged
      return;
    }
    if (main != null
        && (!Objects.equals(moved.minSnapshotsToKeep(), main.minSnapshotsToKeep())
            || !Objects.equals(moved.maxSnapshotAgeMs(), main.maxSnapshotAgeMs())
            || !Objects.equals(moved.maxRefAgeMs(), main.maxRefAgeMs()))) {
      throw new Refused("a node's commit keeps main's retention as it is");
    }
    if (FloeTableKeys.OPERATION_COORDINATOR_CLAIM.equals(operation)) {
      checkCoordinatorClaim(p, added.summary(), properties, removed, table);
      checkFiles(added, table, true);
      return;
    }
    if (added.summary().containsKey(FloeTableKeys.COORDINATOR_EPOCH)) {
      checkBatch(p, added, properties, removed, table);
      return;
    }
    int partition = partition(added.summary(), operation);
    if (!p.mayCommitPartition(partition)) {
      throw new Refused(
          "the token is bound to partition "
              + p.partition().getAsInt()
              + "; this commit is partition "
              + partition
              + "'s");
    }
    boolean claim = FloeTableKeys.OPERATION_CLAIM.equals(operation);
    if (claim) {
      checkClaimHistory(added.summary(), properties, removed, partition, table);
    } else if (!removed.isEmpty()) {
      throw new Refused("a flush removes no property; this one removes " + removed);
    }
    checkKeys(added.summary(), properties, partition, table);
    checkFiles(added, table, FloeTableKeys.OPERATION_CLAIM.equals(operation));
    checkRaised(added.summary(), table, partition, !claim);
  }

  /**
   * A coordinator claim ({@code CoordinatorClaim}): no files, only the coordinator's three keys,
   * equal in the summary and the properties, its epoch above the table's; by an unbound token (the
   * committer commits every partition).
   */
  private static void checkCoordinatorClaim(
      Principal p,
      Map<String, String> summary,
      Map<String, String> properties,
      Set<String> removed,
      Table table) {
    if (p.partition().isPresent()) {
      throw new Refused(
          "the token is bound to partition "
              + p.partition().getAsInt()
              + "; the committer role commits every partition and needs an unbound token");
    }
    if (!removed.isEmpty()) {
      throw new Refused("a coordinator claim removes no property; this one removes " + removed);
    }
    for (String key : summary.keySet()) {
      if (FloeTableKeys.isReserved(key)
          && !key.equals(FloeTableKeys.OPERATION)
          && !COORDINATOR_KEYS.contains(key)) {
        throw new Refused("a coordinator claim may not record " + key);
      }
    }
    for (String key : properties.keySet()) {
      if (!COORDINATOR_KEYS.contains(key)) {
        throw new Refused("a coordinator claim may not set the property " + key);
      }
    }
    for (String key : COORDINATOR_KEYS) {
      String value = summary.get(key);
      String after = properties.getOrDefault(key, table.properties().get(key));
      if (value == null || !value.equals(after)) {
        throw new Refused(
            "a coordinator claim records "
                + key
                + " alike in its summary and the table properties; this one has "
                + value
                + " and "
                + after);
      }
    }
    long claimed = number(summary, FloeTableKeys.COORDINATOR_EPOCH);
    long now = CoordinatorClaim.current(table).epoch();
    if (claimed <= now) {
      throw new Refused(
          "a coordinator claim raises "
              + FloeTableKeys.COORDINATOR_EPOCH
              + " above "
              + now
              + "; this one records "
              + claimed);
    }
  }

  /**
   * A batch commit ({@code BatchCommit}): the committer's epoch, which must be the table's current
   * one; the partitions it advances, named in {@code floe.advanced-partitions} with their epoch
   * (the table's) and committed sequence (never lower) in the properties, or, as an earlier release
   * wrote them, by their two keys, equal in the summary and the properties and never lower than the
   * table records; only added data files (Iceberg may merge manifests); by an unbound token.
   */
  private static void checkBatch(
      Principal p,
      Snapshot added,
      Map<String, String> properties,
      Set<String> removed,
      Table table) {
    Map<String, String> summary = added.summary();
    if (p.partition().isPresent()) {
      throw new Refused(
          "the token is bound to partition "
              + p.partition().getAsInt()
              + "; a batch commit of the committer role needs an unbound token");
    }
    if (!FloeTableKeys.OPERATION_FLUSH.equals(summary.get(FloeTableKeys.OPERATION))) {
      throw new Refused("only a flush records " + FloeTableKeys.COORDINATOR_EPOCH);
    }
    if (!removed.isEmpty()) {
      throw new Refused("a flush removes no property; this one removes " + removed);
    }
    long epoch = number(summary, FloeTableKeys.COORDINATOR_EPOCH);
    long now = CoordinatorClaim.current(table).epoch();
    if (epoch != now) {
      throw new Refused(
          "a batch commit is made under the table's coordinator epoch "
              + now
              + "; this one records "
              + epoch);
    }
    Set<Integer> partitions = new TreeSet<>();
    for (String key : summary.keySet()) {
      if (!FloeTableKeys.isReserved(key) || BATCH_SUMMARY_KEYS.contains(key)) {
        continue;
      }
      int partition = FloeTableKeys.partitionOf(key);
      if (partition < 0
          || !(key.equals(FloeTableKeys.partitionEpoch(partition))
              || key.equals(FloeTableKeys.partitionCommittedSequence(partition)))) {
        throw new Refused("a batch commit may not record " + key);
      }
      partitions.add(partition);
    }
    BitSet advanced = advancedPartitions(summary, properties);
    if (partitions.isEmpty() && advanced.isEmpty()) {
      throw new Refused("a batch commit advances at least one partition; this one names none");
    }
    Map<String, String> rest = new TreeMap<>(properties);
    String epochAfter = rest.remove(FloeTableKeys.COORDINATOR_EPOCH);
    if (epochAfter != null && !epochAfter.equals(summary.get(FloeTableKeys.COORDINATOR_EPOCH))) {
      throw new Refused(
          "a batch commit records "
              + FloeTableKeys.COORDINATOR_EPOCH
              + " alike in its summary and the table properties");
    }
    for (int partition : partitions) {
      Map<String, String> own = new TreeMap<>();
      for (String key :
          List.of(
              FloeTableKeys.partitionEpoch(partition),
              FloeTableKeys.partitionCommittedSequence(partition))) {
        String value = rest.remove(key);
        if (value != null) {
          own.put(key, value);
        }
      }
      checkKeys(stateOf(summary, partition), own, partition, table);
      checkRaised(summary, table, partition, true);
    }
    String advancedBy = rest.remove(FloeTableKeys.ADVANCED_BY);
    if (!advanced.isEmpty()
        && (StateHistory.snapshotId(advancedBy) != added.snapshotId()
            || StateHistory.sequenceNumber(advancedBy) < 0
            || StateHistory.sequenceNumber(advancedBy) > added.sequenceNumber())) {
      throw new Refused(
          "a batch commit that names its partitions in "
              + FloeTableKeys.ADVANCED_PARTITIONS
              + " sets "
              + FloeTableKeys.ADVANCED_BY
              + " to its own snapshot id and sequence number ("
              + added.snapshotId()
              + ":"
              + added.sequenceNumber()
              + " at most); this one sets "
              + advancedBy);
    }
    // refused (403, by check) while a rollback left the properties behind
    StateHistory.require(
        table.properties(), table.currentSnapshot(), table::snapshot, "no batch commit");
    if (advanced.isEmpty() && advancedBy != null) {
      throw new Refused(
          "only a batch commit that names its partitions in "
              + FloeTableKeys.ADVANCED_PARTITIONS
              + " sets "
              + FloeTableKeys.ADVANCED_BY);
    }
    for (int partition = advanced.nextSetBit(0);
        partition >= 0;
        partition = advanced.nextSetBit(partition + 1)) {
      if (partitions.contains(partition)) {
        throw new Refused(
            "a batch commit records partition "
                + partition
                + " either in its summary's keys or in "
                + FloeTableKeys.ADVANCED_PARTITIONS
                + ", not both");
      }
      checkAdvanced(
          partition,
          rest.remove(FloeTableKeys.partitionEpoch(partition)),
          rest.remove(FloeTableKeys.partitionCommittedSequence(partition)),
          table);
    }
    if (!rest.isEmpty()) {
      throw new Refused("a batch commit may not set the properties " + rest.keySet());
    }
    checkMergedFiles(added, table);
  }

  /**
   * The partitions a batch commit names in {@code floe.advanced-partitions} (none without it), no
   * more than the properties it sets could advance: each needs its committed sequence set.
   */
  private static BitSet advancedPartitions(
      Map<String, String> summary, Map<String, String> properties) {
    String named = summary.get(FloeTableKeys.ADVANCED_PARTITIONS);
    if (named == null) {
      return new BitSet();
    }
    BitSet advanced;
    try {
      advanced = PartitionSet.decode(named);
    } catch (IllegalArgumentException e) {
      throw new Refused(
          FloeTableKeys.ADVANCED_PARTITIONS + " is not a set of partitions: " + e.getMessage());
    }
    if (advanced.cardinality() > MAX_BATCH_PARTITIONS) {
      throw new Refused(
          "a batch commit advances at most "
              + MAX_BATCH_PARTITIONS
              + " partitions; this one names "
              + advanced.cardinality());
    }
    if (advanced.cardinality() > properties.size()) {
      throw new Refused(
          "a batch commit sets the committed sequence of each of the "
              + advanced.cardinality()
              + " partitions it names in "
              + FloeTableKeys.ADVANCED_PARTITIONS
              + "; it sets "
              + properties.size()
              + " properties");
    }
    return advanced;
  }

  /**
   * A partition a batch commit advanced through the properties only: its epoch the one the table
   * records (a batch never claims; a request leaves out a property set to its current value), its
   * committed sequence a number never lower than the table's.
   */
  private static void checkAdvanced(int partition, String epoch, String committed, Table table) {
    String epochKey = FloeTableKeys.partitionEpoch(partition);
    String committedKey = FloeTableKeys.partitionCommittedSequence(partition);
    if (committed == null
        || !committed.matches("[0-9]{1,18}")
        || (epoch != null && !epoch.matches("[0-9]{1,18}"))) {
      throw new Refused(
          "a batch commit sets "
              + committedKey
              + " (and keeps "
              + epochKey
              + ") as numbers for each partition it names; this one sets "
              + committed
              + " and "
              + epoch);
    }
    PartitionState now = PartitionState.of(table, partition);
    if (now.epoch() == FloeTableKeys.PARTITION_EPOCH_DEFAULT) {
      throw new Refused(
          "a batch commit advances claimed partitions only; partition " + partition + " is not");
    }
    if (epoch != null && Long.parseLong(epoch) != now.epoch()) {
      throw new Refused(
          "a batch commit keeps "
              + epochKey
              + " at the table's "
              + now.epoch()
              + "; this one sets "
              + epoch);
    }
    if (Long.parseLong(committed) <= now.committedSequence()) {
      throw new Refused(
          "a batch commit raises "
              + committedKey
              + " above the table's "
              + now.committedSequence()
              + "; this one sets "
              + committed);
    }
  }

  /** The summary's keys of {@code partition}'s state, plus the keys every flush may record. */
  private static Map<String, String> stateOf(Map<String, String> summary, int partition) {
    Map<String, String> out = new TreeMap<>();
    for (String key :
        List.of(
            FloeTableKeys.partitionEpoch(partition),
            FloeTableKeys.partitionCommittedSequence(partition))) {
      if (summary.containsKey(key)) {
        out.put(key, summary.get(key));
      }
    }
    return out;
  }

  private static long number(Map<String, String> summary, String key) {
    String value = summary.get(key);
    if (value == null || !value.matches("[0-9]{1,18}")) {
      throw new Refused(key + " is not a number: " + value);
    }
    return Long.parseLong(value);
  }

  /** The manifests of {@code snapshot}; a 400 when its manifest list cannot be read. */
  private static List<ManifestFile> manifests(Snapshot snapshot, Table table) {
    try {
      return snapshot.allManifests(table.io());
    } catch (NotFoundException e) {
      throw new BadRequestException(
          e, "the snapshot's manifest list cannot be read: %s", e.getMessage());
    }
  }

  /** The manifests of {@code snapshot}'s parent (none without one). */
  private static List<ManifestFile> parentManifests(Snapshot snapshot, Table table) {
    return snapshot.parentId() == null
        ? List.of()
        : manifests(table.snapshot(snapshot.parentId()), table);
  }

  /**
   * A merge append keeps every live data file of its parent: its manifests may be merged, but the
   * live files (added and existing entries, from the manifest list's counts) are the parent's plus
   * the ones it adds, and no new manifest deletes any.
   */
  private static void checkMergedFiles(Snapshot added, Table table) {
    List<ManifestFile> manifests = manifests(added, table);
    List<ManifestFile> before = parentManifests(added, table);
    Set<String> parents = new HashSet<>();
    before.forEach(m -> parents.add(m.path()));
    long liveBefore = live(before);
    long addedFiles = 0;
    for (ManifestFile m : manifests) {
      if (parents.contains(m.path())) {
        continue;
      }
      if (m.content() != ManifestContent.DATA || positive(m.deletedFilesCount())) {
        throw new Refused(
            "a batch commit adds or merges manifests of data files only, deleting none; "
                + m.path()
                + " is not one");
      }
      if (m.snapshotId() != null && m.snapshotId() == added.snapshotId()) {
        addedFiles += m.addedFilesCount() == null ? 0 : m.addedFilesCount();
      }
    }
    if (live(manifests) != liveBefore + addedFiles) {
      throw new Refused(
          "the snapshot holds "
              + live(manifests)
              + " live data files, not its parent's "
              + liveBefore
              + " plus the "
              + addedFiles
              + " it adds: an append keeps every file");
    }
  }

  private static long live(List<ManifestFile> manifests) {
    long n = 0;
    for (ManifestFile m : manifests) {
      if (m.content() == ManifestContent.DATA) {
        n += (m.addedFilesCount() == null ? 0 : m.addedFilesCount());
        n += (m.existingFilesCount() == null ? 0 : m.existingFilesCount());
      }
    }
    return n;
  }

  /** The main snapshot the request's requirements assert (null: no main yet). */
  private static Long assertedMain(UpdateTableRequest request) {
    Long asserted = null;
    boolean found = false;
    for (UpdateRequirement r : request.requirements()) {
      if (r instanceof UpdateRequirement.AssertTableDoesNotExist) {
        throw new Refused("a commit that creates the table is not a node's claim or flush");
      }
      if (r instanceof UpdateRequirement.AssertRefSnapshotID a
          && SnapshotRef.MAIN_BRANCH.equals(a.refName())) {
        found = true;
        asserted = a.snapshotId();
      }
    }
    if (!found) {
      throw new Refused(
          "a node's commit asserts which snapshot main is (assert-ref-snapshot-id main)");
    }
    return asserted;
  }

  /** The partition a flush names ({@code floe.partition-id}), or the one a claim's keys name. */
  private static int partition(Map<String, String> summary, String operation) {
    String named = summary.get(FloeTableKeys.PARTITION_ID);
    if (named != null) {
      if (!named.matches("[0-9]{1,9}")) {
        throw new Refused(FloeTableKeys.PARTITION_ID + " is not a partition number: " + named);
      }
      return Integer.parseInt(named);
    }
    Set<Integer> partitions = new TreeSet<>();
    if (operation.equals(FloeTableKeys.OPERATION_CLAIM)) {
      summary.keySet().stream()
          .map(FloeTableKeys::partitionOf)
          .filter(id -> id >= 0)
          .forEach(partitions::add);
    }
    if (partitions.size() != 1) {
      throw new Refused(
          "a node's commit names its partition ("
              + FloeTableKeys.PARTITION_ID
              + ", or a claim's own keys); this one names "
              + (partitions.isEmpty() ? "none" : partitions));
    }
    return partitions.iterator().next();
  }

  /**
   * Only Floe's summary keys and {@code partition}'s state, which the table properties hold equal
   * after the commit (Iceberg leaves out of the update a property that keeps its value).
   */
  private static void checkKeys(
      Map<String, String> summary, Map<String, String> properties, int partition, Table table) {
    Set<String> state =
        Set.of(
            FloeTableKeys.partitionEpoch(partition),
            FloeTableKeys.partitionCommittedSequence(partition));
    String holderKey = FloeTableKeys.partitionHolder(partition);
    for (String key : summary.keySet()) {
      if (FloeTableKeys.isReserved(key)
          && !SUMMARY_KEYS.contains(key)
          && !state.contains(key)
          && !(key.equals(holderKey)
              && FloeTableKeys.OPERATION_CLAIM.equals(summary.get(FloeTableKeys.OPERATION)))) {
        throw new Refused("a commit of partition " + partition + " may not record " + key);
      }
    }
    for (String key : properties.keySet()) {
      if (!state.contains(key)) {
        throw new Refused(
            "a commit of partition " + partition + " may not set the property " + key);
      }
    }
    for (String key : state) {
      String value = summary.get(key);
      String after = properties.getOrDefault(key, table.properties().get(key));
      if (value == null || !value.equals(after) || !value.matches("[0-9]{1,18}")) {
        throw new Refused(
            "a node's commit records "
                + key
                + " as one number in its summary and the table properties; this one has "
                + value
                + " and "
                + after);
      }
    }
  }

  /**
   * What a claim records besides the partition's state: the buffer that made it (the same in its
   * summary and the properties), the committed sequence of the epoch it ends (that epoch's only,
   * equal to the committed sequence it carries on), and the removal of history keys of its
   * partition older than {@link CommitProtocol#EPOCH_HISTORY} epochs. Checked keys leave {@code
   * properties}; {@link #checkKeys} refuses any other.
   */
  private static void checkClaimHistory(
      Map<String, String> summary,
      Map<String, String> properties,
      Set<String> removed,
      int partition,
      Table table) {
    String holderKey = FloeTableKeys.partitionHolder(partition);
    String holder = properties.remove(holderKey);
    if (holder != null && !holder.equals(summary.get(holderKey))) {
      throw new Refused(
          "a claim records the same " + holderKey + " in its summary and the table properties");
    }
    String epochText = summary.get(FloeTableKeys.partitionEpoch(partition));
    // a malformed epoch is refused by checkKeys
    long newEpoch =
        epochText != null && epochText.matches("[0-9]{1,18}") ? Long.parseLong(epochText) : 0;
    long ended = newEpoch - 1;
    String endedKey = FloeTableKeys.partitionEpochCommittedSequence(partition, ended);
    String endedValue = properties.remove(endedKey);
    if (endedValue != null
        && (ended < 1
            || !endedValue.equals(
                summary.get(FloeTableKeys.partitionCommittedSequence(partition))))) {
      throw new Refused(
          "a claim records "
              + endedKey
              + " as the committed sequence it carries on, of the epoch it ends only");
    }
    for (String key : removed) {
      long epoch = FloeTableKeys.epochOfCommittedSequenceKey(partition, key);
      if (epoch < 0 || epoch > ended - CommitProtocol.EPOCH_HISTORY) {
        throw new Refused(
            "a claim removes only its partition's epoch history older than "
                + CommitProtocol.EPOCH_HISTORY
                + " epochs; this one removes "
                + key);
      }
    }
  }

  /**
   * A partition's epoch and committed sequence are never lowered, and a flush raises the committed
   * sequence.
   */
  private static void checkRaised(
      Map<String, String> summary, Table table, int partition, boolean flush) {
    PartitionState now = PartitionState.of(table, partition);
    Map<String, String> props = table.properties();
    String epochKey = FloeTableKeys.partitionEpoch(partition);
    String committedKey = FloeTableKeys.partitionCommittedSequence(partition);
    long epoch =
        Math.max(
            now.epoch(),
            PropertyUtil.propertyAsLong(props, epochKey, FloeTableKeys.PARTITION_EPOCH_DEFAULT));
    long committed =
        Math.max(
            now.committedSequence(),
            PropertyUtil.propertyAsLong(
                props, committedKey, FloeTableKeys.PARTITION_COMMITTED_SEQUENCE_DEFAULT));
    if (Long.parseLong(summary.get(epochKey)) < epoch) {
      throw new Refused("lowers " + epochKey + " from " + epoch + " to " + summary.get(epochKey));
    }
    if (Long.parseLong(summary.get(committedKey)) < committed) {
      throw new Refused(
          "lowers " + committedKey + " from " + committed + " to " + summary.get(committedKey));
    }
    if (flush && Long.parseLong(summary.get(committedKey)) <= now.committedSequence()) {
      // a flush that does not raise it commits sequences the table holds: a second time
      throw new Refused(
          "a flush raises "
              + committedKey
              + " above the table's "
              + now.committedSequence()
              + "; this one records it again");
    }
  }

  /**
   * The snapshot keeps every manifest of its parent and adds only manifests of added data files
   * (none for a claim): whatever its summary says, it is an append.
   */
  private static void checkFiles(Snapshot added, Table table, boolean claim) {
    List<ManifestFile> manifests = manifests(added, table);
    List<ManifestFile> before = parentManifests(added, table);
    Set<String> kept = new HashSet<>();
    List<ManifestFile> fresh = new ArrayList<>();
    Set<String> parents = new HashSet<>();
    before.forEach(m -> parents.add(m.path()));
    for (ManifestFile m : manifests) {
      if (parents.contains(m.path())) {
        kept.add(m.path());
      } else {
        fresh.add(m);
      }
    }
    if (kept.size() != parents.size()) {
      throw new Refused(
          "the snapshot leaves out "
              + (parents.size() - kept.size())
              + " of main's manifests: an append keeps every file");
    }
    for (ManifestFile m : fresh) {
      if (claim) {
        throw new Refused("a claim adds no files; this one adds manifest " + m.path());
      }
      if (m.content() != ManifestContent.DATA
          || positive(m.deletedFilesCount())
          || positive(m.existingFilesCount())) {
        throw new Refused(
            "an append adds manifests of added data files only; " + m.path() + " is not one");
      }
    }
  }

  private static boolean positive(Integer count) {
    return count != null && count > 0;
  }

  /** The REST spec's name of an update ("set-current-schema"), for a refusal. */
  private static String name(MetadataUpdate update) {
    String simple = update.getClass().getSimpleName();
    return simple.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }
}
