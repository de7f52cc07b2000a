package io.floe.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.testing.Certificates;
import io.floe.common.testing.Certificates.Pem;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerTlsTest {
  @TempDir Path dir;
  private Vertx vertx;
  private HttpServer server;

  @BeforeAll
  static void allowOldProtocolsInThisJvm() {
    // the JDK refuses TLS 1.0/1.1 by default on both sides; allowing them here proves that the
    // listener itself refuses them, whatever the JDK's configuration
    Security.setProperty("jdk.tls.disabledAlgorithms", "SSLv3, RC4, DES, NULL, anon");
  }

  @AfterEach
  void stop() {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  private ServerTls start(Pem pem, String reloadSeconds) throws Exception {
    ServerTls tls =
        ServerTls.load(
            Settings.of(
                Map.of(
                    "http.tls.cert-file",
                    pem.cert().toString(),
                    "http.tls.key-file",
                    pem.key().toString(),
                    "http.tls.reload-seconds",
                    reloadSeconds)),
            "http.");
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer(tls.apply(new HttpServerOptions().setHost("127.0.0.1").setPort(0)))
            .requestHandler(req -> req.response().end("ok " + req.version()))
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    tls.watch(vertx, () -> List.of(server));
    return tls;
  }

  private HttpResponse<String> get(SSLContext trust, String scheme) throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(trust)
            .version(HttpClient.Version.HTTP_2)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    return client.send(
        HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + server.actualPort() + "/"))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The serial of the certificate a new connection is given. */
  private BigInteger servedSerial(SSLContext trust) throws Exception {
    try (SSLSocket socket =
        (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", server.actualPort())) {
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  @Test
  void servesHttp2OverTlsAndRefusesPlaintext() throws Exception {
    Pem pem = Certificates.selfSigned(dir, "a");
    start(pem, "10");
    HttpResponse<String> r = get(pem.trustingContext(), "https");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(r.body()).isEqualTo("ok HTTP_2");
    assertThatThrownBy(() -> get(pem.trustingContext(), "http")).isInstanceOf(IOException.class);
  }

  @Test
  void refusesTls11() throws Exception {
    Pem pem = Certificates.selfSigned(dir, "a");
    start(pem, "10");
    try (SSLSocket socket =
        (SSLSocket)
            pem.trustingContext()
                .getSocketFactory()
                .createSocket("127.0.0.1", server.actualPort())) {
      socket.setEnabledProtocols(new String[] {"TLSv1.1"});
      assertThatThrownBy(socket::startHandshake)
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("protocol_version");
    }
    try (SSLSocket socket =
        (SSLSocket)
            pem.trustingContext()
                .getSocketFactory()
                .createSocket("127.0.0.1", server.actualPort())) {
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.startHandshake();
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
    }
  }

  @Test
  void aRenewedCertificateIsServedWithoutARestartAndABrokenOneIsRefused() throws Exception {
    Pem first = Certificates.selfSigned(dir, "first");
    Pem live = new Pem(dir.resolve("live.crt"), dir.resolve("live.key"));
    Files.copy(first.cert(), live.cert());
    Files.copy(first.key(), live.key());
    start(live, "1");
    SSLContext trustBoth = trusting(first, Certificates.selfSigned(dir, "second"));
    assertThat(servedSerial(trustBoth)).isEqualTo(first.serial());

    Pem second = new Pem(dir.resolve("second.crt"), dir.resolve("second.key"));
    replace(second.key(), live.key());
    replace(second.cert(), live.cert());
    awaitServed(trustBoth, second.serial());
    assertThat(get(trustBoth, "https").statusCode()).isEqualTo(200);

    Files.writeString(
        live.cert(), "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
    Thread.sleep(2_500);
    assertThat(servedSerial(trustBoth))
        .as("a broken file keeps the previous certificate")
        .isEqualTo(second.serial());
  }

  @Test
  void aHalfOrBrokenConfigurationStopsStartUpNamingTheSetting() throws Exception {
    Pem pem = Certificates.selfSigned(dir, "a");
    assertThatThrownBy(
            () ->
                ServerTls.load(
                    Settings.of(Map.of("http.tls.cert-file", pem.cert().toString())), "http."))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("http.tls.key-file:");
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello");
    assertThatThrownBy(
            () ->
                ServerTls.load(
                    Settings.of(
                        Map.of(
                            "http.tls.cert-file",
                            garbage.toString(),
                            "http.tls.key-file",
                            pem.key().toString())),
                    "http."))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("http.tls.cert-file/http.tls.key-file:");
    assertThat(ServerTls.load(Settings.of(Map.of()), "http.")).as("no files: plaintext").isNull();
  }

  private static void replace(Path from, Path to) throws IOException {
    Path tmp = to.resolveSibling(to.getFileName() + ".new");
    Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private void awaitServed(SSLContext trust, BigInteger serial) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!serial.equals(servedSerialOrNull(trust))) {
      assertThat(System.nanoTime()).as("the renewed certificate is served").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /**
   * The served serial, or null when a handshake fails: the key and the certificate are replaced one
   * after the other, and a reload that saw only the new key refuses handshakes until the next.
   */
  private BigInteger servedSerialOrNull(SSLContext trust) throws Exception {
    try {
      return servedSerial(trust);
    } catch (SSLHandshakeException e) {
      return null;
    }
  }

  private static SSLContext trusting(Pem a, Pem b) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setCertificateEntry("a", a.x509());
    store.setCertificateEntry("b", b.x509());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
