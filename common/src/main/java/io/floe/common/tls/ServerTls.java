package io.floe.common.tls;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for one HTTP listener: a PEM certificate chain and private key read from files, TLS 1.2 and
 * 1.3 only, HTTP/2 offered by ALPN next to HTTP/1.1. The files are watched: when either changes (a
 * renewed certificate), the new pair is checked and then used for new connections without a
 * restart; a broken pair is refused with an error line and the previous one stays in use.
 *
 * <p>Settings, under the listener's prefix (e.g. {@code http.} for a node): {@code tls.cert-file},
 * {@code tls.key-file} (both or neither; neither means plaintext) and {@code tls.reload-seconds}.
 */
public final class ServerTls {
  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

  /** The only protocol versions a Floe listener accepts. */
  public static final Set<String> PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  public static final String CERT_FILE = "tls.cert-file";
  public static final String KEY_FILE = "tls.key-file";
  public static final String RELOAD_SECONDS = "tls.reload-seconds";
  public static final Duration RELOAD_DEFAULT = Duration.ofSeconds(10);

  private final Path certFile;
  private final Path keyFile;
  private final Duration reloadEvery;
  private final String what;
  private volatile Loaded current;

  private record Loaded(PemKeyCertOptions options, FileTime certTime, FileTime keyTime) {}

  private ServerTls(Path certFile, Path keyFile, Duration reloadEvery, String what) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.reloadEvery = reloadEvery;
    this.what = what;
  }

  /**
   * The listener's TLS settings under {@code prefix}, or null when neither file is set (plaintext).
   * A missing, unreadable or unparsable file stops start-up with one line naming the setting.
   */
  public static ServerTls load(Settings s, String prefix) {
    Path cert = s.path(prefix + CERT_FILE, null);
    Path key = s.path(prefix + KEY_FILE, null);
    if (cert == null && key == null) {
      return null;
    }
    if (cert == null || key == null) {
      String missing = prefix + (cert == null ? CERT_FILE : KEY_FILE);
      throw new ConfigException(
          missing + ": TLS needs both " + prefix + CERT_FILE + " and " + prefix + KEY_FILE);
    }
    ServerTls tls =
        new ServerTls(
            cert,
            key,
            s.seconds(
                prefix + RELOAD_SECONDS,
                RELOAD_DEFAULT,
                Duration.ofSeconds(1),
                Duration.ofHours(1)),
            prefix + "tls");
    try {
      tls.current = tls.read();
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          prefix
              + CERT_FILE
              + "/"
              + prefix
              + KEY_FILE
              + ": not a usable PEM certificate and key ("
              + cert
              + ", "
              + key
              + "): "
              + e.getMessage());
    }
    return tls;
  }

  /** These options with TLS on: the current certificate, TLS 1.2+, ALPN (HTTP/2 and HTTP/1.1). */
  public HttpServerOptions apply(HttpServerOptions options) {
    if (OpenSSLEngineOptions.isAvailable()) {
      // BoringSSL (netty-tcnative) where it runs: markedly cheaper per byte than the JDK's engine
      options.setSslEngineOptions(new OpenSSLEngineOptions());
    }
    return options
        .setSsl(true)
        .setKeyCertOptions(current.options())
        .setEnabledSecureTransportProtocols(PROTOCOLS)
        .setUseAlpn(true);
  }

  /** Checks the files every {@code tls.reload-seconds} and hands a changed pair to the servers. */
  public void watch(Vertx vertx, Supplier<List<HttpServer>> servers) {
    vertx.setPeriodic(
        reloadEvery.toMillis(),
        id ->
            vertx
                .executeBlocking(() -> changed() ? read() : null, false)
                .onSuccess(
                    next -> {
                      if (next == null) {
                        return;
                      }
                      SSLOptions ssl =
                          new SSLOptions()
                              .setKeyCertOptions(next.options())
                              .setEnabledSecureTransportProtocols(PROTOCOLS)
                              .setUseAlpn(true);
                      for (HttpServer server : servers.get()) {
                        server
                            .updateSSLOptions(ssl, true)
                            .onFailure(
                                e ->
                                    LOG.error(
                                        "{}: the server refused the new certificate: {}",
                                        what,
                                        e.getMessage()));
                      }
                      current = next;
                      LOG.info("{}: certificate reloaded from {} and {}", what, certFile, keyFile);
                    })
                .onFailure(
                    e ->
                        LOG.error(
                            "{}: cannot reload the certificate ({}); the previous one stays in use: {}",
                            what,
                            certFile,
                            e.getMessage())));
  }

  private boolean changed() throws IOException {
    Loaded now = current;
    return !Files.getLastModifiedTime(certFile).equals(now.certTime())
        || !Files.getLastModifiedTime(keyFile).equals(now.keyTime());
  }

  /** Reads both files and checks that they make a key manager (a matching, parsable pair). */
  private Loaded read() throws IOException {
    FileTime certTime = Files.getLastModifiedTime(certFile);
    FileTime keyTime = Files.getLastModifiedTime(keyFile);
    PemKeyCertOptions options =
        new PemKeyCertOptions()
            .setCertValue(Buffer.buffer(Files.readAllBytes(certFile)))
            .setKeyValue(Buffer.buffer(Files.readAllBytes(keyFile)));
    try {
      // the values are in memory: no file is resolved through a Vert.x instance
      options.getKeyManagerFactory(null);
    } catch (Exception e) {
      throw new IllegalArgumentException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
    }
    return new Loaded(options, certTime, keyTime);
  }
}
