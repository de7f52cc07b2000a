package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.node.Node;
import io.floe.node.buffer.IdempotencyKey;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * A producer that retries with the same Idempotency-Key gets the original acknowledgement, and its
 * events once: a retry is the same events from the same producer to the same stream, however they
 * were compressed; another producer's key of the same name is another key.
 */
class IdempotencyTest {
  @TempDir Path dir;
  private Node node;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private Node start(Map<String, String> overrides) throws Exception {
    Map<String, String> s = new HashMap<>(Map.of("node.partition-id", "6"));
    s.putAll(overrides);
    node = BufferOnlyNode.start(dir.resolve("rocks"), s);
    return node;
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private HttpResponse<String> post(String key, String body) throws Exception {
    return post(key, body.getBytes(StandardCharsets.UTF_8));
  }

  /** Posts {@code body} with {@code key} (null: none) and then header name, value pairs. */
  private HttpResponse<String> post(String key, byte[] body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private Node startWithTokens() throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("producer-a", "ingest", "t-a"),
                TokenStore.line("producer-b", "ingest", "t-b"),
                TokenStore.line("router-1", "router", "t-router")));
    return start(Map.of("auth.tokens-file", tokens.toString()));
  }

  private static long first(HttpResponse<String> r) {
    return new JsonObject(r.body()).getLong("first_sequence");
  }

  private static final String BODY = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";

  @Test
  void aRetryGetsTheOriginalAckAndNothingIsWrittenTwiceAlsoAfterARestart() throws Exception {
    start(Map.of());
    HttpResponse<String> first = post("order-17", BODY);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.headers().firstValue("Idempotency-Replayed")).isEmpty();
    HttpResponse<String> retry = post("order-17", BODY);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(retry.body())).isEqualTo(new JsonObject(first.body()));
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);

    HttpResponse<String> other = post("order-18", BODY);
    assertThat(new JsonObject(other.body()).getLong("first_sequence")).isEqualTo(4);

    node.close();
    start(Map.of());
    HttpResponse<String> afterRestart = post("order-17", BODY);
    assertThat(afterRestart.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(afterRestart.body())).isEqualTo(new JsonObject(first.body()));
    assertThat(node.buffer().bufferedEvents()).isEqualTo(6);
    assertThat(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body())
        .contains("floe_node_idempotent_replays_total 1.0");
  }

  @Test
  void aKeyReusedForADifferentRequestIsRefusedAndWritesNothing() throws Exception {
    start(Map.of());
    assertThat(post("k1", BODY).statusCode()).isEqualTo(200);
    HttpResponse<String> reused = post("k1", "{\"a\":9}\n");
    assertThat(reused.statusCode()).isEqualTo(422);
    assertThat(new JsonObject(reused.body()).getString("error"))
        .isEqualTo("idempotency_key_reused");
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);
    HttpResponse<String> bad = post("has space", BODY);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("bad_idempotency_key");
  }

  @Test
  void concurrentRetriesOfOneKeyAreWrittenOnce() throws Exception {
    start(Map.of());
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      all.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return post("same", BODY);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    Set<Long> firsts = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get();
      assertThat(r.statusCode()).isEqualTo(200);
      firsts.add(new JsonObject(r.body()).getLong("first_sequence"));
    }
    assertThat(firsts).containsExactly(1L);
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);
  }

  @Test
  void keysAreForgottenBeyondTheCount() throws Exception {
    start(Map.of("idempotency.max-keys", "2"));
    post("a", BODY);
    post("b", BODY);
    post("c", BODY);
    assertThat(node.buffer().idempotencyKeys()).isEqualTo(2);
    HttpResponse<String> again = post("a", BODY);
    assertThat(again.headers().firstValue("Idempotency-Replayed"))
        .as("'a' was forgotten")
        .isEmpty();
    assertThat(new JsonObject(again.body()).getLong("first_sequence")).isEqualTo(10);
    assertThat(post("c", BODY).headers().firstValue("Idempotency-Replayed")).hasValue("true");
  }

  @Test
  void twoProducersUsingOneKeyEachStoreTheirEvents() throws Exception {
    startWithTokens();
    HttpResponse<String> a =
        post("batch-1", BODY.getBytes(StandardCharsets.UTF_8), "Authorization", "Bearer t-a");
    assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
    HttpResponse<String> b =
        post(
            "batch-1",
            "{\"b\":1}\n".getBytes(StandardCharsets.UTF_8),
            "Authorization",
            "Bearer t-b");
    assertThat(b.statusCode()).as("B's key is not A's: %s", b.body()).isEqualTo(200);
    assertThat(b.headers().firstValue("Idempotency-Replayed")).isEmpty();
    assertThat(first(b)).isEqualTo(4);
    HttpResponse<String> sameEvents =
        post("batch-1", BODY.getBytes(StandardCharsets.UTF_8), "Authorization", "Bearer t-b");
    assertThat(sameEvents.statusCode()).as(sameEvents.body()).isEqualTo(422);
    assertThat(sameEvents.body()).as("B is told of its own request, not A's").contains("4..4");
    assertThat(node.buffer().bufferedEvents()).isEqualTo(4);

    // through a router, a producer's keys are its own: the router names it in X-Floe-Principal
    HttpResponse<String> viaRouter =
        post(
            "batch-1",
            BODY.getBytes(StandardCharsets.UTF_8),
            "Authorization",
            "Bearer t-router",
            "X-Floe-Principal",
            "producer-a");
    assertThat(viaRouter.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(viaRouter.body())).isEqualTo(new JsonObject(a.body()));
    // a producer cannot name another to reach its keys: only a router's header counts
    HttpResponse<String> impostor =
        post(
            "batch-1",
            BODY.getBytes(StandardCharsets.UTF_8),
            "Authorization",
            "Bearer t-b",
            "X-Floe-Principal",
            "producer-a");
    assertThat(impostor.statusCode()).as(impostor.body()).isEqualTo(422);
    assertThat(impostor.body()).contains("4..4");
    assertThat(node.buffer().bufferedEvents()).isEqualTo(4);
  }

  @Test
  void theSameEventsCompressedTwiceAreARetry() throws Exception {
    start(Map.of());
    byte[] once = gzip(BODY, 1_700_000_000);
    byte[] again = gzip(BODY, 1_700_000_042);
    assertThat(again).as("gzip headers differ in MTIME").isNotEqualTo(once);
    HttpResponse<String> first = post("zipped", once, "Content-Encoding", "gzip");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    HttpResponse<String> retry = post("zipped", again, "Content-Encoding", "gzip");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(retry.body())).isEqualTo(new JsonObject(first.body()));
    HttpResponse<String> plain = post("zipped", BODY);
    assertThat(plain.headers().firstValue("Idempotency-Replayed"))
        .as("the same events, not compressed")
        .hasValue("true");
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);
  }

  @Test
  void aDifferentBodyWithTheSameCrc32cIsRefused() throws Exception {
    start(Map.of());
    byte[] original = "{\"note\":\"zzzzzzzzzzzz\"}\n".getBytes(StandardCharsets.UTF_8);
    byte[] forged = sameCrc32c(original, 9, 12);
    assertThat(forged).isNotEqualTo(original).hasSameSizeAs(original);
    assertThat(crc32c(forged)).isEqualTo(crc32c(original));
    assertThat(post("forged", original).statusCode()).isEqualTo(200);
    HttpResponse<String> collision = post("forged", forged);
    assertThat(collision.statusCode()).as(collision.body()).isEqualTo(422);
    assertThat(node.buffer().bufferedEvents()).isEqualTo(1);
  }

  @Test
  void keysStoredByAnOlderNodeKeepTheirMeaningAfterAnUpgrade() throws Exception {
    start(Map.of());
    node.close();
    // what a node before per-producer keys stored: [0x02] + key -> first, last, fingerprint (a
    // CRC-32C of the body as sent beside a hash of the request's headers), created
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    CRC32C crc = new CRC32C();
    crc.update(body);
    int rest = Objects.hash("s", "application/x-ndjson", null, null, null, body.length);
    long fingerprint = (crc.getValue() << 32) | (rest & 0xFFFFFFFFL);
    try (Options options = new Options();
        RocksDB db = RocksDB.open(options, dir.resolve("rocks").toString())) {
      db.put(
          ByteBuffer.allocate(8)
              .put((byte) 0x02)
              .put("old-key".getBytes(StandardCharsets.UTF_8))
              .array(),
          ByteBuffer.allocate(32)
              .putLong(100)
              .putLong(102)
              .putLong(fingerprint)
              .putLong(System.currentTimeMillis())
              .array());
    }
    start(Map.of());
    HttpResponse<String> retry = post("old-key", BODY);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(first(retry)).isEqualTo(100);
    HttpResponse<String> other = post("old-key", "{\"a\":9}\n");
    assertThat(other.statusCode()).isEqualTo(422);
    assertThat(other.body()).contains("100..102");
    assertThat(node.buffer().bufferedEvents()).isZero();
  }

  /**
   * The same bytes are the same request whatever the node would make of them now: after a restart
   * with another default key field (the events now carry other keys), a retry still gets its first
   * answer, read back from RocksDB.
   */
  @Test
  void theSameBytesAreARetryAfterTheNodeReadsThemOtherwise() throws Exception {
    start(Map.of());
    String body = "{\"key\":\"k1\",\"id\":\"i1\"}\n";
    HttpResponse<String> first = post("same-bytes", body);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    node.close();
    start(Map.of("ingest.key-field", "id"));
    HttpResponse<String> retry = post("same-bytes", body);
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(retry.body())).isEqualTo(new JsonObject(first.body()));
    assertThat(post("same-bytes", "{\"key\":\"k2\"}\n").statusCode()).isEqualTo(422);
    assertThat(node.buffer().bufferedEvents()).isEqualTo(1);
  }

  @Test
  void keysStoredBeforeRequestFingerprintsKeepTheirMeaning() throws Exception {
    start(Map.of());
    node.close();
    // what a node before request fingerprints stored: [0x03] + producer, stream, key -> first,
    // last, created, a SHA-256 of the decoded events
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    FieldNames fields = new FieldNames("key", "event_time");
    byte[] fingerprint =
        IdempotencyKey.fingerprint(
            new RequestDecoder(1 << 20, 1 << 20)
                .decode("s", RequestDecoder.Format.NDJSON, null, body, body.length, fields, 1L),
            fields.keyField(),
            fields.timeField());
    byte[] producer = "anonymous".getBytes(StandardCharsets.UTF_8);
    byte[] key = "before".getBytes(StandardCharsets.UTF_8);
    try (Options options = new Options();
        RocksDB db = RocksDB.open(options, dir.resolve("rocks").toString())) {
      db.put(
          ByteBuffer.allocate(1 + 2 + producer.length + 2 + 1 + key.length)
              .put((byte) 0x03)
              .putShort((short) producer.length)
              .put(producer)
              .putShort((short) 1)
              .put((byte) 's')
              .put(key)
              .array(),
          ByteBuffer.allocate(24 + 32)
              .putLong(200)
              .putLong(202)
              .putLong(System.currentTimeMillis())
              .put(fingerprint)
              .array());
    }
    start(Map.of());
    HttpResponse<String> retry = post("before", gzip(BODY, 7), "Content-Encoding", "gzip");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(first(retry)).isEqualTo(200);
    HttpResponse<String> other = post("before", "{\"a\":9}\n");
    assertThat(other.statusCode()).isEqualTo(422);
    assertThat(other.body()).contains("200..202");
    assertThat(node.buffer().bufferedEvents()).isZero();
  }

  /** {@code text} gzip'd with {@code mtime} in its header, as Python's and Go's gzip write it. */
  private static byte[] gzip(String text, int mtime) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    byte[] bytes = out.toByteArray();
    for (int i = 0; i < 4; i++) {
      bytes[4 + i] = (byte) (mtime >>> (8 * i)); // MTIME, little-endian; no header CRC
    }
    return bytes;
  }

  private static long crc32c(byte[] b) {
    CRC32C crc = new CRC32C();
    crc.update(b);
    return crc.getValue();
  }

  /**
   * {@code original} with {@code count} bytes from {@code from} replaced by letters from '@' to 'O'
   * so that its CRC-32C stays the same: CRC-32C is linear, so the four free low bits of each of
   * those bytes are solved for over GF(2).
   */
  private static byte[] sameCrc32c(byte[] original, int from, int count) {
    byte[] base = original.clone();
    Arrays.fill(base, from, from + count, (byte) 0x40);
    long target = crc32c(original) ^ crc32c(base);
    int vars = 4 * count;
    long[] column = new long[vars];
    for (int v = 0; v < vars; v++) {
      byte[] flipped = base.clone();
      flipped[from + v / 4] ^= (byte) (1 << (v % 4));
      column[v] = crc32c(flipped) ^ crc32c(base);
    }
    // Gaussian elimination on the 32 equations (bit r of the sum of chosen columns = bit r of
    // target)
    long[] rows = new long[32]; // bit v: variable v in the equation; bit 63: its right-hand side
    for (int r = 0; r < 32; r++) {
      for (int v = 0; v < vars; v++) {
        rows[r] |= ((column[v] >>> r) & 1) << v;
      }
      rows[r] |= ((target >>> r) & 1) << 63;
    }
    int[] pivotOf = new int[32];
    int rank = 0;
    for (int v = 0; v < vars && rank < 32; v++) {
      int pivot = -1;
      for (int r = rank; r < 32; r++) {
        if ((rows[r] >>> v & 1) != 0) {
          pivot = r;
          break;
        }
      }
      if (pivot < 0) {
        continue;
      }
      long t = rows[pivot];
      rows[pivot] = rows[rank];
      rows[rank] = t;
      for (int r = 0; r < 32; r++) {
        if (r != rank && (rows[r] >>> v & 1) != 0) {
          rows[r] ^= rows[rank];
        }
      }
      pivotOf[rank++] = v;
    }
    for (int r = rank; r < 32; r++) {
      assertThat(rows[r] >>> 63).as("solvable").isZero();
    }
    byte[] forged = base.clone();
    for (int r = 0; r < rank; r++) {
      if (rows[r] >>> 63 != 0) {
        int v = pivotOf[r];
        forged[from + v / 4] ^= (byte) (1 << (v % 4));
      }
    }
    return forged;
  }
}
