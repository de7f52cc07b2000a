package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog service's listener on the wire: who the caller is and whether it may call the route
 * is settled before a byte of the body is read; a body over the limit is a 413 in the API's own
 * JSON; idle connections are closed and connections beyond the cap refused.
 */
class CatalogListenerTest {
  private static final int MIB = 1 << 20;
  @TempDir Path tmp;

  private CatalogService start(Map<String, String> extra) throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("nodes", "catalog:commit", "t-commit"),
                TokenStore.line("oncall", "admin", "t-admin")));
    Map<String, String> env = new HashMap<>(extra);
    env.put("FLOE_AUTH_TOKENS_FILE", tokens.toString());
    return LocalCatalog.start(
        tmp.resolve("catalog.db"),
        Map.of(
            "warehouse",
            tmp.resolve("wh").toUri().toString(),
            "io-impl",
            "org.apache.iceberg.hadoop.HadoopFileIO"),
        env);
  }

  /** An HTTP/1.1 answer: its status, its head and its body. */
  private record Answer(int status, String head, String body) {}

  /** Reads one answer (Content-Length framed), or null when the server closed first. */
  private static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    byte[] body = in.readNBytes(length);
    return new Answer(
        Integer.parseInt(text.substring(9, 12)), text, new String(body, StandardCharsets.UTF_8));
  }

  private static String post(String path, String token, String framing) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
        + framing
        + "\r\n";
  }

  /**
   * Sends {@code head}, then up to {@code bodyBytes} of body from another thread while the answer
   * is read here; returns the answer and how much of the body had been sent when it came.
   */
  private static Answer sendBody(
      Socket s, String head, long bodyBytes, boolean chunked, AtomicLong sent) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    Thread writer =
        new Thread(
            () -> {
              byte[] chunk = new byte[MIB];
              try {
                while (sent.get() < bodyBytes) {
                  if (chunked) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes());
                  }
                  out.write(chunk);
                  if (chunked) {
                    out.write("\r\n".getBytes());
                  }
                  out.flush();
                  sent.addAndGet(chunk.length);
                }
              } catch (IOException closed) {
                // the server answered and closed: stop sending
              }
            });
    writer.setDaemon(true);
    writer.start();
    s.setSoTimeout(20_000);
    Answer answer = read(s.getInputStream());
    return answer;
  }

  @Test
  void refusesAnUnknownCallerBeforeReadingItsBody() throws Exception {
    try (CatalogService service = start(Map.of())) {
      // 65 MiB announced, and none of it sent: the answer cannot wait for the body
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        AtomicLong sent = new AtomicLong();
        Answer a =
            sendBody(
                s,
                post("/v1/namespaces", null, "Content-Length: " + 65 * MIB + "\r\n"),
                0,
                false,
                sent);
        assertThat(a.status()).isEqualTo(401);
        assertThat(a.body()).contains("NotAuthorizedException");
        assertThat(a.head()).containsIgnoringCase("connection: close");
        assertThat(s.getInputStream().read()).as("closed after the answer").isEqualTo(-1);
      }
      // a chunked body of 65 MiB, sent as fast as the server reads it: answered long before
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        AtomicLong sent = new AtomicLong();
        Answer a =
            sendBody(
                s,
                post("/v1/namespaces", null, "Transfer-Encoding: chunked\r\n"),
                65L * MIB,
                true,
                sent);
        assertThat(a.status()).isEqualTo(401);
        assertThat(sent.get()).as("body bytes sent when the answer came").isLessThan(16L * MIB);
      }
      // a caller without the route's scope: refused before its body too
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        AtomicLong sent = new AtomicLong();
        Answer a =
            sendBody(
                s,
                post("/v1/tables/rename", "t-commit", "Content-Length: " + 65 * MIB + "\r\n"),
                0,
                false,
                sent);
        assertThat(a.status()).isEqualTo(403);
        assertThat(a.body()).contains("ForbiddenException");
      }
    }
  }

  @Test
  void answersABodyOverTheLimitWith413InTheApisJson() throws Exception {
    try (CatalogService service = start(Map.of())) {
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        Answer a =
            sendBody(
                s,
                post("/v1/namespaces", "t-commit", "Content-Length: " + 65 * MIB + "\r\n"),
                0,
                false,
                new AtomicLong());
        assertThat(a.status()).isEqualTo(413);
        assertThat(a.head()).containsIgnoringCase("content-type: application/json");
        assertThat(a.body()).contains("\"code\":413").contains("RequestTooLargeException");
      }
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        AtomicLong sent = new AtomicLong();
        Answer a =
            sendBody(
                s,
                post("/v1/namespaces", "t-commit", "Transfer-Encoding: chunked\r\n"),
                65L * MIB,
                true,
                sent);
        assertThat(a.status()).isEqualTo(413);
        assertThat(a.body()).contains("\"code\":413");
      }
      // the column API answers in Floe's JSON
      try (Socket s = new Socket("127.0.0.1", service.port())) {
        Answer a =
            sendBody(
                s,
                post("/floe/v1/columns", "t-admin", "Content-Length: " + MIB + "\r\n"),
                0,
                false,
                new AtomicLong());
        assertThat(a.status()).isEqualTo(413);
        assertThat(a.body()).contains("\"error\":\"too_large\"");
      }
    }
  }

  /** Oversized headers and request lines get a JSON answer too, as on every Floe listener. */
  @Test
  void oversizedHeadersAndUrisGetJsonAnswers() throws Exception {
    try (CatalogService service = start(Map.of())) {
      for (String head :
          List.of(
              "GET /v1/config HTTP/1.1\r\nHost: c\r\nX-Pad: " + "x".repeat(9000) + "\r\n\r\n",
              "GET /v1/config?pad=" + "x".repeat(5000) + " HTTP/1.1\r\nHost: c\r\n\r\n")) {
        try (Socket s = new Socket("127.0.0.1", service.port())) {
          s.setSoTimeout(10_000);
          s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
          String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertThat(answer)
              .matches("(?s)HTTP/1\\.[01] (431|414) .*")
              .containsIgnoringCase("content-type: application/json")
              .containsPattern("\"error\":\"(request_header_fields_too_large|uri_too_long)\"");
        }
      }
    }
  }

  @Test
  void closesIdleConnectionsAndRefusesThoseOverTheCap() throws Exception {
    try (CatalogService service =
        start(
            Map.of(
                "FLOE_SERVICE_IDLE_TIMEOUT_SECONDS", "1", "FLOE_SERVICE_MAX_CONNECTIONS", "2"))) {
      String live = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
      try (Socket idle = new Socket("127.0.0.1", service.port())) {
        idle.setSoTimeout(10_000);
        long start = System.nanoTime();
        int read;
        try {
          read = idle.getInputStream().read();
        } catch (SocketTimeoutException e) {
          read = -2;
        }
        assertThat(read).as("closed by the server").isEqualTo(-1);
        assertThat((System.nanoTime() - start) / 1e9).isBetween(0.5, 5.0);
      }
      try (Socket one = new Socket("127.0.0.1", service.port());
          Socket two = new Socket("127.0.0.1", service.port())) {
        for (Socket s : List.of(one, two)) {
          s.setSoTimeout(10_000);
          s.getOutputStream().write(live.getBytes(StandardCharsets.ISO_8859_1));
          assertThat(read(s.getInputStream()).status()).isEqualTo(200);
        }
        try (Socket three = new Socket("127.0.0.1", service.port())) {
          three.setSoTimeout(10_000);
          three.getOutputStream().write(live.getBytes(StandardCharsets.ISO_8859_1));
          Answer refused;
          try {
            refused = read(three.getInputStream());
          } catch (IOException reset) {
            refused = null;
          }
          assertThat(refused).as("the third connection is closed unanswered").isNull();
        }
      }
      // below the cap again: served
      Thread.sleep(200);
      try (Socket again = new Socket("127.0.0.1", service.port())) {
        again.setSoTimeout(10_000);
        again.getOutputStream().write(live.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(read(again.getInputStream()).status()).isEqualTo(200);
      }
    }
  }
}
