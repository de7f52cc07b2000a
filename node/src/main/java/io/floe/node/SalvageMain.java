package io.floe.node;

import io.floe.common.config.Settings;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.buffer.SalvageExport;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java io.floe.node.SalvageMain --buffer-dir DIR --partition-id N --out FILE}: writes the
 * events a stopped node acknowledged under a claim another process took, and never committed, to
 * FILE as NDJSON (each event exactly as it was sent), then removes them from the buffer so that the
 * node can start again. Send FILE's events to the cluster again: they are new events there.
 */
public final class SalvageMain {
  private SalvageMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    if (!opts.keySet().containsAll(List.of("--buffer-dir", "--partition-id", "--out"))) {
      System.err.println(
          "usage: salvage --buffer-dir DIR --partition-id N --out FILE   (the node must be stopped)");
      System.exit(2);
      return;
    }
    Path dir = Path.of(opts.get("--buffer-dir"));
    int partition = Integer.parseInt(opts.get("--partition-id"));
    Path out = Path.of(opts.get("--out"));
    BufferConfig config =
        BufferConfig.load(Settings.of(Map.of(BufferConfig.DIR, dir.toString())), partition);
    try (RocksBuffer buffer = RocksBuffer.open(config, partition);
        OutputStream file =
            new BufferedOutputStream(Files.newOutputStream(out, StandardOpenOption.CREATE_NEW))) {
      long after = buffer.salvageAfter();
      long events = SalvageExport.write(buffer, file);
      System.out.println(
          after < 0
              ? "salvage: nothing to salvage in " + dir
              : "salvage: ok events="
                  + events
                  + " sequences="
                  + (after + 1)
                  + ".."
                  + buffer.highWaterMark()
                  + " out="
                  + out);
    }
  }
}
