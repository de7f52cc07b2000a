package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.ThreadMXBean;
import io.floe.node.error.IngestException;
import io.floe.node.event.EventBatch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * What decoding a MessagePack body costs in heap, counted by the JVM for this thread: a few times
 * the body at most, whatever the body declares, so that the in-flight budget (which counts the
 * decoded body and the batch) bounds it.
 */
class MsgpackAllocationTest {
  private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final FieldNames FIELDS = new FieldNames("key", "event_time");
  private final RequestDecoder decoder = new RequestDecoder(64 << 20, 1 << 20);

  @BeforeAll
  static void warmUp() throws IOException {
    // classes loaded and buffers recycled once, so that only the decode itself is counted below
    new RequestDecoder(1 << 20, 1 << 20)
        .decode("s", RequestDecoder.Format.MSGPACK, null, events(10), events(10).length, FIELDS, 1);
  }

  /** Bytes this thread allocated while {@code decode} ran (it may throw). */
  private static long allocated(Runnable decode) {
    long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    try {
      decode.run();
    } catch (IngestException refused) {
      // the refusal is checked by the caller; the bytes it cost are what counts here
    }
    return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
  }

  @Test
  void anArrayOfFourMillionIntegersIsRefusedWithoutATreeOfThem() {
    // array32 of 0x3ffffb elements, each a one-byte fixint: 4 MiB, and the framing is sound
    byte[] body = new byte[4 << 20];
    byte[] header = {(byte) 0xdd, 0x00, 0x3f, (byte) 0xff, (byte) 0xfb};
    System.arraycopy(header, 0, body, 0, header.length);
    assertThatThrownBy(() -> decode(body))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageStartingWith("element 1: each event must be a MessagePack map");
    long bytes = allocated(() -> decode(body));
    assertThat(bytes)
        .as("bytes allocated for a %d-byte body", body.length)
        .isLessThan(3L * body.length);
  }

  @Test
  void anEventHoldingFourMillionIntegersIsRefusedAtTheEventLimit() {
    // {"a": array32 of 0x3ffff8 fixints}: one event, its text cut off at ingest.max-event-bytes
    byte[] body = new byte[4 << 20];
    byte[] header = {
      (byte) 0x81, (byte) 0xa1, 'a', (byte) 0xdd, 0x00, 0x3f, (byte) 0xff, (byte) 0xf8
    };
    System.arraycopy(header, 0, body, 0, header.length);
    assertThatThrownBy(() -> decode(body))
        .isInstanceOf(IngestException.TooLarge.class)
        .hasMessageStartingWith("element 1: event is more than 1048576 bytes as JSON");
    long bytes = allocated(() -> decode(body));
    assertThat(bytes)
        .as("bytes allocated for a %d-byte body", body.length)
        .isLessThan(3L * body.length);
  }

  @Test
  void aNonMapAfterManyEventsIsRefusedWithItsElementNumber() throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packArrayHeader(3);
    p.packMapHeader(1).packString("a").packInt(1);
    p.packMapHeader(1).packString("a").packInt(2);
    p.packInt(3);
    p.close();
    assertThatThrownBy(() -> decode(p.toByteArray()))
        .isInstanceOf(IngestException.BadRequest.class)
        .hasMessageStartingWith("element 3: each event must be a MessagePack map");
  }

  @Test
  void aBodyOfOrdinaryEventsCostsAFewTimesItsSize() throws IOException {
    byte[] body = events(50_000);
    EventBatch[] batch = new EventBatch[1];
    long bytes = allocated(() -> batch[0] = decode(body));
    assertThat(batch[0].count()).isEqualTo(50_000);
    assertThat(bytes)
        .as("bytes allocated for a %d-byte body", body.length)
        .isLessThan(3L * body.length);
  }

  private EventBatch decode(byte[] body) {
    return decoder.decode(
        "s",
        RequestDecoder.Format.MSGPACK,
        null,
        body,
        body.length,
        FIELDS,
        1_795_000_000_000_000L);
  }

  /** An array of {@code n} events of the usual kinds of values. */
  private static byte[] events(int n) throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packArrayHeader(n);
    byte[] blob = new byte[16];
    Arrays.fill(blob, (byte) 7);
    for (int i = 0; i < n; i++) {
      p.packMapHeader(7)
          .packString("key")
          .packString("user-" + (i % 1000))
          .packString("event_time")
          .packLong(1_795_000_000_000L + i)
          .packString("page")
          .packString("/products/" + i + "/reviews?sort=newest")
          .packString("price")
          .packDouble(i * 0.25)
          .packString("tags")
          .packArrayHeader(3)
          .packString("a")
          .packString("bb")
          .packNil()
          .packString("blob")
          .packBinaryHeader(blob.length)
          .writePayload(blob)
          .packString("seen")
          .packBoolean(i % 2 == 0);
    }
    p.close();
    return p.toByteArray();
  }
}
