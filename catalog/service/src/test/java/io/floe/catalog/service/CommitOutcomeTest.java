package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.UpdateRequirements;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequestParser;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog database applies a table commit and then reports a failure (the connection drops
 * after COMMIT; the JDBC pool reruns the update and no row matches). The service must not answer
 * 409 for an update it applied: that tells the client to delete the files the table now points at.
 * It answers 200 when it can read that the update landed, 500 when it cannot tell.
 */
class CommitOutcomeTest {
  @TempDir Path tmp;

  private final DroppingAfterCommitDriver db = DroppingAfterCommitDriver.INSTANCE;
  private LocalS3 s3;
  private CatalogService service;
  private Table table;

  @BeforeEach
  void start() throws Exception {
    s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe");
    service =
        LocalCatalog.start(
            tmp.resolve("catalog.db"),
            s3.fileIoProperties(),
            Map.of(
                "FLOE_CATALOG_URI",
                DroppingAfterCommitDriver.PREFIX + "sqlite:" + tmp.resolve("catalog.db")));
    Catalog client =
        CatalogConnector.open(
            "client", CatalogConnector.rest("http://127.0.0.1:" + service.port()));
    table = EventsTable.ensure(client, TableSettings.defaults());
  }

  @AfterEach
  void stop() throws Exception {
    db.heal();
    service.close();
    s3.close();
  }

  /** An append as Iceberg's REST client sends it: add the snapshot, move main to it. */
  private record Append(Snapshot snapshot, String body) {}

  private Append append() {
    table.refresh();
    Snapshot snapshot =
        table
            .newFastAppend()
            .appendFile(
                DataFiles.builder(table.spec())
                    .withPath(table.locationProvider().newDataLocation(UUID.randomUUID() + ".bin"))
                    .withFormat(FileFormat.PARQUET)
                    .withPartitionPath("event_time_hour=498730")
                    .withFileSizeInBytes(10)
                    .withRecordCount(1)
                    .build())
            .apply();
    TableMetadata base = ((BaseTable) table).operations().current();
    List<MetadataUpdate> updates =
        TableMetadata.buildFrom(base).setBranchSnapshot(snapshot, "main").build().changes();
    String body =
        UpdateTableRequestParser.toJson(
            new UpdateTableRequest(UpdateRequirements.forUpdateTable(base, updates), updates));
    return new Append(snapshot, body);
  }

  private HttpResponse<String> commit(Append append) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + service.port() + "/v1/namespaces/floe/tables/events"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(append.body()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The snapshots of main, newest first, as the catalog database points at them now. */
  private List<Long> history() {
    Table t = service.catalog().loadTable(EventsTable.identifier(TableSettings.defaults()));
    return SnapshotUtil.currentAncestorIds(t);
  }

  @Test
  void anUpdateAppliedBeforeTheConnectionDroppedIsAnsweredAsCommitted() throws Exception {
    List<Long> before = history();
    Append append = append();
    db.dropAfterUpdates.set(1);

    HttpResponse<String> answer = commit(append);

    assertThat(db.dropAfterUpdates).as("the connection was dropped after the update").hasValue(0);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    assertThat(
            new JsonObject(answer.body()).getJsonObject("metadata").getLong("current-snapshot-id"))
        .isEqualTo(append.snapshot().snapshotId());
    assertThat(history())
        .as("applied once, on the base it was made for")
        .startsWith(append.snapshot().snapshotId())
        .hasSize(before.size() + 1);
  }

  @Test
  void anUpdateWhoseOutcomeCannotBeReadIsAnsweredUnknownNotConflict() throws Exception {
    List<Long> before = history();
    Append append = append();
    db.dropAfterUpdates.set(1);
    db.failReadsAfterDrop.set(100);

    HttpResponse<String> answer = commit(append);

    assertThat(db.dropAfterUpdates).as("the connection was dropped after the update").hasValue(0);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(500);
    db.heal();
    assertThat(history())
        .as("it had landed: a 409 would have been a lie")
        .startsWith(append.snapshot().snapshotId())
        .hasSize(before.size() + 1);
  }

  @Test
  void aRealConflictIsStillAConflict() throws Exception {
    Append first = append();
    Append stale = append();
    assertThat(commit(first).statusCode()).isEqualTo(200);

    HttpResponse<String> answer = commit(stale);

    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(409);
    assertThat(history()).startsWith(first.snapshot().snapshotId());
  }
}
