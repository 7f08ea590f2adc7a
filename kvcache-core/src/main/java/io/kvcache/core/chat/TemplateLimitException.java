package io.kvcache.core.chat;

/**
 * A render passed one of its {@link TemplateLimits} or called something templates may not call.
 * Thrown from inside Jinjava, which lets an unknown runtime exception end the render instead of
 * recording it and carrying on (a loop would otherwise go on failing at every node);
 * {@link ChatTemplate} turns it into a {@link ChatTemplateException} naming the template.
 */
final class TemplateLimitException extends RuntimeException {
    TemplateLimitException(String message) {
        super(message, null, false, false);
    }
}
