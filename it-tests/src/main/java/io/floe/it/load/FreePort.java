package io.floe.it.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Prints a TCP port that is free on loopback now (for scripts). */
public final class FreePort {
  private FreePort() {}

  public static void main(String[] args) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      System.out.println(s.getLocalPort());
    }
  }
}
