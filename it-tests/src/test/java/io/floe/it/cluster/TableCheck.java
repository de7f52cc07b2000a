package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The cluster tests' verdict: after every node flushed, the table holds every event acknowledged so
 * far exactly once (read from every data file the current snapshot names), and one key's events in
 * sequence order.
 */
final class TableCheck {
  private final LocalCluster cluster;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<String, AckingWriter.Acked> allAcked = new ConcurrentHashMap<>();

  TableCheck(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /** Flushes every node, then checks the table against everything acknowledged so far. */
  void verify(AckingWriter w, boolean keysStayInOnePartition) throws Exception {
    verify(List.of(w), keysStayInOnePartition);
  }

  /** {@link #verify(AckingWriter, boolean)} of several writers' runs, with one scan. */
  void verify(List<AckingWriter> writers, boolean keysStayInOnePartition) throws Exception {
    for (AckingWriter w : writers) {
      allAcked.putAll(w.acked);
    }
    for (JavaProcess node : cluster.nodes) {
      flush(node);
    }
    Map<String, Record> byPartitionSequence = new HashMap<>();
    Map<String, Integer> idCount = new HashMap<>();
    Table table =
        CatalogConnector.open("test", CatalogConnector.rest(cluster.catalogUri()))
            .loadTable(EventsTable.identifier(TableSettings.defaults()));
    try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
      for (Record r : rows) {
        String ps = r.getField("partition_id") + "/" + r.getField("sequence");
        assertThat(byPartitionSequence.put(ps, r.copy()))
            .as("(partition, sequence) %s twice", ps)
            .isNull();
        idCount.merge(
            new JsonObject((String) r.getField("payload")).getString("id"), 1, Integer::sum);
      }
    }
    assertThat(idCount.values()).as("no event twice").allMatch(n -> n == 1);
    // every snapshot the table keeps stays readable (time travel, expiry): its manifest list and
    // manifests exist, unless maintenance expired the snapshot while this looked
    for (Snapshot s : table.snapshots()) {
      if (!readable(table, s)) {
        table.refresh();
        assertThat(table.snapshot(s.snapshotId()))
            .as("snapshot %d is kept but its manifest list or a manifest is gone", s.snapshotId())
            .isNull();
      }
    }
    for (AckingWriter.Acked a : allAcked.values()) {
      Record row = byPartitionSequence.get(a.partition() + "/" + a.sequence());
      assertThat(row).as("acknowledged %s is in the table", a).isNotNull();
      assertThat(row.getField("payload")).isEqualTo(a.payload());
      assertThat(row.getField("event_key")).isEqualTo(a.key());
    }
    Map<String, Map<Integer, TreeMap<Long, Long>>> perKey = new HashMap<>();
    for (AckingWriter w : writers) {
      for (AckingWriter.Acked a : w.acked.values()) {
        perKey
            .computeIfAbsent(a.key(), k -> new HashMap<>())
            .computeIfAbsent(a.partition(), p -> new TreeMap<>())
            .put(a.sequence(), a.keyOrder());
      }
    }
    for (Map.Entry<String, Map<Integer, TreeMap<Long, Long>>> e : perKey.entrySet()) {
      if (keysStayInOnePartition) {
        assertThat(e.getValue()).as("key %s in one partition", e.getKey()).hasSize(1);
      }
      for (TreeMap<Long, Long> bySequence : e.getValue().values()) {
        assertThat(List.copyOf(bySequence.values()))
            .as("key %s in sequence order", e.getKey())
            .isSorted();
      }
    }
  }

  private static boolean readable(Table table, Snapshot s) {
    if (!table.io().newInputFile(s.manifestListLocation()).exists()) {
      return false;
    }
    try {
      for (ManifestFile m : s.allManifests(table.io())) {
        if (!table.io().newInputFile(m.path()).exists()) {
          return false;
        }
      }
    } catch (RuntimeException gone) {
      // NotFoundException, or the S3 client's NoSuchKey while the list's length is read
      return false;
    }
    return true;
  }

  /** {@code POST /v1/flush} on {@code node} until it answers 200 (at most two minutes). */
  void flush(JavaProcess node) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      HttpResponse<String> r;
      try {
        r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/flush"))
                    .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        // a kept-alive connection the node closed meanwhile (idle, or a paused node resumed)
        assertThat(System.nanoTime()).as("%s flushes: %s", node.name, e).isLessThan(deadline);
        Thread.sleep(500);
        continue;
      }
      if (r.statusCode() == 200) {
        return;
      }
      assertThat(System.nanoTime()).as("%s flushes: %s", node.name, r.body()).isLessThan(deadline);
      Thread.sleep(500);
    }
  }
}
