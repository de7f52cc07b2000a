package io.floe.node.flush;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;

/**
 * What a flushing node needs, all real and in-process: an S3-compatible server on a local directory
 * and Floe's REST catalog service over SQLite. Nodes get only the catalog URI and a catalog:commit
 * token, as in production (so every commit of theirs passes the service's check of what a node may
 * commit); the service hands them the storage settings.
 */
final class TableEnv implements AutoCloseable {
  /** The nodes' catalog token (catalog:commit). */
  static final String NODE_TOKEN = "t-nodes";

  /** An operator's catalog token (admin, catalog:read): the column API. */
  static final String OPERATOR_TOKEN = "t-operator";

  final LocalS3 s3;
  final CatalogService service;
  final Path dir;

  private TableEnv(Path dir, LocalS3 s3, CatalogService service) {
    this.dir = dir;
    this.s3 = s3;
    this.service = service;
  }

  static TableEnv start(Path dir) throws Exception {
    LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
    return start(dir, s3, s3.fileIoProperties());
  }

  /**
   * With any S3 endpoint (e.g. LocalStack); {@code s3} may be null when it is not a {@link
   * LocalS3}.
   */
  static TableEnv start(Path dir, LocalS3 s3, Map<String, String> fileIo) throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("catalog-tokens"),
            List.of(
                TokenStore.line("nodes", "catalog:commit", NODE_TOKEN),
                TokenStore.line("operator", "admin,catalog:read", OPERATOR_TOKEN)));
    CatalogService service =
        LocalCatalog.start(
            dir.resolve("catalog.db"),
            fileIo,
            Map.of(
                "FLOE_CATALOG_WAREHOUSE",
                "s3://floe/warehouse",
                "FLOE_AUTH_TOKENS_FILE",
                tokens.toString()));
    return new TableEnv(dir, s3, service);
  }

  String catalogUri() {
    return "http://127.0.0.1:" + service.port();
  }

  /** Settings for an in-process node of partition {@code id}. */
  Map<String, String> nodeSettings(int id) {
    Map<String, String> s = new HashMap<>();
    s.put("node.partition-id", Integer.toString(id));
    s.put("http.port", "0");
    s.put("http.host", "127.0.0.1");
    s.put("auth.disabled", "true");
    s.put("http.event-loops", "1");
    s.put("buffer.dir", dir.resolve("node-" + id).toString());
    s.put("catalog.type", "rest");
    s.put("catalog.uri", catalogUri());
    s.put("catalog.token", NODE_TOKEN);
    s.put("flush.max-age-seconds", "3600");
    s.put("flush.retry-max-seconds", "1");
    return s;
  }

  /** Environment for a node process of partition {@code id}. */
  Map<String, String> nodeEnv(int id, Path bufferDir) {
    Map<String, String> e = new HashMap<>();
    nodeSettings(id).forEach((k, v) -> e.put(Settings.envName(k), v));
    e.put("FLOE_BUFFER_DIR", bufferDir.toString());
    e.put("FLOE_FLUSH_ENABLED", "true");
    e.remove("FLOE_HTTP_PORT");
    return e;
  }

  Table table() {
    return tableAs(NODE_TOKEN);
  }

  /** The table as an operator sees it: what nodes may not do (expire snapshots) goes through. */
  Table adminTable() {
    return tableAs(OPERATOR_TOKEN);
  }

  private Table tableAs(String token) {
    Map<String, String> props = new HashMap<>(CatalogConnector.rest(catalogUri()));
    props.put("token", token);
    Catalog client = CatalogConnector.open("reader", props);
    return client.loadTable(EventsTable.identifier(TableSettings.defaults()));
  }

  /**
   * The files the current snapshot needs that do not exist: its manifest list, its manifests and
   * their data files. A table that misses any cannot be scanned or appended to.
   */
  List<String> missingFiles() throws Exception {
    Table t = table();
    Snapshot current = t.currentSnapshot();
    List<String> missing = new ArrayList<>();
    if (current == null) {
      return missing;
    }
    FileIO io = t.io();
    if (!io.newInputFile(current.manifestListLocation()).exists()) {
      missing.add(current.manifestListLocation());
      return missing;
    }
    for (ManifestFile manifest : current.allManifests(io)) {
      if (!io.newInputFile(manifest.path()).exists()) {
        missing.add(manifest.path());
        continue;
      }
      try (CloseableIterable<DataFile> files = ManifestFiles.read(manifest, io, t.specs())) {
        for (DataFile f : files) {
          if (!io.newInputFile(f.location()).exists()) {
            missing.add(f.location());
          }
        }
      }
    }
    return missing;
  }

  /** One table row, as read back through the REST catalog and S3. */
  record Row(
      String stream,
      int partitionId,
      long sequence,
      OffsetDateTime eventTime,
      OffsetDateTime ingestTime,
      String key,
      String payload) {}

  List<Row> rows() throws Exception {
    List<Row> out = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table()).build()) {
      for (Record r : records) {
        out.add(
            new Row(
                (String) r.getField("stream"),
                (Integer) r.getField("partition_id"),
                (Long) r.getField("sequence"),
                (OffsetDateTime) r.getField("event_time"),
                (OffsetDateTime) r.getField("ingest_time"),
                (String) r.getField("event_key"),
                (String) r.getField("payload")));
      }
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    try {
      service.close();
    } finally {
      if (s3 != null) {
        s3.close();
      }
    }
  }
}
