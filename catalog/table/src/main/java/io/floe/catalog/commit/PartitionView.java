package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;

/**
 * What a node needs to know of the table between its own commits, as the cluster's committer sees
 * it: its partition's epoch and committed sequence (is the claim still its own?) and the version of
 * the table's settings that nodes follow (typed columns, stream error policies, schema). A node
 * that asks the committer for this instead of loading the table leaves the catalog alone in steady
 * state; it loads the table only when the settings version differs from the one it read last.
 *
 * @param settingsVersion {@link #settingsVersion(Table)} of the committer's view
 */
public record PartitionView(PartitionState state, String settingsVersion) {
  /** Iceberg's file-writing properties ({@code write.target-file-size-bytes}, ...). */
  private static final String WRITE_PREFIX = "write.";

  /** The view of {@code partition} in {@code metadata}. */
  public static PartitionView of(TableMetadata metadata, int partition) {
    return new PartitionView(
        PartitionState.of(metadata, partition),
        settingsVersion(
            metadata.currentSchemaId(),
            metadata.defaultSpecId(),
            metadata.defaultSortOrderId(),
            metadata.properties()));
  }

  /**
   * A digest of what nodes follow in the table: the current schema's, partition spec's and sort
   * order's ids, every typed-column and stream-policy property, and Iceberg's {@code write.*}
   * properties (file size, Parquet settings, data location). Equal digests mean a node's typed
   * columns, policies and file-writing settings need no reload.
   */
  public static String settingsVersion(Table table) {
    return settingsVersion(
        table.schema().schemaId(),
        table.spec().specId(),
        table.sortOrder().orderId(),
        table.properties());
  }

  static String settingsVersion(
      int schemaId, int specId, int sortOrderId, Map<String, String> properties) {
    Map<String, String> followed = new TreeMap<>();
    properties.forEach(
        (k, v) -> {
          if (k.startsWith(FloeTableKeys.COLUMN_PREFIX)
              || k.startsWith(FloeTableKeys.STREAM_ON_ERROR_PREFIX)
              || k.startsWith(WRITE_PREFIX)) {
            followed.put(k, v);
          }
        });
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
    digest.update((schemaId + "/" + specId + "/" + sortOrderId).getBytes(StandardCharsets.UTF_8));
    followed.forEach(
        (k, v) -> {
          // lengths first, so that no two different maps run together into the same bytes
          byte[] key = k.getBytes(StandardCharsets.UTF_8);
          byte[] value = v.getBytes(StandardCharsets.UTF_8);
          digest.update(
              ("\n" + key.length + ":" + value.length + "\n").getBytes(StandardCharsets.UTF_8));
          digest.update(key);
          digest.update(value);
        });
    return HexFormat.of().formatHex(digest.digest(), 0, 16);
  }
}
