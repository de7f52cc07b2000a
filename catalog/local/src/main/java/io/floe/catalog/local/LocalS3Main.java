package io.floe.catalog.local;

import java.nio.file.Path;

/**
 * The embedded default's object store: an S3-compatible server (S3Proxy) on a local directory.
 * usage: LocalS3Main [--dir .floe/s3] [--port 9000] [--bucket floe]; runs until killed.
 */
public final class LocalS3Main {
  private LocalS3Main() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(".floe/s3");
    int port = 9000;
    String bucket = "floe";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--bucket" -> bucket = args[i + 1];
        default -> {
          System.err.println("usage: LocalS3Main [--dir DIR] [--port 9000] [--bucket floe]");
          System.exit(2);
        }
      }
    }
    LocalS3 s3 = LocalS3.start(dir, port, bucket);
    System.out.println(
        "local S3 listening on "
            + s3.endpoint()
            + " (bucket "
            + bucket
            + ", access key "
            + LocalS3.ACCESS_KEY
            + "), objects in "
            + dir.toAbsolutePath());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    s3.close();
                  } catch (Exception e) {
                    System.err.println("stopping local S3 failed: " + e.getMessage());
                  }
                }));
    Thread.currentThread().join();
  }
}
