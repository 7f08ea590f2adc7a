package io.kvcache.samples.chatbot;

import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds every request body to {@code chatbot.max-request-bytes}. A declared {@code
 * Content-Length} over the bound is answered 413 before a byte of the body is read; a body without
 * one (chunked) is read through a stream that fails with {@link TooLarge} at the first buffer past
 * the bound, so no handler ever buffers more than the bound. Runs first among the web filters,
 * before Spring Security and the JSON reader, so neither sees an oversized body.
 */
@Component
class RequestSizeLimit implements WebFilter, Ordered {
    private final long maxBytes;

    RequestSizeLimit(ChatbotProperties properties) {
        this.maxBytes = properties.requestBytesLimit();
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long declared = exchange.getRequest().getHeaders().getContentLength();
        if (declared > maxBytes) {
            return refuse(exchange.getResponse(), "the request body of " + declared
                    + " bytes is over the limit of " + maxBytes + " bytes (chatbot.max-request-bytes)");
        }
        return chain.filter(exchange.mutate().request(new Bounded(exchange.getRequest(), maxBytes)).build());
    }

    /**
     * Writes the 413 problem by hand (the filter runs outside the controllers' exception handlers)
     * and closes the connection, so the client reads the refusal at once instead of after the
     * server has drained (or given up on) the body it was promised.
     */
    private static Mono<Void> refuse(ServerHttpResponse response, String detail) {
        byte[] body = ("{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,\"detail\":\""
                + detail + "\"}").getBytes(StandardCharsets.UTF_8);
        response.setStatusCode(HttpStatus.CONTENT_TOO_LARGE);
        response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        response.getHeaders().setContentLength(body.length);
        response.getHeaders().set("Connection", "close");
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }

    /** Signalled by the bounded body; {@link ChatErrorHandler} answers it with 413. */
    static final class TooLarge extends RuntimeException {
        TooLarge(long maxBytes) {
            super("the request body is over the limit of " + maxBytes + " bytes (chatbot.max-request-bytes)");
        }
    }

    /** The request whose body fails past {@code maxBytes}, releasing the buffer that crossed the bound. */
    private static final class Bounded extends ServerHttpRequestDecorator {
        private final long maxBytes;

        Bounded(ServerHttpRequest request, long maxBytes) {
            super(request);
            this.maxBytes = maxBytes;
        }

        @Override
        public Flux<DataBuffer> getBody() {
            AtomicLong read = new AtomicLong();
            return super.getBody().handle((buffer, sink) -> {
                if (read.addAndGet(buffer.readableByteCount()) > maxBytes) {
                    DataBufferUtils.release(buffer);
                    sink.error(new TooLarge(maxBytes));
                } else {
                    sink.next(buffer);
                }
            });
        }
    }
}
