/** Stores that conversations are shared through by replicas (Redis), behind the chat package's {@code ConversationStore}. */
package io.kvcache.spring.sessions;
