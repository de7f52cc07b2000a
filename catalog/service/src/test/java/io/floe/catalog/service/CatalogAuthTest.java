package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.floe.catalog.commit.BatchCommit;
import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.commit.HandoverAnswer;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.commit.PartitionState;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.types.Types;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The catalog service protects the table: query engines read, nodes create and append, and only an
 * admin may change the schema or the nodes' floe.* state, drop, rename, or (when allowed) purge;
 * every change is an audit line naming who did it.
 */
class CatalogAuthTest {
  private static final TableIdentifier EVENTS = EventsTable.identifier(TableSettings.defaults());
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private static Catalog client(String uri, String token) {
    return CatalogConnector.open(
        "c-" + token,
        CatalogConnector.properties(
            Settings.of(Map.of("catalog.uri", uri, "catalog.token", token))));
  }

  private HttpResponse<String> send(String method, String url, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The service over SQLite with table files on the local disk, with this token file. */
  private CatalogService start(String... tokenLines) throws Exception {
    Path tokens = Files.write(tmp.resolve("tokens"), List.of(tokenLines));
    return LocalCatalog.start(
        tmp.resolve("catalog.db"),
        Map.of(
            "warehouse",
            tmp.resolve("wh").toUri().toString(),
            "io-impl",
            "org.apache.iceberg.hadoop.HadoopFileIO"),
        Map.of("FLOE_AUTH_TOKENS_FILE", tokens.toString()));
  }

  private DataFile file(Table table, String name) {
    return DataFiles.builder(table.spec())
        .withPath(tmp.resolve(name + ".parquet").toString())
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=498730")
        .withFileSizeInBytes(3)
        .withRecordCount(1)
        .build();
  }

  /** Sets a flush's floe.* summary keys on {@code update}, as CommitProtocol does. */
  private static <T extends SnapshotUpdate<T>> T asFlush(
      T update, int partition, long epoch, long committed) {
    return update
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
        .set(FloeTableKeys.PARTITION_ID, Integer.toString(partition))
        .set(FloeTableKeys.partitionEpoch(partition), Long.toString(epoch))
        .set(FloeTableKeys.partitionCommittedSequence(partition), Long.toString(committed));
  }

  /**
   * A flush shaped like a node's (one transaction: a fast append and the same state in the table
   * properties) of partition {@code partition}, plus {@code extra} in both the summary and the
   * properties.
   */
  private static void flush(
      Table table,
      DataFile file,
      int partition,
      long epoch,
      long committed,
      Map<String, String> extra) {
    Transaction tx = table.newTransaction();
    AppendFiles append = asFlush(tx.newFastAppend().appendFile(file), partition, epoch, committed);
    extra.forEach(append::set);
    append.commit();
    UpdateProperties properties =
        tx.updateProperties()
            .set(FloeTableKeys.partitionEpoch(partition), Long.toString(epoch))
            .set(FloeTableKeys.partitionCommittedSequence(partition), Long.toString(committed));
    extra.forEach(properties::set);
    properties.commit();
    tx.commitTransaction();
  }

  private static TableMetadata metadata(CatalogService service) {
    return ((HasTableOperations) service.catalog().loadTable(EVENTS)).operations().current();
  }

  /** {@code attempt} is refused (403) and the table's metadata is exactly what it was. */
  private static void refusedAndUnchanged(CatalogService service, ThrowingCallable attempt) {
    TableMetadata before = metadata(service);
    assertThatThrownBy(attempt).isInstanceOf(ForbiddenException.class);
    TableMetadata after = metadata(service);
    assertThat(after.metadataFileLocation()).isEqualTo(before.metadataFileLocation());
    assertThat(after.currentSnapshot().snapshotId())
        .isEqualTo(before.currentSnapshot().snapshotId());
    assertThat(after.properties()).isEqualTo(before.properties());
  }

  private static JsonObject mainIs(Snapshot snapshot) {
    return mainIs(snapshot.snapshotId());
  }

  private static JsonObject mainIs(long snapshot) {
    return new JsonObject()
        .put("type", "assert-ref-snapshot-id")
        .put("ref", "main")
        .put("snapshot-id", snapshot);
  }

  /** Collects the audit lines from now on (detach it when done). */
  private static ListAppender<ILoggingEvent> audit() {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    ((Logger) LoggerFactory.getLogger("floe.audit")).addAppender(lines);
    return lines;
  }

  /** The commit route, as raw JSON: what a client other than Iceberg's may send. */
  private HttpResponse<String> commit(String uri, String token, JsonObject body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(uri + "/v1/namespaces/floe/tables/events"))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A commit of a new snapshot with {@code files}' manifests (a snapshot's manifest list), parented
   * on {@code parent}, with main moved to it, dressed as partition 0's flush: the table's content
   * rewound to what {@code files} held.
   */
  private static JsonObject rewindAsFlush(
      TableMetadata current, long parent, Snapshot files, JsonArray reqs) {
    long id = 4242L;
    String epoch = current.properties().get(FloeTableKeys.partitionEpoch(0));
    String committed = current.properties().get(FloeTableKeys.partitionCommittedSequence(0));
    JsonObject snapshot =
        new JsonObject()
            .put("snapshot-id", id)
            .put("parent-snapshot-id", parent)
            .put("sequence-number", current.lastSequenceNumber() + 1)
            .put("timestamp-ms", System.currentTimeMillis())
            .put("manifest-list", files.manifestListLocation())
            .put(
                "summary",
                new JsonObject()
                    .put("operation", "append")
                    .put(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
                    .put(FloeTableKeys.PARTITION_ID, "0")
                    .put(FloeTableKeys.partitionEpoch(0), epoch)
                    .put(FloeTableKeys.partitionCommittedSequence(0), committed))
            .put("schema-id", current.currentSchemaId());
    return new JsonObject()
        .put("requirements", reqs)
        .put(
            "updates",
            new JsonArray()
                .add(new JsonObject().put("action", "add-snapshot").put("snapshot", snapshot))
                .add(
                    new JsonObject()
                        .put("action", "set-snapshot-ref")
                        .put("ref-name", "main")
                        .put("type", "branch")
                        .put("snapshot-id", id))
                .add(
                    new JsonObject()
                        .put("action", "set-properties")
                        .put(
                            "updates",
                            new JsonObject()
                                .put(FloeTableKeys.partitionEpoch(0), epoch)
                                .put(FloeTableKeys.partitionCommittedSequence(0), committed))));
  }

  /**
   * A catalog:commit token (what nodes hold) may do exactly what a node does: create the table, and
   * commit one appended snapshot on top of main, with main moved to it and the state of the one
   * partition it names raised, never lowered. Whatever else it sends is refused and leaves the
   * table as it was.
   */
  @Test
  void aCommitTokenMayOnlyClaimAndFlush() throws Exception {
    try (CatalogService service =
        start(
            TokenStore.line("nodes", "catalog:commit", "t-commit"),
            TokenStore.line("node-2", "catalog:commit", "t-node-2") + " partition=2",
            TokenStore.line("oncall", "admin", "t-admin"))) {
      String uri = "http://127.0.0.1:" + service.port();
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      CommitProtocol zero = new CommitProtocol(asNode, 0, "node-0");
      PartitionClaim zeroClaim = zero.claim();
      Snapshot first = asNode.currentSnapshot();
      DataFile a = file(asNode, "a");
      zero.commit(zeroClaim, 0, 5, List.of(a), Map.of());
      CommitProtocol one = new CommitProtocol(asNode, 1, "node-1");
      PartitionClaim oneClaim = one.claim();
      one.commit(oneClaim, 0, 3, List.of(file(asNode, "b")), Map.of());
      asNode.refresh();

      // main moved back to the first snapshot: a rollback is admin's, and its refusal is audited
      ListAppender<ILoggingEvent> lines = audit();
      try {
        refusedAndUnchanged(
            service, () -> asNode.manageSnapshots().rollbackTo(first.snapshotId()).commit());
      } finally {
        ((Logger) LoggerFactory.getLogger("floe.audit")).detachAppender(lines);
      }
      assertThat(lines.list)
          .singleElement()
          .extracting(ILoggingEvent::getFormattedMessage)
          .asString()
          .startsWith(
              "audit principal=nodes action=refused status=403"
                  + " request=POST /v1/namespaces/floe/tables/events from=127.0.0.1 reason=")
          .contains("rollback")
          .doesNotContain("action=commit");
      refusedAndUnchanged(
          service, () -> asNode.manageSnapshots().setCurrentSnapshot(first.snapshotId()).commit());
      // a delete or an overwrite, even dressed as a flush
      refusedAndUnchanged(
          service, () -> asFlush(asNode.newDelete().deleteFile(a), 0, 1, 6).commit());
      refusedAndUnchanged(
          service,
          () ->
              asFlush(asNode.newOverwrite().deleteFile(a).addFile(file(asNode, "c")), 0, 1, 6)
                  .commit());
      // a snapshot whose parent is not main (the content of the first snapshot, on top of it)
      TableMetadata current = metadata(service);
      long main = current.currentSnapshot().snapshotId();
      for (JsonArray requirements : List.of(new JsonArray(), new JsonArray().add(mainIs(main)))) {
        HttpResponse<String> rewind =
            commit(
                uri, "t-commit", rewindAsFlush(current, first.snapshotId(), first, requirements));
        assertThat(rewind.statusCode()).as(rewind.body()).isEqualTo(403);
        assertThat(rewind.body()).contains("ForbiddenException");
        assertThat(metadata(service).metadataFileLocation())
            .isEqualTo(current.metadataFileLocation());
      }
      // ... and when it asserts that main is that parent, the catalog's own check refuses it
      HttpResponse<String> staleRewind =
          commit(
              uri,
              "t-commit",
              rewindAsFlush(
                  current, first.snapshotId(), first, new JsonArray().add(mainIs(first))));
      assertThat(staleRewind.statusCode()).as(staleRewind.body()).isEqualTo(409);
      assertThat(metadata(service).metadataFileLocation())
          .isEqualTo(current.metadataFileLocation());
      // an "append" on top of main that leaves out main's files
      HttpResponse<String> dropsFiles =
          commit(
              uri,
              "t-commit",
              rewindAsFlush(current, main, first, new JsonArray().add(mainIs(main))));
      assertThat(dropsFiles.statusCode()).as(dropsFiles.body()).isEqualTo(403);
      assertThat(dropsFiles.body()).contains("leaves out");
      assertThat(metadata(service).metadataFileLocation())
          .isEqualTo(current.metadataFileLocation());
      // another partition's state, with a flush of partition 0
      refusedAndUnchanged(
          service,
          () ->
              flush(
                  asNode,
                  file(asNode, "d"),
                  0,
                  1,
                  6,
                  Map.of(FloeTableKeys.partitionCommittedSequence(1), "1000000000000")));
      // partition 0's state lowered: its committed sequence, its epoch
      refusedAndUnchanged(service, () -> flush(asNode, file(asNode, "e"), 0, 1, 2, Map.of()));
      refusedAndUnchanged(service, () -> flush(asNode, file(asNode, "f"), 0, 0, 6, Map.of()));
      // other table properties, with or without a snapshot
      refusedAndUnchanged(
          service, () -> flush(asNode, file(asNode, "g"), 0, 1, 6, Map.of("gc.enabled", "false")));
      refusedAndUnchanged(
          service, () -> asNode.updateProperties().set("comment", "events from Floe").commit());
      // an append that does not say it is a claim or a flush (no floe.operation): refused, not a
      // server error
      refusedAndUnchanged(
          service, () -> asNode.newFastAppend().appendFile(file(asNode, "g2")).commit());

      // a table created with Floe's state already in it
      assertThatThrownBy(
              () ->
                  client(uri, "t-commit")
                      .buildTable(TableIdentifier.of("floe", "preset"), EventsTable.SCHEMA)
                      .withProperty(FloeTableKeys.partitionCommittedSequence(0), "1000000")
                      .create())
          .isInstanceOf(ForbiddenException.class);
      assertThat(service.catalog().tableExists(TableIdentifier.of("floe", "preset"))).isFalse();

      // a node's claims and flushes go on as before
      zero.commit(zeroClaim, 5, 8, List.of(file(asNode, "h")), Map.of());
      PartitionClaim again = one.claim();
      one.commit(again, 3, 4, List.of(file(asNode, "i")), Map.of());
      assertThat(metadata(service).properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "8")
          .containsEntry(FloeTableKeys.partitionCommittedSequence(1), "4")
          .containsEntry(FloeTableKeys.partitionEpoch(1), "2");
      // a token bound to partition 2 commits partition 2, and no other
      Table asNode2 = client(uri, "t-node-2").loadTable(EVENTS);
      CommitProtocol two = new CommitProtocol(asNode2, 2, "node-2");
      two.commit(two.claim(), 0, 1, List.of(file(asNode2, "j")), Map.of());
      refusedAndUnchanged(service, () -> new CommitProtocol(asNode2, 0, "node-2").claim());
      refusedAndUnchanged(service, () -> flush(asNode2, file(asNode2, "k"), 0, 1, 9, Map.of()));

      // an admin still may roll back, audited as a rollback
      ListAppender<ILoggingEvent> rollback = audit();
      try {
        client(uri, "t-admin")
            .loadTable(EVENTS)
            .manageSnapshots()
            .rollbackTo(first.snapshotId())
            .commit();
      } finally {
        ((Logger) LoggerFactory.getLogger("floe.audit")).detachAppender(rollback);
      }
      assertThat(metadata(service).currentSnapshot().snapshotId()).isEqualTo(first.snapshotId());
      assertThat(rollback.list)
          .extracting(ILoggingEvent::getFormattedMessage)
          .containsExactly(
              "audit principal=oncall action=rollback target=floe.events snapshot="
                  + first.snapshotId());
    }
  }

  /**
   * Reporting metrics needs only catalog:read, and matches that route exactly: a commit to a table
   * named {@code metrics} is a commit.
   */
  @Test
  void theCommitterRolesCommitsNeedATokenNotBoundToAPartition() throws Exception {
    try (CatalogService service =
        start(
            TokenStore.line("nodes", "catalog:commit", "t-commit"),
            TokenStore.line("node-2", "catalog:commit", "t-node-2") + " partition=2",
            TokenStore.line("oncall", "admin", "t-admin"))) {
      String uri = "http://127.0.0.1:" + service.port();
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      Table asBound = client(uri, "t-node-2").loadTable(EVENTS);
      PartitionClaim zero = new CommitProtocol(asNode, 0, "node-0").claim();
      PartitionClaim two = new CommitProtocol(asBound, 2, "node-2").claim();

      // a node bound to its partition may not hold the role, an unbound one may
      asBound.refresh();
      refusedAndUnchanged(service, () -> CoordinatorClaim.claim(asBound, "10.0.0.2:8081", "n2"));
      CoordinatorClaim.Coordinator role = CoordinatorClaim.claim(asNode, "10.0.0.1:8081", "n0");
      assertThat(role.epoch()).isEqualTo(1);

      // one batch commit of two partitions, under the role's epoch
      List<HandoverAnswer> answers =
          new BatchCommit(asNode)
              .commit(
                  role.epoch(),
                  List.of(
                      new BatchCommit.Range(0, zero.epoch(), 0, 5, List.of(file(asNode, "z")), 5),
                      new BatchCommit.Range(2, two.epoch(), 0, 4, List.of(file(asNode, "t")), 4)));
      assertThat(answers).allMatch(a -> a instanceof HandoverAnswer.Committed);
      asNode.refresh();
      assertThat(asNode.properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "5")
          .containsEntry(FloeTableKeys.partitionCommittedSequence(2), "4")
          .containsEntry(FloeTableKeys.COORDINATOR_EPOCH, "1");

      assertThat(asNode.currentSnapshot().summary())
          .containsEntry(FloeTableKeys.ADVANCED_PARTITIONS, "0,2")
          .doesNotContainKey(FloeTableKeys.partitionCommittedSequence(0));

      // a batch that names its partitions compactly may not lower, re-claim, name what it does
      // not set, set what it does not name, or name more than it could set
      refusedAndUnchanged(service, () -> batch(asNode, "0", Map.of(0, "1"), Map.of(0, "3")));
      refusedAndUnchanged(service, () -> batch(asNode, "0", Map.of(0, "2"), Map.of(0, "9")));
      refusedAndUnchanged(service, () -> batch(asNode, "0,2", Map.of(0, "1"), Map.of(0, "9")));
      refusedAndUnchanged(
          service, () -> batch(asNode, "0", Map.of(0, "1", 2, "1"), Map.of(0, "9", 2, "9")));
      refusedAndUnchanged(
          service, () -> batch(asNode, "0-1000000", Map.of(0, "1"), Map.of(0, "9")));
      refusedAndUnchanged(service, () -> batch(asNode, "2,0", Map.of(0, "1"), Map.of(0, "9")));
      refusedAndUnchanged(service, () -> batch(asNode, "0", Map.of(0, "1"), Map.of(0, "5")));
      refusedAndUnchanged(service, () -> batch(asNode, "7", Map.of(), Map.of(7, "9")));
      refusedAndUnchanged(service, () -> batch(asNode, "0", Map.of(0, "1"), Map.of(0, "9"), null));
      refusedAndUnchanged(
          service, () -> batch(asNode, "0", Map.of(0, "1"), Map.of(0, "9"), "12345"));
      // ... and lands when it is what the committer writes
      batch(asNode, "0", Map.of(0, "1"), Map.of(0, "9"));
      asNode.refresh();
      assertThat(PartitionState.of(asNode, 0)).isEqualTo(new PartitionState(1, 9));

      // the bound token may not make a batch commit, even of its own partition alone
      asBound.refresh();
      refusedAndUnchanged(
          service,
          () ->
              new BatchCommit(asBound)
                  .commit(
                      role.epoch(),
                      List.of(
                          new BatchCommit.Range(
                              2, two.epoch(), 4, 6, List.of(file(asBound, "u")), 2))));
    }
  }

  /**
   * A batch commit made by hand: {@code advanced} in its summary under coordinator epoch 1, and the
   * given epochs and committed sequences in the properties.
   */
  private void batch(
      Table table, String advanced, Map<Integer, String> epochs, Map<Integer, String> committed) {
    batch(table, advanced, epochs, committed, "");
  }

  /** ... with {@code floe.advanced-by} set to {@code advancedBy} ("": its own id; null: unset). */
  private void batch(
      Table table,
      String advanced,
      Map<Integer, String> epochs,
      Map<Integer, String> committed,
      String advancedBy) {
    table.refresh();
    Transaction tx = table.newTransaction();
    tx.newAppend()
        .appendFile(file(table, "hand-" + UUID.randomUUID()))
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
        .set(FloeTableKeys.COORDINATOR_EPOCH, "1")
        .set(FloeTableKeys.ADVANCED_PARTITIONS, advanced)
        .commit();
    UpdateProperties properties = tx.updateProperties();
    if (advancedBy != null) {
      properties.set(
          FloeTableKeys.ADVANCED_BY,
          advancedBy.isEmpty()
              ? tx.table().currentSnapshot().snapshotId()
                  + ":"
                  + tx.table().currentSnapshot().sequenceNumber()
              : advancedBy);
    }
    epochs.forEach((p, e) -> properties.set(FloeTableKeys.partitionEpoch(p), e));
    committed.forEach((p, c) -> properties.set(FloeTableKeys.partitionCommittedSequence(p), c));
    properties.commit();
    tx.commitTransaction();
  }

  @Test
  void aNodeRecommitsARangeAnAdminRolledBackAcrossADirectCommit() throws Exception {
    try (CatalogService service =
        start(
            TokenStore.line("nodes", "catalog:commit", "t-commit"),
            TokenStore.line("oncall", "admin", "t-admin"))) {
      String uri = "http://127.0.0.1:" + service.port();
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      CommitProtocol node = new CommitProtocol(asNode, 0, "node-0");
      PartitionClaim zero = node.claim();
      node.commit(zero, 0, 5, List.of(file(asNode, "a")), Map.of());
      asNode.refresh();
      long good = asNode.currentSnapshot().snapshotId();
      node.commit(zero, 5, 10, List.of(file(asNode, "b")), Map.of());
      // the files-missing repair: the admin rolls main back across the broken commit, and the
      // node, which kept the range, commits it again (the properties still say 10)
      client(uri, "t-admin").loadTable(EVENTS).manageSnapshots().rollbackTo(good).commit();

      assertThat(node.commit(zero, 5, 10, List.of(file(asNode, "b-again")), Map.of()))
          .isEqualTo(10);
      asNode.refresh();
      assertThat(PartitionState.of(asNode, 0)).isEqualTo(new PartitionState(zero.epoch(), 10));
    }
  }

  @Test
  void aFlushThatDoesNotRaiseTheCommittedSequenceIsRefused() throws Exception {
    try (CatalogService service = start(TokenStore.line("nodes", "catalog:commit", "t-commit"))) {
      String uri = "http://127.0.0.1:" + service.port();
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      PartitionClaim zero = new CommitProtocol(asNode, 0, "node-0").claim();
      CoordinatorClaim.Coordinator role = CoordinatorClaim.claim(asNode, "10.0.0.1:8081", "n0");
      new BatchCommit(asNode)
          .commit(
              role.epoch(),
              List.of(new BatchCommit.Range(0, zero.epoch(), 0, 5, List.of(file(asNode, "a")), 5)));
      new BatchCommit(asNode)
          .commit(
              role.epoch(),
              List.of(
                  new BatchCommit.Range(0, zero.epoch(), 5, 10, List.of(file(asNode, "b")), 5)));
      asNode.refresh();
      assertThat(PartitionState.of(asNode, 0)).isEqualTo(new PartitionState(zero.epoch(), 10));
      // a committer of the release before (a rolling update) reads partition 0 from an older
      // summary and lands the re-sent (5, 10] again in its keyed form
      refusedAndUnchanged(
          service,
          () -> {
            asNode.refresh();
            Transaction tx = asNode.newTransaction();
            tx.newAppend()
                .appendFile(file(asNode, "b-again"))
                .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
                .set(FloeTableKeys.COORDINATOR_EPOCH, Long.toString(role.epoch()))
                .set(FloeTableKeys.COMMIT_ID, UUID.randomUUID().toString())
                .set(FloeTableKeys.partitionEpoch(0), Long.toString(zero.epoch()))
                .set(FloeTableKeys.partitionCommittedSequence(0), "10")
                .commit();
            tx.updateProperties()
                .set(FloeTableKeys.partitionEpoch(0), Long.toString(zero.epoch()))
                .set(FloeTableKeys.partitionCommittedSequence(0), "10")
                .commit();
            tx.commitTransaction();
          });
      // ... and so is a node's direct flush of it
      refusedAndUnchanged(
          service,
          () -> {
            asNode.refresh();
            Transaction tx = asNode.newTransaction();
            tx.newFastAppend()
                .appendFile(file(asNode, "b-direct"))
                .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
                .set(FloeTableKeys.PARTITION_ID, "0")
                .set(FloeTableKeys.SEQUENCE_RANGE, "6-10")
                .set(FloeTableKeys.partitionEpoch(0), Long.toString(zero.epoch()))
                .set(FloeTableKeys.partitionCommittedSequence(0), "10")
                .commit();
            tx.updateProperties()
                .set(FloeTableKeys.partitionEpoch(0), Long.toString(zero.epoch()))
                .set(FloeTableKeys.partitionCommittedSequence(0), "10")
                .commit();
            tx.commitTransaction();
          });
    }
  }

  @Test
  void aReadTokenCommitsNothingToATableNamedMetrics() throws Exception {
    try (CatalogService service =
        start(
            TokenStore.line("spark", "catalog:read", "t-read"),
            TokenStore.line("oncall", "admin", "t-admin"))) {
      String uri = "http://127.0.0.1:" + service.port();
      TableIdentifier metrics = TableIdentifier.of("floe", "metrics");
      Catalog asAdmin = client(uri, "t-admin");
      ((SupportsNamespaces) asAdmin).createNamespace(metrics.namespace());
      asAdmin.createTable(metrics, EventsTable.SCHEMA);
      JsonObject setComment =
          new JsonObject()
              .put("requirements", new JsonArray())
              .put(
                  "updates",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("action", "set-properties")
                              .put("updates", new JsonObject().put("comment", "mine"))));
      HttpResponse<String> commit =
          http.send(
              HttpRequest.newBuilder(URI.create(uri + "/v1/namespaces/floe/tables/metrics"))
                  .header("Authorization", "Bearer t-read")
                  .POST(HttpRequest.BodyPublishers.ofString(setComment.encode()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(commit.statusCode()).as(commit.body()).isEqualTo(403);
      assertThat(service.catalog().loadTable(metrics).properties()).doesNotContainKey("comment");
      // the metrics route itself stays open to readers
      HttpResponse<String> report =
          http.send(
              HttpRequest.newBuilder(URI.create(uri + "/v1/namespaces/floe/tables/metrics/metrics"))
                  .header("Authorization", "Bearer t-read")
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(report.statusCode()).isEqualTo(204);
    }
  }

  @Test
  void eachScopeDoesWhatItMayAndNothingElse() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("spark", "catalog:read", "t-read"),
                TokenStore.line("nodes", "catalog:commit", "t-commit"),
                TokenStore.line("oncall", "admin", "t-admin")));
    Logger audit = (Logger) LoggerFactory.getLogger("floe.audit");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    audit.addAppender(lines);
    try (CatalogService service =
        LocalCatalog.start(
            tmp.resolve("catalog.db"),
            Map.of(
                "warehouse",
                tmp.resolve("wh").toUri().toString(),
                "io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO"),
            Map.of("FLOE_AUTH_TOKENS_FILE", tokens.toString()))) {
      String uri = "http://127.0.0.1:" + service.port();
      String tableUrl = uri + "/v1/namespaces/floe/tables/events";

      // nodes create the namespace and the table, claim and append
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      CommitProtocol protocol = new CommitProtocol(asNode, 0, "test");
      PartitionClaim claim = protocol.claim();
      DataFile file =
          DataFiles.builder(asNode.spec())
              .withPath(tmp.resolve("f.parquet").toString())
              .withFormat(FileFormat.PARQUET)
              .withPartitionPath("event_time_hour=498730")
              .withFileSizeInBytes(3)
              .withRecordCount(1)
              .build();
      protocol.commit(claim, 0, 1, List.of(file), Map.of());
      // ... but may not change the schema or rewrite the recovery state without appending
      assertThatThrownBy(
              () -> asNode.updateSchema().addColumn("extra", Types.StringType.get()).commit())
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("needs admin");
      assertThatThrownBy(
              () ->
                  asNode
                      .updateProperties()
                      .set(FloeTableKeys.partitionCommittedSequence(0), "0")
                      .commit())
          .isInstanceOf(ForbiddenException.class);
      assertThat(send("DELETE", tableUrl, "t-commit").statusCode()).isEqualTo(403);

      // query engines read, and nothing more
      Table asReader =
          client(uri, "t-read").loadTable(EventsTable.identifier(TableSettings.defaults()));
      assertThat(asReader.properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "1");
      assertThatThrownBy(() -> new CommitProtocol(asReader, 1, "reader").claim())
          .isInstanceOf(ForbiddenException.class);
      assertThat(send("POST", uri + "/v1/namespaces", "t-read").statusCode()).isEqualTo(403);

      // unknown or missing tokens never get anywhere
      for (String token : new String[] {null, "t-wrong", "t-read%00", "t-read t-read"}) {
        HttpResponse<String> r = send("GET", tableUrl, token);
        assertThat(r.statusCode()).as(String.valueOf(token)).isEqualTo(401);
        assertThat(r.body()).contains("NotAuthorizedException");
      }
      assertThat(send("GET", uri + "/v1/config", null).statusCode()).isEqualTo(401);
      HttpResponse<String> traversal =
          send("GET", uri + "/v1/namespaces/..%2F..%2Fetc/tables/passwd", "t-read");
      assertThat(traversal.statusCode()).isEqualTo(404);

      // admin: the recovery state, and a drop; a purge stays off unless service.allow-purge
      Table asAdmin =
          client(uri, "t-admin").loadTable(EventsTable.identifier(TableSettings.defaults()));
      asAdmin.updateProperties().set("floe.note", "checked").commit();
      HttpResponse<String> purge = send("DELETE", tableUrl + "?purgeRequested=true", "t-admin");
      assertThat(purge.statusCode()).isEqualTo(403);
      assertThat(purge.body()).contains("service.allow-purge");
      assertThat(send("DELETE", tableUrl, "t-admin").statusCode()).isEqualTo(204);
    } finally {
      audit.detachAppender(lines);
    }
    List<String> said = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=nodes action=create-table target=floe\\.events snapshot=-"));
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=nodes action=commit target=floe\\.events snapshot=\\d+"));
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=oncall action=drop-table target=floe\\.events snapshot=-"));
    assertThat(said).noneMatch(l -> l.contains("t-commit") || l.contains("t-admin"));
    // refusals too: who (or "?" when not known), what, from where, why; never the token
    assertThat(said)
        .contains(
            "audit principal=? action=refused status=401 request=GET"
                + " /v1/namespaces/floe/tables/events from=127.0.0.1"
                + " reason=the bearer token is not valid",
            "audit principal=spark action=refused status=403 request=POST /v1/namespaces"
                + " from=127.0.0.1 reason=the token 'spark' may not POST /v1/namespaces"
                + " (needs catalog:commit)");
    assertThat(said).noneMatch(l -> l.contains("t-wrong") || l.contains("t-read"));
  }
}
