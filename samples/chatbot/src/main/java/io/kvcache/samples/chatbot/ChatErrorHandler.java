package io.kvcache.samples.chatbot;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.spring.chat.ConversationLimitException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Chat errors as RFC 9457 problem details whose {@code detail} says what went wrong and what to
 * do, with the status that fits: 400 bad message or a conversation past the context, 404 unknown
 * conversation, 409 a reply still running, 413 a body over {@code chatbot.max-request-bytes}, 503
 * every generation slot busy.
 */
@RestControllerAdvice(assignableTypes = ChatController.class)
class ChatErrorHandler {

    @ExceptionHandler({ChatExceptions.InvalidRequest.class, ContextOverflowException.class})
    ResponseEntity<ProblemDetail> badRequest(RuntimeException e) {
        return problem(HttpStatus.BAD_REQUEST, e);
    }

    @ExceptionHandler(ChatExceptions.UnknownConversation.class)
    ResponseEntity<ProblemDetail> unknownConversation(RuntimeException e) {
        return problem(HttpStatus.NOT_FOUND, e);
    }

    @ExceptionHandler(ChatExceptions.ConversationBusy.class)
    ResponseEntity<ProblemDetail> busy(RuntimeException e) {
        return problem(HttpStatus.CONFLICT, e);
    }

    /** A chunked body cut off by {@link RequestSizeLimit}; the connection closes after the answer. */
    @ExceptionHandler(RequestSizeLimit.TooLarge.class)
    ResponseEntity<ProblemDetail> tooLarge(RuntimeException e) {
        return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .header("Connection", "close").body(ProblemDetail.forStatusAndDetail(HttpStatus.CONTENT_TOO_LARGE, e.getMessage()));
    }

    @ExceptionHandler(ConversationLimitException.class)
    ResponseEntity<ProblemDetail> overloaded(RuntimeException e) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, e);
    }

    /** Always JSON, also for the event-stream endpoint, whose clients read the error before any event. */
    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, RuntimeException e) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(ProblemDetail.forStatusAndDetail(status, e.getMessage()));
    }
}
