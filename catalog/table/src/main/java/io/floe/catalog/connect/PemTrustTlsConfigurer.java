package io.floe.catalog.connect;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.iceberg.rest.auth.TLSConfigurer;

/**
 * TLS for the Iceberg REST client when the catalog's certificate is not in the JVM's trust store (a
 * private CA): trusts the PEM certificates in the file named by {@code tls-trust-file} ({@code
 * catalog.tls-trust-file} in a node's settings, which installs this configurer), TLS 1.2 and 1.3
 * only, host names verified.
 */
public final class PemTrustTlsConfigurer implements TLSConfigurer {
  /** Catalog property naming the PEM file of trusted certificates. */
  public static final String TRUST_FILE = "tls-trust-file";

  private SSLContext context;

  @Override
  public void initialize(Map<String, String> properties) {
    String file = properties.get(TRUST_FILE);
    if (file == null || file.isBlank()) {
      throw new IllegalArgumentException(
          TRUST_FILE + " is required by " + getClass().getSimpleName());
    }
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("floe-trust-" + i++, cert);
      }
      if (i == 0) {
        throw new IllegalArgumentException(TRUST_FILE + ": no PEM certificate in " + file);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
    } catch (IOException e) {
      throw new UncheckedIOException(TRUST_FILE + ": cannot read " + file, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          TRUST_FILE + ": not PEM certificates: " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public SSLContext sslContext() {
    return context;
  }

  @Override
  public String[] supportedProtocols() {
    return new String[] {"TLSv1.3", "TLSv1.2"};
  }
}
