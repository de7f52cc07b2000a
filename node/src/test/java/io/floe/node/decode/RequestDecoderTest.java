package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import io.floe.node.json.EventTimes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

class RequestDecoderTest {
  private static final long INGEST = 1_795_000_000_000_000L;
  private static final FieldNames FIELDS = new FieldNames("key", "event_time");
  private final RequestDecoder decoder = new RequestDecoder(1 << 20, 4096);

  record Event(long time, String key, String payload) {}

  private static List<Event> events(EventBatch batch) {
    List<Event> out = new ArrayList<>();
    EventBatchReader r = batch.reader();
    while (r.next()) {
      out.add(new Event(r.eventTimeMicros(), r.key(), r.payload()));
    }
    return out;
  }

  private EventBatch decode(RequestDecoder.Format format, String body) {
    return decode(format, null, body.getBytes(StandardCharsets.UTF_8));
  }

  private EventBatch decode(RequestDecoder.Format format, String encoding, byte[] body) {
    return decoder.decode("clicks", format, encoding, body, body.length, FIELDS, INGEST);
  }

  @Test
  void ndjsonKeepsEventsVerbatimButCompact() {
    EventBatch batch =
        decode(
            RequestDecoder.Format.NDJSON,
            "{\"key\":\"u1\",\"event_time\":\"2026-11-23T10:00:00.123456Z\",\"a\": [1, 2.50e3]}\n"
                + "\n"
                + "  {\"s\": \"keep  spaces \\\" and \\\\ \", \"event_time\": 1795000000123}\r\n"
                + "{\"key\":42,\"n\":{\"deep\":[{\"key\":\"inner\"}]}}");
    assertThat(batch.stream()).isEqualTo("clicks");
    assertThat(events(batch))
        .containsExactly(
            new Event(
                1_795_428_000_123_456L,
                "u1",
                "{\"key\":\"u1\",\"event_time\":\"2026-11-23T10:00:00.123456Z\",\"a\":[1,2.50e3]}"),
            new Event(
                1_795_000_000_123_000L,
                null,
                "{\"s\":\"keep  spaces \\\" and \\\\ \",\"event_time\":1795000000123}"),
            new Event(INGEST, "42", "{\"key\":42,\"n\":{\"deep\":[{\"key\":\"inner\"}]}}"));
  }

  @Test
  void rfc3339Variants() {
    assertThat(EventTimes.parseRfc3339("2026-11-23T10:00:00Z")).isEqualTo(1_795_428_000_000_000L);
    assertThat(EventTimes.parseRfc3339("2026-11-23 11:00:00+01:00"))
        .isEqualTo(1_795_428_000_000_000L);
    assertThat(EventTimes.parseRfc3339("2026-11-23t10:00:00.5z")).isEqualTo(1_795_428_000_500_000L);
    assertThatThrownBy(() -> EventTimes.parseRfc3339("2026-11-23T10:00:00"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jsonArrayAndSingleObject() {
    EventBatch array = decode(RequestDecoder.Format.JSON, "[ {\"a\" : 1} , {\"key\":\"k\"} ]");
    assertThat(events(array))
        .extracting(Event::payload)
        .containsExactly("{\"a\":1}", "{\"key\":\"k\"}");
    assertThat(events(array)).extracting(Event::key).containsExactly(null, "k");
    EventBatch single = decode(RequestDecoder.Format.JSON, " {\"x\": {\"y\": null}} ");
    assertThat(events(single)).extracting(Event::payload).containsExactly("{\"x\":{\"y\":null}}");
  }

  @Test
  void fieldNamesChosenPerRequest() {
    byte[] body =
        "{\"user\":\"u9\",\"ts\":1000,\"key\":\"ignored\"}".getBytes(StandardCharsets.UTF_8);
    EventBatch batch =
        decoder.decode(
            "s",
            RequestDecoder.Format.NDJSON,
            null,
            body,
            body.length,
            new FieldNames("user", "ts"),
            INGEST);
    assertThat(events(batch))
        .containsExactly(new Event(1_000_000L, "u9", new String(body, StandardCharsets.UTF_8)));
  }

  @Test
  void gzipAndZstdBodies() throws IOException {
    String ndjson = "{\"a\":1}\n{\"a\":2}\n";
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(ndjson.getBytes(StandardCharsets.UTF_8));
    }
    assertThat(decode(RequestDecoder.Format.NDJSON, "gzip", gz.toByteArray()).count()).isEqualTo(2);
    byte[] zst = Zstd.compress(ndjson.getBytes(StandardCharsets.UTF_8));
    assertThat(decode(RequestDecoder.Format.NDJSON, "zstd", zst).count()).isEqualTo(2);
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "br", zst))
        .isInstanceOf(IngestException.UnsupportedMedia.class);
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "gzip", new byte[] {1, 2, 3}))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining("gzip");
  }

  @Test
  void decompressionBombIsRefused() throws IOException {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      byte[] line = "{\"a\":1}\n".getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < 300_000; i++) {
        out.write(line);
      }
    }
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "gzip", gz.toByteArray()))
        .isInstanceOf(IngestException.TooLarge.class)
        .hasMessageContaining("ingest.max-decoded-bytes");
  }

  @Test
  void msgpackLengthsBeyondTheBodyAreRefusedBeforeAnythingIsAllocated() {
    // array32 header claiming 2^30 elements, then nothing: five bytes
    byte[] arrayBomb = {(byte) 0xdd, 0x40, 0x00, 0x00, 0x00};
    assertThatThrownBy(() -> decode(RequestDecoder.Format.MSGPACK, null, arrayBomb))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining(
            "element 1: a container declares 1073741824 values but only 0 bytes follow");
    // a map with a str32 value claiming 1 GiB
    byte[] stringBomb = {(byte) 0x81, (byte) 0xa1, 'v', (byte) 0xdb, 0x40, 0x00, 0x00, 0x00, 'x'};
    assertThatThrownBy(() -> decode(RequestDecoder.Format.MSGPACK, null, stringBomb))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining("declares 1073741824 bytes but only 1 follow");
    // map32 claiming 2^31-1 pairs inside an event
    byte[] mapBomb = {
      (byte) 0x81, (byte) 0xa1, 'v', (byte) 0xdf, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff
    };
    assertThatThrownBy(() -> decode(RequestDecoder.Format.MSGPACK, null, mapBomb))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining("values but only");
  }

  @Test
  void msgpackNestingIsBoundedLikeJson() throws IOException {
    MessageBufferPacker deep = MessagePack.newDefaultBufferPacker();
    deep.packMapHeader(1).packString("a");
    for (int i = 0; i < 100_000; i++) {
      deep.packArrayHeader(1);
    }
    deep.packNil();
    deep.close();
    assertThatThrownBy(() -> decode(RequestDecoder.Format.MSGPACK, null, deep.toByteArray()))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining("nested deeper than 512 levels");

    MessageBufferPacker ok = MessagePack.newDefaultBufferPacker();
    ok.packMapHeader(1).packString("a");
    for (int i = 0; i < 500; i++) {
      ok.packArrayHeader(1);
    }
    ok.packNil();
    ok.close();
    assertThat(decode(RequestDecoder.Format.MSGPACK, null, ok.toByteArray()).count()).isEqualTo(1);
  }

  @Test
  void msgpackMapsBecomeCompactJson() throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packArrayHeader(2);
    p.packMapHeader(3)
        .packString("key")
        .packString("k1")
        .packString("event_time")
        .packLong(2000)
        .packString("v")
        .packArrayHeader(2)
        .packDouble(1.5)
        .packNil();
    p.packMapHeader(2)
        .packString("b")
        .packBinaryHeader(2)
        .writePayload(new byte[] {1, 2})
        .packString("t")
        .packBoolean(true);
    p.close();
    byte[] body = p.toByteArray();
    EventBatch batch = decode(RequestDecoder.Format.MSGPACK, null, body);
    assertThat(events(batch))
        .containsExactly(
            new Event(2_000_000L, "k1", "{\"key\":\"k1\",\"event_time\":2000,\"v\":[1.5,null]}"),
            new Event(INGEST, null, "{\"b\":\"AQI=\",\"t\":true}"));
  }

  @Test
  void errorsNameTheLineOrElement() {
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1}\n{\"a\":}\n"))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageStartingWith("line 2");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1}\n[1]\n"))
        .hasMessageStartingWith("line 2: each NDJSON line must be a JSON object");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1} {\"b\":2}"))
        .hasMessageContaining("line 1: more than one JSON value");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1}\nxyz\n"))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageStartingWith("line 2");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1}\n{\"a\":\n2}\n"))
        .hasMessageStartingWith("line 2: the event does not end on its line");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.JSON, "[{\"a\":1},{\"a\":1},\"x\"]"))
        .hasMessageStartingWith("element 3");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.JSON, "[{\"a\":1}] {}"))
        .hasMessageContaining("unexpected content");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.JSON, "[{\"a\":1}"))
        .isInstanceOf(IngestException.BadRequest.class);
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"event_time\":\"yesterday\"}"))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageContaining("line 1: field 'event_time'")
        .hasMessageContaining("RFC 3339");
    assertThatThrownBy(
            () -> decode(RequestDecoder.Format.NDJSON, "{\"a\":1}\n{\"event_time\":true}"))
        .hasMessageStartingWith("line 2: field 'event_time'");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"event_time\":1e3}"))
        .isInstanceOf(IngestException.BadRequest.class);
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "{\"key\":{\"a\":1}}"))
        .hasMessageContaining("field 'key' must be a string or a number");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.NDJSON, "\n\n"))
        .hasMessageContaining("no events");
    assertThatThrownBy(() -> decode(RequestDecoder.Format.MSGPACK, null, new byte[] {(byte) 0xc1}))
        .isInstanceOf(IngestException.BadRequest.class);
    assertThatThrownBy(
            () -> decode(RequestDecoder.Format.NDJSON, "{\"a\":\"" + "x".repeat(5000) + "\"}"))
        .isInstanceOf(IngestException.TooLarge.class)
        .hasMessageContaining("line 1");
  }

  @Test
  void streamNamesAndMediaTypes() {
    RequestDecoder.checkStream("clicks_v2-eu");
    for (String bad : new String[] {"Clicks", "1abc", "", "a".repeat(129), "a.b", "a/b"}) {
      assertThatThrownBy(() -> RequestDecoder.checkStream(bad))
          .isInstanceOf(IngestException.BadRequest.class);
    }
    assertThat(RequestDecoder.format("application/x-ndjson; charset=utf-8"))
        .isEqualTo(RequestDecoder.Format.NDJSON);
    assertThat(RequestDecoder.format("Application/JSON")).isEqualTo(RequestDecoder.Format.JSON);
    assertThat(RequestDecoder.format("application/msgpack"))
        .isEqualTo(RequestDecoder.Format.MSGPACK);
    assertThatThrownBy(() -> RequestDecoder.format("text/plain"))
        .isInstanceOf(IngestException.UnsupportedMedia.class);
    assertThatThrownBy(() -> RequestDecoder.format(null))
        .isInstanceOf(IngestException.UnsupportedMedia.class);
  }

  @Test
  void storedBatchRoundTrips() {
    EventBatch batch =
        decode(RequestDecoder.Format.NDJSON, "{\"key\":\"ü\",\"x\":\"é\"}\n{\"y\":1}");
    EventBatch stored = EventBatch.fromStored(batch.toByteArray());
    assertThat(stored.count()).isEqualTo(2);
    assertThat(stored.stream()).isEqualTo("clicks");
    assertThat(events(stored)).isEqualTo(events(batch));
    assertThat(stored.reader().ingestTimeMicros()).isEqualTo(INGEST);
  }

  private EventBatch record(RequestDecoder.Format format, byte[] raw) {
    return decoder.decodeRecord("clicks", format, raw, raw.length, FIELDS, INGEST, null);
  }

  private String refusal(RequestDecoder.Format format, byte[] raw) {
    try {
      record(format, raw);
    } catch (IngestException e) {
      return e.error();
    }
    return "decoded";
  }

  /**
   * A dead letter's record (its replay) is exactly one object: an array of objects, a scalar or two
   * values are refused with their code, never read as the events of a request.
   */
  @Test
  void aRecordIsExactlyOneObject() throws IOException {
    byte[] one = " {\"key\":\"k\", \"a\":1} ".getBytes(StandardCharsets.UTF_8);
    for (RequestDecoder.Format f :
        new RequestDecoder.Format[] {RequestDecoder.Format.JSON, RequestDecoder.Format.NDJSON}) {
      assertThat(events(record(f, one)))
          .as("%s", f)
          .containsExactly(new Event(INGEST, "k", "{\"key\":\"k\",\"a\":1}"));
      assertThat(refusal(f, "[{\"a\":1},{\"a\":2}]".getBytes(StandardCharsets.UTF_8)))
          .as("%s", f)
          .isEqualTo("not_an_object");
      assertThat(refusal(f, "7".getBytes(StandardCharsets.UTF_8))).isEqualTo("not_an_object");
      assertThat(refusal(f, "{\"a\":1} {\"a\":2}".getBytes(StandardCharsets.UTF_8)))
          .isEqualTo("malformed_json");
      assertThat(refusal(f, "{\"a\":1}\n{\"a\":2}".getBytes(StandardCharsets.UTF_8)))
          .isEqualTo("malformed_json");
      assertThat(refusal(f, " ".getBytes(StandardCharsets.UTF_8))).isEqualTo("no_events");
    }
    // an NDJSON record is one line, as the normal path reads it
    assertThat(
            refusal(RequestDecoder.Format.NDJSON, "{\"a\":\n1}".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("malformed_json");

    MessageBufferPacker map = MessagePack.newDefaultBufferPacker();
    map.packMapHeader(1).packString("a").packInt(1);
    assertThat(events(record(RequestDecoder.Format.MSGPACK, map.toByteArray())))
        .containsExactly(new Event(INGEST, null, "{\"a\":1}"));
    MessageBufferPacker array = MessagePack.newDefaultBufferPacker();
    array.packArrayHeader(2);
    array.packMapHeader(1).packString("a").packInt(1);
    array.packMapHeader(1).packString("a").packInt(2);
    assertThat(refusal(RequestDecoder.Format.MSGPACK, array.toByteArray()))
        .isEqualTo("not_an_object");
    MessageBufferPacker two = MessagePack.newDefaultBufferPacker();
    two.packMapHeader(1).packString("a").packInt(1);
    two.packMapHeader(1).packString("a").packInt(2);
    assertThat(refusal(RequestDecoder.Format.MSGPACK, two.toByteArray()))
        .isEqualTo("malformed_msgpack");
  }
}
