package io.floe.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.apache.spark.sql.SparkSession;

/**
 * What the Spark benchmarks share: a fresh data folder, and local Spark on Floe's catalog as a
 * reader.
 */
final class BenchSupport {
  private BenchSupport() {}

  /** {@code dir}, emptied. */
  static Path freshDir(Path dir) throws Exception {
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    return Files.createDirectories(dir);
  }

  /**
   * Local Spark (two cores) with catalog {@code floe}: Floe's REST catalog read with a {@code
   * catalog:read} token, storage credentials vended, no table cache (tables change under it).
   */
  static SparkSession reader(FloeServices floe, String app) {
    String c = "spark.sql.catalog.floe";
    return SparkSession.builder()
        .master("local[2]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config(c, "org.apache.iceberg.spark.SparkCatalog")
        .config(c + ".type", "rest")
        .config(c + ".uri", floe.catalogUri())
        .config(c + ".token", FloeServices.READER_TOKEN)
        .config(c + ".cache-enabled", "false")
        .config(c + ".header.X-Iceberg-Access-Delegation", "vended-credentials")
        .getOrCreate();
  }
}
