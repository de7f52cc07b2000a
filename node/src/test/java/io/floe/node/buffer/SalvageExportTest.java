package io.floe.node.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What salvage writes and what it leaves: the buffer's byte count is what is left in it, and dead
 * letters marked for salvage are written with their context and raw bytes, then forgotten.
 */
class SalvageExportTest {
  @TempDir Path dir;

  /** One request's dead letters: a malformed line and a line of bytes that are not UTF-8. */
  private static DeadLetters deadLetters(String tag) {
    byte[] notText = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41};
    DeadLetterBatch batch =
        DeadLetterBatch.of(
            new DeadLetterBatch.Context(
                "s", 3_000L, "application/x-ndjson", "shop", "req-" + tag, "key-" + tag, 0, ""),
            List.of(
                new DeadLetterBatch.Record(
                    "malformed_json",
                    "unexpected end",
                    2,
                    false,
                    12,
                    ("{\"" + tag + "\":").getBytes(StandardCharsets.UTF_8)),
                new DeadLetterBatch.Record("not_an_object", "", 4, true, 900, notText)));
    return new DeadLetters(batch, "[]".getBytes(StandardCharsets.UTF_8));
  }

  /** Two requests, each with three events and two dead letters: sequences 1..10. */
  private static void fill(RocksBuffer buffer) throws Exception {
    List<EventBatch> batches =
        List.of(RocksBufferTest.batch("s", 3, "a"), RocksBufferTest.batch("s", 3, "b"));
    buffer.append(batches, List.of(deadLetters("a"), deadLetters("b")), null);
  }

  /** The encoded bytes of the batches and dead letters the buffer still holds. */
  private static long bytesLeft(RocksBuffer buffer) throws Exception {
    long[] bytes = {0};
    buffer.forEachBatch(
        buffer.committedSequence(),
        (first, batch) -> {
          bytes[0] += batch.sizeBytes();
          return true;
        });
    buffer.forEachDeadLetters(
        buffer.deadLettersCommitted(),
        (first, batch) -> {
          bytes[0] += batch.sizeBytes();
          return true;
        });
    return bytes[0];
  }

  @Test
  void afterSalvageTheBufferedBytesAreWhatIsLeft() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      fill(buffer);
      assertThat(buffer.bufferedBytes()).isEqualTo(bytesLeft(buffer)).isPositive();
      buffer.markSalvage(0); // the events only
      SalvageExport.write(buffer, new ByteArrayOutputStream());
      assertThat(buffer.bufferedBytes()).isEqualTo(bytesLeft(buffer));
    }
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      assertThat(buffer.bufferedBytes()).isEqualTo(bytesLeft(buffer));
    }
  }

  @Test
  void deadLettersMarkedForSalvageAreWrittenWithTheirRawBytesThenForgotten() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    String bufferId;
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      bufferId = buffer.bufferId();
      fill(buffer);
      buffer.recordClaimEpoch(4);
      buffer.recordDeadClaimEpoch(4);
      buffer.markSalvage(0);
      buffer.markDeadSalvage(0);
      assertThat(buffer.salvageNeeded()).isTrue();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SalvageExport.Written written = SalvageExport.write(buffer, out);
      assertThat(written).isEqualTo(new SalvageExport.Written(6, 4, List.of()));

      List<JsonObject> dead = new ArrayList<>();
      List<Long> eventSequences = new ArrayList<>();
      for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
        JsonObject o = new JsonObject(line);
        if (SalvageExport.DEAD_LETTER.equals(o.getString(SalvageExport.KIND))) {
          dead.add(o);
        } else {
          assertThat(o.containsKey(SalvageExport.KIND)).isFalse();
          eventSequences.add(o.getLong(SalvageExport.SEQUENCE));
        }
      }
      assertThat(eventSequences).containsExactly(1L, 2L, 3L, 6L, 7L, 8L);
      assertThat(dead).extracting(o -> o.getLong("sequence")).containsExactly(4L, 5L, 9L, 10L);
      JsonObject first = dead.get(0);
      assertThat(first.getString("stream")).isEqualTo("s");
      assertThat(first.getString("buffer")).isEqualTo(bufferId);
      assertThat(first.getString("error_code")).isEqualTo("malformed_json");
      assertThat(first.getString("error_detail")).isEqualTo("unexpected end");
      assertThat(first.getInteger("position")).isEqualTo(2);
      assertThat(first.getString("content_type")).isEqualTo("application/x-ndjson");
      assertThat(first.getString("principal")).isEqualTo("shop");
      assertThat(first.getString("request_id")).isEqualTo("req-a");
      assertThat(first.getString("idempotency_key")).isEqualTo("key-a");
      assertThat(first.getInteger("replay_count")).isZero();
      assertThat(first.containsKey("replay_of")).isTrue();
      assertThat(first.getString("replay_of")).isNull();
      assertThat(first.getBoolean("raw_truncated")).isFalse();
      assertThat(first.getInteger("raw_length")).isEqualTo(12);
      assertThat(first.getString("ingest_time")).isEqualTo("1970-01-01T00:00:00.003Z");
      assertThat(Base64.getDecoder().decode(first.getString("raw")))
          .isEqualTo("{\"a\":".getBytes(StandardCharsets.UTF_8));
      JsonObject binary = dead.get(1);
      assertThat(binary.getString("error_detail")).isNull();
      assertThat(binary.getBoolean("raw_truncated")).isTrue();
      assertThat(binary.getInteger("raw_length")).isEqualTo(900);
      assertThat(Base64.getDecoder().decode(binary.getString("raw")))
          .isEqualTo(new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});

      assertThat(buffer.bufferedBytes()).isZero();
      assertThat(buffer.deadLettersPending()).isFalse();
      assertThat(buffer.eventsPending()).isFalse();
    }
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      assertThat(buffer.salvageNeeded()).isFalse();
      assertThat(buffer.bufferedBytes()).isZero();
      assertThat(bytesLeft(buffer)).isZero();
      assertThat(buffer.deadLettersPending()).isFalse();
      assertThat(buffer.claimEpoch()).as("the next start claims afresh").isZero();
      assertThat(buffer.deadClaimEpoch()).isZero();
      assertThat(buffer.highWaterMark())
          .as("salvaged sequences are not handed out again")
          .isEqualTo(10);
      assertThat(Arrays.asList(buffer.committedSequence(), buffer.deadLettersCommitted()))
          .containsExactly(0L, 0L);
    }
  }

  /** A replay's outcome row of dead letter {@code of}: {@code code}, raw bytes when it failed. */
  private static DeadLetters outcome(String of, String code, String raw) {
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    return new DeadLetters(
        DeadLetterBatch.of(
            new DeadLetterBatch.Context(
                "s", 3_000L, "application/x-ndjson", "floe-replay", "replay-" + of, "", 0, of),
            List.of(new DeadLetterBatch.Record(code, "", 0, false, bytes.length, bytes))),
        "[]".getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Replays caught by the lost claim: one whose events were committed (only its outcome row is
   * salvaged), one whose events are salvaged too, one that failed again. The replay's events and
   * rows carry replay_of in the file; the one whose events were committed is left in the buffer for
   * the node's next replay to record, and stays there after the buffer is reopened.
   */
  @Test
  void aReplaysEventsAndOutcomesAreMarkedAndACommittedOneIsLeftToRecord() throws Exception {
    BufferConfig config = BufferConfig.defaults(dir);
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      EventBatch none = new EventBatch.Builder("s", 3_000L, 64).build();
      // sequences: 1 and 2 (events committed), 3 and 4, then 5
      buffer.append(
          List.of(RocksBufferTest.batch("s", 1, "committed")),
          List.of(outcome("3-7", DeadLetterBatch.REPLAYED, "")),
          null);
      buffer.append(
          List.of(RocksBufferTest.batch("s", 1, "salvaged")),
          List.of(outcome("3-8", DeadLetterBatch.REPLAYED, "")),
          null);
      buffer.append(List.of(none), List.of(outcome("3-9", "malformed_json", "{\"x\":")), null);
      buffer.recordClaimEpoch(4);
      buffer.recordDeadClaimEpoch(4);
      buffer.markSalvage(2);
      buffer.markDeadSalvage(0);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SalvageExport.Written written = SalvageExport.write(buffer, out);
      assertThat(written.replaysToRecord()).containsExactly("3-7");
      List<String> lines = new ArrayList<>();
      for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
        JsonObject o = new JsonObject(line);
        lines.add(
            o.getString(SalvageExport.KIND, "event")
                + " "
                + o.getLong(SalvageExport.SEQUENCE)
                + " "
                + o.getString(SalvageExport.REPLAY_OF));
      }
      assertThat(lines)
          .containsExactly(
              "event 3 3-8", "dead_letter 2 3-7", "dead_letter 4 3-8", "dead_letter 5 3-9");
      assertThat(buffer.replaysToRecord()).containsExactly("3-7");
    }
    try (RocksBuffer buffer = RocksBuffer.open(config, 3)) {
      assertThat(buffer.salvageNeeded()).isFalse();
      assertThat(buffer.replaysToRecord()).containsExactly("3-7");
      buffer.forgetReplaysToRecord(List.of("3-7"));
      assertThat(buffer.replaysToRecord()).isEmpty();
    }
  }
}
