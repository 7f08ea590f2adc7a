package io.kvcache.samples.chatbot;

/** What a streamed turn sends to the page, one server-sent event each: a name and a JSON body. */
sealed interface ChatEvent {

    /** The SSE event name the page dispatches on. */
    String name();

    /** The event's body. */
    default Object data() {
        return this;
    }

    /** The turn has begun in this conversation: {@code {"conversation": id}}, the id to send with the next message. */
    record Started(String conversation) implements ChatEvent {
        @Override
        public String name() {
            return "start";
        }
    }

    /** A piece of the reply's text, as decoded: {@code {"text": ...}}. */
    record Token(String text) implements ChatEvent {
        @Override
        public String name() {
            return "token";
        }
    }

    /** The reply is complete: the {@link ChatReply}. */
    record Done(ChatReply reply) implements ChatEvent {
        @Override
        public String name() {
            return "done";
        }

        @Override
        public Object data() {
            return reply;
        }
    }

    /** Generation failed and the turn is not recorded: {@code {"message": ...}}. */
    record Failed(String message) implements ChatEvent {
        @Override
        public String name() {
            return "error";
        }
    }
}
