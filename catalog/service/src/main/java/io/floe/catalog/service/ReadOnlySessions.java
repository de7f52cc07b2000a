package io.floe.catalog.service;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.Credentials;

/**
 * Read-only storage credentials for a table's files, for query engines: STS AssumeRole of one role
 * with a session policy that allows only reading and listing objects under the table's location
 * (and decrypting them through S3). What a session may do is what both the role and that policy
 * allow, so the role itself may be the service's read-write one. Sessions are kept per caller and
 * location and renewed when they have less than 5 minutes left.
 */
final class ReadOnlySessions implements AutoCloseable {
  private static final Duration RENEW_BEFORE = Duration.ofMinutes(5);

  private record Location(String bucket, String prefix) {}

  private final StsClient sts;
  private final String roleArn;
  private final Duration duration;
  private final Map<String, Credentials> sessions = new ConcurrentHashMap<>();

  /**
   * @param endpoint STS endpoint (a VPC endpoint), or null for the region's
   * @param credentials what signs the AssumeRole calls (the service's own)
   */
  ReadOnlySessions(
      String roleArn,
      Duration duration,
      URI endpoint,
      String region,
      AwsCredentialsProvider credentials) {
    this.roleArn = roleArn;
    this.duration = duration;
    StsClientBuilder b =
        StsClient.builder()
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .region(Region.of(region))
            .credentialsProvider(credentials);
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    this.sts = b.build();
  }

  /**
   * Iceberg S3FileIO properties of a read-only session for {@code caller} on the table at {@code
   * location}, or none when the table is not on S3. Blocks (an STS call when none is kept).
   */
  Map<String, String> forTable(String caller, String location) {
    Location at = s3(location);
    if (at == null) {
      return Map.of();
    }
    String key = caller + "\n" + location;
    Credentials c = sessions.get(key);
    if (c == null || c.expiration().isBefore(Instant.now().plus(RENEW_BEFORE))) {
      c =
          sts.assumeRole(
                  AssumeRoleRequest.builder()
                      .roleArn(roleArn)
                      .roleSessionName(sessionName(caller))
                      .durationSeconds((int) duration.toSeconds())
                      .policy(policy(partition(roleArn), at))
                      .build())
              .credentials();
      sessions.put(key, c);
    }
    return Map.of(
        S3FileIOProperties.ACCESS_KEY_ID, c.accessKeyId(),
        S3FileIOProperties.SECRET_ACCESS_KEY, c.secretAccessKey(),
        S3FileIOProperties.SESSION_TOKEN, c.sessionToken(),
        S3FileIOProperties.SESSION_TOKEN_EXPIRES_AT_MS,
            Long.toString(c.expiration().toEpochMilli()));
  }

  /** The session policy: read and list under the table's location, nothing else. */
  private static String policy(String partition, Location at) {
    String bucketArn = "arn:" + partition + ":s3:::" + at.bucket();
    String under = at.prefix().isEmpty() ? "" : at.prefix() + "/";
    return new JsonObject()
        .put("Version", "2012-10-17")
        .put(
            "Statement",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("Effect", "Allow")
                        .put(
                            "Action",
                            new JsonArray().add("s3:GetObject").add("s3:GetObjectVersion"))
                        .put("Resource", bucketArn + "/" + under + "*"))
                .add(
                    new JsonObject()
                        .put("Effect", "Allow")
                        .put("Action", "s3:ListBucket")
                        .put("Resource", bucketArn)
                        .put(
                            "Condition",
                            new JsonObject()
                                .put(
                                    "StringLike",
                                    new JsonObject()
                                        .put("s3:prefix", new JsonArray().add(under + "*")))))
                .add(
                    new JsonObject()
                        .put("Effect", "Allow")
                        .put("Action", "kms:Decrypt")
                        .put("Resource", "*")
                        .put(
                            "Condition",
                            new JsonObject()
                                .put(
                                    "StringLike",
                                    new JsonObject().put("kms:ViaService", "s3.*.amazonaws.com")))))
        .encode();
  }

  /** The bucket and key prefix of an {@code s3://} (s3a, s3n) location, or null. */
  private static Location s3(String location) {
    URI uri;
    try {
      uri = URI.create(location);
    } catch (IllegalArgumentException e) {
      return null;
    }
    String scheme = uri.getScheme();
    if (scheme == null || !scheme.matches("s3[an]?") || uri.getHost() == null) {
      return null;
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    return new Location(uri.getHost(), path.replaceAll("^/+|/+$", ""));
  }

  /** The ARN partition of the role ({@code aws}, {@code aws-us-gov}, {@code aws-cn}). */
  private static String partition(String arn) {
    String[] parts = arn.split(":", 3);
    return parts.length > 1 && !parts[1].isEmpty() ? parts[1] : "aws";
  }

  /** STS allows 2-64 of {@code [\w+=,.@-]}: "floe-" and the token's name. */
  private static String sessionName(String caller) {
    String name = "floe-" + caller.replaceAll("[^\\w+=,.@-]", "-");
    return name.length() > 64 ? name.substring(0, 64) : name;
  }

  @Override
  public void close() {
    sts.close();
  }
}
