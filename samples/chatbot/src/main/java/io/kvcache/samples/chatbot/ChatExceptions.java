package io.kvcache.samples.chatbot;

/** What a chat request can do wrong; {@link ChatErrorHandler} turns each into its HTTP status. */
final class ChatExceptions {
    private ChatExceptions() {
    }

    /** The request itself is unusable (no message, a message too long): 400. */
    static final class InvalidRequest extends RuntimeException {
        InvalidRequest(String message) {
            super(message);
        }
    }

    /** The conversation id is not one the server holds: 404. */
    static final class UnknownConversation extends RuntimeException {
        UnknownConversation(String id) {
            super("no conversation " + id + " (it was never started here or has been forgotten); "
                    + "leave out \"conversation\" to start a new one");
        }
    }

    /** A reply in this conversation is still being generated: 409. */
    static final class ConversationBusy extends RuntimeException {
        ConversationBusy(String id) {
            super("conversation " + id + " is still generating a reply; send the next message when it is done");
        }
    }
}
