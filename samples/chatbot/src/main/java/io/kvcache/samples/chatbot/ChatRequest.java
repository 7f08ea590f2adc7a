package io.kvcache.samples.chatbot;

/**
 * A message from the page.
 *
 * @param conversation the conversation to continue, as returned by an earlier reply; absent to start one
 * @param message      the user's text
 */
record ChatRequest(String conversation, String message) {
}
