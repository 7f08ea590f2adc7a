package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.UserMessage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The server-side transcripts: ids, history, one turn at a time, the least recently used forgotten. */
class TranscriptsTest {

    @Test
    void aTranscriptIsFoundByItsIdAndUnknownIdsAreRefused() {
        Transcripts transcripts = new Transcripts(new ChatbotProperties(10, 100, null));
        Transcript started = transcripts.start();
        assertThat(transcripts.find(started.id())).isSameAs(started);
        assertThat(transcripts.start().id()).isNotEqualTo(started.id());
        assertThatThrownBy(() -> transcripts.find("missing")).isInstanceOf(ChatExceptions.UnknownConversation.class)
                .hasMessageContaining("missing");
    }

    @Test
    void theNextPromptIsTheHistoryFollowedByTheNewMessage() {
        Transcript transcript = new Transcripts(new ChatbotProperties(10, 100, null)).start();
        transcript.record("Hi", "Hello!");
        assertThat(transcript.promptWith("Tell me a story")).containsExactly(new UserMessage("Hi"),
                new AssistantMessage("Hello!"), new UserMessage("Tell me a story"));
    }

    @Test
    void oneTurnRunsAtATime() {
        Transcript transcript = new Transcripts(new ChatbotProperties(10, 100, null)).start();
        assertThat(transcript.startTurn()).isTrue();
        assertThat(transcript.startTurn()).isFalse();
        transcript.endTurn();
        assertThat(transcript.startTurn()).isTrue();
    }

    @Test
    void theLeastRecentlyUsedTranscriptIsForgottenPastTheLimit() {
        Transcripts transcripts = new Transcripts(new ChatbotProperties(2, 100, null));
        Transcript first = transcripts.start();
        Transcript second = transcripts.start();
        transcripts.find(first.id());
        transcripts.start();
        assertThat(transcripts.find(first.id())).isSameAs(first);
        assertThatThrownBy(() -> transcripts.find(second.id())).isInstanceOf(ChatExceptions.UnknownConversation.class);
    }
}
