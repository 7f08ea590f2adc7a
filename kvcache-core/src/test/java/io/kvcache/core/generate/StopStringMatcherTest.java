package io.kvcache.core.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopStringMatcherTest {
    @Test
    void holdsBackAPossibleStopStringAndCutsBeforeIt() {
        StopStringMatcher m = new StopStringMatcher(List.of("<END>"));
        assertThat(m.push("Hello <")).isEqualTo("Hello ");
        assertThat(m.push("EN")).isEmpty();
        assertThat(m.push("D> more")).isEmpty();
        assertThat(m.stopped()).isTrue();
    }

    @Test
    void releasesHeldTextWhenItTurnsOutNotToStop() {
        StopStringMatcher m = new StopStringMatcher(List.of("\n\n"));
        assertThat(m.push("line\n")).isEqualTo("line");
        assertThat(m.push("next")).isEqualTo("\nnext");
        assertThat(m.push("\n")).isEmpty();
        assertThat(m.flush()).isEqualTo("\n");
        assertThat(m.stopped()).isFalse();
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("world", "lo w"));
        assertThat(m.push("hello world")).isEqualTo("hel");
    }
}
