package io.floe.common.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A TCP port that is free on loopback now, for tests and scripts that start servers on fixed ports
 * (a server that can bind port 0 should do that instead). {@code main} prints one.
 */
public final class FreePort {
  private FreePort() {}

  /** A port nothing listens on at the moment of the call. */
  public static int pick() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  public static void main(String[] args) {
    System.out.println(pick());
  }
}
