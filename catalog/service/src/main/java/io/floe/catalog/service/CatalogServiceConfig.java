package io.floe.catalog.service;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.maintenance.MaintenanceConfig;
import io.floe.catalog.table.TableSettings;
import io.floe.common.auth.Auth;
import io.floe.common.auth.Scope;
import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.tls.ServerTls;
import java.net.URI;
import java.time.Duration;
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
 * @param vending what storage credentials callers get with a table ({@code service.vend-*}; see
 *     {@link VendedCredentials})
 * @param idleTimeout a connection with no traffic for this long is closed
 * @param maxConnections open connections beyond this are closed at once
 */
public record CatalogServiceConfig(
    String host,
    int port,
    Duration idleTimeout,
    int maxConnections,
    Auth auth,
    boolean allowPurge,
    ServerTls tls,
    Map<String, String> catalogProperties,
    TableSettings table,
    MaintenanceConfig maintenance,
    boolean metricsOpen,
    VendedCredentials.Settings vending) {

  public static final String HOST = "service.host";
  public static final String HOST_DEFAULT = "0.0.0.0";
  public static final String PORT = "service.port";
  public static final int PORT_DEFAULT = 8181;
  public static final String IDLE_TIMEOUT = "service.idle-timeout-seconds";
  public static final Duration IDLE_TIMEOUT_DEFAULT = Duration.ofSeconds(60);
  public static final String MAX_CONNECTIONS = "service.max-connections";
  public static final int MAX_CONNECTIONS_DEFAULT = 10_000;

  /**
   * One token with catalog:read and catalog:commit (not admin); auth.tokens-file for scoped tokens.
   */
  public static final String AUTH_TOKEN = "service.auth-token";

  public static final String ALLOW_PURGE = "service.allow-purge";

  /**
   * What a catalog:read caller asking for vended credentials gets: none, session (read-only STS
   * sessions of {@link #VEND_ROLE_ARN} for the table's location) or service-keys (the service's
   * own, which can write and delete: a private setup only).
   */
  public static final String VEND_TO_READERS = "service.vend-to-readers";

  public static final VendedCredentials.ForReaders VEND_TO_READERS_DEFAULT =
      VendedCredentials.ForReaders.NONE;

  /** The role whose read-only sessions readers get (vend-to-readers=session). */
  public static final String VEND_ROLE_ARN = "service.vend-role-arn";

  public static final String VEND_DURATION = "service.vend-duration-seconds";
  public static final Duration VEND_DURATION_DEFAULT = Duration.ofHours(1);

  /** The STS endpoint (a VPC endpoint); default: the region's ({@code catalog.client.region}). */
  public static final String VEND_STS_ENDPOINT = "service.vend-sts-endpoint";

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
        s.seconds(IDLE_TIMEOUT, IDLE_TIMEOUT_DEFAULT, Duration.ofSeconds(1), Duration.ofDays(1)),
        s.intValue(MAX_CONNECTIONS, MAX_CONNECTIONS_DEFAULT, 1, 1_000_000),
        Auth.load(s, AUTH_TOKEN, Set.of(Scope.CATALOG_READ, Scope.CATALOG_COMMIT)),
        s.bool(ALLOW_PURGE, false),
        ServerTls.load(s, TLS_PREFIX),
        props,
        TableSettings.load(s),
        s.bool(MaintenanceConfig.ENABLED, MaintenanceConfig.ENABLED_DEFAULT)
            ? MaintenanceConfig.load(s)
            : null,
        s.bool("auth.metrics-open", false),
        vending(s));
  }

  private static VendedCredentials.Settings vending(Settings s) {
    VendedCredentials.ForReaders readers = s.enumValue(VEND_TO_READERS, VEND_TO_READERS_DEFAULT);
    String role =
        s.string(
            VEND_ROLE_ARN, null, v -> v.matches("arn:[a-z-]+:iam::\\d{12}:role/.+"), "a role ARN");
    if (readers == VendedCredentials.ForReaders.SESSION && role == null) {
      throw new ConfigException(
          VEND_TO_READERS
              + "=session needs "
              + VEND_ROLE_ARN
              + ": the role readers' sessions take");
    }
    String endpoint =
        s.string(VEND_STS_ENDPOINT, null, v -> v.matches("https?://.+"), "an http(s) URL");
    return new VendedCredentials.Settings(
        readers,
        role,
        s.seconds(
            VEND_DURATION, VEND_DURATION_DEFAULT, Duration.ofMinutes(15), Duration.ofHours(12)),
        endpoint == null ? null : URI.create(endpoint));
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
