package io.kvcache.samples.chatbot;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Bounds every request body to {@code chatbot.max-request-bytes}. A declared {@code
 * Content-Length} over the bound is answered 413 before a byte of the body is read; a body without
 * one (chunked) is read through a stream that fails with {@link TooLarge} at the first byte past
 * the bound, so no handler ever buffers more than the bound. Runs before Spring Security and the
 * JSON reader, so neither sees an oversized body.
 */
class RequestSizeLimit extends OncePerRequestFilter {
    private final long maxBytes;

    RequestSizeLimit(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBytes) {
            refuse(response, "the request body of " + request.getContentLengthLong() + " bytes is over the limit of "
                    + maxBytes + " bytes (chatbot.max-request-bytes)");
            return;
        }
        chain.doFilter(new Bounded(request, maxBytes), response);
    }

    /**
     * Writes the 413 problem by hand (the filter runs outside Spring MVC's exception handlers) and
     * flushes it, so the client reads the refusal at once instead of after Tomcat has drained (or
     * given up on) the body it was promised.
     */
    private static void refuse(HttpServletResponse response, String detail) throws IOException {
        byte[] body = ("{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,\"detail\":\""
                + detail + "\"}").getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpStatus.CONTENT_TOO_LARGE.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setContentLength(body.length);
        response.setHeader("Connection", "close");
        response.getOutputStream().write(body);
        response.flushBuffer();
    }

    /** Thrown by the bounded stream; {@link ChatErrorHandler} answers it with 413. */
    static final class TooLarge extends IOException {
        TooLarge(long maxBytes) {
            super("the request body is over the limit of " + maxBytes + " bytes (chatbot.max-request-bytes)");
        }
    }

    private static final class Bounded extends HttpServletRequestWrapper {
        private final long maxBytes;
        private ServletInputStream stream;

        Bounded(HttpServletRequest request, long maxBytes) {
            super(request);
            this.maxBytes = maxBytes;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new CountingStream(super.getInputStream(), maxBytes);
            }
            return stream;
        }
    }

    private static final class CountingStream extends ServletInputStream {
        private final ServletInputStream in;
        private final long maxBytes;
        private long read;

        CountingStream(ServletInputStream in, long maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) throws TooLarge {
            read += n;
            if (read > maxBytes) {
                throw new TooLarge(maxBytes);
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
