package io.floe.catalog.service;

import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The storage settings a caller gets with a table (the answers to load, create, register and
 * commit). Without the REST spec's vended-credentials request it gets them without any credential.
 * With it, a caller that writes the table's files ({@code catalog:commit}: nodes; {@code admin})
 * gets the service's own; a query engine ({@code catalog:read} alone) gets what {@code
 * service.vend-to-readers} says: by default none (it reads with storage access of its own),
 * read-only session credentials for the table's location ({@code session}, see {@link
 * ReadOnlySessions}), or the service's own ({@code service-keys}: a private setup, where readers
 * may as well write).
 */
final class VendedCredentials implements AutoCloseable {
  /** What a {@code catalog:read} caller that asks for credentials gets. */
  enum ForReaders {
    NONE,
    SESSION,
    SERVICE_KEYS
  }

  /**
   * {@code service.vend-*}: see {@link CatalogServiceConfig}.
   *
   * @param roleArn the role whose sessions readers get (SESSION)
   * @param duration how long a session lasts
   * @param stsEndpoint STS endpoint, or null for the region's
   */
  record Settings(ForReaders readers, String roleArn, Duration duration, URI stsEndpoint) {}

  /** The service's storage settings, credentials included. */
  private final Map<String, String> service;

  /** The same without credentials. */
  private final Map<String, String> withoutCredentials;

  private final ForReaders readers;
  private final ReadOnlySessions sessions;

  /**
   * @param storage the service's storage settings ({@code io-impl}, {@code s3.*}, {@code
   *     client.region}), credentials included
   */
  VendedCredentials(Map<String, String> storage, Settings settings) {
    this.service = Map.copyOf(storage);
    this.withoutCredentials = withoutCredentials(storage);
    this.readers = settings.readers();
    this.sessions =
        settings.readers() == ForReaders.SESSION
            ? new ReadOnlySessions(
                settings.roleArn(),
                settings.duration(),
                settings.stsEndpoint(),
                storage.getOrDefault("client.region", "us-east-1"),
                storage.containsKey(S3FileIOProperties.ACCESS_KEY_ID)
                    ? StaticCredentialsProvider.create(
                        storage.containsKey(S3FileIOProperties.SESSION_TOKEN)
                            ? AwsSessionCredentials.create(
                                storage.get(S3FileIOProperties.ACCESS_KEY_ID),
                                storage.get(S3FileIOProperties.SECRET_ACCESS_KEY),
                                storage.get(S3FileIOProperties.SESSION_TOKEN))
                            : AwsBasicCredentials.create(
                                storage.get(S3FileIOProperties.ACCESS_KEY_ID),
                                storage.get(S3FileIOProperties.SECRET_ACCESS_KEY)))
                    : DefaultCredentialsProvider.builder().build())
            : null;
  }

  /** The storage settings without any credential: what {@code /v1/config} gives everyone. */
  Map<String, String> withoutCredentials() {
    return withoutCredentials;
  }

  /**
   * What {@code p} gets with the table at {@code location}; {@code asked}: it sent the
   * vended-credentials request. Blocks (STS) for a reader's session.
   */
  Map<String, String> forCaller(Principal p, boolean asked, String location) {
    if (!asked) {
      return withoutCredentials;
    }
    if (p.may(Scope.CATALOG_COMMIT) || p.may(Scope.ADMIN)) {
      return service;
    }
    return switch (readers) {
      case NONE -> withoutCredentials;
      case SERVICE_KEYS -> service;
      case SESSION -> {
        Map<String, String> out = new TreeMap<>(withoutCredentials);
        out.putAll(sessions.forTable(p.name(), location));
        yield out;
      }
    };
  }

  static Map<String, String> withoutCredentials(Map<String, String> config) {
    Map<String, String> out = new TreeMap<>();
    config.forEach(
        (k, v) -> {
          String key = k.toLowerCase(Locale.ROOT);
          if (!key.contains("secret")
              && !key.contains("access-key-id")
              && !key.contains("session-token")
              && !key.contains("password")
              && !key.contains("token")) {
            out.put(k, v);
          }
        });
    return out;
  }

  @Override
  public void close() {
    if (sessions != null) {
      sessions.close();
    }
  }
}
