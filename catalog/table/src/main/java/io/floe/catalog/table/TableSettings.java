package io.floe.catalog.table;

import io.floe.common.config.Settings;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which table Floe writes and how its files are laid out. Read by nodes (to create the table when
 * absent) and by the catalog service.
 *
 * @param namespace Iceberg namespace ({@code table.namespace}, default {@code floe})
 * @param name table name ({@code table.name}, default {@code events})
 * @param partitioning time partitioning of {@code event_time} ({@code table.partitioning})
 * @param compression Parquet codec ({@code table.compression}: zstd, snappy, uncompressed)
 * @param compressionLevel zstd level ({@code table.compression-level}, default 1: cheapest to write)
 * @param targetFileBytes target data file size ({@code table.target-file-size}, default 128 MiB)
 */
public record TableSettings(
    String namespace,
    String name,
    Partitioning partitioning,
    Compression compression,
    int compressionLevel,
    long targetFileBytes) {

  private static final Pattern IDENT = Pattern.compile("^[a-z_][a-z0-9_]{0,127}$");

  /** Granularity of the {@code event_time} partition transform. */
  public enum Partitioning {
    HOUR,
    DAY,
    MONTH,
    NONE
  }

  /** Parquet compression codecs offered. */
  public enum Compression {
    ZSTD,
    SNAPPY,
    UNCOMPRESSED;

    public String codec() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static TableSettings defaults() {
    return new TableSettings("floe", "events", Partitioning.HOUR, Compression.ZSTD, 1, 128L << 20);
  }

  public static TableSettings load(Settings s) {
    return new TableSettings(
        s.string("table.namespace", "floe", v -> IDENT.matcher(v).matches(), "a lower-case identifier"),
        s.string("table.name", "events", v -> IDENT.matcher(v).matches(), "a lower-case identifier"),
        s.enumValue("table.partitioning", Partitioning.HOUR),
        s.enumValue("table.compression", Compression.ZSTD),
        s.intValue("table.compression-level", 1, 1, 22),
        s.bytes("table.target-file-size", 128L << 20, 1L << 20, 8L << 30));
  }

  public TableSettings withCompression(Compression c) {
    return new TableSettings(namespace, name, partitioning, c, compressionLevel, targetFileBytes);
  }
}
