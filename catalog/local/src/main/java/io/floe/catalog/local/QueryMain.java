package io.floe.catalog.local;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * What is in the table, for a user with no Spark at hand: rows per stream and partition, files,
 * current snapshot, and the first rows (typed columns that have a value before the payload). Reads
 * through the REST catalog like any engine would.
 *
 * <p>usage: QueryMain [--catalog http://127.0.0.1:8181] [--token T] [--stream NAME] [--limit 5];
 * the token (catalog:read) defaults to the environment's FLOE_CATALOG_READ_TOKEN.
 */
public final class QueryMain {
  private QueryMain() {}

  public static void main(String[] args) throws Exception {
    String uri = "http://127.0.0.1:8181";
    String token = System.getenv("FLOE_CATALOG_READ_TOKEN");
    String stream = null;
    int limit = 5;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--catalog" -> uri = args[i + 1];
        case "--token" -> token = args[i + 1];
        case "--stream" -> stream = args[i + 1];
        case "--limit" -> limit = Integer.parseInt(args[i + 1]);
        default -> {
          System.err.println(
              "usage: query [--catalog URI] [--token T] [--stream NAME] [--limit N]");
          System.exit(2);
        }
      }
    }
    Map<String, String> props =
        new HashMap<>(
            Map.of(
                "type",
                "rest",
                "uri",
                uri,
                CatalogConnector.VENDED_CREDENTIALS_HEADER,
                "vended-credentials"));
    if (token != null && !token.isBlank()) {
      props.put("token", token);
    }
    Catalog catalog = CatalogConnector.open("query", props);
    Table table = catalog.loadTable(EventsTable.identifier(TableSettings.defaults()));
    Snapshot snapshot = table.currentSnapshot();
    System.out.println(
        "table " + EventsTable.identifier(TableSettings.defaults()) + " at " + table.location());
    if (snapshot == null) {
      System.out.println("no snapshot yet: nothing committed");
      System.out.println("rows=0");
      return;
    }
    long files = 0;
    long bytes = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask t : tasks) {
        files++;
        bytes += t.file().fileSizeInBytes();
      }
    }
    Map<String, Long> perStream = new TreeMap<>();
    Map<Integer, Long> perPartition = new TreeMap<>();
    long rows = 0;
    var scan = IcebergGenerics.read(table);
    if (stream != null) {
      scan = scan.where(Expressions.equal("stream", stream));
    }
    StringBuilder sample = new StringBuilder();
    try (CloseableIterable<Record> records = scan.build()) {
      for (Record r : records) {
        rows++;
        perStream.merge((String) r.getField("stream"), 1L, Long::sum);
        perPartition.merge((Integer) r.getField("partition_id"), 1L, Long::sum);
        if (rows <= limit) {
          StringBuilder typed = new StringBuilder();
          for (var column : table.schema().columns()) {
            Object value =
                column.fieldId() > EventsTable.PAYLOAD_ID ? r.getField(column.name()) : null;
            if (value != null) {
              typed.append(column.name()).append('=').append(value).append(' ');
            }
          }
          sample.append(
              String.format(
                  "  %-10s p=%d seq=%-6d %s key=%s %s%s%n",
                  r.getField("stream"),
                  r.getField("partition_id"),
                  r.getField("sequence"),
                  r.getField("event_time"),
                  r.getField("event_key"),
                  typed,
                  r.getField("payload")));
        }
      }
    }
    System.out.printf(
        "snapshot %d (%s), %d data files, %.1f KB of Parquet%n",
        snapshot.snapshotId(), snapshot.operation(), files, bytes / 1024.0);
    perStream.forEach((s, n) -> System.out.printf("  stream %-12s %8d rows%n", s, n));
    perPartition.forEach((p, n) -> System.out.printf("  partition %-9d %8d rows%n", p, n));
    System.out.print("first rows:\n" + sample);
    System.out.println("rows=" + rows);
  }
}
