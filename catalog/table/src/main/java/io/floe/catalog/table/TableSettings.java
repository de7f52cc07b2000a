package io.floe.catalog.table;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which table Floe writes and how its files are laid out. Read by nodes (to create the table when
 * absent) and by the catalog service.
 *
 * @param namespace Iceberg namespace ({@code table.namespace}, default {@code floe})
 * @param name table name ({@code table.name}, default {@code events})
 * @param partitioning time partitioning of {@code event_time} ({@code table.partitioning})
 * @param compression Parquet codec ({@code table.compression}: zstd, snappy, uncompressed)
 * @param compressionLevel zstd level ({@code table.compression-level}, default 1: cheapest to
 *     write)
 * @param targetFileBytes target data file size ({@code table.target-file-size}, default 128 MiB)
 * @param deadLetterName the dead-letter table's name, in the same namespace ({@code
 *     table.dead-letter-name}, default {@code events_dead_letter})
 */
public record TableSettings(
    String namespace,
    String name,
    Partitioning partitioning,
    Compression compression,
    int compressionLevel,
    long targetFileBytes,
    String deadLetterName) {

  public static final String NAMESPACE = "table.namespace";
  public static final String NAMESPACE_DEFAULT = "floe";
  public static final String NAME = "table.name";
  public static final String NAME_DEFAULT = "events";
  public static final String PARTITIONING = "table.partitioning";
  public static final Partitioning PARTITIONING_DEFAULT = Partitioning.HOUR;
  public static final String COMPRESSION = "table.compression";
  public static final Compression COMPRESSION_DEFAULT = Compression.ZSTD;

  /** zstd level 1: the cheapest to write. */
  public static final String COMPRESSION_LEVEL = "table.compression-level";

  public static final int COMPRESSION_LEVEL_DEFAULT = 1;
  public static final String TARGET_FILE_SIZE = "table.target-file-size";
  public static final long TARGET_FILE_SIZE_DEFAULT = 128L << 20;
  public static final String DEAD_LETTER_NAME = "table.dead-letter-name";
  public static final String DEAD_LETTER_NAME_DEFAULT = "events_dead_letter";

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

  /** The defaults: what {@link #load} gives with nothing set. */
  public static TableSettings defaults() {
    return load(Settings.of(Map.of()));
  }

  public static TableSettings load(Settings s) {
    TableSettings t = read(s);
    if (t.deadLetterName().equals(t.name())) {
      throw new ConfigException(
          Settings.envName(DEAD_LETTER_NAME)
              + " ("
              + DEAD_LETTER_NAME
              + ") must differ from "
              + NAME
              + " ('"
              + t.name()
              + "')");
    }
    return t;
  }

  private static TableSettings read(Settings s) {
    return new TableSettings(
        s.string(
            NAMESPACE,
            NAMESPACE_DEFAULT,
            v -> IDENT.matcher(v).matches(),
            "a lower-case identifier"),
        s.string(NAME, NAME_DEFAULT, v -> IDENT.matcher(v).matches(), "a lower-case identifier"),
        s.enumValue(PARTITIONING, PARTITIONING_DEFAULT),
        s.enumValue(COMPRESSION, COMPRESSION_DEFAULT),
        s.intValue(COMPRESSION_LEVEL, COMPRESSION_LEVEL_DEFAULT, 1, 22),
        s.bytes(TARGET_FILE_SIZE, TARGET_FILE_SIZE_DEFAULT, 1L << 20, 8L << 30),
        s.string(
            DEAD_LETTER_NAME,
            DEAD_LETTER_NAME_DEFAULT,
            v -> IDENT.matcher(v).matches(),
            "a lower-case identifier"));
  }

  public TableSettings withCompression(Compression c) {
    return new TableSettings(
        namespace, name, partitioning, c, compressionLevel, targetFileBytes, deadLetterName);
  }
}
