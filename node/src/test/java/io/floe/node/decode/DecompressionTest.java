package io.floe.node.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import io.floe.node.error.IngestException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** zstd frames are decoded only when their window fits the cap. */
class DecompressionTest {
  private static final byte[] EVENTS =
      "{\"v\":1}\n{\"v\":2}\n".repeat(1000).getBytes(StandardCharsets.UTF_8);

  /** A streamed frame (no content size in its header, so it declares the whole window). */
  private static byte[] zstd(int level, int windowLog, boolean longDistance) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZstdOutputStream out = new ZstdOutputStream(bytes)) {
      out.setLevel(level);
      if (windowLog > 0) {
        out.setWindowLog(windowLog);
      }
      if (longDistance) {
        out.setLong(windowLog);
      }
      for (int i = 0; i < EVENTS.length; i += 1000) {
        out.write(EVENTS, i, Math.min(1000, EVENTS.length - i));
      }
    }
    return bytes.toByteArray();
  }

  private static Decompression.Decoded decode(byte[] body) {
    return Decompression.decode("zstd", body, body.length, 64L << 20, bytes -> true);
  }

  @Test
  void framesOfTheUsualLevelsAreDecoded() throws IOException {
    for (int level : new int[] {1, 3, 19}) {
      Decompression.Decoded d = decode(zstd(level, 0, false));
      assertThat(d.length()).as("level %d", level).isEqualTo(EVENTS.length);
    }
  }

  @Test
  void aFrameThatNeedsAHugeWindowIsRefused() throws IOException {
    for (byte[] frame : new byte[][] {zstd(3, 24, false), zstd(3, 27, false), zstd(3, 27, true)}) {
      assertThatThrownBy(() -> decode(frame))
          .isInstanceOf(IngestException.TooLarge.class)
          .hasMessageContaining("window")
          .hasMessageContaining("8 MiB");
    }
  }
}
