package io.kvcache.core.generate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8StreamDecoderTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void holdsACharacterUntilItsLastByteArrives() {
        byte[] e = bytes("é");      // C3 A9
        byte[] emoji = bytes("🙂"); // F0 9F 99 82
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertThat(d.push(new byte[] {'a', e[0]})).isEqualTo("a");
        assertThat(d.push(new byte[] {e[1], emoji[0]})).isEqualTo("é");
        assertThat(d.push(Arrays.copyOfRange(emoji, 1, 3))).isEmpty();
        assertThat(d.push(new byte[] {emoji[3], 'b'})).isEqualTo("🙂b");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void everySplitOfAMixedTextReassemblesIt() {
        String text = "Grüße, 世界! 🙂 ok";
        byte[] all = bytes(text);
        for (int cut = 0; cut <= all.length; cut++) {
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            String out = d.push(Arrays.copyOfRange(all, 0, cut)) + d.push(Arrays.copyOfRange(all, cut, all.length)) + d.flush();
            assertThat(out).as("cut at byte " + cut).isEqualTo(text);
        }
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertThat(d.push(new byte[] {(byte) 0xFF, 'x'})).isEqualTo("\uFFFDx");
        assertThat(d.push(new byte[] {(byte) 0xE4, (byte) 0xB8})).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
    }
}
