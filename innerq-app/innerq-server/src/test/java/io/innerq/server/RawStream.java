package io.innerq.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A streaming request on a raw socket, so that a test can read slowly, stall, or drop the connection the way a
 * client that dies does. Reads the server-sent events line by line (the chunk sizes of the chunked encoding are
 * lines of their own, skipped).
 */
final class RawStream implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;
    private final String statusLine;

    private RawStream(Socket socket, BufferedReader in, String statusLine) {
        this.socket = socket;
        this.in = in;
        this.statusLine = statusLine;
    }

    /**
     * POSTs {@code json} to {@code path} and reads the status line and headers.
     *
     * @param receiveBuffer the socket's receive buffer in bytes (small for a slow client), 0 for the default
     */
    static RawStream post(int port, String path, String json, String key, int receiveBuffer) throws IOException {
        var socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(30_000);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + (key == null ? "" : "Authorization: Bearer " + key + "\r\n")
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.write(body);
        out.flush();
        var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 512);
        String status = in.readLine();
        for (String header = in.readLine(); header != null && !header.isEmpty(); header = in.readLine()) {
            // headers: not needed
        }
        return new RawStream(socket, in, status);
    }

    /** POSTs and closes at once, before any of the response is read. */
    static void postAndLeave(int port, String path, String json, String key) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.write(body);
            out.flush();
        }
    }

    String statusLine() {
        return statusLine;
    }

    /** The next event's {@code data:} payload, or null at the end of the stream. */
    String nextEvent() throws IOException {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.startsWith("data: ")) {
                return line.substring(6);
            }
            if (line.equals("0")) { // the last chunk
                return null;
            }
        }
        return null;
    }

    /** Drops the connection with a reset, as a client process that dies does. */
    void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** Closes the connection normally (FIN). */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
