package io.floe.node.decode;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdIOException;
import com.github.luben.zstd.ZstdInputStream;
import io.floe.node.error.IngestException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** Content-Encoding handling with a hard cap on the decoded size (no decompression bombs). */
final class Decompression {
  /**
   * The largest window (log2 of bytes) a zstd frame may ask for: 8 MiB. The decoder allocates the
   * window a frame's header declares, outside the in-flight budget, and zstd's own limit is 2^27
   * (128 MiB) per request. Compression levels 1 to 19 never use a window over 2^23; only {@code
   * --ultra} levels 20 to 22 and long-distance matching ({@code --long}) do, so producers with
   * ordinary settings are never refused.
   */
  static final int MAX_ZSTD_WINDOW_LOG = 23;

  private Decompression() {}

  /**
   * Decoded bytes; the returned array may be longer than the content: see {@link Decoded#length}.
   */
  static Decoded decode(
      String contentEncoding, byte[] body, int length, long maxDecodedBytes, DecodeBudget budget) {
    String encoding =
        contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(Locale.ROOT);
    return switch (encoding) {
      case "", "identity" -> new Decoded(body, length);
      case "gzip", "x-gzip" -> inflate(encoding, body, length, maxDecodedBytes, budget);
      case "zstd" -> inflate(encoding, body, length, maxDecodedBytes, budget);
      default ->
          throw new IngestException.UnsupportedMedia(
              "Content-Encoding '"
                  + contentEncoding
                  + "' is not supported; use gzip, zstd or none");
    };
  }

  private static Decoded inflate(
      String encoding, byte[] body, int length, long max, DecodeBudget budget) {
    try (InputStream in = open(encoding, new ByteArrayInputStream(body, 0, length))) {
      int initial = (int) Math.min(max + 1, Math.max(8192L, length * 4L));
      reserve(budget, initial);
      byte[] out = new byte[initial];
      int n = 0;
      while (true) {
        if (n == out.length) {
          if (n > max) {
            throw tooLarge(max);
          }
          int grown = (int) Math.min(max + 1, (long) out.length * 2);
          reserve(budget, grown - out.length);
          out = Arrays.copyOf(out, grown);
        }
        int r = in.read(out, n, out.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      if (n > max) {
        throw tooLarge(max);
      }
      return new Decoded(out, n);
    } catch (ZstdIOException e) {
      if (e.getErrorCode() == Zstd.errFrameParameterWindowTooLarge()) {
        throw new IngestException.TooLarge(
            "the zstd frame needs a window over "
                + (1 << MAX_ZSTD_WINDOW_LOG >> 20)
                + " MiB to decode; compress at level 19 or below, without --ultra or --long");
      }
      throw malformed(encoding, e);
    } catch (IOException e) {
      throw malformed(encoding, e);
    }
  }

  private static IngestException malformed(String encoding, IOException e) {
    return new IngestException.BadRequest(
        "malformed_encoding", "body is not valid " + encoding + ": " + e.getMessage());
  }

  private static InputStream open(String encoding, InputStream raw) throws IOException {
    return encoding.equals("zstd")
        ? new ZstdInputStream(raw).setLongMax(MAX_ZSTD_WINDOW_LOG)
        : new GZIPInputStream(raw, 16384);
  }

  static void reserve(DecodeBudget budget, long bytes) {
    if (!budget.reserve(bytes)) {
      throw new IngestException.Unavailable(
          "inflight_full",
          "decoding this request would take the node over its"
              + " in-flight budget (ingest.inflight-max-bytes); retry shortly",
          1);
    }
  }

  private static IngestException tooLarge(long max) {
    return new IngestException.TooLarge(
        "decompressed body is over the limit of " + max + " bytes (ingest.max-decoded-bytes)");
  }

  record Decoded(byte[] bytes, int length) {}
}
