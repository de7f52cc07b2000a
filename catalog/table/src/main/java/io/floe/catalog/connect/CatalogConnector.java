package io.floe.catalog.connect;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;

/**
 * Builds an Iceberg catalog client from standard Iceberg catalog properties ({@code type}, {@code
 * uri}, {@code warehouse}, {@code io-impl}, {@code s3.*}, ...), so a node runs unchanged against
 * Floe's REST catalog service, a JDBC catalog, AWS Glue or S3 Tables.
 */
public final class CatalogConnector {
  /** Catalog properties that can also be set as {@code FLOE_CATALOG_*} environment variables. */
  public static final List<String> ENV_KEYS =
      List.of(
          "type",
          "catalog-impl",
          "uri",
          "warehouse",
          "io-impl",
          "token",
          "credential",
          "s3.endpoint",
          "s3.path-style-access",
          "s3.access-key-id",
          "s3.secret-access-key",
          "s3.multipart.part-size-bytes",
          "client.region",
          "jdbc.user",
          "jdbc.password",
          "rest.sigv4-enabled",
          "rest.signing-name",
          "rest.signing-region",
          PemTrustTlsConfigurer.TRUST_FILE);

  /** Floe's default for Iceberg's {@code unique-table-location} (Iceberg's own is false). */
  public static final String UNIQUE_TABLE_LOCATION_DEFAULT = "true";

  /** The REST spec's access delegation header, as an Iceberg REST client property. */
  public static final String VENDED_CREDENTIALS_HEADER = "header.X-Iceberg-Access-Delegation";

  private CatalogConnector() {}

  /** The {@code catalog.*} settings as Iceberg properties, with Floe's defaults filled in. */
  public static Map<String, String> properties(Settings s) {
    Map<String, String> p = new TreeMap<>(s.withPrefix("catalog.", ENV_KEYS));
    if (!p.containsKey("type") && !p.containsKey("catalog-impl")) {
      p.put("type", "rest");
    }
    if ("rest".equals(p.get("type")) && !p.containsKey("uri")) {
      p.put("uri", "http://127.0.0.1:8181");
    }
    if ("rest".equals(p.get("type")) && !"true".equals(p.get("rest.sigv4-enabled"))) {
      // Floe's catalog service hands storage credentials only to a client that asks for them
      p.putIfAbsent(VENDED_CREDENTIALS_HEADER, "vended-credentials");
    }
    if (p.containsKey(PemTrustTlsConfigurer.TRUST_FILE)) {
      // catalog.tls-trust-file: the REST client trusts that file's certificates (a private CA)
      p.putIfAbsent("rest.client.tls.configurer-impl", PemTrustTlsConfigurer.class.getName());
    }
    return p;
  }

  /**
   * The properties of a REST catalog client at {@code uri}, as a node would use it (vended
   * credentials asked for).
   */
  public static Map<String, String> rest(String uri) {
    return properties(Settings.of(Map.of("catalog.uri", uri)));
  }

  /**
   * Opens the catalog. A bad property stops start-up with one line naming it; a catalog that cannot
   * be reached (an I/O failure) is rethrown as is, for the caller to retry.
   *
   * <p>Unless the properties say otherwise, a catalog that places tables itself (JDBC, which Floe's
   * catalog service runs; Glue; Hive) gives each new table a location of its own ({@code
   * <ns>/<table>-<uuid>}, Iceberg's {@code unique-table-location}): a table created after another
   * of the same name was dropped without purge, or renamed, never shares that table's files, so its
   * maintenance never takes them for orphans. A REST catalog decides on its server.
   */
  public static Catalog open(String name, Map<String, String> properties) {
    Map<String, String> p = new TreeMap<>(properties);
    p.putIfAbsent(CatalogProperties.UNIQUE_TABLE_LOCATION, UNIQUE_TABLE_LOCATION_DEFAULT);
    try {
      return CatalogUtil.buildIcebergCatalog(name, p, null);
    } catch (RuntimeException e) {
      if (causedByIo(e)) {
        throw e;
      }
      throw new ConfigException(
          "catalog.* (" + describe(p) + "): cannot open the catalog: " + rootMessage(e));
    }
  }

  private static boolean causedByIo(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IOException || t instanceof UncheckedIOException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Map<String, String> p) {
    return "type="
        + p.getOrDefault("type", p.get(CatalogProperties.CATALOG_IMPL))
        + (p.containsKey("uri") ? ", uri=" + p.get("uri") : "");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
