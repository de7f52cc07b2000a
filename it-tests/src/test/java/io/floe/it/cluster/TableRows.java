package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * One stream's rows in a cluster's two tables, read from their current snapshots, each keyed by its
 * id {@code <partition>-<sequence>} (the dead letters' id, unique across both tables).
 */
final class TableRows {
  private TableRows() {}

  /** A row of the dead-letter table. */
  record DeadLetter(String id, String code, String raw, int replayCount, String replayOf) {}

  /** The stream's events: id to payload; no id twice. */
  static Map<String, String> events(LocalCluster cluster, String stream) throws Exception {
    Map<String, String> out = new HashMap<>();
    for (Record r : read(cluster, EventsTable.identifier(TableSettings.defaults()), stream)) {
      String id = r.getField("partition_id") + "-" + r.getField("sequence");
      assertThat(out.put(id, (String) r.getField("payload"))).as("event %s twice", id).isNull();
    }
    return out;
  }

  /** The stream's dead letters, every row (replay records too); no id twice. */
  static List<DeadLetter> deadLetters(LocalCluster cluster, String stream) throws Exception {
    Map<String, DeadLetter> out = new HashMap<>();
    for (Record r : read(cluster, DeadLetterTable.identifier(TableSettings.defaults()), stream)) {
      ByteBuffer buf = ((ByteBuffer) r.getField("raw")).duplicate();
      byte[] bytes = new byte[buf.remaining()];
      buf.get(bytes);
      String id = r.getField("partition_id") + "-" + r.getField("sequence");
      Object count = r.getField("replay_count");
      DeadLetter d =
          new DeadLetter(
              id,
              (String) r.getField("error_code"),
              new String(bytes, StandardCharsets.UTF_8),
              count == null ? 0 : (Integer) count,
              (String) r.getField("replay_of"));
      assertThat(out.put(id, d)).as("dead letter %s twice", id).isNull();
    }
    return new ArrayList<>(out.values());
  }

  private static List<Record> read(LocalCluster cluster, TableIdentifier id, String stream)
      throws Exception {
    Catalog catalog = CatalogConnector.open("rows", CatalogConnector.rest(cluster.catalogUri()));
    Table table = catalog.loadTable(id);
    List<Record> out = new ArrayList<>();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(table).where(Expressions.equal("stream", stream)).build()) {
      for (Record r : rows) {
        if (stream.equals(r.getField("stream"))) {
          out.add(r.copy());
        }
      }
    }
    return out;
  }
}
