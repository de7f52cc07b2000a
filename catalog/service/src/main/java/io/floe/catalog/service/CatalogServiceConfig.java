package io.floe.catalog.service;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.maintenance.MaintenanceConfig;
import io.floe.catalog.table.TableSettings;
import io.floe.common.auth.Auth;
import io.floe.common.auth.Scope;
import io.floe.common.config.Settings;
import io.floe.common.tls.ServerTls;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The catalog service's settings: where it listens, and the Iceberg catalog it serves ({@code
 * catalog.*}: a JDBC catalog on a SQLite file by default, PostgreSQL with a {@code
 * jdbc:postgresql://} URI). Names and defaults are the constants below.
 *
 * @param host listen address
 * @param port listen port (8181, the usual Iceberg REST port)
 * @param auth who may call it (auth.tokens-file, service.auth-token or auth.disabled=true); see
 *     {@link CatalogAccess}
 * @param allowPurge whether an admin may purge (drop and delete the data files)
 * @param tls the listener's certificate (service.tls.*), or null for plaintext
 * @param catalogProperties Iceberg properties of the backing catalog
 * @param table the events table ({@code table.namespace}, {@code table.name}) the service maintains
 * @param maintenance table maintenance in this process ({@code maintenance.*}), or null when {@code
 *     maintenance.enabled=false} (e.g. users who run Iceberg's procedures on Spark instead)
 * @param metricsOpen {@code auth.metrics-open}: /metrics without a token (a local scraper)
 */
public record CatalogServiceConfig(
    String host,
    int port,
    Auth auth,
    boolean allowPurge,
    ServerTls tls,
    Map<String, String> catalogProperties,
    TableSettings table,
    MaintenanceConfig maintenance,
    boolean metricsOpen) {

  public static final String HOST = "service.host";
  public static final String HOST_DEFAULT = "0.0.0.0";
  public static final String PORT = "service.port";
  public static final int PORT_DEFAULT = 8181;

  /**
   * One token with catalog:read and catalog:commit (not admin); auth.tokens-file for scoped tokens.
   */
  public static final String AUTH_TOKEN = "service.auth-token";

  public static final String ALLOW_PURGE = "service.allow-purge";

  /**
   * service.tls.cert-file, service.tls.key-file, service.tls.reload-seconds: see {@link ServerTls}.
   */
  public static final String TLS_PREFIX = "service.";

  /** Defaults of the backing catalog's {@code catalog.*} properties. */
  public static final Map<String, String> CATALOG_DEFAULTS =
      Map.of(
          "type", "jdbc",
          "uri", "jdbc:sqlite:data/catalog.db",
          "warehouse", "s3://floe/warehouse",
          "io-impl", "org.apache.iceberg.aws.s3.S3FileIO");

  public static CatalogServiceConfig load(Settings s) {
    Map<String, String> props = new TreeMap<>(s.withPrefix("catalog.", CatalogConnector.ENV_KEYS));
    CATALOG_DEFAULTS.forEach(props::putIfAbsent);
    if (props.get("uri").startsWith("jdbc:sqlite:")) {
      // SQLite takes one writer at a time: one connection avoids SQLITE_BUSY under concurrent
      // commits
      props.putIfAbsent("clients", "1");
    }
    return new CatalogServiceConfig(
        s.string(HOST, HOST_DEFAULT),
        s.intValue(PORT, PORT_DEFAULT, 0, 65_535),
        Auth.load(s, AUTH_TOKEN, Set.of(Scope.CATALOG_READ, Scope.CATALOG_COMMIT)),
        s.bool(ALLOW_PURGE, false),
        ServerTls.load(s, TLS_PREFIX),
        props,
        TableSettings.load(s),
        s.bool(MaintenanceConfig.ENABLED, MaintenanceConfig.ENABLED_DEFAULT)
            ? MaintenanceConfig.load(s)
            : null,
        s.bool("auth.metrics-open", false));
  }

  /** What clients need to read and write the table's files: FileIO and storage settings. */
  public Map<String, String> clientStorageConfig() {
    Map<String, String> out = new TreeMap<>();
    catalogProperties.forEach(
        (k, v) -> {
          if (k.equals("io-impl") || k.startsWith("s3.") || k.equals("client.region")) {
            out.put(k, v);
          }
        });
    return out;
  }
}
