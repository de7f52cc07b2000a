package io.floe.catalog.service;

import java.util.Properties;
import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.rds.RdsUtilities;

/**
 * Logs the catalog service into Amazon RDS for PostgreSQL with IAM database authentication: each
 * new connection presents a fresh token signed with the instance role's credentials (valid 15
 * minutes, only for opening the connection), so there is no database password to store, hand out or
 * rotate.
 *
 * <p>The PostgreSQL driver instantiates it for each connection when the connection property {@code
 * authenticationPluginClassName} names it ({@code catalog.jdbc.authenticationPluginClassName} in
 * the service's settings); the token is for the connection's host, port and user, in the region
 * named by {@code awsRegion} ({@code catalog.jdbc.awsRegion}) or else the SDK's default region.
 */
public final class RdsIamAuthPlugin implements AuthenticationPlugin {
  /** Connection property naming the region the database is in. */
  public static final String REGION = "awsRegion";

  private static final AwsCredentialsProvider CREDENTIALS =
      DefaultCredentialsProvider.builder().build();

  private final String host;
  private final int port;
  private final String user;
  private final String region;

  /** Called by the PostgreSQL driver with the connection's properties. */
  public RdsIamAuthPlugin(Properties info) {
    this.host = info.getProperty("PGHOST");
    this.port = Integer.parseInt(info.getProperty("PGPORT", "5432"));
    this.user = info.getProperty("user");
    this.region = info.getProperty(REGION);
  }

  @Override
  public char[] getPassword(AuthenticationRequestType type) throws PSQLException {
    if (host == null || host.contains(",") || user == null) {
      throw new PSQLException(
          "RDS IAM authentication needs one database host and a user (host: "
              + host
              + ", user: "
              + user
              + ")",
          PSQLState.INVALID_PARAMETER_VALUE);
    }
    try {
      RdsUtilities rds =
          RdsUtilities.builder()
              .region(
                  region != null
                      ? Region.of(region)
                      : new DefaultAwsRegionProviderChain().getRegion())
              .credentialsProvider(CREDENTIALS)
              .build();
      return rds.generateAuthenticationToken(b -> b.hostname(host).port(port).username(user))
          .toCharArray();
    } catch (RuntimeException e) {
      throw new PSQLException(
          "cannot sign an RDS IAM authentication token for "
              + user
              + "@"
              + host
              + ": "
              + e.getMessage(),
          PSQLState.CONNECTION_REJECTED,
          e);
    }
  }
}
