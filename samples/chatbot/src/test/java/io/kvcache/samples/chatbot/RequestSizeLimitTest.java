package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies over {@code chatbot.max-request-bytes}, written on a raw socket so the test
 * controls exactly what is sent: a declared length over the limit, and a chunked body that never
 * declares one.
 */
class RequestSizeLimitTest extends TinyModelApp {
    @Autowired
    ChatbotProperties properties;

    @Test
    void theDefaultLimitFitsTheLongestMessageWrittenInEscapes() {
        // 4000 characters (the default chatbot.max-message-chars) of \\uXXXX, 6 bytes each, and 1 KiB around them
        assertThat(properties.requestBytesLimit()).isEqualTo(4000L * 6 + 1024);
    }

    @Test
    void aDeclaredLengthOverTheLimitIsRefusedBeforeTheBodyIsSent() throws Exception {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            // headers only: the server must answer without waiting for the 100 MB it was promised
            out.write(("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Response response = Response.read(socket);
            assertThat(response.status).isEqualTo(413);
            assertThat(response.body).contains("100000000 bytes").contains("chatbot.max-request-bytes");
        }
    }

    @Test
    void aChunkedBodyIsCutOffAtTheLimit() throws Exception {
        long limit = properties.requestBytesLimit();
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            chunk(out, "{\"message\": \"");
            byte[] filler = "a".repeat(4096).getBytes(StandardCharsets.US_ASCII);
            // twice the limit, one chunk at a time; the server may close the socket before the end
            try {
                for (long sent = 0; sent < 2 * limit; sent += filler.length) {
                    chunk(out, new String(filler, StandardCharsets.US_ASCII));
                }
                chunk(out, "\"}");
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (java.io.IOException closedByServer) {
                // the refusal is already on its way back
            }
            Response response = Response.read(socket);
            assertThat(response.status).isEqualTo(413);
            assertThat(response.body).contains("over the limit of " + limit + " bytes");
        }
    }

    private static void chunk(OutputStream out, String data) throws java.io.IOException {
        byte[] bytes = data.getBytes(StandardCharsets.US_ASCII);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The status line and the body its {@code Content-Length} announces (or all until the server closes). */
    private record Response(int status, String body) {
        static Response read(Socket socket) throws java.io.IOException {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String statusLine = in.readLine();
            assertThat(statusLine).startsWith("HTTP/1.1 ");
            int length = -1;
            for (String header = in.readLine(); header != null && !header.isEmpty(); header = in.readLine()) {
                if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(header.substring("content-length:".length()).trim());
                }
            }
            StringBuilder body = new StringBuilder();
            for (int c; (length < 0 || body.length() < length) && (c = in.read()) >= 0; ) {
                body.append((char) c);
            }
            return new Response(Integer.parseInt(statusLine.substring(9, 12)), body.toString());
        }
    }
}
