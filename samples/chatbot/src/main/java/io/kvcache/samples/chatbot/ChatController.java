package io.kvcache.samples.chatbot;

import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code POST /api/chat}: one turn, answered when the reply is complete. {@code POST
 * /api/chat/stream}: the same turn as server-sent events ({@code start}, {@code token}*, then
 * {@code done} or {@code error}). Both take {@code {"conversation": id?, "message": text}}. A
 * client that leaves either before its answer is complete stops the generation of its turn.
 */
@RestController
@RequestMapping("/api/chat")
class ChatController {
    private final ChatTurns turns;

    ChatController(ChatTurns turns) {
        this.turns = turns;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ChatReply> chat(@RequestBody ChatRequest request) {
        return turns.reply(request);
    }

    @PostMapping(path = "/stream", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    Flux<ServerSentEvent<Object>> stream(@RequestBody ChatRequest request) {
        return turns.stream(request).map(event -> ServerSentEvent.builder(event.data()).event(event.name()).build());
    }
}
