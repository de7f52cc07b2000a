package io.floe.common.tls;

import io.floe.common.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SSLOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificates an HTTP client trusts, from a PEM file (one or more certificates: a private CA,
 * or the servers' own self-signed certificates), TLS 1.2+ only, host names verified. The file is
 * watched: when it changes (a server added, a certificate renewed) the clients trust the new set
 * for new connections without a restart; a broken file is refused with an error line and the
 * previous set stays in use.
 */
public final class ClientTrust {
  private static final Logger LOG = LoggerFactory.getLogger(ClientTrust.class);

  private final Path file;
  private final String setting;
  private final Duration reloadEvery;
  private volatile Loaded current;

  private record Loaded(PemTrustOptions options, int certificates, FileTime time) {}

  private ClientTrust(Path file, String setting, Duration reloadEvery) {
    this.file = file;
    this.setting = setting;
    this.reloadEvery = reloadEvery;
  }

  /**
   * Reads {@code file}, to be re-checked every {@code reloadEvery}; a missing or unparsable file
   * stops start-up with one line naming {@code setting}.
   */
  public static ClientTrust load(Path file, String setting, Duration reloadEvery) {
    ClientTrust trust = new ClientTrust(file, setting, reloadEvery);
    try {
      trust.current = trust.read();
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          setting + ": not a usable PEM certificate file (" + file + "): " + e.getMessage());
    }
    return trust;
  }

  /** These options with TLS on, trusting the file's certificates only, host names verified. */
  public HttpClientOptions apply(HttpClientOptions options) {
    if (OpenSSLEngineOptions.isAvailable()) {
      options.setSslEngineOptions(new OpenSSLEngineOptions());
    }
    return options
        .setSsl(true)
        .setVerifyHost(true)
        .setUseAlpn(false)
        .setTrustOptions(current.options())
        .setEnabledSecureTransportProtocols(ServerTls.PROTOCOLS);
  }

  /** Checks the file every {@code reloadEvery} and hands a changed, valid set to the clients. */
  public void watch(Vertx vertx, Supplier<List<HttpClient>> clients) {
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
                              .setTrustOptions(next.options())
                              .setEnabledSecureTransportProtocols(ServerTls.PROTOCOLS)
                              .setUseAlpn(false);
                      for (HttpClient client : clients.get()) {
                        client
                            .updateSSLOptions(ssl, true)
                            .onFailure(
                                e ->
                                    LOG.error(
                                        "{}: a client refused the new certificates: {}",
                                        setting,
                                        e.getMessage()));
                      }
                      current = next;
                      LOG.info(
                          "{}: trusted certificates reloaded from {} ({})",
                          setting,
                          file,
                          next.certificates());
                    })
                .onFailure(
                    e ->
                        LOG.error(
                            "{}: cannot reload {} ({}); the previous certificates stay trusted",
                            setting,
                            file,
                            e.getMessage())));
  }

  private boolean changed() throws IOException {
    return !Files.getLastModifiedTime(file).equals(current.time());
  }

  private Loaded read() throws IOException {
    FileTime time = Files.getLastModifiedTime(file);
    byte[] pem = Files.readAllBytes(file);
    int count;
    try {
      count =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))
              .size();
    } catch (CertificateException e) {
      throw new IllegalArgumentException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
    }
    if (count == 0) {
      throw new IllegalArgumentException("no certificate in it");
    }
    return new Loaded(new PemTrustOptions().addCertValue(Buffer.buffer(pem)), count, time);
  }
}
