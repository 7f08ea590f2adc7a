package io.kvcache.samples.chatbot;

import io.kvcache.spring.chat.KvcacheChatOptions;
import io.kvcache.spring.chat.KvcacheEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs a turn of a conversation on the chat model, whole or streamed, and records it in the
 * transcript once the reply is complete. A model with a chat template is offered the
 * {@link ClockTool}: when it calls it, the chat client's tool-calling advisor runs it and the
 * model continues with its answer (the call and the answer continue one KV cache). A turn whose
 * client leaves before it is complete, streamed or not, is not recorded (the chat model stops
 * generating and drops the half-written cache), so the next message continues from the last
 * complete turn.
 */
@Service
class ChatTurns {
    private static final Logger log = LoggerFactory.getLogger(ChatTurns.class);

    private final ChatClient chat;
    private final Transcripts transcripts;
    private final int maxMessageChars;

    ChatTurns(ChatClient.Builder chat, KvcacheEngine engine, ClockTool clock, Transcripts transcripts,
              ChatbotProperties properties) {
        // A base model (no chat template) could not be told about the tool.
        this.chat = engine.model().chatTemplate().isPresent() ? chat.defaultTools(clock).build() : chat.build();
        this.transcripts = transcripts;
        this.maxMessageChars = properties.maxMessageChars();
    }

    /**
     * The whole reply, once it is complete. It is generated as a stream, like {@link #stream}: a
     * client that leaves before the answer cancels the subscription, which stops generation at the
     * next token and leaves the turn unrecorded, where a blocking call would run to the end for no
     * one. Failures (the conversation outgrew the context, no free slot) end it with their error.
     */
    Mono<ChatReply> reply(ChatRequest request) {
        Transcript transcript = claim(request);
        return generate(transcript, request).ofType(ChatEvent.Done.class).single().map(ChatEvent.Done::reply)
                .doFinally(signal -> transcript.endTurn());
    }

    /**
     * The reply as it is generated: a {@link ChatEvent.Started} naming the conversation, then
     * {@link ChatEvent.Token}s and one {@link ChatEvent.Done}; a failure while generating (the
     * conversation outgrew the context, no free slot) ends the stream with a {@link ChatEvent.Failed}.
     * A bad request fails here, before anything streams.
     */
    Flux<ChatEvent> stream(ChatRequest request) {
        Transcript transcript = claim(request);
        Flux<ChatEvent> reply = generate(transcript, request).onErrorResume(RuntimeException.class, e -> {
            String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            log.warn("turn of conversation {} failed: {}", transcript.id(), message);
            return Mono.just(new ChatEvent.Failed(message));
        });
        return Flux.concat(Mono.just(new ChatEvent.Started(transcript.id())), reply)
                .doFinally(signal -> transcript.endTurn());
    }

    /**
     * The claimed turn on the chat model: {@link ChatEvent.Token}s as text is decoded, then one
     * {@link ChatEvent.Done} once the reply is complete, when the turn is recorded.
     */
    private Flux<ChatEvent> generate(Transcript transcript, ChatRequest request) {
        StringBuilder text = new StringBuilder();
        return chat.prompt(promptOf(transcript, request)).stream().chatResponse()
                .handle((response, sink) -> {
                    String piece = response.getResult().getOutput().getText();
                    if (piece != null && !piece.isEmpty()) {
                        text.append(piece);
                        sink.next(new ChatEvent.Token(piece));
                    }
                    if (isLast(response)) {
                        ChatReply done = ChatReply.of(transcript.id(), text.toString(), response);
                        transcript.record(request.message(), done.reply());
                        sink.next(new ChatEvent.Done(done));
                    }
                });
    }

    /**
     * The history and the new message, naming the transcript as the chat model's conversation: its
     * turns continue that KV cache and no other caller's, whatever text they share.
     */
    private static Prompt promptOf(Transcript transcript, ChatRequest request) {
        return new Prompt(transcript.promptWith(request.message()),
                KvcacheChatOptions.builder().conversationId(transcript.id()).build());
    }

    /**
     * The chat model's last response of a stream carries the finish reason and usage; the others
     * carry text. A round that ends in tool calls is not the last: the answer follows.
     */
    private static boolean isLast(ChatResponse response) {
        return response.getResult().getMetadata().getFinishReason() != null
                && !response.getResult().getOutput().hasToolCalls();
    }

    /** Validates the request and claims its transcript (a new one when it names none) for this turn. */
    private Transcript claim(ChatRequest request) {
        if (request == null || request.message() == null || request.message().isBlank()) {
            throw new ChatExceptions.InvalidRequest("\"message\" must not be empty");
        }
        if (request.message().length() > maxMessageChars) {
            throw new ChatExceptions.InvalidRequest("\"message\" has " + request.message().length()
                    + " characters; at most " + maxMessageChars + " (chatbot.max-message-chars) are accepted");
        }
        Transcript transcript = request.conversation() == null || request.conversation().isBlank()
                ? transcripts.start() : transcripts.find(request.conversation());
        if (!transcript.startTurn()) {
            throw new ChatExceptions.ConversationBusy(transcript.id());
        }
        return transcript;
    }
}
