package io.floe.catalog.service;

import io.floe.common.config.Settings;
import io.floe.catalog.connect.CatalogConnector;
import java.util.Map;
import java.util.TreeMap;

/**
 * The catalog service's settings: where it listens, and the Iceberg catalog it serves ({@code
 * catalog.*}: a JDBC catalog on a SQLite file by default, PostgreSQL with a
 * {@code jdbc:postgresql://} URI).
 *
 * @param host listen address ({@code service.host})
 * @param port listen port ({@code service.port}, default 8181, the usual Iceberg REST port)
 * @param authToken bearer token clients must send, or null ({@code service.auth-token})
 * @param catalogProperties Iceberg properties of the backing catalog
 */
public record CatalogServiceConfig(String host, int port, String authToken, Map<String, String> catalogProperties) {

  public static CatalogServiceConfig load(Settings s) {
    Map<String, String> props = new TreeMap<>(s.withPrefix("catalog.", CatalogConnector.ENV_KEYS));
    props.putIfAbsent("type", "jdbc");
    props.putIfAbsent("uri", "jdbc:sqlite:data/catalog.db");
    props.putIfAbsent("warehouse", "s3://floe/warehouse");
    props.putIfAbsent("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
    if (props.get("uri").startsWith("jdbc:sqlite:")) {
      // SQLite takes one writer at a time: one connection avoids SQLITE_BUSY under concurrent commits
      props.putIfAbsent("clients", "1");
    }
    return new CatalogServiceConfig(
        s.string("service.host", "0.0.0.0"),
        s.intValue("service.port", 8181, 0, 65_535),
        s.string("service.auth-token", null),
        props);
  }

  /** What clients need to read and write the table's files: FileIO and storage settings. */
  public Map<String, String> clientStorageConfig() {
    Map<String, String> out = new TreeMap<>();
    catalogProperties.forEach((k, v) -> {
      if (k.equals("io-impl") || k.startsWith("s3.") || k.equals("client.region")) {
        out.put(k, v);
      }
    });
    return out;
  }
}
