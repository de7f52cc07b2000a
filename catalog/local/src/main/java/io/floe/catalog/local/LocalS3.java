package io.floe.catalog.local;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * A real S3-compatible server (S3Proxy) storing objects in a local directory, reached through the
 * real AWS SDK over HTTP. Stop and start it again on the same port and directory to simulate an
 * outage.
 */
public final class LocalS3 implements AutoCloseable {
  public static final String ACCESS_KEY = "floe";
  public static final String SECRET_KEY = "floe-local-secret";

  private final Path dir;
  private final int requestedPort;
  private S3Proxy proxy;
  private int boundPort;

  private LocalS3(Path dir, int port) {
    this.dir = dir;
    this.requestedPort = port;
  }

  /** Starts on {@code port} (0: any free port) with the given buckets. */
  public static LocalS3 start(Path dir, int port, String... buckets) throws Exception {
    Files.createDirectories(dir);
    for (String bucket : buckets) {
      Files.createDirectories(dir.resolve(bucket));
    }
    LocalS3 s3 = new LocalS3(dir, port);
    s3.start();
    return s3;
  }

  public synchronized void start() throws Exception {
    int port = proxy == null ? requestedPort : boundPort;
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .ignoreUnknownHeaders(true)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    boundPort = proxy.getPort();
  }

  public synchronized void stop() throws Exception {
    proxy.stop();
  }

  public int port() {
    return boundPort;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port();
  }

  public Path dir() {
    return dir;
  }

  /** Iceberg S3FileIO properties for this server. */
  public Map<String, String> fileIoProperties() {
    Map<String, String> p = new HashMap<>();
    p.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
    p.put("s3.endpoint", endpoint());
    p.put("s3.path-style-access", "true");
    p.put("s3.access-key-id", ACCESS_KEY);
    p.put("s3.secret-access-key", SECRET_KEY);
    p.put("client.region", "us-east-1");
    // S3Proxy's filesystem store keeps multipart state in extended attributes, which some file
    // systems
    // (overlay, tmpfs) lack: up to 1.5 GiB per object, one PUT instead
    p.put("s3.multipart.part-size-bytes", Long.toString(1L << 30));
    return p;
  }

  @Override
  public void close() throws Exception {
    if (proxy != null && "STARTED".equals(proxy.getState())) {
      proxy.stop();
    }
  }
}
